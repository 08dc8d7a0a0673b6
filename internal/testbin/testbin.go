// Package testbin finds, and on first use builds, the real Kubernetes and
// etcd binaries that the tests (through internal/kubetest) and the demo
// run: etcd, kube-apiserver and kube-controller-manager (a control plane),
// and etcdctl, etcdutl and kubectl. hack/testbin/build.sh builds them from
// the Go module proxy into a folder keyed by version under a cache root;
// Ensure runs it when something is missing, one build at a time per cache
// root, and shows its progress.
//
// The folder is $MKE_MIGRATE_KUBE_ASSETS when set (never built into), else
// kube-v<KubeVersion>-etcd-v<EtcdVersion> under the cache root
// ($MKE_MIGRATE_TESTBIN, else the user cache folder + mke-migrate/testbin).
// MKE_MIGRATE_NO_TESTBIN_BUILD=1 turns the build on first use off: Ensure
// then fails like Find, and tests skip.
package testbin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Versions the binaries are built at; hack/testbin/build.sh must agree.
const (
	KubeVersion = "1.37.2"
	EtcdVersion = "3.7.3"
)

// Environment variables read by this package.
const (
	// EnvAssets names a folder holding the binaries; it wins over the
	// cache and is never built into.
	EnvAssets = "MKE_MIGRATE_KUBE_ASSETS"
	// EnvRoot overrides the cache root.
	EnvRoot = "MKE_MIGRATE_TESTBIN"
	// EnvNoBuild, set to 1 (or true), turns the build on first use off.
	EnvNoBuild = "MKE_MIGRATE_NO_TESTBIN_BUILD"
)

// Names of the binaries.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	Etcdctl               = "etcdctl"
	Etcdutl               = "etcdutl"
	Kubectl               = "kubectl"
)

// ControlPlane returns the names of the control-plane binaries.
func ControlPlane() []string { return []string{Etcd, KubeAPIServer, KubeControllerManager} }

// All returns the names of every binary build.sh builds.
func All() []string { return append(ControlPlane(), Etcdctl, Etcdutl, Kubectl) }

// ErrNoBinaries is what a MissingError is (errors.Is).
var ErrNoBinaries = errors.New("binaries not found")

// MissingError says which binaries a folder lacks and what to do.
type MissingError struct {
	Dir     string
	Missing []string
	// Why the binaries were not built (opt-out, EnvAssets), if they
	// could have been.
	Reason string
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("testbin: %s not found in %s", strings.Join(e.Missing, ", "), e.Dir)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg + "; run hack/testbin/build.sh"
}

// Unwrap makes errors.Is(err, ErrNoBinaries) true.
func (e *MissingError) Unwrap() error { return ErrNoBinaries }

// Root returns the cache root build.sh builds under.
func Root() (string, error) {
	if r := os.Getenv(EnvRoot); r != "" {
		return r, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("testbin: no cache folder: %w (set %s)", err, EnvRoot)
	}
	return filepath.Join(cache, "mke-migrate", "testbin"), nil
}

// Dir returns the folder of the binaries, whether or not they are there.
func Dir() (string, error) {
	if d := os.Getenv(EnvAssets); d != "" {
		return d, nil
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "kube-v"+KubeVersion+"-etcd-v"+EtcdVersion), nil
}

// Find returns the folder when it holds every named binary (all of them
// when names is empty), executable, and a *MissingError otherwise. It
// never builds.
func Find(names ...string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		names = All()
	}
	var missing []string
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return dir, &MissingError{Dir: dir, Missing: missing}
	}
	return dir, nil
}

// BuildDisabled reports whether EnvNoBuild turns the build on first use off.
func BuildDisabled() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvNoBuild))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// Options configure Ensure.
type Options struct {
	// Progress receives the build's progress lines (build.sh's output);
	// nil discards them.
	Progress io.Writer
	// Script is the build script; hack/testbin/build.sh of this source
	// tree when empty.
	Script string
	// Poll is how often the lock and the build's log are looked at;
	// half a second when zero.
	Poll time.Duration
}

// Ensure returns the folder holding the named binaries (all of them when
// names is empty), building what the folder lacks first: it runs the build
// script under an exclusive lock on <root>/build.lock, so that concurrent
// callers (test packages run in parallel) wait for one build, and copies
// the script's output, kept in <root>/build.log, to o.Progress. One build
// makes every missing binary, not only the named ones.
//
// The build runs in its own session and holds the lock itself: when the
// caller is cancelled or killed (a test binary's timeout), it goes on, and
// the next caller waits for it rather than starting over.
//
// It does not build, and returns a *MissingError, when EnvAssets names the
// folder or EnvNoBuild is set.
func Ensure(ctx context.Context, o Options, names ...string) (string, error) {
	dir, err := Find(names...)
	var miss *MissingError
	if !errors.As(err, &miss) {
		return dir, err
	}
	switch {
	case os.Getenv(EnvAssets) != "":
		miss.Reason = EnvAssets + " names this folder, so it is not built into"
		return "", miss
	case BuildDisabled():
		miss.Reason = EnvNoBuild + " is set, so they are not built on first use"
		return "", miss
	}
	script := o.Script
	if script == "" {
		if script, err = defaultScript(); err != nil {
			return "", err
		}
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	logPath := filepath.Join(root, "build.log")

	lock, err := os.OpenFile(filepath.Join(root, "build.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	defer lock.Close()
	if err := waitLock(ctx, lock, logPath, progress, o.Poll); err != nil {
		return "", err
	}
	// another process may have built them while this one waited
	if dir, err := Find(names...); err == nil {
		return dir, nil
	}

	log, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	defer log.Close()
	fmt.Fprintf(progress, "testbin: building the missing test binaries (%s) with %s; log: %s\n",
		strings.Join(miss.Missing, ", "), script, logPath)
	cmd := exec.Command(script)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), EnvRoot+"="+root, "MKE_MIGRATE_TESTBIN_LOCKED=1")
	// The lock's open file travels with the build (fd 3): the lock is held
	// until both this process and the build are gone.
	cmd.ExtraFiles = []*os.File{lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("testbin: start %s: %w", script, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tail := &tailer{path: logPath, w: progress}
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			tail.copy()
			return "", fmt.Errorf("testbin: stopped waiting for the build (it goes on in the background, pid %d, log %s): %w",
				cmd.Process.Pid, logPath, ctx.Err())
		case <-tick.C:
			tail.copy()
			continue
		case err := <-done:
			tail.copy()
			if err != nil {
				return "", fmt.Errorf("testbin: %s failed (%v); its output is in %s:\n%s", script, err, logPath, lastLines(logPath, 15))
			}
		}
		break
	}
	dir, err = Find(names...)
	if err != nil {
		// not ErrNoBinaries: this is a broken build, not a skip
		return "", fmt.Errorf("testbin: %s succeeded, but %v", script, err)
	}
	return dir, nil
}

// waitLock takes the exclusive lock, showing the log of the build that
// holds it meanwhile.
func waitLock(ctx context.Context, lock *os.File, logPath string, progress io.Writer, poll time.Duration) error {
	var tail *tailer
	for {
		err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			if tail != nil {
				tail.copy()
			}
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("testbin: lock %s: %w", lock.Name(), err)
		}
		if tail == nil {
			fmt.Fprintf(progress, "testbin: waiting for the build another process runs (lock %s, log %s)\n", lock.Name(), logPath)
			tail = &tailer{path: logPath, w: progress}
			tail.skipToEnd()
		}
		tail.copy()
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbin: waiting for another build: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}

// tailer copies what is appended to a file to w.
type tailer struct {
	path string
	off  int64
	w    io.Writer
}

func (t *tailer) skipToEnd() {
	if fi, err := os.Stat(t.path); err == nil {
		t.off = fi.Size()
	}
}

func (t *tailer) copy() {
	f, err := os.Open(t.path)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < t.off {
		t.off = 0 // a new build truncated it
	}
	n, _ := io.Copy(t.w, io.NewSectionReader(f, t.off, 1<<62))
	t.off += n
}

func lastLines(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// defaultScript finds hack/testbin/build.sh: next to this source file when
// the binary was built from a clone (go test, go run), else in the module
// root above the working directory.
func defaultScript() (string, error) {
	const rel, module = "hack/testbin/build.sh", "github.com/mke-migrate/mke-migrate"
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		p := filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			p := filepath.Join(d, filepath.FromSlash(rel))
			mod, _ := os.ReadFile(filepath.Join(d, "go.mod"))
			if _, err := os.Stat(p); err == nil && strings.Contains("\n"+string(mod), "\nmodule "+module+"\n") {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("testbin: %s not found (this binary was not built from a clone of mke-migrate): build the binaries with it and set %s to their folder", rel, EnvAssets)
}
