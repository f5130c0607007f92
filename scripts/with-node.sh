#!/usr/bin/env bash
# Runs a command with the project's Node major first on PATH and node_modules/.bin after it,
# installing npm dependencies when they are missing or older than the lockfile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_bin="$(bash "$root/scripts/ensure-node.sh")"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
stamp="$root/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# Sources run directly through Node's type stripping; the warning about it is noise here.
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=ExperimentalWarning"
exec "$@"
