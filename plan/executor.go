package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// DefaultStepTimeout bounds a step without a Timeout of its own.
const DefaultStepTimeout = 10 * time.Minute

// Nodes gives the connection to a host by its key (Step.Host). A run
// keeps one connection per host and redials one that broke.
type Nodes interface {
	Node(ctx context.Context, host string) (hosts.Node, error)
}

// Options configure an Executor (and package rollback).
type Options struct {
	// Nodes connects the steps that have a Host; required for those.
	Nodes Nodes
	// StepTimeout bounds each step without a Timeout (default
	// DefaultStepTimeout); Concurrency the lanes of a stage run at once
	// (default hosts.DefaultConcurrency).
	StepTimeout time.Duration
	Concurrency int
	Logger      *slog.Logger
	Events      func(Event)
}

// Fill returns o with its defaults set.
func (o Options) Fill() Options {
	if o.StepTimeout <= 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = hosts.DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Emit sends e to o.Events, if set.
func (o Options) Emit(e Event) {
	if o.Events != nil {
		o.Events(e)
	}
}

// Bind connects r to its step's host (nothing for a local step).
func (o Options) Bind(ctx context.Context, r *Run) error {
	if r.Step.Host == "" {
		return nil
	}
	if o.Nodes == nil {
		return fmt.Errorf("plan: step %s has a host but the run has no Nodes", r.Step.ID())
	}
	n, err := o.Nodes.Node(ctx, r.Step.Host)
	if err != nil {
		return err
	}
	r.Node = n
	return nil
}

// Executor runs a plan against a journal: every step's start and end is
// journaled (with fsync) before and after it runs, so that a later process
// can resume the run or undo it (package rollback).
type Executor struct {
	plan *Plan
	j    *journal.Journal
	o    Options

	total int
	index atomic.Int64
	ponr  atomic.Bool // a point-of-no-return step has started

	mu   sync.Mutex
	runs map[string]*Run // by step ID
	// state is the journal as it was when the executor was made: which
	// steps an earlier run of this journal finished.
	state *journal.State
}

// NewExecutor prepares p to run on journal j, which may hold an earlier
// run of the same plan (a resume): the steps it shows done are skipped,
// and what the steps recorded there (Run.Set) is theirs again.
func NewExecutor(p *Plan, j *journal.Journal, o Options) *Executor {
	x := &Executor{plan: p, j: j, o: o.Fill(), total: len(p.Steps()), runs: map[string]*Run{}}
	x.state = journal.Replay(j.Records())
	for _, s := range p.Steps() {
		if d := x.state.Data(s.Name, s.Host); len(d) > 0 {
			x.runs[s.ID()] = NewRun(s, nil, x.logger(s), d)
		}
		if s.PointOfNoReturn && x.state.Status(s.Name, s.Host) != "" {
			x.ponr.Store(true)
		}
	}
	return x
}

// PastPointOfNoReturn says whether a point-of-no-return step has started,
// in this run or an earlier run of the journal.
func (x *Executor) PastPointOfNoReturn() bool { return x.ponr.Load() }

func (x *Executor) logger(s *Step) *slog.Logger {
	return x.o.Logger.With("step", s.Name, "host", s.Host)
}

// run returns the Run of a step, made once.
func (x *Executor) run(s *Step) *Run {
	x.mu.Lock()
	defer x.mu.Unlock()
	r, ok := x.runs[s.ID()]
	if !ok {
		r = NewRun(s, nil, x.logger(s), nil)
		x.runs[s.ID()] = r
	}
	return r
}

// Apply runs every stage; a stage's lanes run at once (at most
// Concurrency), a lane stops at its first failure and the others of the
// stage are cancelled. Steps the journal shows done are skipped. A failed
// step is a *StepError; Apply does not undo anything (package rollback
// does).
func (x *Executor) Apply(ctx context.Context) error {
	state := x.state
	for _, st := range x.plan.Stages {
		sctx, cancel := context.WithCancelCause(ctx)
		var wg sync.WaitGroup
		sem := make(chan struct{}, x.o.Concurrency)
		errs := make([]error, len(st.Lanes))
		for i, lane := range st.Lanes {
			select {
			case sem <- struct{}{}:
			case <-sctx.Done():
			}
			if sctx.Err() != nil {
				break
			}
			wg.Go(func() {
				defer func() { <-sem }()
				for _, s := range lane {
					if state.Done(s.Name, s.Host) {
						x.o.Emit(Event{Kind: EventStepSkipped, Index: int(x.index.Add(1)), Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host})
						continue
					}
					if err := x.step(sctx, st, s); err != nil {
						errs[i] = err
						cancel(err)
						return
					}
				}
			})
		}
		wg.Wait()
		// the lane that failed first cancelled the others: its error comes
		// first, so that errors.As finds the cause, not a lane it cut short
		root := context.Cause(sctx)
		cancel(nil)
		if ctx.Err() == nil && root != nil {
			for i, err := range errs {
				if err == root {
					errs[0], errs[i] = errs[i], errs[0]
					break
				}
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("run stopped before stage %q ended: %w", st.Name, err)
		}
	}
	return nil
}

// step runs one step: journal start, Do, Verify, journal the end.
func (x *Executor) step(ctx context.Context, st *Stage, s *Step) error {
	idx := int(x.index.Add(1))
	if err := ctx.Err(); err != nil {
		return &StepError{Step: s.Name, Host: s.Host, Err: err}
	}
	r := x.run(s)
	start := journal.Record{Step: s.Name, Host: s.Host, Event: journal.StepStart}
	if s.PointOfNoReturn {
		x.ponr.Store(true)
		start.Data = map[string]string{"pointOfNoReturn": "true"}
	}
	if _, err := x.j.Append(start); err != nil {
		return &StepError{Step: s.Name, Host: s.Host, Err: err}
	}
	x.o.Emit(Event{Kind: EventStepStart, Index: idx, Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host})
	r.Logger.Info(fmt.Sprintf("Step %d of %d: %s", idx, x.total, s.Name))
	begin := time.Now()
	err := x.do(ctx, s, r)
	took := time.Since(begin)
	rec := journal.Record{Step: s.Name, Host: s.Host, Event: journal.StepDone, Data: r.Data()}
	kind := EventStepDone
	if err != nil {
		rec.Event, rec.Error, kind = journal.StepFailed, err.Error(), EventStepFailed
	}
	if _, jerr := x.j.Append(rec); jerr != nil && err == nil {
		err = jerr
	}
	x.o.Emit(Event{Kind: kind, Index: idx, Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host, Took: took, Err: err})
	if err != nil {
		r.Logger.Error("step failed", "took", took, "err", err)
		return &StepError{Step: s.Name, Host: s.Host, Err: err}
	}
	r.Logger.Info("step done", "took", took.Round(time.Millisecond))
	return nil
}

func (x *Executor) do(ctx context.Context, s *Step, r *Run) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = x.o.StepTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("step %s timed out after %v", s.ID(), timeout))
	defer cancel()
	if err := x.o.Bind(ctx, r); err != nil {
		return err
	}
	err := s.Do(ctx, r)
	if err == nil && s.Verify != nil {
		err = s.Verify(ctx, r)
	}
	if err != nil && ctx.Err() != nil {
		// say why the context ended (the step's timeout, or the run's)
		if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
	}
	return err
}
