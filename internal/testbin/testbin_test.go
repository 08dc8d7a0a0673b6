package testbin_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/testbin"
)

// fakeScript stands for build.sh: it counts its runs, says it started,
// waits for the file "release" when asked to, and writes every binary
// that is missing (or fails when the file "fail" exists).
const fakeScript = `#!/usr/bin/env bash
set -eu
root="$MKE_MIGRATE_TESTBIN"
echo run >>"$root/runs"
echo "fake: started" >&2
touch "$root/started"
while [ -e "$root/hold" ] && [ ! -e "$root/release" ]; do sleep 0.05; done
if [ -e "$root/fail" ]; then echo "fake: compile error" >&2; exit 3; fi
dir="$root/kube-v` + testbin.KubeVersion + `-etcd-v` + testbin.EtcdVersion + `"
mkdir -p "$dir"
for b in etcd kube-apiserver kube-controller-manager etcdctl etcdutl kubectl; do
  [ -x "$dir/$b" ] || { printf '#!/bin/sh\n' >"$dir/$b"; chmod +x "$dir/$b"; echo "fake: built $b" >&2; }
done
echo "$dir"
`

// setup makes an empty cache root with the fake script, and clears the
// environment that would change where binaries are looked for.
func setup(t *testing.T) (root, script string) {
	t.Helper()
	root = t.TempDir()
	t.Setenv(testbin.EnvRoot, root)
	t.Setenv(testbin.EnvAssets, "")
	t.Setenv(testbin.EnvNoBuild, "")
	script = filepath.Join(t.TempDir(), "build.sh")
	if err := os.WriteFile(script, []byte(fakeScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, script
}

func runs(t *testing.T, root string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "run\n")
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls for a file the fake script makes; the limit is only a
// safety net.
func waitFor(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}

// lockHeld tells whether someone holds the cache root's build lock.
func lockHeld(t *testing.T, root string) bool {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, "build.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// syncBuffer is a progress writer safe to read while Ensure writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEnsureBuildsMissingOnceWithProgress(t *testing.T) {
	root, script := setup(t)
	touch(t, filepath.Join(root, "hold"))
	opts := func(w *syncBuffer) testbin.Options {
		return testbin.Options{Script: script, Progress: w, Poll: 10 * time.Millisecond}
	}

	var first, second syncBuffer
	type result struct {
		dir string
		err error
	}
	a, b := make(chan result, 1), make(chan result, 1)
	go func() {
		d, err := testbin.Ensure(context.Background(), opts(&first), testbin.ControlPlane()...)
		a <- result{d, err}
	}()
	waitFor(t, filepath.Join(root, "started"))
	// a second test package arrives during the build: it waits for it
	go func() {
		d, err := testbin.Ensure(context.Background(), opts(&second), testbin.Kubectl)
		b <- result{d, err}
	}()
	for !strings.Contains(second.String(), "waiting for the build another process runs") {
		time.Sleep(10 * time.Millisecond)
	}
	touch(t, filepath.Join(root, "release"))
	ra, rb := <-a, <-b
	if ra.err != nil || rb.err != nil {
		t.Fatalf("Ensure: %v / %v", ra.err, rb.err)
	}
	want := filepath.Join(root, "kube-v"+testbin.KubeVersion+"-etcd-v"+testbin.EtcdVersion)
	if ra.dir != want || rb.dir != want {
		t.Errorf("dirs %q %q, want %q", ra.dir, rb.dir, want)
	}
	if n := runs(t, root); n != 1 {
		t.Errorf("the build ran %d times, want 1", n)
	}
	for _, s := range []string{"building the missing test binaries (etcd, kube-apiserver, kube-controller-manager)", "fake: started", "fake: built kubectl"} {
		if !strings.Contains(first.String(), s) {
			t.Errorf("the builder's progress lacks %q:\n%s", s, first.String())
		}
	}
	if !strings.Contains(second.String(), "fake: built kubectl") {
		t.Errorf("the waiter's progress does not follow the build:\n%s", second.String())
	}
	// everything is there now: no build, no lock taken
	if _, err := testbin.Ensure(context.Background(), opts(&first)); err != nil || runs(t, root) != 1 {
		t.Errorf("Ensure with everything built: %v, %d runs", err, runs(t, root))
	}
}

// A folder with the control plane but without the tools: asking for the
// control plane builds nothing; asking for a tool runs the build.
func TestEnsurePartialFolder(t *testing.T) {
	root, script := setup(t)
	dir, _ := testbin.Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range testbin.ControlPlane() {
		touch(t, filepath.Join(dir, b))
		if err := os.Chmod(filepath.Join(dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	o := testbin.Options{Script: script, Poll: 10 * time.Millisecond}
	if _, err := testbin.Ensure(context.Background(), o, testbin.ControlPlane()...); err != nil || runs(t, root) != 0 {
		t.Fatalf("control plane present: %v, %d runs", err, runs(t, root))
	}
	_, err := testbin.Find(testbin.Etcdutl, testbin.Etcd)
	var miss *testbin.MissingError
	if !errors.As(err, &miss) || strings.Join(miss.Missing, ",") != "etcdutl" {
		t.Fatalf("Find: %v", err)
	}
	if _, err := testbin.Ensure(context.Background(), o, testbin.Etcdutl); err != nil || runs(t, root) != 1 {
		t.Fatalf("etcdutl missing: %v, %d runs", err, runs(t, root))
	}
	if _, err := testbin.Find(); err != nil {
		t.Fatal(err)
	}
}

// A caller that stops waiting (a test binary killed at its timeout, a
// demo interrupted) leaves the build running and holding the lock; the
// next caller waits for it instead of starting another.
func TestEnsureCancelledLeavesTheBuildRunning(t *testing.T) {
	root, script := setup(t)
	touch(t, filepath.Join(root, "hold"))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := testbin.Ensure(ctx, testbin.Options{Script: script, Poll: 10 * time.Millisecond})
		errc <- err
	}()
	waitFor(t, filepath.Join(root, "started"))
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "goes on in the background") {
		t.Fatalf("cancelled Ensure: %v", err)
	}
	if !lockHeld(t, root) {
		t.Fatal("the build lost its lock when its caller stopped waiting")
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		touch(t, filepath.Join(root, "release"))
	}()
	if _, err := testbin.Ensure(context.Background(), testbin.Options{Script: script, Poll: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if n := runs(t, root); n != 1 {
		t.Errorf("the build ran %d times, want 1", n)
	}
}

func TestEnsureFailedBuildIsRetried(t *testing.T) {
	root, script := setup(t)
	touch(t, filepath.Join(root, "fail"))
	o := testbin.Options{Script: script, Poll: 10 * time.Millisecond}
	_, err := testbin.Ensure(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "fake: compile error") || !strings.Contains(err.Error(), "build.log") {
		t.Fatalf("failed build: %v", err)
	}
	if err := os.Remove(filepath.Join(root, "fail")); err != nil {
		t.Fatal(err)
	}
	if _, err := testbin.Ensure(context.Background(), o); err != nil || runs(t, root) != 2 {
		t.Fatalf("retry: %v, %d runs", err, runs(t, root))
	}
}

// Only an explicit opt-out, or a folder the user named, keeps Ensure from
// building.
func TestEnsureDoesNotBuild(t *testing.T) {
	for _, tc := range []struct {
		name, env, value, reason string
	}{
		{"opt-out", testbin.EnvNoBuild, "1", testbin.EnvNoBuild + " is set"},
		{"opt-out true", testbin.EnvNoBuild, "true", testbin.EnvNoBuild + " is set"},
		{"assets folder", testbin.EnvAssets, "", testbin.EnvAssets + " names this folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, script := setup(t)
			v := tc.value
			if v == "" {
				v = t.TempDir()
			}
			t.Setenv(tc.env, v)
			_, err := testbin.Ensure(context.Background(), testbin.Options{Script: script})
			var miss *testbin.MissingError
			if !errors.Is(err, testbin.ErrNoBinaries) || !errors.As(err, &miss) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Ensure: %v", err)
			}
			if len(miss.Missing) != len(testbin.All()) {
				t.Errorf("missing %v", miss.Missing)
			}
			if n := runs(t, root); n != 0 {
				t.Errorf("the build ran %d times", n)
			}
		})
	}
	t.Run("opt-out off", func(t *testing.T) {
		for _, v := range []string{"", "0", "false"} {
			t.Setenv(testbin.EnvNoBuild, v)
			if testbin.BuildDisabled() {
				t.Errorf("%s=%q disables the build", testbin.EnvNoBuild, v)
			}
		}
	})
}

// The real build.sh, with a fake go on PATH: it builds only what the
// folder lacks, leaves the rest as it is, removes a killed build's folder
// and waits for the lock another build holds.
func TestBuildScriptBuildsOnlyMissing(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "testbin", "build.sh")
	root := t.TempDir()
	bin := t.TempDir()
	goLog := filepath.Join(t.TempDir(), "go.log")
	// go build -trimpath -ldflags=... -o OUT PKG
	fakeGo := `#!/usr/bin/env bash
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; esac; pkg="$1"; shift; done
echo "$(basename "$PWD") $pkg" >>` + goLog + `
printf '#!/bin/sh\n' >"$out"; chmod +x "$out"
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "kube-v"+testbin.KubeVersion+"-etcd-v"+testbin.EtcdVersion)
	if err := os.MkdirAll(filepath.Join(root, "build.AbC123", "gocache"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range testbin.ControlPlane() {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("already built "+b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// another build holds the lock
	lock, err := os.OpenFile(filepath.Join(root, "build.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), testbin.EnvRoot+"="+root, "MKE_MIGRATE_TESTBIN_LOCKED=")
	var stdout bytes.Buffer
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(stderr.String(), "waiting for another build") {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(goLog); err == nil {
		t.Fatal("build.sh built while another build held the lock")
	}
	_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != dir {
		t.Errorf("build.sh printed %q, want %q", got, dir)
	}
	built, _ := os.ReadFile(goLog)
	want := "kube k8s.io/kubernetes/cmd/kubectl\netcd go.etcd.io/etcd/etcdctl/v3\netcd go.etcd.io/etcd/etcdutl/v3\n"
	if string(built) != want {
		t.Errorf("go build ran for\n%s\nwant\n%s", built, want)
	}
	for _, b := range testbin.ControlPlane() {
		if got, _ := os.ReadFile(filepath.Join(dir, b)); string(got) != "already built "+b {
			t.Errorf("%s was rebuilt or changed: %q", b, got)
		}
	}
	t.Setenv(testbin.EnvRoot, root)
	t.Setenv(testbin.EnvAssets, "")
	if _, err := testbin.Find(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(root, "build.AbC123")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed build's folder is still there: %v", err)
	}
	for _, s := range []string{"[1/3] building kubectl", "[3/3] built etcdutl", "built 3 binaries"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("progress lacks %q:\n%s", s, stderr.String())
		}
	}
	// complete: nothing to build, no lock needed
	_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX)
	out, err := exec.Command("env", "PATH="+bin+":"+os.Getenv("PATH"), testbin.EnvRoot+"="+root, script).Output()
	if err != nil || strings.TrimSpace(string(out)) != dir {
		t.Errorf("complete folder: %q, %v", out, err)
	}
	if b, _ := os.ReadFile(goLog); string(b) != want {
		t.Errorf("a complete folder was built again:\n%s", b)
	}
}
