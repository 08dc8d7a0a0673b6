//go:build unix

package journal

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	release, err := LockDir(dir, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	// flock is per open file, so a second lock in the same process is
	// refused like one from another process.
	_, err = LockDir(dir, "run-2")
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want *LockedError", err)
	}
	if le.Holder.Run != "run-1" || le.Holder.PID != os.Getpid() || le.Path != filepath.Join(dir, LockFileName) {
		t.Errorf("holder %+v path %s", le.Holder, le.Path)
	}
	if !strings.Contains(le.Error(), "run-1") {
		t.Errorf("message %q", le.Error())
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	release2, err := LockDir(dir, "run-2")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}

func TestParseHolder(t *testing.T) {
	tests := []struct {
		in   string
		want Holder
	}{
		{"run=r1\npid=42\n", Holder{"r1", 42}},
		{"", Holder{}},
		{"pid=abc\nrun=bad id", Holder{}},
		{"run=r1", Holder{Run: "r1"}},
		{"pid=-3\n", Holder{}},
	}
	for _, tt := range tests {
		if got := parseHolder(tt.in); got != tt.want {
			t.Errorf("parseHolder(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestLockDirProcess locks from a child process, checks that this one is
// refused at once and names the child, then kills the child: the kernel
// drops its lock.
func TestLockDirProcess(t *testing.T) {
	if dir := os.Getenv("JOURNAL_TEST_LOCK_DIR"); dir != "" {
		if _, err := LockDir(dir, "child-run"); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDirProcess$")
	cmd.Env = append(os.Environ(), "JOURNAL_TEST_LOCK_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	start := time.Now()
	_, err = LockDir(dir, "run-1")
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("lock held by child: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("LockDir waited for the lock")
	}
	if le.Holder != (Holder{"child-run", cmd.Process.Pid}) {
		t.Errorf("holder %+v, want child-run pid %d", le.Holder, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	release, err := LockDir(dir, "run-1")
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	release()
}
