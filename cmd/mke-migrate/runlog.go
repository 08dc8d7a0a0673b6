package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// openRunLog opens the debug log of the output folder dir, in this order:
//
//  1. it takes the folder's lock (journal.LockDir): a folder that another
//     run holds is refused before anything is written to it;
//  2. it opens the log without following a symbolic link, and only a
//     regular file (a device or FIFO is refused);
//  3. it locks the log itself (flock) for the life of the process, so that
//     a second mke-migrate never writes to it while this one runs, even
//     after the folder's lock went to the upgrade engine.
//
// The engine takes the folder's lock itself: releaseDir hands it over
// right before Apply, Resume or Rollback.
func openRunLog(dir string) (f *os.File, releaseDir func(), err error) {
	release, err := journal.LockDir(dir, "cli-"+strconv.Itoa(os.Getpid()))
	if err != nil {
		var le *journal.LockedError
		if errors.As(err, &le) {
			return nil, nil, usagef("--output: %w", err)
		}
		return nil, nil, failure(err)
	}
	var once sync.Once
	releaseDir = func() { once.Do(func() { _ = release() }) }
	fail := func(err error) (*os.File, func(), error) {
		releaseDir()
		return nil, nil, err
	}
	path := filepath.Join(dir, logFileName)
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fail(usagef("--output: %s is not a regular file (%s): remove it or use another folder", path, st.Mode().Type()))
	}
	// O_NONBLOCK: a FIFO put there since the check fails instead of
	// blocking; it changes nothing for a regular file.
	f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return fail(usagef("--output: open the debug log: %w (it must be a regular file, not a symbolic link)", err))
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return fail(usagef("--output: %s is not a regular file", path))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fail(usagef("--output: %s is in use by another mke-migrate: wait for it to finish or stop it", path))
		}
		return fail(failure(fmt.Errorf("lock %s: %w", path, err)))
	}
	return f, releaseDir, nil
}
