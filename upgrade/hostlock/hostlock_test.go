//go:build unix

package hostlock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shExec runs the lock commands with the local sh: real shell semantics
// without SSH. fail makes every command fail, as an unreachable host.
type shExec struct {
	fail  atomic.Bool
	calls atomic.Int64
}

func (e *shExec) Exec(ctx context.Context, cmd string, sudo bool) (string, error) {
	e.calls.Add(1)
	if e.fail.Load() {
		return "", errors.New("connection lost")
	}
	var out, stderr bytes.Buffer
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out.String(), nil
}

func lockOpts(t *testing.T) Options {
	return Options{Path: filepath.Join(t.TempDir(), "state", "lock"), Heartbeat: 50 * time.Second} // quiet unless a test sets it
}

func content(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// age sets the lock's mtime d in the past.
func age(t *testing.T, p string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func mustAcquire(t *testing.T, e Execer, run string, o Options) *Lock {
	t.Helper()
	l, err := Acquire(context.Background(), e, "h1", run, o)
	if err != nil {
		t.Fatalf("acquire for %s: %v", run, err)
	}
	t.Cleanup(func() { l.Release(context.Background()) })
	return l
}

func TestHostLockAcquireRefuseRelease(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	l := mustAcquire(t, e, "run-a", o)
	if got := content(t, o.Path); got != "run=run-a\n" {
		t.Fatalf("lock content %q", got)
	}
	if fi, _ := os.Stat(o.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("lock mode %v", fi.Mode())
	}

	_, err := Acquire(context.Background(), e, "h1", "run-b", o)
	var he *LockedError
	if !errors.As(err, &he) {
		t.Fatalf("second run: %v, want *LockedError", err)
	}
	if he.Run != "run-a" || he.Host != "h1" || he.Path != o.Path || he.Age > 5*time.Second || he.TTL != time.Minute {
		t.Errorf("error %+v", he)
	}
	for _, want := range []string{"run-a", o.Path, "h1", "wait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}

	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o.Path); !os.IsNotExist(err) {
		t.Errorf("lock still there after release: %v", err)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Errorf("second release: %v", err)
	}
	mustAcquire(t, e, "run-b", o)
}

func TestHostLockOwnRunReacquires(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	mustAcquire(t, e, "run-a", o)
	age(t, o.Path, 30*time.Second)
	// The process died and a resumed one comes back for its lock.
	before := time.Now().Add(-time.Second) // the file system's mtime granularity
	mustAcquire(t, e, "run-a", o)
	fi, _ := os.Stat(o.Path)
	if fi.ModTime().Before(before) {
		t.Error("re-acquiring did not refresh the lock")
	}
}

func TestHostLockStaleTakeover(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(o.Path, []byte("run=dead-run\n"), 0o600)
	age(t, o.Path, 50*time.Second) // clear of the 1s granularity of the host clock
	if _, err := Acquire(context.Background(), e, "h1", "run-b", o); !errors.As(err, new(*LockedError)) {
		t.Fatalf("lock younger than TTL taken: %v", err)
	}
	age(t, o.Path, 61*time.Second)
	mustAcquire(t, e, "run-b", o)
	if got := content(t, o.Path); got != "run=run-b\n" {
		t.Errorf("content %q", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "dead-run") {
		t.Errorf("takeover not logged at warn: %q", logs.String())
	}
	if left, _ := filepath.Glob(o.Path + ".*"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestHostLockTakeoverMarkerOfDeadTaker(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	os.MkdirAll(filepath.Dir(o.Path), 0o700)
	os.WriteFile(o.Path, []byte("run=dead-run\n"), 0o600)
	age(t, o.Path, 2*time.Minute)
	fi, _ := os.Stat(o.Path)
	marker := fmt.Sprintf("%s.takeover.%d", o.Path, fi.ModTime().Unix())
	os.Mkdir(marker, 0o700)
	// A taker that is still working: others wait.
	if _, err := Acquire(context.Background(), e, "h1", "run-b", o); !errors.As(err, new(*LockedError)) {
		t.Fatalf("takeover with a fresh marker: %v", err)
	}
	// A taker that died: its marker is stale too.
	age(t, marker, 2*time.Minute)
	mustAcquire(t, e, "run-b", o)
	if left, _ := filepath.Glob(o.Path + ".*"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestHostLockTakeoverRace races runs over one stale lock many times:
// exactly one must win each time.
func TestHostLockTakeoverRace(t *testing.T) {
	iterations, racers := 40, 4
	if testing.Short() {
		iterations = 5
	}
	e := &shExec{}
	for i := range iterations {
		o := lockOpts(t)
		os.MkdirAll(filepath.Dir(o.Path), 0o700)
		os.WriteFile(o.Path, []byte("run=dead-run\n"), 0o600)
		age(t, o.Path, 2*time.Minute)
		var wins atomic.Int64
		var mu sync.Mutex
		var held []*Lock
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r := range racers {
			wg.Go(func() {
				run := fmt.Sprint("run-", r)
				<-start
				l, err := Acquire(context.Background(), e, "h1", run, o)
				if err == nil {
					// Held until all are done: a release would let a
					// slower racer acquire a free lock.
					wins.Add(1)
					mu.Lock()
					held = append(held, l)
					mu.Unlock()
					return
				}
				if !errors.As(err, new(*LockedError)) {
					t.Errorf("iteration %d %s: %v", i, run, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("iteration %d: %d winners", i, n)
		}
		for _, l := range held {
			if err := l.Release(context.Background()); err != nil {
				t.Errorf("iteration %d: release: %v", i, err)
			}
		}
	}
}

func TestHostLockReleaseOnlyOwn(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	l := mustAcquire(t, e, "run-a", o)
	// Another run took the lock (e.g. after it went stale).
	os.WriteFile(o.Path, []byte("run=run-b\n"), 0o600)
	err := l.Release(context.Background())
	if !errors.Is(err, ErrLost) {
		t.Fatalf("release of a lost lock: %v", err)
	}
	if got := content(t, o.Path); got != "run=run-b\n" {
		t.Errorf("release touched another run's lock: %q", got)
	}
}

func TestHostLockHeartbeat(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	o.TTL, o.Heartbeat = 3*time.Second, 50*time.Millisecond
	l := mustAcquire(t, e, "run-a", o)
	age(t, o.Path, 2*time.Minute)
	deadline := time.Now().Add(safetyNet) // the heartbeat is awaited, not timed
	for {
		fi, err := os.Stat(o.Path)
		if err == nil && time.Since(fi.ModTime()) < time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("heartbeat did not refresh the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-l.Lost():
		t.Fatal("lost while refreshed")
	default:
	}
	// Release stops the heartbeat: no command runs afterwards.
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := e.calls.Load()
	time.Sleep(200 * time.Millisecond)
	if e.calls.Load() != n {
		t.Error("heartbeat still running after Release")
	}
	if _, err := os.Stat(o.Path); !os.IsNotExist(err) {
		t.Error("heartbeat recreated the lock after release")
	}
}

func TestHostLockHeartbeatOutlivesAcquireContext(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	o.TTL, o.Heartbeat = 3*time.Second, 50*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Acquire(ctx, e, "h1", "run-a", o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	cancel()
	// the next heartbeat is awaited: a slow machine only makes it later
	n := e.calls.Load()
	deadline := time.Now().Add(safetyNet)
	for e.calls.Load() == n {
		if time.Now().After(deadline) {
			t.Fatal("heartbeat stopped with the acquisition's context")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// safetyNet bounds the waits of these tests; none expects anything to
// happen within a time shorter than this, so a slow machine cannot fail
// them.
const safetyNet = 2 * time.Minute

// TestHostLockLostToTakeover: the holder's host is unreachable long
// enough for its lock to go stale, another run takes it, and the holder's
// next heartbeat reports the loss.
func TestHostLockLostToTakeover(t *testing.T) {
	holderExec, otherExec := &shExec{}, &shExec{}
	o := lockOpts(t)
	o.TTL, o.Heartbeat = 2*time.Second, 50*time.Millisecond
	l := mustAcquire(t, holderExec, "run-a", o)
	holderExec.fail.Store(true)
	age(t, o.Path, time.Minute)
	mustAcquire(t, otherExec, "run-b", o)
	holderExec.fail.Store(false)
	select {
	case <-l.Lost():
	case <-time.After(safetyNet):
		t.Fatal("Lost not closed after another run took the lock")
	}
	if got := content(t, o.Path); got != "run=run-b\n" {
		t.Errorf("holder's heartbeat changed the new lock: %q", got)
	}
	if err := l.Release(context.Background()); !errors.Is(err, ErrLost) {
		t.Errorf("release: %v", err)
	}
}

func TestHostLockLostWhenUnreachable(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	o.TTL, o.Heartbeat = time.Second, 50*time.Millisecond
	l := mustAcquire(t, e, "run-a", o)
	e.fail.Store(true)
	select {
	case <-l.Lost():
	case <-time.After(safetyNet):
		t.Fatal("Lost not closed after failing heartbeats for the TTL")
	}
}

func TestOptions(t *testing.T) {
	e := &shExec{}
	tests := []struct {
		name string
		o    Options
		run  string
	}{
		{name: "relative path", o: Options{Path: "lock"}, run: "r"},
		{name: "unclean path", o: Options{Path: "/var/../lock"}, run: "r"},
		{name: "newline in path", o: Options{Path: "/var/lock\n"}, run: "r"},
		{name: "ttl under a second", o: Options{Path: "/x", TTL: time.Millisecond}, run: "r"},
		{name: "heartbeat not under ttl", o: Options{Path: "/x", TTL: time.Second, Heartbeat: time.Second}, run: "r"},
		{name: "bad run", o: Options{Path: "/x"}, run: "r'; rm -rf /; '"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Acquire(context.Background(), e, "h1", tt.run, tt.o); err == nil {
				t.Fatal("accepted")
			}
			if e.calls.Load() != 0 {
				t.Error("ran a command with bad options")
			}
		})
	}
}

func TestHostLockPathWithQuote(t *testing.T) {
	e := &shExec{}
	o := lockOpts(t)
	o.Path = filepath.Join(filepath.Dir(o.Path), "it's a lock")
	l := mustAcquire(t, e, "run-a", o)
	if got := content(t, o.Path); got != "run=run-a\n" {
		t.Errorf("content %q", got)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestHostLockExecError(t *testing.T) {
	e := &shExec{}
	e.fail.Store(true)
	_, err := Acquire(context.Background(), e, "h1", "run-a", lockOpts(t))
	if err == nil || !strings.Contains(err.Error(), "connection lost") || !strings.Contains(err.Error(), "h1") {
		t.Errorf("err %v", err)
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		out     string
		want    status
		wantErr bool
	}{
		{out: "mke-migrate-lock acquired\n", want: status{word: "acquired"}},
		{out: "Welcome to host\nmke-migrate-lock held 12 run=r-1\n", want: status{word: "held", age: 12 * time.Second, holder: "r-1"}},
		{out: "mke-migrate-lock takeover 61 -", want: status{word: "takeover", age: 61 * time.Second}},
		{out: "mke-migrate-lock held -3 run=r", want: status{word: "held", holder: "r"}},
		{out: "mke-migrate-lock lost - garbage_", want: status{word: "lost"}},
		{out: "mke-migrate-lock notours - run=", want: status{word: "notours"}},
		{out: "", wantErr: true},
		{out: "sudo: password required", wantErr: true},
		{out: "mke-migrate-lock held 12", wantErr: true},
		{out: "mke-migrate-lock held x run=r", wantErr: true},
		{out: "mke-migrate-lock acquired extra", wantErr: true},
		{out: "mke-migrate-lock exploded", wantErr: true},
		{out: "mke-migrate-lock ", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStatus(tt.out)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseStatus(%q) = %+v, %v; want %+v, error %v", tt.out, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestScriptsArePOSIX runs the commands under dash when it is installed,
// the strictest common /bin/sh.
func TestScriptsArePOSIX(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Skip("dash not installed")
	}
	for _, s := range []string{acquireScript("/x/lock", "r", 60), heartbeatScript("/x/lock", "r"), releaseScript("/x/lock", "r")} {
		if out, err := exec.Command(dash, "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("dash -n: %v %s\n%s", err, out, s)
		}
	}
}
