package plan

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// Phase groups steps in the documented order of a run (package upgrade
// names its phases); the printed plan and progress show it.
type Phase string

// Step is one change, on one host or none. Do must be idempotent: after
// the tool died in the middle of a step, a resumed run runs it again.
// Undo reverses Do (nil: nothing to reverse) and must tolerate a Do that
// ran only in part. Verify, when set, runs after Do and fails the step if
// the change did not take.
type Step struct {
	Name string
	// Host is the host key (address:port) of the host the step works on,
	// "" for a local step (Run.Node is then nil).
	Host  string
	Phase Phase
	// Changes says, for the printed plan, what the step changes.
	Changes string
	// PointOfNoReturn marks the step from which a run is no longer undone
	// on failure but finished by resuming it.
	PointOfNoReturn bool
	// Timeout bounds Do and Verify (0: Options.StepTimeout).
	Timeout time.Duration

	Do     func(ctx context.Context, r *Run) error
	Verify func(ctx context.Context, r *Run) error
	Undo   func(ctx context.Context, r *Run) error
}

// ID is Name@Host, or Name: unique in a plan, and the step's key in the
// journal.
func (s *Step) ID() string {
	if s.Host == "" {
		return s.Name
	}
	return s.Name + "@" + s.Host
}

// Run is what a step's functions get: the connection to its host and a
// small store, saved in the journal, for what Undo or a resumed Do needs to
// know (never secrets: the journal is a plain file).
type Run struct {
	Step *Step
	// Node is the connection to Step.Host; nil for a local step.
	Node   hosts.Node
	Logger *slog.Logger

	mu   sync.Mutex
	data map[string]string
}

// NewRun is the Run of step s, holding data (what the journal recorded for
// it in earlier runs; nil for none). The executor and package rollback
// make Runs; tests of a step make their own.
func NewRun(s *Step, node hosts.Node, log *slog.Logger, data map[string]string) *Run {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Run{Step: s, Node: node, Logger: log, data: maps.Clone(data)}
}

// Set records a value for Undo and resumes; it is journaled when the
// step ends.
func (r *Run) Set(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		r.data = map[string]string{}
	}
	r.data[key] = value
}

// Get returns a value Set by this step, in this run or an earlier one.
func (r *Run) Get(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[key]
}

// Data is a copy of what was Set (nil when nothing was).
func (r *Run) Data() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.data) == 0 {
		return nil
	}
	return maps.Clone(r.data)
}

// Stage is a set of lanes that run at the same time; the steps of a lane
// run in order. In an upgrade, managers are one stage each (one at a
// time), and a batch of workers is one stage with a lane per worker.
type Stage struct {
	Name  string
	Phase Phase
	Lanes [][]*Step
}

// Plan is the ordered work of a run: stages one after the other. Callers
// may change it before running it: InsertBefore, InsertAfter, Replace,
// Remove, or the Stages themselves (IDs must stay unique; Validate says).
type Plan struct {
	Stages []*Stage
}

// Steps returns every step in plan order (stage by stage, lane by lane).
func (p *Plan) Steps() []*Step {
	var out []*Step
	for _, st := range p.Stages {
		for _, lane := range st.Lanes {
			out = append(out, lane...)
		}
	}
	return out
}

// Find returns the step with the given ID.
func (p *Plan) Find(id string) (*Step, bool) {
	st, l, i := p.locate(id)
	if st == nil {
		return nil, false
	}
	return st.Lanes[l][i], true
}

// locate finds step id: its stage, lane and index in the lane.
func (p *Plan) locate(id string) (*Stage, int, int) {
	for _, st := range p.Stages {
		for l, lane := range st.Lanes {
			for i, s := range lane {
				if s.ID() == id {
					return st, l, i
				}
			}
		}
	}
	return nil, 0, 0
}

// StepNotFoundError is an edit of a plan naming a step it does not have.
type StepNotFoundError struct{ ID string }

func (e *StepNotFoundError) Error() string { return fmt.Sprintf("plan: no step %q", e.ID) }

// InsertBefore puts steps just before step id, in its lane: they run in
// order, after the lane's earlier steps, on their own hosts. A step
// without a Phase takes its stage's.
func (p *Plan) InsertBefore(id string, steps ...*Step) error { return p.insert(id, 0, steps) }

// InsertAfter puts steps just after step id, in its lane (see
// InsertBefore).
func (p *Plan) InsertAfter(id string, steps ...*Step) error { return p.insert(id, 1, steps) }

func (p *Plan) insert(id string, after int, steps []*Step) error {
	st, l, i := p.locate(id)
	if st == nil {
		return &StepNotFoundError{ID: id}
	}
	for _, s := range steps {
		if s.Phase == "" {
			s.Phase = st.Phase
		}
	}
	lane := st.Lanes[l]
	at := i + after
	st.Lanes[l] = append(lane[:at:at], append(steps, lane[at:]...)...)
	return nil
}

// Replace puts s in the place of step id (a changed step keeps the
// journal's record of the old one only when its ID is the same).
func (p *Plan) Replace(id string, s *Step) error {
	st, l, i := p.locate(id)
	if st == nil {
		return &StepNotFoundError{ID: id}
	}
	if s.Phase == "" {
		s.Phase = st.Phase
	}
	st.Lanes[l][i] = s
	return nil
}

// Remove takes step id out of the plan, and its lane or stage when they
// are left empty.
func (p *Plan) Remove(id string) error {
	st, l, i := p.locate(id)
	if st == nil {
		return &StepNotFoundError{ID: id}
	}
	st.Lanes[l] = append(st.Lanes[l][:i:i], st.Lanes[l][i+1:]...)
	if len(st.Lanes[l]) == 0 {
		st.Lanes = append(st.Lanes[:l:l], st.Lanes[l+1:]...)
	}
	if len(st.Lanes) == 0 {
		for k, s := range p.Stages {
			if s == st {
				p.Stages = append(p.Stages[:k:k], p.Stages[k+1:]...)
				break
			}
		}
	}
	return nil
}

// PointOfNoReturn returns the first step marked PointOfNoReturn: from its
// start, a failed run is finished by resuming it, not undone.
func (p *Plan) PointOfNoReturn() (*Step, bool) {
	for _, s := range p.Steps() {
		if s.PointOfNoReturn {
			return s, true
		}
	}
	return nil, false
}

// Validate checks that step IDs are unique and every step can run.
func (p *Plan) Validate() error {
	seen := map[string]bool{}
	for _, s := range p.Steps() {
		if s.Name == "" || s.Do == nil {
			return fmt.Errorf("plan: step %q has no name or no Do", s.ID())
		}
		if strings.ContainsAny(s.Name, "@ \t\n") {
			return fmt.Errorf("plan: step name %q may not contain '@' or spaces", s.Name)
		}
		if seen[s.ID()] {
			return fmt.Errorf("plan: step %q appears twice", s.ID())
		}
		seen[s.ID()] = true
	}
	return nil
}

// Print writes the plan for a dry run: every step with what it changes,
// the point of no return marked.
func (p *Plan) Print(w io.Writer) error {
	n, total := 0, len(p.Steps())
	for _, st := range p.Stages {
		if _, err := fmt.Fprintf(w, "%s\n", st.Name); err != nil {
			return err
		}
		for _, lane := range st.Lanes {
			for _, s := range lane {
				n++
				mark := ""
				if s.PointOfNoReturn {
					mark = "  <-- point of no return: from here a failure is resumed, not rolled back"
				}
				undo := "undo: yes"
				if s.Undo == nil {
					undo = "undo: nothing to undo"
				}
				where := s.Host
				if where == "" {
					where = "local"
				}
				if _, err := fmt.Fprintf(w, "  %3d/%d  %-28s %-22s %s (%s)%s\n", n, total, s.Name, where, s.Changes, undo, mark); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
