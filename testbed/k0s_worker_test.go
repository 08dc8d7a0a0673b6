package testbed

import (
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// calicoCNI puts a CNI configuration where k0s's containerd looks for one:
// without it the fake kubelet reports NetworkReady=false, as a real one
// does on a node without a CNI.
const calicoCNI = "mkdir -p /etc/cni/net.d && echo '{\"name\":\"k8s-pod-network\",\"cniVersion\":\"0.3.1\",\"plugins\":[{\"type\":\"calico\"}]}' > /etc/cni/net.d/10-calico.conflist"

// waitNodeReady waits (a generous safety net, not a timing assertion)
// until the controller on ctl reports the Node Ready and returns how long
// it took.
func waitNodeReady(t *testing.T, c *Cluster, ctl *Host, node string) time.Duration {
	t.Helper()
	start := time.Now()
	cmd := "i=0; until [ \"$(k0s kubectl get node " + node + " -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null)\" = True ]; do i=$((i+1)); [ $i -lt 1800 ] || exit 1; sleep 0.1; done"
	if _, err := c.Exec(t.Context(), ctl, cmd); err != nil {
		nodes, _ := c.Exec(t.Context(), ctl, "k0s kubectl get nodes -o wide 2>&1")
		t.Fatalf("node %s not Ready: %v\n%s", node, err, nodes)
	}
	return time.Since(start)
}

// A controller+worker (the engine's --enable-worker) registers its own
// Node, Ready with the control-plane label and taint k0s gives it; a
// worker joins with a worker token and the controller's profile, runs
// with the profile's kubelet values, and stops with k0s stop; a worker
// whose profile the controller lacks never registers.
func TestK0sWorkerJoinsController(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1, Workers: 2})
	realK0s(t, c)
	m := c.Managers[0]
	mustExec(t, c, m, calicoCNI)
	startController(t, c, m, k0sConfig(m.Address, "  workerProfiles:\n  - name: p1\n    values:\n      maxPods: 50\n"), " --enable-worker")
	ready := waitNodeReady(t, c, m, m.Name)
	t.Logf("controller+worker Node Ready %v after k0s status answered", ready)
	if got := mustExec(t, c, m, "k0s kubectl get node "+m.Name+" -o jsonpath='{.metadata.labels.node\\.k0sproject\\.io/role} {.spec.taints[*].key}'"); !strings.HasPrefix(got, "control-plane ") || !strings.Contains(got, "node-role.kubernetes.io/control-plane") {
		t.Errorf("controller node labels and taints: %q", got)
	}

	w, w2 := c.Workers[0], c.Workers[1]
	if _, err := c.Exec(t.Context(), w, "timeout 2 bash -c 'echo > /dev/tcp/"+m.Address+"/6443'"); err != nil {
		t.Skipf("workers do not reach the controller (test bed networking): %v", err)
	}
	tok := mustExec(t, c, m, "k0s token create --role worker --expiry 1h")
	for _, h := range []*Host{w, w2} {
		mustExec(t, c, h, calicoCNI+" && mkdir -p /etc/k0s && echo "+tok+" > /etc/k0s/worker.token")
	}
	mustExec(t, c, w, "k0s install worker --token-file /etc/k0s/worker.token --profile p1 --labels tier=db && k0s start")
	ready = waitNodeReady(t, c, m, w.Name)
	t.Logf("worker Node Ready %v after k0s start", ready)
	pidFile := fakestate.Dir + "/" + fakestate.PidsDir + "/k0sworker.service.pid"
	rss := mustExec(t, c, w, "awk '/^VmRSS|^RssAnon/{print $1 $2}' /proc/$(cat "+pidFile+")/status | tr '\\n' ' '")
	t.Logf("worker daemon memory: %s(kB)", rss)
	if got := mustExec(t, c, w, "grep -E '^maxPods:' /run/k0s/kubelet/config.yaml"); got != "maxPods: 50" {
		t.Errorf("kubelet config: %q, want the profile's maxPods: 50", got)
	}
	if got := mustExec(t, c, m, "k0s kubectl get node "+w.Name+" -o jsonpath='{.metadata.labels.tier}'"); got != "db" {
		t.Errorf("worker label tier=%q", got)
	}
	if _, err := c.Exec(t.Context(), w, "k0s status | grep -q 'Role: worker'"); err != nil {
		t.Errorf("k0s status on the worker: %v", err)
	}
	// k0s stop ends the process and frees the kubelet's port
	mustExec(t, c, w, "k0s stop")
	if got := mustExec(t, c, w, "test -e "+pidFile+" && echo pid; (echo > /dev/tcp/127.0.0.1/10250) 2>/dev/null && echo port; true"); got != "" {
		t.Errorf("after k0s stop: %q", got)
	}

	// a profile the controller does not have
	mustExec(t, c, w2, "k0s install worker --token-file /etc/k0s/worker.token --profile nope && k0s start")
	if _, err := c.Exec(t.Context(), w2, "i=0; until grep -q 'worker profile in attempt #3' /var/log/fakenode/k0sworker.service.log; do i=$((i+1)); [ $i -lt 1800 ] || exit 1; sleep 0.1; done"); err != nil {
		t.Fatalf("no profile retries logged: %v", err)
	}
	if _, err := c.Exec(t.Context(), m, "k0s kubectl get node "+w2.Name); err == nil {
		t.Errorf("a worker without its profile registered its Node")
	}
}
