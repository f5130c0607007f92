#!/usr/bin/env bash
# `npm start`: the operator from source. After `npm run cluster:up`, the settings for that local
# cluster are in .dev/operator.yaml; they are used when no other config file is named
# (--config or IMAGESTREAM_CONFIG). Flags and environment variables win over the file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=("$@")
dev_config="$root/.dev/operator.yaml"
named_config=false
for arg in "$@"; do
  case "$arg" in --config|--config=*) named_config=true ;; esac
done
if [ -f "$dev_config" ] && [ "$named_config" = false ] && [ -z "${IMAGESTREAM_CONFIG:-}" ]; then
  echo "start: using $dev_config (written by npm run cluster:up)" >&2
  args=(--config "$dev_config" "${args[@]}")
fi
exec bash "$root/scripts/with-node.sh" node "$root/src/main.ts" "${args[@]}"
