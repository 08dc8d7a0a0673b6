package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// demo is one run of the demo on a bed.
type demo struct {
	failAt string
	keep   string // --output
	json   bool
	log    *slog.Logger
	w      io.Writer // progress
	out    io.Writer // results: stdout, or stderr with --json
	work   string    // the demo's own folder
	start  time.Time
}

// demoSkipped names the steps of a full upgrade that the options leave
// out, each with its reason (README, "See it work: the demo"): the
// demo's options leave out none.
func demoSkipped(o upgrade.Options) []demoSkip {
	s := []demoSkip{}
	for _, x := range []struct {
		skip      bool
		step, why string
	}{
		{o.Carry.Skip, "etcd-snapshot, k0s-restore", "the carry is off: k0s starts with an empty etcd"},
		{o.SkipRBAC, "rbac-apply", "RBAC is left out"},
		{o.SkipConfigStore, "mke4-config", "the config store is left out"},
		{o.SkipSwarmExport, "swarm-export", "the Swarm export is left out"},
		{o.SkipVerify, "kube-inventory, verify", "turned off"},
		{o.Commands.JoinCheck == "-", "the join check of k0s-controller and k0s-worker", "turned off"},
	} {
		if x.skip {
			s = append(s, demoSkip{Step: x.step, Reason: x.why})
		}
	}
	return s
}

// run runs convert, preflight and the upgrade on bed and says what
// happened to MKE 3's Kubernetes objects. It returns the JSON document
// (nil when the run did not get as far as the upgrade) and the error
// that sets the exit code.
func (d *demo) run(ctx context.Context, bed *demoBed) (*demoResult, error) {
	w, out, cl := d.w, d.out, bed.cl
	fmt.Fprintf(w, "MKE %s on %d nodes; hosts.yaml:\n%s", cl.MKEVersion, len(bed.hosts), indent(string(bed.hostsYAML)))
	mc := bed.mc
	external := cl.LB // the load balancer in front of the managers

	// 1. convert
	fmt.Fprintln(w, "\n== mke-migrate convert")
	toml, err := mc.ConfigTOML(ctx)
	if err != nil {
		return nil, failure(err)
	}
	cfg, err := convert.Parse("MKE 3 configuration", toml)
	if err != nil {
		return nil, failure(err)
	}
	chs, err := toconvert.Hosts(bed.hostsPath, bed.hosts)
	if err != nil {
		return nil, failure(err)
	}
	_, rep, err := convert.Convert(cfg, convert.Options{ExternalAddress: external, Hosts: chs})
	if err != nil {
		return nil, failure(err)
	}
	if err := rep.WriteShort(w); err != nil {
		return nil, failure(err)
	}

	// 2. preflight: the call the preflight command and the upgrade's
	// Discover make
	fmt.Fprintln(w, "\n== mke-migrate preflight")
	connect := hosts.ConnectOptions{KnownHostsPath: bed.knownHosts, Logger: d.log}
	kubeconfig := filepath.Join(d.work, "kubeconfig")
	gathered, err := gather.Cluster(ctx, gather.Options{Hosts: bed.hosts, Connect: connect, MKE3: mc,
		Convert: convert.Options{ExternalAddress: external}, KubeconfigPath: kubeconfig, Logger: d.log})
	if err != nil {
		return nil, failure(err)
	}
	counts := map[preflight.Severity]int{}
	seen := map[string]int{} // the same finding on many hosts is printed once
	var lines []string
	for _, r := range gathered.Checks {
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

	// 3. upgrade
	fmt.Fprintln(w, "\n== mke-migrate upgrade")
	before, err := testbed.KubeObjects(ctx, bed.mke3)
	if err != nil {
		return nil, failure(fmt.Errorf("MKE 3's Kubernetes objects: %w", err))
	}
	res := &demoResult{Result: "failed", FailAt: d.failAt, Cluster: demoCluster{MKEVersion: cl.MKEVersion, Managers: len(cl.Managers), Workers: len(cl.Workers)},
		Kubernetes: demoKubernetes{Before: kindCounts(before, bed.kinds)}, OutputDir: d.keep}
	fmt.Fprintf(w, "MKE 3's API serves %d seeded objects of %d kinds.\n", len(before), len(res.Kubernetes.Before))
	k0s, err := testbed.FakeK0sBinary("v1.33.4+k0s.0")
	if err != nil {
		return nil, failure(err)
	}
	nodesBefore, err := demoNodeStates(ctx, cl)
	if err != nil {
		return nil, failure(err)
	}
	rpt := newReporter(w)
	runDir := filepath.Join(d.work, "run")
	if d.keep != "" {
		runDir = d.keep
	}
	o := upgrade.Options{
		Hosts:           bed.hosts,
		Connect:         connect,
		MKE3:            mc,
		MKE3Password:    []byte(mke3api.DefaultAdminPassword), // redacted from the support bundles
		ExternalAddress: external,
		K0sBinary:       k0s,
		OutputDir:       runDir,
		KubeconfigPath:  kubeconfig,
		// safety nets only: the steps take seconds
		StepTimeout: 5 * time.Minute,
		Commands:    upgrade.Commands{Ready: 3 * time.Minute},
		// the last step checks the new cluster (mke-migrate verify)
		// against the inventory of MKE 3's objects, which kube-inventory
		// reads through MKE 3's client bundle, as on a real cluster
		Logger: d.log,
		Events: rpt.event,
	}
	res.Skipped = demoSkipped(o)
	for _, x := range res.Skipped {
		fmt.Fprintf(w, "Left out: %s (%s).\n", x.Step, x.Reason)
	}
	u, err := upgrade.New(o)
	if err != nil {
		return nil, failure(err)
	}
	defer u.Close()
	sh, err := u.Discover(ctx)
	if err != nil {
		var be *upgrade.BlockedError
		if errors.As(err, &be) {
			return nil, &exitError{exitBlocking, err}
		}
		return nil, failure(err)
	}
	p, err := u.Plan()
	if err != nil {
		return nil, failure(err)
	}
	rpt.version = sh.MKEVersion
	if sh.RBACObjects != nil {
		res.RBAC.Translated = sh.RBACObjects.Len()
	}
	if d.keep != "" {
		if err := saveReportInputs(d.keep, sh, p, sh.Report, nil, false); err != nil {
			fmt.Fprintf(w, "Report inputs not saved: %v\n", err)
		}
		defer writeReport(w, d.keep)
	}
	if d.failAt != "" {
		if err := injectFailure(p, d.failAt); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "Step %s will fail right after it did its work (--fail-at).\n", d.failAt)
	}
	upStart := time.Now()
	stopWatch := rpt.watchInterrupt(ctx)
	ures, err := u.Apply(ctx, p)
	stopWatch()
	rpt.closeLine()
	if errors.Is(err, upgrade.ErrPastPointOfNoReturn) {
		d.bundles(res, ures)
		fmt.Fprintf(w, "%s\nMKE 3 is (partly) uninstalled: not rolled back. Resuming, as mke-migrate resume --output DIR would:\n",
			rpt.paint(red, "Upgrade failed due to error: "+err.Error()))
		res.Resumed = true
		u2, uerr := upgrade.New(o)
		if uerr != nil {
			return res, failure(uerr)
		}
		defer u2.Close()
		if sh, err = u2.Restore(); err != nil {
			return res, failure(err)
		}
		if p, err = u2.Plan(); err != nil {
			return res, failure(err)
		}
		ures, err = u2.Resume(ctx, p)
		rpt.closeLine()
	}
	res.UpgradeSeconds = time.Since(upStart).Seconds()
	d.bundles(res, ures)
	// What the run left is shown even after Ctrl-C (the rollback ran on
	// its own context): 2 minutes as a safety net.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	// sum prints and (with --output) saves the summary, as upgrade does.
	sum := func(outcome summary.Outcome, cause string) error {
		s, err := summary.Build(summary.Input{Report: conversionReport(sh, o), RBAC: summaryRBAC(sh.RBACReport), MKEVersion: sh.MKEVersion,
			Managers: sh.Managers, Workers: sh.Workers, Swarm: summarySwarm(runDir), Outcome: outcome, Error: cause})
		if err != nil {
			return failure(err)
		}
		res.Summary = &s
		fmt.Fprintln(out)
		if err := s.WriteText(out); err != nil {
			return failure(err)
		}
		if d.keep != "" {
			if err := (&runSetup{opts: upgrade.Options{OutputDir: d.keep}}).saveSummary(s); err != nil {
				return failure(err)
			}
		}
		return nil
	}
	if err != nil {
		res.Error = err.Error()
		var rb *upgrade.RollbackError
		if !errors.As(err, &rb) {
			fmt.Fprintln(w, rpt.paint(red, "Upgrade failed due to error: "+err.Error()))
			if serr := sum(summary.Failed, err.Error()); serr != nil {
				return res, serr
			}
			return res, silentExit(exitFailure)
		}
		res.Error = rb.Cause.Error()
		outcome := summary.Failed // the rollback did not finish
		if rb.Rollback == nil {
			rpt.startRollback()
			rpt.rollbackDone()
			outcome = summary.RolledBack
			res.Result = "rolled-back"
		}
		fmt.Fprintln(w, rpt.paint(red, "Upgrade failed due to error: "+rb.Cause.Error()))
		return res, d.afterRollback(ctx, bed, res, before, nodesBefore, func() error { return sum(outcome, rb.Cause.Error()) })
	}
	res.Result = "upgraded"
	fmt.Fprintf(w, "Upgrade finished in %.1fs.\n", res.UpgradeSeconds)
	for _, h := range cl.Hosts {
		st, err := cl.Exec(ctx, h, "k0s status")
		if err != nil {
			return res, failure(fmt.Errorf("%s: k0s status: %w", h.Name, err))
		}
		fmt.Fprintf(out, "%s (%s): %s\n", h.Name, h.Address, statusLine(st))
	}
	kc, err := os.ReadFile(kubeconfig)
	if err != nil {
		return res, failure(err)
	}
	kcfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return res, failure(fmt.Errorf("the admin kubeconfig the upgrade wrote: %w", err))
	}
	after, err := listObjects(ctx, kcfg)
	if err != nil {
		return res, failure(fmt.Errorf("k0s's Kubernetes objects: %w", err))
	}
	k := &res.Kubernetes
	k.After, k.AfterAPI = kindCounts(after, bed.kinds), "k0s"
	k.compare(before, after, false)
	cs, err := kubernetes.NewForConfig(kcfg)
	if err != nil {
		return res, failure(err)
	}
	if res.RBAC.Applied, err = appliedRBAC(ctx, cs, sh.RBACObjects); err != nil {
		return res, failure(fmt.Errorf("the RBAC in k0s: %w", err))
	}
	if res.ConfigStore, err = configStored(ctx, cs); err != nil {
		return res, failure(fmt.Errorf("the config store in k0s: %w", err))
	}
	fmt.Fprintln(out, "\nKubernetes objects seeded in MKE 3, as MKE 3's API served them before and k0s's API serves them after:")
	k.writeTable(out, "k0s (after)")
	d.printCarried(out, k, len(before))
	fmt.Fprintf(out, "RBAC from MKE 3's orgs, teams and grants: %d object(s) translated, %d served by k0s.\n", res.RBAC.Translated, res.RBAC.Applied)
	if res.ConfigStore.Present {
		fmt.Fprintf(out, "mke4.yaml is stored in k0s as Secret %s, for MKE 4k's installer.\n", res.ConfigStore.Secret)
	} else {
		fmt.Fprintf(out, "mke4.yaml is NOT stored in k0s (Secret %s is missing).\n", res.ConfigStore.Secret)
	}
	if err := sum(summary.Succeeded, ""); err != nil {
		return res, err
	}
	if len(k.Missing)+len(k.Replaced) > 0 || res.RBAC.Applied < res.RBAC.Translated || !res.ConfigStore.Present {
		res.Result = "failed"
		return res, failure(errors.New("the upgrade finished, but k0s lacks some of MKE 3's state (above)"))
	}
	return res, nil
}

// afterRollback shows that MKE 3 is back: its API serves the same objects
// (UID, resourceVersion, content) and every node's digest is the same.
func (d *demo) afterRollback(ctx context.Context, bed *demoBed, res *demoResult, before []testbed.Object, nodesBefore map[string][]string, sum func() error) error {
	out := d.out
	t0 := time.Now()
	after, err := listObjects(ctx, bed.mke3)
	if err != nil {
		return failure(fmt.Errorf("MKE 3's Kubernetes objects after the rollback: %w", err))
	}
	k := &res.Kubernetes
	k.After, k.AfterAPI = kindCounts(after, bed.kinds), "mke3"
	k.compare(before, after, true)
	fmt.Fprintf(out, "\nKubernetes objects seeded in MKE 3, as MKE 3's API served them before the upgrade and serves them after the rollback (it answered in %.1fs):\n",
		time.Since(t0).Seconds())
	k.writeTable(out, "MKE 3 (after rollback)")
	switch {
	case len(k.Missing)+len(k.Replaced)+len(k.Changed) == 0:
		fmt.Fprintf(out, "MKE 3 is restored: its API serves the same %d objects (same UID, resourceVersion and content).\n", len(before))
	default:
		d.printCarried(out, k, len(before))
		for _, c := range k.Changed {
			fmt.Fprintf(out, "  changed: %s\n", c)
		}
	}
	nodesAfter, err := demoNodeStates(ctx, bed.cl)
	if err != nil {
		return failure(err)
	}
	fmt.Fprintln(out)
	diff := printNodeStates(out, bed.cl, nodesBefore, nodesAfter)
	res.Nodes = &demoNodeCheck{Same: len(diff) == 0, Different: diff}
	if err := sum(); err != nil {
		return err
	}
	if len(diff) > 0 || len(k.Missing)+len(k.Replaced)+len(k.Changed) > 0 {
		return failure(errors.New("MKE 3 is not back in its state before the upgrade (above)"))
	}
	return silentExit(exitFailure) // the upgrade failed, as asked
}

// printCarried says which objects are missing or replaced.
func (d *demo) printCarried(w io.Writer, k *demoKubernetes, n int) {
	if len(k.Missing)+len(k.Replaced) == 0 {
		if k.AfterAPI == "k0s" {
			fmt.Fprintf(w, "All %d objects carried: k0s serves each under its MKE 3 UID.\n", n)
		}
		return
	}
	for _, m := range k.Missing {
		fmt.Fprintf(w, "  missing: %s\n", m)
	}
	for _, r := range k.Replaced {
		fmt.Fprintf(w, "  another object (new UID): %s\n", r)
	}
}

// bundles notes and prints the support bundles a failed run wrote.
func (d *demo) bundles(res *demoResult, ures *upgrade.Result) {
	if ures == nil {
		return
	}
	for _, p := range ures.SupportBundles {
		if !slices.Contains(res.SupportBundles, p) {
			res.SupportBundles = append(res.SupportBundles, p)
			fmt.Fprintf(d.w, "Support bundle: %s\n", p)
		}
	}
	if len(ures.SupportBundles) > 0 && d.keep == "" {
		fmt.Fprintln(d.w, "(removed with the demo's folder at the end: give --output DIR to keep them)")
	}
}
