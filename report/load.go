package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
)

// statusOrder lists the conversion statuses, most urgent first (as
// package convert orders them).
var statusOrder = []string{"blocking", "unconvertible", "unknown", "dropped", "converted", "default"}

// severityOrder lists the preflight severities, most severe first.
var severityOrder = []string{"blocker", "warning", "info", "skipped"}

func rank(order []string, s string) int {
	for i, o := range order {
		if o == s {
			return i
		}
	}
	return len(order)
}

// Load reads the output folder dir of an upgrade, a dry run or the demo
// and returns what the report shows. It is tolerant: a part that is
// missing or unreadable leaves its section nil with the reason in
// Data.Unavailable; only a dir that cannot be read at all is an error.
func Load(dir string) (*Data, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("report: %s is not a directory", dir)
	}
	d := &Data{Title: "MKE 3 → MKE 4k migration report", Folder: dir, Generated: time.Now().UTC().Round(time.Second),
		Unavailable: map[string]string{}}
	miss := func(section string, err error, hint string) {
		msg := err.Error()
		if errors.Is(err, errNotInFolder) && hint != "" {
			msg += " (" + hint + ")"
		}
		d.Unavailable[section] = msg
	}

	disc, err := readDiscovery(dir)
	if err != nil {
		miss(SectionCluster, err, "written when an upgrade or a dry run with --output has discovered the cluster")
	} else {
		d.Cluster = disc.cluster()
	}
	if d.Preflight, err = readPreflight(dir, disc); err != nil {
		miss(SectionPreflight, err, "written after the pre-upgrade checks")
	}
	if d.Conversion, err = readConversion(dir, disc); err != nil {
		miss(SectionConversion, err, "written after the MKE 3 configuration was read")
	}
	records, jerr := readJournal(dir)
	if len(records) > 0 {
		d.Timeline = timeline(records)
	}
	if jerr != nil {
		miss(SectionTimeline, jerr, "written when the upgrade runs; a dry run or a blocked run has none")
	}
	if d.Plan, err = readPlan(dir); err != nil {
		miss(SectionPlan, err, "written when the upgrade is planned")
	} else {
		finishPlan(d.Plan, records)
	}
	if m, err := readRBAC(dir, disc); err != nil {
		miss(SectionRBAC, err, "written when RBAC is part of the upgrade; mke-migrate rbac export makes one")
	} else if d.RBAC, err = rbacSection(m); err != nil {
		miss(SectionRBAC, err, "")
	} else {
		d.RBAC.State, d.RBAC.StateText = rbacState(d.Plan, records)
	}
	if d.Summary, err = readSummary(dir); err != nil {
		miss(SectionSummary, err, "written when an upgrade finishes")
	}
	if d.Swarm, err = readSwarm(dir); err != nil {
		miss(SectionSwarm, err, "written by the upgrade before it changes anything, or by mke-migrate swarm export --out")
	}
	d.Outcome, d.OutcomeText = outcome(d, records)
	if len(d.Unavailable) == 0 {
		d.Unavailable = nil
	}
	return d, nil
}

// WriteFile loads dir and writes its report to dir/report.html
// (owner-readable only, like the rest of the folder), returning the
// path.
func WriteFile(dir string) (string, error) {
	d, err := Load(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := Render(&b, d); err != nil {
		return "", err
	}
	p := filepath.Join(dir, FileHTML)
	if err := atomicfile.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return p, nil
}

// WritePlan saves p as dir/plan.json, for Load. Estimates, statuses and
// durations are not saved: Load computes them.
func WritePlan(dir string, p *Plan) error {
	c := *p
	c.Estimate = 0
	c.Stages = nil
	for _, st := range p.Stages {
		st.Estimate, st.Took = 0, 0
		st.Steps = append([]PlanStep{}, st.Steps...)
		for i := range st.Steps {
			st.Steps[i].Status = ""
		}
		c.Stages = append(c.Stages, st)
	}
	b, err := jsonIndent(&c)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, FilePlan), b, 0o600); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func preflightSection(checks []Check) *Preflight {
	p := &Preflight{Counts: map[string]int{}, Checks: append([]Check{}, checks...)}
	sort.SliceStable(p.Checks, func(i, j int) bool {
		a, b := p.Checks[i], p.Checks[j]
		if ra, rb := rank(severityOrder, a.Severity), rank(severityOrder, b.Severity); ra != rb {
			return ra < rb
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Host < b.Host
	})
	for _, c := range p.Checks {
		p.Counts[c.Severity]++
	}
	return p
}

func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if ra, rb := rank(statusOrder, a.Status), rank(statusOrder, b.Status); ra != rb {
			return ra < rb
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Flag < b.Flag
	})
}

// finishPlan adds the estimates and, after a run, each step's last
// journal event and each stage's real duration.
func finishPlan(p *Plan, rs []record) {
	type key struct{ step, host string }
	last := map[key]string{}
	first, end := map[key]time.Time{}, map[key]time.Time{}
	for _, r := range rs {
		if r.Step == "" {
			continue
		}
		k := key{r.Step, r.Host}
		last[k] = r.Event
		if r.Event == evStepStart {
			if _, ok := first[k]; !ok {
				first[k] = r.Time
			}
		}
		if r.Event == evStepDone || r.Event == evStepFailed {
			end[k] = r.Time
		}
	}
	p.Steps, p.Estimate = 0, 0
	for i := range p.Stages {
		st := &p.Stages[i]
		lanes := map[int]time.Duration{}
		var from, to time.Time
		st.PointOfNoReturn = false
		for j := range st.Steps {
			s := &st.Steps[j]
			p.Steps++
			lanes[s.Lane] += EstimateStep(s.Name)
			st.PointOfNoReturn = st.PointOfNoReturn || s.PointOfNoReturn
			k := key{s.Name, s.Host}
			s.Status = last[k]
			if t, ok := first[k]; ok && (from.IsZero() || t.Before(from)) {
				from = t
			}
			if t, ok := end[k]; ok && t.After(to) {
				to = t
			}
		}
		st.Estimate = 0
		for _, e := range lanes {
			st.Estimate = max(st.Estimate, Duration(e))
		}
		st.Took = 0
		if !from.IsZero() && to.After(from) {
			st.Took = Duration(to.Sub(from))
		}
		p.Estimate += st.Estimate
	}
}

// rbacState says whether the translated RBAC reached the new cluster.
func rbacState(p *Plan, rs []record) (string, string) {
	planned := false
	if p != nil {
		for _, st := range p.Stages {
			for _, s := range st.Steps {
				planned = planned || s.Name == rbacApplyStep
			}
		}
	}
	for _, r := range rs {
		if r.Step == rbacApplyStep && r.Event == evStepDone {
			return "applied", "Applied to MKE 4k by this run."
		}
	}
	switch {
	case planned:
		return "not-applied", "Part of the plan; not applied (yet)."
	case p != nil:
		return "left-out", "Translated for review only: RBAC is left out of this upgrade (apply it with mke-migrate rbac apply)."
	}
	return "not-applied", "Translated for review; not applied."
}

// rbacApplyStep is the name of the upgrade step that applies RBAC.
const rbacApplyStep = "rbac-apply"

// timeline folds the journal into one row of bars per host.
func timeline(rs []record) *Timeline {
	t := &Timeline{Run: rs[0].Run, Hosts: []HostRow{}, Events: []RunEvent{}}
	// the span of the times the journal has (a hand-edited or damaged line
	// may have none, or be out of order)
	for _, r := range rs {
		if r.Time.IsZero() {
			continue
		}
		if t.Start.IsZero() || r.Time.Before(t.Start) {
			t.Start = r.Time
		}
		if r.Time.After(t.End) {
			t.End = r.Time
		}
	}
	rows := map[string]int{}
	open := map[string]int{} // step@host (undo: prefix) → index of its open bar in its row
	for _, r := range rs {
		if r.Step == "" {
			t.Events = append(t.Events, RunEvent{Time: r.Time, Event: r.Event, Error: r.Error})
			if r.Event == evRollbackStart && t.RollbackStart.IsZero() {
				t.RollbackStart = r.Time
			}
			continue
		}
		ri, ok := rows[r.Host]
		if !ok {
			ri = len(t.Hosts)
			rows[r.Host] = ri
			t.Hosts = append(t.Hosts, HostRow{Host: r.Host, Bars: []Bar{}})
		}
		row := &t.Hosts[ri]
		undo := r.Event == evUndoStart || r.Event == evUndone || r.Event == evUndoFailed
		id := r.Step + "@" + r.Host
		if undo {
			id = "undo:" + id
		}
		switch r.Event {
		case evStepStart, evUndoStart:
			open[id] = len(row.Bars)
			row.Bars = append(row.Bars, Bar{Step: r.Step, Undo: undo, Start: r.Time, End: r.Time, Status: "running"})
			continue
		case evStepDone, evStepFailed, evUndone, evUndoFailed:
		default:
			continue
		}
		i, ok := open[id]
		if !ok { // an end without its start (a cut journal): a point
			i = len(row.Bars)
			row.Bars = append(row.Bars, Bar{Step: r.Step, Undo: undo, Start: r.Time})
		}
		delete(open, id)
		b := &row.Bars[i]
		b.End, b.Status, b.Error = r.Time, r.Event, r.Error
		if r.Event == evStepFailed || r.Event == evUndoFailed {
			t.Failures = append(t.Failures, Failure{Time: r.Time, Step: r.Step, Host: r.Host, Undo: undo, Error: r.Error})
		}
	}
	// bars still open ran until the journal ends
	for i := range t.Hosts {
		for j := range t.Hosts[i].Bars {
			if b := &t.Hosts[i].Bars[j]; b.Status == "running" {
				b.End = t.End
			}
		}
	}
	return t
}

// outcome says how the run ended, from the journal's last run-level
// event, or what the folder is without one.
func outcome(d *Data, rs []record) (string, string) {
	last := ""
	for _, r := range rs {
		switch r.Event {
		case evRunStart, evRunResume, evRunDone, evRunFailed, evRollbackStart, evRollbackDone, evRollbackFailed:
			last = r.Event
		}
	}
	ponr := false
	if d.Timeline != nil && d.Plan != nil {
		for _, st := range d.Plan.Stages {
			for _, s := range st.Steps {
				ponr = ponr || s.PointOfNoReturn && s.Status != ""
			}
		}
	}
	blockers := d.Preflight != nil && d.Preflight.Counts["blocker"] > 0
	switch {
	case last == evRunDone:
		return OutcomeUpgraded, "The upgrade finished: every node runs MKE 4k."
	case last == evRollbackDone:
		return OutcomeRolledBack, "The upgrade failed and was rolled back: every node is back on MKE 3."
	case last == evRollbackFailed:
		return OutcomeRollbackFailed, "The upgrade failed and its rollback did not finish: run mke-migrate rollback with this output folder."
	case last == evRunFailed && ponr:
		return OutcomeFailed, "The upgrade failed past the point of no return: run mke-migrate resume with this output folder to finish it."
	case last == evRunFailed:
		return OutcomeFailed, "The upgrade failed."
	case last != "":
		return OutcomeIncomplete, "The journal ends in the middle of the run: the process died or is still running (mke-migrate resume or rollback continues it)."
	case blockers:
		return OutcomeBlocked, "Blocked: the pre-upgrade checks found blockers, so nothing was changed."
	case d.Plan != nil:
		return OutcomeDryRun, "Dry run: the plan below was made and nothing was changed."
	}
	return OutcomeUnknown, "This folder holds no journal and no plan: only what it has is shown."
}
