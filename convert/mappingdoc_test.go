package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docs/mapping.md is generated from the spec table, so that the published
// mapping can never drift from the code: go test ./convert -update.
func TestMappingDocIsCurrent(t *testing.T) {
	var b strings.Builder
	b.WriteString("# MKE 3 → MKE 4k: where every key goes\n\n")
	b.WriteString("Generated from `convert/spec.go` by `go test ./convert -update`; do not edit by hand.\n\n")
	b.WriteString("`Basis`: **documented** — a Mirantis page names the target; **checked** — mkectl's compatibility check\n")
	b.WriteString("calls the key supported, the target is this project's reading; **inferred** — this project's inference.\n")
	b.WriteString("Keys without a target are reported `default` when they hold the MKE 3 default (or their value does\n")
	b.WriteString("not matter), `dropped` otherwise, with the reason below. Value-dependent outcomes (blocking values,\n")
	b.WriteString("unconvertible values, flags) are described in `go doc ./convert`. An empty table (a header with nothing\n")
	b.WriteString("under it, an inline `{}`) is a key of its own: `unknown` when it is not an MKE 3 table, `default` otherwise.\n")
	b.WriteString("Keys marked with a version are reported `unknown` when `Options.MKE3Version` (`--mke3-version`) is older.\n\n")
	b.WriteString("| MKE 3 key | MKE 4k target (under `spec.`) | basis | reason when not carried |\n| --- | --- | --- | --- |\n")
	for _, s := range specs {
		target, basis, reason := "—", "", s.reason
		if s.target != "" {
			target, basis, reason = "`"+s.target+"`", s.basis.String(), ""
		}
		if s.def == anyValue {
			reason += " (always reported as default)"
		}
		key := "`" + s.pattern + "`"
		if s.since != "" {
			key += " (MKE " + s.since + " and later)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", key, target, basis, strings.ReplaceAll(reason, "|", "\\|"))
	}
	b.WriteString("\n## Custom flags that set what a key sets (shadowing)\n\n")
	b.WriteString(shadowPrecedence + "\n\n")
	b.WriteString("| component | flag | MKE 3 key it shadows | MKE 4k field that gets the winning value (under `spec.`) |\n| --- | --- | --- | --- |\n")
	for _, comp := range []string{"apiServer", "controllerManager", "scheduler", "kubelet"} {
		var names []string
		for n := range shadows[comp] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			sh := shadows[comp][n]
			target := "`" + sh.target + "`"
			if sh.merge {
				target += " (a map flag: merged, the flag's keys win)"
			}
			fmt.Fprintf(&b, "| %s | `--%s` | `%s` | %s |\n", comp, n, strings.Join(sh.keys, "`, `"), target)
		}
	}
	b.WriteString("\nKeys that MKE 3 turns into a flag the converter writes to `extraArgs` (`cipher_suites_for_kube_api_server`,\n")
	b.WriteString("`cipher_suites_for_kubelet`, `cluster_name`, `kubelet_serialize_image_pulls`, `kubelet_max_parallel_image_pulls`)\n")
	b.WriteString("follow the same rule: the custom flag wins and the key is `dropped`, except list flags such as\n")
	b.WriteString("`--tls-cipher-suites`, whose values Kubernetes' flag parser appends: both are kept, joined with commas.\n")
	path := filepath.Join("..", "docs", "mapping.md")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	if d := firstDiff(string(want), b.String()); d != "" {
		t.Fatalf("docs/mapping.md is stale: run go test ./convert -update\n%s", d)
	}
}
