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
	// run upgrades a new bed whose uninstall's connection drops the
	// given times, tried at most tries times (0: the default)
	run := func(drops, tries int) (*bed, error) {
		b := startBed(t, 1)
		m := b.c.Host("manager-1")
		require.NoError(t, b.c.SetFault(t.Context(), m, testbed.Fault{Match: "docker run --rm -i --name ucp-uninstall", CloseConnection: true, Times: drops}))
		t.Cleanup(func() { b.clearFaults(t) })
		o := b.options(t, t.TempDir())
		o.SkipRBAC = true
		o.Retry.Pause = 10 * time.Millisecond // the count of tries matters here, not the pause
		o.Retry.Tries = tries
		u, p := discoverAndPlan(t, o)
		_, err := u.Apply(t.Context(), p)
		return b, err
	}
	b, err := run(2, 0)
	require.NoError(t, err, "the upgrade stopped at a transient failure past the point of no return")
	fs, err := b.c.Faults(t.Context(), b.c.Host("manager-1"))
	require.NoError(t, err)
	require.Len(t, fs, 1)
	require.Equal(t, 2, fs[0].Used, "the uninstall did not meet both drops")
	b.requireUpgraded(t)

	// with retries off (Tries 1), the same drop stops the run
	_, err = run(1, 1)
	require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
}
