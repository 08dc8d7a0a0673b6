package journal

import "sort"

// Key names one step on one host; Host is "" for a cluster-wide step.
type Key struct{ Step, Host string }

// State is the journal folded per (step, host): what Resume skips, what a
// rollback undoes. Build it with Replay; it does not change afterwards.
type State struct {
	pairs  map[Key]*pair
	run    Event // last run-level event
	runIdx int
}

type pair struct {
	last      Event
	lastIdx   int // index of the last event in the records
	startIdx  int // index of the latest StepStart
	data      map[string]string
	firstSeen int
}

// Replay folds records, in the order given, into a State. It accepts any
// records: unknown events are ignored, so a hand-edited or newer journal
// still replays.
func Replay(rs []Record) *State {
	s := &State{pairs: map[Key]*pair{}}
	for i, r := range rs {
		if r.Event.runLevel() {
			s.run, s.runIdx = r.Event, i
			continue
		}
		if !r.Event.stepLevel() {
			continue
		}
		k := Key{r.Step, r.Host}
		p := s.pairs[k]
		if p == nil {
			p = &pair{firstSeen: i}
			s.pairs[k] = p
		}
		p.last, p.lastIdx = r.Event, i
		if r.Event == StepStart {
			p.startIdx = i
		}
		for dk, dv := range r.Data {
			if p.data == nil {
				p.data = map[string]string{}
			}
			p.data[dk] = dv
		}
	}
	return s
}

// Status returns the last event of step on host, "" if it never started.
func (s *State) Status(step, host string) Event {
	if p := s.pairs[Key{step, host}]; p != nil {
		return p.last
	}
	return ""
}

// Done reports whether step on host finished and was not undone since.
func (s *State) Done(step, host string) bool { return s.Status(step, host) == StepDone }

// Started returns the pairs whose step or undo started and did not end:
// the process died (or lost its host) in the middle of them. They are in
// journal order of that start. Whether a pair was doing or undoing is its
// Status (StepStart or UndoStart).
func (s *State) Started() []Key { return s.keys(byLast, StepStart, UndoStart) }

// Completed returns the pairs whose last event is StepDone, in the order
// they completed; a rollback undoes them in reverse.
func (s *State) Completed() []Key { return s.keys(byLast, StepDone) }

// Failed returns the pairs whose last event is StepFailed or UndoFailed,
// in the order they failed.
func (s *State) Failed() []Key { return s.keys(byLast, StepFailed, UndoFailed) }

// ToUndo returns every pair that may have changed its host and is not
// undone: last event StepStart, StepDone, StepFailed, UndoStart or
// UndoFailed. They are in the order a rollback should undo them, the
// latest started first. Undo steps must therefore cope with a step that
// did nothing or only part of its work.
func (s *State) ToUndo() []Key {
	ks := s.keys(byStart, StepStart, StepDone, StepFailed, UndoStart, UndoFailed)
	for i, j := 0, len(ks)-1; i < j; i, j = i+1, j-1 {
		ks[i], ks[j] = ks[j], ks[i]
	}
	return ks
}

// Data returns the merged Data of all records of step on host (a later
// value wins), as a copy; nil if there is none.
func (s *State) Data(step, host string) map[string]string {
	if p := s.pairs[Key{step, host}]; p != nil {
		return cloneData(p.data)
	}
	return nil
}

// RunEnded returns the run's final event (RunDone, RunFailed,
// RollbackDone or RollbackFailed) if its last run-level event is one.
// A run resumed or rolling back since it ended has not ended.
func (s *State) RunEnded() (Event, bool) {
	switch s.run {
	case RunDone, RunFailed, RollbackDone, RollbackFailed:
		return s.run, true
	}
	return "", false
}

type order int

const (
	byLast order = iota
	byStart
)

func (s *State) keys(o order, evs ...Event) []Key {
	type ik struct {
		idx int
		k   Key
	}
	var sel []ik
	for k, p := range s.pairs {
		for _, e := range evs {
			if p.last == e {
				idx := p.lastIdx
				if o == byStart {
					// A pair whose first record is not StepStart (a
					// hand-made journal) sorts by when it was first seen.
					idx = max(p.startIdx, p.firstSeen)
				}
				sel = append(sel, ik{idx, k})
				break
			}
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].idx < sel[j].idx })
	ks := make([]Key, len(sel))
	for i, x := range sel {
		ks[i] = x.k
	}
	return ks
}
