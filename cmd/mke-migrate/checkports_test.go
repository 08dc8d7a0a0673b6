package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/portcheck"
)

func TestCheckPortsUsage(t *testing.T) {
	dir := t.TempDir()
	noRole := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n")
	code, _, stderr := runCLI(t, "check", "ports", "--hosts-path", noRole)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "has no role")
	code, _, stderr = runCLI(t, "check", "ports", "--hosts-path", noRole, "--connect-timeout", "10ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--connect-timeout")
}

// On the test bed: every pair of hosts gets a verdict for each port its
// roles need, and the JSON names them; nothing is left running.
func TestCheckPortsOnTestbed(t *testing.T) {
	b := startCLIBed(t)
	cmd := b.command(t, "check", "ports", "--json", "--connect-timeout", "1s")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := exitCode(t, err)
	require.Contains(t, []int{0, 3}, code, errb.String())
	var rep portcheck.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	require.NotEmpty(t, rep.Results)
	t.Logf("%d probes; first: %+v", len(rep.Results), rep.Results[0])
	verdicts := map[portcheck.Verdict]int{}
	for _, r := range rep.Results {
		verdicts[r.Verdict]++
	}
	t.Logf("verdicts: %v", verdicts)
	assert.Equal(t, b.baseline, b.digests(t), "check ports changed a node")
}
