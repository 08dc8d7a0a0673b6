package plan

import (
	"fmt"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStepStart    EventKind = "step-start"
	EventStepDone     EventKind = "step-done"
	EventStepFailed   EventKind = "step-failed"
	EventStepSkipped  EventKind = "step-skipped" // done in an earlier run (resume)
	EventUndoStart    EventKind = "undo-start"
	EventUndoDone     EventKind = "undo-done"
	EventUndoFailed   EventKind = "undo-failed"
	EventRollbackInfo EventKind = "rollback" // a rollback starts; Total: the steps it may undo
)

// Event is progress for a user interface: step Index of Total, on Host,
// and how long it took. The executor and package rollback send them.
type Event struct {
	Kind         EventKind
	Index, Total int
	Stage        string
	Step, Host   string
	Took         time.Duration
	Err          error
}

// StepError is the failure of one step (or of its undo) on one host.
type StepError struct {
	Step, Host string
	// Undo is true for a failed undo.
	Undo bool
	Err  error
}

func (e *StepError) Error() string {
	what := "step"
	if e.Undo {
		what = "undo"
	}
	if e.Host == "" {
		return fmt.Sprintf("%s %s: %v", what, e.Step, e.Err)
	}
	return fmt.Sprintf("%s %s on %s: %v", what, e.Step, e.Host, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }
