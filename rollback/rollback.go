package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// Options configure Run.
type Options struct {
	// Journal is the run's journal: what to undo, and where each undo is
	// recorded; required.
	Journal *journal.Journal
	// Nodes, StepTimeout (each undo; default plan.DefaultStepTimeout),
	// Logger and Events as for the plan's executor.
	plan.Options
}

// Error is the failure of a rollback: the undos that failed. The cluster
// is then in a mixed state that Run, called again, tries to finish.
type Error struct {
	Failed []*plan.StepError
}

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

// Started returns the steps of p that the journal shows started (done,
// failed, or cut off by the tool's death: Undo tolerates a partial Do), in
// the order they started, leaving out steps without an Undo. A journal
// naming a step the plan does not have is an error: the plan was changed.
func Started(p *plan.Plan, j *journal.Journal) ([]*plan.Step, error) {
	var steps []*plan.Step
	seen := map[string]bool{}
	for _, rec := range j.Records() {
		if rec.Event != journal.StepStart || rec.Step == "" {
			continue
		}
		id := (&plan.Step{Name: rec.Step, Host: rec.Host}).ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		s, ok := p.Find(id)
		if !ok {
			return nil, fmt.Errorf("rollback: the journal names step %s, which the plan does not have: was the plan changed?", id)
		}
		if s.Undo != nil {
			steps = append(steps, s)
		}
	}
	return steps, nil
}

// Run undoes, newest first, every step of p the journal shows started.
// Steps the journal shows undone already (a resumed rollback) are skipped.
// A failed undo is recorded and the rollback goes on with the others,
// since each restores a different part of the cluster; the result is then
// an *Error. ctx ends the rollback early (its error is returned, wrapped).
func Run(ctx context.Context, p *plan.Plan, o Options) error {
	if o.Journal == nil {
		return errors.New("rollback: no journal")
	}
	steps, err := Started(p, o.Journal)
	if err != nil {
		return err
	}
	po := o.Options.Fill()
	po.Emit(plan.Event{Kind: plan.EventRollbackInfo, Total: len(steps)})
	return undo(ctx, steps, o.Journal, po)
}

// undo undoes steps, which are in the order they started: it walks them
// backwards.
func undo(ctx context.Context, steps []*plan.Step, j *journal.Journal, o plan.Options) error {
	log := o.Logger
	state := journal.Replay(j.Records())
	var todo []*plan.Step
	for i := len(steps) - 1; i >= 0; i-- {
		if state.Status(steps[i].Name, steps[i].Host) != journal.Undone {
			todo = append(todo, steps[i])
		}
	}
	if _, err := j.Append(journal.Record{Event: journal.RollbackStart, Data: map[string]string{"steps": fmt.Sprint(len(todo))}}); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	log.Info("rollback started", "steps", len(todo))
	var failed []*plan.StepError
	for i, s := range todo {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rollback stopped before step %d of %d: %w", i+1, len(todo), err)
		}
		ev := plan.Event{Kind: plan.EventUndoStart, Index: i + 1, Total: len(todo), Step: s.Name, Host: s.Host}
		o.Emit(ev)
		log.Info(fmt.Sprintf("Step %d of %d: undo %s", i+1, len(todo), s.Name), "host", s.Host)
		if _, err := j.Append(journal.Record{Step: s.Name, Host: s.Host, Event: journal.UndoStart}); err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		start := time.Now()
		sctx, cancel := context.WithTimeout(ctx, o.StepTimeout)
		// what the step recorded for its undo, in this run or the one
		// that died
		r := plan.NewRun(s, nil, log.With("step", s.Name, "host", s.Host), state.Data(s.Name, s.Host))
		err := o.Bind(sctx, r)
		if err == nil {
			err = s.Undo(sctx, r)
		}
		cancel()
		ev.Kind, ev.Took, ev.Err = plan.EventUndoDone, time.Since(start), err
		rec := journal.Record{Step: s.Name, Host: s.Host, Event: journal.Undone}
		if err != nil {
			ev.Kind = plan.EventUndoFailed
			rec.Event, rec.Error = journal.UndoFailed, err.Error()
			failed = append(failed, &plan.StepError{Step: s.Name, Host: s.Host, Undo: true, Err: err})
			log.Error("undo failed", "step", s.Name, "host", s.Host, "err", err)
		}
		if _, jerr := j.Append(rec); jerr != nil {
			return errors.Join(fmt.Errorf("rollback: %w", jerr), err)
		}
		o.Emit(ev)
	}
	end := journal.Record{Event: journal.RollbackDone}
	var result error
	if len(failed) > 0 {
		result = &Error{Failed: failed}
		end.Event, end.Error = journal.RollbackFailed, result.Error()
	}
	if _, err := j.Append(end); err != nil {
		return errors.Join(result, fmt.Errorf("rollback: %w", err))
	}
	log.Info("rollback finished", "failed", len(failed))
	return result
}
