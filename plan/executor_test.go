package plan_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rollback"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// local makes local steps (no hosts) that log what they do.
type local struct {
	mu  sync.Mutex
	log []string
}

func (l *local) add(s string) { l.mu.Lock(); l.log = append(l.log, s); l.mu.Unlock() }

func (l *local) step(name string, fail error, ponr bool) *plan.Step {
	return &plan.Step{Name: name, PointOfNoReturn: ponr,
		Do: func(ctx context.Context, r *plan.Run) error {
			l.add("do " + name)
			r.Set("did", name)
			return fail
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			l.add("undo " + name + " " + r.Get("did"))
			return nil
		}}
}

// stages is a plan of one single-lane stage per argument.
func stages(lanes ...[]*plan.Step) *plan.Plan {
	p := &plan.Plan{}
	for i, l := range lanes {
		p.Stages = append(p.Stages, &plan.Stage{Name: string(rune('A' + i)), Lanes: [][]*plan.Step{l}})
	}
	return p
}

func opts() plan.Options { return plan.Options{StepTimeout: time.Second} }

func TestApplyThenRollbackUndoesStartedSteps(t *testing.T) {
	l := &local{}
	boom := errors.New("boom")
	p := stages([]*plan.Step{l.step("one", nil, false), l.step("two", nil, false)}, []*plan.Step{l.step("three", boom, false), l.step("never", nil, false)})
	require(t, p.Validate())
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	err = plan.NewExecutor(p, j, opts()).Apply(t.Context())
	var se *plan.StepError
	if !errors.As(err, &se) || se.Step != "three" || se.Undo || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	require(t, rollback.Run(t.Context(), p, rollback.Options{Journal: j, Options: opts()}))
	want := []string{"do one", "do two", "do three", "undo three three", "undo two two", "undo one one"}
	if !slices.Equal(l.log, want) {
		t.Fatalf("log %v\nwant %v", l.log, want)
	}
}

func TestResumeSkipsDoneSteps(t *testing.T) {
	l := &local{}
	dir := t.TempDir()
	fail := errors.New("transient")
	two := l.step("two", fail, false)
	p := stages([]*plan.Step{l.step("one", nil, false), two, l.step("three", nil, true)})
	j, err := journal.Create(dir, "r1", journal.Options{})
	require(t, err)
	x := plan.NewExecutor(p, j, opts())
	if err := x.Apply(t.Context()); !errors.Is(err, fail) {
		t.Fatalf("err = %v", err)
	}
	if x.PastPointOfNoReturn() {
		t.Error("past the point of no return before it started")
	}
	require(t, j.Close())

	// the cause is fixed; a resumed run does not redo "one"
	var seen []string
	*two = plan.Step{Name: "two", Do: func(ctx context.Context, r *plan.Run) error {
		// values a step set in the first run reach the resumed run
		seen = append(seen, r.Get("did"))
		l.add("do two")
		return nil
	}}
	j, err = journal.Open(dir, journal.Options{})
	require(t, err)
	var events []plan.EventKind
	o := opts()
	o.Events = func(e plan.Event) { events = append(events, e.Kind) }
	x = plan.NewExecutor(p, j, o)
	require(t, x.Apply(t.Context()))
	if !x.PastPointOfNoReturn() {
		t.Error("point of no return not noted")
	}
	want := []string{"do one", "do two", "do two", "do three"}
	if !slices.Equal(l.log, want) {
		t.Fatalf("log %v\nwant %v", l.log, want)
	}
	if !slices.Equal(seen, []string{"two"}) {
		t.Errorf("restored data %q", seen)
	}
	if events[0] != plan.EventStepSkipped {
		t.Errorf("events %v", events)
	}
}

func TestStepTimeoutAndLaneCancel(t *testing.T) {
	slow := &plan.Step{Name: "slow", Timeout: 50 * time.Millisecond, Do: func(ctx context.Context, r *plan.Run) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	var sawCancel bool
	other := &plan.Step{Name: "other", Do: func(ctx context.Context, r *plan.Run) error {
		select {
		case <-ctx.Done():
			sawCancel = true
			return ctx.Err()
		case <-time.After(time.Minute): // a safety net: the cancel is awaited, not timed
			return nil
		}
	}}
	p := &plan.Plan{Stages: []*plan.Stage{{Name: "S", Lanes: [][]*plan.Step{{slow}, {other}}}}}
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	err = plan.NewExecutor(p, j, opts()).Apply(t.Context())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if !sawCancel {
		t.Error("the other lane of the stage was not cancelled")
	}
}

// A step with a host needs Nodes; the failure is the step's.
func TestHostStepWithoutNodes(t *testing.T) {
	p := stages([]*plan.Step{{Name: "remote", Host: "10.0.0.1:22", Do: func(context.Context, *plan.Run) error { return nil }}})
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	var se *plan.StepError
	if err := plan.NewExecutor(p, j, opts()).Apply(t.Context()); !errors.As(err, &se) || se.Host != "10.0.0.1:22" {
		t.Fatalf("err = %v", err)
	}
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The lane that fails first cancels the others; errors.As finds its
// error, not the error of a lane it cut short, whatever the lanes' order.
func TestFailedLaneIsTheCause(t *testing.T) {
	boom := errors.New("boom")
	started := make(chan struct{})
	cut := &plan.Step{Name: "cut", Do: func(ctx context.Context, r *plan.Run) error {
		close(started)
		<-ctx.Done() // awaited, not timed
		return ctx.Err()
	}}
	fails := &plan.Step{Name: "fails", Do: func(ctx context.Context, r *plan.Run) error {
		<-started // the other lane is running when this one fails
		return boom
	}}
	p := &plan.Plan{Stages: []*plan.Stage{{Name: "S", Lanes: [][]*plan.Step{{cut}, {fails}}}}}
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	err = plan.NewExecutor(p, j, opts()).Apply(t.Context())
	var se *plan.StepError
	if !errors.As(err, &se) || se.Step != "fails" || !errors.Is(err, boom) {
		t.Fatalf("first step error = %+v, err = %v; want the failing lane's", se, err)
	}
}
