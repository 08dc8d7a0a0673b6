// Package atomicfile writes files so that readers see the old content or
// the new one, never a torn or empty file: the data goes to a temporary
// file in the same directory, is synced, and is renamed over the target.
//
// It replaces only regular files. A path that holds anything else (a
// symbolic link, a device such as /dev/null or /dev/stdout, a directory, a
// FIFO or a socket) is refused with ErrUnusable: renaming over it would
// replace a device node or a link that is not ours with a plain file, as
// root too. Check tells before any work whether WriteFile can succeed.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnusable is wrapped (errors.Is) by Check and WriteFile when the path
// cannot be an output file: something other than a regular file is there,
// or its folder is missing, not a folder, or not writable.
var ErrUnusable = errors.New("unusable output path")

// UnusableError names the path and why it cannot be written.
type UnusableError struct {
	Path   string
	Reason string
}

func (e *UnusableError) Error() string { return e.Path + ": " + e.Reason }

// Is makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrUnusable }

// Check reports whether WriteFile(path, ...) can replace or create path:
// nil when path is a regular file or does not exist in an existing,
// writable folder, an *UnusableError otherwise. Commands call it before
// any work so that a bad output path fails at once, not after it.
func Check(path string) error {
	if path == "" {
		return &UnusableError{Path: path, Reason: "empty path"}
	}
	st, err := os.Lstat(path)
	switch {
	case err == nil:
		if reason := notRegular(st.Mode()); reason != "" {
			return &UnusableError{Path: path, Reason: reason}
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return &UnusableError{Path: path, Reason: err.Error()}
	}
	dir := filepath.Dir(path)
	dst, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &UnusableError{Path: path, Reason: "its folder " + dir + " does not exist (create it first)"}
	case err != nil:
		return &UnusableError{Path: path, Reason: err.Error()}
	case !dst.IsDir():
		return &UnusableError{Path: path, Reason: dir + " is not a folder"}
	}
	if err := writable(dir); err != nil {
		return &UnusableError{Path: path, Reason: "its folder " + dir + " is not writable: " + err.Error()}
	}
	return nil
}

// notRegular says what a non-regular file is, "" for a regular file.
func notRegular(m fs.FileMode) string {
	const tail = ", not a regular file: only regular files are replaced (give another path, or - for standard output)"
	switch {
	case m.IsRegular():
		return ""
	case m&fs.ModeSymlink != 0:
		return "is a symbolic link" + tail
	case m.IsDir():
		return "is a directory" + tail
	case m&fs.ModeDevice != 0:
		return "is a device" + tail
	case m&fs.ModeNamedPipe != 0:
		return "is a named pipe" + tail
	case m&fs.ModeSocket != 0:
		return "is a socket" + tail
	}
	return "is a special file" + tail
}

// WriteFile writes data to path atomically with the given permissions.
// path must be a regular file or not exist: anything else is an
// *UnusableError and is left as it is (a symbolic link is neither followed
// nor replaced). On any error the target is untouched and no temporary
// file is left.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content produced by write as it goes, so that a
// large output need not be held in memory first. An error from write
// leaves the target untouched, like any other.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	if st, lerr := os.Lstat(path); lerr == nil {
		if reason := notRegular(st.Mode()); reason != "" {
			return &UnusableError{Path: path, Reason: reason}
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &UnusableError{Path: path, Reason: "its folder " + dir + " does not exist (create it first)"}
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err = write(bw); err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Look again right before the rename: something may have been put
	// there since (rename(2) replaces a link or device node, it does not
	// write through it).
	if st, lerr := os.Lstat(path); lerr == nil {
		if reason := notRegular(st.Mode()); reason != "" {
			return &UnusableError{Path: path, Reason: reason}
		}
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Persist the rename itself; best effort, as some file systems refuse
	// to sync directories.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
