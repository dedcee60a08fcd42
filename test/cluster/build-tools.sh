#!/usr/bin/env bash
# Builds the control-plane binaries (etcd, etcdctl, kube-apiserver, kube-controller-manager, kubectl), helm and promtool from the Go module proxy
# through the wrapper modules beside this script, and caches them outside the work tree keyed
# by version. A binary already in the cache is not rebuilt. Any failure is loud and names the step.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${APOLO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apolo-secrets-webhook/bin}"
kube_version="$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/tools/kubernetes/go.mod")"
# The etcd module requires two commands in a require block: read the server's line there.
etcd_version="$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3; exit} $1=="go.etcd.io/etcd/server/v3" {print $2; exit}' "$here/tools/etcd/go.mod")"
helm_version="$(awk '$1=="require" && $2=="helm.sh/helm/v3" {print $3}' "$here/tools/helm/go.mod")"
prometheus_version="$(awk '$1=="require" && $2=="github.com/prometheus/prometheus" {print $3}' "$here/tools/prometheus/go.mod")"
mkdir -p "$cache"
for pinned in "kube_version=$kube_version" "etcd_version=$etcd_version" "helm_version=$helm_version" "prometheus_version=$prometheus_version"; do
  if [[ "$pinned" == *= ]]; then
    echo "build-tools: step 'read versions' failed: ${pinned%=} not found in the wrapper go.mod files" >&2
    exit 1
  fi
done

if ! command -v go >/dev/null 2>&1; then
  echo "build-tools: step 'find go' failed: no Go toolchain on PATH (Go 1.26 or newer is needed to build the control plane)" >&2
  exit 1
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# build NAME VERSION MODULE_DIR PACKAGE [LDFLAGS]
build() {
  local name="$1" version="$2" dir="$3" pkg="$4" ldflags="${5:-}"
  local out="$cache/$name-$version"
  if [[ -x "$out" ]]; then
    echo "build-tools: $name $version cached at $out"
    return 0
  fi
  echo "build-tools: building $name $version (first build takes minutes on two cores) ..."
  local started=$SECONDS
  if ! (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg"); then
    rm -f "$out.tmp"
    echo "build-tools: step 'go build $pkg' ($name $version) failed" >&2
    exit 1
  fi
  mv "$out.tmp" "$out"
  echo "build-tools: built $name $version in $((SECONDS - started)) s"
}

# Without these the API server reports v0.0.0 from /version, which breaks kubeVersion checks.
minor="${kube_version#v1.}"; minor="${minor%%.*}"
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build etcd "$etcd_version" "$here/tools/etcd" go.etcd.io/etcd/server/v3
# etcdctl reads stored Secrets straight from etcd (the encryption-at-rest test).
build etcdctl "$etcd_version" "$here/tools/etcd" go.etcd.io/etcd/etcdctl/v3
build kube-apiserver "$kube_version" "$here/tools/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager "$kube_version" "$here/tools/kubernetes" k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"
build kubectl "$kube_version" "$here/tools/kubernetes" k8s.io/kubernetes/cmd/kubectl "$kube_ldflags"
# Helm reports its own version from these variables, and assumes the Kubernetes version of its
# client-go (v0.37 → 1.37, as upstream's Makefile sets it) when `helm template` is given none.
# "-r2" in the cached name: the recipe changed (the Kubernetes version flags were added).
helm_kube_minor="$(awk '$1=="k8s.io/client-go" {split($2, v, "."); print v[2]}' "$here/tools/helm/go.mod")"
helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$helm_version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_kube_minor"
done
build helm "$helm_version-r2" "$here/tools/helm" helm.sh/helm/v3/cmd/helm "$helm_ldflags"
# promtool checks and unit-tests the chart's alerting rules (test/unit/monitoring-rules.test.ts).
build promtool "$prometheus_version" "$here/tools/prometheus" github.com/prometheus/prometheus/cmd/promtool \
  "-X github.com/prometheus/common/version.Version=$prometheus_version"

# Stable names for the harness: a small env file it sources.
cat >"$cache/versions.env" <<ENV
ETCD_BIN=$cache/etcd-$etcd_version
ETCDCTL_BIN=$cache/etcdctl-$etcd_version
KUBE_APISERVER_BIN=$cache/kube-apiserver-$kube_version
KUBE_CONTROLLER_MANAGER_BIN=$cache/kube-controller-manager-$kube_version
KUBECTL_BIN=$cache/kubectl-$kube_version
HELM_BIN=$cache/helm-$helm_version-r2
HELM_VERSION=$helm_version
PROMTOOL_BIN=$cache/promtool-$prometheus_version
PROMETHEUS_VERSION=$prometheus_version
ETCD_VERSION=$etcd_version
KUBE_VERSION=$kube_version
ENV
echo "build-tools: ready ($cache/versions.env)"
