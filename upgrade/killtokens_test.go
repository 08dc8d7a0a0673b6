package upgrade_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed"
)

// The tool killed while a worker joins, after it made the worker join
// token and before the step ended: the step's data (where the token's ID
// is kept) is journaled only when a step ends, so the resume must learn
// of that token elsewhere and invalidate it when the run ends. Found by
// the realistic bed's fault matrix (upgrade/e2e, the kill at k0s-worker
// then resumed): a bootstrap-token Secret was left valid in k0s.
func TestKilledMidJoinThenResumedInvalidatesItsToken(t *testing.T) {
	b := startBed(t, 1)
	dir := t.TempDir()
	w := b.c.Host("worker-1")
	// the join's install hangs: the child is killed while it runs, with
	// the worker token made
	require.NoError(t, b.c.SetFault(t.Context(), w, testbed.Fault{Match: "k0s install", HangSeconds: 600, Times: 1}))
	cmd, done := b.startChild(t, dir)
	hung := killChildWhen(cmd, done, 50*time.Millisecond, func() bool { return b.hangBegan(t.Context(), w) })
	require.True(t, hung, "the child ended before the worker's install")
	b.clearFaults(t)

	o := b.options(t, dir)
	o.SkipRBAC = true
	u, p := discoverAndPlanAfter(t, o)
	_, err := u.Resume(t.Context(), p)
	require.NoError(t, err)
	b.requireUpgraded(t)
	b.requireNoJoinTokens(t)
}
