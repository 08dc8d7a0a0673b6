package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/internal/ownerdir"
	"github.com/mke-migrate/mke-migrate/internal/testbin"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "upgrade a simulated MKE 3.8 cluster with real control planes end to end, carrying its Kubernetes state; needs root",
		Description: `Starts a throw-away simulated MKE 3.8 cluster on this machine (3 managers and 2 workers by default:
SSH servers in their own namespaces, a fake docker, systemctl and k0s, and an MKE 3 API simulator), whose
managers run a real etcd as ucp-kv and a real kube-apiserver, seeded with a realistic Kubernetes state
(namespaces, Deployments, StatefulSets, DaemonSets, Services, ConfigMaps, Secrets, volumes and claims, a
CRD and its objects, Calico KDD resources, Roles and bindings, ServiceAccounts, Nodes with labels and
taints). Then it runs what an operator runs: convert, preflight, and the upgrade (the carry of MKE 3's
etcd into k0s, the RBAC of MKE 3's orgs and teams applied to k0s, mke4.yaml stored in k0s, and verify
as its last step), with its progress and summary, and shows the seeded objects per kind before (MKE 3's API) and after (k0s's API).
Everything is removed at the end.

--json prints one JSON document on stdout (the progress stays on stderr): result, durations, the counts
per kind before and after, missing objects, RBAC applied, the config store, skipped steps, support bundles.

--fail-at STEP makes the first step of that name (in plan order) fail right after it did its work, to
show the automatic rollback: MKE 3's API then serves the same objects (UID, resourceVersion, content)
as before, and each node's state digest is compared (exit 1: the upgrade failed). The run writes a
support bundle before and after the rollback. A step at or past the point of no return (mke3-uninstall
and later) is not rolled back: the demo then shows mke-migrate resume finishing the upgrade. An unknown
step name is refused with the list of the plan's steps (exit 2).

--output DIR keeps the run's output folder: journal, support bundles, report.html (see mke-migrate report).

Needs root, unshare, nsenter, ip, sudo, sshd and the go toolchain (to build the fake nodes, and, the
first time, the real etcd, Kubernetes and kubectl binaries they run: about 13 minutes once on 2 cores, with
progress; MKE_MIGRATE_NO_TESTBIN_BUILD=1 turns that build off; see the README's Tests section).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fail-at", Usage: "make the step `STEP` fail (for example k0s-worker)"},
			&cli.IntFlag{Name: "managers", Value: 3, Usage: "simulate `N` managers (1, 3 or 5)"},
			&cli.IntFlag{Name: "workers", Value: 2, Usage: "simulate `N` workers (1 to 20)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON document on stdout (progress on stderr)"},
			&cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Usage: "log `LEVEL` on stderr: debug, info, warn, error (default: no log, the progress says it all)"},
			&cli.StringFlag{Name: "output", Usage: "keep the run's output folder (journal, plan, summary, support bundles, report.html) in `DIR` (default: removed at the end)"},
		},
		Action: runDemo,
	}
}

// demoDirPrefix names the demo's working folders in the temporary
// directory; they hold the simulated nodes' private keys.
const demoDirPrefix = "mke-migrate-demo-"

// demoBedKey is the context key under which tests hand the demo a bed
// they started (withDemoBed): the demo then runs on it and leaves it
// running, so that one bed serves several runs (a rollback leaves it in
// its MKE 3 state).
type demoBedKey struct{}

func withDemoBed(ctx context.Context, b *demoBed) context.Context {
	return context.WithValue(ctx, demoBedKey{}, b)
}

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
	n, m := c.Int("workers"), c.Int("managers")
	if n < 1 || n > 20 {
		return usagef("--workers: %d is not from 1 to 20", n)
	}
	if !slices.Contains([]int{1, 3, 5}, m) {
		return usagef("--managers: %d is not 1, 3 or 5 (an odd number keeps etcd's and Swarm's quorum)", m)
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
	w := c.App.ErrWriter
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
	d := &demo{failAt: c.String("fail-at"), keep: keep, json: c.Bool("json"), log: log, w: w, out: c.App.Writer, start: time.Now()}
	if d.json {
		d.out = w // stdout holds the JSON document only
	}

	work, err := ownerdir.Create("", demoDirPrefix)
	if err != nil {
		return d.emit(c, nil, failure(err))
	}
	defer os.RemoveAll(work)
	d.work = work
	bed, _ := c.Context.Value(demoBedKey{}).(*demoBed)
	if bed == nil {
		// The simulated nodes run real etcd, Kubernetes and kubectl
		// binaries, built from the module proxy on first use (minutes,
		// once per machine; MKE_MIGRATE_NO_TESTBIN_BUILD=1 turns that off).
		if _, err := testbin.Ensure(ctx, testbin.Options{Progress: w}); err != nil {
			if errors.Is(err, testbin.ErrNoBinaries) {
				return d.emit(c, nil, failure(fmt.Errorf("the simulated nodes run real etcd, Kubernetes and kubectl binaries, which are missing: %w "+
					"(or unset %s to let the demo build them, about 13 minutes once on 2 cores)", err, testbin.EnvNoBuild)))
			}
			return d.emit(c, nil, failure(fmt.Errorf("the simulated nodes' Kubernetes binaries: %w", err)))
		}
		if bed, err = startDemoBed(ctx, w, filepath.Join(work, "bed"), m, n, log); err != nil {
			return d.emit(c, nil, failure(err))
		}
		defer func() {
			_ = bed.Close()
			fmt.Fprintln(w, "Simulated cluster removed.")
		}()
	}
	res, err := d.run(ctx, bed)
	return d.emit(c, res, err)
}

// emit prints the JSON document with --json and returns err: the run's
// document, or, for a demo that stopped before its upgrade, one with
// result "failed" (or "blocked") and the error. A usage error prints none.
func (d *demo) emit(c *cli.Context, res *demoResult, err error) error {
	if !d.json {
		return err
	}
	var ee *exitError
	errors.As(err, &ee)
	if res == nil {
		if ee != nil && ee.code == exitUsage {
			return err
		}
		res = &demoResult{Result: "failed", Skipped: []demoSkip{}, OutputDir: d.keep,
			Kubernetes: demoKubernetes{Before: map[string]int{}, After: map[string]int{}, Missing: []string{}, Replaced: []string{}}}
		if ee != nil && ee.code == exitBlocking {
			res.Result = "blocked"
		}
	}
	if res.Error == "" && ee != nil && ee.err != nil {
		res.Error = ee.err.Error()
	}
	res.Seconds = time.Since(d.start).Seconds()
	b, jerr := json.MarshalIndent(res, "", "  ")
	if jerr != nil {
		return failure(jerr)
	}
	if perr := fprintf(c.App.Writer, "%s\n", b); perr != nil && err == nil {
		err = perr
	}
	return err
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

// demoNodeFiles are the files whose contents a node's MKE 3 state
// includes: MKE 3's Calico CNI configuration (k0s reset deletes it), and
// what an upgrade writes (DigestPaths of the test bed).
var demoNodeFiles = append([]string{"/etc/cni"}, demoDigestPaths...)

// demoNodeStateCmd prints a node's MKE 3 state: the running containers
// (a Swarm task container by its service: Swarm replaces a task container
// with a new one after a drain, as after any restart of the task, and the
// old one stays exited in the task history), the volumes, and the
// SHA-256 of every file under demoNodeFiles (a symbolic link by its
// target).
var demoNodeStateCmd = `docker ps --format '{{.Label "com.docker.swarm.service.name"}} {{.Names}}' | ` +
	`awk '{ if (NF > 1) print "container " $1 " (Swarm task)"; else print "container " $1 }' | sort; ` +
	`docker volume ls -q | sed 's/^/volume /' | sort; ` +
	`for p in ` + strings.Join(demoNodeFiles, " ") + `; do ` +
	`if [ -L "$p" ]; then echo "link $p -> $(readlink "$p")"; elif [ -e "$p" ]; then find "$p" -type f -exec sha256sum {} + | sort -k2 | sed 's/^/file /'; else echo "absent $p"; fi; done`

// demoNodeStates reads every node's MKE 3 state (demoNodeStateCmd), one
// line per item.
func demoNodeStates(ctx context.Context, cl *testbed.Cluster) (map[string][]string, error) {
	m := map[string][]string{}
	for _, h := range cl.Hosts {
		out, err := cl.Exec(ctx, h, demoNodeStateCmd)
		if err != nil {
			return nil, fmt.Errorf("%s: the node's state: %w", h.Name, err)
		}
		m[h.Name] = strings.Split(strings.TrimSpace(out), "\n")
	}
	return m, nil
}

// printNodeStates compares every node's state before and after, prints
// the verdict per node and what differs, and returns the nodes that
// differ.
func printNodeStates(w io.Writer, cl *testbed.Cluster, before, after map[string][]string) []string {
	var diff []string
	fmt.Fprintln(w, "Nodes' MKE 3 state (running containers, volumes, CNI files and the files the upgrade writes):")
	for _, h := range cl.Hosts {
		b, a := before[h.Name], after[h.Name]
		count := func(l []string, prefix string) int {
			n := 0
			for _, x := range l {
				if strings.HasPrefix(x, prefix) {
					n++
				}
			}
			return n
		}
		what := fmt.Sprintf("%d containers running, %d volumes, %d files", count(a, "container "), count(a, "volume "), count(a, "file "))
		if slices.Equal(b, a) {
			fmt.Fprintf(w, "  %-10s same as before: %s\n", h.Name, what)
			continue
		}
		diff = append(diff, h.Name)
		fmt.Fprintf(w, "  %-10s DIFFERENT: %s\n", h.Name, what)
		for _, x := range b {
			if !slices.Contains(a, x) {
				fmt.Fprintf(w, "    - %s\n", x)
			}
		}
		for _, x := range a {
			if !slices.Contains(b, x) {
				fmt.Fprintf(w, "    + %s\n", x)
			}
		}
	}
	if len(diff) == 0 {
		fmt.Fprintln(w, "Every node is back in its MKE 3 state.")
	}
	return diff
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
