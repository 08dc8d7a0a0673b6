package upgrade_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// plane is the Kubernetes API the RBAC step applies to (the simulated
// nodes run no real k0s); nil without the binaries, and then the RBAC
// step is left out.
var plane *kubetest.Plane

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	os.Exit(kubetest.Main(m, kubetest.Options{}, &plane))
}

// digestPaths are the files an upgrade writes outside the fake node's
// state: a rollback must restore them too.
var digestPaths = []string{"/etc/k0s", testbed.K0sBinaryPath, "/var/lib/mke-migrate", "/etc/cni"}

type bed struct {
	c          *testbed.Cluster
	hosts      []hosts.Host
	knownHosts string
	k0s        []byte
	baseline   map[string]string
}

func needTestbed(t testing.TB) {
	t.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
}

// startBed starts a 3-manager, 2-worker MKE 3 cluster on Calico KDD and
// records each node's digest.
func startBed(t testing.TB, workers int) *bed {
	t.Helper()
	return startBedWithin(t, workers, 2*time.Minute)
}

// startBedWithin is startBed with another start-up safety net (a
// benchmark's 200 hosts on a loaded machine need more than 2 minutes).
func startBedWithin(t testing.TB, workers int, limit time.Duration) *bed {
	t.Helper()
	needTestbed(t)
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: workers, API: true, CalicoKDD: true,
		Workdir: t.TempDir(), DigestPaths: digestPaths})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	b := &bed{c: c, knownHosts: filepath.Join(t.TempDir(), "known_hosts"), baseline: map[string]string{}}
	for i, h := range c.Hosts {
		// testbed hosts share the machine's machine-id, a preflight blocker
		_, err := c.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1))
		require.NoError(t, err)
		require.NoError(t, h.KnownHostsFile(b.knownHosts))
		b.hosts = append(b.hosts, hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath})
	}
	b.k0s, err = testbed.FakeK0sBinary("v1.33.4+k0s.0")
	require.NoError(t, err)
	b.baseline = b.digests(t)
	return b
}

func (b *bed) digests(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range b.c.Hosts {
		d, err := b.c.Digest(context.Background(), h)
		require.NoError(t, err)
		out[h.Name] = d
	}
	return out
}

func (b *bed) options(t testing.TB, dir string) upgrade.Options {
	t.Helper()
	mc, err := mke3.New(mke3.Options{Host: b.c.API.URL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: b.c.API.CAPEM})
	require.NoError(t, err)
	o := upgrade.Options{
		Hosts:           b.hosts,
		Connect:         hosts.ConnectOptions{KnownHostsPath: b.knownHosts},
		MKE3:            mc,
		ExternalAddress: "mke.example.com",
		K0sBinary:       b.k0s,
		OutputDir:       dir,
		KubeconfigPath:  filepath.Join(dir, "home", ".mke", "mke.kubeconf"),
		StepTimeout:     2 * time.Minute, // a safety net only: no test waits for a timeout to fire (F15)
		// the fast test bed serves no k0s join API on 9443: the join check
		// runs on the realistic bed (upgrade/e2e) and in TestJoinCheckScript
		Commands: upgrade.Commands{Ready: 10 * time.Second, JoinCheck: "-"},
		// the fast test bed's managers run no real ucp-kv
		Carry: upgrade.CarryOptions{Skip: true},
		// its Kubernetes API is a stand-in plane (or none), not a cluster
		// of these hosts: verify's checks run against real API servers in
		// package verify and on the realistic bed (upgrade/e2e);
		// TestVerifyFailureIsNotRolledBack runs it here, where it fails
		SkipVerify: true,
	}
	o.SkipRBAC = plane == nil
	// the fault matrix's points are the steps before it; the store runs
	// for real in upgrade/e2e and in TestApplyConfigStep
	o.SkipConfigStore = true
	if plane != nil {
		o.KubeClient = func(context.Context, []byte) (kubernetes.Interface, error) { return plane.Client() }
	}
	return o
}

func discoverAndPlan(t testing.TB, o upgrade.Options) (*upgrade.Upgrade, *plan.Plan) {
	t.Helper()
	u, err := upgrade.New(o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	_, err = u.Discover(context.Background())
	require.NoError(t, err)
	p, err := u.Plan()
	require.NoError(t, err)
	return u, p
}

func TestUpgradeCompletes(t *testing.T) {
	b := startBed(t, 2)
	dir := t.TempDir()
	o := b.options(t, dir)
	var mu sync.Mutex
	var events []plan.Event
	o.Events = func(e plan.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	u, p := discoverAndPlan(t, o)
	var printed strings.Builder
	require.NoError(t, p.Print(&printed))
	t.Log("\n" + printed.String())
	require.Contains(t, printed.String(), "point of no return")

	res, err := u.Apply(t.Context(), p)
	require.NoError(t, err)
	t.Logf("upgrade of %d nodes took %v", len(b.hosts), res.Took)

	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "k0s status")
		require.NoError(t, err, h.Name)
		if strings.HasPrefix(h.Name, "manager") {
			require.Contains(t, out, "Role: controller", h.Name)
		} else {
			require.Contains(t, out, "Role: worker", h.Name)
		}
		out, err = b.c.Exec(t.Context(), h, "docker ps --format '{{.Names}}'")
		require.NoError(t, err)
		require.NotContains(t, out, "ucp-kubelet", "%s still runs MKE 3's kubelet", h.Name)
		// no join token left behind, nor MKE 3's backup archive (F3)
		_, err = b.c.Exec(t.Context(), h, "test ! -e /etc/k0s/join-token")
		require.NoError(t, err, h.Name)
		_, err = b.c.Exec(t.Context(), h, "test ! -e /var/lib/mke-migrate/mke3-backup.tar")
		require.NoError(t, err, "%s keeps the backup archive", h.Name)
	}
	for _, f := range []string{"mke3.toml", "mke4.yaml", "mke3-backup.tar", "journal.jsonl"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	kc, err := os.ReadFile(o.KubeconfigPath)
	require.NoError(t, err)
	require.Contains(t, string(kc), "https://mke.example.com:6443")
	b.requireNoJoinTokens(t)

	rs, err := journal.Read(dir)
	require.NoError(t, err)
	ev, ok := journal.Replay(rs).RunEnded()
	require.True(t, ok)
	require.Equal(t, journal.RunDone, ev)
	n := len(p.Steps())
	done := 0
	for _, e := range events {
		if e.Kind == plan.EventStepDone {
			done++
			require.Equal(t, n, e.Total)
		}
	}
	require.Equal(t, n, done)

	// Resume of a finished run does nothing.
	u2, p2 := discoverAndPlanAfter(t, o)
	_, err = u2.Resume(t.Context(), p2)
	require.NoError(t, err)
}

// F3: with a passphrase, MKE 3's backup is encrypted on the leader; the
// local copy decrypts to the archive, the leader keeps nothing, and the
// passphrase is in no remote command line.
func TestBackupEncrypted(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	b := startBed(t, 1)
	dir := t.TempDir()
	o := b.options(t, dir)
	const pass = "correct horse battery staple"
	o.BackupPassphrase = []byte(pass)
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "mke3-backup.tar"))
	require.True(t, os.IsNotExist(err), "a plain archive in the output folder")
	local := filepath.Join(dir, "mke3-backup.tar.enc")
	fi, err := os.Stat(local)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	dec := exec.Command("openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", "600000", "-pass", "env:P", "-in", local)
	dec.Env = append(os.Environ(), "P="+pass)
	plain, err := dec.Output()
	require.NoError(t, err)
	tr := tar.NewReader(bytes.NewReader(plain))
	h, err := tr.Next()
	require.NoError(t, err)
	require.Equal(t, "backup.json", h.Name)
	for _, h := range b.c.Hosts {
		_, err = b.c.Exec(t.Context(), h, "test ! -e /var/lib/mke-migrate/mke3-backup.tar")
		require.NoError(t, err, "%s keeps the backup archive", h.Name)
		calls, err := b.c.Calls(t.Context(), h)
		require.NoError(t, err)
		for _, c := range calls {
			require.NotContains(t, strings.Join(c, " "), pass, "the passphrase in a command line on %s", h.Name)
		}
	}
}

// requireNoJoinTokens checks that the leader (the first k0s controller)
// knows no join token: the run invalidated the ones it made (F6).
func (b *bed) requireNoJoinTokens(t *testing.T) {
	t.Helper()
	out, err := b.c.Exec(t.Context(), b.c.Host("manager-1"), "k0s token list")
	require.NoError(t, err)
	require.Equal(t, "No k0s join tokens found", strings.TrimSpace(out), "join tokens left valid")
}

// discoverAndPlanAfter reopens an earlier run (its output directory) and
// makes its plan, as Resume and Rollback need.
func discoverAndPlanAfter(t testing.TB, o upgrade.Options) (*upgrade.Upgrade, *plan.Plan) {
	t.Helper()
	u, err := upgrade.Open(o.OutputDir, o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	p, err := u.Plan()
	require.NoError(t, err)
	return u, p
}

// Discover stops before anything changes: an empty kubeconfig left by a
// failed run, and a cluster still on Calico's etcd datastore.
func TestDiscoverBlocks(t *testing.T) {
	b := startBed(t, 1)
	o := b.options(t, t.TempDir())
	require.NoError(t, os.MkdirAll(filepath.Dir(o.KubeconfigPath), 0o700))
	require.NoError(t, os.WriteFile(o.KubeconfigPath, nil, 0o600))
	require.Contains(t, discoverBlocked(t, o).Error(), "mke-kubeconfig")
	require.Equal(t, b.baseline, b.digests(t))

	o.MKE3 = nil
	o.MKE3ConfigTOML = []byte("[cluster_config]\ncalico_kdd = false\n")
	require.NoError(t, os.Remove(o.KubeconfigPath))
	require.Contains(t, discoverBlocked(t, o).Error(), "calico")
}

// discoverBlocked runs Discover with o and returns the *BlockedError it
// must stop with.
func discoverBlocked(t *testing.T, o upgrade.Options) *upgrade.BlockedError {
	t.Helper()
	u, err := upgrade.New(o)
	require.NoError(t, err)
	defer u.Close()
	_, err = u.Discover(t.Context())
	var be *upgrade.BlockedError
	require.ErrorAs(t, err, &be, "%v", err)
	return be
}

// uninstall-ucp that times out (it waits ~2 minutes for its agents): every
// node leaves the Swarm instead, the leader last, and the upgrade ends.
func TestUninstallTimeoutFallsBackToSwarmLeave(t *testing.T) {
	b := startBed(t, 1)
	leader := b.c.Host("manager-1")
	require.NoError(t, b.c.SetFault(t.Context(), leader, testbed.Fault{Match: "docker run --rm -i --name ucp-uninstall",
		ExitCode: 1, Stdout: `time="2024-01-01T00:00:00Z" level=fatal msg="Uninstalling UCP took too long"` + "\n"}))
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	require.NoError(t, err)
	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "docker info --format '{{.Swarm.LocalNodeState}}'")
		require.NoError(t, err)
		require.Equal(t, "inactive", out, h.Name)
	}
}

// A manager becomes a controller+worker (--enable-worker): it runs a
// kubelet, and its step waits for its Node as a worker's does. k0s status
// answers on a controller whose embedded worker failed (k0s logs "Failed
// to start controller worker" and runs on), so without the wait a
// controller whose Node never registers passed; now it fails its step
// after Commands.NodeReadyTimeout and the run rolls back.
func TestControllerNodeNeverReadyRollsBack(t *testing.T) {
	b := startBed(t, 1)
	nodeNeverReady(t, b, "manager-2", "k0s-controller")
}

// requireRolledBack checks that err is a failure the run rolled back,
// the rollback without error, and, unless step is "", that step failed:
// it returns that step's error (nil for "").
func requireRolledBack(t *testing.T, err error, step string) *plan.StepError {
	t.Helper()
	var rb *upgrade.RollbackError
	require.ErrorAs(t, err, &rb, "want a rolled-back failure")
	require.NoError(t, rb.Rollback, "the rollback failed")
	if step == "" {
		return nil
	}
	var se *plan.StepError
	require.ErrorAs(t, err, &se)
	require.Equal(t, step, se.Step, "failed at another step: %v", err)
	return se
}

// nodeNeverReady upgrades with host's Node never found (NotFound, as
// real kubectl answers) and checks that step fails after
// Commands.NodeReadyTimeout and the run rolls back to the MKE 3 state.
func nodeNeverReady(t *testing.T, b *bed, host, step string) {
	t.Helper()
	require.NoError(t, b.c.SetFault(t.Context(), b.c.Host(host), testbed.Fault{Match: "k0s kubectl get node", ExitCode: 1,
		Stderr: `Error from server (NotFound): nodes "` + host + `" not found`}))
	defer b.clearFaults(t)
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	o.Commands.NodeReadyTimeout = time.Second // two looks, counted: no wait on the clock
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	requireRolledBack(t, err, step)
	require.ErrorContains(t, err, "node "+host+" not Ready after 1s")
	require.Equal(t, b.baseline, b.digests(t))
}

// F1: a worker is never drained before it joined k0s (the fake kubectl
// answers NotFound for it, as real kubectl does); once joined, the step
// waits until its Node is Ready, and a Node that never is fails the step
// after Commands.NodeReadyTimeout and rolls the run back.
func TestWorkerNodeNeverReadyRollsBack(t *testing.T) {
	b := startBed(t, 2)
	nodeNeverReady(t, b, "worker-2", "k0s-worker")
	for _, h := range b.c.Hosts {
		calls, err := b.c.Calls(t.Context(), h)
		require.NoError(t, err)
		for _, c := range calls {
			require.False(t, len(c) > 2 && c[0] == "k0s" && c[1] == "kubectl" && (c[2] == "drain" || c[2] == "cordon"), "%s: %v", h.Name, c)
		}
	}
}

// F3: k0s reset deletes MKE 3's Calico files in /etc/cni/net.d; a
// rollback puts them back as they were (the digest covers /etc/cni).
func TestRollbackKeepsCNIFiles(t *testing.T) {
	b := startBed(t, 1)
	w := b.c.Host("worker-1")
	before, err := b.c.Exec(t.Context(), w, "cat /etc/cni/net.d/10-calico.conflist /etc/cni/net.d/calico-kubeconfig")
	require.NoError(t, err)
	require.NoError(t, b.c.SetFault(t.Context(), w, testbed.Fault{Match: "k0s kubectl get node", ExitCode: 1, Stderr: "injected"}))
	defer b.clearFaults(t)
	o := b.options(t, t.TempDir())
	o.SkipRBAC = true
	o.Commands.NodeReadyTimeout = time.Second
	u, p := discoverAndPlan(t, o)
	_, err = u.Apply(t.Context(), p)
	requireRolledBack(t, err, "")
	after, err := b.c.Exec(t.Context(), w, "cat /etc/cni/net.d/10-calico.conflist /etc/cni/net.d/calico-kubeconfig")
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, b.baseline, b.digests(t), "a node differs from its MKE 3 state after the rollback")
}

// F7: air-gapped, Discover blocks before anything changes when the MKE 3
// image is not on the leader, and says how to load it.
func TestAirgappedNeedsTheMKEImage(t *testing.T) {
	b := startBed(t, 1)
	leader := b.c.Host("manager-1")
	_, err := b.c.Exec(t.Context(), leader, "docker image inspect mirantis/ucp:"+b.c.MKEVersion)
	require.NoError(t, err, "the image is seeded on the node")
	_, err = b.c.Exec(t.Context(), leader, `python3 - <<'EOF'
import json
p = "`+testbed.FakeNodeDir+`/node.json"
n = json.load(open(p))
n["images"] = [i for i in n["images"] if i["repository"] != "mirantis/ucp"]
json.dump(n, open(p, "w"))
EOF`)
	require.NoError(t, err)
	base := b.digests(t)
	o := b.options(t, t.TempDir())
	o.Airgapped = true
	o.ImageRegistry = "registry.example.com/mirantis"
	o.ChartRegistry = "oci://registry.example.com/charts"
	err = discoverBlocked(t, o)
	require.Contains(t, err.Error(), "mke-image")
	require.Contains(t, err.Error(), "docker load")
	require.Equal(t, base, b.digests(t), "Discover changed a node")
}
