#!/usr/bin/env bash
# `npm run demo`: installs what is missing, then runs the end-to-end demo (scripts/demo.ts).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
exec bash "$root/scripts/with-node.sh" node "$root/scripts/demo.ts" "$@"
