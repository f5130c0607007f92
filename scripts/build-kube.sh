#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from the k8s.io/kubernetes Go module
# (no prebuilt downloads are reachable here) and caches them outside the repository,
# keyed by version, so CI and later runs reuse the build.
#
#   scripts/build-kube.sh            # prints the cache directory holding the binaries
#   KUBE_VERSION=v1.36.3 scripts/build-kube.sh
set -euo pipefail

version="${KUBE_VERSION:-v1.36.3}"
cache_root="${IMAGESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagestream-operator}"
out="$cache_root/kube/$version"
binaries=(kube-apiserver kube-controller-manager)

# The binaries report their real version (kubectl, Helm's kubeVersion checks) through these.
minor="${version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

have_all() {
  [ "$(cat "$out/.ldflags" 2>/dev/null)" = "$ldflags" ] || return 1
  for b in "${binaries[@]}"; do [ -x "$out/$b" ] || return 1; done
}

if have_all; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-kube: Go is required to build $version" >&2; exit 1; }
mkdir -p "$out"
# One build at a time: a second caller waits for the first and then reuses its result.
exec 9>"$out/.lock"
flock 9
if have_all; then
  echo "$out"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# Staging modules are released as v0.<minor>.<patch> alongside v1.<minor>.<patch>.
staging_version="v0.${version#v1.}"
go mod init kubebuild >/dev/null 2>&1
mod_file="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -f "$mod_file" ] || { echo "build-kube: cannot download k8s.io/kubernetes@$version" >&2; exit 1; }
go_directive="$(awk '/^go /{print $2; exit}' "$mod_file")"

{
  echo "module kubebuild"
  echo
  echo "go $go_directive"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  # Every staging module kubernetes replaces with a local path becomes its published release.
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$mod_file" |
    while read -r m; do echo "	$m => $m $staging_version"; done
  echo ")"
} >go.mod
cat >tools.go <<'GO'
//go:build tools

package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO

echo "build-kube: resolving modules for kubernetes $version" >&2
GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
for b in "${binaries[@]}"; do
  echo "build-kube: building $b $version (several minutes on 2 cores)" >&2
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$out/$b.tmp" "$out/$b"
done
printf '%s' "$ldflags" >"$out/.ldflags"
echo "$out"
