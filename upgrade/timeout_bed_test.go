package upgrade_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// The overall timeout (mkectl's --upgrade-timeout-minutes) rolls the run
// back. No wall clock is asserted: a step after the first controller
// blocks until the run's context ends, which only the timeout does.
func TestUpgradeTimeoutRollsBack(t *testing.T) {
	b := startBed(t, 1)
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	o.Timeout = 3 * time.Second
	o.RollbackTimeout = 5 * time.Minute // a safety net, as StepTimeout
	u, p := discoverAndPlan(t, o)
	first := p.Steps()[0]
	for _, s := range p.Steps() {
		if s.Name == "k0s-controller" {
			first = s
			break
		}
	}
	require.NoError(t, p.InsertAfter(first.ID(), &plan.Step{Name: "wait-for-the-end", Host: first.Host,
		Do: func(ctx context.Context, _ *plan.Run) error { <-ctx.Done(); return ctx.Err() }}))
	// the node state and what the run writes, but not /etc/k0s itself: the
	// hosts see the machine's /etc through their overlay, and the
	// rollback's reset removes an empty /etc/k0s it finds
	digests := func() map[string]string {
		out := map[string]string{}
		for _, h := range b.c.Hosts {
			d, err := b.c.DigestPaths(t.Context(), h, "/etc/k0s/k0s.yaml", testbed.K0sBinaryPath, "/var/lib/mke-migrate")
			require.NoError(t, err)
			out[h.Name] = d
		}
		return out
	}
	before := digests()
	_, err := u.Apply(t.Context(), p)
	var rb *upgrade.RollbackError
	require.ErrorAs(t, err, &rb)
	require.NoError(t, rb.Rollback)
	require.Contains(t, rb.Cause.Error(), "took longer than 3s")
	require.False(t, errors.Is(err, upgrade.ErrPastPointOfNoReturn))
	require.Equal(t, before, digests(), "a node differs from its MKE 3 state after the rollback")
}
