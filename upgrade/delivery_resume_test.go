package upgrade_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// A peer run killed (SIGKILL) in the k0s-upload stage, once the first
// node has the binary staged and the copies from it began, then resumed:
// the resume sends no binary from this machine again. The node that has
// it staged (its k0s-upload done, so not run again) serves the others,
// and a node whose staged copy is there already gets nothing. The copies
// hang (curl on every node) so that the kill comes while they run.
func TestResumedPeerDeliverySendsNoBinaryAgain(t *testing.T) {
	b := startBed(t, 2)
	dir := t.TempDir()
	for _, h := range b.c.Hosts {
		b.toolFault(t, h.Name, "curl", kindHang)
	}
	staged := func() []string {
		rs, err := journal.Read(dir)
		if err != nil {
			return nil
		}
		st := journal.Replay(rs)
		var done []string
		for _, h := range b.hosts {
			if st.Done("k0s-upload", h.String()) {
				done = append(done, h.String())
			}
		}
		return done
	}
	hung := func(ctx context.Context) bool {
		for _, h := range b.c.Hosts {
			if _, err := b.c.Exec(ctx, h, "test -e /tmp/fault-hung"); err == nil {
				return true
			}
		}
		return false
	}
	cmd, done := b.startChild(t, dir)
	require.True(t, killChildWhen(cmd, done, 100*time.Millisecond, func() bool { return len(staged()) > 0 && hung(t.Context()) }),
		"the child ended before a copy from a peer")
	seeds := staged()
	t.Logf("killed with k0s-upload done on %v", seeds)
	for _, h := range b.c.Hosts {
		_, err := b.c.Exec(t.Context(), h, "rm -f /usr/local/sbin/curl /tmp/fault-used-curl /tmp/fault-hung")
		require.NoError(t, err)
	}

	o := b.options(t, dir)
	o.SkipRBAC = true
	o.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u, p := discoverAndPlanAfter(t, o)
	res, err := u.Resume(t.Context(), p)
	require.NoError(t, err)
	b.requireUpgraded(t)
	var total int64
	for _, n := range res.BytesSent {
		total += n
	}
	t.Logf("the resume sent %d bytes from this machine (%v); the binary is %d", total, res.BytesSent, len(b.k0s))
	require.Less(t, total, int64(len(b.k0s))/2, "the resume sent the k0s binary again")
	rs, err := journal.Read(dir)
	require.NoError(t, err)
	st := journal.Replay(rs)
	fromSeed := 0
	for _, h := range b.hosts {
		require.True(t, st.Done("k0s-upload", h.String()), h.String())
		if src := st.Data("k0s-upload", h.String())["copied-from"]; slices.Contains(seeds, src) {
			fromSeed++
		}
	}
	require.Positive(t, fromSeed, "no node copied from one the killed run had delivered to")
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }
