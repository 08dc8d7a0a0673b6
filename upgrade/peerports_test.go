package upgrade_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Peer delivery's ports (19443–19445 by default) are probed before
// anything changes, as the join ports are: on the test bed they are open
// (nothing to say); a process holding one on a node, or a route that
// drops the nodes' traffic to a node, makes a warning that names the
// node, the port (and the process) and the fallback's cost; the run is
// not blocked (a failed copy is uploaded instead). Upload mode checks
// nothing. Our listeners are gone afterwards and the nodes as they were.
func TestPeerPortsCheckedBeforeAnythingChanges(t *testing.T) {
	b := startBed(t, 1)
	o := b.options(t, t.TempDir())
	findings := func() []preflight.Result {
		t.Helper()
		res, err := upgrade.Check(t.Context(), o)
		require.NoError(t, err)
		var out []preflight.Result
		for _, r := range res.Checks {
			if r.ID == upgrade.IDPeerPort || r.ID == "k0s-delivery" {
				out = append(out, r)
			}
		}
		return out
	}
	m2 := b.c.Host("manager-2")
	require.Empty(t, findings(), "the bed's nodes reach each other on the peer ports")

	// a process holds 19444 on manager-2
	pid, err := b.c.Exec(t.Context(), m2, `perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalPort => 19444, Listen => 1, ReuseAddr => 1) or die; sleep 600' </dev/null >/dev/null 2>&1 & echo $!; i=0; until ss -ltnH 'sport = :19444' | grep -q .; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done`)
	require.NoError(t, err)
	fs := findings()
	require.Len(t, fs, 1, "%+v", fs)
	t.Logf("%s\n  remedy: %s", fs[0].Message, fs[0].Remedy)
	assert.Equal(t, preflight.Warning, fs[0].Severity)
	assert.Equal(t, m2.Address, fs[0].Host)
	assert.Contains(t, fs[0].Message, "19444")
	assert.Contains(t, fs[0].Message, "held by perl")
	assert.Contains(t, fs[0].Message, "uploads of the k0s binary from this machine")
	assert.Contains(t, fs[0].Remedy, "--k0s-peer-port")
	_, err = b.c.Exec(t.Context(), m2, "kill "+strings.TrimSpace(pid)+"; while kill -0 "+strings.TrimSpace(pid)+" 2>/dev/null; do sleep 0.1; done")
	require.NoError(t, err)

	// the other nodes cannot reach manager-2 (an unreachable route: the
	// connect fails at once, as with a firewall's reject)
	route := func(op string) {
		t.Helper()
		for _, h := range b.c.Hosts {
			if h != m2 {
				_, err := b.c.Exec(context.Background(), h, "ip route "+op+" unreachable "+m2.Address+"/32")
				require.NoError(t, err, h.Name)
			}
		}
	}
	route("add")
	t.Cleanup(func() {
		for _, h := range b.c.Hosts {
			_, _ = b.c.Exec(context.Background(), h, "ip route del unreachable "+m2.Address+"/32 2>/dev/null; true")
		}
	})
	fs = findings()
	require.Len(t, fs, 1, "%+v", fs)
	t.Logf("%s\n  remedy: %s", fs[0].Message, fs[0].Remedy)
	assert.Equal(t, preflight.Warning, fs[0].Severity)
	assert.Contains(t, fs[0].Message, "19443–19445")
	assert.Contains(t, fs[0].Message, "blocked")
	assert.Contains(t, fs[0].Message, m2.Address+":19443")
	assert.Contains(t, fs[0].Remedy, "--k0s-delivery upload")
	route("del")

	// upload mode has nothing to check
	o.Delivery.Mode = upgrade.DeliveryUpload
	route("add")
	assert.Empty(t, findings())
	route("del")

	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "ss -ltnH 'sport >= :19443 and sport <= :19445'")
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(out), "%s: a listener is left", h.Name)
	}
	require.Equal(t, b.baseline, b.digests(t), "the check changed a node")
}
