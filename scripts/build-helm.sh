#!/usr/bin/env bash
# Builds helm from its Go module (helm is not a Debian package and no prebuilt download is
# reachable here) and caches it outside the repository, keyed by version, like
# scripts/build-kube.sh does for the Kubernetes binaries.
#
#   scripts/build-helm.sh                     # prints the cache directory holding `helm`
#   HELM_VERSION=v4.3.1 scripts/build-helm.sh
set -euo pipefail

version="${HELM_VERSION:-v4.3.1}"
major="${version%%.*}"
module="helm.sh/helm/$major"
cache_root="${IMAGESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagestream-operator}"
out="$cache_root/helm/$version"

if [ -x "$out/helm" ]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-helm: Go is required to build helm $version" >&2; exit 1; }
mkdir -p "$out"
# One build at a time: a second caller waits for the first and then reuses its result.
exec 9>"$out/.lock"
flock 9
if [ -x "$out/helm" ]; then
  echo "$out"
  exit 0
fi

echo "build-helm: building helm $version from $module (a few minutes on 2 cores)" >&2
# `go install pkg@version` builds with the module's own go.mod and go.sum (verified checksums).
# The version ldflag makes `helm version` report the release instead of a bare major.minor.
gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS=-mod=mod go install -trimpath \
  -ldflags "-s -w -X $module/internal/version.version=$version" \
  "$module/cmd/helm@$version"
mv "$gobin/helm" "$out/helm"
echo "$out"
