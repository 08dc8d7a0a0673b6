// Package ownerdir makes temporary folders that name the process owning
// them, so that a later process can remove those whose owner died without
// cleaning up (killed with SIGKILL, or by the OOM killer): a deferred
// RemoveAll runs on every exit a process can catch, never on those.
//
// The owner is recorded as its process ID and its start time (field 22 of
// /proc/PID/stat), so that an unrelated process that got the same ID later
// is not taken for the owner. Without /proc, the process ID alone is used.
package ownerdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// OwnerFile is the file in each folder that names its owner.
const OwnerFile = "owner"

// Create makes a new folder (mode 0700) in base ("" for os.TempDir) whose
// name starts with prefix, owned by this process.
func Create(base, prefix string) (string, error) {
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", err
	}
	owner := strconv.Itoa(os.Getpid()) + " " + startTime(os.Getpid()) + "\n"
	if err := os.WriteFile(filepath.Join(dir, OwnerFile), []byte(owner), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// RemoveStale removes the folders in base ("" for os.TempDir) made by
// Create with prefix whose owner process is gone, and returns them. A
// folder without a readable owner file is left alone: its owner may be
// writing it right now, or it is not ours.
func RemoveStale(base, prefix string) (removed []string, err error) {
	if base == "" {
		base = os.TempDir()
	}
	dirs, err := filepath.Glob(filepath.Join(base, prefix+"*"))
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, d := range dirs {
		st, err := os.Lstat(d)
		if err != nil || !st.IsDir() {
			continue // a link or a file: not made by Create
		}
		b, err := os.ReadFile(filepath.Join(d, OwnerFile))
		if err != nil {
			continue
		}
		pidText, start, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || alive(pid, start) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove stale %s: %w", d, err))
			continue
		}
		removed = append(removed, d)
	}
	return removed, errors.Join(errs...)
}

// alive reports whether pid runs and, when start is known, is the process
// that started then.
func alive(pid int, start string) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if now := startTime(pid); start != "" && now != "" && now != start {
		return false // the ID was reused
	}
	return true
}

// startTime is field 22 of /proc/PID/stat (clock ticks since boot), ""
// when it cannot be read.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// the command name (field 2) may hold spaces and ')': fields 3 and on
	// follow its last ')'
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}
