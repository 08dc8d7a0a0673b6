package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// logFileName is the debug log kept in every run's output directory.
const logFileName = "mke-migrate.log"

// runFlags are the SSH and run flags of upgrade, resume and rollback.
func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE`", Required: true},
		&cli.StringFlag{Name: "k0s-binary", Usage: "the k0s executable `FILE` to install on every node"},
		&cli.DurationFlag{Name: "timeout", Value: upgrade.DefaultTimeout, Usage: "roll back when the upgrade takes longer than `DURATION`"},
		&cli.IntFlag{Name: "worker-batch", Value: upgrade.DefaultWorkerBatch, Usage: "upgrade `PERCENT` of the workers at once (at least one)"},
		&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
		&cli.StringFlag{Name: "known-hosts", Usage: "check SSH host keys against `FILE` (default ~/.ssh/known_hosts)"},
		&cli.BoolFlag{Name: "ssh-insecure-ignore-host-key", Usage: "accept any SSH host key (labs only)"},
		&cli.StringFlag{Name: "kubeconfig", Usage: "write the MKE 4k admin kubeconfig to `FILE` (default ~/.mke/mke.kubeconf)"},
		&cli.BoolFlag{Name: "json", Usage: "print the result and summary as JSON on stdout (progress stays on stderr)"},
	}
}

func upgradeCommands() []*cli.Command {
	mflags := optionalMKE3Flags()
	for _, f := range mflags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "mke3-host" {
			sf.Usage = "MKE 3 API `HOST[:PORT]` (default: the first manager of hosts.yaml)"
		}
	}
	upgradeFlags := append(append(runFlags(),
		&cli.StringFlag{Name: "external-address", Usage: "MKE 4k load balancer `ADDRESS` (spec.apiServer.externalAddress)", Required: true},
		&cli.StringFlag{Name: "config-out", Usage: "also write mke4.yaml to `FILE` (owner-readable only; only a regular file is replaced; - for stdout, the plan and summary then go to stderr)"},
		&cli.StringFlag{Name: "image-registry", Usage: "pull MKE 4k images from `REGISTRY` (no trailing /; cannot be changed later)"},
		&cli.StringFlag{Name: "chart-registry", Usage: "pull MKE 4k charts from `oci://REGISTRY` (no trailing /; cannot be changed later)"},
		&cli.BoolFlag{Name: "mke3-airgapped", Usage: "the cluster has no Internet access (offline upgrade)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "discover, check and print the plan and the summary; change nothing"},
		&cli.BoolFlag{Name: "force", Usage: "do not ask for confirmation (needed without a terminal)"},
		&cli.StringFlag{Name: "output", Usage: "keep the run's files (journal, backups, configurations, debug log, summary) in `DIR` (default: a new folder under $XDG_STATE_HOME/mke-migrate or ~/.local/state/mke-migrate)"},
		&cli.BoolFlag{Name: "skip-rbac", Usage: "leave RBAC out of the upgrade (apply it later with mke-migrate rbac apply)"},
	), mflags...)
	logLevel := func() cli.Flag {
		return &cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Value: "warn", Usage: "log `LEVEL` on stderr: debug, info, warn, error (the output folder's log is always at debug)"}
	}
	outputFlag := func() cli.Flag {
		return &cli.StringFlag{Name: "output", Usage: "the output `DIR` of the run", Required: true}
	}
	return []*cli.Command{
		{
			Name:  "upgrade",
			Usage: "upgrade the MKE 3 cluster to MKE 4k (k0s), rolling back on any failure",
			Description: `Discovers the cluster (SSH facts, the MKE 3 configuration and RBAC), refuses when a preflight
check blocks (exit 3), asks for confirmation, then backs MKE 3 up, moves the managers and then
the workers to k0s, applies RBAC, uninstalls MKE 3 and writes mke4.yaml and the admin
kubeconfig. Any failure, the --timeout or an interrupt (Ctrl-C) before MKE 3 is uninstalled
rolls every node back to its MKE 3 state; after that point, mke-migrate resume finishes the
run. The summary is printed and saved (summary.txt, summary.json) in the output folder, with the
journal, the backups and a debug log.`,
			Flags:  upgradeFlags,
			Action: runUpgrade,
		},
		{
			Name:  "resume",
			Usage: "continue an upgrade whose process died (or that failed past MKE 3's uninstall)",
			Description: `Reads what the run discovered and did from its output folder (no MKE 3 credentials needed)
and runs the steps not done yet; a run that was rolling back goes on rolling back.`,
			Flags:  append(runFlags(), outputFlag(), logLevel()),
			Action: runResume,
		},
		{
			Name:  "rollback",
			Usage: "undo an upgrade whose process died before MKE 3 was uninstalled",
			Description: `Reads the run's journal from its output folder and undoes, newest first, every step it
started, restoring each node's MKE 3 state.`,
			Flags:  append(runFlags(), outputFlag(), logLevel()),
			Action: runRollback,
		},
	}
}

// runSetup is what upgrade, resume and rollback share.
type runSetup struct {
	opts    upgrade.Options
	logPath string
	logFile *os.File
	out     *reporter
	json    bool
	// yamlOut is standard output when --config-out is -.
	yamlOut io.Writer
	// releaseDir hands the output folder's lock to the engine (openRunLog).
	releaseDir func()
}

// handOver gives the output folder's lock to the engine, which takes it
// in Apply, Resume and Rollback.
func (s *runSetup) handOver() {
	if s.releaseDir != nil {
		s.releaseDir()
	}
}

func (s *runSetup) close() {
	if s.releaseDir != nil {
		s.releaseDir()
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
}

// validateRunFlags checks the flags every run command has.
func validateRunFlags(c *cli.Context) error {
	if n := c.Int("worker-batch"); n < 1 || n > 100 {
		return usagef("--worker-batch: %d is not a percentage from 1 to 100", n)
	}
	if c.Int("concurrency") < 1 {
		return usagef("--concurrency: must be at least 1")
	}
	if c.Duration("timeout") <= 0 {
		return usagef("--timeout: must be positive")
	}
	if c.Bool("ssh-insecure-ignore-host-key") && c.String("known-hosts") != "" {
		return usagef("give --known-hosts or --ssh-insecure-ignore-host-key, not both")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usagef("--log-level: %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	return nil
}

// newRunSetup maps the common flags to upgrade.Options and opens the debug
// log in dir ("" for none: a dry run writes nothing).
func newRunSetup(c *cli.Context, dir string) (*runSetup, error) {
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return nil, usageErr(err)
	}
	var k0s []byte
	if p := c.String("k0s-binary"); p != "" {
		if k0s, err = readK0sBinary(p); err != nil {
			return nil, err
		}
	}
	s := &runSetup{json: c.Bool("json"), out: newReporter(c.App.ErrWriter)}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	handlers := []slog.Handler{slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: lvl})}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, failure(err)
		}
		// after the folder's lock, never through a link (F9)
		if s.logFile, s.releaseDir, err = openRunLog(dir); err != nil {
			return nil, err
		}
		s.logPath = filepath.Join(dir, logFileName)
		handlers = append(handlers, slog.NewTextHandler(s.logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	log := slog.New(slog.NewMultiHandler(handlers...))
	s.opts = upgrade.Options{
		Hosts: file.Hosts,
		Connect: hosts.ConnectOptions{KnownHostsPath: c.String("known-hosts"),
			InsecureIgnoreHostKey: c.Bool("ssh-insecure-ignore-host-key"), Logger: log},
		OutputDir:      dir,
		KubeconfigPath: c.String("kubeconfig"),
		Concurrency:    c.Int("concurrency"),
		WorkerBatch:    c.Int("worker-batch"),
		Timeout:        c.Duration("timeout"),
		Logger:         log,
		Events:         s.out.event,
	}
	s.opts.K0sBinary = k0s
	return s, nil
}

func readK0sBinary(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, usagef("--k0s-binary: %w", err)
	}
	if len(b) == 0 {
		return nil, usagef("--k0s-binary: %s is empty", p)
	}
	return b, nil
}

// defaultOutputDir is a new folder per run under the XDG state directory.
func defaultOutputDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", usagef("no home directory for the output folder: give --output")
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "mke-migrate", time.Now().Format("20060102-150405"))
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return dir, nil
		}
		dir = filepath.Join(base, "mke-migrate", fmt.Sprintf("%s-%d", time.Now().Format("20060102-150405"), i))
	}
}

func runUpgrade(c *cli.Context) error {
	if err := validateRunFlags(c); err != nil {
		return err
	}
	dryRun := c.Bool("dry-run")
	if reg := c.String("image-registry"); strings.HasSuffix(reg, "/") {
		return usagef("--image-registry: %q must not end with /", reg)
	}
	if reg := c.String("chart-registry"); reg != "" && (!strings.HasPrefix(reg, "oci://") || strings.HasSuffix(reg, "/")) {
		return usagef("--chart-registry: %q must start with oci:// and not end with /", reg)
	}
	if a := c.String("external-address"); strings.Contains(a, "/") || strings.TrimSpace(a) == "" {
		return usagef("--external-address: %q must be a host name or address with an optional :port, not a URL", a)
	}
	if c.String("k0s-binary") == "" && !dryRun {
		return usagef("--k0s-binary is required (except with --dry-run)")
	}
	if !dryRun && !c.Bool("force") && !stdinIsTerminal(c) {
		return usagef("refusing to upgrade without confirmation: standard input is not a terminal (use --force)")
	}
	// Output paths before any work (logging in, connecting). With
	// --config-out -, mke4.yaml is alone on stdout; the plan and summary go
	// to stderr.
	if err := checkRunOutputs(c, c.Bool("json"), "config-out"); err != nil {
		return err
	}
	var yamlOut io.Writer
	if c.String("config-out") == stdoutPath {
		yamlOut, c.App.Writer = c.App.Writer, c.App.ErrWriter
	}
	dir := c.String("output")
	if !dryRun {
		if dir == "" {
			var err error
			if dir, err = defaultOutputDir(); err != nil {
				return err
			}
		} else if _, err := os.Stat(filepath.Join(dir, "journal.jsonl")); err == nil {
			// a blocked or refused run leaves only its log: it may be rerun
			return usagef("--output: %s holds the journal of an earlier run (use mke-migrate resume or rollback, or a new folder)", dir)
		}
	} else {
		dir = "" // a dry run writes nothing but --config-out
	}
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return usageErr(err)
	}
	if c.String("mke3-admin-username") == "" {
		return usagef("--mke3-admin-username is required")
	}
	if c.String("mke3-host") == "" {
		addr := ""
		for _, h := range file.Hosts {
			if h.Role == "manager" {
				addr = h.Address
				break
			}
		}
		if addr == "" {
			return usagef("--mke3-host is required: hosts.yaml names no manager (role: manager)")
		}
		if err := c.Set("mke3-host", addr); err != nil {
			return failure(err)
		}
	}
	client, err := mke3Client(c)
	if err != nil {
		return err
	}
	s, err := newRunSetup(c, dir)
	if err != nil {
		return err
	}
	defer s.close()
	s.yamlOut = yamlOut
	if dryRun {
		s.opts.OutputDir = os.TempDir() // required by New; nothing is written by Discover or Plan
		s.opts.K0sBinary = []byte{0}    // likewise: not uploaded by a dry run
	}
	o := &s.opts
	o.MKE3 = client
	o.ExternalAddress = c.String("external-address")
	o.ImageRegistry, o.ChartRegistry, o.Airgapped = c.String("image-registry"), c.String("chart-registry"), c.Bool("mke3-airgapped")
	if yamlOut == nil {
		o.ConfigOut = c.String("config-out")
	}
	o.SkipRBAC = c.Bool("skip-rbac")

	u, err := upgrade.New(*o)
	if err != nil {
		return usageErr(err)
	}
	defer u.Close()
	w := c.App.ErrWriter
	fmt.Fprintf(w, "Discovering the cluster (%d hosts) and running the pre-upgrade checks...\n", len(o.Hosts))
	sh, err := u.Discover(c.Context)
	var be *upgrade.BlockedError
	switch {
	case errors.As(err, &be):
		return s.blocked(c, be)
	case err != nil:
		return s.failed(c, apiFailure(err))
	}
	plan, err := u.Plan()
	if err != nil {
		return s.failed(c, failure(err))
	}
	s.out.version = sh.MKEVersion
	if dryRun {
		return s.dryRun(c, sh, plan)
	}
	fmt.Fprintf(w, "Output folder: %s\n", dir)
	if !c.Bool("force") {
		q := fmt.Sprintf("Upgrade %d managers and %d workers from MKE %s to MKE 4k (%d steps)? The cluster is unavailable meanwhile, and MKE 3 is uninstalled at the end. Type yes to continue: ",
			len(sh.Managers), len(sh.Workers), sh.MKEVersion, len(plan.Steps()))
		if err := ask(c, q); err != nil {
			return err
		}
	}
	stopWatch := s.out.watchInterrupt(c.Context)
	s.handOver()
	res, err := u.Apply(c.Context, plan)
	stopWatch()
	return s.finish(c, res, err, sh, "upgrade")
}

// resumeOrRollback restores the run in --output and resumes or rolls it
// back. The MKE 3 configuration and external address come from the run's
// own discovery, so no MKE 3 credentials are needed.
func resumeOrRollback(c *cli.Context, rollback bool) error {
	if err := validateRunFlags(c); err != nil {
		return err
	}
	dir := c.String("output")
	if _, err := os.Stat(dir); err != nil {
		return usagef("--output: %w", err)
	}
	if err := checkRunOutputs(c, false); err != nil {
		return err
	}
	if !rollback && c.String("k0s-binary") == "" {
		return usagef("--k0s-binary is required to resume")
	}
	s, err := newRunSetup(c, dir)
	if err != nil {
		return err
	}
	defer s.close()
	if len(s.opts.K0sBinary) == 0 {
		// upgrade.New wants one; a rollback restores the saved binaries
		// and never uploads it.
		s.opts.K0sBinary = []byte{0}
	}
	// New needs an MKE 3 source before Restore can give the real one.
	probe := s.opts
	probe.MKE3ConfigTOML = []byte("\n")
	pu, err := upgrade.New(probe)
	if err != nil {
		return usageErr(err)
	}
	prev, err := pu.Restore()
	pu.Close()
	if err != nil {
		return usageErr(fmt.Errorf("%w (is %s the output folder of an upgrade?)", err, dir))
	}
	s.opts.MKE3ConfigTOML = prev.MKE3TOML
	if prev.Config != nil {
		s.opts.ExternalAddress = prev.Config.Spec.APIServer.ExternalAddress
	}
	s.opts.SkipRBAC = prev.RBACModel == nil
	s.opts.RBACExport = prev.RBACModel
	u, err := upgrade.New(s.opts)
	if err != nil {
		return usageErr(err)
	}
	defer u.Close()
	sh, err := u.Restore()
	if err != nil {
		return failure(err)
	}
	plan, err := u.Plan()
	if err != nil {
		return failure(err)
	}
	s.out.version = sh.MKEVersion
	stopWatch := s.out.watchInterrupt(c.Context)
	defer stopWatch()
	s.handOver()
	if rollback {
		s.out.startRollback()
		res, err := u.Rollback(c.Context, plan)
		if err != nil {
			return s.failed(c, failure(fmt.Errorf("rollback: %w", err)))
		}
		s.out.rollbackDone()
		return s.emitResult(c, runResult{Result: "rolled-back", OutputDir: dir, LogFile: s.logPath, RolledBack: res.RolledBack})
	}
	res, err := u.Resume(c.Context, plan)
	return s.finish(c, res, err, sh, "resume")
}

func runResume(c *cli.Context) error   { return resumeOrRollback(c, false) }
func runRollback(c *cli.Context) error { return resumeOrRollback(c, true) }

// runResult is the --json document of upgrade, resume, rollback and demo.
type runResult struct {
	// Result is upgraded, dry-run, blocked, rolled-back or failed.
	Result     string             `json:"result"`
	OutputDir  string             `json:"outputDir,omitempty"`
	LogFile    string             `json:"logFile,omitempty"`
	Error      string             `json:"error,omitempty"`
	RolledBack bool               `json:"rolledBack"`
	Blockers   []preflight.Result `json:"blockers,omitempty"`
	Plan       []planStep         `json:"plan,omitempty"`
	Summary    *summary.Summary   `json:"summary,omitempty"`
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
	return summary.Build(summary.Input{Report: conversionReport(sh, o), RBAC: summaryRBAC(sh.RBACReport), MKEVersion: sh.MKEVersion,
		Managers: sh.Managers, Workers: sh.Workers, DryRun: dryRun})
}

// conversionReport is the run's conversion report. upgrade.Restore does
// not rebuild it (it is not saved), so a resumed run converts the saved
// MKE 3 configuration again, as Discover did.
func conversionReport(sh *upgrade.Shared, o upgrade.Options) *convert.Report {
	if sh.Report != nil || len(sh.MKE3TOML) == 0 {
		return sh.Report
	}
	cfg, err := convert.Parse("MKE 3 configuration", sh.MKE3TOML)
	if err != nil {
		return nil
	}
	var chs []convert.Host
	for _, h := range o.Hosts {
		role := mke4.RoleWorker
		if slices.Contains(sh.Managers, h.String()) || slices.Contains(sh.Managers, h.Address+":22") {
			role = mke4.RoleControllerWorker
		}
		chs = append(chs, convert.Host{Host: mke4.Host{Role: role, SSH: &mke4.SSH{Address: h.Address}}, Labels: h.Labels})
	}
	_, rep, err := convert.Convert(cfg, convert.Options{ExternalAddress: o.ExternalAddress, Hosts: chs, KubeletProfileLabel: o.KubeletProfileLabel})
	if err != nil {
		return nil
	}
	return &rep
}

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

func (s *runSetup) dryRun(c *cli.Context, sh *upgrade.Shared, plan *upgrade.Plan) error {
	if c.String("config-out") != "" {
		if err := s.writeConfig(c, sh); err != nil {
			return err
		}
	}
	sum, err := buildSummary(sh, s.opts, true)
	if err != nil {
		return failure(err)
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
	case errors.Is(err, upgrade.ErrPastPointOfNoReturn):
		fmt.Fprintf(w, "MKE 3 is already (partly) uninstalled, so the upgrade is not rolled back. Finish it with:\n  mke-migrate resume --hosts-path %s --output %s --k0s-binary %s\n",
			c.String("hosts-path"), s.opts.OutputDir, c.String("k0s-binary"))
	}
	r.Error = cause.Error()
	fmt.Fprintf(w, "%s\n", s.out.paint(red, "Upgrade failed due to error: "+cause.Error()))
	if s.logPath != "" {
		fmt.Fprintf(w, "Debug log: %s\n", s.logPath)
	}
	if jerr := s.emitResult(c, r); jerr != nil {
		return jerr
	}
	return silentExit(exitFailure)
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

func stdinIsTerminal(c *cli.Context) bool {
	f, ok := c.App.Reader.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ask asks a yes/no question on the terminal.
func ask(c *cli.Context, question string) error {
	if !stdinIsTerminal(c) {
		return usagef("refusing to continue without confirmation: standard input is not a terminal (use --force)")
	}
	fmt.Fprint(c.App.ErrWriter, question)
	var line string
	if _, err := fmt.Fscanln(c.App.Reader, &line); err != nil && err.Error() != "unexpected newline" {
		return failure(err)
	}
	if strings.ToLower(strings.TrimSpace(line)) != "yes" {
		return &exitError{code: exitFailure, err: errors.New("not upgraded: confirmation not given")}
	}
	return nil
}

// ANSI colours, used only on a terminal without NO_COLOR.
const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// useColor: colour only on a terminal, and never with NO_COLOR set.
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reporter prints an upgrade's events as "Step i of n: step on host ...
// done (1.2s)" lines. Steps of one stage run at once, so a start line is
// left open only until another line must be printed.
type reporter struct {
	w     io.Writer
	color bool

	mu       sync.Mutex
	open     string // the event whose start line awaits its end
	version  string // MKE 3 version, for the rollback lines
	rollback bool   // the rollback header was printed
}

func newReporter(w io.Writer) *reporter { return &reporter{w: w, color: useColor(w)} }

func (r *reporter) paint(color, s string) string {
	if !r.color {
		return s
	}
	return color + s + reset
}

func (r *reporter) closeLine() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
}

func (r *reporter) closeLocked() {
	if r.open != "" {
		fmt.Fprintln(r.w)
		r.open = ""
	}
}

func (r *reporter) startRollback() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headerLocked()
}

func (r *reporter) headerLocked() {
	if r.rollback {
		return
	}
	r.closeLocked()
	r.rollback = true
	fmt.Fprintln(r.w, r.paint(yellow, "Initiating rollback of MKE to version: "+r.version))
}

func (r *reporter) rollbackDone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	fmt.Fprintln(r.w, r.paint(green, fmt.Sprintf("Rollback to MKE version %s completed successfully", r.version)))
}

// watchInterrupt says so when a signal (Ctrl-C) ends the context: the run
// then rolls back on its own. Nothing is printed when the context ends
// otherwise, or after stop returns (stop waits for the watcher).
func (r *reporter) watchInterrupt(ctx context.Context) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			if !wasInterrupted(ctx) {
				return
			}
			r.mu.Lock()
			r.closeLocked()
			fmt.Fprintln(r.w, r.paint(yellow, "Aborting upgrade due to signal interrupt"))
			r.mu.Unlock()
		case <-done:
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-exited }) }
}

func (r *reporter) event(e upgrade.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := e.Step
	if e.Host != "" {
		what += " on " + e.Host
	}
	prefix := fmt.Sprintf("Step %d of %d: ", e.Index, e.Total)
	id := e.Step + "@" + e.Host
	switch e.Kind {
	case upgrade.EventUndoStart, upgrade.EventUndoDone, upgrade.EventUndoFailed:
		r.headerLocked()
		prefix = fmt.Sprintf("Step %d of %d [Rollback]: undo ", e.Index, e.Total)
		id = "undo:" + id
	case upgrade.EventRollbackInfo:
		r.headerLocked()
		return
	}
	took := fmt.Sprintf("(%.1fs)", e.Took.Seconds())
	end := ""
	switch e.Kind {
	case upgrade.EventStepStart, upgrade.EventUndoStart:
		r.closeLocked()
		fmt.Fprintf(r.w, "%s%s ...", prefix, what)
		r.open = id
		return
	case upgrade.EventStepDone, upgrade.EventUndoDone:
		end = r.paint(green, "done") + " " + took
	case upgrade.EventStepFailed, upgrade.EventUndoFailed:
		end = r.paint(red, "failed") + " " + took
		if e.Err != nil {
			end += ": " + e.Err.Error()
		}
	case upgrade.EventStepSkipped:
		end = "skipped (done in an earlier run)"
	default:
		return
	}
	if r.open == id {
		fmt.Fprintf(r.w, " %s\n", end)
		r.open = ""
		return
	}
	r.closeLocked()
	fmt.Fprintf(r.w, "%s%s ... %s\n", prefix, what, end)
}
