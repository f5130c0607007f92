#!/usr/bin/env bash
# The project's test command (`npm test`): sets up what is missing, then runs the static
# checks and every test suite (unit and integration against a real control plane).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export KUBE_BIN_DIR="$(bash scripts/build-kube.sh)"
export HELM_BIN="$(bash scripts/build-helm.sh)/helm"
run() { bash scripts/with-node.sh "$@"; }
echo "== lint and format check" >&2
run biome ci .
echo "== typecheck" >&2
run tsc -p tsconfig.json --noEmit
echo "== import boundaries (docs/development.md, Layers)" >&2
run node scripts/check-boundaries.ts
echo "== generated CRDs, types and docs are current" >&2
run node scripts/gen-crds.ts --check
run node scripts/gen-config-docs.ts --check
echo "== helm chart lints and deploy/ matches a fresh render" >&2
"$HELM_BIN" lint --strict deploy/helm/imagestream-operator
run node scripts/render-manifests.ts --check
echo "== GitHub Actions workflows lint clean (actionlint, with shellcheck)" >&2
"$(bash scripts/build-actionlint.sh)/actionlint"
echo "== the container image, built from the Dockerfile (scripts/image.sh)" >&2
report="$(mktemp)"
image_metadata="$(mktemp)"
trap 'rm -f "$report" "$image_metadata"' EXIT
bash scripts/image.sh --metadata "$image_metadata"
# The image suites check and start this image (test/harness/image.ts).
export IMAGESTREAM_TEST_IMAGE="$image_metadata"
echo "== tests" >&2
status=0
run vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One closing line in the plain "N passed, N failed" form that any CI can read.
run node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$report" || true
exit "$status"
