#!/usr/bin/env bash
# Builds a Go command from its module with `go install PACKAGE@VERSION` (the module's own go.mod
# and go.sum, checksums verified by the Go module proxy) and caches it outside the repository,
# keyed by name and version; no prebuilt downloads are reachable here.
#
#   scripts/build-go-tool.sh NAME PACKAGE VERSION [LDFLAGS]   # prints the directory holding NAME
#
# The cache is ~/.cache/imagestream-operator/NAME/VERSION (IMAGESTREAM_CACHE_DIR overrides).
set -euo pipefail
name="${1:?name}" package="${2:?package}" version="${3:?version}" ldflags="${4:--s -w}"
cache_root="${IMAGESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagestream-operator}"
out="$cache_root/$name/$version"

if [ -x "$out/$name" ]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-go-tool: Go is required to build $name $version" >&2; exit 1; }
mkdir -p "$out"
# One build at a time: a second caller waits for the first and then reuses its result.
exec 9>"$out/.lock"
flock 9
if [ -x "$out/$name" ]; then
  echo "$out"
  exit 0
fi

echo "build-go-tool: building $name $version from $package" >&2
gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" "$package@$version"
mv "$gobin/$name" "$out/$name"
echo "$out"
