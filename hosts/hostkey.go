package hosts

import (
	"errors"
	"fmt"

	"github.com/k0sproject/rig/v2/protocol/ssh/hostkey"
	"golang.org/x/crypto/ssh/knownhosts"
)

// rig v2.1.0 lets the SSH_KNOWN_HOSTS environment variable replace every
// known_hosts setting (protocol/ssh/hostkey.KnownHostsPathFromEnv, read by
// Connection.hostkeyCallback before the ssh_config options): set but empty,
// it accepts any host key; set to a path, it trusts unknown hosts on first
// use and appends them there. Host keys here are checked only against
// ConnectOptions.KnownHostsPath, read-only, so rig's hook is replaced once,
// when the package is initialised, before any connection can read it, and
// Connect warns that the variable is ignored.
func init() {
	hostkey.KnownHostsPathFromEnv = func() (string, bool) { return "", false }
}

// HostKeyProblem says why a host key was not trusted.
type HostKeyProblem string

// Host key problems.
const (
	// HostKeyUnknown: known_hosts has no key for the host.
	HostKeyUnknown HostKeyProblem = "unknown"
	// HostKeyChanged: known_hosts has another key for the host (a
	// reinstalled host, or someone in the middle).
	HostKeyChanged HostKeyProblem = "changed"
	// HostKeyNoFile: the known_hosts file does not exist or cannot be read.
	HostKeyNoFile HostKeyProblem = "no-known-hosts"
)

// HostKeyError is a host key that was not trusted (errors.Is(err,
// ErrHostKey) holds). It is not a reachability problem: the host answered,
// and the remedy is to verify its key and add it to KnownHosts.
type HostKeyError struct {
	Problem    HostKeyProblem
	KnownHosts string // the file checked ("" when unknown)
	Err        error  // rig's or crypto/ssh's error
}

func (e *HostKeyError) Error() string {
	var what string
	switch e.Problem {
	case HostKeyChanged:
		what = "the host key differs from the one in " + e.KnownHosts + " (a reinstalled host, or someone in between)"
	case HostKeyNoFile:
		what = "the known_hosts file " + e.KnownHosts + " cannot be used"
	default:
		what = "the host key is not in " + e.KnownHosts
	}
	return fmt.Sprintf("%v: %s: %v; %s", ErrHostKey, what, e.Err, e.Remedy())
}

// Remedy says what the operator should do.
func (e *HostKeyError) Remedy() string {
	fix := "verify the host's key out of band (ssh-keyscan from here, compared with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host) and add it to " + e.KnownHosts + " (or give the right file with --known-hosts)"
	if e.Problem == HostKeyChanged {
		fix = "find out why the key changed; only if the host was reinstalled, replace its line in " + e.KnownHosts + " with the verified new key"
	}
	return fix
}

func (e *HostKeyError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrHostKey) true.
func (e *HostKeyError) Is(target error) bool { return target == ErrHostKey }

// HostKeyFailure marks the error for packages that do not import hosts
// (preflight tells a host key failure from an unreachable host with it).
func (e *HostKeyError) HostKeyFailure() bool { return true }

// hostKeyError classifies a host key failure of rig; nil when err is none.
func hostKeyError(err error, khPath string) *HostKeyError {
	var ke *knownhosts.KeyError
	switch {
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return &HostKeyError{Problem: HostKeyChanged, KnownHosts: khPath, Err: err}
	case errors.Is(err, hostkey.ErrCheckHostKey):
		return &HostKeyError{Problem: HostKeyNoFile, KnownHosts: khPath, Err: err}
	case errors.Is(err, hostkey.ErrHostKeyMismatch):
		return &HostKeyError{Problem: HostKeyUnknown, KnownHosts: khPath, Err: err}
	}
	return nil
}
