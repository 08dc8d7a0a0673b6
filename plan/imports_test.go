package plan_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The step model sits below its users: neither plan nor rollback may
// import package upgrade (upgrade imports both), so no arrow runs back up.
func TestNoUpwardImport(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports")
	}
	const mod = "github.com/mke-migrate/mke-migrate/"
	for pkg, banned := range map[string][]string{
		"plan":     {"upgrade", "rollback", "convert", "rbac"},
		"rollback": {"upgrade"},
	} {
		out, err := exec.Command(goBin, "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range banned {
			if slices.Contains(deps, mod+b) {
				t.Errorf("%s imports %s", pkg, b)
			}
		}
	}
}
