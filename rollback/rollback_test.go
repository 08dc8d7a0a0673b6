package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/mke-migrate/mke-migrate/rollback"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// step records its undo in a shared log and fails when told to.
type step struct {
	name, host string
	fail       error
	log        *[]string
	blockUntil <-chan struct{}
}

func (s *step) Name() string { return s.name }
func (s *step) Host() string { return s.host }
func (s *step) Undo(ctx context.Context) error {
	if s.blockUntil != nil {
		select {
		case <-s.blockUntil:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	*s.log = append(*s.log, s.name+"@"+s.host)
	return s.fail
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

func TestUndoesInReverseAndJournals(t *testing.T) {
	var log []string
	steps := []rollback.Step{
		&step{name: "a", host: "h1", log: &log},
		&step{name: "b", host: "h1", log: &log},
		&step{name: "c", host: "", log: &log},
	}
	j := newJournal(t)
	var events []rollback.Event
	if err := rollback.Run(t.Context(), steps, rollback.Options{Journal: j, Events: func(e rollback.Event) { events = append(events, e) }}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c@", "b@h1", "a@h1"}; !slices.Equal(log, want) {
		t.Fatalf("undo order %v, want %v", log, want)
	}
	st := journal.Replay(j.Records())
	for _, s := range steps {
		if got := st.Status(s.Name(), s.Host()); got != journal.Undone {
			t.Errorf("%s@%s: journal says %q", s.Name(), s.Host(), got)
		}
	}
	if ev, ok := st.RunEnded(); !ok || ev != journal.RollbackDone {
		t.Errorf("run ended %v %v", ev, ok)
	}
	if len(events) != 6 || events[0].Index != 1 || events[0].Total != 3 || !events[5].Done {
		t.Errorf("events %+v", events)
	}
}

func TestFailedUndoGoesOnAndIsReported(t *testing.T) {
	var log []string
	boom := errors.New("docker start failed")
	steps := []rollback.Step{
		&step{name: "a", host: "h1", log: &log},
		&step{name: "b", host: "h2", log: &log, fail: boom},
		&step{name: "c", host: "h3", log: &log},
	}
	j := newJournal(t)
	err := rollback.Run(t.Context(), steps, rollback.Options{Journal: j})
	var re *rollback.Error
	if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[0].Host != "h2" || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if len(log) != 3 {
		t.Fatalf("undos after the failure did not run: %v", log)
	}
	st := journal.Replay(j.Records())
	if st.Status("b", "h2") != journal.UndoFailed {
		t.Errorf("b: %q", st.Status("b", "h2"))
	}

	// A second rollback (the operator fixed the node) undoes only what is
	// left.
	log = nil
	steps[1].(*step).fail = nil
	if err := rollback.Run(t.Context(), steps, rollback.Options{Journal: j}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(log, []string{"b@h2"}) {
		t.Fatalf("resumed rollback undid %v", log)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	var log []string
	never := make(chan struct{})
	steps := []rollback.Step{&step{name: "a", log: &log}, &step{name: "hangs", log: &log, blockUntil: never}}
	j := newJournal(t)
	err := rollback.Run(t.Context(), steps, rollback.Options{Journal: j, StepTimeout: 50e6})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the step's deadline", err)
	}
	if !slices.Equal(log, []string{"a@"}) {
		t.Fatalf("log %v", log)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = rollback.Run(ctx, []rollback.Step{&step{name: "x", log: &log}}, rollback.Options{Journal: newJournal(t)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := rollback.Run(t.Context(), nil, rollback.Options{}); err == nil {
		t.Fatal("no error without a journal")
	}
}

// Undo the completed steps of a run, newest first, with "Step i of n".
func ExampleRun() {
	dir, _ := mkdirTemp()
	defer os.RemoveAll(dir)
	j, err := journal.Create(dir, "example-run", journal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	var log []string
	steps := []rollback.Step{
		&step{name: "mke3-stop", host: "manager-1", log: &log},
		&step{name: "k0s-controller", host: "manager-1", log: &log},
	}
	err = rollback.Run(context.Background(), steps, rollback.Options{Journal: j, Events: func(e rollback.Event) {
		if !e.Done {
			fmt.Printf("Step %d of %d: undo %s on %s\n", e.Index, e.Total, e.Step, e.Host)
		}
	}})
	fmt.Println(err)
	// Output:
	// Step 1 of 2: undo k0s-controller on manager-1
	// Step 2 of 2: undo mke3-stop on manager-1
	// <nil>
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "rollback-example-") }
