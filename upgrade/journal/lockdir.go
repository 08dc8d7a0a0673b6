package journal

import (
	"fmt"
	"strconv"
	"strings"
)

// LockFileName is the local lock's name inside a run directory.
const LockFileName = "lock"

// LockedError is LockDir finding the directory locked by another process.
type LockedError struct {
	Path   string // the lock file
	Holder Holder // as written by the holder; zero if it had not written yet
}

// Holder identifies the process holding a local lock.
type Holder struct {
	Run string
	PID int
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder.Run != "" || e.Holder.PID != 0 {
		who = fmt.Sprintf("run %s (pid %d)", e.Holder.Run, e.Holder.PID)
	}
	return fmt.Sprintf("%s is locked by %s: wait for it to finish or stop it; the lock goes away with the process", e.Path, who)
}

// parseHolder reads the lock file's "run=<id>\npid=<n>\n" content.
// Anything else gives what could be read: the content is advisory, the
// flock is the lock.
func parseHolder(s string) Holder {
	var h Holder
	for _, l := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok {
			continue
		}
		switch k {
		case "run":
			if CheckRun(v) == nil {
				h.Run = v
			}
		case "pid":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				h.PID = n
			}
		}
	}
	return h
}

func holderText(run string, pid int) string {
	return fmt.Sprintf("run=%s\npid=%d\n", run, pid)
}
