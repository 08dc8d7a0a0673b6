package upgrade_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/hostlock"
)

// holdLock takes the host lock of h for another run until the test ends.
func (b *bed) holdLock(t *testing.T, h hosts.Host, run string) {
	t.Helper()
	c, err := hosts.Connect(t.Context(), h, hosts.ConnectOptions{KnownHostsPath: b.knownHosts})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	l, err := hostlock.Acquire(t.Context(), sudoExec{c}, h.String(), run, hostlock.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Release(context.Background()) })
}

// lockedHosts are the testbed hosts that have a host lock file.
func (b *bed) lockedHosts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, h := range b.c.Hosts {
		o, err := b.c.Exec(t.Context(), h, "test -e "+hostlock.DefaultPath+" && echo locked || true")
		require.NoError(t, err)
		if o == "locked\n" || o == "locked" {
			out = append(out, h.Address)
		}
	}
	return out
}

// sortedLast is the host that every run locks last.
func sortedLast(hs []hosts.Host) hosts.Host {
	return slices.MaxFunc(hs, func(a, b hosts.Host) int {
		switch {
		case a.String() < b.String():
			return -1
		case a.String() > b.String():
			return 1
		}
		return 0
	})
}

func hostByKey(c *testbed.Cluster, hs []hosts.Host, key string) *testbed.Host {
	for i, h := range hs {
		if h.String() == key {
			return c.Hosts[i]
		}
	}
	return nil
}

// F4: a run that cannot take every host lock releases the ones it took,
// and leaves no output folder of its own behind. Before the fix, the
// locks taken stayed on every other host until they went stale.
func TestFailedLockingReleasesTheOthers(t *testing.T) {
	b := startBed(t, 1)
	last := sortedLast(b.hosts)
	b.holdLock(t, last, "someone-else")
	dir := t.TempDir() + "/out"
	u, p := discoverAndPlan(t, b.options(t, dir))
	_, err := u.Apply(t.Context(), p)
	var le *hostlock.LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, last.String(), le.Host)
	require.Equal(t, []string{hostByKey(b.c, b.hosts, last.String()).Address}, b.lockedHosts(t),
		"only the other run's lock may remain")
	_, serr := os.Stat(dir)
	require.True(t, errors.Is(serr, os.ErrNotExist), "the refused run left its output folder: %v", serr)
	require.Equal(t, b.baseline, b.digests(t))
}

// F5: two runs started together on the same cluster: one wins, the other
// fails at once with a *hostlock.LockedError and leaves no output folder.
// Before the fix both took some of the locks and both failed.
func TestConcurrentRunsOneWins(t *testing.T) {
	b := startBed(t, 1)
	for round := range 3 {
		var ups [2]*upgrade.Upgrade
		var plans [2]*plan.Plan
		var dirs [2]string
		var done [2]chan struct{}
		var stepRan atomic.Int32
		for i := range ups {
			dirs[i] = t.TempDir() + "/out"
			done[i] = make(chan struct{})
			ups[i], _ = discoverAndPlan(t, b.options(t, dirs[i]))
			other := 1 - i
			// the winner holds its locks until the loser has returned
			plans[i] = &plan.Plan{Stages: []*plan.Stage{{Name: "wait", Phase: upgrade.PhaseBackup, Lanes: [][]*plan.Step{{{
				Name: "wait-for-the-other-run", Phase: upgrade.PhaseBackup,
				Do: func(ctx context.Context, _ *plan.Run) error {
					stepRan.Add(1)
					select {
					case <-done[other]:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}}}}}}}
		}
		var errs [2]error
		start := make(chan struct{})
		finished := make(chan int)
		for i := range ups {
			go func() {
				<-start
				_, errs[i] = ups[i].Apply(t.Context(), plans[i])
				close(done[i])
				finished <- i
			}()
		}
		close(start)
		<-finished
		<-finished
		var wins, losses int
		for i, err := range errs {
			var le *hostlock.LockedError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &le):
				losses++
				_, serr := os.Stat(dirs[i])
				require.True(t, errors.Is(serr, os.ErrNotExist), "round %d: the losing run left its output folder", round)
			default:
				t.Fatalf("round %d: run %d: %v", round, i, err)
			}
		}
		require.Equal(t, 1, wins, "round %d: errors %v", round, errs)
		require.Equal(t, 1, losses, "round %d", round)
		require.EqualValues(t, 1, stepRan.Load(), "round %d: the loser ran a step", round)
		require.Empty(t, b.lockedHosts(t), "round %d: a lock outlived both runs", round)
	}
}

// F7: rollback refuses while another live run holds a host lock, instead
// of undoing steps under it. Before the fix it went on "without every
// host lock" and undid them.
func TestRollbackRefusesUnderAnotherRun(t *testing.T) {
	b := startBed(t, 1)
	dir := t.TempDir()
	u, _ := discoverAndPlan(t, b.options(t, dir))
	var undone atomic.Int32
	p := &plan.Plan{Stages: []*plan.Stage{
		{Name: "a", Phase: upgrade.PhaseBackup, Lanes: [][]*plan.Step{{{Name: "a", Phase: upgrade.PhaseBackup,
			Do:   func(context.Context, *plan.Run) error { return nil },
			Undo: func(context.Context, *plan.Run) error { undone.Add(1); return nil }}}}},
		{Name: "b", Phase: upgrade.PhaseCleanup, Lanes: [][]*plan.Step{{{Name: "b", Phase: upgrade.PhaseCleanup, PointOfNoReturn: true,
			Do: func(context.Context, *plan.Run) error { return errors.New("injected") }}}}},
	}}
	_, err := u.Apply(t.Context(), p)
	require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
	require.Empty(t, b.lockedHosts(t))

	b.holdLock(t, b.hosts[len(b.hosts)/2], "someone-else")
	_, err = u.Rollback(t.Context(), p)
	var le *hostlock.LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "someone-else", le.Run)
	require.Zero(t, undone.Load(), "a step was undone under another run's lock")
	require.Len(t, b.lockedHosts(t), 1, "the refused rollback kept locks")
}
