//go:build !linux

package testbed

import "syscall"

const supported = false

func sysProcAttr() *syscall.SysProcAttr { return nil }
