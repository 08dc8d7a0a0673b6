package upgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/rollback"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
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
// and how long it took.
type Event struct {
	Kind         EventKind
	Index, Total int
	Stage        string
	Step, Host   string
	Took         time.Duration
	Err          error
}

// StepError is the failure of one step on one host.
type StepError struct {
	Step, Host string
	Err        error
}

func (e *StepError) Error() string {
	if e.Host == "" {
		return fmt.Sprintf("step %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("step %s on %s: %v", e.Step, e.Host, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

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

// executor runs a plan against a journal.
type executor struct {
	plan    *Plan
	j       *journal.Journal
	clients *clientPool
	shared  *Shared
	log     *slog.Logger
	events  func(Event)

	stepTimeout time.Duration
	concurrency int
	total       int
	index       atomic.Int64
	ponr        atomic.Bool // a point-of-no-return step has started

	mu   sync.Mutex
	runs map[string]*Run // by step ID
	// state is the journal as it was when the executor was made: which
	// steps an earlier run of this journal finished.
	state *journal.State
}

func newExecutor(p *Plan, j *journal.Journal, clients *clientPool, shared *Shared, o *Options) *executor {
	x := &executor{plan: p, j: j, clients: clients, shared: shared, log: o.logger(), events: o.Events,
		stepTimeout: o.StepTimeout, concurrency: o.Concurrency, total: len(p.Steps()), runs: map[string]*Run{}}
	if x.stepTimeout <= 0 {
		x.stepTimeout = DefaultStepTimeout
	}
	if x.concurrency <= 0 {
		x.concurrency = hosts.DefaultConcurrency
	}
	x.state = journal.Replay(j.Records())
	state := x.state
	for _, s := range p.Steps() {
		if d := state.Data(s.Name, s.Host); len(d) > 0 {
			r := x.run(s)
			for k, v := range d {
				r.Set(k, v)
			}
		}
		if s.PointOfNoReturn && state.Status(s.Name, s.Host) != "" {
			x.ponr.Store(true)
		}
	}
	return x
}

func (x *executor) emit(e Event) {
	if x.events != nil {
		x.events(e)
	}
}

// run returns the Run of a step, made once.
func (x *executor) run(s *Step) *Run {
	x.mu.Lock()
	defer x.mu.Unlock()
	r, ok := x.runs[s.ID()]
	if !ok {
		r = &Run{Step: s, Logger: x.log.With("step", s.Name, "host", s.Host), shared: x.shared}
		x.runs[s.ID()] = r
	}
	return r
}

// apply runs every stage; a stage's lanes run at once (at most
// concurrency), a lane stops at its first failure and the others of the
// stage are cancelled. Steps the journal shows done are skipped.
func (x *executor) apply(ctx context.Context) error {
	state := x.state
	for _, st := range x.plan.Stages {
		sctx, cancel := context.WithCancelCause(ctx)
		var wg sync.WaitGroup
		sem := make(chan struct{}, x.concurrency)
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
						x.emit(Event{Kind: EventStepSkipped, Index: int(x.index.Add(1)), Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host})
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
		cancel(nil)
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("upgrade stopped before stage %q ended: %w", st.Name, err)
		}
	}
	return nil
}

// step runs one step: journal start, Do, Verify, journal the end.
func (x *executor) step(ctx context.Context, st *Stage, s *Step) error {
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
	x.emit(Event{Kind: EventStepStart, Index: idx, Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host})
	r.Logger.Info(fmt.Sprintf("Step %d of %d: %s", idx, x.total, s.Name))
	begin := time.Now()
	err := x.do(ctx, s, r)
	took := time.Since(begin)
	rec := journal.Record{Step: s.Name, Host: s.Host, Event: journal.StepDone, Data: r.snapshot()}
	kind := EventStepDone
	if err != nil {
		rec.Event, rec.Error, kind = journal.StepFailed, err.Error(), EventStepFailed
	}
	if _, jerr := x.j.Append(rec); jerr != nil && err == nil {
		err = jerr
	}
	x.emit(Event{Kind: kind, Index: idx, Total: x.total, Stage: st.Name, Step: s.Name, Host: s.Host, Took: took, Err: err})
	if err != nil {
		r.Logger.Error("step failed", "took", took, "err", err)
		return &StepError{Step: s.Name, Host: s.Host, Err: err}
	}
	r.Logger.Info("step done", "took", took.Round(time.Millisecond))
	return nil
}

func (x *executor) do(ctx context.Context, s *Step, r *Run) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = x.stepTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("step %s timed out after %v", s.ID(), timeout))
	defer cancel()
	if s.Host != "" {
		c, err := x.clients.get(ctx, s.Host)
		if err != nil {
			return err
		}
		r.Client = c
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

// undoable adapts a step for package rollback.
type undoable struct {
	x *executor
	s *Step
}

func (u undoable) Name() string { return u.s.Name }
func (u undoable) Host() string { return u.s.Host }
func (u undoable) Undo(ctx context.Context) error {
	r := u.x.run(u.s)
	if u.s.Host != "" {
		c, err := u.x.clients.get(ctx, u.s.Host)
		if err != nil {
			return err
		}
		r.Client = c
	}
	return u.s.Undo(ctx, r)
}

// rollback undoes, newest first, every step that started (done, failed,
// or cut off by the tool's death: Undo tolerates a partial Do), reading
// which from the journal so that it works on a resumed run too.
func (x *executor) rollback(ctx context.Context) error {
	var steps []rollback.Step
	seen := map[string]bool{}
	for _, rec := range x.j.Records() {
		if rec.Event != journal.StepStart || rec.Step == "" {
			continue
		}
		id := (&Step{Name: rec.Step, Host: rec.Host}).ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		s, ok := x.plan.Find(id)
		if !ok {
			return fmt.Errorf("rollback: the journal names step %s, which the plan does not have: was the plan changed?", id)
		}
		if s.Undo != nil {
			steps = append(steps, undoable{x, s})
		}
	}
	x.emit(Event{Kind: EventRollbackInfo, Total: len(steps)})
	return rollback.Run(ctx, steps, rollback.Options{
		Journal:     x.j,
		StepTimeout: x.stepTimeout,
		Logger:      x.log,
		Events: func(e rollback.Event) {
			k := EventUndoStart
			if e.Done {
				k = EventUndoDone
				if e.Err != nil {
					k = EventUndoFailed
				}
			}
			x.emit(Event{Kind: k, Index: e.Index, Total: e.Total, Step: e.Step, Host: e.Host, Took: e.Took, Err: e.Err})
		},
	})
}

// clientPool keeps one connection per host for the whole run.
type clientPool struct {
	opts  hosts.ConnectOptions
	hosts map[string]hosts.Host

	mu      sync.Mutex
	clients map[string]*hosts.Client
	dialing map[string]*sync.Mutex
	spent   map[string]int // commands of closed connections
}

func newClientPool(hs []hosts.Host, o hosts.ConnectOptions) *clientPool {
	p := &clientPool{opts: o, hosts: map[string]hosts.Host{}, clients: map[string]*hosts.Client{}, dialing: map[string]*sync.Mutex{}, spent: map[string]int{}}
	for _, h := range hs {
		p.hosts[hostKey(h)] = h
	}
	return p
}

// hostKey is how steps name hosts: address:port (hosts.Host.String).
func hostKey(h hosts.Host) string { return h.String() }

func (p *clientPool) get(ctx context.Context, key string) (*hosts.Client, error) {
	p.mu.Lock()
	h, ok := p.hosts[key]
	if !ok {
		p.mu.Unlock()
		return nil, fmt.Errorf("upgrade: no host %s in hosts.yaml", key)
	}
	if c := p.clients[key]; c != nil && c.Err() == nil {
		p.mu.Unlock()
		return c, nil
	}
	dl := p.dialing[key]
	if dl == nil {
		dl = &sync.Mutex{}
		p.dialing[key] = dl
	}
	p.mu.Unlock()
	dl.Lock()
	defer dl.Unlock()
	p.mu.Lock()
	if c := p.clients[key]; c != nil && c.Err() == nil {
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := hosts.Connect(ctx, h, p.opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if old := p.clients[key]; old != nil {
		p.spent[key] += old.Commands()
		_ = old.Close()
	}
	p.clients[key] = c
	p.mu.Unlock()
	return c, nil
}

// commands counts the remote commands of every host's connections,
// including ones replaced after they broke.
func (p *clientPool) commands() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.clients))
	for k, c := range p.clients {
		out[k] = p.spent[k] + c.Commands()
	}
	return out
}

func (p *clientPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		_ = c.Close()
	}
	p.clients = map[string]*hosts.Client{}
}
