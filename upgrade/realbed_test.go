package upgrade

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
)

// The engine's steps on main against the realistic test bed
// (testbed.ClusterOptions.Real), one test per finding of issue 12 that
// the stricter fakes reproduce. Each failed before the engine's fix.

type realBed struct {
	c     *testbed.Cluster
	nodes map[string]hosts.Node // by host name
	env   *Env
}

func startRealBed(t *testing.T, managers, workers int) *realBed {
	t.Helper()
	if err := testbed.Available(); err != nil {
		t.Skip(err)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "etcdctl"} {
		kubetest.NeedBinary(t, b)
	}
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // a safety net
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: managers, Workers: workers, Real: true, Workdir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	b := &realBed{c: c, nodes: map[string]hosts.Node{}}
	sh := &Shared{MKEVersion: c.MKEVersion, ClusterID: c.ClusterID, Facts: map[string]hosts.Facts{}}
	for _, h := range c.Hosts {
		if err := h.KnownHostsFile(kh); err != nil {
			t.Fatal(err)
		}
		cl, err := hosts.Connect(t.Context(), hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath},
			hosts.ConnectOptions{KnownHostsPath: kh, Home: t.TempDir(), Timeout: 5 * time.Second, Retry: hosts.Retry{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		b.nodes[h.Name] = cl
		f := hosts.Facts{Hostname: h.Name}
		f.Swarm.NodeID = c.NodeIDs[h.Name]
		sh.Facts[h.Name] = f
		if h == c.Managers[0] {
			sh.Leader = h.Name
		}
	}
	for _, h := range c.Managers {
		sh.Managers = append(sh.Managers, h.Name)
	}
	for _, h := range c.Workers {
		sh.Workers = append(sh.Workers, h.Name)
	}
	b.env = &Env{Cluster: sh, Commands: Commands{}.withDefaults(), OutputDir: t.TempDir(), tokens: &joinTokens{}, Nodes: nodeMap(b.nodes)}
	return b
}

// nodeMap is plan.Nodes over the bed's connections, by host name.
type nodeMap map[string]hosts.Node

func (m nodeMap) Node(_ context.Context, host string) (hosts.Node, error) { return m[host], nil }

func (b *realBed) do(t *testing.T, s *plan.Step) error {
	t.Helper()
	_, err := b.run(t, s, nil)
	return err
}

// run runs s's Do (or, with r, its Undo on the data of r).
func (b *realBed) run(t *testing.T, s *plan.Step, r *plan.Run) (*plan.Run, error) {
	t.Helper()
	if r != nil {
		u := plan.NewRun(s, b.nodes[s.Host], nil, r.Data())
		return u, s.Undo(t.Context(), u)
	}
	r = plan.NewRun(s, b.nodes[s.Host], nil, nil)
	return r, s.Do(t.Context(), r)
}

// running lists the running containers of h.
func (b *realBed) running(t *testing.T, h *testbed.Host) []string {
	t.Helper()
	out, err := b.c.Exec(t.Context(), h, "docker ps --filter status=running --format '{{.Names}}'")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

// Finding 2: after the Swarm drain and mke3-stop, MKE 3's Kubernetes
// stays stopped: managers run ucp-manager-agent (a Swarm task Swarm
// replaces unless the node is drained), the agent starts the stopped
// components again, Calico runs as k8s_calico-node_… pods, and user pods
// keep running under dockerd. Undone, exactly what ran runs again (the
// agent as a new Swarm task).
func TestRealBedFinding2StopStep(t *testing.T) {
	b := startRealBed(t, 1, 1)
	agent := func(n string) bool {
		return strings.HasPrefix(n, "ucp-manager-agent") || strings.HasPrefix(n, "ucp-worker-agent")
	}
	before := map[string][]string{}
	for _, h := range b.c.Hosts {
		for _, n := range b.running(t, h) {
			if !agent(n) {
				before[h.Name] = append(before[h.Name], n)
			}
		}
	}
	drain := swarmDrainNodesStep(b.env, "swarm-drain", append(slices.Clone(b.env.Cluster.Managers), b.env.Cluster.Workers...))
	dr, err := b.run(t, drain, nil)
	if err != nil {
		t.Fatalf("swarm-drain: %v", err)
	}
	stops := map[string]*plan.Run{}
	for _, h := range b.c.Hosts {
		r, err := b.run(t, stopStep(b.env, h.Name), nil)
		if err != nil {
			t.Fatalf("%s: mke3-stop: %v", h.Name, err)
		}
		stops[h.Name] = r
	}
	for _, h := range b.c.Hosts {
		// any later docker command sees what Swarm and the agent did
		for _, n := range b.running(t, h) {
			if strings.HasPrefix(n, "ucp-kube") || n == "ucp-kubelet" || agent(n) || strings.HasPrefix(n, "k8s_") {
				t.Errorf("%s: %s runs after mke3-stop", h.Name, n)
			}
		}
	}
	// the rollback: newest first
	for i := len(b.c.Hosts) - 1; i >= 0; i-- {
		h := b.c.Hosts[i]
		if _, err := b.run(t, stopStep(b.env, h.Name), stops[h.Name]); err != nil {
			t.Fatalf("%s: undo mke3-stop: %v", h.Name, err)
		}
	}
	if _, err := b.run(t, drain, dr); err != nil {
		t.Fatalf("undo swarm-drain: %v", err)
	}
	for _, h := range b.c.Hosts {
		var now []string
		agents := 0
		for _, n := range b.running(t, h) {
			if agent(n) {
				agents++
			} else {
				now = append(now, n)
			}
		}
		slices.Sort(now)
		want := slices.Sorted(slices.Values(before[h.Name]))
		if agents != 1 || !slices.Equal(now, want) {
			t.Errorf("%s after the rollback: %d agent(s), running %v, want %v", h.Name, agents, now, want)
		}
	}
}

// Finding 6: when uninstall-ucp times out, the ucp containers remain and
// docker volume rm --force refuses the volumes they use ("volume is in
// use"); past the point of no return a resume would retry forever.
func TestRealBedFinding6VolumesAfterUninstallTimeout(t *testing.T) {
	b := startRealBed(t, 1, 0)
	m := b.c.Managers[0]
	// the timeout fallback: the node leaves the Swarm, its containers stay
	if _, err := b.c.Exec(t.Context(), m, b.env.Commands.Leave); err != nil {
		t.Fatal(err)
	}
	if err := b.do(t, volumesStep(b.env, m.Name)); err != nil {
		t.Errorf("mke3-volumes after an uninstall timeout: %v", err)
	}
}

// Finding 7: on an air-gapped site the MKE image must already be on the
// node; without it the backup fails with docker's pull error. The engine
// should find out before it changes anything and say how to fix it
// (load the image); on main the backup step is the first to notice.
func TestRealBedFinding7ImageMissing(t *testing.T) {
	b := startRealBed(t, 1, 0)
	m := b.c.Managers[0]
	// the image is not on the node
	if _, err := b.c.Exec(t.Context(), m, `python3 - <<'EOF'
import json
p = "`+testbed.FakeNodeDir+`/node.json"
n = json.load(open(p))
n["images"] = [i for i in n["images"] if i["repository"] != "mirantis/ucp"]
json.dump(n, open(p, "w"))
EOF`); err != nil {
		t.Fatal(err)
	}
	b.env.Cluster.Leader = m.Name
	err := b.do(t, backupStep(b.env))
	if err == nil || !strings.Contains(err.Error(), "docker load") {
		t.Errorf("backup without the MKE image on an air-gapped node: want an error that says to load the image, got %v", err)
	}
}
