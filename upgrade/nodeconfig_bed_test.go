package upgrade_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// hosts.yaml's privateAddress and privateInterface become the kubelet's
// node IP (k0s install --kubelet-extra-args=--node-ip=…, as k0sctl does),
// and --data-dir reaches every k0s command that takes it; a data
// directory that cannot be made, too little space or an interface without
// an address block before anything changes (issue 15 items 4 and 5).
func TestNodeIPAndDataDir(t *testing.T) {
	b := startBed(t, 1)
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	mgr, wrk := b.c.Host("manager-2"), b.c.Host("worker-1")
	for i := range o.Hosts {
		switch o.Hosts[i].Address {
		case mgr.Address:
			o.Hosts[i].PrivateInterface = "eth0" // the test bed host's only interface
		case wrk.Address:
			o.Hosts[i].PrivateAddress = "10.99.0.7"
		}
	}
	blockedBy := func(o upgrade.Options, id string) {
		t.Helper()
		u, err := upgrade.New(o)
		require.NoError(t, err)
		defer u.Close()
		_, err = u.Discover(t.Context())
		var be *upgrade.BlockedError
		require.ErrorAs(t, err, &be)
		require.Contains(t, err.Error(), id)
	}
	bad := o
	bad.DataDir = "/nonexistent/k0s"
	blockedBy(bad, "data-dir")
	bad = o
	bad.DataDirMinFree = 1 << 62
	blockedBy(bad, "data-dir-space")
	bad = o
	bad.Hosts = append([]hosts.Host(nil), o.Hosts...)
	for i := range bad.Hosts {
		if bad.Hosts[i].Address == mgr.Address {
			bad.Hosts[i].PrivateInterface = "nope0"
		}
	}
	blockedBy(bad, "privateInterface nope0 has no IPv4 address")
	require.Equal(t, b.baseline, b.digests(t), "a blocked run changed a node")

	o.DataDir = "/opt/k0s"
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	require.NoError(t, err)
	installs := map[string]string{}
	var k0sCmds []string
	for _, h := range b.c.Hosts {
		calls, err := b.c.Calls(t.Context(), h)
		require.NoError(t, err)
		for _, c := range calls {
			line := strings.Join(c, " ")
			if len(c) > 1 && c[0] == "k0s" {
				k0sCmds = append(k0sCmds, line)
			}
			if len(c) > 1 && c[0] == "k0s" && c[1] == "install" {
				installs[h.Name] = line
			}
		}
	}
	require.Contains(t, installs[mgr.Name], "--kubelet-extra-args=--node-ip="+mgr.Address)
	require.Contains(t, installs[wrk.Name], "--kubelet-extra-args=--node-ip=10.99.0.7")
	require.NotContains(t, installs["manager-1"], "--node-ip")
	joined := strings.Join(k0sCmds, "\n")
	for _, want := range []string{"k0s token create", "k0s kubeconfig admin", "k0s kubectl"} {
		require.Contains(t, joined, want, "no %s command was seen", want)
	}
	for _, c := range k0sCmds {
		for _, sub := range []string{"k0s install", "k0s token", "k0s kubeconfig", "k0s kubectl", "k0s reset"} {
			if strings.HasPrefix(c, sub) {
				require.Contains(t, c, "--data-dir=/opt/k0s", c)
			}
		}
	}
}
