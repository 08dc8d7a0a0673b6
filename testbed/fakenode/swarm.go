package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// On a realistic node the fake catches up, before each docker command,
// with what dockerd, Swarm and MKE would have done since the last one
// (reconcile). Each behaviour follows its source:
//
//   - a container whose process ended is exited (dockerd);
//   - Swarm's global orchestrator restarts a global service's task whose
//     container stopped or failed: the restart supervisor shuts the old
//     task down and creates a new task (new task ID, so a new container
//     <service>.<node ID>.<task ID>) on the same node; on a node in
//     "pause" it does not, and on a "drain" node it shuts the node's tasks
//     down (moby/swarmkit manager/orchestrator/global/global.go:
//     handleTaskChange, reconcileOneNode, restartTasks; restart/restart.go
//     Restart). A removed service has no tasks (its containers go).
//     Swarm keeps 5 old tasks per slot (TaskHistoryRetentionLimit's
//     default), so older exited task containers are removed (swarmkit
//     read at commit 3e72cb64da35ce043dcb9afa9ce9938ae7ca9379);
//   - while an MKE agent task runs on the node, stopped ucp-* containers
//     are started again (ucp-reconcile; MKE 3.8 "Manager nodes": the
//     ucp-manager-agent "automatically deploys all MKE components");
//   - while ucp-kubelet runs, stopped pod containers are started again,
//     except exited init containers (the kubelet's pod sync); when it does
//     not run, pod containers keep running under dockerd.

// swarmState reads the cluster-wide Swarm state; missing means every
// node active and the node's own services existing.
func (e *env) swarmState(n *fakestate.Node) (fakestate.SwarmState, error) {
	st := fakestate.SwarmState{Availability: map[string]string{}}
	b, err := os.ReadFile(filepath.Join(e.swarmDir(), fakestate.SwarmFile))
	if errors.Is(err, os.ErrNotExist) {
		for _, s := range n.Real.Services {
			st.Services = append(st.Services, s.Name)
		}
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", fakestate.SwarmFile, err)
	}
	if st.Availability == nil {
		st.Availability = map[string]string{}
	}
	return st, nil
}

func (e *env) swarmDir() string {
	if d := os.Getenv("FAKENODE_SWARM_DIR"); d != "" {
		return d
	}
	return fakestate.SwarmDir
}

// updateSwarm changes the cluster-wide state under its lock.
func (e *env) updateSwarm(n *fakestate.Node, change func(*fakestate.SwarmState)) error {
	dir := e.swarmDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, fakestate.SwarmLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	st, err := e.swarmState(n)
	if err != nil {
		return err
	}
	change(&st)
	return fakestate.WriteJSON(filepath.Join(dir, fakestate.SwarmFile), st)
}

func newTaskID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// taskHistory is Swarm's default TaskHistoryRetentionLimit.
const taskHistory = 5

// reconcile brings a realistic node up to date before a docker command.
func (e *env) reconcile(n *fakestate.Node) error {
	procs, err := e.procs()
	if err != nil {
		return err
	}
	changed := e.syncProcesses(n, procs)
	if n.Swarm.LocalNodeState == "active" {
		st, err := e.swarmState(n)
		if err != nil {
			return err
		}
		avail := st.Availability[n.Swarm.NodeID]
		for _, svc := range n.Real.Services {
			if e.reconcileService(n, procs, svc, avail, slices.Contains(st.Services, svc.Name)) {
				changed = true
			}
		}
	}
	if n.Real.Reconcile && agentRuns(n) {
		for i := range n.Containers {
			c := &n.Containers[i]
			if c.Running || !strings.HasPrefix(c.Name, "ucp-") || c.Labels["com.docker.swarm.service.name"] != "" {
				continue
			}
			if err := e.startProcess(procs, c); err == nil {
				c.Running, changed = true, true
			}
		}
	}
	if i := findContainer(n, "ucp-kubelet"); i >= 0 && n.Containers[i].Running {
		for j := range n.Containers {
			c := &n.Containers[j]
			if c.Running || !strings.HasPrefix(c.Name, "k8s_") || c.Labels["io.kubernetes.container.name"] == "install-cni" {
				continue
			}
			if err := e.startProcess(procs, c); err == nil {
				c.Running, changed = true, true
			}
		}
	}
	if changed {
		if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
			return err
		}
	}
	return e.saveProcs(procs)
}

// agentRuns reports whether an MKE agent task container runs on n.
func agentRuns(n *fakestate.Node) bool {
	for _, c := range n.Containers {
		s := c.Labels["com.docker.swarm.service.name"]
		if c.Running && (s == "ucp-manager-agent" || strings.HasPrefix(s, "ucp-worker-agent")) {
			return true
		}
	}
	return false
}

// reconcileService applies Swarm's global orchestrator to one service's
// task on this node; it reports whether n changed.
func (e *env) reconcileService(n *fakestate.Node, procs fakestate.Procs, svc fakestate.Service, avail string, exists bool) bool {
	var tasks []int
	running := -1
	for i, c := range n.Containers {
		if c.Labels["com.docker.swarm.service.name"] == svc.Name {
			tasks = append(tasks, i)
			if c.Running {
				running = i
			}
		}
	}
	changed := false
	switch {
	case !exists:
		// a removed service's tasks are shut down and their containers removed
		kept := n.Containers[:0]
		for _, c := range n.Containers {
			if c.Labels["com.docker.swarm.service.name"] == svc.Name {
				e.stopProcess(procs, &c, 10*time.Second)
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		n.Containers = kept
		return changed
	case avail == "drain":
		if running >= 0 {
			e.stopProcess(procs, &n.Containers[running], 10*time.Second)
			n.Containers[running].Running = false
			return true
		}
		return false
	case running >= 0 || avail == "pause" || len(tasks) == 0:
		return false
	}
	// the task stopped: a new task replaces it
	last := n.Containers[tasks[len(tasks)-1]]
	id := newTaskID()
	t := last
	t.ID, t.Running = randomID(), true
	t.Name = svc.Name + "." + n.Swarm.NodeID + "." + id
	t.Labels = map[string]string{}
	for k, v := range last.Labels {
		t.Labels[k] = v
	}
	t.Labels["com.docker.swarm.task.id"], t.Labels["com.docker.swarm.task.name"] = id, t.Name
	if err := e.startProcess(procs, &t); err != nil {
		return false
	}
	n.Containers = append(n.Containers, t)
	if len(tasks)+1 > taskHistory {
		drop := n.Containers[tasks[0]].ID
		n.Containers = slices.DeleteFunc(n.Containers, func(c fakestate.Container) bool { return c.ID == drop })
	}
	return true
}

// dockerNodeUpdate is docker node update --availability active|pause|drain
// NODE (docker CLI reference "node update"), run on a manager.
func (e *env) dockerNodeUpdate(n *fakestate.Node, args []string) error {
	if n.Swarm.LocalNodeState != "active" {
		return notInSwarm()
	}
	if !n.Swarm.ControlAvailable {
		return notManager()
	}
	vals, bools, pos := flags(args, "--availability", "--role", "--label-add", "--label-rm")
	for b := range bools {
		return fail(125, "unknown flag: %s", b)
	}
	if len(pos) != 1 {
		return fail(1, "\"docker node update\" requires exactly 1 argument.")
	}
	avail := first(vals, "--availability")
	switch avail {
	case "active", "pause", "drain":
	case "":
		return unsupported("docker", append([]string{"node", "update"}, args...))
	default:
		return fail(125, "invalid argument %q for \"--availability\" flag: invalid availability %q", avail, avail)
	}
	ref := pos[0]
	idx := -1
	for i, s := range n.Nodes {
		if s.ID == ref || s.Hostname == ref || (len(ref) >= 4 && strings.HasPrefix(s.ID, ref)) {
			idx = i
		}
	}
	if idx < 0 {
		return fail(1, "Error response from daemon: node %s not found", ref)
	}
	n.Nodes[idx].Availability = strings.ToUpper(avail[:1]) + avail[1:]
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	if n.Real != nil {
		id := n.Nodes[idx].ID
		if err := e.updateSwarm(n, func(st *fakestate.SwarmState) { st.Availability[id] = avail }); err != nil {
			return err
		}
		// the change reaches this node's own tasks at once
		if err := e.reconcile(n); err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, ref)
	return nil
}

// dockerServiceRm is docker service rm SERVICE... on a manager.
func (e *env) dockerServiceRm(n *fakestate.Node, args []string) error {
	if n.Swarm.LocalNodeState != "active" {
		return notInSwarm()
	}
	if !n.Swarm.ControlAvailable {
		return notManager()
	}
	_, _, pos := flags(args)
	if len(pos) == 0 {
		return fail(1, "\"docker service rm\" requires at least 1 argument.")
	}
	st, err := e.swarmState(n)
	if err != nil {
		return err
	}
	var errs []string
	var gone []string
	for _, s := range pos {
		if !slices.Contains(st.Services, s) {
			errs = append(errs, "Error response from daemon: service "+s+" not found")
			continue
		}
		gone = append(gone, s)
		fmt.Fprintln(e.stdout, s)
	}
	if err := e.updateSwarm(n, func(st *fakestate.SwarmState) {
		st.Services = slices.DeleteFunc(st.Services, func(s string) bool { return slices.Contains(gone, s) })
	}); err != nil {
		return err
	}
	if err := e.reconcile(n); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}
