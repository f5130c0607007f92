#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from its Go module and caches it like
# helm (scripts/build-go-tool.sh). npm test lints .github/workflows with it.
#
#   scripts/build-actionlint.sh               # prints the cache directory holding `actionlint`
set -euo pipefail
version="${ACTIONLINT_VERSION:-v1.7.12}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/build-go-tool.sh" actionlint \
  github.com/rhysd/actionlint/cmd/actionlint "$version"
