#!/usr/bin/env bash
# Builds helm from its Go module (helm is not a Debian package and no prebuilt download is
# reachable here) and caches it outside the repository, keyed by version, like
# scripts/build-kube.sh does for the Kubernetes binaries (scripts/build-go-tool.sh).
#
#   scripts/build-helm.sh                     # prints the cache directory holding `helm`
#   HELM_VERSION=v4.3.1 scripts/build-helm.sh
set -euo pipefail

version="${HELM_VERSION:-v4.3.1}"
major="${version%%.*}"
module="helm.sh/helm/$major"
# The version ldflag makes `helm version` report the release instead of a bare major.minor.
exec bash "$(dirname "${BASH_SOURCE[0]}")/build-go-tool.sh" helm "$module/cmd/helm" "$version" \
  "-s -w -X $module/internal/version.version=$version"
