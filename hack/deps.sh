#!/usr/bin/env bash
# Measures what a program that imports only one package of this module
# costs: the packages it links (go list -deps, standard library included)
# and the size of its stripped binary. The program calls the package's
# main entry points, so the linker keeps what a real user would pull in.
#
#   hack/deps.sh                 # the table of README "Dependencies"
#   hack/deps.sh convert rbac    # only these (paths relative to the module)
#
# The throw-away main packages live in a temporary folder inside the module
# (the go tool needs the module's go.mod) and are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
mod="$(go list -m)"

# package → the symbols its program uses.
declare -A syms=(
  [convert]="Convert Parse Check"
  [convert/mke4]="Default Marshal Unmarshal"
  [convert/kubeletprofile]="Map"
  [convert/flagparse]="ParseString"
  [upgrade/preflight]="Run"
  [hosts/facts]=""
  [mke3/kubenode]="Match"
  [rbac]="DecodeExport Translate Manifests"
  [rbac/fromapi]="Read"
  [rbac/kube]="Apply Delete"
  [summary]="Build"
  [swarm]="Translate WriteDir"
  [report]="Load Render"
  [hosts]="Load Connect"
  [mke3]="New"
  [upgrade]="New"
)
order=(convert convert/mke4 convert/kubeletprofile convert/flagparse upgrade/preflight hosts/facts mke3/kubenode rbac rbac/fromapi rbac/kube summary swarm report hosts mke3 upgrade)
[ $# -gt 0 ] && order=("$@")

tmp="$(mktemp -d "$PWD/zz-deps.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
printf '| package | packages linked | binary (MB) |\n| --- | ---: | ---: |\n'
for p in "${order[@]}"; do
  d="$tmp/$(echo "$p" | tr / _)"
  mkdir -p "$d"
  {
    alias=p
    [ -z "${syms[$p]:-}" ] && alias=_ # a types-only package
    printf 'package main\n\nimport %s "%s/%s"\n\nvar sink []any\n\nfunc main() {\n' "$alias" "$mod" "$p"
    for s in ${syms[$p]:-}; do printf '\tsink = append(sink, p.%s)\n' "$s"; done
    printf '\tprintln(len(sink))\n}\n'
  } >"$d/main.go"
  n="$(go list -deps "./${d#"$PWD"/}" | wc -l)"
  go build -trimpath -ldflags='-s -w' -o "$d/bin" "./${d#"$PWD"/}"
  size="$(stat -c %s "$d/bin")"
  printf '| `%s` | %d | %s |\n' "$p" "$n" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
done
