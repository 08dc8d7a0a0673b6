package upgrade

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// local is a plan of local steps (no hosts) that log what they do.
type local struct {
	mu  sync.Mutex
	log []string
}

func (l *local) add(s string) { l.mu.Lock(); l.log = append(l.log, s); l.mu.Unlock() }

func (l *local) step(name string, fail error, ponr bool) *Step {
	return &Step{Name: name, PointOfNoReturn: ponr,
		Do: func(ctx context.Context, r *Run) error {
			l.add("do " + name)
			r.Set("did", name)
			return fail
		},
		Undo: func(ctx context.Context, r *Run) error {
			l.add("undo " + name + " " + r.Get("did"))
			return nil
		}}
}

func testExecutor(t *testing.T, p *Plan, j *journal.Journal) *executor {
	t.Helper()
	o := &Options{StepTimeout: time.Second}
	return newExecutor(p, j, newClientPool(nil, o.Connect), &Shared{}, o)
}

func plan(lanes ...[]*Step) *Plan {
	p := &Plan{}
	for i, l := range lanes {
		p.Stages = append(p.Stages, &Stage{Name: string(rune('A' + i)), Lanes: [][]*Step{l}})
	}
	return p
}

func TestExecutorRollsBackStartedSteps(t *testing.T) {
	l := &local{}
	boom := errors.New("boom")
	p := plan([]*Step{l.step("one", nil, false), l.step("two", nil, false)}, []*Step{l.step("three", boom, false), l.step("never", nil, false)})
	require(t, p.Validate())
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	x := testExecutor(t, p, j)
	err = x.apply(t.Context())
	var se *StepError
	if !errors.As(err, &se) || se.Step != "three" || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	require(t, x.rollback(t.Context()))
	want := []string{"do one", "do two", "do three", "undo three three", "undo two two", "undo one one"}
	if !slices.Equal(l.log, want) {
		t.Fatalf("log %v\nwant %v", l.log, want)
	}
}

func TestExecutorResumeSkipsDoneSteps(t *testing.T) {
	l := &local{}
	dir := t.TempDir()
	fail := errors.New("transient")
	two := l.step("two", fail, false)
	p := plan([]*Step{l.step("one", nil, false), two, l.step("three", nil, true)})
	j, err := journal.Create(dir, "r1", journal.Options{})
	require(t, err)
	if err := testExecutor(t, p, j).apply(t.Context()); !errors.Is(err, fail) {
		t.Fatalf("err = %v", err)
	}
	require(t, j.Close())

	// the cause is fixed; a resumed run does not redo "one"
	*two = *l.step("two", nil, false)
	j, err = journal.Open(dir, journal.Options{})
	require(t, err)
	x := testExecutor(t, p, j)
	require(t, x.apply(t.Context()))
	if !x.ponr.Load() {
		t.Error("point of no return not noted")
	}
	want := []string{"do one", "do two", "do two", "do three"}
	if !slices.Equal(l.log, want) {
		t.Fatalf("log %v\nwant %v", l.log, want)
	}
	// values a step set in the first run reach the resumed executor
	if got := x.run(p.Stages[0].Lanes[0][0]).Get("did"); got != "one" {
		t.Errorf("restored data %q", got)
	}
}

func TestExecutorStepTimeoutAndLaneCancel(t *testing.T) {
	slow := &Step{Name: "slow", Timeout: 50 * time.Millisecond, Do: func(ctx context.Context, r *Run) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	var sawCancel bool
	other := &Step{Name: "other", Do: func(ctx context.Context, r *Run) error {
		select {
		case <-ctx.Done():
			sawCancel = true
			return ctx.Err()
		case <-time.After(5 * time.Second):
			return nil
		}
	}}
	p := &Plan{Stages: []*Stage{{Name: "S", Lanes: [][]*Step{{slow}, {other}}}}}
	j, err := journal.Create(t.TempDir(), "r1", journal.Options{})
	require(t, err)
	err = testExecutor(t, p, j).apply(t.Context())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if !sawCancel {
		t.Error("the other lane of the stage was not cancelled")
	}
}

func TestPlanValidate(t *testing.T) {
	do := func(context.Context, *Run) error { return nil }
	for _, p := range []*Plan{
		plan([]*Step{{Name: "a", Do: do}, {Name: "a", Do: do}}),
		plan([]*Step{{Name: "a b", Do: do}}),
		plan([]*Step{{Name: "a"}}),
	} {
		if p.Validate() == nil {
			t.Errorf("%+v: no error", p.Steps())
		}
	}
	if err := plan([]*Step{{Name: "a", Do: do}, {Name: "a", Host: "h:22", Do: do}}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestBatches(t *testing.T) {
	ws := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	for _, tc := range []struct {
		pct  int
		want []int
	}{{10, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, {20, []int{2, 2, 2, 2, 2, 1}}, {50, []int{5, 5, 1}}, {100, []int{11}}} {
		var got []int
		for _, b := range batches(ws, tc.pct) {
			got = append(got, len(b))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%d%%: %v, want %v", tc.pct, got, tc.want)
		}
	}
	if len(batches(nil, 10)) != 0 {
		t.Error("batches of no workers")
	}
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
