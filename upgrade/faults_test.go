package upgrade_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/hostlock"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// faultKind is how a step is made to fail.
type faultKind string

const (
	kindFail   faultKind = "command fails"
	kindClose  faultKind = "ssh connection closed"
	kindHang   faultKind = "hangs until its step times out"
	kindCancel faultKind = "context cancelled"
)

// faultPoint is a mutating step and the command (word prefix) by which a
// fault reaches it, on the node that runs that command. Steps whose
// commands are not the fake node's (uploads, local files) get only the
// cancellation.
type faultPoint struct {
	step, host string // host: node name, "" for local steps
	match, on  string // fake node command prefix and the node it runs on
}

var faultPoints = []faultPoint{
	{"save-inputs", "", "", ""},
	{"mke3-backup", "manager-1", "docker run --rm -i --name ucp-backup", "manager-1"},
	{"k0s-upload", "worker-2", "", ""},
	{"swarm-drain", "manager-1", "docker node update", "manager-1"},
	{"mke3-stop", "manager-1", "docker stop", "manager-1"},
	{"k0s-binary", "manager-1", "", ""},
	{"k0s-controller", "manager-1", "k0s install", "manager-1"},
	{"mke3-stop", "manager-2", "docker stop", "manager-2"},
	{"k0s-controller", "manager-2", "k0s install", "manager-2"},
	{"k0s-controller", "manager-3", "k0s start", "manager-3"},
	{"mke3-stop", "worker-1", "docker stop", "worker-1"},
	{"k0s-binary", "worker-2", "", ""},
	{"k0s-worker", "worker-2", "k0s install", "worker-2"},
	{"rbac-apply", "", "k0s kubeconfig admin", "manager-1"},
}

// pastPoints are steps after the point of no return: a failure there is
// finished by Resume, not rolled back.
var pastPoints = []faultPoint{
	{"mke3-uninstall", "manager-1", "docker run --rm -i --name ucp-uninstall", "manager-1"},
	{"mke3-volumes", "manager-2", "docker volume rm", "manager-2"},
	{"write-outputs", "", "k0s kubeconfig admin", "manager-1"},
}

func (b *bed) key(name string) string {
	for i, h := range b.c.Hosts {
		if h.Name == name {
			hh := b.hosts[i]
			return hh.String()
		}
	}
	return ""
}

// inject sets the fault of kind at p for the next run; for a
// cancellation it returns the event hook that cancels.
func (b *bed) inject(t *testing.T, p faultPoint, kind faultKind, cancel context.CancelFunc) func(plan.Event) {
	t.Helper()
	switch kind {
	case kindCancel:
		key := b.key(p.host)
		return func(e plan.Event) {
			if e.Kind == plan.EventStepStart && e.Step == p.step && e.Host == key {
				cancel()
			}
		}
	case kindFail:
		require.NoError(t, b.c.SetFault(t.Context(), b.c.Host(p.on), testbed.Fault{Match: p.match, ExitCode: 1, Stderr: "injected failure", Times: 1}))
	case kindClose:
		require.NoError(t, b.c.SetFault(t.Context(), b.c.Host(p.on), testbed.Fault{Match: p.match, CloseConnection: true, Times: 1}))
	case kindHang:
		require.NoError(t, b.c.SetFault(t.Context(), b.c.Host(p.on), testbed.Fault{Match: p.match, HangSeconds: 120, Times: 1}))
	}
	return nil
}

// errHungStepTimedOut ends a step whose command hangs, as its timeout
// would.
var errHungStepTimedOut = errors.New("the step timed out (the test ended it once its command hung)")

// endWhenHung makes the hang deterministic: the step under fault is ended
// as by its timeout, but only once the fake node reports that the hang
// began, however slow the machine; ending its context closes the SSH
// session, which ends the hanging command. The other faults need no
// timeout: every step keeps the options' generous one, a safety net only.
func (b *bed) endWhenHung(t *testing.T, pl *plan.Plan, p faultPoint, kind faultKind) {
	t.Helper()
	if kind != kindHang {
		return
	}
	id := p.step
	if p.host != "" {
		id += "@" + b.key(p.host)
	}
	b.endStepWhen(t, pl, id, func(ctx context.Context) bool { return b.hangBegan(ctx, b.c.Host(p.on)) })
}

// endStepWhen ends step id of pl with errHungStepTimedOut, as its
// timeout would, once began reports that the hang under test began
// (polled while the step runs).
func (b *bed) endStepWhen(t *testing.T, pl *plan.Plan, id string, began func(context.Context) bool) {
	t.Helper()
	s, ok := pl.Find(id)
	require.True(t, ok, "no step %s in the plan", id)
	do := s.Do
	s.Do = func(ctx context.Context, r *plan.Run) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			for ctx.Err() == nil {
				if began(ctx) {
					cancel(errHungStepTimedOut)
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		return do(ctx, r)
	}
}

// hangBegan reports whether the first fault set on h (a testbed hang) has
// been used: its command hangs now.
func (b *bed) hangBegan(ctx context.Context, h *testbed.Host) bool {
	fs, err := b.c.Faults(ctx, h)
	return err == nil && len(fs) > 0 && fs[0].Used > 0
}

func (b *bed) clearFaults(t *testing.T) {
	for _, h := range b.c.Hosts {
		require.NoError(t, b.c.ClearFaults(context.Background(), h))
	}
}

// TestFaultMatrix fails every mutating step in every way and checks that
// each node is back in its exact MKE 3 state afterwards, or, past the
// point of no return, that Resume finishes the upgrade.
func TestFaultMatrix(t *testing.T) {
	b := startBed(t, 2)
	type outcome struct{ restored, resumed, failed int }
	var res outcome
	cases := 0
	for _, p := range faultPoints {
		for _, kind := range []faultKind{kindFail, kindClose, kindHang, kindCancel} {
			if p.match == "" && kind != kindCancel {
				continue
			}
			if p.step == "rbac-apply" && plane == nil {
				continue
			}
			cases++
			name := fmt.Sprintf("%s@%s/%s", p.step, p.host, kind)
			ok := t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				o := b.options(t, t.TempDir())
				o.Events = b.inject(t, p, kind, cancel)
				defer b.clearFaults(t)
				u, pl := discoverAndPlan(t, o)
				b.endWhenHung(t, pl, p, kind)
				_, err := u.Apply(ctx, pl)
				if kind == kindCancel {
					requireRolledBack(t, err, "")
				} else {
					requireRolledBack(t, err, p.step)
				}
				require.Equal(t, b.baseline, b.digests(t), "a node differs from its MKE 3 state after the rollback")
			})
			if ok {
				res.restored++
			} else {
				res.failed++
				b = startBed(t, 2) // the next cases start clean
			}
		}
	}
	for _, p := range pastPoints {
		for _, kind := range []faultKind{kindFail, kindClose, kindHang} {
			cases++
			ok := t.Run(fmt.Sprintf("%s@%s/%s", p.step, p.host, kind), func(t *testing.T) {
				pb := startBed(t, 2)
				dir := t.TempDir()
				o := pb.options(t, dir)
				o.SkipRBAC = true // its k0s kubeconfig admin would take the fault meant for write-outputs
				// a step past the point of no return tries 3 times before it
				// says what to do by hand: the fault hits every try
				for range 3 {
					pb.inject(t, p, kind, nil)
				}
				u, pl := discoverAndPlan(t, o)
				pb.endWhenHung(t, pl, p, kind)
				_, err := u.Apply(t.Context(), pl)
				require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
				pb.requireNoJoinTokens(t)
				pb.clearFaults(t)
				u2, plan2 := discoverAndPlanAfter(t, o)
				_, err = u2.Resume(t.Context(), plan2)
				require.NoError(t, err)
				pb.requireUpgraded(t)
			})
			if ok {
				res.resumed++
			} else {
				res.failed++
			}
		}
	}
	t.Logf("fault matrix: %d cases: %d rolled back to the exact MKE 3 state, %d finished by resume, %d failed",
		cases, res.restored, res.resumed, res.failed)
}

func (b *bed) requireUpgraded(t *testing.T) {
	t.Helper()
	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "k0s status")
		require.NoError(t, err, h.Name)
		require.Contains(t, out, "Version:", h.Name)
	}
}

// The tool killed (SIGKILL) in the middle of the upgrade: before the point
// of no return it is rolled back from the journal, or resumed to the end.

const helperEnv = "MKE_MIGRATE_UPGRADE_HELPER"

// helperConfig is what the killed child process needs.
type helperConfig struct {
	Hosts      []hosts.Host
	KnownHosts string
	K0s        string // path of the k0s binary
	APIURL     string
	APICA      []byte
	Dir        string
}

// helperMain runs an upgrade in a child process, to be killed.
func helperMain() int {
	var hc helperConfig
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &hc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	k0s, err := os.ReadFile(hc.K0s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b := &bed{hosts: hc.Hosts, knownHosts: hc.KnownHosts, k0s: k0s}
	mc, err := mke3.New(mke3.Options{Host: hc.APIURL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: hc.APICA})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o := b.helperOptions(hc)
	o.MKE3 = mc
	u, err := upgrade.New(o)
	if err == nil {
		_, err = u.Discover(context.Background())
	}
	var p *plan.Plan
	if err == nil {
		p, err = u.Plan()
	}
	if err == nil {
		_, err = u.Apply(context.Background(), p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func (b *bed) helperOptions(hc helperConfig) upgrade.Options {
	return upgrade.Options{
		Hosts: b.hosts, Connect: hosts.ConnectOptions{KnownHostsPath: b.knownHosts},
		ExternalAddress: "mke.example.com", K0sBinary: b.k0s, OutputDir: hc.Dir,
		KubeconfigPath: filepath.Join(hc.Dir, "home", ".mke", "mke.kubeconf"), StepTimeout: 2 * time.Minute,
		// as bed.options: the fast bed has no join API, no real ucp-kv
		Commands: upgrade.Commands{Ready: 10 * time.Second, JoinCheck: "-"}, SkipRBAC: true,
		Carry: upgrade.CarryOptions{Skip: true}, SkipConfigStore: true, SkipVerify: true,
	}
}

// startChild runs the upgrade of run dir in a child process (this test
// binary, see helperEnv), logging its stderr; done is closed once it
// exited.
func (b *bed) startChild(t *testing.T, dir string) (cmd *exec.Cmd, done <-chan struct{}) {
	t.Helper()
	k0s := filepath.Join(t.TempDir(), "k0s")
	require.NoError(t, os.WriteFile(k0s, b.k0s, 0o755))
	cfg, err := json.Marshal(helperConfig{Hosts: b.hosts, KnownHosts: b.knownHosts, K0s: k0s, Dir: dir,
		APIURL: b.c.API.URL, APICA: b.c.API.CAPEM})
	require.NoError(t, err)
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			t.Log("child: " + s.Text())
		}
		_ = cmd.Wait() // after the reads, as os/exec asks
		close(exited)
	}()
	return cmd, exited
}

// killChildWhen polls cond every interval while the child runs and kills
// it with SIGKILL once cond holds, or once a generous safety net ran out;
// it reports whether cond held before the child ended by itself.
func killChildWhen(cmd *exec.Cmd, done <-chan struct{}, every time.Duration, cond func() bool) bool {
	deadline := time.After(5 * time.Minute) // a safety net
	held := false
poll:
	for !held {
		held = cond()
		select {
		case <-done: // the child ended by itself
			break poll
		case <-deadline:
			break poll
		case <-time.After(every):
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return held
}

// killAt runs the upgrade in a child process and kills it with SIGKILL as
// soon as the journal shows that step started on host.
func (b *bed) killAt(t *testing.T, dir, step, hostKey string) {
	t.Helper()
	cmd, done := b.startChild(t, dir)
	killChildWhen(cmd, done, 5*time.Millisecond, func() bool {
		rs, _ := journal.Read(dir)
		return journal.Replay(rs).Status(step, hostKey) != ""
	})
	rs, err := journal.Read(dir)
	require.NoError(t, err)
	require.NotEqual(t, journal.Event(""), journal.Replay(rs).Status(step, hostKey), "the child ended before %s@%s", step, hostKey)
}

func TestKilledThenRolledBackOrResumed(t *testing.T) {
	for _, tc := range []struct {
		step, host string
		resume     bool
	}{
		{"k0s-controller", "manager-2", false},
		{"k0s-worker", "worker-1", false},
		{"mke3-stop", "manager-3", true},
		{"mke3-uninstall", "manager-1", true},
	} {
		t.Run(fmt.Sprintf("%s@%s/resume=%v", tc.step, tc.host, tc.resume), func(t *testing.T) {
			b := startBed(t, 2)
			dir := t.TempDir()
			b.killAt(t, dir, tc.step, b.key(tc.host))
			o := b.options(t, dir)
			o.SkipRBAC = true
			u, p := discoverAndPlanAfter(t, o)
			if tc.resume {
				_, err := u.Resume(t.Context(), p)
				require.NoError(t, err)
				b.requireUpgraded(t)
				// the killed process's tokens too, from the journal (F6)
				b.requireNoJoinTokens(t)
				return
			}
			_, err := u.Rollback(t.Context(), p)
			require.NoError(t, err)
			require.Equal(t, b.baseline, b.digests(t))
		})
	}
}

func TestSecondRunIsRefused(t *testing.T) {
	dir := t.TempDir()
	release, err := journal.LockDir(dir, "other-run")
	require.NoError(t, err)
	defer func() { _ = release() }()
	u, err := upgrade.New(upgrade.Options{Hosts: []hosts.Host{{Address: "192.0.2.1"}}, OutputDir: dir, K0sBinary: []byte("x"), MKE3ConfigTOML: []byte("x")})
	require.NoError(t, err)
	_, err = u.Apply(t.Context(), &plan.Plan{})
	var le *journal.LockedError
	require.True(t, errors.As(err, &le), "err = %v", err)
	require.True(t, strings.Contains(err.Error(), "other-run"), "err = %v", err)
}

// A run from elsewhere holds one host: the upgrade refuses before
// changing anything, and names the holder.
func TestHostLockedElsewhere(t *testing.T) {
	b := startBed(t, 1)
	other, err := hosts.Connect(t.Context(), b.hosts[1], hosts.ConnectOptions{KnownHostsPath: b.knownHosts})
	require.NoError(t, err)
	defer other.Close()
	l, err := hostlock.Acquire(t.Context(), sudoExec{other}, b.hosts[1].String(), "someone-else", hostlock.Options{})
	require.NoError(t, err)
	defer func() { _ = l.Release(context.Background()) }()

	u, p := discoverAndPlan(t, b.options(t, t.TempDir()))
	_, err = u.Apply(t.Context(), p)
	var le *hostlock.LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "someone-else", le.Run)
	require.Equal(t, b.baseline, b.digests(t))
}

type sudoExec struct{ c *hosts.Client }

func (s sudoExec) Exec(ctx context.Context, cmd string, sudo bool) (string, error) {
	return s.c.Exec(ctx, shell.Sudo(cmd), hosts.WithSudo())
}

// The tool killed (SIGKILL) while mke3-stop's one remote command is
// between its halves: the list of what it stops is on the node, the stop
// runs (hangs here), and the journal holds no answer. The rollback
// starts MKE 3 from the node's list and leaves nothing of the run's on
// the node; a resume lists from the node too and finishes.
func TestKilledMidStopThenRolledBackOrResumed(t *testing.T) {
	for _, resume := range []bool{false, true} {
		t.Run(fmt.Sprintf("resume=%v", resume), func(t *testing.T) {
			b := startBed(t, 2)
			dir := t.TempDir()
			w := b.c.Host("worker-1")
			require.NoError(t, b.c.SetFault(t.Context(), w, testbed.Fault{Match: "docker stop", HangSeconds: 120, Times: 1}))
			cmd, done := b.startChild(t, dir)
			require.True(t, killChildWhen(cmd, done, 20*time.Millisecond, func() bool { return b.hangBegan(t.Context(), w) }),
				"the child ended before mke3-stop on worker-1 hung")
			b.clearFaults(t)
			// the list reached the node before the stop
			out, err := b.c.Exec(t.Context(), w, "cat /var/lib/mke-migrate/mke3-stopped")
			require.NoError(t, err)
			require.Contains(t, out, "ucp-kubelet")
			rs, err := journal.Read(dir)
			require.NoError(t, err)
			require.Equal(t, journal.StepStart, journal.Replay(rs).Status("mke3-stop", b.key("worker-1")))
			o := b.options(t, dir)
			o.SkipRBAC = true
			u, p := discoverAndPlanAfter(t, o)
			if resume {
				_, err := u.Resume(t.Context(), p)
				require.NoError(t, err)
				b.requireUpgraded(t)
				b.requireNoJoinTokens(t)
				return
			}
			_, err = u.Rollback(t.Context(), p)
			require.NoError(t, err)
			require.Equal(t, b.baseline, b.digests(t))
		})
	}
}
