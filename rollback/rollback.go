package rollback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// Step is a completed step to undo.
type Step interface {
	// Name and Host identify the step in the journal (Host "" for a step
	// that is not about one host).
	Name() string
	Host() string
	// Undo reverses the step. It must be safe to call on a step that was
	// already partly undone: a rollback may itself be interrupted.
	Undo(ctx context.Context) error
}

// Event is progress for a user interface: "Step i of n".
type Event struct {
	Index, Total int
	Step, Host   string
	Done         bool          // false when the undo starts
	Took         time.Duration // when Done
	Err          error         // when Done and it failed
}

// Options configure Run.
type Options struct {
	// Journal records every undo; required.
	Journal *journal.Journal
	// StepTimeout bounds each undo (default 10 minutes).
	StepTimeout time.Duration
	Logger      *slog.Logger
	Events      func(Event)
}

// Error is the failure of a rollback: the undos that failed. The cluster
// is then in a mixed state that Run, called again, tries to finish.
type Error struct {
	Failed []StepError
}

// StepError is one failed undo.
type StepError struct {
	Step, Host string
	Err        error
}

func (e StepError) Error() string {
	if e.Host == "" {
		return fmt.Sprintf("undo %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("undo %s on %s: %v", e.Step, e.Host, e.Err)
}

func (e StepError) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	return fmt.Sprintf("rollback incomplete: %d undo(s) failed: %v", len(e.Failed), errors.Join(e.errs()...))
}

func (e *Error) errs() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// Unwrap gives errors.Is/As the undo errors.
func (e *Error) Unwrap() []error { return e.errs() }

// Run undoes steps, which are the completed steps in the order they
// completed: it walks them backwards. Steps the journal shows as undone
// already (a resumed rollback) are skipped. A failed undo is recorded and
// the rollback goes on with the others, since each restores a different
// part of the cluster; the result is then an *Error. ctx ends the rollback
// early (its error is returned, wrapped).
func Run(ctx context.Context, steps []Step, o Options) error {
	if o.Journal == nil {
		return errors.New("rollback: no journal")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Minute
	}
	state := journal.Replay(o.Journal.Records())
	var todo []Step
	for i := len(steps) - 1; i >= 0; i-- {
		if state.Status(steps[i].Name(), steps[i].Host()) != journal.Undone {
			todo = append(todo, steps[i])
		}
	}
	if _, err := o.Journal.Append(journal.Record{Event: journal.RollbackStart, Data: map[string]string{"steps": fmt.Sprint(len(todo))}}); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	log.Info("rollback started", "steps", len(todo))
	var failed []StepError
	for i, s := range todo {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rollback stopped before step %d of %d: %w", i+1, len(todo), err)
		}
		ev := Event{Index: i + 1, Total: len(todo), Step: s.Name(), Host: s.Host()}
		if o.Events != nil {
			o.Events(ev)
		}
		log.Info(fmt.Sprintf("Step %d of %d: undo %s", i+1, len(todo), s.Name()), "host", s.Host())
		if _, err := o.Journal.Append(journal.Record{Step: s.Name(), Host: s.Host(), Event: journal.UndoStart}); err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		start := time.Now()
		sctx, cancel := context.WithTimeout(ctx, o.StepTimeout)
		err := s.Undo(sctx)
		cancel()
		ev.Done, ev.Took, ev.Err = true, time.Since(start), err
		rec := journal.Record{Step: s.Name(), Host: s.Host(), Event: journal.Undone}
		if err != nil {
			rec.Event, rec.Error = journal.UndoFailed, err.Error()
			failed = append(failed, StepError{Step: s.Name(), Host: s.Host(), Err: err})
			log.Error("undo failed", "step", s.Name(), "host", s.Host(), "err", err)
		}
		if _, jerr := o.Journal.Append(rec); jerr != nil {
			return errors.Join(fmt.Errorf("rollback: %w", jerr), err)
		}
		if o.Events != nil {
			o.Events(ev)
		}
	}
	end := journal.Record{Event: journal.RollbackDone}
	var result error
	if len(failed) > 0 {
		result = &Error{Failed: failed}
		end.Event, end.Error = journal.RollbackFailed, result.Error()
	}
	if _, err := o.Journal.Append(end); err != nil {
		return errors.Join(result, fmt.Errorf("rollback: %w", err))
	}
	log.Info("rollback finished", "failed", len(failed))
	return result
}
