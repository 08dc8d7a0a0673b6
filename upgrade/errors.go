package upgrade

import (
	"errors"
	"fmt"
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
