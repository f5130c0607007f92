#!/usr/bin/env bash
# Builds the operator's image from the repository's Dockerfile (`npm run image`).
#
#   scripts/image.sh [--engine docker|podman|buildah] [--base official|assembled|IMAGE]
#                    [--tag NAME] [--push REGISTRY/REPO:TAG] [--metadata FILE]
#
# --engine   default: docker when its daemon answers, else podman when it works, else buildah
#            (no daemon; as root with chroot isolation, see docs/install.md#building-the-image).
# --base     the Dockerfile's BASE_IMAGE. official: node:24-bookworm-slim. assembled: the
#            stand-in of scripts/build-base-image.sh (buildah or podman only). IMAGE: any
#            image, e.g. a mirror of the official one. Default: official when it can be
#            pulled, else assembled (podman and buildah), official with docker.
# --tag      local name, default imagestream-operator:<package.json version>.
# --push     also pushes to REGISTRY/REPO:TAG; plain HTTP is allowed for loopback registries
#            (127.0.0.0/8, localhost, [::1]) only, any other registry needs verified TLS.
# --metadata writes what was built as JSON: engine, reference, id, digest, base, version,
#            revision and, after --push, pushed.reference / pushed.digest (the registry's digest).
#
# It prints the image reference, ID, digest and size, and the pushed digest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

engine="" base="" tag="" push="" metadata=""
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine="${2:?--engine needs a value}"; shift 2 ;;
    --base) base="${2:?--base needs a value}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --push) push="${2:?--push needs REGISTRY/REPO:TAG}"; shift 2 ;;
    --metadata) metadata="${2:?--metadata needs a file}"; shift 2 ;;
    -h | --help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "image: $*" >&2; exit 1; }
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
official="node:24-bookworm-slim"

if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null && podman info >/dev/null 2>&1; then engine=podman
  elif command -v buildah >/dev/null; then engine=buildah
  else fail "no docker daemon, podman or buildah found; docs/install.md#building-the-image lists the options"
  fi
fi
case "$engine" in
  docker | podman | buildah) command -v "$engine" >/dev/null || fail "$engine is not installed" ;;
  *) fail "--engine must be docker, podman or buildah, not $engine" ;;
esac
# buildah without a daemon: chroot isolation needs no OCI runtime or cgroups.
[ "$engine" != buildah ] || export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
tag="${tag:-imagestream-operator:$version}"
if [ "$engine" != docker ] && { [[ "$tag" != */* ]] || [[ "${tag%%/*}" != *[.:]* && "${tag%%/*}" != localhost ]]; }; then
  tag="localhost/$tag" # how podman and buildah name a local image without a registry
fi

# The push target is checked before anything is built.
tls=true
if [ -n "$push" ]; then
  registry="${push%%/*}"
  if [ "$registry" = "$push" ] || [[ "$registry" != *[.:]* && "$registry" != localhost ]] || [[ "${push##*/}" != *:* ]]; then
    fail "--push needs REGISTRY/REPO:TAG with a registry host and a tag, not $push"
  fi
  host="${registry%:*}"
  [[ "$registry" != \[*\]* ]] || host="${registry%%]*}]"
  if [[ "$host" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || "$host" == localhost || "$host" == "[::1]" ]]; then
    tls=false # loopback only: a test or kind registry on this machine may speak plain HTTP
  fi
fi

inspect_image() { # FORMAT IMAGE: podman and buildah spell it differently
  if [ "$engine" = buildah ]; then buildah inspect --type image --format "$1" "$2"; else "$engine" image inspect --format "$1" "$2"; fi
}
pullable() { # the official base is in the local store or can be pulled from its registry
  inspect_image '{{.}}' "$official" >/dev/null 2>&1 || timeout 120 "$engine" pull -q "$official" >/dev/null 2>&1
}
case "${base:-auto}" in
  official) base_image="$official" ;;
  assembled) base_image="" ;;
  auto)
    if [ "$engine" = docker ] || pullable; then base_image="$official"; else
      echo "image: $official cannot be pulled here; using the assembled base (scripts/build-base-image.sh)" >&2
      base_image=""
    fi ;;
  *) base_image="$base" ;;
esac
if [ -z "$base_image" ]; then
  [ "$engine" != docker ] || fail "--base assembled needs podman or buildah (it lives in containers-storage)"
  base_image="$(bash scripts/build-base-image.sh)"
fi

args=(--tag "$tag" --file Dockerfile
  --build-arg "BASE_IMAGE=$base_image" --build-arg "VERSION=$version" --build-arg "REVISION=$revision")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "$engine" = docker ]; then
  args+=(--iidfile "$work/iid")
else
  args+=(--layers --iidfile "$work/iid")
  # buildah's layer cache (1.28) keys a step by its unexpanded text, so the Dockerfile's LABEL
  # step would keep the version and revision of the build that cached it; the same labels given
  # here are set on every build.
  args+=(--label "org.opencontainers.image.version=$version" --label "org.opencontainers.image.revision=$revision")
  # A local base name must not be looked up in a registry called "localhost".
  [ "$base_image" = "$official" ] || args+=(--pull=false)
  # npm in the build steps trusts what npm on this machine trusts (e.g. a TLS-inspecting
  # proxy's CA): the CA file and the registry are mounted for RUN steps only, never copied
  # into a layer of the image.
  ca_file="${NODE_EXTRA_CA_CERTS:-}"
  if [ -n "$ca_file" ] && [ -f "$ca_file" ]; then
    printf 'cafile=/run/imagestream-build/ca.crt\nregistry=%s\n' "$(bash scripts/with-node.sh npm config get registry)" >"$work/npmrc"
    args+=(--volume "$ca_file:/run/imagestream-build/ca.crt:ro" --volume "$work/npmrc:/usr/local/etc/npmrc:ro")
  fi
fi

echo "image: building $tag with $engine on $base_image" >&2
started=$SECONDS
"$engine" build "${args[@]}" . >&2
id="$(cat "$work/iid")"
if [ "$engine" = docker ]; then
  digest="" # a daemon-local image has no manifest digest until it is pushed
  size="$(docker image inspect --format '{{.Size}}' "$id" | awk '{printf "%.0f MB", $1 / 1e6}')"
else
  if [ "$engine" = buildah ]; then digest="$(inspect_image '{{.FromImageDigest}}' "$id")"; else digest="$(inspect_image '{{.Digest}}' "$id")"; fi
  size="$("$engine" images --noheading --format '{{.Size}}' "$id" | head -n1)"
fi
echo "image: built in $((SECONDS - started)) s" >&2

pushed_ref="" pushed_digest=""
if [ -n "$push" ]; then
  echo "image: pushing to $push" >&2
  if [ "$engine" = docker ]; then
    # Docker's daemon allows plain HTTP for loopback registries by default, and only there.
    docker tag "$id" "$push"
    docker push -q "$push" >&2
    pushed_digest="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$id" |
      sed -n "s#^${push%:*}@##p" | head -n1)"
  else
    "$engine" push --tls-verify="$tls" --digestfile "$work/digest" "$id" "docker://$push" >&2
    pushed_digest="$(cat "$work/digest")"
  fi
  pushed_ref="$push"
fi

echo "image: $tag"
echo "id: $id"
[ -z "$digest" ] || echo "digest: $digest"
echo "size: $size"
echo "base: $base_image"
[ -z "$pushed_ref" ] || echo "pushed: ${pushed_ref%:*}@$pushed_digest ($pushed_ref)"
if [ -n "$metadata" ]; then
  pushed_json=null
  [ -z "$pushed_ref" ] || pushed_json="{\"reference\":\"$pushed_ref\",\"digest\":\"$pushed_digest\"}"
  printf '{"engine":"%s","reference":"%s","id":"%s","digest":"%s","base":"%s","version":"%s","revision":"%s","pushed":%s}\n' \
    "$engine" "$tag" "$id" "$digest" "$base_image" "$version" "$revision" "$pushed_json" >"$metadata"
fi
