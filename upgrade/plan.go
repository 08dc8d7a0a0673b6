package upgrade

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// Phase groups steps in the documented order of an MKE 3 → MKE 4k upgrade.
type Phase string

// Phases, in order.
const (
	PhaseBackup   Phase = "backup"
	PhaseMigrate  Phase = "pre-upgrade migrations"
	PhaseManagers Phase = "managers"
	PhaseWorkers  Phase = "workers"
	PhaseRBAC     Phase = "rbac"
	PhaseCleanup  Phase = "mke3 cleanup"
	PhaseOutput   Phase = "output"
)

// Step is one change, on one host or none. Do must be idempotent: after
// the tool died in the middle of a step, Resume runs it again. Undo
// reverses Do (nil: nothing to reverse) and must tolerate a Do that ran
// only in part. Verify, when set, runs after Do and fails the step if the
// change did not take.
type Step struct {
	Name  string
	Host  string // Host.String() of the host, "" for steps that are not about one host
	Phase Phase
	// Changes says, for the printed plan, what the step changes.
	Changes string
	// PointOfNoReturn marks the step from which the upgrade is no longer
	// undone on failure but finished by Resume (MKE 3 is gone after it).
	PointOfNoReturn bool
	// Timeout bounds Do and Verify (0: Options.StepTimeout).
	Timeout time.Duration

	Do     func(ctx context.Context, r *Run) error
	Verify func(ctx context.Context, r *Run) error
	Undo   func(ctx context.Context, r *Run) error
}

// ID is Name@Host, or Name.
func (s *Step) ID() string {
	if s.Host == "" {
		return s.Name
	}
	return s.Name + "@" + s.Host
}

// Run is what a step's functions get: its host's connection and a small
// store, saved in the journal, for what Undo or a resumed Do needs to
// know (never secrets: the journal is a plain file).
type Run struct {
	Step   *Step
	Client *hosts.Client // nil for steps without a host
	Logger *slog.Logger

	mu   sync.Mutex
	data map[string]string
	// shared is the plan's state shared between steps in memory (the
	// cluster facts, the leader's connection).
	shared *Shared
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

// Shared is what the steps of one run share.
func (r *Run) Shared() *Shared { return r.shared }

func (r *Run) snapshot() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.data) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.data))
	for k, v := range r.data {
		out[k] = v
	}
	return out
}

// Stage is a set of lanes that run at the same time; the steps of a lane
// run in order. Managers are one stage each (one at a time); a batch of
// workers is one stage with a lane per worker.
type Stage struct {
	Name  string
	Phase Phase
	Lanes [][]*Step
}

// Plan is the ordered work of an upgrade. Library callers may change it
// before Apply: insert, replace or remove steps (IDs must stay unique).
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
	for _, s := range p.Steps() {
		if s.ID() == id {
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
			return fmt.Errorf("upgrade: plan: step %q has no name or no Do", s.ID())
		}
		if strings.ContainsAny(s.Name, "@ \t\n") {
			return fmt.Errorf("upgrade: plan: step name %q may not contain '@' or spaces", s.Name)
		}
		if seen[s.ID()] {
			return fmt.Errorf("upgrade: plan: step %q appears twice", s.ID())
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
