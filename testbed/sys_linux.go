package testbed

import "syscall"

const supported = true

// sysProcAttr makes the kernel SIGKILL unshare when the thread that started
// it dies, so a killed test binary leaves no host behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
