package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
	"github.com/mke-migrate/mke-migrate/verify"
)

// runResult is the --json document of upgrade, resume, rollback and demo.
type runResult struct {
	// Result is upgraded, dry-run, blocked, rolled-back, failed or
	// verify-failed (the upgrade finished, its verify checks did not pass).
	Result     string             `json:"result"`
	OutputDir  string             `json:"outputDir,omitempty"`
	LogFile    string             `json:"logFile,omitempty"`
	Error      string             `json:"error,omitempty"`
	RolledBack bool               `json:"rolledBack"`
	Blockers   []preflight.Result `json:"blockers,omitempty"`
	Plan       []planStep         `json:"plan,omitempty"`
	Summary    *summary.Summary   `json:"summary,omitempty"`
	// Verify is the verify step's report when its checks failed.
	Verify *verify.Report `json:"verify,omitempty"`
}

type planStep struct {
	Step            string `json:"step"`
	Host            string `json:"host,omitempty"`
	Phase           string `json:"phase"`
	Changes         string `json:"changes"`
	PointOfNoReturn bool   `json:"pointOfNoReturn,omitempty"`
}

func (s *runSetup) emitResult(c *cli.Context, r runResult) error {
	if !s.json {
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return failure(err)
	}
	return fprintf(c.App.Writer, "%s\n", b)
}

func buildSummary(sh *upgrade.Shared, o upgrade.Options, dryRun bool) (summary.Summary, error) {
	return buildOutcomeSummary(sh, o, dryRun, summary.Succeeded, "")
}

// buildOutcomeSummary is buildSummary for a run that ended as outcome,
// with cause the error printed after "Upgrade failed due to error: ".
func buildOutcomeSummary(sh *upgrade.Shared, o upgrade.Options, dryRun bool, outcome summary.Outcome, cause string) (summary.Summary, error) {
	if sh == nil {
		return summary.Summary{}, summary.ErrNoReport
	}
	var sw *summary.Swarm
	if !dryRun { // a dry run exports nothing (its OutputDir is a stand-in)
		sw = summarySwarm(o.OutputDir)
	}
	return summary.Build(summary.Input{Report: conversionReport(sh, o), RBAC: summaryRBAC(sh.RBACReport), MKEVersion: sh.MKEVersion,
		Managers: sh.Managers, Workers: sh.Workers, DryRun: dryRun, Swarm: sw, Outcome: outcome, Error: cause})
}

// failureSummary builds the summary of a run that failed or was rolled
// back and saves it (summary.txt, summary.json) in the output folder, as a
// finished run's is. A summary that cannot be built or saved is said on w
// and left out: it must not hide the run's own error.
func (s *runSetup) failureSummary(w io.Writer, sh *upgrade.Shared, outcome summary.Outcome, cause string) *summary.Summary {
	sum, err := buildOutcomeSummary(sh, s.opts, false, outcome, cause)
	if err != nil {
		fmt.Fprintf(w, "No upgrade summary: %v\n", err)
		return nil
	}
	if s.opts.OutputDir != "" {
		if err := s.saveSummary(sum); err != nil {
			fmt.Fprintf(w, "The upgrade summary was not saved: %v\n", err)
		}
	}
	return &sum
}

// conversionReport is the run's conversion report: Discover's, or the one
// upgrade.Restore makes again from the saved MKE 3 configuration.
func conversionReport(sh *upgrade.Shared, _ upgrade.Options) *convert.Report { return sh.Report }

func (s *runSetup) blocked(c *cli.Context, be *upgrade.BlockedError) error {
	w := c.App.ErrWriter
	fmt.Fprintf(w, "The upgrade cannot start: %d pre-upgrade check(s) block it. Nothing was changed.\n", len(be.Blockers))
	for _, r := range be.Blockers {
		host := ""
		if r.Host != "" {
			host = " (" + r.Host + ")"
		}
		fmt.Fprintf(w, "  [%s] %s%s: %s\n      remedy: %s\n", r.Severity, r.ID, host, r.Message, r.Remedy)
	}
	if err := s.emitResult(c, runResult{Result: "blocked", OutputDir: s.opts.OutputDir, LogFile: s.logPath, Blockers: be.Blockers}); err != nil {
		return err
	}
	return silentExit(exitBlocking)
}

func (s *runSetup) dryRun(c *cli.Context, sh *upgrade.Shared, plan *plan.Plan) error {
	if c.String("config-out") != "" {
		if err := s.writeConfig(c, sh); err != nil {
			return err
		}
	}
	sum, err := buildSummary(sh, s.opts, true)
	if err != nil {
		return failure(err)
	}
	if dir := c.String("output"); dir != "" { // for the report; s.opts.OutputDir is a stand-in here
		if err := (&runSetup{opts: upgrade.Options{OutputDir: dir}}).saveSummary(sum); err != nil {
			return failure(err)
		}
	}
	if s.json {
		r := runResult{Result: "dry-run", Summary: &sum, Plan: []planStep{}}
		for _, st := range plan.Steps() {
			r.Plan = append(r.Plan, planStep{Step: st.Name, Host: st.Host, Phase: string(st.Phase), Changes: st.Changes, PointOfNoReturn: st.PointOfNoReturn})
		}
		return s.emitResult(c, r)
	}
	if err := plan.Print(c.App.Writer); err != nil {
		return failure(err)
	}
	if err := fprintf(c.App.Writer, "\n"); err != nil {
		return err
	}
	if err := sum.WriteText(c.App.Writer); err != nil {
		return failure(err)
	}
	return nil
}

// failed reports a failure before or outside a run's steps.
func (s *runSetup) failed(c *cli.Context, err error) error {
	if s.logPath != "" {
		fmt.Fprintf(c.App.ErrWriter, "Debug log: %s\n", s.logPath)
	}
	var ee *exitError
	msg := err.Error()
	if errors.As(err, &ee) && ee.err != nil {
		msg = ee.err.Error()
	}
	if jerr := s.emitResult(c, runResult{Result: "failed", OutputDir: s.opts.OutputDir, LogFile: s.logPath, Error: msg}); jerr != nil {
		return jerr
	}
	return err
}

// finish reports the end of Apply or Resume: the summary on success, the
// rollback and the cause on failure.
func (s *runSetup) finish(c *cli.Context, res *upgrade.Result, err error, sh *upgrade.Shared, what string) error {
	w := c.App.ErrWriter
	s.out.closeLine()
	printBundles(w, res)
	defer writeReport(w, s.opts.OutputDir)
	if err == nil {
		if s.yamlOut != nil {
			if err := s.writeConfig(c, sh); err != nil {
				return err
			}
		}
		sum, serr := buildSummary(sh, s.opts, false)
		if serr != nil {
			return failure(serr)
		}
		if werr := s.saveSummary(sum); werr != nil {
			return failure(werr)
		}
		took := time.Duration(0)
		if res != nil {
			took = res.Took
		}
		fmt.Fprintf(w, "%s finished in %s. Output folder: %s\n", capitalize(what), took.Round(100*time.Millisecond), s.opts.OutputDir)
		if s.json {
			return s.emitResult(c, runResult{Result: "upgraded", OutputDir: s.opts.OutputDir, LogFile: s.logPath, Summary: &sum})
		}
		if err := fprintf(c.App.Writer, "\n"); err != nil {
			return err
		}
		if err := sum.WriteText(c.App.Writer); err != nil {
			return failure(err)
		}
		return nil
	}
	r := runResult{Result: "failed", OutputDir: s.opts.OutputDir, LogFile: s.logPath}
	var rb *upgrade.RollbackError
	var ve *upgrade.VerifyError
	cause := err
	switch {
	case errors.As(err, &rb):
		cause = rb.Cause
		if rb.Rollback == nil {
			s.out.startRollback() // when no step needed undoing
			s.out.rollbackDone()
			r.Result, r.RolledBack = "rolled-back", true
		} else {
			fmt.Fprintf(w, "%s\n", s.out.paint(red, fmt.Sprintf("Rollback to MKE version %s did not finish: %v", s.out.version, rb.Rollback)))
			fmt.Fprintf(w, "Retry it with: mke-migrate rollback --hosts-path %s --output %s\n", c.String("hosts-path"), s.opts.OutputDir)
		}
	case errors.As(err, &ve):
		// the upgrade itself finished: its last step, verify, found the
		// new cluster unlike what was recorded before it
		return s.verifyFailed(c, ve, sh, r)
	case errors.Is(err, upgrade.ErrPastPointOfNoReturn):
		fmt.Fprintf(w, "MKE 3 is already (partly) uninstalled, so the upgrade is not rolled back. Finish it with:\n  mke-migrate resume --hosts-path %s --output %s --k0s-binary %s\n",
			c.String("hosts-path"), s.opts.OutputDir, c.String("k0s-binary"))
	}
	r.Error = cause.Error()
	fmt.Fprintf(w, "%s\n", s.out.paint(red, "Upgrade failed due to error: "+cause.Error()))
	if s.logPath != "" {
		fmt.Fprintf(w, "Debug log: %s\n", s.logPath)
	}
	outcome := summary.Failed
	if r.RolledBack {
		outcome = summary.RolledBack
	}
	r.Summary = s.failureSummary(w, sh, outcome, cause.Error())
	if jerr := s.emitResult(c, r); jerr != nil {
		return jerr
	}
	if r.Summary != nil && !s.json {
		if err := fprintf(c.App.Writer, "\n"); err != nil {
			return err
		}
		if err := r.Summary.WriteText(c.App.Writer); err != nil {
			return failure(err)
		}
	}
	return silentExit(exitFailure)
}

// verifyFailed reports an upgrade that finished but whose verify checks
// failed: the report, that nothing was rolled back and why, what to do;
// exit 3.
func (s *runSetup) verifyFailed(c *cli.Context, ve *upgrade.VerifyError, sh *upgrade.Shared, r runResult) error {
	w := c.App.ErrWriter
	fmt.Fprintf(w, "%s\n", s.out.paint(red, "The upgrade finished, but the new cluster fails verification: "+ve.Error()))
	_ = ve.Report.WriteText(w)
	fmt.Fprintf(w, "Nothing was rolled back: MKE 3 is already uninstalled. Fix what the checks name, then check again with:\n  mke-migrate verify --output %s\n", s.opts.OutputDir)
	if s.logPath != "" {
		fmt.Fprintf(w, "Debug log: %s\n", s.logPath)
	}
	r.Result, r.Error, r.Verify = "verify-failed", ve.Error(), ve.Report
	r.Summary = s.failureSummary(w, sh, summary.Failed, ve.Error())
	if err := s.emitResult(c, r); err != nil {
		return err
	}
	return silentExit(exitBlocking)
}

func (s *runSetup) saveSummary(sum summary.Summary) error {
	var b strings.Builder
	if err := sum.WriteText(&b); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.opts.OutputDir, "summary.txt"), []byte(b.String()), 0o600); err != nil {
		return err
	}
	j, err := sum.JSON()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.opts.OutputDir, "summary.json"), j, 0o600)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
