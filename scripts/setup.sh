#!/usr/bin/env bash
# Installs everything the tests and the local cluster need, idempotently:
#   - Debian packages: etcd-server, docker-registry (CNCF distribution), skopeo, htpasswd, openssl,
#     buildah and mmdebstrap (the container image, scripts/image.sh), shellcheck (for actionlint)
#   - Node 24 (scripts/ensure-node.sh) and the npm dependencies (npm ci)
#   - kube-apiserver and kube-controller-manager built from their Go module (scripts/build-kube.sh),
#     and helm and actionlint from their Go modules (scripts/build-helm.sh, scripts/build-actionlint.sh),
#     cached in ~/.cache/imagestream-operator
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_pkgs=()
command -v etcd >/dev/null || need_pkgs+=(etcd-server)
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
command -v skopeo >/dev/null || need_pkgs+=(skopeo)
command -v htpasswd >/dev/null || need_pkgs+=(apache2-utils)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v buildah >/dev/null || need_pkgs+=(buildah)
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
command -v shellcheck >/dev/null || need_pkgs+=(shellcheck)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${need_pkgs[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
command -v kubectl >/dev/null || { echo "setup: kubectl is required on PATH" >&2; exit 1; }

node_bin="$(bash scripts/ensure-node.sh)"
export PATH="$node_bin:$PATH"
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

kube_dir="$(bash scripts/build-kube.sh)"
helm_dir="$(bash scripts/build-helm.sh)"
bash scripts/build-actionlint.sh >/dev/null
echo "setup: node $(node --version), kube binaries in $kube_dir, helm in $helm_dir" >&2
