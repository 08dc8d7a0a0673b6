package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// Defaults of ClusterOptions.
const (
	DefaultMKEVersion = mke3api.DefaultVersion
	DefaultMCRVersion = "25.0.8"
)

// FakeNodePath is where StartCluster installs the fakenode program on each
// host; docker, systemctl and k0s in /usr/local/bin are symlinks to it. It
// is fakenode's light build, which execs FakeNodeFullPath for every k0s
// command: a fake docker or systemctl starts in some 2.5 ms of CPU instead
// of 17 (the full program's client-go and k0s types initialise at every
// start), a cost that on a real cluster each node pays on its own CPU but
// that a test bed of hundreds of hosts pays on the test machine's few.
const FakeNodePath = "/usr/local/bin/fakenode"

// FakeNodeFullPath is where StartCluster installs the full fakenode
// program (FakeNodeBinary), k0s's simulation included.
const FakeNodeFullPath = "/usr/local/bin/fakenode-full"

// FakeNodeDir is where a fake node keeps all its state.
const FakeNodeDir = fakestate.Dir

// K0sBinaryPath is where k0s is installed on a fake node: a symbolic link
// to FakeNodePath until something is uploaded over it.
const K0sBinaryPath = "/usr/local/bin/k0s"

// ClusterOptions describes a simulated MKE 3 cluster.
type ClusterOptions struct {
	// Managers (at least 1) and Workers are the numbers of hosts, named
	// manager-1…, worker-1…; manager-1 is the Swarm leader.
	Managers, Workers int
	// MKEVersion is the tag of the ucp-* images (default DefaultMKEVersion).
	MKEVersion string
	// MCRVersion is the docker engine version (default DefaultMCRVersion).
	MCRVersion string
	// CalicoKDD is the simulator's cluster_config.calico_kdd (API only).
	CalicoKDD bool
	// OSRelease replaces /etc/os-release on every host ("" keeps the machine's).
	OSRelease string
	// API also starts an mke3api simulator with Seed.Version = MKEVersion
	// and calico_kdd = CalicoKDD.
	API bool
	// APISeed is the simulator's content (users, orgs, teams, grants,
	// Swarm); its Version and ConfigTOML are set as API says.
	APISeed mke3api.Seed
	// Workdir holds the hosts' folders; "" means a new temporary folder
	// that Close removes.
	Workdir string
	// LBPorts are the TCP ports the load balancer forwards to the managers;
	// nil means DefaultLBPorts (443 and 6443, not 9443).
	LBPorts []int
	// DigestPaths are absolute paths outside FakeNodeDir that Digest also
	// hashes (files, folders, symbolic links; a missing path hashes as
	// absent), for example "/etc/k0s" or K0sBinaryPath: files a migration
	// uploads are otherwise invisible to Digest.
	DigestPaths []string
	// Real runs MKE 3 as a realistic test bed (see mke3.go): real etcd
	// (ucp-kv), kube-apiserver and kube-controller-manager processes on
	// managers, ucp-controller holding 443 and 6443, agents as Swarm
	// tasks that restart stopped ucp-* containers, Calico and user pods,
	// MKE's CNI files (in every node's digest). It needs the binaries of
	// kubetest.Assets. Without it the nodes keep JSON state only, for
	// fast tests of the engine's logic.
	Real bool
	// EtcdPrefix is the API servers' --etcd-prefix (Real only; default
	// DefaultEtcdPrefix).
	EtcdPrefix string
}

// Cluster is a simulated MKE 3 cluster: testbed hosts running the fakenode
// program as docker, systemctl and k0s.
type Cluster struct {
	Hosts    []*Host // managers first, then workers
	Managers []*Host
	Workers  []*Host
	// API is the MKE 3 API simulator; nil unless ClusterOptions.API.
	API *mke3api.Running
	// Network is the cluster's own network: its hosts reach each other at
	// their Address, the machine reaches them all, other clusters' hosts
	// cannot reach them.
	Network *Network
	// LB is the address of the load balancer in front of the managers
	// (Network.LB), reachable from the hosts and from the machine.
	LB string
	// LoadBalancer forwards ClusterOptions.LBPorts on LB to the managers;
	// AddPort and RemovePort reconfigure it.
	LoadBalancer *LoadBalancer
	// ClusterID is the Swarm cluster ID shared by all nodes.
	ClusterID string
	// NodeIDs maps host names to their Swarm node IDs.
	NodeIDs map[string]string
	// MKEVersion and MCRVersion are the effective versions.
	MKEVersion, MCRVersion string

	workdir     string
	ownWorkdir  bool
	digestPaths []string
	mu          sync.Mutex
	clients     map[*Host]*ssh.Client
	closeOnce   sync.Once
	closeErr    error
	real        *realPlane // nil without ClusterOptions.Real
}

// Fault makes the fake node fail the commands whose words start with Match
// (for example "docker swarm leave" matches "docker swarm leave --force").
// Match is split with strings.Fields and compared with the command's
// arguments one by one, so it cannot reach past an argument that contains
// white space (like a --format template).
// The first matching fault of a node applies, in the order they were set.
// What happens: with CloseConnection the SSH session that ran the command
// is killed (SIGKILL to its sshd processes) and the client sees a lost
// connection; otherwise the command sleeps HangSeconds (it can be ended by
// SIGTERM or SIGKILL), prints Stdout, and when ExitCode or Stderr is set
// prints Stderr and exits with ExitCode (1 when only Stderr is set);
// without them it then runs normally (a slow command). Times limits how often
// the fault applies (0 = always). Used, read back by Cluster.Faults,
// counts the commands the fault reached, each counted before the fault
// acts: a hang has begun once Used is positive.
type Fault struct {
	Match           string
	ExitCode        int
	Stdout          string
	Stderr          string
	HangSeconds     float64
	CloseConnection bool
	Times           int
	Used            int
}

// ExecError is the error of Cluster.Exec for a command that failed.
type ExecError struct {
	Host     string
	Cmd      string
	ExitCode int // -1 without an exit status
	Stderr   string
	Err      error
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("testbed: %s: %q: exit %d: %v: %s", e.Host, e.Cmd, e.ExitCode, e.Err, e.Stderr)
}

func (e *ExecError) Unwrap() error { return e.Err }

// fakenodeBuild caches the fakenode binaries per process: the full one and
// the light one.
var fakenodeBuild, fakenodeLightBuild struct {
	once sync.Once
	path string
	err  error
}

// FakeNodeBinary builds the fakenode programs with the go toolchain, the
// full one and the light one at once (once per process; the binaries are
// cached in os.TempDir()/testbed-fakenode by a hash of their sources), and
// returns the full one's path. StartCluster builds them too, within its
// context's deadline: call FakeNodeBinary first where that deadline is
// short and the go build cache may be cold.
func FakeNodeBinary() (string, error) {
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = fakeNodeLightBinary() })
	fakenodeBuild.once.Do(func() {
		fakenodeBuild.path, fakenodeBuild.err = buildFakeNode("")
	})
	wg.Wait()
	if fakenodeBuild.err != nil {
		return "", fakenodeBuild.err
	}
	if _, err := fakeNodeLightBinary(); err != nil {
		return "", err
	}
	return fakenodeBuild.path, nil
}

// fakeNodeLightBinary is FakeNodeBinary's light build (FakeNodePath).
func fakeNodeLightBinary() (string, error) {
	fakenodeLightBuild.once.Do(func() {
		fakenodeLightBuild.path, fakenodeLightBuild.err = buildFakeNode("fakenodelight")
	})
	return fakenodeLightBuild.path, fakenodeLightBuild.err
}

// FakeK0sBinary returns a copy of the fakenode program that answers as a
// k0s binary of version (for example "v1.32.1+k0s.0") when installed as
// K0sBinaryPath: k0s version and k0s status report it. Upload it to test
// a k0s upgrade; "" keeps the default version.
func FakeK0sBinary(version string) ([]byte, error) {
	bin, err := FakeNodeBinary()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	if version == "" {
		return b, nil
	}
	if strings.ContainsAny(version, " \n") || len(version) > 64 {
		return nil, fmt.Errorf("testbed: bad k0s version %q", version)
	}
	// fakenode reads this trailer from the end of its own executable
	return append(b, fakestate.K0sVersionMarker+version+"\n"...), nil
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("testbed: the go toolchain is needed to build fakenode (not in PATH nor GOROOT)")
	}
	return p, nil
}

// buildFakeNode builds fakenode with the build tags into
// os.TempDir()/testbed-fakenode/, named by a hash of its sources, the tags
// and the toolchain, so that test processes share one binary per version
// of the sources and leave no folder per process.
func buildFakeNode(tags string) (string, error) {
	gobin, err := goTool()
	if err != nil {
		return "", err
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testbed: cannot locate the testbed sources")
	}
	root := filepath.Dir(file)
	src := filepath.Join(root, "fakenode")
	h := sha256.New()
	fmt.Fprintf(h, "%s %s %s tags=%s\n", runtime.Version(), runtime.GOARCH, gobin, tags)
	for _, d := range []string{src, filepath.Join(root, "internal", "fakestate")} {
		files, err := filepath.Glob(filepath.Join(d, "*.go"))
		if err != nil || len(files) == 0 {
			return "", fmt.Errorf("testbed: fakenode sources in %s not found", d)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return "", fmt.Errorf("testbed: %w", err)
			}
			fmt.Fprintf(h, "%s %d\n", f, len(b))
			h.Write(b)
		}
	}
	dir := filepath.Join(os.TempDir(), "testbed-fakenode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testbed: %w", err)
	}
	out := filepath.Join(dir, "fakenode-"+hex.EncodeToString(h.Sum(nil))[:16])
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		return out, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	// stripped: the fake k0s links client-go and k0s's config types, and
	// tests upload copies of it (FakeK0sBinary) to every node
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-tags="+tags, "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("testbed: go build fakenode: %w: %s", err, bytes.TrimSpace(b))
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("testbed: %w", err)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// swarmID is shaped like a Swarm ID: 25 lowercase alphanumerics.
func swarmID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// managerContainers are the ucp-* containers only managers run.
func managerContainers() []string {
	return []string{"ucp-controller", "ucp-kv", "ucp-auth-api", "ucp-auth-store", "ucp-auth-worker",
		"ucp-cluster-agent", "ucp-client-root-ca", "ucp-cluster-root-ca", "ucp-kube-apiserver", "ucp-kube-controller-manager",
		"ucp-kube-scheduler", "ucp-swarm-manager", "ucp-metrics"}
}

// allNodeContainers are the ucp-* containers every node runs.
func allNodeContainers() []string {
	return []string{"ucp-proxy", "ucp-kubelet", "ucp-kube-proxy", "ucp-hardware-info", "ucp-worker-agent-x", "ucp-calico-node"}
}

// StartCluster builds fakenode (once per process), starts the hosts in
// parallel on a network of their own with a load balancer in front of the
// managers, and seeds every node's state consistently: one Swarm cluster
// ID, distinct node IDs, manager-1 the leader, ucp-* containers per role,
// the docker and containerd units active. Close it with Close.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if o.Managers < 1 {
		return nil, errors.New("testbed: a cluster needs at least one manager")
	}
	if o.Workers < 0 {
		return nil, errors.New("testbed: negative number of workers")
	}
	if o.MKEVersion == "" {
		o.MKEVersion = DefaultMKEVersion
	}
	if o.MCRVersion == "" {
		o.MCRVersion = DefaultMCRVersion
	}
	bin, err := FakeNodeBinary()
	if err != nil {
		return nil, err
	}
	light, err := fakeNodeLightBinary()
	if err != nil {
		return nil, err
	}
	for _, p := range o.DigestPaths {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("testbed: digest path %q is not absolute", p)
		}
	}
	c := &Cluster{ClusterID: swarmID(), NodeIDs: map[string]string{}, MKEVersion: o.MKEVersion, MCRVersion: o.MCRVersion,
		workdir: o.Workdir, clients: map[*Host]*ssh.Client{}, digestPaths: slices.Clone(o.DigestPaths)}
	if o.Real {
		if err := c.newRealPlane(o); err != nil {
			return nil, err
		}
		c.digestPaths = append(c.digestPaths, "/etc/cni/net.d")
	}
	if c.workdir == "" {
		if c.workdir, err = os.MkdirTemp("", "testbed-cluster-"); err != nil {
			return nil, fmt.Errorf("testbed: %w", err)
		}
		c.ownWorkdir = true
	}
	var names []string
	for i := 1; i <= o.Managers; i++ {
		names = append(names, "manager-"+strconv.Itoa(i))
	}
	for i := 1; i <= o.Workers; i++ {
		names = append(names, "worker-"+strconv.Itoa(i))
	}
	for _, n := range names {
		c.NodeIDs[n] = swarmID()
	}
	if c.Network, err = NewNetwork(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	c.LB = c.Network.LB
	// Addresses are known only after start: seed state without them and
	// fill them in during setup.
	opts := make([]HostOptions, len(names))
	for i, n := range names {
		opts[i] = HostOptions{Name: n, OSRelease: o.OSRelease, Network: c.Network,
			// bound, not copied: one program for any number of hosts
			Binds: map[string]string{FakeNodePath: light, FakeNodeFullPath: bin}}
	}
	if c.real != nil {
		if err := c.realSwarm(opts); err != nil {
			return nil, err
		}
	}
	hs, err := StartHosts(ctx, c.workdir, opts)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	c.Hosts = hs
	c.Managers, c.Workers = hs[:o.Managers], hs[o.Managers:]
	ports := o.LBPorts
	if ports == nil {
		ports = DefaultLBPorts()
	}
	var backends []string
	for _, m := range c.Managers {
		backends = append(backends, m.Address)
	}
	if c.LoadBalancer, err = newLoadBalancer(c.LB, backends, ports); err != nil {
		_ = c.Close()
		return nil, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(hs))
	sem := make(chan struct{}, startParallel())
	for i, h := range hs {
		wg.Go(func() {
			// a few at a time, as StartHosts: each SSH handshake has a timeout
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = c.setup(ctx, h, i < o.Managers)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := c.pin(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	if c.real != nil {
		if err := c.bootReal(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	if o.API {
		toml := strings.Replace(mke3api.DefaultConfigTOML, "calico_kdd = false", "calico_kdd = "+strconv.FormatBool(o.CalicoKDD), 1)
		seed := o.APISeed
		seed.Version, seed.ConfigTOML = o.MKEVersion, toml
		ao := mke3api.Options{Seed: seed}
		if c.real != nil {
			if err := c.bundleOptions(&ao, o); err != nil {
				_ = c.Close()
				return nil, err
			}
		}
		c.API, err = mke3api.Start(ao)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("testbed: mke3api: %w", err)
		}
	}
	return c, nil
}

// pin makes the neighbour entries between the managers and every host
// permanent (Network.Pin): workers reach the managers and the managers
// every host without ARP, however many hosts there are.
func (c *Cluster) pin(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.Hosts))
	sem := make(chan struct{}, startParallel())
	for i, h := range c.Hosts {
		peers := c.Managers
		if i < len(c.Managers) {
			peers = c.Hosts
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = c.Network.Pin(ctx, h, peers...)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nodeState is the seed of one node.
func (c *Cluster) nodeState(h *Host, manager bool) fakestate.Node {
	n := fakestate.Node{Hostname: h.Name, Address: h.Address, Role: "worker", MCRVersion: c.MCRVersion,
		Volumes: []string{"ucp-node-certs", "ucp-kubelet-root"}}
	n.Swarm = fakestate.Swarm{NodeID: c.NodeIDs[h.Name], NodeAddr: h.Address, LocalNodeState: "active", ClusterID: c.ClusterID}
	for _, m := range c.Managers {
		n.Swarm.RemoteManagers = append(n.Swarm.RemoteManagers, fakestate.RemoteManager{NodeID: c.NodeIDs[m.Name], Addr: m.Address + ":2377"})
	}
	names := allNodeContainers()
	if manager {
		n.Role = "manager"
		n.Swarm.ControlAvailable = true
		n.Swarm.Managers, n.Swarm.Nodes = len(c.Managers), len(c.Hosts)
		n.Volumes = append(n.Volumes, "ucp-auth-api-certs", "ucp-kv", "ucp-kv-certs", "ucp-controller-server-certs")
		names = append(managerContainers(), allNodeContainers()...)
		for _, o := range c.Hosts {
			sn := fakestate.SwarmNode{ID: c.NodeIDs[o.Name], Hostname: o.Name, Status: "Ready", Availability: "Active", EngineVersion: c.MCRVersion}
			for i, m := range c.Managers {
				if m == o {
					sn.ManagerStatus = "Reachable"
					if i == 0 {
						sn.ManagerStatus = "Leader"
					}
				}
			}
			n.Nodes = append(n.Nodes, sn)
		}
	}
	images := map[string]bool{}
	for _, name := range names {
		img := "mirantis/" + strings.TrimSuffix(name, "-x") + ":" + c.MKEVersion
		switch {
		case strings.HasPrefix(name, "ucp-auth-"):
			img = "mirantis/ucp-auth:" + c.MKEVersion
			if name == "ucp-auth-store" {
				img = "mirantis/ucp-auth-store:" + c.MKEVersion
			}
		case strings.HasPrefix(name, "ucp-kube-") || name == "ucp-kubelet":
			img = "mirantis/ucp-hyperkube:" + c.MKEVersion
		case strings.HasPrefix(name, "ucp-cluster-root-ca") || strings.HasPrefix(name, "ucp-client-root-ca"):
			img = "mirantis/ucp-cfssl:" + c.MKEVersion
		case name == "ucp-kv":
			img = "mirantis/ucp-etcd:" + c.MKEVersion
		case name == "ucp-swarm-manager":
			img = "mirantis/ucp-swarm:" + c.MKEVersion
		case name == "ucp-worker-agent-x":
			img = "mirantis/ucp-agent:" + c.MKEVersion
		case name == "ucp-calico-node":
			img = "mirantis/ucp-calico-node:" + c.MKEVersion
		}
		n.Containers = append(n.Containers, fakestate.Container{ID: randomHex(32), Name: name, Image: img,
			Command: "/bin/" + name, Running: true,
			Labels: map[string]string{"com.docker.ucp.version": c.MKEVersion, "com.docker.ucp.InstanceID": c.ClusterID}})
		if !images[img] {
			images[img] = true
			repo, tag, _ := strings.Cut(img, ":")
			n.Images = append(n.Images, fakestate.Image{Repository: repo, Tag: tag, ID: randomHex(32)})
		}
	}
	n.Images = append(n.Images, fakestate.Image{Repository: "mirantis/ucp", Tag: c.MKEVersion, ID: randomHex(32)})
	return n
}

// setup installs the symlinks and the seed state on h.
func (c *Cluster) setup(ctx context.Context, h *Host, manager bool) error {
	state, files := c.nodeState(h, manager), map[string][]byte(nil)
	if c.real != nil {
		var err error
		if state, files, err = c.realNodeState(h, manager); err != nil {
			return err
		}
	}
	node, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	units, err := json.MarshalIndent(fakestate.Units{
		"docker.service":     {Active: true, Enabled: true, ExecStart: "/usr/bin/dockerd -H fd://"},
		"containerd.service": {Active: true, Enabled: true, ExecStart: "/usr/bin/containerd"},
	}, "", "  ")
	if err != nil {
		return err
	}
	// MKE 3's Calico (its install-cni container) keeps its CNI
	// configuration in /etc/cni/net.d; k0s reset deletes these two files
	// (k0s pkg/cleanup/cni.go at v1.31.2+k0s.0), so a rollback must put
	// them back. List /etc/cni in DigestPaths to have them digested.
	script := fmt.Sprintf(`set -e
cd /usr/local/bin && for n in docker systemctl k0s; do ln -sf fakenode $n; done
mkdir -p /etc/cni/net.d && cd /etc/cni/net.d
[ -e 10-calico.conflist ] || printf '{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"calico","nodename":"%%s","kubernetes":{"kubeconfig":"/etc/cni/net.d/calico-kubeconfig"}}]}\n' "$(hostname)" > 10-calico.conflist
[ -e calico-kubeconfig ] || (umask 077; printf 'apiVersion: v1\nkind: Config\nusers:\n- name: calico\n  user:\n    token: %%s\n' "$(hostname)-calico-token" > calico-kubeconfig)
mkdir -p %[1]s && cd %[1]s && : > %[6]s
cat > %[2]s <<'FAKENODE_EOF'
%[3]s
FAKENODE_EOF
cat > %[4]s <<'FAKENODE_EOF'
%[5]s
FAKENODE_EOF
`, fakestate.Dir, fakestate.NodeFile, node, fakestate.UnitsFile, units, fakestate.LockFile) + realFilesScript(files)
	// on stdin: a manager's node list of a thousand hosts is past the
	// kernel's 128 KiB limit for one argument (bash -c SCRIPT)
	if _, err := c.exec(ctx, h, "sh", []byte(script)); err != nil {
		return fmt.Errorf("testbed: setting up %s: %w", h.Name, err)
	}
	return nil
}

// client returns the cached root SSH connection to h. It dials without
// holding the lock, so that connections to many hosts open in parallel.
func (c *Cluster) client(ctx context.Context, h *Host) (*ssh.Client, error) {
	c.mu.Lock()
	cl := c.clients[h]
	c.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	key, err := os.ReadFile(h.KeyPath)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return nil, err
	}
	_, _, pub, _, _, err := ssh.ParseKnownHosts([]byte(h.HostKeyLine))
	if err != nil {
		return nil, fmt.Errorf("host key line: %w", err)
	}
	addr := net.JoinHostPort(h.Address, strconv.Itoa(h.Port))
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(pub), Timeout: 5 * time.Second,
	})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	cl = ssh.NewClient(cc, chans, reqs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.clients[h]; prev != nil { // another caller dialed meanwhile
		_ = cl.Close()
		return prev, nil
	}
	c.clients[h] = cl
	return cl, nil
}

// Exec runs cmd as root on h over a plain SSH session (independent of
// package hosts) and returns its standard output with surrounding white
// space trimmed. A failed command is an *ExecError. Ending ctx closes the
// session.
func (c *Cluster) Exec(ctx context.Context, h *Host, cmd string) (string, error) {
	return c.exec(ctx, h, cmd, nil)
}

func (c *Cluster) exec(ctx context.Context, h *Host, cmd string, stdin []byte) (string, error) {
	cl, err := c.client(ctx, h)
	if err != nil {
		return "", &ExecError{Host: h.Name, Cmd: cmd, ExitCode: -1, Err: err}
	}
	s, err := newSession(ctx, cl)
	if err != nil {
		// the connection may have been killed (closeConnection): redial once
		c.mu.Lock()
		if c.clients[h] == cl {
			delete(c.clients, h)
		}
		c.mu.Unlock()
		_ = cl.Close()
		if cl, err = c.client(ctx, h); err == nil {
			s, err = newSession(ctx, cl)
		}
		if err != nil {
			return "", &ExecError{Host: h.Name, Cmd: cmd, ExitCode: -1, Err: err}
		}
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		_ = s.Close()
		err = ctx.Err()
	}
	out := strings.TrimSpace(stdout.String())
	if err != nil {
		xe := &ExecError{Host: h.Name, Cmd: cmd, ExitCode: -1, Stderr: strings.TrimSpace(stderr.String()), Err: err}
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			xe.ExitCode = ee.ExitStatus()
		}
		return out, xe
	}
	return out, nil
}

// newSession opens a session, giving up after a few seconds: a connection
// whose server side was killed by a closeConnection fault can be left
// half-open, and x/crypto/ssh would then wait for the channel forever.
func newSession(ctx context.Context, cl *ssh.Client) (*ssh.Session, error) {
	type result struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := cl.NewSession()
		ch <- result{s, err}
	}()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-t.C:
	case <-ctx.Done():
	}
	_ = cl.Close() // ends the pending open; its session, if any, with it
	return nil, errors.New("testbed: the SSH connection does not open sessions (half-open after a fault)")
}

// Digest returns the SHA-256 (hex) of h's fake node state: the sorted
// paths, modes and contents of the files under FakeNodeDir, without the
// fault list, call log, lock file and container start/stop times, and then
// of ClusterOptions.DigestPaths.
func (c *Cluster) Digest(ctx context.Context, h *Host) (string, error) {
	return c.DigestPaths(ctx, h, c.digestPaths...)
}

// DigestPaths is Digest with paths instead of ClusterOptions.DigestPaths.
func (c *Cluster) DigestPaths(ctx context.Context, h *Host, paths ...string) (string, error) {
	cmd := FakeNodePath + " digest"
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("testbed: digest path %q is not absolute", p)
		}
		cmd += " '" + strings.ReplaceAll(p, "'", `'\''`) + "'"
	}
	return c.Exec(ctx, h, cmd)
}

// SetFault appends f to h's faults.
func (c *Cluster) SetFault(ctx context.Context, h *Host, f Fault) error {
	b, err := json.Marshal(fakestate.Fault{Match: f.Match, ExitCode: f.ExitCode, Stdout: f.Stdout, Stderr: f.Stderr,
		HangSeconds: f.HangSeconds, CloseConnection: f.CloseConnection, Times: f.Times})
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, h, FakeNodePath+" faults-add", b)
	return err
}

// Faults returns h's faults in the order they were set, with how often
// each was used.
func (c *Cluster) Faults(ctx context.Context, h *Host) ([]Fault, error) {
	out, err := c.Exec(ctx, h, "cat "+filepath.Join(fakestate.Dir, fakestate.FaultsFile)+" 2>/dev/null || true")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) == "" {
		return nil, nil
	}
	var fs []fakestate.Fault
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", fakestate.FaultsFile, err)
	}
	res := make([]Fault, len(fs))
	for i, f := range fs {
		res[i] = Fault{Match: f.Match, ExitCode: f.ExitCode, Stdout: f.Stdout, Stderr: f.Stderr, HangSeconds: f.HangSeconds,
			CloseConnection: f.CloseConnection, Times: f.Times, Used: f.Used}
	}
	return res, nil
}

// ClearFaults removes all of h's faults.
func (c *Cluster) ClearFaults(ctx context.Context, h *Host) error {
	_, err := c.Exec(ctx, h, FakeNodePath+" faults-clear")
	return err
}

// InterceptProgram makes the faults of h reach program too, a program
// that is not one of the fake node's (docker, systemctl, k0s): for
// example sha256sum, which an upload runs, or rm. It links
// /usr/local/bin/PROGRAM to fakenode, which comes first in PATH (and in
// sudo's secure_path); fakenode, called by a name it does not simulate,
// applies the first matching fault (Fault.Match starting with program)
// and then executes the real program from /usr/bin, /bin, /usr/sbin or
// /sbin with the same arguments, so that without a fault nothing
// changes. The call is not in Calls. ReleaseProgram removes the link.
// A program not in those folders, or a file of the host's own at
// /usr/local/bin/PROGRAM, is refused: fakenode would have nothing to run,
// or ReleaseProgram could not put the file back.
func (c *Cluster) InterceptProgram(ctx context.Context, h *Host, program string) error {
	if err := checkProgram(program); err != nil {
		return err
	}
	_, err := c.Exec(ctx, h, `p=/usr/local/bin/`+program+`
if [ -e "$p" ] || [ -L "$p" ]; then
	[ "$(readlink "$p")" = fakenode ] || { echo "$p exists and is not fakenode's" >&2; exit 1; }
fi
for d in /usr/bin /bin /usr/sbin /sbin; do
	if [ -f "$d/`+program+`" ] && [ -x "$d/`+program+`" ]; then exec ln -sfn fakenode "$p"; fi
done
echo "`+program+` is not in /usr/bin, /bin, /usr/sbin or /sbin" >&2
exit 1`)
	return err
}

// ReleaseProgram undoes InterceptProgram.
func (c *Cluster) ReleaseProgram(ctx context.Context, h *Host, program string) error {
	if err := checkProgram(program); err != nil {
		return err
	}
	_, err := c.Exec(ctx, h, "if [ \"$(readlink /usr/local/bin/"+program+")\" = fakenode ]; then rm -f /usr/local/bin/"+program+"; fi")
	return err
}

// checkProgram refuses what is not a plain program name, or is one of
// the fake node's own.
func checkProgram(p string) error {
	if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" || strings.HasPrefix(p, ".") {
		return fmt.Errorf("testbed: %q is not a program name", p)
	}
	switch p {
	case "docker", "systemctl", "k0s", "fakenode":
		return fmt.Errorf("testbed: %s is the fake node's own: set a Fault", p)
	}
	return nil
}

// Calls returns the commands run on h so far (docker, systemctl and k0s
// invocations, one argv each, oldest first).
func (c *Cluster) Calls(ctx context.Context, h *Host) ([][]string, error) {
	out, err := c.Exec(ctx, h, "cat "+filepath.Join(fakestate.Dir, fakestate.CallsFile)+" 2>/dev/null || true")
	if err != nil {
		return nil, err
	}
	var calls [][]string
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		var argv []string
		if err := json.Unmarshal([]byte(l), &argv); err != nil {
			return nil, fmt.Errorf("testbed: calls.log: %w", err)
		}
		calls = append(calls, argv)
	}
	return calls, nil
}

// Host returns the cluster's host called name, or nil.
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Close stops the simulator and the hosts and removes a temporary workdir.
// It is idempotent.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		if c.API != nil {
			errs = append(errs, c.API.Close())
		}
		if c.LoadBalancer != nil {
			errs = append(errs, c.LoadBalancer.Close())
		}
		c.mu.Lock()
		for _, cl := range c.clients {
			_ = cl.Close()
		}
		c.clients = map[*Host]*ssh.Client{}
		c.mu.Unlock()
		var wg sync.WaitGroup
		herrs := make([]error, len(c.Hosts))
		for i, h := range c.Hosts {
			wg.Go(func() { herrs[i] = h.Stop() })
		}
		wg.Wait()
		errs = append(errs, herrs...)
		if c.Network != nil {
			errs = append(errs, c.Network.Close())
		}
		if c.ownWorkdir {
			errs = append(errs, os.RemoveAll(c.workdir))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}
