package journal

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event is what a Record says happened.
type Event string

// Run-level events have no Step; the others belong to one (step, host) pair.
const (
	RunStart  Event = "run-start"  // written by Create
	RunResume Event = "run-resume" // a later process continues the run
	RunDone   Event = "run-done"
	RunFailed Event = "run-failed"

	StepStart  Event = "start"
	StepDone   Event = "done"
	StepFailed Event = "failed"

	UndoStart  Event = "undo-start"
	Undone     Event = "undone"
	UndoFailed Event = "undo-failed"

	RollbackStart  Event = "rollback-start"
	RollbackDone   Event = "rollback-done"
	RollbackFailed Event = "rollback-failed"
)

// runLevel reports whether e is an event of the whole run (no Step).
func (e Event) runLevel() bool {
	switch e {
	case RunStart, RunResume, RunDone, RunFailed, RollbackStart, RollbackDone, RollbackFailed:
		return true
	}
	return false
}

// stepLevel reports whether e is an event of one (step, host) pair.
func (e Event) stepLevel() bool {
	switch e {
	case StepStart, StepDone, StepFailed, UndoStart, Undone, UndoFailed:
		return true
	}
	return false
}

// Record is one line of the journal.
type Record struct {
	Seq   int               `json:"seq"`             // 1, 2, ... assigned by Append
	Time  time.Time         `json:"time"`            // UTC, set by Append from the Journal's clock
	Run   string            `json:"run"`             // run ID
	Step  string            `json:"step,omitempty"`  // step ID, e.g. "k0s-install"
	Host  string            `json:"host,omitempty"`  // "" for cluster-wide steps
	Event Event             `json:"event"`           // what happened
	Error string            `json:"error,omitempty"` // the error's message (cleaned of control chars, cut at MaxErrorLen)
	Data  map[string]string `json:"data,omitempty"`  // what resume/undo need (file names, checksums); never secrets
}

// MaxErrorLen is the most bytes of Record.Error kept: a journal line
// stays small however verbose the failing command was.
const MaxErrorLen = 4096

// ErrInvalidRecord is wrapped by Append for a record that cannot be
// journaled (unknown event, step event without a step, other run).
var ErrInvalidRecord = errors.New("invalid journal record")

// ErrInvalidRun is wrapped when a run ID is not 1-128 characters of
// letters, digits, '.', '_' and '-'. The ID goes into shell commands and
// lock files, so it is kept to characters that need no quoting anywhere.
var ErrInvalidRun = errors.New("invalid run ID")

// CheckRun returns an error wrapping ErrInvalidRun if id is not a valid run ID.
func CheckRun(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: %q: must be 1-128 characters", ErrInvalidRun, id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q: only letters, digits, '.', '_' and '-' are allowed", ErrInvalidRun, id)
		}
	}
	return nil
}

// check validates the parts of r that a caller sets.
func (r *Record) check() error {
	switch {
	case r.Event.runLevel():
		if r.Step != "" || r.Host != "" {
			return fmt.Errorf("%w: run event %q with step %q host %q", ErrInvalidRecord, r.Event, r.Step, r.Host)
		}
	case r.Event.stepLevel():
		if r.Step == "" {
			return fmt.Errorf("%w: event %q without a step", ErrInvalidRecord, r.Event)
		}
	default:
		return fmt.Errorf("%w: unknown event %q", ErrInvalidRecord, r.Event)
	}
	return nil
}

// cleanError makes an error message safe for one journal line and for a
// terminal: control characters (ANSI escapes from remote tools, newlines)
// become spaces, invalid UTF-8 is replaced, and the text is cut at
// MaxErrorLen bytes on a rune boundary.
func cleanError(s string) string {
	var b strings.Builder
	for _, c := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(c) {
			c = ' '
		}
		if b.Len()+utf8.RuneLen(c) > MaxErrorLen {
			break
		}
		b.WriteRune(c)
	}
	return strings.TrimSpace(b.String())
}

func cloneData(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneRecords(rs []Record) []Record {
	c := make([]Record, len(rs))
	for i, r := range rs {
		r.Data = cloneData(r.Data)
		c[i] = r
	}
	return c
}
