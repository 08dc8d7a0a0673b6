//go:build unix

package journal

import "syscall"

// oNoFollow makes open(2) fail on a symbolic link (ELOOP) instead of
// following it: the journal and the lock are written, and a link planted in
// the output folder must not send those writes (or a truncation) elsewhere.
const oNoFollow = syscall.O_NOFOLLOW
