//go:build !unix

package journal

import (
	"errors"
	"fmt"
)

// LockDir needs flock(2); on systems without it, it fails rather than run
// unlocked.
func LockDir(dir, run string) (release func() error, err error) {
	return nil, fmt.Errorf("lock %s: %w", dir, errors.ErrUnsupported)
}
