#!/usr/bin/env bash
# `make kind-e2e`: for operators with Docker and kind. Creates a kind cluster, builds and loads the
# image, installs the chart, and runs the same end-to-end suite against that cluster's kubeconfig.
# It cannot run where no container engine exists.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cluster="${KIND_CLUSTER:-apolo-secrets-webhook}"
image="${IMAGE:-apolo-secrets-webhook:e2e}"
helm="${HELM:-helm}"
workdir="$(mktemp -d)"
kubeconfig="$workdir/kubeconfig"

for tool in docker kind "$helm" kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "kind-e2e: '$tool' is required (this target needs Docker and kind)" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "kind-e2e: no Docker engine is running" >&2; exit 1; }

cleanup() {
  if [[ "${KEEP_CLUSTER:-0}" != "1" ]]; then kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

kind create cluster --name "$cluster" --kubeconfig "$kubeconfig" --wait 120s
docker build -t "$image" "$root"
kind load docker-image "$image" --name "$cluster"

export KUBECONFIG="$kubeconfig"
# The suite acts as these users through impersonation, and names this cluster.
"$helm" install apolo-secrets-webhook "$root/charts/apolo-secrets-webhook" \
  --namespace apolo-secrets-webhook --create-namespace \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
  --set "webhook.trustedUsers={platform-submitter}" --set webhook.clusterName=test-cluster \
  --wait --timeout 180s

E2E_KUBECONFIG="$kubeconfig" E2E_WEBHOOK_NAMESPACE=apolo-secrets-webhook \
  "$root/node_modules/.bin/vitest" run --config "$root/vitest.e2e.config.ts" --root "$root"
