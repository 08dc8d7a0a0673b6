package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// call is one command a fakeNode received.
type call struct {
	host, cmd string
	sudo      bool
	stdin     string
}

// fakeNode stands in for a connection (hosts.Node): it records every
// command and answers those matching a prefix of reply (first match).
type fakeNode struct {
	host  string
	log   *[]call
	mu    *sync.Mutex
	reply map[string]string
	fail  map[string]error
	files map[string][]byte
}

func (n *fakeNode) Exec(_ context.Context, cmd string, opts ...hosts.ExecOption) (string, error) {
	o := hosts.ApplyExecOptions(opts...)
	c := call{host: n.host, cmd: cmd, sudo: o.Sudo}
	if o.Stdin != nil {
		b, _ := io.ReadAll(o.Stdin)
		c.stdin = string(b)
	}
	n.mu.Lock()
	*n.log = append(*n.log, c)
	n.mu.Unlock()
	for p, err := range n.fail {
		if strings.HasPrefix(cmd, p) {
			return "", err
		}
	}
	for p, out := range n.reply {
		if strings.HasPrefix(cmd, p) {
			return out, nil
		}
	}
	return "", nil
}

func (n *fakeNode) Upload(_ context.Context, data []byte, dst string, perm fs.FileMode, sudo bool) error {
	return n.record("upload "+dst+" "+perm.String(), sudo)
}

func (n *fakeNode) ReadFile(_ context.Context, p string, sudo bool) ([]byte, error) {
	return n.files[p], n.record("read "+p, sudo)
}

func (n *fakeNode) record(what string, sudo bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	*n.log = append(*n.log, call{host: n.host, cmd: what, sudo: sudo})
	return nil
}

// fakeCluster is a plan.Nodes of fake nodes sharing one log.
type fakeCluster struct {
	mu    sync.Mutex
	log   []call
	nodes map[string]*fakeNode
}

func newFakeCluster(hs ...string) *fakeCluster {
	fc := &fakeCluster{nodes: map[string]*fakeNode{}}
	for _, h := range hs {
		fc.nodes[h] = &fakeNode{host: h, log: &fc.log, mu: &fc.mu, reply: map[string]string{}, fail: map[string]error{}, files: map[string][]byte{}}
	}
	return fc
}

func (fc *fakeCluster) Node(_ context.Context, host string) (hosts.Node, error) {
	n, ok := fc.nodes[host]
	if !ok {
		return nil, errors.New("no host " + host)
	}
	return n, nil
}

// cmds are the logged commands, as root through sh -c where sudo says so.
func (fc *fakeCluster) cmds() []string {
	var out []string
	for _, c := range fc.log {
		out = append(out, c.host+": "+c.cmd)
	}
	return out
}

const (
	leader  = "10.0.0.1:22"
	manager = "10.0.0.2:22"
	worker  = "10.0.0.3:22"
)

func testEnv(fc *fakeCluster) *Env {
	sh := &Shared{Leader: leader, Managers: []string{leader, manager}, Workers: []string{worker}, MKEVersion: "3.7.5", ClusterID: "abc123",
		Facts: map[string]hosts.Facts{worker: {Hostname: "worker-1"}}, Profiles: map[string]string{worker: "high"}, K0sConfig: []byte("apiVersion: k0s")}
	d, err := Delivery{Mode: DeliveryUpload}.resolve([]byte("k0s"))
	if err != nil {
		panic(err)
	}
	return &Env{Cluster: sh, Commands: Commands{Ready: 1}.withDefaults(), K0sBinary: []byte("k0s"), Delivery: d, Nodes: fc, tokens: &joinTokens{}, delivery: newDeliveryState(d)}
}

// run runs f of step s on its node, as the executor would.
func run(t *testing.T, fc *fakeCluster, s *plan.Step, data map[string]string, f func(*plan.Step) func(context.Context, *plan.Run) error) *plan.Run {
	t.Helper()
	var node hosts.Node
	if s.Host != "" {
		node = fc.nodes[s.Host]
	}
	r := plan.NewRun(s, node, nil, data)
	if err := f(s)(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func do(s *plan.Step) func(context.Context, *plan.Run) error   { return s.Do }
func undo(s *plan.Step) func(context.Context, *plan.Run) error { return s.Undo }

func requireCmds(t *testing.T, fc *fakeCluster, want ...string) {
	t.Helper()
	if got := fc.cmds(); !slices.Equal(got, want) {
		t.Fatalf("commands\n got: %q\nwant: %q", got, want)
	}
	for _, c := range fc.log {
		if !c.sudo {
			t.Errorf("%s: not as root", c.cmd)
		}
	}
	fc.log = nil
}

func TestStopStep(t *testing.T) {
	fc := newFakeCluster(worker)
	const agent = "ucp-worker-agent-x.8k0z0w1cwe8xssxtjl75bcom6.hlfhyebkaij506nceubnp80jm"
	e := testEnv(fc)
	c := e.Commands
	// list and stop in one remote command, which prints what it stops
	script := shell.Sudo(stopScript(c.StateDir, c.StopContainers, c.KeepRunning, nil))
	fc.nodes[worker].reply[script] = agent + " ucp-kubelet ucp-proxy k8s_web_x"
	s := stopStep(e, worker)
	r := run(t, fc, s, nil, do)
	requireCmds(t, fc, worker+": "+script)
	if r.Get("stopped") != agent+",ucp-kubelet,ucp-proxy,k8s_web_x" {
		t.Fatalf("stopped %q", r.Get("stopped"))
	}
	// a retry passes what the journal holds
	run(t, fc, s, r.Data(), do)
	requireCmds(t, fc, worker+": "+shell.Sudo(stopScript(c.StateDir, c.StopContainers, c.KeepRunning, []string{agent, "ucp-kubelet", "ucp-proxy", "k8s_web_x"})))
	// undo starts them in reverse, but not the agent's Swarm task (Swarm
	// starts a new one), waits until they run, then removes the node's list
	// after any stop still under way on the node (its lock)
	lock := "'/var/lib/mke-migrate/mke3-stop.lock'"
	list := shell.Sudo("[ ! -e " + lock + " ] || flock -w 1 " + lock + " true || true; cat '/var/lib/mke-migrate/mke3-stopped' 2>/dev/null || true")
	clean := shell.Sudo("rm -f '/var/lib/mke-migrate/mke3-stopped' '/var/lib/mke-migrate/mke3-stopped.part' " + lock + "; rmdir '/var/lib/mke-migrate' 2>/dev/null; true")
	fc.nodes[worker].reply[shell.Sudo(listRunningCmd)] = "ucp-kubelet\nucp-proxy\nk8s_web_x"
	run(t, fc, s, r.Data(), undo)
	requireCmds(t, fc, worker+": "+list, worker+": "+shell.Sudo("docker start k8s_web_x ucp-proxy ucp-kubelet"), worker+": "+shell.Sudo(listRunningCmd), worker+": "+clean)
	// a stop cut off between its halves: the journal holds nothing, the
	// node's list names what to start
	fc.nodes[worker].reply[list] = agent + "\nucp-kubelet\nucp-proxy"
	run(t, fc, s, nil, undo)
	requireCmds(t, fc, worker+": "+list, worker+": "+shell.Sudo("docker start ucp-proxy ucp-kubelet"), worker+": "+shell.Sudo(listRunningCmd), worker+": "+clean)
	// nothing stopped, nothing to start
	fc.nodes[worker].reply[list] = ""
	run(t, fc, s, nil, undo)
	requireCmds(t, fc, worker+": "+list, worker+": "+clean)
}

func TestK0sBinaryStep(t *testing.T) {
	fc := newFakeCluster(manager)
	e := testEnv(fc)
	save := k0sSaveCmd("/var/lib/mke-migrate", "/usr/local/bin/k0s", "/etc/k0s", e.Commands.KeepFiles)
	activate := "sh -c " + shell.Quote(k0sActivateScript("/var/lib/mke-migrate", "/usr/local/bin/k0s", e.Delivery.SHA256))
	// the save and the move of the staged binary in one remote command
	fc.nodes[manager].reply[shell.Sudo(save+" && "+activate)] = "none\nstaged"
	s := k0sBinaryStep(e, manager)
	r := run(t, fc, s, nil, do)
	requireCmds(t, fc, manager+": "+shell.Sudo(save+" && "+activate))
	if r.Get("saved") != "none" {
		t.Fatalf("saved %q", r.Get("saved"))
	}
	// a resumed Do does not look again (the first look said none); with
	// nothing staged any more, it delivers the binary itself
	fc.nodes[manager].reply[shell.Sudo(activate)] = "missing"
	fc.nodes[manager].reply[shell.Sudo(k0sSumCmd("/usr/local/bin/k0s"))] = "sum=none"
	run(t, fc, s, r.Data(), do)
	upload := shell.Sudo(uploadScript("/var/lib/mke-migrate", "/usr/local/bin/k0s", false, e.Delivery.SHA256))
	requireCmds(t, fc, manager+": "+shell.Sudo(activate), manager+": "+shell.Sudo(k0sSumCmd("/usr/local/bin/k0s")), manager+": "+upload)
	// the binary in place already: nothing is sent again
	fc.nodes[manager].reply[shell.Sudo(k0sSumCmd("/usr/local/bin/k0s"))] = "sum=" + e.Delivery.SHA256
	run(t, fc, s, r.Data(), do)
	requireCmds(t, fc, manager+": "+shell.Sudo(activate), manager+": "+shell.Sudo(k0sSumCmd("/usr/local/bin/k0s")))
	cleanup := peerCleanupCmd("/var/lib/mke-migrate") + "; "
	run(t, fc, s, r.Data(), undo)
	requireCmds(t, fc, manager+": "+shell.Sudo(cleanup+k0sRestoreCmd("/var/lib/mke-migrate", "/usr/local/bin/k0s", "/etc/k0s", true, e.Commands.KeepFiles)))
	// a Do cut off before it looked must not cost the node its k0s
	run(t, fc, s, nil, undo)
	requireCmds(t, fc, manager+": "+shell.Sudo(cleanup+k0sRestoreCmd("/var/lib/mke-migrate", "/usr/local/bin/k0s", "/etc/k0s", false, e.Commands.KeepFiles)))
}

func TestK0sUploadStep(t *testing.T) {
	fc := newFakeCluster(worker)
	e := testEnv(fc)
	s := k0sUploadStep(e, worker)
	staged := "/var/lib/mke-migrate/k0s.staged"
	sumCmd := shell.Sudo(stageSumCmd("/var/lib/mke-migrate", "/usr/local/bin/k0s"))
	fc.nodes[worker].reply[sumCmd] = "sum=none\ninstalled=none"
	run(t, fc, s, nil, do)
	upload := shell.Sudo(uploadScript("/var/lib/mke-migrate", staged, false, e.Delivery.SHA256))
	requireCmds(t, fc, worker+": "+sumCmd, worker+": "+upload)
	// staged already (a resume): nothing is sent again
	fc.nodes[worker].reply[sumCmd] = "sum=" + e.Delivery.SHA256 + "\ninstalled=none"
	run(t, fc, s, nil, do)
	requireCmds(t, fc, worker+": "+sumCmd)
	// in place already (a second run): nothing is staged
	fc.nodes[worker].reply[sumCmd] = "sum=none\ninstalled=" + e.Delivery.SHA256
	run(t, fc, s, nil, do)
	requireCmds(t, fc, worker+": "+sumCmd)
	run(t, fc, s, nil, undo)
	requireCmds(t, fc, worker+": "+shell.Sudo(peerCleanupCmd("/var/lib/mke-migrate")+"; rm -f '/var/lib/mke-migrate/k0s.staged' '/var/lib/mke-migrate/'"+k0sTempPrefix+"* '/var/lib/mke-migrate/'.mke-upload.*; rmdir '/var/lib/mke-migrate' 2>/dev/null; true"))
}

// The join token is made once per role on the leader and reaches a
// joining node only on stdin: never in a command line.
func TestJoinTokenOnlyOnStdin(t *testing.T) {
	fc := newFakeCluster(leader, manager, worker)
	e := testEnv(fc)
	e.Cluster.Facts[leader] = hosts.Facts{Hostname: "manager-1"}
	e.Cluster.Facts[manager] = hosts.Facts{Hostname: "manager-2"}
	const token = "SECRET-TOKEN"
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("worker", "1h0m0s"))] = token
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("controller", "1h0m0s"))] = token + "-c"
	run(t, fc, workerStep(e, worker), nil, do)
	run(t, fc, workerStep(e, worker), nil, do) // a resumed Do reuses the token
	run(t, fc, controllerStep(e, manager, false), nil, do)
	run(t, fc, controllerStep(e, leader, true), nil, do)
	// every node waits for its Node: workers and controllers alike run a
	// kubelet (controllers are installed with --enable-worker)
	ready := func(name string) string {
		return nodeReadyScript(`env KUBECONFIG=/var/lib/k0s/kubelet.conf k0s kubectl get node `+name+` -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'`, name, e.Commands.NodeReadyTimeout)
	}
	script := func(role string, join bool, profile string) string {
		return shell.Sudo(installScript(installArgs(role, "/etc/k0s", "/etc/k0s/join-token", join, profile), "/etc/k0s", "/etc/k0s/join-token", join, e.Commands.Ready, "", ready(e.hostname(map[bool]string{true: worker, false: manager}[role == "worker"]))))
	}
	leaderScript := shell.Sudo(installScript(installArgs("controller", "/etc/k0s", "/etc/k0s/join-token", false, ""), "/etc/k0s", "/etc/k0s/join-token", false, e.Commands.Ready, "", ready(e.hostname(leader))))
	var stdins []string
	for _, c := range fc.log {
		if strings.Contains(c.cmd, token) {
			t.Errorf("the token is in a command line: %s", c.cmd)
		}
		stdins = append(stdins, c.stdin)
	}
	requireCmds(t, fc,
		leader+": "+shell.Sudo("k0s token create --role worker --expiry 1h0m0s"),
		worker+": "+script("worker", true, "high"),
		worker+": "+script("worker", true, "high"),
		manager+": "+shell.Sudo("mkdir -p '/etc/k0s'"),
		manager+": upload /etc/k0s/k0s.yaml -rw-------",
		leader+": "+shell.Sudo("k0s token create --role controller --expiry 1h0m0s"),
		manager+": "+script("controller", true, ""),
		leader+": "+shell.Sudo("mkdir -p '/etc/k0s'"),
		leader+": upload /etc/k0s/k0s.yaml -rw-------",
		leader+": "+leaderScript,
	)
	if want := []string{"", token + "\n", token + "\n", "", "", "", token + "-c\n", "", "", ""}; !slices.Equal(stdins, want) {
		t.Errorf("stdin %q, want %q", stdins, want)
	}
}

// A joined worker waits on itself until its Node is Ready, by its node
// name as one shell word; it is never drained (see drain.go).
func TestWorkerWaitsForItsNode(t *testing.T) {
	fc := newFakeCluster(leader, worker)
	e := testEnv(fc)
	e.Cluster.Facts[worker] = hosts.Facts{Hostname: "w;reboot"}
	e.Commands.NodeReadyTimeout = 2 * time.Second
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("worker", "1h0m0s"))] = "T"
	run(t, fc, workerStep(e, worker), nil, do)
	got := fc.cmds()
	want := `i=0; until [ "$(env KUBECONFIG=/var/lib/k0s/kubelet.conf k0s kubectl get node 'w;reboot' -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do i=$((i+1)); if [ $i -ge 5 ]; then echo 'node w;reboot not Ready after 2s' >&2; exit 1; fi; sleep 0.5; done`
	if len(got) != 2 || !strings.Contains(got[1], shell.Quote(want)[1:len(shell.Quote(want))-1]) {
		t.Fatalf("commands\n got: %q\nwant the install script to end with: %q", got, want)
	}
	for _, c := range got {
		if strings.Contains(c, "drain") || strings.Contains(c, "cordon") {
			t.Errorf("a worker is drained or cordoned: %s", c)
		}
	}
}

// When uninstall-ucp times out, every node leaves the Swarm, the leader
// last; a node that cannot leave does not stop the others.
func TestUninstallTimeoutFallback(t *testing.T) {
	fc := newFakeCluster(leader, manager, worker)
	e := testEnv(fc)
	uninstall := shell.Sudo(uninstallCmd(e.expand(e.Commands.Uninstall, "")))
	fc.nodes[leader].reply[uninstall] = "msg=\"Uninstalling UCP took too long\"\nmke-migrate-exit=1"
	fc.nodes[worker].fail[shell.Sudo("docker swarm leave")] = errors.New("gone")
	s := uninstallStep(e)
	if !s.PointOfNoReturn || s.Host != leader {
		t.Fatal("the uninstall is the point of no return, on the leader")
	}
	run(t, fc, s, nil, do)
	leave := shell.Sudo("docker swarm leave --force")
	requireCmds(t, fc, leader+": "+uninstall, worker+": "+leave, manager+": "+leave, leader+": "+leave)

	fc.nodes[leader].reply[uninstall] = "boom\nmke-migrate-exit=125"
	if err := s.Do(t.Context(), plan.NewRun(s, fc.nodes[leader], nil, nil)); err == nil || !strings.Contains(err.Error(), "exit 125") {
		t.Fatalf("err = %v", err)
	}
}

// F6: past the point of no return a step that keeps failing is tried a
// bounded number of times, then says what to run by hand.
func TestVolumesStepBoundedThenManual(t *testing.T) {
	fc := newFakeCluster(manager)
	e := testEnv(fc)
	cmd := volumesCmd(e.Commands.CleanupVolumes)
	fc.nodes[manager].fail[shell.Sudo(cmd)] = errors.New("volume is in use")
	s := volumesStep(e, manager)
	r := plan.NewRun(s, fc.nodes[manager], nil, nil)
	err := s.Do(t.Context(), r)
	var me *ManualStepError
	if !errors.As(err, &me) || me.Tries != pastTries || me.Host != manager || me.By != cmd {
		t.Fatalf("want a ManualStepError after %d tries, got %v", pastTries, err)
	}
	if !strings.Contains(err.Error(), "do it by hand on "+manager) || !strings.Contains(err.Error(), "volume is in use") {
		t.Errorf("error %q", err)
	}
	if n := len(fc.log); n != pastTries {
		t.Errorf("%d tries, want %d", n, pastTries)
	}
}

// A controller writes the files its k0s configuration names (the audit
// policy, the EventRateLimit configuration) before k0s starts, owner-only,
// and is installed with the managers' profile; its undo removes them.
func TestControllerWritesItsNodeFiles(t *testing.T) {
	fc := newFakeCluster(leader, manager)
	e := testEnv(fc)
	cfg := mke4.Default()
	cfg.Spec.APIServer.Audit.Enabled = true
	cfg.Spec.APIServer.EventRateLimit.Enabled = true
	e.Cluster.Config = &cfg
	b, err := k0sConfig(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Cluster.K0sConfig = b
	e.Cluster.Facts[leader] = hosts.Facts{Hostname: "manager-1"}
	run(t, fc, controllerStep(e, leader, true), nil, do)
	got := fc.cmds()
	want := []string{
		leader + ": upload /etc/k0s/admission-control.yaml -rw-------",
		leader + ": upload /etc/k0s/audit-policy.yaml -rw-------",
		leader + ": upload /etc/k0s/event-rate-limit.yaml -rw-------",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no %q in %q", w, got)
		}
	}
	if install := got[len(got)-1]; !strings.Contains(install, "--profile="+managerProfile) {
		t.Errorf("the manager is not installed with its profile: %s", install)
	}
	fc.log = nil
	run(t, fc, controllerStep(e, leader, true), nil, undo)
	if got := fc.cmds(); len(got) != 1 || !strings.Contains(got[0], "/etc/k0s/audit-policy.yaml") || !strings.Contains(got[0], "/etc/k0s/event-rate-limit.yaml") {
		t.Errorf("undo %q", got)
	}
}

// The k0s binary reaches every node before the outage, and the workers
// are drained beside the managers' stages: each worker once, all before
// the first worker stage, the managers before anything of MKE 3 stops.
func TestOutageSchedule(t *testing.T) {
	for _, tc := range []struct{ managers, workers, batch int }{{3, 200, 100}, {3, 2, 100}, {1, 5, 100}, {3, 0, 100}, {2, 10, 20}} {
		t.Run(fmt.Sprintf("%d managers, %d workers, batch %d%%", tc.managers, tc.workers, tc.batch), func(t *testing.T) {
			sh := &Shared{Facts: map[string]hosts.Facts{}}
			for i := range tc.managers {
				h := fmt.Sprintf("10.0.1.%d:22", i+1)
				sh.Managers, sh.Facts[h] = append(sh.Managers, h), hosts.Facts{Hostname: fmt.Sprintf("m%d", i+1)}
			}
			for i := range tc.workers {
				h := fmt.Sprintf("10.0.2.%d:22", i+1)
				sh.Workers, sh.Facts[h] = append(sh.Workers, h), hosts.Facts{Hostname: fmt.Sprintf("w%d", i+1)}
			}
			sh.Leader = sh.Managers[0]
			e := &Env{Cluster: sh, Commands: Commands{}.withDefaults(), K0sBinary: []byte("k0s")}
			p, err := Steps(e, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			uploaded, drained := map[string]bool{}, map[string]int{}
			firstStop := -1
			for i, st := range p.Stages {
				for _, lane := range st.Lanes {
					for _, s := range lane {
						if s.Phase != st.Phase {
							t.Errorf("%s: phase %q in stage %q of phase %q", s.ID(), s.Phase, st.Name, st.Phase)
						}
						switch {
						case s.Name == "k0s-upload":
							if firstStop >= 0 {
								t.Errorf("%s after MKE 3 started to stop", s.ID())
							}
							uploaded[s.Host] = true
						case s.Name == "swarm-drain":
							if firstStop >= 0 || len(uploaded) != tc.managers+tc.workers {
								t.Errorf("the managers' drain at stage %d: after a stop, or before every upload", i)
							}
						case strings.HasPrefix(s.Name, "swarm-drain-workers-"):
							if st.Phase != PhaseManagers {
								t.Errorf("%s in stage %q", s.ID(), st.Name)
							}
						case s.Name == "mke3-stop":
							if firstStop < 0 {
								firstStop = i
							}
							if slices.Contains(sh.Workers, s.Host) && drained[s.Host] != 1 {
								t.Errorf("worker %s stops, drained %d times before", s.Host, drained[s.Host])
							}
						}
					}
				}
				// the drain lanes name their workers only in their commands:
				// count them from the stage's lanes by running Do on fakes
				for _, lane := range st.Lanes {
					for _, s := range lane {
						if strings.HasPrefix(s.Name, "swarm-drain-workers-") {
							for _, w := range drainedBy(t, e, s) {
								drained[w]++
							}
						}
					}
				}
			}
			for _, w := range sh.Workers {
				if drained[w] != 1 {
					t.Errorf("worker %s drained %d times", w, drained[w])
				}
			}
		})
	}
}

// drainedBy runs a drain step's Do on a fake leader and returns the
// hosts whose Swarm node it drained.
func drainedBy(t *testing.T, e *Env, s *plan.Step) []string {
	t.Helper()
	fc := newFakeCluster(e.Cluster.Leader)
	var ls strings.Builder
	byID := map[string]string{}
	for _, h := range append(slices.Clone(e.Cluster.Managers), e.Cluster.Workers...) {
		id := "id-" + e.Cluster.Facts[h].Hostname
		byID[id] = h
		fmt.Fprintf(&ls, "%s Active\n", id)
	}
	fc.nodes[e.Cluster.Leader].reply[shell.Sudo(nodeLsCmd)] = ls.String()
	// the steps read node IDs from the facts
	for h, f := range e.Cluster.Facts {
		f.Swarm.NodeID = "id-" + f.Hostname
		e.Cluster.Facts[h] = f
	}
	r := run(t, fc, s, nil, do)
	prev, ids := decodeAvailability(r.Get("availability"))
	var out []string
	for _, id := range ids {
		if prev[id] != "active" {
			t.Errorf("%s: availability %q", id, prev[id])
		}
		out = append(out, byID[id])
	}
	return out
}
