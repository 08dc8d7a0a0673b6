//go:build unix

package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// LockDir takes an exclusive flock(2) on dir/lock for run, creating dir
// (0700) if needed. A directory locked by another process, or by another
// LockDir in this one, fails at once with *LockedError rather than waiting:
// two runs must not share an output directory. The kernel drops the lock
// when the process dies, so it is never stale. release unlocks; calling it
// again does nothing.
func LockDir(dir, run string) (release func() error, err error) {
	if err := CheckRun(run); err != nil {
		return nil, err
	}
	if err := mkdirSynced(dir); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600) // truncated below: never through a link
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := io.ReadAll(io.LimitReader(f, 4096))
			return nil, &LockedError{Path: path, Holder: parseHolder(string(b))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The content only tells the next process whom it waits for.
	if err := writeHolder(f, holderText(run, os.Getpid())); err != nil {
		f.Close() // closing drops the flock
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var once sync.Once
	var rerr error
	return func() error {
		once.Do(func() {
			// Emptied first, so that a process failing to lock later
			// does not name a holder that is gone.
			terr := f.Truncate(0)
			uerr := flock(f, syscall.LOCK_UN)
			cerr := f.Close()
			if err := errors.Join(terr, uerr, cerr); err != nil {
				rerr = fmt.Errorf("unlock %s: %w", path, err)
			}
		})
		return rerr
	}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func writeHolder(f *os.File, s string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(s), 0); err != nil {
		return err
	}
	return nil
}
