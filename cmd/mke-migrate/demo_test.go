package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/summary"
)

func runDemoBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	needTestbed(t)
	cmd := exec.Command(binary(t), append([]string{"demo"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("mke-migrate demo %v: %v", args, time.Since(start).Round(time.Millisecond))
	code = exitCode(t, err)
	requireNoSecret(t, nil, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runDemoBinary(t, "--output", dir)
	require.Equal(t, 0, code, stderr)
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err, "demo --output leaves report.html")
	assert.Contains(t, string(page), "The upgrade finished: every node runs MKE 4k.")
	assert.FileExists(t, filepath.Join(dir, "swarm", "report.txt"), "the Swarm services are exported before the upgrade")
	assert.Contains(t, string(page), "exported services", "the report shows the Swarm export")
	for _, want := range []string{"== mke-migrate convert", "keys accounted for", "== mke-migrate preflight", "0 blocker(s)",
		"== mke-migrate upgrade", "Step 1 of ", "write-outputs ... done (", "Simulated cluster removed."} {
		assert.Contains(t, stderr, want)
	}
	for _, want := range []string{"manager-1", "Role controller", "Role worker", "Upgrade Summary\n---------------\n", "MKE3 Cleanup", "MCR may safely be uninstalled",
		"Swarm workloads\n---------------\n", "Swarm services exported to "} {
		assert.Contains(t, stdout, want)
	}
}

func TestDemoFailAtRollsBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runDemoBinary(t, "--fail-at", "k0s-worker", "--output", dir)
	assert.Equal(t, 1, code, stderr)
	// The summary of a rolled-back run, printed and saved as a finished one's.
	assertFailureSummary(t, dir, stdout, summary.RolledBack, "injected failure", "Rollback to MKE version 3.8.8 completed successfully.")
	for _, want := range []string{"k0s-worker on ", "failed (", "injected failure", "Initiating rollback of MKE to version: 3.8.8",
		"Rollback to MKE version 3.8.8 completed successfully", "Upgrade failed due to error: "} {
		assert.Contains(t, stderr, want)
	}
	assert.Regexp(t, regexp.MustCompile(`worker-2 +before [0-9a-f]{16}  after [0-9a-f]{16}  same`), stdout)
	assert.NotContains(t, stdout, "DIFFERENT")
	assert.Contains(t, stdout, "every node is back in its MKE 3 state")
}

func TestDemoUnknownStep(t *testing.T) {
	code, _, stderr := runDemoBinary(t, "--fail-at", "k0s-everything", "--workers", "1")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, `no step "k0s-everything"`)
	assert.Contains(t, stderr, "save-inputs, swarm-export, mke3-backup, k0s-upload, swarm-drain, mke3-stop, k0s-binary, k0s-controller")
	assert.Contains(t, stderr, "Simulated cluster removed.")
}

// assertFailureSummary checks the summary of a failed or rolled-back run:
// on stdout under the documented heading, and in summary.txt and
// summary.json in the output folder dir.
func assertFailureSummary(t *testing.T, dir, stdout string, outcome summary.Outcome, cause, verdict string) {
	t.Helper()
	for _, want := range []string{"Upgrade Summary\n", "Upgrade failed due to error: ", cause, verdict} {
		assert.Contains(t, stdout, want, "the summary on stdout")
	}
	txt, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	require.NoError(t, err, "summary.txt in the output folder")
	assert.Contains(t, string(txt), verdict)
	assert.Contains(t, stdout, string(txt), "the summary printed is the one saved")
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err, "summary.json in the output folder")
	var got summary.Summary
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, outcome, got.Outcome)
	assert.Contains(t, got.Error, cause)
}
