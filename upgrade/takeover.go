package upgrade

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// listRunningCmd lists the running containers by name.
const listRunningCmd = "docker ps --filter status=running --format '{{.Names}}'"

// swarmTask matches the name of a Swarm task container,
// <service>.<node ID>.<task ID> (IDs of 25 base-36 characters, moby
// daemon/cluster/executor/container: the task's container name).
var swarmTask = regexp.MustCompile(`^[^.]+\.[0-9a-z]{25}\.[0-9a-z]{25}$`)

// splitTasks separates Swarm task containers, which Swarm itself restarts
// (or replaces), from the others.
func splitTasks(names []string) (tasks, others []string) {
	for _, n := range names {
		if swarmTask.MatchString(n) {
			tasks = append(tasks, n)
		} else {
			others = append(others, n)
		}
	}
	return tasks, others
}

func dockerStartCmd(names []string) string { return "docker start " + shell.Join(names...) }

// stoppedName is the file in StateDir that lists, one a line, the
// containers mke3-stop stops: written before the first of them stops, so
// that the undo of a stop cut off half way (its answer, and so the
// journal's copy, lost) still knows what to start.
const stoppedName = "mke3-stopped"

// stopLockName is the lock (flock(1), util-linux) stopScript holds while
// it or any child of it runs; the undo waits for it, up to
// Commands.Ready, so that a stop whose session ended but which still runs
// on the node cannot write its list or stop a container after the undo.
const stopLockName = "mke3-stop.lock"

// stopScript lists the running containers and chooses what to stop: those
// whose names start with one of prefixes, in the order of prefixes, but
// not those of keep, then what an earlier try stopped (prev, from the
// journal, and the node's own list). It writes that list to
// StateDir/mke3-stopped, prints it on one line, and stops the Swarm tasks
// first (the agents: they would start the rest again), then the others in
// their order: list and stop in one remote command (the tests hold it to
// toStop and stopCmd, the engine's choice when they were two). Container
// names (Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]*) hold no white space nor glob
// characters; globbing is off all the same.
func stopScript(stateDir string, prefixes, keep, prev []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -ef\nexport LC_ALL=C\nf=%s\n", statePath(stateDir, stoppedName))
	// held while this script or any of its children runs: a session
	// ended (cancelled, connection lost) does not end a docker stop under
	// way, and the undo waits for it (stopLockName); without flock, the
	// stop runs as before the lock, unguarded
	// (StateDir is there already when k0s-upload staged the binary: no
	// mkdir then, as no cat below on a first try, a process less each)
	fmt.Fprintf(&b, "[ -d %s ] || mkdir -p %s\nexec 9>%s\n! command -v flock >/dev/null 2>&1 || flock 9\n", shell.Quote(stateDir), shell.Quote(stateDir), statePath(stateDir, stopLockName))
	b.WriteString("r=$(" + listRunningCmd + ")\n")
	b.WriteString("s=' '\nadd() { case \"$s\" in *\" $1 \"*) ;; *) s=\"$s$1 \";; esac; }\n")
	kc := "" // the names left running come first: they match no prefix
	if len(keep) > 0 {
		ws := make([]string, len(keep))
		for i, k := range keep {
			ws[i] = shell.Quote(k)
		}
		kc = strings.Join(ws, "|") + ") ;; "
	}
	for _, p := range prefixes {
		fmt.Fprintf(&b, "for n in $r; do case \"$n\" in %s%s*) add \"$n\";; esac; done\n", kc, shell.Quote(p))
	}
	fmt.Fprintf(&b, "p=\n[ ! -e \"$f\" ] || p=$(cat \"$f\")\nfor n in %s $p; do add \"$n\"; done\n", shell.Join(prev...))
	b.WriteString("[ \"$s\" != ' ' ] || exit 0\n")
	// the list is on the node before anything stops
	b.WriteString("printf '%s\\n' $s > \"$f.part\"\nmv -f \"$f.part\" \"$f\"\necho $s\n")
	id := strings.Repeat("[0-9a-z]", 25)
	b.WriteString("t=; o=\nfor n in $s; do case \"$n\" in .*) o=\"$o $n\";; *.*) case \"${n#*.}\" in " + id + "." + id + ") t=\"$t $n\";; *) o=\"$o $n\";; esac;; *) o=\"$o $n\";; esac; done\n")
	b.WriteString("[ -z \"$t\" ] || docker stop $t >/dev/null\n[ -z \"$o\" ] || docker stop $o >/dev/null\n")
	return b.String()
}

// k0sSaveCmd keeps an existing k0s binary (file or link) at
// StateDir/k0s.orig, unless one is kept already, and prints whether there
// was one: saved or none. It also keeps each of the files keep that
// exists under StateDir/keep (same path below it, mode and owner kept),
// unless kept already: MKE 3's files that k0s reset deletes. Without a
// k0sDir yet, it leaves the mark StateDir/k0s-dir.made: the undo removes
// only a folder the run made.
func k0sSaveCmd(stateDir, k0sPath, k0sDir string, keep []string) string {
	saved, k := statePath(stateDir, "k0s.orig"), shell.Quote(k0sPath)
	cmd := fmt.Sprintf("mkdir -p %s; [ -e %s ] || : > %s; ", shell.Quote(stateDir), shell.Quote(k0sDir), statePath(stateDir, "k0s-dir.made"))
	for _, f := range keep {
		raw := keptPath(stateDir, f)
		kept := shell.Quote(raw)
		cmd += fmt.Sprintf("if [ -e %s ] && [ ! -e %s ]; then mkdir -p %s && cp -a %s %s.part && mv %s.part %s; fi; ",
			shell.Quote(f), kept, shell.Quote(path.Dir(raw)), shell.Quote(f), kept, kept, kept)
	}
	// what was there is decided once, on the node: a retry after the
	// staged binary replaced k0sPath must not take it for the original
	none := statePath(stateDir, "k0s.none")
	return cmd + fmt.Sprintf("if [ -e %s ] || [ -L %s ]; then echo saved; elif [ -e %s ]; then echo none; elif [ -e %s ] || [ -L %s ]; then cp -P %s %s && echo saved; else : > %s && echo none; fi",
		saved, saved, none, k, k, k, saved, none)
}

// k0sRestoreCmd puts a kept binary back; without one, it removes the
// installed binary only when there was none before (none). The kept
// files go back to their places, and k0sDir goes if the run made it
// (this undo runs after the k0s install's undo, k0s reset: that step is
// newer).
func k0sRestoreCmd(stateDir, k0sPath, k0sDir string, none bool, keep []string) string {
	saved, k := statePath(stateDir, "k0s.orig"), shell.Quote(k0sPath)
	mark := statePath(stateDir, "k0s.none")
	cmd := fmt.Sprintf("if [ -e %s ] || [ -L %s ]; then rm -f %s && mv %s %s", saved, saved, k, saved, k)
	if none {
		cmd += "; else rm -f " + k
	} else {
		// the save found none (k0sSaveCmd's mark): the binary is the run's
		cmd += fmt.Sprintf("; elif [ -e %s ]; then rm -f %s", mark, k)
	}
	cmd += "; fi; rm -f " + mark + "; "
	if len(keep) > 0 {
		for _, f := range keep {
			kept := shell.Quote(keptPath(stateDir, f))
			cmd += fmt.Sprintf("if [ -e %s ]; then mkdir -p %s && mv -f %s %s; fi; ", kept, shell.Quote(path.Dir(f)), kept, shell.Quote(f))
		}
		// the empty folders of StateDir/keep, deepest first
		cmd += fmt.Sprintf("find %s -depth -type d -empty -delete 2>/dev/null; ", statePath(stateDir, "keep"))
	}
	made := statePath(stateDir, "k0s-dir.made")
	cmd += fmt.Sprintf("if [ -e %s ]; then rmdir %s 2>/dev/null; rm -f %s; fi; ", made, shell.Quote(k0sDir), made)
	return cmd + "rmdir " + shell.Quote(stateDir) + " 2>/dev/null; true"
}

// keptPath is where k0sSaveCmd keeps file f.
func keptPath(stateDir, f string) string {
	return strings.TrimRight(stateDir, "/") + "/keep" + path.Clean("/"+f)
}

// statePath is name in dir, quoted.
func statePath(dir, name string) string { return shell.Quote(strings.TrimRight(dir, "/") + "/" + name) }

// stagedName is the k0s binary k0sUploadStep leaves in StateDir for
// k0sBinaryStep.
const stagedName = "k0s.staged"

// stagedPath is where k0sUploadStep leaves the binary (unquoted).
func stagedPath(stateDir string) string { return strings.TrimRight(stateDir, "/") + "/" + stagedName }

// k0sActivateScript puts the staged binary (StateDir/k0s.staged, made by
// k0sUploadStep before the outage) at k0sPath: copied next to it, checked
// against sum (SHA-256, hex), renamed over it, then the staged file is
// removed ($st: installTail uses $s). It prints staged, or missing when
// there is no staged file with that checksum (then the caller delivers
// the binary itself). Run after k0sSaveCmd, it never replaces what is not
// ours (installHead's guard).
func k0sActivateScript(stateDir, k0sPath, sum string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nst=%s\n", statePath(stateDir, stagedName))
	b.WriteString("if [ ! -f \"$st\" ]; then echo missing; exit 0; fi\n")
	fmt.Fprintf(&b, "x=$(sha256sum < \"$st\"); x=${x%%%% *}\nif [ \"$x\" != %s ]; then rm -f \"$st\"; echo missing; exit 0; fi\n", sum)
	b.WriteString(installHead(stateDir, k0sPath, true))
	b.WriteString("cp \"$st\" \"$t\"\n")
	b.WriteString(installTail(sum))
	b.WriteString("rm -f \"$st\"\necho staged\n")
	return b.String()
}

// k0sUploadStep copies the k0s binary to host's StateDir before the
// outage: it changes nothing of MKE 3, and the copy (the slow part on a
// real site, a k0s binary is some 250 MB) is then not on the outage's
// critical path; k0sBinaryStep only moves it into place. Its undo
// removes the staged copy, and what an upload cut off left.
func k0sUploadStep(e *Env, host string) *plan.Step {
	c := e.Commands
	return &plan.Step{
		Name: "k0s-upload", Host: host, Phase: PhaseMigrate,
		Changes: e.stageChanges(),
		Do:      e.stageK0s,
		Undo: func(ctx context.Context, r *plan.Run) error {
			// one-shot servers first; a delivery cut off (timeout,
			// interrupt) leaves its temporary file next to the staged
			// one (installHead), an older upload its own (hosts.Client.Upload)
			d := shell.Quote(strings.TrimRight(c.StateDir, "/") + "/")
			_, err := sudo(ctx, r.Node, peerCleanupCmd(c.StateDir)+"; rm -f "+statePath(c.StateDir, stagedName)+" "+d+k0sTempPrefix+"* "+d+".mke-upload.*; rmdir "+shell.Quote(c.StateDir)+" 2>/dev/null; true")
			return err
		},
	}
}

// k0sUploadStage uploads the k0s binary to every node of the run, before
// the outage starts (k0sUploadStep).
func k0sUploadStage(e *Env) *plan.Stage {
	var lanes [][]*plan.Step
	for _, h := range append(slices.Clone(e.Cluster.Managers), e.Cluster.Workers...) {
		lanes = append(lanes, []*plan.Step{k0sUploadStep(e, h)})
	}
	return &plan.Stage{Name: "k0s binary: copy to every node", Phase: PhaseMigrate, Lanes: lanes}
}

// takeOverSteps give a node to k0s: stop MKE 3's Kubernetes, install the
// k0s binary; phase is the node's (managers or workers).
func takeOverSteps(e *Env, host string, phase plan.Phase) []*plan.Step {
	steps := []*plan.Step{stopStep(e, host), k0sBinaryStep(e, host)}
	for _, s := range steps {
		s.Phase = phase
	}
	return steps
}

// stopStep stops MKE 3's containers on host (Commands.StopContainers):
// agents, kubelet, components and pods, so that ports and memory are
// free for k0s; Swarm no longer replaces the agent's task once
// swarmDrainNodesStep drained the node. Its undo starts exactly what it
// stopped, Swarm tasks aside (Swarm starts new ones when the drain is
// undone), and waits until they run.
func stopStep(e *Env, host string) *plan.Step {
	c := e.Commands
	return &plan.Step{
		Name: "mke3-stop", Host: host, Phase: PhaseManagers,
		Changes: "stops MKE 3's agent, kubelet, ucp-* components (not " + strings.Join(c.KeepRunning, ", ") + ") and k8s_* pod containers",
		Do: func(ctx context.Context, r *plan.Run) error {
			var prev []string
			if p := r.Get("stopped"); p != "" {
				prev = strings.Split(p, ",")
			}
			// one remote command: the list is kept on the node before the
			// first stop (stopScript), so a stop cut off half way, whose
			// answer never reaches the journal, is still undone
			out, err := sudo(ctx, r.Node, stopScript(c.StateDir, c.StopContainers, c.KeepRunning, prev))
			if err != nil {
				return err
			}
			if names := strings.Fields(out); len(names) > 0 {
				r.Set("stopped", strings.Join(names, ","))
			}
			return nil
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			f := statePath(c.StateDir, stoppedName)
			// the node's list first: it holds what a stop cut off after
			// writing it stopped, which the journal may not
			l := statePath(c.StateDir, stopLockName)
			out, err := sudo(ctx, r.Node, fmt.Sprintf("[ ! -e %s ] || flock -w %d %s true || true; cat %s 2>/dev/null || true", l, max(int(c.Ready.Seconds()), 1), l, f))
			if err != nil {
				return err
			}
			all := strings.Fields(out)
			if p := r.Get("stopped"); p != "" {
				for _, n := range strings.Split(p, ",") {
					if !slices.Contains(all, n) {
						all = append(all, n)
					}
				}
			}
			if _, names := splitTasks(all); len(names) > 0 {
				if err := startAgain(ctx, r, names, c.Ready); err != nil {
					return err
				}
			}
			// the list goes once MKE 3 runs again
			_, err = sudo(ctx, r.Node, "rm -f "+f+" "+statePath(c.StateDir, stoppedName+".part")+" "+l+"; rmdir "+shell.Quote(c.StateDir)+" 2>/dev/null; true")
			return err
		},
	}
}

// startAgain starts names (the stop's order, not Swarm tasks: Swarm
// starts new ones when the drain is undone) in reverse order and waits up
// to limit until they run.
func startAgain(ctx context.Context, r *plan.Run, names []string, limit time.Duration) error {
	names = slices.Clone(names)
	slices.Reverse(names)
	if _, err := sudo(ctx, r.Node, dockerStartCmd(names)); err != nil {
		return err
	}
	// MKE 3 is back when its containers run again
	var missing []string
	err := waitFor(ctx, limit, func() bool {
		out, err := sudo(ctx, r.Node, listRunningCmd)
		if err != nil {
			return false
		}
		running := strings.Fields(out)
		missing = missing[:0]
		for _, n := range names {
			if !slices.Contains(running, n) {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0
	})
	if err != nil {
		return fmt.Errorf("MKE 3 containers not running again (%s): %w", strings.Join(missing, ", "), err)
	}
	return nil
}

// k0sBinaryStep installs the k0s binary, keeping an existing one, and
// keeps Commands.KeepFiles before k0s touches the node; its undo, which
// runs after the k0s install's undo (k0s reset), puts them all back.
// The binary is the one k0sUploadStep staged on the node before the
// outage, moved into place in the same remote command as the save; only
// when none is staged (a resume, a staged copy gone) is it delivered here
// as Env.Delivery says (deliverK0s).
func k0sBinaryStep(e *Env, host string) *plan.Step {
	c := e.Commands
	return &plan.Step{
		Name: "k0s-binary", Host: host, Phase: PhaseManagers,
		Changes: e.deliveryChanges(),
		Do: func(ctx context.Context, r *plan.Run) error {
			cmd := "sh -c " + shell.Quote(k0sActivateScript(c.StateDir, c.K0sPath, e.Delivery.SHA256))
			first := r.Get("saved") == ""
			if first {
				cmd = k0sSaveCmd(c.StateDir, c.K0sPath, c.K0sDir, c.KeepFiles) + " && " + cmd
			}
			out, err := sudo(ctx, r.Node, cmd)
			if err != nil {
				return e.deliveryErr(r.Step.Host, "the staged copy", err)
			}
			lines := strings.Fields(out)
			if first {
				if len(lines) == 0 || lines[0] != "saved" && lines[0] != "none" {
					return fmt.Errorf("keep the existing k0s binary: unexpected output %q", out)
				}
				r.Set("saved", lines[0])
			}
			if len(lines) > 0 && lines[len(lines)-1] == "staged" {
				e.delivered(r.Step.Host, e.delivery.peers)
				return nil
			}
			return e.deliverK0s(ctx, r)
		},
		// A saved original goes back. Without one, the binary is removed
		// only when Do recorded that there was none: a Do cut off before
		// it looked must not cost the node its k0s.
		Undo: func(ctx context.Context, r *plan.Run) error {
			// a one-shot server of the node's, if any, goes first
			_, err := sudo(ctx, r.Node, peerCleanupCmd(c.StateDir)+"; "+k0sRestoreCmd(c.StateDir, c.K0sPath, c.K0sDir, r.Get("saved") == "none", c.KeepFiles))
			return err
		},
	}
}

func waitFor(ctx context.Context, limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
