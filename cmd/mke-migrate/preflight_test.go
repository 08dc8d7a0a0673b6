package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// preflightCluster starts a 3+2 testbed cluster, with the API simulator
// when api, and returns it with a hosts.yaml and a known_hosts for it.
func preflightCluster(t *testing.T, api bool) (c *testbed.Cluster, hostsYAML, knownHosts string) {
	t.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: 2, API: api, Workdir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	dir := t.TempDir()
	knownHosts = filepath.Join(dir, "known_hosts")
	var y strings.Builder
	y.WriteString("hosts:\n")
	for i, h := range c.Hosts {
		// Testbed hosts share the machine's /etc/machine-id (which the
		// duplicate-machine-id check rightly flags): give each its own.
		_, err := c.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1))
		require.NoError(t, err)
		require.NoError(t, h.KnownHostsFile(knownHosts))
		fmt.Fprintf(&y, "  - address: %s\n    port: %d\n    user: %s\n    keyPath: %s\n", h.Address, h.Port, h.User, h.KeyPath)
	}
	hostsYAML = writeFile(t, dir, "hosts.yaml", y.String())
	return c, hostsYAML, knownHosts
}

func TestPreflight(t *testing.T) {
	c, hy, kh := preflightCluster(t, true)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	base := []string{"preflight", "--hosts-path", hy, "--known-hosts", kh}

	// The data carry's checks run too: the fast bed's ucp-kube-apiserver
	// names no service-account keys, a blocker with its remedy.
	code, stdout, stderr := runCLI(t, base...)
	require.Equal(t, 3, code, stderr+stdout)
	assert.Contains(t, stdout, "[blocker] mke3-data-carry: MKE 3's service-account keys are not named")
	assert.Equal(t, 1, strings.Count(stdout, "[blocker]"), stdout)
	base = append(base, "--no-carry")

	// Without the API: the Calico check is skipped, nothing blocks.
	start := time.Now()
	code, stdout, stderr = runCLI(t, base...)
	t.Logf("preflight text took %v", time.Since(start))
	require.Equal(t, 0, code, stderr+stdout)
	for _, h := range c.Hosts {
		assert.Contains(t, stdout, h.Address+"\n  "+h.Name)
	}
	assert.Contains(t, stdout, "[skipped] calico-kdd")
	assert.Contains(t, stdout, "needs --mke3-host")
	assert.Contains(t, stdout, "remedy: ")

	// With the API (the simulator is on etcd): a blocker, exit 3; JSON.
	ca := writeFile(t, t.TempDir(), "ca.pem", string(c.API.CAPEM))
	start = time.Now()
	code, stdout, stderr = runCLI(t, append(base, "--output", "json", "--concurrency", "2",
		"--mke3-host", strings.TrimPrefix(c.API.URL, "https://"), "--mke3-admin-username", mke3api.DefaultAdminUsername, "--mke3-ca-cert", ca)...)
	t.Logf("preflight json with API took %v", time.Since(start))
	require.Equal(t, 3, code, stderr)
	var rep struct {
		Hosts []struct {
			Address string
			Facts   struct {
				MKEVersion string
				Swarm      struct{ Role string }
			}
		}
		Checks []preflight.Result
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
	require.Len(t, rep.Hosts, len(c.Hosts))
	for i, h := range rep.Hosts {
		assert.Equal(t, c.Hosts[i].Address, h.Address)
		assert.Equal(t, c.MKEVersion, h.Facts.MKEVersion)
		assert.Equal(t, map[bool]string{true: "manager", false: "worker"}[i < 3], h.Facts.Swarm.Role)
	}
	// the simulator's client bundle points at no Kubernetes API: a warning
	found := false
	for _, r := range rep.Checks {
		found = found || r.ID == preflight.IDKubeAPI && r.Severity == preflight.Warning
	}
	assert.True(t, found, "no %s warning in %+v", preflight.IDKubeAPI, rep.Checks)
	assert.Contains(t, rep.Checks, preflight.Result{ID: preflight.IDCalicoKDD, Severity: preflight.Blocker,
		Message: "Calico uses the etcd datastore; MKE 4k needs the Kubernetes datastore (calico_kdd = true)",
		Remedy:  "switch with `mke-migrate calico-kdd` (irreversible; new pod networking pauses about 20 s per node)"})

	// A leftover empty ~/.mke/mke.kubeconf blocks; an unknown host key makes
	// the hosts unreachable (blockers too).
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".mke"), 0o700))
	writeFile(t, filepath.Join(home, ".mke"), "mke.kubeconf", "")
	code, stdout, _ = runCLI(t, base...)
	assert.Equal(t, 3, code)
	assert.Contains(t, stdout, "[blocker] mke-kubeconfig:")
	assert.Contains(t, stdout, "remedy: delete "+filepath.Join(home, ".mke", "mke.kubeconf"))
	require.NoError(t, os.Remove(filepath.Join(home, ".mke", "mke.kubeconf")))

	// F8 (issue 14): an unknown host key, or a missing known_hosts file,
	// is a host-key blocker whose remedy is to verify the key and add it
	// to known_hosts, not host-unreachable.
	empty := writeFile(t, t.TempDir(), "known_hosts", "")
	for _, kh := range []string{empty, filepath.Join(t.TempDir(), "missing_known_hosts")} {
		code, stdout, _ = runCLI(t, "preflight", "--hosts-path", hy, "--known-hosts", kh, "-o", "json")
		assert.Equal(t, 3, code)
		assert.Equal(t, len(c.Hosts), strings.Count(stdout, `"id": "host-key"`), stdout)
		assert.NotContains(t, stdout, "host-unreachable")
		assert.NotContains(t, stdout, "make the host reachable")
		assert.Contains(t, stdout, "verify the host's key")
		assert.Contains(t, stdout, "add it to "+kh)
	}
	// F2: SSH_KNOWN_HOSTS set but empty made rig accept any key.
	t.Setenv("SSH_KNOWN_HOSTS", "")
	code, stdout, stderr = runCLI(t, "preflight", "--hosts-path", hy, "--known-hosts", empty, "-o", "json")
	assert.Equal(t, 3, code, stdout)
	assert.Equal(t, len(c.Hosts), strings.Count(stdout, `"id": "host-key"`), stdout)
	assert.Contains(t, stderr, "SSH_KNOWN_HOSTS is ignored")

	// Usage errors.
	code, _, _ = runCLI(t, "preflight")
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, append(base, "--output", "yaml")...)
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, "preflight", "--hosts-path", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, 2, code)
}

// preflight takes upgrade's delivery flags, checked before any host is
// reached: the peer ports it probes and the mode it checks for.
func TestPreflightDeliveryFlags(t *testing.T) {
	h := writeFile(t, t.TempDir(), "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n")
	for flag, args := range map[string][]string{
		"--k0s-delivery":    {"--k0s-delivery", "carrier-pigeon"},
		"--k0s-peer-port":   {"--k0s-peer-port", "65535"},
		"--k0s-peer-fanout": {"--k0s-peer-fanout", "0"},
		"--k0s-sha256":      {"--k0s-delivery", "url"},
	} {
		code, _, stderr := runCLI(t, append([]string{"preflight", "--hosts-path", h}, args...)...)
		assert.Equal(t, 2, code, flag)
		assert.Contains(t, stderr, flag)
	}
}
