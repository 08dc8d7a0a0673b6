package journal

import (
	"reflect"
	"testing"
)

func rec(step, host string, ev Event, data ...string) Record {
	r := Record{Step: step, Host: host, Event: ev}
	for i := 0; i+1 < len(data); i += 2 {
		if r.Data == nil {
			r.Data = map[string]string{}
		}
		r.Data[data[i]] = data[i+1]
	}
	return r
}

func TestReplay(t *testing.T) {
	run := func(ev Event) Record { return Record{Event: ev} }
	tests := []struct {
		name      string
		rs        []Record
		status    map[Key]Event
		started   []Key
		completed []Key
		failed    []Key
		toUndo    []Key
		ended     Event
	}{
		{name: "empty"},
		{
			name: "died mid-step",
			rs: []Record{run(RunStart),
				rec("a", "h1", StepStart), rec("a", "h1", StepDone),
				rec("a", "h2", StepStart),
				rec("b", "", StepStart)},
			status:    map[Key]Event{{"a", "h1"}: StepDone, {"a", "h2"}: StepStart, {"b", ""}: StepStart, {"c", "h1"}: ""},
			started:   []Key{{"a", "h2"}, {"b", ""}},
			completed: []Key{{"a", "h1"}},
			toUndo:    []Key{{"b", ""}, {"a", "h2"}, {"a", "h1"}},
		},
		{
			name: "completion order differs from start order",
			rs: []Record{run(RunStart),
				rec("a", "h1", StepStart), rec("a", "h2", StepStart),
				rec("a", "h2", StepDone), rec("a", "h1", StepDone)},
			completed: []Key{{"a", "h2"}, {"a", "h1"}},
			toUndo:    []Key{{"a", "h2"}, {"a", "h1"}},
		},
		{
			name: "failed run",
			rs: []Record{run(RunStart),
				rec("a", "h1", StepStart), rec("a", "h1", StepDone),
				rec("b", "h1", StepStart), rec("b", "h1", StepFailed),
				run(RunFailed)},
			status:    map[Key]Event{{"b", "h1"}: StepFailed},
			completed: []Key{{"a", "h1"}},
			failed:    []Key{{"b", "h1"}},
			toUndo:    []Key{{"b", "h1"}, {"a", "h1"}},
			ended:     RunFailed,
		},
		{
			name: "resumed after failure has not ended",
			rs: []Record{run(RunStart), rec("a", "", StepStart), rec("a", "", StepFailed), run(RunFailed),
				run(RunResume), rec("a", "", StepStart), rec("a", "", StepDone)},
			completed: []Key{{"a", ""}},
			toUndo:    []Key{{"a", ""}},
		},
		{
			name: "rollback in progress",
			rs: []Record{run(RunStart),
				rec("a", "h1", StepStart), rec("a", "h1", StepDone),
				rec("b", "h1", StepStart), rec("b", "h1", StepDone),
				run(RollbackStart),
				rec("b", "h1", UndoStart), rec("b", "h1", Undone),
				rec("a", "h1", UndoStart)},
			status:    map[Key]Event{{"b", "h1"}: Undone, {"a", "h1"}: UndoStart},
			started:   []Key{{"a", "h1"}},
			completed: nil,
			toUndo:    []Key{{"a", "h1"}},
		},
		{
			name: "rollback done",
			rs: []Record{run(RunStart), rec("a", "h1", StepStart), rec("a", "h1", StepDone),
				run(RollbackStart), rec("a", "h1", UndoStart), rec("a", "h1", UndoFailed),
				run(RollbackFailed)},
			failed: []Key{{"a", "h1"}},
			toUndo: []Key{{"a", "h1"}},
			ended:  RollbackFailed,
		},
		{
			name:    "unknown events are ignored",
			rs:      []Record{run(RunStart), rec("a", "h", "future-event"), rec("b", "h", StepStart), {Event: "weird"}},
			status:  map[Key]Event{{"a", "h"}: ""},
			started: []Key{{"b", "h"}},
			toUndo:  []Key{{"b", "h"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Replay(tt.rs)
			for k, want := range tt.status {
				if got := s.Status(k.Step, k.Host); got != want {
					t.Errorf("Status(%v) = %q, want %q", k, got, want)
				}
				if got := s.Done(k.Step, k.Host); got != (want == StepDone) {
					t.Errorf("Done(%v) = %v", k, got)
				}
			}
			for name, c := range map[string]struct{ got, want []Key }{
				"Started": {s.Started(), tt.started}, "Completed": {s.Completed(), tt.completed},
				"Failed": {s.Failed(), tt.failed}, "ToUndo": {s.ToUndo(), tt.toUndo},
			} {
				if len(c.got) != 0 || len(c.want) != 0 {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s = %v, want %v", name, c.got, c.want)
					}
				}
			}
			ev, ok := s.RunEnded()
			if ev != tt.ended || ok != (tt.ended != "") {
				t.Errorf("RunEnded = %q %v, want %q", ev, ok, tt.ended)
			}
		})
	}
}

func TestReplayData(t *testing.T) {
	s := Replay([]Record{
		rec("a", "h", StepStart, "backup", "/var/lib/x.bak", "sha", "1"),
		rec("a", "h", StepDone, "sha", "2"),
		rec("a", "other", StepDone, "backup", "elsewhere"),
	})
	want := map[string]string{"backup": "/var/lib/x.bak", "sha": "2"}
	got := s.Data("a", "h")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Data = %v, want %v", got, want)
	}
	got["sha"] = "changed"
	if s.Data("a", "h")["sha"] != "2" {
		t.Error("Data is not a copy")
	}
	if s.Data("missing", "h") != nil {
		t.Error("Data of an unknown pair is not nil")
	}
}
