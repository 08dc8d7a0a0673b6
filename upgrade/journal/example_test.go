package journal_test

import (
	"fmt"
	"os"
	"time"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// A run journals each step; a later process replays the journal to see
// what to resume and what a rollback would undo.
func Example() {
	dir, err := os.MkdirTemp("", "journal-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	release, err := journal.LockDir(dir, "run-1")
	if err != nil {
		panic(err)
	}
	defer release()

	j, err := journal.Create(dir, "run-1", journal.Options{})
	if err != nil {
		panic(err)
	}
	j.Append(journal.Record{Step: "backup", Host: "10.0.0.11", Event: journal.StepStart})
	j.Append(journal.Record{Step: "backup", Host: "10.0.0.11", Event: journal.StepDone,
		Data: map[string]string{"file": "/var/lib/mke-migrate/backup.tar"}})
	j.Append(journal.Record{Step: "k0s-install", Host: "10.0.0.11", Event: journal.StepStart})
	j.Close() // the process dies here

	rs, err := journal.Read(dir)
	if err != nil {
		panic(err)
	}
	s := journal.Replay(rs)
	fmt.Println("done:", s.Completed())
	fmt.Println("interrupted:", s.Started())
	fmt.Println("backup file:", s.Data("backup", "10.0.0.11")["file"])
	fmt.Println("undo order:", s.ToUndo())
	// Output:
	// done: [{backup 10.0.0.11}]
	// interrupted: [{k0s-install 10.0.0.11}]
	// backup file: /var/lib/mke-migrate/backup.tar
	// undo order: [{k0s-install 10.0.0.11} {backup 10.0.0.11}]
}

// Open continues a journal: the resumed process records that it took
// over and appends with the next Seq.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "journal-example")
	defer os.RemoveAll(dir)
	clock := func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

	j, _ := journal.Create(dir, "run-1", journal.Options{Now: clock})
	j.Append(journal.Record{Step: "drain", Host: "10.0.0.12", Event: journal.StepStart})
	j.Close()

	j, err := journal.Open(dir, journal.Options{Now: clock})
	if err != nil {
		panic(err)
	}
	defer j.Close()
	r, _ := j.Append(journal.Record{Event: journal.RunResume})
	fmt.Println(r.Seq, r.Run, r.Event, r.Time.Format(time.RFC3339))
	// Output:
	// 3 run-1 run-resume 2025-01-02T03:04:05Z
}
