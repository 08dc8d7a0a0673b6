package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

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
		&cli.BoolFlag{Name: "dry-run", Usage: "discover, check and print the plan and the summary; change nothing (with --output, keep the plan and report.html there)"},
		&cli.BoolFlag{Name: "force", Usage: "do not ask for confirmation (needed without a terminal)"},
		&cli.StringFlag{Name: "output", Usage: "keep the run's files (journal, backups, configurations, debug log, summary, report.html) in `DIR` (default: a new folder under $XDG_STATE_HOME/mke-migrate or ~/.local/state/mke-migrate)"},
		&cli.BoolFlag{Name: "skip-rbac", Usage: "leave RBAC out of the upgrade (apply it later with mke-migrate rbac apply)"},
		&cli.BoolFlag{Name: "skip-config-store", Usage: "do not store mke4.yaml in the new cluster (Secret mke/mke4-config) for MKE 4k's installer"},
		&cli.BoolFlag{Name: "skip-join-check", Usage: "do not check that the load balancer forwards the join ports: neither in discovery, before anything changes (a short-lived listener on each manager's free 9443, a connection to <external address>:9443 from each joining manager and :6443 from each worker), nor from each joining node that the join API in its k0s token answers before installing k0s there"},
		&cli.BoolFlag{Name: "no-carry", Usage: "start k0s with an empty etcd instead of MKE 3's data: every Kubernetes object of MKE 3 is lost (docs/carry.md)"},
		&cli.BoolFlag{Name: "skip-swarm-export", Usage: "do not export the Swarm services as Kubernetes manifests into the output folder (swarm/) before the upgrade"},
	), append(mflags, upgradeOpsFlags()...)...)
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
the workers to k0s, applies RBAC, uninstalls MKE 3, writes mke4.yaml and the admin
kubeconfig, and last verifies the new cluster against what it recorded before changing anything
(mke-migrate verify: nodes, system pods, every carried object, RBAC, the external address; a failed
check exits 3 with verify.txt in the output folder and rolls nothing back; --skip-verify leaves it
out). Any failure, the --timeout or an interrupt (Ctrl-C) before MKE 3 is uninstalled
rolls every node back to its MKE 3 state; after that point, mke-migrate resume finishes the
run. The summary is printed and saved (summary.txt, summary.json) in the output folder, with the
journal, the backups, a debug log and report.html (see mke-migrate report).`,
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
	if err := verifyOption(c); err != nil {
		return err
	}
	if c.String("k0s-binary") == "" && !dryRun && (c.String("k0s-delivery") != string(upgrade.DeliveryURL) || c.String("k0s-sha256") == "") {
		return usagef("--k0s-binary is required (except with --dry-run, or --k0s-delivery url with --k0s-sha256)")
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
	} else if dir != "" {
		// a dry run writes only with --output: its plan and report
		if _, err := os.Stat(filepath.Join(dir, "journal.jsonl")); err == nil {
			return usagef("--output: %s holds the journal of an earlier run (use a new folder)", dir)
		}
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
	}
	o := &s.opts
	o.MKE3 = client
	o.ExternalAddress = c.String("external-address")
	o.ImageRegistry, o.ChartRegistry, o.Airgapped = c.String("image-registry"), c.String("chart-registry"), c.Bool("mke3-airgapped")
	if yamlOut == nil {
		o.ConfigOut = c.String("config-out")
	}
	o.SkipRBAC = c.Bool("skip-rbac")
	o.SkipSwarmExport = c.Bool("skip-swarm-export")
	o.Carry.Skip = c.Bool("no-carry")
	o.SkipConfigStore = c.Bool("skip-config-store")
	if c.Bool("skip-join-check") {
		o.Commands.JoinCheck = "-"
	}

	u, err := upgrade.New(*o)
	if err != nil {
		return usageErr(err)
	}
	defer u.Close()
	w := c.App.ErrWriter
	fmt.Fprintf(w, "Discovering the cluster (%d hosts) and running the pre-upgrade checks...\n", len(o.Hosts))
	sh, err := u.Discover(c.Context)
	var be *upgrade.BlockedError
	var bpe *upgrade.BackupPathError
	switch {
	case errors.As(err, &bpe):
		return s.failed(c, usageErr(err))
	case errors.As(err, &be):
		if dir != "" {
			reportInputs(c, dir, sh, nil, be.Blockers, true)
			writeReport(c.App.ErrWriter, dir)
		}
		return s.blocked(c, be)
	case err != nil:
		return s.failed(c, apiFailure(err))
	}
	plan, err := u.Plan()
	if err != nil {
		return s.failed(c, failure(err))
	}
	s.out.version = sh.MKEVersion
	reportInputs(c, dir, sh, plan, nil, dryRun)
	if dryRun {
		defer writeReport(c.App.ErrWriter, dir)
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
	if !rollback && c.String("k0s-binary") == "" && (c.String("k0s-delivery") != string(upgrade.DeliveryURL) || c.String("k0s-sha256") == "") {
		return usagef("--k0s-binary is required to resume (or --k0s-delivery url with --k0s-sha256)")
	}
	s, err := newRunSetup(c, dir)
	if err != nil {
		return err
	}
	defer s.close()
	u, err := upgrade.Open(dir, s.opts)
	if err != nil {
		return usageErr(err)
	}
	defer u.Close()
	s.opts = u.Options()
	sh := u.Cluster()
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
			err = fmt.Errorf("rollback: %w", err)
			s.failureSummary(c.App.ErrWriter, sh, summary.Failed, err.Error())
			return s.failed(c, failure(err))
		}
		s.out.rollbackDone()
		sum := s.failureSummary(c.App.ErrWriter, sh, summary.RolledBack, rolledBackByCommand)
		writeReport(c.App.ErrWriter, dir)
		if err := s.emitResult(c, runResult{Result: "rolled-back", OutputDir: dir, LogFile: s.logPath, RolledBack: res.RolledBack, Summary: sum}); err != nil {
			return err
		}
		if sum != nil && !s.json {
			if err := sum.WriteText(c.App.Writer); err != nil {
				return failure(err)
			}
		}
		return nil
	}
	res, err := u.Resume(c.Context, plan)
	return s.finish(c, res, err, sh, "resume")
}

// rolledBackByCommand is the summary's cause for a run that mke-migrate
// rollback rolled back: the summary prints it after "Upgrade failed due to
// error: ", and the run's own error is in its log.
const rolledBackByCommand = "the run was rolled back with mke-migrate rollback (its error, if any, is in the run's log)"

func runResume(c *cli.Context) error   { return resumeOrRollback(c, false) }
func runRollback(c *cli.Context) error { return resumeOrRollback(c, true) }

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
