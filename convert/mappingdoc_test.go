package convert

import (
	"fmt"
	"os"
	"path/filepath"
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
	b.WriteString("unconvertible values, flags) are described in `go doc ./convert`.\n\n")
	b.WriteString("| MKE 3 key | MKE 4k target (under `spec.`) | basis | reason when not carried |\n| --- | --- | --- | --- |\n")
	for _, s := range specs {
		target, basis, reason := "—", "", s.reason
		if s.target != "" {
			target, basis, reason = "`"+s.target+"`", string(s.basis), ""
		}
		if s.def == anyValue {
			reason += " (always reported as default)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.pattern, target, basis, strings.ReplaceAll(reason, "|", "\\|"))
	}
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
