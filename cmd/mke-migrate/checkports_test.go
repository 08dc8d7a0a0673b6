package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade"
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
	for flag, args := range map[string][]string{
		"--k0s-delivery":    {"--k0s-delivery", "carrier-pigeon"},
		"--k0s-peer-fanout": {"--k0s-peer-fanout", "0"},
		"--k0s-peer-port":   {"--k0s-peer-port", "65535"},
	} {
		code, _, stderr = runCLI(t, append([]string{"check", "ports", "--hosts-path", noRole}, args...)...)
		assert.Equal(t, 2, code, flag)
		assert.Contains(t, stderr, flag)
	}
}

// The ports probed: k0s's, plus peer delivery's (every pair of nodes,
// from any role to any) when the delivery is peer, the default.
func TestCheckPortsList(t *testing.T) {
	peer, err := checkPortsList(upgrade.DeliveryPeer, 19443, 3)
	require.NoError(t, err)
	require.Len(t, peer, len(portcheck.DefaultPorts)+3)
	for i, p := range peer[len(portcheck.DefaultPorts):] {
		assert.Equal(t, portcheck.Port{Number: 19443 + i, What: peerPortWhat}, p)
	}
	up, err := checkPortsList(upgrade.DeliveryUpload, 19443, 3)
	require.NoError(t, err)
	assert.Equal(t, portcheck.DefaultPorts, up)
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
	// peer delivery (the default): its ports between every pair of nodes
	peer := map[string]int{}
	for _, r := range rep.Results {
		if r.What == peerPortWhat {
			peer[r.From+">"+r.To]++
			assert.Contains(t, []int{19443, 19444, 19445}, r.Port)
		}
	}
	assert.Len(t, peer, len(b.c.Hosts)*(len(b.c.Hosts)-1), "%v", peer)
	for pair, n := range peer {
		assert.Equal(t, 3, n, pair)
	}
	assert.Equal(t, b.baseline, b.digests(t), "check ports changed a node")
}
