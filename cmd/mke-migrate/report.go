package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/report"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "write report.html, a one-page review of an output folder (dry run, finished, failed or rolled-back run)",
		Description: `Reads the output folder of mke-migrate upgrade (also with --dry-run --output), resume, rollback
or demo, and writes DIR/report.html: the cluster, the preflight results, the plan with its point
of no return and estimates, the conversion of every MKE 3 key (filterable), the RBAC translation,
and after a run its timeline and summary. The page is one self-contained file (no network, no
JavaScript needed) to attach to a change review. A part missing from the folder is shown as not
available, with the reason. upgrade and demo write it on their own.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Usage: "the output `DIR` to read; report.html is written there", Required: true},
		},
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	dir := c.String("output")
	fi, err := os.Stat(dir)
	if err != nil {
		return usagef("--output: %w", err)
	}
	if !fi.IsDir() {
		return usagef("--output: %s is not a directory", dir)
	}
	p, err := report.WriteFile(dir)
	if err != nil {
		return failure(err)
	}
	return fprintf(c.App.ErrWriter, "Report: %s\n", p)
}

// writeReport writes dir/report.html at the end of upgrade, resume,
// rollback and demo. A report that cannot be written is said, not fatal:
// the run's own result matters more.
func writeReport(w io.Writer, dir string) {
	if dir == "" {
		return
	}
	if p, err := report.WriteFile(dir); err != nil {
		fmt.Fprintf(w, "Report not written: %v\n", err)
	} else {
		fmt.Fprintf(w, "Report: %s\n", p)
	}
}

// saveReportInputs keeps in dir what the report shows and the engine does
// not save itself: the plan, every preflight result and the conversion
// report. blockers are those of a *upgrade.BlockedError, if any (they
// include the configuration's). withDiscovery also writes discovery.json,
// which Apply writes itself, for a dry run or a blocked run.
func saveReportInputs(dir string, sh *upgrade.Shared, plan *plan.Plan, rep *convert.Report, blockers []preflight.Result, withDiscovery bool) error {
	if dir == "" || sh == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	checks := append([]preflight.Result{}, sh.Preflight...)
	for _, b := range blockers {
		if !slices.Contains(checks, b) {
			checks = append(checks, b)
		}
	}
	var errs []error
	write := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			err = atomicfile.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o600)
		}
		errs = append(errs, err)
	}
	if withDiscovery {
		write(report.FileDiscovery, sh)
	}
	write(report.FilePreflight, checks)
	if rep != nil {
		write(report.FileConversionReport, rep)
	}
	if plan != nil {
		errs = append(errs, report.WritePlan(dir, reportPlan(plan)))
	}
	return errors.Join(errs...)
}

// reportPlan is the plan as the report reads it.
func reportPlan(p *plan.Plan) *report.Plan {
	out := &report.Plan{}
	for _, st := range p.Stages {
		rs := report.Stage{Name: st.Name, Phase: string(st.Phase), Lanes: len(st.Lanes)}
		for i, lane := range st.Lanes {
			for _, s := range lane {
				rs.Steps = append(rs.Steps, report.PlanStep{Name: s.Name, Host: s.Host, Lane: i, Changes: s.Changes,
					PointOfNoReturn: s.PointOfNoReturn, Undo: s.Undo != nil})
			}
		}
		out.Stages = append(out.Stages, rs)
	}
	return out
}

// reportInputs saves the report's inputs into dir ("" for none), saying
// so when it cannot: a run does not fail for its report.
func reportInputs(c *cli.Context, dir string, sh *upgrade.Shared, plan *plan.Plan, blockers []preflight.Result, withDiscovery bool) {
	if dir == "" || sh == nil {
		return
	}
	if err := saveReportInputs(dir, sh, plan, sh.Report, blockers, withDiscovery); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "Report inputs not saved: %v\n", err)
	}
}
