#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module
# proxy for the tests that need a real Kubernetes API (package
# internal/kubetest), into a folder keyed by version, and prints that folder.
# A folder that already holds all three binaries is reused as it is.
#
#   hack/testbin/build.sh            # build (or reuse) and print the folder
#
# MKE_MIGRATE_TESTBIN overrides the cache root ($HOME/.cache/mke-migrate/testbin).
# The build keeps its own GOCACHE inside the cache root and deletes it when
# done, so the ~3.7 GB of compiled Kubernetes packages is not left behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

KUBE_VERSION=1.37.2 # k8s.io/kubernetes; the staging modules are v0.37.2
ETCD_VERSION=3.7.3
root="${MKE_MIGRATE_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mke-migrate/testbin}"
dir="$root/kube-v$KUBE_VERSION-etcd-v$ETCD_VERSION"

if [ -x "$dir/etcd" ] && [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kube-controller-manager" ]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$root"
tmp="$(mktemp -d "$root/build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export GOCACHE="$tmp/gocache" GOFLAGS=-mod=readonly
out="$tmp/bin"
mkdir -p "$out"

minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
ldflags="$ldflags -X k8s.io/component-base/version.gitTreeState=clean"

start=$SECONDS
(cd "$here/kube" && go build -trimpath -ldflags="$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver) >&2
(cd "$here/kube" && go build -trimpath -ldflags="$ldflags" -o "$out/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager) >&2
(cd "$here/etcd" && go build -trimpath -ldflags="-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3) >&2
echo "built the test control plane in $((SECONDS - start)) s" >&2

# Publish all three at once, so that a build killed half-way leaves nothing
# that looks complete.
rm -rf "$dir"
mv "$out" "$dir"
echo "$dir"
