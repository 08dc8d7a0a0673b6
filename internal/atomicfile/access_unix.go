//go:build unix

package atomicfile

import "syscall"

// writable asks the kernel whether this process may create files in dir
// (access(2) with W_OK; 2 is W_OK on every unix).
func writable(dir string) error { return syscall.Access(dir, 2) }
