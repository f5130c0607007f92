#!/usr/bin/env bash
# The Dockerfile's build steps without a Docker engine: compile with tsc, install production
# dependencies only (npm ci --omit=dev) into a scratch directory laid out like the image's
# /app, and start the compiled entry point from there. Catches a runtime import of a dev
# dependency and a broken build before an image is ever built.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$(bash scripts/ensure-node.sh):$PATH"
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
rm -rf dist
node_modules/.bin/tsc -p tsconfig.build.json
cp package.json package-lock.json "$app/"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
cp -r dist "$app/dist"
(cd "$app" && NODE_ENV=production node dist/main.js --help >/dev/null)
# A bad setting must stop start-up with exit code 2 and one message naming it.
set +e
message="$(cd "$app" && node dist/main.js --log-level=loud 2>&1)"
code=$?
set -e
if [ "$code" != 2 ] || [[ "$message" != *"--log-level"* ]]; then
  echo "check-image-build: expected exit 2 naming --log-level, got $code: $message" >&2
  exit 1
fi
echo "image build steps: ok (dist compiled, production dependencies suffice)"
