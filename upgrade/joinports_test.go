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

// Finding 5 before anything changes: the test bed's load balancer
// forwards 443 and 6443, as one made for MKE 3 does, not k0s's 9443. The
// checks (upgrade.Check, Discover's) block on 9443 from the joining
// managers, naming the address, the port and what to change; once the
// load balancer forwards 9443 they pass. The listeners are gone
// afterwards (k0s needs 9443) and the nodes are as they were.
func TestJoinPortsCheckedBeforeAnythingChanges(t *testing.T) {
	b := startBed(t, 1)
	o := b.options(t, t.TempDir())
	o.ExternalAddress = b.c.LB
	o.Commands.JoinCheck = "" // the default: checked
	joinFindings := func() []preflight.Result {
		t.Helper()
		res, err := upgrade.Check(t.Context(), o)
		require.NoError(t, err)
		var out []preflight.Result
		for _, r := range res.Checks {
			if r.ID == upgrade.IDJoinPort {
				out = append(out, r)
			}
		}
		return out
	}
	free9443 := func() {
		t.Helper()
		for _, m := range b.c.Managers {
			out, err := b.c.Exec(context.Background(), m, "ss -ltnH 'sport = :9443'")
			require.NoError(t, err)
			assert.Empty(t, strings.TrimSpace(out), "%s: our listener still holds 9443", m.Name)
		}
	}

	fs := joinFindings()
	require.Len(t, fs, 1, "%+v", fs)
	f := fs[0]
	t.Logf("%s\n  remedy: %s", f.Message, f.Remedy)
	assert.Equal(t, preflight.Blocker, f.Severity)
	assert.Contains(t, f.Message, b.c.LB+":9443")
	for _, m := range b.c.Managers[1:] {
		assert.Contains(t, f.Message, m.Address)
	}
	assert.Contains(t, f.Remedy, "forward TCP port 9443 on the load balancer "+b.c.LB)
	assert.Contains(t, f.Remedy, "--skip-join-check")
	free9443()

	// Discover refuses on it too
	be := discoverBlocked(t, o)
	require.Len(t, be.Blockers, 1)
	assert.Equal(t, upgrade.IDJoinPort, be.Blockers[0].ID)

	// the operator forwards 9443: nothing to find
	require.NoError(t, b.c.LoadBalancer.AddPort(9443))
	assert.Empty(t, joinFindings())
	free9443()

	// --skip-join-check skips it
	require.NoError(t, b.c.LoadBalancer.RemovePort(9443))
	o.Commands.JoinCheck = "-"
	assert.Empty(t, joinFindings())

	require.Equal(t, b.baseline, b.digests(t), "the check changed a node")
}
