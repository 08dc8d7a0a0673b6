package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
	"github.com/mke-migrate/mke-migrate/internal/ownerdir"
	"github.com/mke-migrate/mke-migrate/internal/testbin"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/fromapi"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// demoDigestPaths are the files an upgrade writes outside the fake nodes'
// state: the digests cover them so that a rollback is seen to restore them.
var demoDigestPaths = []string{"/etc/k0s", testbed.K0sBinaryPath, "/var/lib/mke-migrate"}

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "upgrade a simulated MKE 3 cluster (3 managers, 2 workers) end to end; needs root",
		Description: `Starts throw-away simulated MKE 3 nodes on this machine (SSH servers in their own namespaces,
running a fake docker and k0s, and an MKE 3 API simulator), then runs what an operator runs:
convert, preflight, and the upgrade with its progress and summary. Everything is removed at the end.

--fail-at STEP makes the first step of that name (in plan order) fail right after it did its
work, to show the automatic rollback: each node's state digest before and after is printed and
compared (exit 1: the upgrade failed). A step at or past the point of no return (mke3-uninstall
and later) is not rolled back: the demo then shows mke-migrate resume finishing the upgrade.
An unknown step name is refused with the list of the plan's steps (exit 2).

--output DIR keeps the run's output folder, report.html included (see mke-migrate report).

Needs root, unshare, nsenter, ip, sudo, sshd and the go toolchain (to build the fake nodes, and, the
first time, the real etcd, Kubernetes and kubectl binaries they run: about 13 minutes once on 2 cores, with
progress; see the README's Tests section).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fail-at", Usage: "make the step `STEP` fail (for example k0s-worker)"},
			&cli.IntFlag{Name: "workers", Value: 2, Usage: "simulate `N` workers (1 to 20)"},
			&cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Usage: "log `LEVEL` on stderr: debug, info, warn, error (default: no log, the progress says it all)"},
			&cli.StringFlag{Name: "output", Usage: "keep the run's output folder (journal, plan, summary, report.html) in `DIR` (default: removed at the end)"},
		},
		Action: runDemo,
	}
}

// demoDirPrefix names the demo's working folders in the temporary
// directory; they hold the simulated nodes' private keys.
const demoDirPrefix = "mke-migrate-demo-"

func runDemo(c *cli.Context) error {
	// A demo killed with SIGKILL ran no cleanup: its folder (with private
	// keys) is removed by the next one, when its owner is gone (F14).
	if removed, err := ownerdir.RemoveStale("", demoDirPrefix); len(removed) > 0 || err != nil {
		fmt.Fprintf(c.App.ErrWriter, "Removed %d folder(s) of demos that were killed: %v", len(removed), removed)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, " (%v)", err)
		}
		fmt.Fprintln(c.App.ErrWriter)
	}
	n := c.Int("workers")
	if n < 1 || n > 20 {
		return usagef("--workers: %d is not from 1 to 20", n)
	}
	var lvl slog.Level
	if l := c.String("log-level"); l != "" {
		if err := lvl.UnmarshalText([]byte(l)); err != nil {
			return usagef("--log-level: %q is not one of debug, info, warn, error", l)
		}
	}
	keep := c.String("output")
	if keep != "" {
		if _, err := os.Stat(filepath.Join(keep, "journal.jsonl")); err == nil {
			return usagef("--output: %s holds the journal of an earlier run (use a new folder)", keep)
		}
	}
	if os.Geteuid() != 0 {
		return usagef("demo needs root: it starts simulated nodes in their own namespaces (run it with sudo)")
	}
	if err := testbed.Available(); err != nil {
		return usagef("demo cannot run here: %w", err)
	}
	w, out := c.App.ErrWriter, c.App.Writer
	// A closed terminal (SIGHUP) ends the demo like Ctrl-C, so that its
	// folder and nodes are removed; not when SIGHUP is ignored (nohup).
	ctx := c.Context
	if !signal.Ignored(syscall.SIGHUP) {
		var stop func()
		ctx, stop = signalContext(ctx, syscall.SIGHUP)
		defer stop()
	}
	log := slog.New(slog.DiscardHandler)
	if c.String("log-level") != "" {
		log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
	}

	// The simulated nodes run real etcd, Kubernetes and kubectl binaries,
	// built from the module proxy on first use (minutes, once per machine;
	// MKE_MIGRATE_NO_TESTBIN_BUILD=1 turns that off).
	if _, err := testbin.Ensure(ctx, testbin.Options{Progress: w}); err != nil {
		return failure(fmt.Errorf("the simulated nodes' Kubernetes binaries: %w", err))
	}

	work, err := ownerdir.Create("", demoDirPrefix)
	if err != nil {
		return failure(err)
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(w, "Starting a simulated MKE 3 cluster: 3 managers, %d workers, the MKE 3 API, Calico on KDD...\n", n)
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	cl, err := testbed.StartCluster(sctx, testbed.ClusterOptions{Managers: 3, Workers: n, API: true, CalicoKDD: true,
		Workdir: filepath.Join(work, "nodes"), DigestPaths: demoDigestPaths})
	cancel()
	if err != nil {
		return failure(fmt.Errorf("start the simulated cluster: %w", err))
	}
	defer func() {
		_ = cl.Close()
		fmt.Fprintln(w, "Simulated cluster removed.")
	}()
	knownHosts := filepath.Join(work, "known_hosts")
	var hs []hosts.Host
	for i, h := range cl.Hosts {
		// the simulated nodes share this machine's machine-id, which the
		// preflight rightly blocks on
		if _, err := cl.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1)); err != nil {
			return failure(err)
		}
		if err := h.KnownHostsFile(knownHosts); err != nil {
			return failure(err)
		}
		role := "worker"
		if i < len(cl.Managers) {
			role = "manager"
		}
		hs = append(hs, hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath, Role: role})
	}
	hostsPath := filepath.Join(work, "hosts.yaml")
	y, err := yaml.Marshal(hosts.File{Hosts: hs})
	if err != nil {
		return failure(err)
	}
	if err := os.WriteFile(hostsPath, y, 0o600); err != nil {
		return failure(err)
	}
	fmt.Fprintf(w, "MKE %s on %d nodes, started in %.1fs; hosts.yaml:\n%s", cl.MKEVersion, len(hs), time.Since(start).Seconds(), indent(string(y)))

	// The simulator's well-known password: it is never printed or logged.
	mc, err := mke3.New(mke3.Options{Host: cl.API.URL, Username: mke3api.DefaultAdminUsername, Password: mke3api.DefaultAdminPassword,
		CACertPEM: cl.API.CAPEM, Logger: log, UserAgent: "mke-migrate/" + version()})
	if err != nil {
		return failure(err)
	}

	// 1. convert
	fmt.Fprintln(w, "\n== mke-migrate convert")
	toml, err := mc.ConfigTOML(ctx)
	if err != nil {
		return failure(err)
	}
	cfg, err := convert.Parse("MKE 3 configuration", toml)
	if err != nil {
		return failure(err)
	}
	chs, err := toconvert.Hosts(hostsPath, hs)
	if err != nil {
		return failure(err)
	}
	_, rep, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com", Hosts: chs})
	if err != nil {
		return failure(err)
	}
	if err := rep.WriteShort(w); err != nil {
		return failure(err)
	}

	// 2. preflight
	fmt.Fprintln(w, "\n== mke-migrate preflight")
	// the call the preflight command and the upgrade's Discover make
	connect := hosts.ConnectOptions{KnownHostsPath: knownHosts, Logger: log}
	gathered, err := gather.Cluster(ctx, gather.Options{Hosts: hs, Connect: connect, MKE3: mc,
		Convert: convert.Options{ExternalAddress: "mke.example.com"}, KubeconfigPath: filepath.Join(work, "kubeconfig"), Logger: log})
	if err != nil {
		return failure(err)
	}
	checks := gathered.Checks
	counts := map[preflight.Severity]int{}
	seen := map[string]int{} // the same finding on many hosts is printed once
	var lines []string
	for _, r := range checks {
		counts[r.Severity]++
		if r.Severity == preflight.Skipped {
			continue
		}
		l := fmt.Sprintf("[%s] %s: %s", r.Severity, r.ID, r.Message)
		if seen[l] == 0 {
			lines = append(lines, l)
		}
		seen[l]++
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %s (%d host(s))\n", l, seen[l])
	}
	fmt.Fprintf(w, "%d host(s) checked: %d blocker(s), %d warning(s), %d skipped\n", len(gathered.Input.Facts),
		counts[preflight.Blocker], counts[preflight.Warning], counts[preflight.Skipped])

	// RBAC: translated for the summary; the simulated nodes run no
	// Kubernetes API to apply it to, so the upgrade leaves it out.
	model, err := fromapi.Read(ctx, mc, fromapi.Options{Source: cl.API.URL})
	if err != nil {
		return failure(err)
	}
	// translated to show it translates; the upgrade leaves it out (SkipRBAC)
	if _, _, err := rbac.Translate(model, rbac.Options{}); err != nil {
		return failure(err)
	}

	// 3. upgrade
	fmt.Fprintln(w, "\n== mke-migrate upgrade")
	k0s, err := testbed.FakeK0sBinary("v1.33.4+k0s.0")
	if err != nil {
		return failure(err)
	}
	before, err := demoDigests(cl)
	if err != nil {
		return failure(err)
	}
	rpt := newReporter(w)
	runDir := filepath.Join(work, "run")
	if keep != "" {
		runDir = keep
	}
	o := upgrade.Options{
		Hosts:           hs,
		Connect:         connect,
		MKE3:            mc,
		ExternalAddress: "mke.example.com",
		K0sBinary:       k0s,
		OutputDir:       runDir,
		KubeconfigPath:  filepath.Join(work, "kubeconfig"),
		StepTimeout:     30 * time.Second,
		// the simulated k0s serves no join API on 9443 (the realistic test
		// bed's does, and its tests check the join URL)
		Commands:        upgrade.Commands{Ready: 10 * time.Second, JoinCheck: "-"},
		SkipRBAC:        true,
		SkipConfigStore: true,
		// the simulated managers run no real ucp-kv yet
		Carry: upgrade.CarryOptions{Skip: true},
		// and their k0s serves no Kubernetes API for verify to check
		SkipVerify: true,
		Logger:     log,
		Events:     rpt.event,
	}
	u, err := upgrade.New(o)
	if err != nil {
		return failure(err)
	}
	defer u.Close()
	sh, err := u.Discover(ctx)
	if err != nil {
		return failure(err)
	}
	plan, err := u.Plan()
	if err != nil {
		return failure(err)
	}
	rpt.version = sh.MKEVersion
	if keep != "" {
		reportInputs(c, keep, sh, plan, nil, false)
		if b, err := rbac.EncodeExport(model); err == nil { // translated for the report, not applied
			_ = os.WriteFile(filepath.Join(keep, "rbac-export.json"), b, 0o600)
		}
		defer writeReport(w, keep)
	}
	if step := c.String("fail-at"); step != "" {
		if err := injectFailure(plan, step); err != nil {
			return err
		}
		fmt.Fprintf(w, "Step %s will fail right after it did its work (--fail-at).\n", step)
	}
	stopWatch := rpt.watchInterrupt(ctx)
	res, err := u.Apply(ctx, plan)
	stopWatch()
	rpt.closeLine()
	printBundles(w, res)
	if errors.Is(err, upgrade.ErrPastPointOfNoReturn) {
		fmt.Fprintf(w, "%s\nMKE 3 is (partly) uninstalled: not rolled back. Resuming, as mke-migrate resume --output DIR would:\n",
			rpt.paint(red, "Upgrade failed due to error: "+err.Error()))
		u2, uerr := upgrade.New(o)
		if uerr != nil {
			return failure(uerr)
		}
		defer u2.Close()
		if sh, err = u2.Restore(); err != nil {
			return failure(err)
		}
		if plan, err = u2.Plan(); err != nil {
			return failure(err)
		}
		res, err = u2.Resume(ctx, plan)
		rpt.closeLine()
	}
	// failSummary prints and (with --output) saves the summary of a
	// failed or rolled-back run, as upgrade does.
	failSummary := func(outcome summary.Outcome, cause string) error {
		// no RBAC counts: the demo's upgrade leaves RBAC out, and the summary says so
		sum, err := summary.Build(summary.Input{Report: conversionReport(sh, o), MKEVersion: sh.MKEVersion,
			Managers: sh.Managers, Workers: sh.Workers, Swarm: summarySwarm(runDir), Outcome: outcome, Error: cause})
		if err != nil {
			return failure(err)
		}
		fmt.Fprintln(out)
		if err := sum.WriteText(out); err != nil {
			return failure(err)
		}
		if keep != "" {
			if err := (&runSetup{opts: upgrade.Options{OutputDir: keep}}).saveSummary(sum); err != nil {
				return failure(err)
			}
		}
		return nil
	}
	if err != nil {
		var rb *upgrade.RollbackError
		if !errors.As(err, &rb) {
			fmt.Fprintln(w, rpt.paint(red, "Upgrade failed due to error: "+err.Error()))
			if serr := failSummary(summary.Failed, err.Error()); serr != nil {
				return serr
			}
			return silentExit(exitFailure)
		}
		outcome := summary.Failed // the rollback did not finish
		if rb.Rollback == nil {
			rpt.startRollback()
			rpt.rollbackDone()
			outcome = summary.RolledBack
		}
		fmt.Fprintln(w, rpt.paint(red, "Upgrade failed due to error: "+rb.Cause.Error()))
		after, derr := demoDigests(cl)
		if derr != nil {
			return failure(derr)
		}
		back := printDigests(out, cl, before, after)
		if serr := failSummary(outcome, rb.Cause.Error()); serr != nil {
			return serr
		}
		if !back {
			return failure(errors.New("a node is not back in its MKE 3 state"))
		}
		return silentExit(exitFailure)
	}
	fmt.Fprintf(w, "Upgrade finished in %.1fs.\n", res.Took.Seconds())
	for _, h := range cl.Hosts {
		st, err := cl.Exec(ctx, h, "k0s status")
		if err != nil {
			return failure(fmt.Errorf("%s: k0s status: %w", h.Name, err))
		}
		fmt.Fprintf(out, "%s (%s): %s\n", h.Name, h.Address, statusLine(st))
	}
	fmt.Fprintln(out)
	// no RBAC counts: the demo's upgrade leaves RBAC out, and the summary says so
	sum, err := summary.Build(summary.Input{Report: conversionReport(sh, o), MKEVersion: sh.MKEVersion, Managers: sh.Managers, Workers: sh.Workers, Swarm: summarySwarm(runDir)})
	if err != nil {
		return failure(err)
	}
	if err := sum.WriteText(out); err != nil {
		return failure(err)
	}
	if keep != "" { // as upgrade saves it
		if err := (&runSetup{opts: upgrade.Options{OutputDir: keep}}).saveSummary(sum); err != nil {
			return failure(err)
		}
	}
	fmt.Fprintln(out, "\n(RBAC was translated but not applied: the simulated nodes run no Kubernetes API.)")
	return nil
}

// injectFailure wraps the first step called name: it does its work, then
// fails, so the rollback has that work to undo too.
func injectFailure(p *plan.Plan, name string) error {
	var names []string
	for _, s := range p.Steps() {
		if s.Name == name {
			do := s.Do
			s.Do = func(ctx context.Context, r *plan.Run) error {
				if err := do(ctx, r); err != nil {
					return err
				}
				return fmt.Errorf("injected failure (demo --fail-at %s)", name)
			}
			return nil
		}
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	return usagef("--fail-at: the plan has no step %q; its steps are: %s", name, strings.Join(names, ", "))
}

func demoDigests(cl *testbed.Cluster) (map[string]string, error) {
	d := map[string]string{}
	for _, h := range cl.Hosts {
		s, err := cl.Digest(context.Background(), h)
		if err != nil {
			return nil, err
		}
		d[h.Name] = s
	}
	return d, nil
}

// printDigests prints every node's state digest before and after and
// reports whether they all match.
func printDigests(w interface{ Write([]byte) (int, error) }, cl *testbed.Cluster, before, after map[string]string) bool {
	same := true
	fmt.Fprintln(w, "Node state digests (SHA-256 of the node's MKE 3 state and of the files the upgrade writes):")
	for _, h := range cl.Hosts {
		mark := "same"
		if before[h.Name] != after[h.Name] {
			mark, same = "DIFFERENT", false
		}
		fmt.Fprintf(w, "  %-10s before %s  after %s  %s\n", h.Name, before[h.Name][:16], after[h.Name][:16], mark)
	}
	if same {
		fmt.Fprintln(w, "Digests equal: every node is back in its MKE 3 state.")
	}
	return same
}

func statusLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && (k == "Version" || k == "Role") {
			parts = append(parts, k+" "+strings.TrimSpace(v))
		}
	}
	if len(parts) == 0 {
		return strings.TrimSpace(s)
	}
	return "k0s " + strings.Join(parts, ", ")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
