package upgrade_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
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
	k0s := filepath.Join(t.TempDir(), "k0s")
	require.NoError(t, os.WriteFile(k0s, b.k0s, 0o755))
	cfg, err := json.Marshal(helperConfig{Hosts: b.hosts, KnownHosts: b.knownHosts, K0s: k0s, Dir: dir,
		APIURL: b.c.API.URL, APICA: b.c.API.CAPEM})
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(3 * time.Minute) // a safety net
	hung := false
	for !hung && time.Now().Before(deadline) {
		fs, err := b.c.Faults(t.Context(), w)
		hung = err == nil && len(fs) > 0 && fs[0].Used > 0
		select {
		case <-done:
			deadline = time.Now() // the child ended by itself
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	require.True(t, hung, "the child ended before the worker's install")
	b.clearFaults(t)

	o := b.options(t, dir)
	o.SkipRBAC = true
	u, p := discoverAndPlanAfter(t, o)
	_, err = u.Resume(t.Context(), p)
	require.NoError(t, err)
	b.requireUpgraded(t)
	b.requireNoJoinTokens(t)
}
