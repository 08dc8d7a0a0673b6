package preflight

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts/facts"
	"github.com/mke-migrate/mke-migrate/mke3/kubenode"
)

// node is a healthy manager.
func node(addr string) facts.Node {
	return facts.Node{Address: addr, Hostname: "h-" + addr, MachineID: "m-" + addr, Sudo: true, MCRVersion: "25.0.8",
		Swarm:      facts.Swarm{NodeID: "n-" + addr, ClusterID: "c", Role: "manager", LocalNodeState: "active"},
		MKEVersion: "3.8.8", MKEContainers: []string{"ucp-proxy"}, FreeVarLibBytes: 100 << 30,
		Ports: []facts.PortUse{{Port: 6443}, {Port: 9443}}, CPUs: 8, MemoryBytes: 31<<30 + 600<<20}
}

func ptr[T any](v T) *T { return &v }

// healthy is an input with no findings: 3 managers, KDD, a valid config.
func healthy() Input {
	leader := node("a")
	leader.Swarm.Leader = true
	return Input{Facts: []facts.Node{leader, node("b"), node("c")}, CalicoKDD: ptr(true), CalicoEBPF: ptr(false), KubeProxyMode: "iptables",
		KubeNodes: []kubenode.Node{
			{Name: "h-a", Labels: map[string]string{"profile": "edge"}},
			{Name: "other", Addresses: []string{"b"}},
			{Name: "h-c"},
		},
		KubeletProfileLabel: "profile", KubeletProfiles: []string{"edge"}}
}

const validKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: mke
  cluster:
    server: https://lb:6443
contexts:
- name: mke
  context: {cluster: mke, user: admin}
current-context: mke
users:
- name: admin
  user: {token: x}
`

func TestRun(t *testing.T) {
	if rs := Run(healthy()); len(rs) != 0 {
		t.Fatalf("healthy cluster: %+v", rs)
	}
	tests := []struct {
		name   string
		mod    func(*Input)
		id     string
		sev    Severity
		host   string
		absent bool // the check must not fire
	}{
		{"version 3.7.14", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.7.14" }) }, IDMKEVersion, Blocker, "", false},
		{"version 3.7.15", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.7.15" }) }, IDMKEVersion, "", "", true},
		{"version 3.8", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.8.0" }) }, IDMKEVersion, "", "", true},
		{"version 3.9", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.9.0" }) }, IDMKEVersion, "", "", true},
		{"version 3.10", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.10.0" }) }, IDMKEVersion, Blocker, "", false},
		{"version 3.6", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "3.6.20" }) }, IDMKEVersion, Blocker, "", false},
		{"version garbage", func(in *Input) { setAll(in, func(f *facts.Node) { f.MKEVersion = "latest" }) }, IDMKEVersion, Blocker, "", false},
		{"versions differ", func(in *Input) { in.Facts[1].MKEVersion = "3.8.7" }, IDMKEVersionSkew, Blocker, "", false},
		{"no MCR", func(in *Input) { in.Facts[2].MCRVersion = "" }, IDNoMCR, Blocker, "c", false},
		{"no sudo", func(in *Input) { in.Facts[0].Sudo = false }, IDNoSudo, Blocker, "a", false},
		{"no sudo hides docker", func(in *Input) { in.Facts[0].Sudo, in.Facts[0].MCRVersion = false, "" }, IDNoMCR, "", "", true},
		{"unreachable", func(in *Input) { in.Unreachable = []Unreachable{{Host: "d:22", Err: errors.New("refused")}} }, IDUnreachable, Blocker, "d:22", false},
		{"windows", func(in *Input) { in.Facts[1].Windows = true }, IDWindows, Blocker, "b", false},
		{"dup hostname", func(in *Input) { in.Facts[1].Hostname = in.Facts[0].Hostname }, IDDupHostname, Blocker, "", false},
		{"dup machine-id", func(in *Input) { in.Facts[2].MachineID = in.Facts[0].MachineID }, IDDupMachineID, Blocker, "", false},
		{"2 managers", func(in *Input) { in.Facts[2].Swarm.Role = "worker" }, IDManagerCount, Warning, "", false},
		{"4 managers", func(in *Input) { in.Facts = append(in.Facts, node("d")) }, IDManagerCount, Warning, "", false},
		{"1 manager", func(in *Input) { in.Facts = in.Facts[:1] }, IDManagerCount, "", "", true},
		{"few CPUs", func(in *Input) { in.Facts[0].CPUs = 2 }, IDHardware, Warning, "a", false},
		{"little memory", func(in *Input) { in.Facts[0].MemoryBytes = 8 << 30 }, IDHardware, Warning, "a", false},
		{"manager port 9443", func(in *Input) { in.Facts[0].Ports[1].InUse = true }, IDPort, Blocker, "a", false},
		{"worker port 9443", func(in *Input) {
			in.Facts[0].Ports[1].InUse = true
			in.Facts[0].Swarm.Role = "worker"
			in.Facts = append(in.Facts, node("d"))
		}, IDPort, Warning, "a", false},
		{"port 6443 of MKE 3", func(in *Input) { in.Facts[0].Ports[0].InUse = true }, IDPort, Warning, "a", false},
		{"low disk", func(in *Input) { in.Facts[1].FreeVarLibBytes = 10 << 30 }, IDDisk, Warning, "b", false},
		{"clock ahead", func(in *Input) { in.Facts[1].ClockSkew = 31 * time.Second }, IDClockSkew, Warning, "b", false},
		{"clock behind", func(in *Input) { in.Facts[1].ClockSkew = -time.Minute }, IDClockSkew, Warning, "b", false},
		{"clock close", func(in *Input) { in.Facts[1].ClockSkew = 29 * time.Second }, IDClockSkew, "", "", true},
		{"etcd datastore", func(in *Input) { in.CalicoKDD = ptr(false) }, IDCalicoKDD, Blocker, "", false},
		{"datastore unknown", func(in *Input) { in.CalicoKDD = nil }, IDCalicoKDD, Skipped, "", false},
		{"ebpf", func(in *Input) { in.CalicoEBPF = ptr(true) }, IDCalicoEBPF, Blocker, "", false},
		{"ebpf unknown", func(in *Input) { in.CalicoEBPF = nil }, IDCalicoEBPF, "", "", true},
		{"ipvs", func(in *Input) { in.KubeProxyMode = "ipvs" }, IDKubeProxyMode, Blocker, "", false},
		{"kube-proxy unknown", func(in *Input) { in.KubeProxyMode = "" }, IDKubeProxyMode, "", "", true},
		{"empty kubeconfig", func(in *Input) { in.KubeconfigContent = []byte(" \n") }, IDKubeconfig, Blocker, "", false},
		{"garbage kubeconfig", func(in *Input) { in.KubeconfigContent = []byte("{{{not yaml") }, IDKubeconfig, Blocker, "", false},
		{"valid kubeconfig", func(in *Input) { in.KubeconfigContent = []byte(validKubeconfig) }, IDKubeconfigStale, Warning, "", false},
		{"no kubeconfig", func(in *Input) { in.KubeconfigContent = nil }, IDKubeconfig, "", "", true},
		{"kube API not asked", func(in *Input) { in.KubeNodes = nil }, IDKubeNode, Skipped, "", false},
		{"kube API failed", func(in *Input) { in.KubeAPIError = errors.New("forbidden") }, IDKubeAPI, Warning, "", false},
		{"host not a node", func(in *Input) { in.KubeNodes = in.KubeNodes[1:] }, IDKubeNode, Warning, "a", false},
		{"unknown profile", func(in *Input) { in.KubeletProfiles = []string{"other"} }, IDKubeletProfile, Warning, "a", false},
		{"profiles unknown", func(in *Input) { in.KubeletProfiles = nil }, IDKubeletProfile, "", "", true},
		{"other label key", func(in *Input) { in.KubeletProfileLabel = "x" }, IDKubeletProfile, "", "", true},
		{"no leader", func(in *Input) { in.Facts[0].Swarm.Leader = false }, IDSwarmLeader, Blocker, "", false},
		{"leader maybe unreachable", func(in *Input) {
			in.Facts[0].Swarm.Leader = false
			in.Unreachable = []Unreachable{{Host: "d"}}
		}, IDSwarmLeader, "", "", true},
		{"blocking setting", func(in *Input) {
			in.ConfigBlocking = []Setting{{Key: "options.imageRegistry", Reason: "air-gapped, but no registry given"}}
		}, IDConfiguration, Blocker, "", false},
		{"blocking setting a check covers", func(in *Input) {
			in.CalicoKDD = ptr(false)
			in.ConfigBlocking = []Setting{{Key: "cluster_config.calico_kdd", Reason: "etcd"}}
		}, IDConfiguration, "", "", true},
		{"blocking version a check covers", func(in *Input) {
			setAll(in, func(f *facts.Node) { f.MKEVersion = "3.7.9" })
			in.ConfigBlocking = []Setting{{Key: "mke3.version", Reason: "3.7.9 is older than 3.7.15"}}
		}, IDConfiguration, "", "", true},
		{"blocking setting no check saw", func(in *Input) {
			in.KubeProxyMode = ""
			in.ConfigBlocking = []Setting{{Key: "cluster_config.kube_proxy_mode", Reason: "ipvs"}}
		}, IDConfiguration, Blocker, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := healthy()
			in.Facts = slices.Clone(in.Facts)
			for i := range in.Facts {
				in.Facts[i].Ports = slices.Clone(in.Facts[i].Ports)
			}
			tt.mod(&in)
			rs := Run(in)
			var got []Result
			for _, r := range rs {
				if r.ID == tt.id {
					got = append(got, r)
				}
				if r.Message == "" || r.Remedy == "" {
					t.Errorf("result without message or remedy: %+v", r)
				}
			}
			if tt.absent {
				if len(got) != 0 {
					t.Fatalf("%s fired: %+v", tt.id, got)
				}
				return
			}
			if len(got) != 1 || got[0].Severity != tt.sev || got[0].Host != tt.host {
				t.Fatalf("want one %s %s for %q, got %+v (all: %+v)", tt.sev, tt.id, tt.host, got, rs)
			}
			t.Log(got[0].Message)
		})
	}
}

func setAll(in *Input, f func(*facts.Node)) {
	for i := range in.Facts {
		f(&in.Facts[i])
	}
}

func TestRunOrder(t *testing.T) {
	in := healthy()
	in.CalicoKDD = nil
	in.Facts[0].Sudo = false
	in.Facts[1].CPUs = 1
	in.Unreachable = []Unreachable{{Host: "z"}}
	a, b := Run(in), Run(in)
	if !slices.Equal(a, b) {
		t.Fatal("not deterministic")
	}
	var sevs []Severity
	for _, r := range a {
		sevs = append(sevs, r.Severity)
	}
	if !slices.Equal(sevs, []Severity{Blocker, Blocker, Warning, Skipped}) {
		t.Fatalf("order %v", sevs)
	}
	if Run(Input{CalicoKDD: ptr(true), KubeNodes: []kubenode.Node{}}) != nil {
		t.Fatal("empty input has findings")
	}
}

// fakeHostKeyError stands for hosts.HostKeyError.
type fakeHostKeyError struct{}

func (fakeHostKeyError) Error() string        { return "ssh host key not trusted: not in kh" }
func (fakeHostKeyError) HostKeyFailure() bool { return true }
func (fakeHostKeyError) Remedy() string       { return "verify the host's key and add it to kh" }

// F8 (issue 14): a host key failure is its own blocker with its own
// remedy, not host-unreachable's "make the host reachable".
func TestHostKeyFailureIsNotUnreachable(t *testing.T) {
	in := Input{Unreachable: []Unreachable{
		{Host: "a:22", Err: fmt.Errorf("a:22: connect: %w", fakeHostKeyError{})},
		{Host: "b:22", Err: errors.New("connection refused")},
	}}
	rs := Run(in)
	byHost := map[string]Result{}
	for _, r := range rs {
		byHost[r.Host] = r
	}
	if r := byHost["a:22"]; r.ID != IDHostKey || r.Severity != Blocker || r.Remedy != "verify the host's key and add it to kh" {
		t.Errorf("host key failure: %+v", r)
	}
	if r := byHost["b:22"]; r.ID != IDUnreachable {
		t.Errorf("refused connection: %+v", r)
	}
}
