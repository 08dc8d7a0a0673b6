package upgrade

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPastPointOfNoReturn is wrapped by the error of a run that failed after
// its point of no return: MKE 3 is (partly) gone, so the run is not rolled
// back; Resume finishes it.
var ErrPastPointOfNoReturn = errors.New("failed past the point of no return: resume the upgrade to finish it")

// RollbackError is the error of a run that failed and was rolled back:
// Cause is why the run failed, Rollback why the rollback did not finish
// (nil when it did). errors.Is and errors.As see both.
type RollbackError struct {
	Cause    error
	Rollback error
}

func (e *RollbackError) Error() string {
	if e.Rollback == nil {
		return fmt.Sprintf("upgrade failed and was rolled back: %v", e.Cause)
	}
	return fmt.Sprintf("upgrade failed: %v; and the rollback failed: %v", e.Cause, e.Rollback)
}

func (e *RollbackError) Unwrap() []error {
	if e.Rollback == nil {
		return []error{e.Cause}
	}
	return []error{e.Cause, e.Rollback}
}

// HostsMismatchError is the hosts.yaml of a resume or rollback that does
// not name the hosts the run discovered (for example another cluster's):
// the run's plan and journal would reach other machines, or none.
type HostsMismatchError struct {
	Dir string
	// Missing are hosts of the run that hosts.yaml lacks; Extra hosts of
	// hosts.yaml the run never saw (host keys, address:port, sorted).
	Missing, Extra []string
}

func (e *HostsMismatchError) Error() string {
	msg := fmt.Sprintf("hosts.yaml does not name the hosts of the run in %s", e.Dir)
	if len(e.Missing) > 0 {
		msg += fmt.Sprintf("; missing: %s", strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		msg += fmt.Sprintf("; not in the run: %s", strings.Join(e.Extra, ", "))
	}
	return msg + ": give the hosts.yaml the run was started with (its hosts are in discovery.json)"
}

// ManualStepError is a step past the point of no return that failed
// every one of its bounded tries: Resume would only fail the same way
// until someone runs By on Host by hand (or removes the cause), so the
// error says what to run, then to resume.
type ManualStepError struct {
	Step, Host string
	Tries      int
	// By is the shell command that does the step by hand, as root.
	By  string
	Err error
}

func (e *ManualStepError) Error() string {
	return fmt.Sprintf("%s on %s failed %d times: %v; do it by hand on %s (as root): %s; then resume the upgrade",
		e.Step, e.Host, e.Tries, e.Err, e.Host, e.By)
}

func (e *ManualStepError) Unwrap() error { return e.Err }
