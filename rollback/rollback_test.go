package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rollback"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// recorder makes steps whose undo is logged, and fails when told to.
type recorder struct {
	mu   sync.Mutex
	log  []string
	fail map[string]error
	// block makes the named step's undo wait for its context.
	block string
}

func (r *recorder) step(name, host string) *plan.Step {
	return &plan.Step{Name: name, Host: host,
		Do: func(context.Context, *plan.Run) error { return nil },
		Undo: func(ctx context.Context, run *plan.Run) error {
			if name == r.block {
				<-ctx.Done()
				return ctx.Err()
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			entry := name + "@" + host
			if v := run.Get("saved"); v != "" {
				entry += " saved=" + v
			}
			if n, ok := run.Node.(*fakeNode); ok {
				entry += " node=" + n.host
			}
			r.log = append(r.log, entry)
			return r.fail[name]
		}}
}

// fakeNode stands for a connection; the steps here only look at its host.
type fakeNode struct{ host string }

func (n *fakeNode) Exec(context.Context, string, ...hosts.ExecOption) (string, error) { return "", nil }
func (n *fakeNode) Upload(context.Context, []byte, string, fs.FileMode, bool) error   { return nil }
func (n *fakeNode) ReadFile(context.Context, string, bool) ([]byte, error)            { return nil, nil }

type nodes struct{ down string }

func (ns nodes) Node(_ context.Context, host string) (hosts.Node, error) {
	if host == ns.down {
		return nil, errors.New(host + " unreachable")
	}
	return &fakeNode{host: host}, nil
}

func planOf(steps ...*plan.Step) *plan.Plan {
	return &plan.Plan{Stages: []*plan.Stage{{Name: "S", Lanes: [][]*plan.Step{steps}}}}
}

// started journals the start (and, with data, the end) of steps, as the
// executor does.
func started(t *testing.T, j *journal.Journal, steps ...*plan.Step) {
	t.Helper()
	for _, s := range steps {
		if _, err := j.Append(journal.Record{Step: s.Name, Host: s.Host, Event: journal.StepStart}); err != nil {
			t.Fatal(err)
		}
	}
}

func newJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Create(t.TempDir(), "run-1", journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func TestUndoesNewestFirstAndJournals(t *testing.T) {
	rec := &recorder{}
	a, b, c, notStarted := rec.step("a", "h1"), rec.step("b", "h1"), rec.step("c", ""), rec.step("d", "h2")
	noUndo := &plan.Step{Name: "n", Do: a.Do}
	j := newJournal(t)
	started(t, j, a, noUndo, b)
	// what b recorded for its undo reaches it
	if _, err := j.Append(journal.Record{Step: "b", Host: "h1", Event: journal.StepDone, Data: map[string]string{"saved": "yes"}}); err != nil {
		t.Fatal(err)
	}
	started(t, j, c, b) // a step started twice (a resumed run) is undone once
	var events []plan.Event
	err := rollback.Run(t.Context(), planOf(a, noUndo, b, c, notStarted), rollback.Options{Journal: j,
		Options: plan.Options{Nodes: nodes{}, Events: func(e plan.Event) { events = append(events, e) }}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c@", "b@h1 saved=yes node=h1", "a@h1 node=h1"}; !slices.Equal(rec.log, want) {
		t.Fatalf("undo log %q, want %q", rec.log, want)
	}
	st := journal.Replay(j.Records())
	for _, s := range []*plan.Step{a, b, c} {
		if got := st.Status(s.Name, s.Host); got != journal.Undone {
			t.Errorf("%s: journal says %q", s.ID(), got)
		}
	}
	if ev, ok := st.RunEnded(); !ok || ev != journal.RollbackDone {
		t.Errorf("run ended %v %v", ev, ok)
	}
	kinds := []plan.EventKind{plan.EventRollbackInfo, plan.EventUndoStart, plan.EventUndoDone, plan.EventUndoStart, plan.EventUndoDone, plan.EventUndoStart, plan.EventUndoDone}
	var got []plan.EventKind
	for _, e := range events {
		got = append(got, e.Kind)
	}
	if !slices.Equal(got, kinds) || events[0].Total != 3 || events[1].Index != 1 || events[1].Total != 3 || events[1].Step != "c" {
		t.Errorf("events %+v", events)
	}
}

func TestFailedUndoGoesOnAndIsReported(t *testing.T) {
	boom := errors.New("docker start failed")
	rec := &recorder{fail: map[string]error{"b": boom}}
	steps := []*plan.Step{rec.step("a", "h1"), rec.step("b", "h2"), rec.step("c", "h3"), rec.step("d", "down")}
	j := newJournal(t)
	started(t, j, steps...)
	o := rollback.Options{Journal: j, Options: plan.Options{Nodes: nodes{down: "down"}}}
	err := rollback.Run(t.Context(), planOf(steps...), o)
	var re *rollback.Error
	if !errors.As(err, &re) || len(re.Failed) != 2 || re.Failed[1].Host != "h2" || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var se *plan.StepError
	if !errors.As(err, &se) || !se.Undo || se.Host != "down" || se.Error() != "undo d on down: down unreachable" {
		t.Fatalf("first failure %v", se)
	}
	if len(rec.log) != 3 {
		t.Fatalf("undos after the failures did not run: %v", rec.log)
	}
	st := journal.Replay(j.Records())
	if st.Status("b", "h2") != journal.UndoFailed || st.Status("d", "down") != journal.UndoFailed {
		t.Errorf("b: %q, d: %q", st.Status("b", "h2"), st.Status("d", "down"))
	}

	// A second rollback (the operator fixed the nodes) undoes only what is
	// left.
	rec.log, rec.fail = nil, nil
	o.Nodes = nodes{}
	if err := rollback.Run(t.Context(), planOf(steps...), o); err != nil {
		t.Fatal(err)
	}
	if want := []string{"d@down node=down", "b@h2 node=h2"}; !slices.Equal(rec.log, want) {
		t.Fatalf("resumed rollback undid %v", rec.log)
	}
}

func TestPlanChanged(t *testing.T) {
	rec := &recorder{}
	j := newJournal(t)
	started(t, j, rec.step("gone", "h1"))
	err := rollback.Run(t.Context(), planOf(rec.step("a", "h1")), rollback.Options{Journal: j})
	if err == nil || len(rec.log) != 0 {
		t.Fatalf("err = %v, undid %v", err, rec.log)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	rec := &recorder{block: "hangs"}
	steps := []*plan.Step{rec.step("a", ""), rec.step("hangs", "")}
	j := newJournal(t)
	started(t, j, steps...)
	err := rollback.Run(t.Context(), planOf(steps...), rollback.Options{Journal: j, Options: plan.Options{StepTimeout: 50 * time.Millisecond}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the step's deadline", err)
	}
	if !slices.Equal(rec.log, []string{"a@"}) {
		t.Fatalf("log %v", rec.log)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	j = newJournal(t)
	x := rec.step("x", "")
	started(t, j, x)
	err = rollback.Run(ctx, planOf(x), rollback.Options{Journal: j})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := rollback.Run(t.Context(), planOf(), rollback.Options{}); err == nil {
		t.Fatal("no error without a journal")
	}
}

// Undo the started steps of a run, newest first, with "Step i of n".
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "rollback-example-")
	defer os.RemoveAll(dir)
	j, err := journal.Create(dir, "example-run", journal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	step := func(name string) *plan.Step {
		return &plan.Step{Name: name, Host: "manager-1:22",
			Do:   func(context.Context, *plan.Run) error { return nil },
			Undo: func(context.Context, *plan.Run) error { return nil }}
	}
	p := &plan.Plan{Stages: []*plan.Stage{{Name: "Manager 1", Lanes: [][]*plan.Step{{step("mke3-stop"), step("k0s-controller")}}}}}
	// the run that died had started both
	for _, s := range p.Steps() {
		_, _ = j.Append(journal.Record{Step: s.Name, Host: s.Host, Event: journal.StepStart})
	}
	err = rollback.Run(context.Background(), p, rollback.Options{Journal: j, Options: plan.Options{
		Nodes: nodes{},
		Events: func(e plan.Event) {
			if e.Kind == plan.EventUndoStart {
				fmt.Printf("Step %d of %d: undo %s on %s\n", e.Index, e.Total, e.Step, e.Host)
			}
		}}})
	fmt.Println(err)
	// Output:
	// Step 1 of 2: undo k0s-controller on manager-1:22
	// Step 2 of 2: undo mke3-stop on manager-1:22
	// <nil>
}
