#!/usr/bin/env bash
# Builds the Kubernetes and etcd binaries the tests and the demo run (package
# internal/testbin) from the Go module proxy, into a folder keyed by version,
# and prints that folder:
#   etcd, etcdctl, etcdutl                  (etcd v$ETCD_VERSION, module hack/testbin/etcd)
#   kube-apiserver, kube-controller-manager,
#   kubectl                                 (Kubernetes v$KUBE_VERSION, module hack/testbin/kube)
# Only the binaries the folder lacks are built; the others are reused as
# they are. Each one is published with a rename once it is complete, so a
# build killed half-way leaves nothing that looks built.
#
#   hack/testbin/build.sh            # build what is missing (or nothing) and print the folder
#
# MKE_MIGRATE_TESTBIN overrides the cache root ($HOME/.cache/mke-migrate/testbin).
# One build at a time per cache root: the build holds an flock on
# $root/build.lock (internal/testbin takes it before it starts this script
# and says so with MKE_MIGRATE_TESTBIN_LOCKED=1). The build keeps its own
# GOCACHE inside the cache root and deletes it when done, so the ~3.7 GB of
# compiled Kubernetes packages is not left behind; a build that was killed
# leaves its folder, which the next build removes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

KUBE_VERSION=1.37.2 # k8s.io/kubernetes; the staging modules are v0.37.2
ETCD_VERSION=3.7.3  # go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3
root="${MKE_MIGRATE_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/mke-migrate/testbin}"
dir="$root/kube-v$KUBE_VERSION-etcd-v$ETCD_VERSION"

# name, module folder, package; in build order (the control plane first).
targets=(
  "kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver"
  "kube-controller-manager kube k8s.io/kubernetes/cmd/kube-controller-manager"
  "etcd etcd go.etcd.io/etcd/server/v3"
  "kubectl kube k8s.io/kubernetes/cmd/kubectl"
  "etcdctl etcd go.etcd.io/etcd/etcdctl/v3"
  "etcdutl etcd go.etcd.io/etcd/etcdutl/v3"
)

missing() {
  local t name
  for t in "${targets[@]}"; do
    name="${t%% *}"
    [ -x "$dir/$name" ] || echo "$t"
  done
}

if [ -z "$(missing)" ]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$root"
if [ "${MKE_MIGRATE_TESTBIN_LOCKED:-}" != 1 ] && command -v flock >/dev/null 2>&1; then
  exec 9>>"$root/build.lock"
  if ! flock -n 9; then
    echo "testbin: waiting for another build in $root" >&2
    flock 9
  fi
fi
# Under the lock: what another build did meanwhile counts, and the folders
# of killed builds can go.
mapfile -t todo < <(missing)
if [ "${#todo[@]}" -eq 0 ]; then
  echo "$dir"
  exit 0
fi
rm -rf "$root"/build.??????

tmp="$(mktemp -d "$root/build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export GOCACHE="$tmp/gocache" GOFLAGS=-mod=readonly
mkdir -p "$dir"

minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
kubeflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kubeflags="$kubeflags -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
kubeflags="$kubeflags -X k8s.io/component-base/version.gitTreeState=clean"

echo "testbin: building ${#todo[@]} binaries into $dir (about 8 minutes for all six on 2 cores, once)" >&2
start=$SECONDS
i=0
for t in "${todo[@]}"; do
  read -r name module pkg <<<"$t"
  i=$((i + 1))
  flags="-s -w"
  [ "$module" = kube ] && flags="$kubeflags"
  echo "testbin: [$i/${#todo[@]}] building $name ($pkg)" >&2
  step=$SECONDS
  (cd "$here/$module" && go build -trimpath -ldflags="$flags" -o "$tmp/$name" "$pkg") >&2
  mv -f "$tmp/$name" "$dir/$name"
  echo "testbin: [$i/${#todo[@]}] built $name in $((SECONDS - step)) s" >&2
done
echo "testbin: built ${#todo[@]} binaries in $((SECONDS - start)) s" >&2
echo "$dir"
