// Package preflight decides, from node facts (hosts.GatherFacts) and what
// is known of the MKE 3 configuration, whether an MKE 3 cluster meets the
// prerequisites of the MKE 3 → MKE 4k upgrade. It is pure: no I/O, and
// light: it takes facts as hosts/facts and nodes as mke3/kubenode values,
// so a program that runs the checks pulls neither SSH (rig) nor client-go.
package preflight

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts/facts"
	"github.com/mke-migrate/mke-migrate/mke3/kubenode"
)

// Severity of a Result.
type Severity string

// Severities, most serious first.
const (
	Blocker Severity = "blocker" // the upgrade must not start
	Warning Severity = "warning" // the upgrade may fail or is unsupported
	Info    Severity = "info"    // for the record
	Skipped Severity = "skipped" // the check could not run (missing input)
)

func (s Severity) rank() int {
	switch s {
	case Blocker:
		return 0
	case Warning:
		return 1
	case Info:
		return 2
	}
	return 3
}

// Result is the outcome of one check that found something (or was skipped).
type Result struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Host     string   `json:"host"` // "" = cluster-wide
	Message  string   `json:"message"`
	Remedy   string   `json:"remedy"`
}

// Unreachable is a host whose facts could not be gathered.
type Unreachable struct {
	Host string
	Err  error
}

// Input is everything the checks look at.
type Input struct {
	Facts       []facts.Node // reachable hosts only
	Unreachable []Unreachable
	// CalicoKDD is cluster_config.calico_kdd; nil when the MKE 3 API was
	// not asked (no --mke3-host).
	CalicoKDD *bool
	// CalicoEBPF and KubeProxyMode come from the MKE 3 TOML; nil / "" when
	// unknown.
	CalicoEBPF    *bool
	KubeProxyMode string
	// KubeconfigPath is ~/.mke/mke.kubeconf of the machine mkectl runs on;
	// KubeconfigContent its content, nil when the file does not exist.
	KubeconfigPath    string
	KubeconfigContent []byte

	// KubeNodes are the nodes of the MKE 3 Kubernetes API (mke3.KubeNodes);
	// nil when it was not asked, and then the node checks are skipped.
	KubeNodes []kubenode.Node
	// KubeAPIError is why KubeNodes could not be read, when it could not.
	KubeAPIError error
	// KubeletProfileLabel is the node label naming a node's kubelet
	// profile; KubeletProfiles the profiles the MKE 3 configuration
	// defines (nil when unknown).
	KubeletProfileLabel string
	KubeletProfiles     []string

	// ConfigBlocking are the settings the conversion of the MKE 3
	// configuration found blocking (convert.Report.Blocking); nil when it
	// was not converted. A key the checks above already cover
	// (mke3.version, calico_kdd, calico_ebpf_enabled, kube_proxy_mode) is
	// not reported twice.
	ConfigBlocking []Setting
}

// Setting is one setting of the conversion that blocks the upgrade: its
// report key (an MKE 3 key, or an option such as options.imageRegistry)
// and why.
type Setting struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Check IDs.
const (
	IDUnreachable     = "host-unreachable"
	IDHostKey         = "host-key"
	IDMKEVersion      = "mke-version"
	IDMKEVersionSkew  = "mke-version-mismatch"
	IDNoMCR           = "mcr-missing"
	IDNoSudo          = "sudo-missing"
	IDWindows         = "windows-node"
	IDDupHostname     = "duplicate-hostname"
	IDDupMachineID    = "duplicate-machine-id"
	IDManagerCount    = "manager-count"
	IDHardware        = "hardware"
	IDPort            = "port-in-use"
	IDDisk            = "disk-var-lib"
	IDClockSkew       = "clock-skew"
	IDCalicoKDD       = "calico-kdd"
	IDCalicoEBPF      = "calico-ebpf"
	IDKubeProxyMode   = "kube-proxy-mode"
	IDKubeconfig      = "mke-kubeconfig"
	IDKubeconfigStale = "mke-kubeconfig-exists"
	IDKubeAPI         = "kubernetes-api"
	IDKubeNode        = "kubernetes-node-missing"
	IDKubeletProfile  = "kubelet-profile-unknown"
	IDConfiguration   = "configuration"
	IDSwarmLeader     = "swarm-leader"
)

// Thresholds.
const (
	MinCPUs         = 8
	MinMemoryBytes  = 32 << 30
	MinFreeVarLib   = 20 << 30
	MaxClockSkew    = 30 * time.Second
	memoryTolerance = 1 << 30 // MemTotal is below installed RAM (kernel reserve)
)

// portRule says what a listener on a port means. MKE 4k (k0s) binds these
// ports once it takes over a node. MKE 3 itself already listens on some of
// them (kube-apiserver 6443, kubelet 10250, Calico BGP 179): those are
// released when MKE 3 is stopped during the upgrade, so a listener there is
// only a warning (the upgrade fails if it is not MKE 3's and stays). Ports
// MKE 3 never uses but k0s controllers need (etcd peer 2380,
// konnectivity 8132, k0s join API 9443) are a blocker on managers, where
// whatever holds them would keep the controller from starting, and a
// warning on workers. 4789 (VXLAN) is UDP; a TCP listener there is only a
// warning.
type portRule struct {
	what           string
	managerBlocker bool
}

var portRules = map[int]portRule{
	179:   {what: "Calico BGP", managerBlocker: false},
	2380:  {what: "etcd peer (k0s controllers)", managerBlocker: true},
	4789:  {what: "VXLAN overlay", managerBlocker: false},
	6443:  {what: "Kubernetes API server", managerBlocker: false},
	8132:  {what: "konnectivity (k0s controllers)", managerBlocker: true},
	9443:  {what: "k0s join API (k0s controllers)", managerBlocker: true},
	10250: {what: "kubelet", managerBlocker: false},
}

// Run evaluates every check and returns the findings: blockers first, then
// warnings, info and skipped; within a severity by check ID, then host.
func Run(in Input) []Result {
	var rs []Result
	add := func(id string, s Severity, host, msg, remedy string) {
		rs = append(rs, Result{ID: id, Severity: s, Host: host, Message: msg, Remedy: remedy})
	}
	for _, u := range in.Unreachable {
		// A host key failure is no reachability problem (the host
		// answered): hosts.HostKeyError says so without this package
		// importing hosts.
		var hk interface {
			HostKeyFailure() bool
			Remedy() string
		}
		if errors.As(u.Err, &hk) && hk.HostKeyFailure() {
			add(IDHostKey, Blocker, u.Host, "SSH host key not trusted: "+u.Err.Error(), hk.Remedy())
			continue
		}
		msg := "host is unreachable"
		if u.Err != nil {
			msg += ": " + u.Err.Error()
		}
		add(IDUnreachable, Blocker, u.Host, msg, "make the host reachable over SSH with the key and user of hosts.yaml (mkectl needs every node), or remove it from the cluster first")
	}

	versions := map[string][]string{}
	managers := 0
	hostnames, machineIDs := map[string][]string{}, map[string][]string{}
	for _, f := range in.Facts {
		h := f.Address
		if f.Windows {
			add(IDWindows, Blocker, h, "Windows node: MKE 4k has no Windows nodes", "drain and remove the Windows node from the MKE 3 cluster before upgrading")
		}
		if !f.Sudo {
			add(IDNoSudo, Blocker, h, "the SSH user is not root and cannot run sudo without a password", "log in as root, or give the user passwordless sudo (NOPASSWD)")
		}
		// Without root the docker socket is usually closed to the user, so
		// an empty MCR version says nothing: only sudo-missing fires then.
		if f.MCRVersion == "" && f.Sudo {
			add(IDNoMCR, Blocker, h, "Mirantis Container Runtime (docker) not found or not running", "the upgrade runs on MKE 3 nodes: install and start MCR, or remove the host from hosts.yaml")
		}
		if f.MKEVersion != "" {
			versions[f.MKEVersion] = append(versions[f.MKEVersion], h)
		}
		if f.Swarm.Role == "manager" {
			managers++
		}
		if f.Hostname != "" {
			hostnames[f.Hostname] = append(hostnames[f.Hostname], h)
		}
		if f.MachineID != "" {
			machineIDs[f.MachineID] = append(machineIDs[f.MachineID], h)
		}
		hardware(f, add)
		ports(f, add)
		if f.FreeVarLibBytes > 0 && f.FreeVarLibBytes < MinFreeVarLib {
			add(IDDisk, Warning, h, fmt.Sprintf("only %s free under /var/lib (recommended at least %s)", gib(f.FreeVarLibBytes), gib(MinFreeVarLib)),
				"free space under /var/lib (old images: docker image prune) or grow the file system")
		}
		if f.ClockSkew > MaxClockSkew || f.ClockSkew < -MaxClockSkew {
			add(IDClockSkew, Warning, h, fmt.Sprintf("clock differs from this machine's by %v (more than %v)", f.ClockSkew.Round(time.Second), MaxClockSkew),
				"synchronise the clocks with NTP (chrony or systemd-timesyncd); etcd and certificates need close clocks")
		}
	}

	// MKE version: supported source, and the same everywhere.
	vs := slices.Sorted(func(yield func(string) bool) {
		for v := range versions {
			if !yield(v) {
				return
			}
		}
	})
	for _, v := range vs {
		if ok, why := supportedVersion(v); !ok {
			add(IDMKEVersion, Blocker, "", fmt.Sprintf("MKE %s on %s: %s", v, strings.Join(versions[v], ", "), why),
				"upgrade MKE 3 to 3.7.15 or later (or to 3.8.x or 3.9.x) first")
		}
	}
	if len(vs) > 1 {
		var parts []string
		for _, v := range vs {
			parts = append(parts, v+" on "+strings.Join(versions[v], ", "))
		}
		add(IDMKEVersionSkew, Blocker, "", "nodes run different MKE versions: "+strings.Join(parts, "; "),
			"finish the MKE 3 upgrade so that every node runs the same version")
	}
	dups(IDDupHostname, "hostname", hostnames, "give every node a unique hostname (hostnamectl set-hostname); Kubernetes node names come from it", add)
	dups(IDDupMachineID, "machine-id", machineIDs, "regenerate /etc/machine-id on cloned nodes (rm /etc/machine-id && systemd-machine-id-setup) and reboot", add)

	switch {
	case managers == 2:
		add(IDManagerCount, Warning, "", "2 managers: upgrading a 2-manager cluster is not sanctioned and may fail (no etcd quorum tolerance)",
			"add a third manager (or go to one) before upgrading")
	case managers > 0 && managers%2 == 0:
		add(IDManagerCount, Warning, "", fmt.Sprintf("%d managers: an even number of managers is not sanctioned", managers),
			"use an odd number of managers (add or demote one) before upgrading")
	}

	switch {
	case in.CalicoKDD == nil:
		add(IDCalicoKDD, Skipped, "", "Calico datastore unknown: needs --mke3-host to read the MKE 3 configuration", "run preflight with --mke3-host, or check with `mke-migrate calico-kdd --check`")
	case !*in.CalicoKDD:
		add(IDCalicoKDD, Blocker, "", "Calico uses the etcd datastore; MKE 4k needs the Kubernetes datastore (calico_kdd = true)",
			"switch with `mke-migrate calico-kdd` (irreversible; new pod networking pauses about 20 s per node)")
	}
	if in.CalicoEBPF != nil && *in.CalicoEBPF {
		add(IDCalicoEBPF, Blocker, "", "the Calico eBPF dataplane cannot be upgraded to MKE 4k", "switch MKE 3 to the iptables dataplane (calico_ebpf_enabled = false) first")
	}
	if m := strings.ToLower(strings.TrimSpace(in.KubeProxyMode)); m != "" && m != "iptables" {
		add(IDKubeProxyMode, Blocker, "", fmt.Sprintf("kube-proxy mode %q: only iptables can be upgraded to MKE 4k", in.KubeProxyMode),
			"switch MKE 3 to kube_proxy_mode = \"iptables\" first")
	}
	kubeconfig(in, add)
	kubeNodes(in, add)
	configBlocking(in, add)
	// The upgrade starts from the Swarm leader: hosts.yaml must hold it.
	// An unreachable host may be the leader, and says so already.
	if len(in.Facts) > 0 && len(in.Unreachable) == 0 && !slices.ContainsFunc(in.Facts, func(f facts.Node) bool { return f.Swarm.Leader }) {
		add(IDSwarmLeader, Blocker, "", "no host of hosts.yaml is the Swarm leader", "add the MKE 3 managers to hosts.yaml")
	}

	slices.SortStableFunc(rs, func(a, b Result) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Host, b.Host), cmp.Compare(a.Message, b.Message))
	})
	return rs
}

// configBlocking reports the blocking settings of the conversion but those
// a check of its own already reports (with its remedy).
func configBlocking(in Input, add adder) {
	covered := map[string]bool{
		"mke3.version":                       slices.ContainsFunc(in.Facts, func(f facts.Node) bool { return f.MKEVersion != "" }),
		"cluster_config.calico_kdd":          in.CalicoKDD != nil,
		"cluster_config.calico_ebpf_enabled": in.CalicoEBPF != nil,
		"cluster_config.kube_proxy_mode":     in.KubeProxyMode != "",
	}
	for _, s := range in.ConfigBlocking {
		if covered[s.Key] {
			continue
		}
		add(IDConfiguration, Blocker, "", s.Key+": "+s.Reason, "change the MKE 3 setting or the option the message names (mke-migrate convert reports every key)")
	}
}

// kubeNodes checks that every host is a Kubernetes node (its labels and
// kubelet profile are carried by matching them) and that the profile a
// node's label names exists in the MKE 3 configuration.
func kubeNodes(in Input, add adder) {
	switch {
	case in.KubeAPIError != nil:
		add(IDKubeAPI, Warning, "", "the MKE 3 Kubernetes API could not be read: "+in.KubeAPIError.Error(),
			"check that the admin's client bundle works (kubectl get nodes); without it node labels and kubelet profiles are not carried")
		return
	case in.KubeNodes == nil:
		add(IDKubeNode, Skipped, "", "Kubernetes nodes unknown: needs --mke3-host to read them through the client bundle",
			"run preflight with --mke3-host")
		return
	}
	label := in.KubeletProfileLabel
	for _, f := range in.Facts {
		n, ok := NodeOf(in.KubeNodes, f)
		if !ok {
			add(IDKubeNode, Warning, f.Address, fmt.Sprintf("no Kubernetes node has the name %q or the address %s", f.Hostname, f.Address),
				"check that the host is an MKE 3 node and that its kubelet runs; its node labels and kubelet profile cannot be carried otherwise")
			continue
		}
		p, has := n.Labels[label]
		if label == "" || !has || in.KubeletProfiles == nil {
			continue
		}
		if !slices.Contains(in.KubeletProfiles, p) {
			add(IDKubeletProfile, Warning, f.Address, fmt.Sprintf("node %s has %s=%q, but the MKE 3 configuration defines no such kubelet profile", n.Name, label, p),
				"fix the label (kubectl label node "+n.Name+" "+label+"=<profile> --overwrite) or add the profile to custom_kubelet_flags_profiles")
		}
	}
}

// NodeOf finds the Kubernetes node of a host: by hostname, else by the
// host's SSH address or one of more (a private address, say).
func NodeOf(nodes []kubenode.Node, f facts.Node, more ...string) (kubenode.Node, bool) {
	return kubenode.Match(nodes, f.Hostname, append([]string{f.Address}, more...)...)
}

type adder func(id string, s Severity, host, msg, remedy string)

func hardware(f facts.Node, add adder) {
	var low []string
	if f.CPUs > 0 && f.CPUs < MinCPUs {
		low = append(low, fmt.Sprintf("%d vCPU", f.CPUs))
	}
	if f.MemoryBytes > 0 && f.MemoryBytes+memoryTolerance < MinMemoryBytes {
		low = append(low, gib(f.MemoryBytes)+" memory")
	}
	if len(low) > 0 {
		add(IDHardware, Warning, f.Address, fmt.Sprintf("%s, below the recommended %d vCPU / %s (upgrades failed repeatedly on small nodes)", strings.Join(low, " and "), MinCPUs, gib(MinMemoryBytes)),
			"resize the node before upgrading")
	}
}

func ports(f facts.Node, add adder) {
	for _, p := range f.Ports {
		r, ok := portRules[p.Port]
		if !p.InUse || !ok {
			continue
		}
		if r.managerBlocker && f.Swarm.Role == "manager" {
			add(IDPort, Blocker, f.Address, fmt.Sprintf("TCP port %d (%s) is in use; MKE 3 does not use it, so something else would keep the MKE 4k controller from starting", p.Port, r.what),
				fmt.Sprintf("stop whatever listens on port %d (ss -tlnp 'sport = :%d')", p.Port, p.Port))
			continue
		}
		msg := fmt.Sprintf("TCP port %d (%s) is in use", p.Port, r.what)
		if len(f.MKEContainers) > 0 && !r.managerBlocker && p.Port != 4789 {
			msg += "; MKE 3 uses it and releases it during the upgrade, anything else must be stopped"
		}
		add(IDPort, Warning, f.Address, msg, fmt.Sprintf("check with ss -tlnp 'sport = :%d' that only MKE 3 listens on port %d", p.Port, p.Port))
	}
}

func dups(id, what string, m map[string][]string, remedy string, add adder) {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		if hs := m[k]; len(hs) > 1 {
			add(id, Blocker, "", fmt.Sprintf("%s %q is shared by %s", what, k, strings.Join(hs, ", ")), remedy)
		}
	}
}

func kubeconfig(in Input, add adder) {
	if in.KubeconfigContent == nil {
		return
	}
	p := cmp.Or(in.KubeconfigPath, "~/.mke/mke.kubeconf")
	remedy := "delete " + p + " (a failed mkectl run leaves it behind and it blocks the next attempt)"
	if len(strings.TrimSpace(string(in.KubeconfigContent))) == 0 {
		add(IDKubeconfig, Blocker, "", p+" exists and is empty", remedy)
		return
	}
	n, err := parseKubeconfig(in.KubeconfigContent)
	if err != nil || n == 0 {
		why := "has no clusters"
		if err != nil {
			why = err.Error()
		}
		add(IDKubeconfig, Blocker, "", p+" exists but is not a valid kubeconfig: "+why, remedy)
		return
	}
	add(IDKubeconfigStale, Warning, "", p+" exists: an earlier upgrade may have run", "make sure no upgrade ran or is running; delete "+p+" if it is stale")
}

// supportedVersion reports whether MKE v can be upgraded: 3.7.15 or a later
// 3.7, any 3.8, any 3.9 (the same gate as convert.CheckMKE3Version; mkectl
// 4.1 takes 3.7.15+/3.8.x and 4.2 only 3.9.x, mke-migrate takes all three).
func supportedVersion(v string) (bool, string) {
	maj, mnr, pat, ok := parseVersion(v)
	switch {
	case !ok:
		return false, "not a version this tool understands"
	case maj == 3 && mnr == 7 && pat >= 15, maj == 3 && (mnr == 8 || mnr == 9):
		return true, ""
	case maj == 3 && mnr <= 7:
		return false, "MKE 3 before 3.7.15 cannot be upgraded"
	}
	return false, "only MKE 3.7.15+, 3.8.x and 3.9.x can be upgraded"
}

func parseVersion(v string) (maj, mnr, pat int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	n := make([]int, 3)
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return 0, 0, 0, false
		}
		n[i] = x
	}
	return n[0], n[1], n[2], true
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// MKEImageMissing is the blocker of an air-gapped upgrade whose MKE 3
// bootstrapper image (mirantis/ucp:<version>) is not on host, the node
// that runs MKE 3's backup and uninstaller: nothing can pull it there.
func MKEImageMissing(host, image string) Result {
	return Result{ID: "mke-image", Severity: Blocker, Host: host,
		Message: "the MKE 3 image " + image + " is not on the node, and an air-gapped node cannot pull it (MKE 3's backup and uninstall-ucp run it)",
		Remedy:  "load it on the node: docker load -i <archive with " + image + "> (MKE 3's offline bundle has it), then run the upgrade again"}
}
