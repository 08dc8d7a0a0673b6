package upgrade_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// Past the point of no return, a step whose SSH connection drops is
// tried again on a new connection (bounded, with backoff) instead of
// stopping the run for resume: MKE 3's uninstall loses its connection
// twice and the upgrade still finishes in one run. A third drop in a row
// would stop it (the fault matrix's past-point cases).
func TestPastPointOfNoReturnRetriesTransientFailures(t *testing.T) {
	b := startBed(t, 1)
	m := b.c.Host("manager-1")
	require.NoError(t, b.c.SetFault(t.Context(), m, testbed.Fault{Match: "docker run --rm -i --name ucp-uninstall", CloseConnection: true, Times: 2}))
	defer b.clearFaults(t)
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	o.Retry.Pause = 10 * time.Millisecond // the count of tries matters here, not the pause
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	require.NoError(t, err, "the upgrade stopped at a transient failure past the point of no return")
	fs, err := b.c.Faults(t.Context(), m)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	require.Equal(t, 2, fs[0].Used, "the uninstall did not meet both drops")
	b.requireUpgraded(t)

	// with retries off (Tries 1), the same drop stops the run
	b2 := startBed(t, 1)
	m2 := b2.c.Host("manager-1")
	require.NoError(t, b2.c.SetFault(t.Context(), m2, testbed.Fault{Match: "docker run --rm -i --name ucp-uninstall", CloseConnection: true, Times: 1}))
	defer b2.clearFaults(t)
	o2 := b2.options(t, t.TempDir())
	o2.SkipRBAC = true
	o2.Retry.Tries = 1
	u2, p2 := discoverAndPlan(t, o2)
	_, err = u2.Apply(t.Context(), p2)
	require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
}
