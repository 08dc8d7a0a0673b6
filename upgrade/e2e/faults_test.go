package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// The fault matrix on the realistic test bed: 2 managers and 1 worker of
// MKE 3.8 with a real ucp-kv and API server, seeded (testbed
// ClusterOptions.Real), upgraded by the engine's own plan into the fake
// k0s (real etcd, API server and controller manager). One cluster serves
// every case: a case before the point of no return ends in the rollback,
// which must leave MKE 3 exactly as it was (its API serves the same seeded
// objects by UID, resourceVersion and spec; every node's state and its
// /etc/cni are as before, Swarm's task identities aside), so the next
// case starts from that state, and checking it is the test. The cases
// past the point of no return come last, chained: each fault is followed
// by a resume that finishes its step and meets the next fault; the last
// resume finishes the upgrade, after which k0s serves every seeded object.
//
// What is sampled, and why. The realistic bed costs real work per case:
// each case runs the plan up to its fault (a fault at k0s-worker first
// starts two k0s controllers on the restored data and uploads the 52 MB
// k0s binary three times) and the rollback restarts MKE 3's components.
// The full cross product of every step × host × kind (83 cases,
// MKE_MIGRATE_MATRIX=full) does not fit a CI budget of about ten minutes
// on 2 cores, so by default (63 cases) every mutating step of the plan
// meets every kind of fault once, the kinds taken in turn by the hosts it
// runs on in the matrix (matrixSteps: mke3-stop on the leader, the other
// manager and the worker; k0s-binary likewise; k0s-controller on the
// leader, which starts the cluster, and on the joining manager), and
// every step past the point of no return meets every kind. Two steps
// cannot meet every kind: save-inputs and swarm-export run no remote
// command (they write local files in the output folder): they get the
// cancellation only. (carry-cleanup's rm -rf fails the step when it
// fails, so it meets every kind.)
//
// mke3-volumes runs on every manager at once: the resume after its fault
// on the leader finishes the other managers' lanes, so the leader meets
// its faults. The SIGKILL cases kill a child process (this test binary)
// running the upgrade while a step's command runs on its node (a hang
// fault holds it there): in MKE 3's stop and a joining controller's
// install, rolled back from the journal; at k0s-worker, in uninstall-ucp
// and in the volumes' removal (the last two killing a resume), resumed.
// go test -short runs one kind per step, the kinds in turn (19 cases).
// Support bundles, which a failed run writes by default, are left out
// but in the "command fails" cases (see bundles). TestMatrixCoverage
// checks that each size covers what it says.
//
// Cost (go test ./upgrade/e2e -run Matrix -count=1 -v), measured on a
// 2-core machine shared with other builds, at load 30-45: about 35
// minutes for the default size, most of it in the rollback cases at
// k0s-worker, rbac-apply and mke4-config (80-115 s each; 4-15 s before
// MKE 3 stops, 15-50 s up to the first controller); the resume chain
// (15 cases) in 4-5 minutes. The same machine at low load ran the whole
// upgrade (upgrade_test.go) 2.5-3 times faster, which puts the default
// size at 12-14 minutes there: above the 10 minutes aimed at; -short
// (19 cases) is the budget option: 7 min 18 s at load 10-20, with the
// k0s-worker, rbac-apply and mke4-config cases at about 60 s each. One cluster throughout: at its peak
// two MKE 3 managers and two k0s controllers, about 0.45 GB each
// (docs/benchmarks.md), so about 2 GB.
//
// MKE_MIGRATE_MATRIX_RUN=regexp runs the rollback cases whose names match
// (for finding a failure; the resume chain runs whole, when the regexp
// matches "resume"). The count line is printed to stdout, and appended to
// the file MKE_MIGRATE_MATRIX_SUMMARY names (go test shows a passing
// package's output only with -v; .ci/run prints that file).

// faultKind is how a step is made to fail.
type faultKind string

const (
	kindFail   faultKind = "command fails"
	kindDrop   faultKind = "connection drops"
	kindHang   faultKind = "hangs past the step timeout"
	kindCancel faultKind = "context cancelled"
	kindKill   faultKind = "tool killed (SIGKILL)"
)

var allKinds = []faultKind{kindFail, kindDrop, kindHang, kindCancel}

// point is a mutating step on a host (host name, "" for a local step)
// and how a fault reaches it: the node whose command takes it, and the
// command's first words (testbed.Fault.Match). Program, when set, is a
// program the step runs that is not one of the fake node's (docker,
// systemctl, k0s): the test bed intercepts it (testbed
// Cluster.InterceptProgram). No match: the step runs nothing remote.
type point struct {
	step, host string
	on, match  string
	program    string
}

func (p point) String() string {
	if p.host == "" {
		return p.step
	}
	return p.step + "@" + p.host
}

// matrixCase is one fault at one point.
type matrixCase struct {
	point
	kind faultKind
	// resume: the case is past the point of no return (or a kill that is
	// resumed): a resume finishes it, not a rollback
	resume bool
}

func (c matrixCase) name() string { return c.point.String() + "/" + string(c.kind) }

// The points of the plan Discover makes for 2 managers and 1 worker with
// the carry, in plan order.
var (
	pSaveInputs  = point{step: "save-inputs"}
	pSwarmExport = point{step: "swarm-export"}
	pBackup      = point{"mke3-backup", "manager-1", "manager-1", "docker run --rm -i --name ucp-backup", ""}
	pDrain       = point{"swarm-drain", "manager-1", "manager-1", "docker node update", ""}
	pStopM1      = point{"mke3-stop", "manager-1", "manager-1", "docker stop", ""}
	pStopM2      = point{"mke3-stop", "manager-2", "manager-2", "docker stop", ""}
	pSnapshot    = point{"etcd-snapshot", "manager-1", "manager-1", "docker run --rm --network host", ""}
	pBinaryM1    = point{"k0s-binary", "manager-1", "manager-1", "sha256sum", "sha256sum"}
	pRestore     = point{"k0s-restore", "manager-1", "manager-1", "k0s restore", ""}
	pCtrlM1      = point{"k0s-controller", "manager-1", "manager-1", "k0s install", ""}
	pCleanup     = point{"carry-cleanup", "manager-1", "manager-1", "rm", "rm"}
	pBinaryM2    = point{"k0s-binary", "manager-2", "manager-2", "sha256sum", "sha256sum"}
	pCtrlM2      = point{"k0s-controller", "manager-2", "manager-2", "k0s install", ""}
	pStopW1      = point{"mke3-stop", "worker-1", "worker-1", "docker stop", ""}
	pBinaryW1    = point{"k0s-binary", "worker-1", "worker-1", "sha256sum", "sha256sum"}
	pWorker      = point{"k0s-worker", "worker-1", "worker-1", "k0s install", ""}
	pRBAC        = point{"rbac-apply", "", "manager-1", "k0s kubeconfig admin", ""}
	pConfig      = point{"mke4-config", "", "manager-1", "k0s kubeconfig admin", ""}
	// past the point of no return
	pUninstall = point{"mke3-uninstall", "manager-1", "manager-1", "docker run --rm -i --name ucp-uninstall", ""}
	// mke3-volumes runs on every manager at once, in one stage: the
	// resume after a fault on one finishes the others, so one manager
	// (the leader) meets every fault in turn
	pVolumes = point{"mke3-volumes", "manager-1", "manager-1", "docker volume rm", ""}
	pOutputs = point{"write-outputs", "", "manager-1", "k0s kubeconfig admin", ""}
)

// stepPoints are the points of one step (its hosts) and the kinds of
// fault it can meet.
type stepPoints struct {
	points []point
	kinds  []faultKind
}

// matrixSteps are the mutating steps before the point of no return, in
// plan order.
var matrixSteps = []stepPoints{
	{[]point{pSaveInputs}, []faultKind{kindCancel}},
	{[]point{pSwarmExport}, []faultKind{kindCancel}},
	{[]point{pBackup}, allKinds},
	{[]point{pDrain}, allKinds},
	{[]point{pStopM1, pStopM2, pStopW1}, allKinds},
	{[]point{pSnapshot}, allKinds},
	{[]point{pBinaryM1, pBinaryM2, pBinaryW1}, allKinds},
	{[]point{pRestore}, allKinds},
	{[]point{pCtrlM1, pCtrlM2}, allKinds},
	{[]point{pCleanup}, allKinds},
	{[]point{pWorker}, allKinds},
	{[]point{pRBAC}, allKinds},
	{[]point{pConfig}, allKinds},
}

// pastSteps are the steps past the point of no return.
var pastSteps = []point{pUninstall, pVolumes, pOutputs}

// Sizes of the matrix.
const (
	// every step meets every kind it can, its hosts taking the kinds in
	// turn (the default)
	sizeDefault = "default"
	// every kind on every host of every step
	sizeFull = "full"
	// one kind per step, the kinds in turn (go test -short)
	sizeShort = "short"
)

// matrixCases is the matrix of size: rollback cases first, in plan
// order; then the kills that are rolled back; then the resume chain.
func matrixCases(size string) []matrixCase {
	var cs []matrixCase
	for j, st := range matrixSteps {
		switch size {
		case sizeFull:
			for _, p := range st.points {
				for _, k := range st.kinds {
					cs = append(cs, matrixCase{point: p, kind: k})
				}
			}
		case sizeShort:
			cs = append(cs, matrixCase{point: st.points[j%len(st.points)], kind: st.kinds[j%len(st.kinds)]})
		default:
			for i, k := range st.kinds {
				cs = append(cs, matrixCase{point: st.points[i%len(st.points)], kind: k})
			}
		}
	}
	// killed, then rolled back from the journal: in MKE 3's stop (a lane
	// of the carry's stop stage) and in a joining controller's install
	kills := []point{pStopM2, pCtrlM2}
	if size == sizeShort {
		kills = kills[:1]
	}
	for _, p := range kills {
		cs = append(cs, matrixCase{point: p, kind: kindKill})
	}
	// the resume chain: killed before the point of no return and resumed
	// (its resume meets the next fault), then every kind at every step
	// past it, and a kill during a resume
	cs = append(cs, matrixCase{point: pWorker, kind: kindKill, resume: true})
	for j, p := range pastSteps {
		kinds := allKinds
		if size == sizeShort {
			kinds = allKinds[j%len(allKinds) : j%len(allKinds)+1]
		}
		for _, k := range kinds {
			cs = append(cs, matrixCase{point: p, kind: k, resume: true})
		}
		if p == pUninstall || p == pVolumes && size != sizeShort {
			cs = append(cs, matrixCase{point: p, kind: kindKill, resume: true})
		}
	}
	return cs
}

// matrixBed is the one cluster every case runs on, with what the checks
// compare against.
type matrixBed struct {
	c       *testbed.Cluster
	hosts   []hosts.Host
	kh      string
	k0s     []byte
	k0sFile string // the k0s binary, for child processes
	toml    string
	// MKE 3 before any case: its seeded objects and nodes
	mke3Cfg *rest.Config
	objects []testbed.Object
	raw     map[string]map[string]any
	nodes   map[string]nodeState
}

func startMatrixBed(t *testing.T) *matrixBed {
	t.Helper()
	needRealBed(t)
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // a safety net
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 2, Workers: 1, Real: true, API: true, CalicoKDD: true,
		Workdir: t.TempDir(), LBPorts: []int{443, 6443, 9443}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SeedKubernetes(ctx))
	b := &matrixBed{c: c, kh: filepath.Join(t.TempDir(), "known_hosts")}
	b.mke3Cfg, err = c.KubeConfig(nil)
	require.NoError(t, err)
	b.objects, err = testbed.KubeObjects(ctx, b.mke3Cfg)
	require.NoError(t, err)
	b.raw = listSeeded(t, b.mke3Cfg)
	for i, h := range c.Hosts {
		_, err := c.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1))
		require.NoError(t, err)
		require.NoError(t, h.KnownHostsFile(b.kh))
		hh := hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath}
		if h.Name == "worker-1" {
			hh.Labels = map[string]string{testbed.KubeletProfileLabel: "high-pods"}
		}
		b.hosts = append(b.hosts, hh)
	}
	b.k0s, err = testbed.FakeK0sBinary("v1.33.4+k0s.0")
	require.NoError(t, err)
	b.k0sFile = filepath.Join(t.TempDir(), "k0s")
	require.NoError(t, os.WriteFile(b.k0sFile, b.k0s, 0o755))
	b.toml = strings.Replace(mke3api.DefaultConfigTOML, "calico_kdd = false", "calico_kdd = true", 1) +
		"\n[cluster_config.custom_kubelet_flags_profiles]\n  high-pods = \"--max-pods=250\"\n"
	b.nodes = b.nodeStates(t)
	return b
}

// key is the plan's name of host (its address:port).
func (b *matrixBed) key(name string) string {
	for i, h := range b.c.Hosts {
		if h.Name == name {
			return b.hosts[i].String()
		}
	}
	return ""
}

// runConfig is what an upgrade run needs, in this process or a child.
type runConfig struct {
	Hosts           []hosts.Host
	KnownHosts      string
	K0s             string // path of the k0s binary
	TOML            string
	APIURL          string
	APICA           []byte
	ExternalAddress string
	Dir             string
	Resume          bool // a child resumes the run in Dir instead of applying a new one
	// MKE 3's Kubernetes API for the kube-inventory step: the simulator's
	// client bundle names 127.0.0.1:6443, not this bed's API server
	KubeHost                  string
	KubeCA, KubeCert, KubeKey []byte
}

func (b *matrixBed) config(dir string) runConfig {
	kc := b.mke3Cfg
	return runConfig{Hosts: b.hosts, KnownHosts: b.kh, K0s: b.k0sFile, TOML: b.toml, APIURL: b.c.API.URL, APICA: b.c.API.CAPEM,
		ExternalAddress: b.c.LB, Dir: dir, KubeHost: kc.Host, KubeCA: kc.CAData, KubeCert: kc.CertData, KubeKey: kc.KeyData}
}

// options are the engine's defaults (no stand-ins): only safety nets and
// the paths of the test are set.
func (rc runConfig) options() (upgrade.Options, error) {
	k0s, err := os.ReadFile(rc.K0s)
	if err != nil {
		return upgrade.Options{}, err
	}
	mc, err := mke3.New(mke3.Options{Host: rc.APIURL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: rc.APICA})
	if err != nil {
		return upgrade.Options{}, err
	}
	return upgrade.Options{
		Hosts: rc.Hosts, Connect: hosts.ConnectOptions{KnownHostsPath: rc.KnownHosts}, MKE3: mc, MKE3ConfigTOML: []byte(rc.TOML),
		ExternalAddress: rc.ExternalAddress, K0sBinary: k0s, OutputDir: rc.Dir, KubeconfigPath: filepath.Join(rc.Dir, "kubeconfig"),
		// safety nets only: no case waits for them (a hang is ended as
		// its step's timeout would end it, once it began)
		StepTimeout: 5 * time.Minute, RollbackTimeout: 10 * time.Minute,
		Commands: upgrade.Commands{Ready: 3 * time.Minute},
		MKE3KubeConfig: func(context.Context) (*rest.Config, error) {
			return &rest.Config{Host: rc.KubeHost, TLSClientConfig: rest.TLSClientConfig{CAData: rc.KubeCA, CertData: rc.KubeCert, KeyData: rc.KubeKey}}, nil
		},
	}, nil
}

// The SIGKILL cases run the upgrade in a child process: this test binary
// with childEnv set to its runConfig.
const childEnv = "MKE_MIGRATE_MATRIX_CHILD"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(childMain(cfg))
	}
	os.Exit(m.Run())
}

func childMain(cfg string) int {
	var rc runConfig
	if err := json.Unmarshal([]byte(cfg), &rc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o, err := rc.options()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	var u *upgrade.Upgrade
	if rc.Resume {
		o.MKE3 = nil
		u, err = upgrade.Open(rc.Dir, o)
	} else {
		u, err = upgrade.New(o)
		if err == nil {
			_, err = u.Discover(ctx)
		}
	}
	var p *plan.Plan
	if err == nil {
		p, err = u.Plan()
	}
	if err == nil && rc.Resume {
		_, err = u.Resume(ctx, p)
	} else if err == nil {
		_, err = u.Apply(ctx, p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// errStepTimedOut ends a step whose command hangs, as its timeout would:
// once the node reports that the hang began, however slow the machine.
// Ending the step's context closes its SSH session, which ends the
// hanging command. No case waits for a real timeout.
var errStepTimedOut = errors.New("the step timed out (the test ended it once its command hung)")

// errInterrupted is the cause of a cancelled run (as SIGINT in the CLI).
var errInterrupted = errors.New("interrupted (the test cancelled the run's context)")

// arm makes step c.point of p meet its fault: the fault is set on its
// node when the step starts (so that no earlier step takes it); a hang
// is ended as by the step's timeout once it began, and a cancellation
// cancels the run once the step's command runs (a local step without a
// command: as the step starts). times is how many commands the fault
// reaches (steps past the point of no return try 3 times).
func (b *matrixBed) arm(t *testing.T, p *plan.Plan, c matrixCase, times int, cancelRun context.CancelCauseFunc) {
	t.Helper()
	id := c.step
	if c.host != "" {
		id += "@" + b.key(c.host)
	}
	s, ok := p.Find(id)
	require.True(t, ok, "no step %s in the plan", id)
	do := s.Do
	var once sync.Once
	s.Do = func(ctx context.Context, r *plan.Run) error {
		first := false
		once.Do(func() { first = true })
		if !first {
			return do(ctx, r)
		}
		if c.match == "" {
			cancelRun(errInterrupted)
			return do(ctx, r)
		}
		h := b.c.Host(c.on)
		f := testbed.Fault{Match: c.match, Times: times}
		switch c.kind {
		case kindFail:
			f.ExitCode, f.Stderr = 1, "injected failure"
		case kindDrop:
			f.CloseConnection = true
		case kindHang, kindCancel:
			f.HangSeconds = 600
		}
		if c.program != "" {
			if err := b.c.InterceptProgram(context.Background(), h, c.program); err != nil {
				return fmt.Errorf("test: %w", err)
			}
		}
		if err := b.c.SetFault(context.Background(), h, f); err != nil {
			return fmt.Errorf("test: %w", err)
		}
		if c.kind != kindHang && c.kind != kindCancel {
			return do(ctx, r)
		}
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			if b.waitHang(sctx, h) {
				if c.kind == kindHang {
					cancel(errStepTimedOut)
				} else {
					cancelRun(errInterrupted)
				}
			}
		}()
		err := do(sctx, r)
		if err != nil && errors.Is(context.Cause(sctx), errStepTimedOut) {
			// as the executor says why a step's context ended
			err = fmt.Errorf("%w (%w)", err, errStepTimedOut)
		}
		return err
	}
}

// waitHang reports whether the hang set on h began before ctx ended.
func (b *matrixBed) waitHang(ctx context.Context, h *testbed.Host) bool {
	for ctx.Err() == nil {
		fs, err := b.c.Faults(ctx, h)
		if err == nil && len(fs) > 0 && fs[0].Used > 0 {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// clearFaults removes every fault and interception of the case.
func (b *matrixBed) clearFaults(t *testing.T) {
	t.Helper()
	for _, h := range b.c.Hosts {
		require.NoError(t, b.c.ClearFaults(context.Background(), h))
		for _, p := range []string{"sha256sum", "rm"} {
			require.NoError(t, b.c.ReleaseProgram(context.Background(), h, p))
		}
	}
}

// TestRealBedFaultMatrix: see the comment at the top of this file.
func TestRealBedFaultMatrix(t *testing.T) {
	begin := time.Now()
	b := startMatrixBed(t)
	t.Logf("the realistic bed started and was seeded in %v", time.Since(begin).Round(time.Second))
	size := sizeDefault
	if testing.Short() {
		size = sizeShort
	}
	if v := os.Getenv("MKE_MIGRATE_MATRIX"); v == sizeFull || v == sizeShort || v == sizeDefault {
		size = v
	}
	cases := matrixCases(size)
	var only *regexp.Regexp
	if s := os.Getenv("MKE_MIGRATE_MATRIX_RUN"); s != "" {
		only = regexp.MustCompile(s)
	}
	var restored, resumed, failed int
	var failures []string
	clean := true // MKE 3 is as it was: the next rollback case may run
	var chain []matrixCase
	for _, c := range cases {
		if c.resume {
			chain = append(chain, c)
			continue
		}
		if only != nil && !only.MatchString(c.name()) {
			continue
		}
		if !clean {
			failed++
			failures = append(failures, c.name()+": not run, MKE 3 was not restored by an earlier case")
			continue
		}
		start := time.Now()
		ok := t.Run(c.name(), func(t *testing.T) {
			defer b.clearFaults(t)
			if c.kind == kindKill {
				b.killThenRollback(t, c)
			} else {
				b.faultThenRollback(t, c)
			}
			clean = false
			b.requireMKE3AsBefore(t)
			clean = true
		})
		t.Logf("%s: %v", c.name(), time.Since(start).Round(100*time.Millisecond))
		if ok {
			restored++
		} else {
			failed++
			failures = append(failures, c.name())
		}
	}
	if only == nil || only.MatchString("resume") {
		if !clean {
			failed += len(chain)
			failures = append(failures, "the resume chain: not run, MKE 3 was not restored by an earlier case")
		} else {
			n, fails := b.resumeChain(t, chain)
			resumed += n
			failed += len(fails)
			failures = append(failures, fails...)
		}
	}
	line := fmt.Sprintf("fault matrix: %d cases: %d rolled back to the exact MKE 3 state, %d finished by resume, %d failed",
		restored+resumed+failed, restored, resumed, failed)
	report(t, line, failures, time.Since(begin))
	if failed > 0 {
		t.Errorf("%s:\n%s", line, strings.Join(failures, "\n"))
	}
}

// report prints the count line on stdout (shown by go test -v, and by go
// test in a package folder) and appends it to MKE_MIGRATE_MATRIX_SUMMARY
// when set (go test ./... hides a passing package's output).
func report(t *testing.T, line string, failures []string, took time.Duration) {
	t.Helper()
	fmt.Fprintln(os.Stdout, line)
	t.Logf("matrix took %v", took.Round(time.Second))
	if p := os.Getenv("MKE_MIGRATE_MATRIX_SUMMARY"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s (in %v)\n", line, took.Round(time.Second))
			for _, fl := range failures {
				_, _ = fmt.Fprintln(f, "  failed: "+fl)
			}
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			t.Errorf("MKE_MIGRATE_MATRIX_SUMMARY: %v", err)
		}
	}
}

// newRun discovers the cluster and plans the upgrade, in the output
// folder dir.
func (b *matrixBed) newRun(t *testing.T, dir string, events func(plan.Event), bundles bool) (*upgrade.Upgrade, *plan.Plan) {
	t.Helper()
	o, err := b.config(dir).options()
	require.NoError(t, err)
	o.Events, o.NoSupportBundle = events, !bundles
	u, err := upgrade.New(o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	_, err = u.Discover(t.Context())
	require.NoError(t, err, "Discover: MKE 3 is not as it was")
	p, err := u.Plan()
	require.NoError(t, err)
	return u, p
}

// timeline sums how long the steps and their undos took, and names the
// slow ones, for the log.
type timeline struct {
	mu           sync.Mutex
	steps, undos time.Duration
	slow         []string
}

func (tl *timeline) event(e plan.Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	switch e.Kind {
	case plan.EventStepDone, plan.EventStepFailed:
		tl.steps += e.Took
	case plan.EventUndoDone, plan.EventUndoFailed:
		tl.undos += e.Took
	default:
		return
	}
	if e.Took >= 2*time.Second {
		what := e.Step
		if e.Kind == plan.EventUndoDone || e.Kind == plan.EventUndoFailed {
			what = "undo " + what
		}
		tl.slow = append(tl.slow, fmt.Sprintf("%s %v", what, e.Took.Round(100*time.Millisecond)))
	}
}

func (tl *timeline) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return fmt.Sprintf("steps %v, undos %v (slow: %s)", tl.steps.Round(100*time.Millisecond), tl.undos.Round(100*time.Millisecond), strings.Join(tl.slow, ", "))
}

// bundles: whether a case's run writes the support bundles a failed run
// writes by default (before and after the rollback). They read the nodes
// and take seconds each on the realistic bed, so only the "command
// fails" cases, one per step, keep them; the others leave them out
// (Options.NoSupportBundle) to keep the matrix within its time.
func bundles(c matrixCase) bool { return c.kind == kindFail }

// faultThenRollback applies the plan with the fault of c: the run must
// fail at c's step and roll back without error.
func (b *matrixBed) faultThenRollback(t *testing.T, c matrixCase) {
	begin := time.Now()
	var tl timeline
	u, p := b.newRun(t, t.TempDir(), tl.event, bundles(c))
	discovered := time.Now()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	b.arm(t, p, c, 1, cancel)
	_, err := u.Apply(ctx, p)
	t.Logf("discover %v, apply and rollback %v: %s", discovered.Sub(begin).Round(100*time.Millisecond),
		time.Since(discovered).Round(100*time.Millisecond), tl.String())
	var rb *upgrade.RollbackError
	require.ErrorAs(t, err, &rb, "want a rolled-back failure")
	require.NoError(t, rb.Rollback, "the rollback failed")
	require.NotErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
	if c.kind == kindCancel {
		require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted), "the run did not end by its cancellation: %v", err)
		return
	}
	var se *plan.StepError
	require.ErrorAs(t, err, &se)
	require.Equal(t, c.step, se.Step, "failed at another step: %v", err)
	if c.kind == kindHang {
		require.ErrorIs(t, err, errStepTimedOut)
	}
}

// kill runs the upgrade (or, with resume, the resume of the run in dir)
// in a child process and kills it with SIGKILL while c's command runs on
// its node (a hang holds it there).
func (b *matrixBed) kill(t *testing.T, c matrixCase, dir string, resume bool) {
	t.Helper()
	h := b.c.Host(c.on)
	require.NoError(t, b.c.SetFault(t.Context(), h, testbed.Fault{Match: c.match, HangSeconds: 600, Times: 1}))
	rc := b.config(dir)
	rc.Resume = resume
	cfg, err := json.Marshal(rc)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			t.Log("child: " + s.Text())
		}
		close(exited)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute) // a safety net
	defer cancel()
	go func() {
		select {
		case <-exited: // the child ended by itself: waitHang gives up
			cancel()
		case <-ctx.Done():
		}
	}()
	hung := b.waitHang(ctx, h)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.True(t, hung, "the child ended before %s", c.name())
	rs, err := journal.Read(dir)
	require.NoError(t, err)
	require.Equal(t, journal.StepStart, journal.Replay(rs).Status(c.step, b.key(c.host)), "the journal does not show %s running", c.point)
}

// killThenRollback kills the tool during c's step, then rolls the run
// back from its journal.
func (b *matrixBed) killThenRollback(t *testing.T, c matrixCase) {
	dir := t.TempDir()
	b.kill(t, c, dir, false)
	b.clearFaults(t)
	u, p := b.open(t, dir, false)
	_, err := u.Rollback(t.Context(), p)
	require.NoError(t, err)
}

// open reopens the run in dir, as the CLI's resume and rollback do.
func (b *matrixBed) open(t *testing.T, dir string, bundles bool) (*upgrade.Upgrade, *plan.Plan) {
	t.Helper()
	o, err := b.config(dir).options()
	require.NoError(t, err)
	o.MKE3, o.NoSupportBundle = nil, !bundles
	u, err := upgrade.Open(dir, o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	p, err := u.Plan()
	require.NoError(t, err)
	return u, p
}

// resumeChain runs the chained cases past the point of no return (and
// the kills that are resumed) on one run, in order: each fault stops the
// run (or its resume) at its step, and the next resume must finish that
// step; the last resume finishes the upgrade, and k0s must then serve
// every seeded object of MKE 3. A case counts as finished by resume only
// when all that holds: if the chain breaks, every case of it failed.
// It returns how many cases passed and the names of those that failed.
func (b *matrixBed) resumeChain(t *testing.T, chain []matrixCase) (int, []string) {
	if len(chain) == 0 {
		return 0, nil
	}
	dir := t.TempDir()
	started := false
	var pending []matrixCase // stopped the run, until a resume finishes their step
	var unfinished []string  // cases whose step a resume did not finish
	// settle drops the pending cases whose step is done now; with last
	// (after the last resume), those left failed: no resume finished
	// their step (a fault right after at the same step leaves it
	// pending)
	settle := func(t *testing.T, last bool) {
		rs, err := journal.Read(dir)
		require.NoError(t, err)
		st := journal.Replay(rs)
		var left []matrixCase
		for _, c := range pending {
			switch {
			case st.Done(c.step, b.key(c.host)):
			case last:
				unfinished = append(unfinished, c.name()+": no resume finished its step")
			default:
				left = append(left, c)
			}
		}
		pending = left
	}
	broken := func(why string) (int, []string) {
		var fs []string
		for _, c := range chain {
			fs = append(fs, c.name()+": "+why)
		}
		return 0, fs
	}
	for _, c := range chain {
		start := time.Now()
		ok := t.Run(c.name(), func(t *testing.T) {
			defer b.clearFaults(t)
			if c.kind == kindKill {
				b.kill(t, c, dir, started)
				started = true
				settle(t, false)
				pending = append(pending, c)
				return
			}
			var u *upgrade.Upgrade
			var p *plan.Plan
			if started {
				u, p = b.open(t, dir, bundles(c))
			} else {
				u, p = b.newRun(t, dir, nil, bundles(c))
			}
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			// a step past the point of no return tries 3 times before it
			// says what to do by hand: the fault reaches every try
			b.arm(t, p, c, 3, cancel)
			var err error
			if started {
				_, err = u.Resume(ctx, p)
			} else {
				_, err = u.Apply(ctx, p)
			}
			started = true
			settle(t, false)
			require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
			if c.kind != kindCancel {
				var se *plan.StepError
				require.ErrorAs(t, err, &se)
				require.Equal(t, c.step, se.Step, "failed at another step: %v", err)
			}
			pending = append(pending, c)
		})
		t.Logf("%s: %v", c.name(), time.Since(start).Round(100*time.Millisecond))
		if !ok {
			return broken("the chain broke at " + c.name())
		}
	}
	start := time.Now()
	ok := t.Run("resume to the end", func(t *testing.T) {
		u, p := b.open(t, dir, true)
		_, err := u.Resume(t.Context(), p)
		require.NoError(t, err)
		settle(t, true)
		b.requireK0sServesMKE3(t, filepath.Join(dir, "kubeconfig"))
	})
	t.Logf("resume to the end: %v", time.Since(start).Round(100*time.Millisecond))
	if !ok {
		return broken("the last resume did not finish the upgrade")
	}
	return len(chain) - len(unfinished), unfinished
}

// requireK0sServesMKE3: after the upgrade, k0s's API serves every object
// seeded in MKE 3 (same UID and spec; see requireSameObjects).
func (b *matrixBed) requireK0sServesMKE3(t *testing.T, kubeconfig string) {
	t.Helper()
	kc, err := os.ReadFile(kubeconfig)
	require.NoError(t, err)
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	require.NoError(t, err)
	requireSameObjects(t, b.raw, listSeeded(t, cfg))
	// the join tokens of every process of the run were invalidated, the
	// killed ones' too (from the journal): k0s token invalidate deletes
	// their bootstrap-token Secrets (k0s cmd/token/invalidate.go)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	l, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(t.Context(), metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeBootstrapToken)})
	require.NoError(t, err)
	var left []string
	for _, sec := range l.Items {
		left = append(left, sec.Name)
	}
	require.Empty(t, left, "join tokens still valid after the upgrade")
}

// requireMKE3AsBefore: MKE 3's API serves exactly the seeded objects it
// served before the case (UID, resourceVersion, spec), and every node is
// in its state from before the case (nodeState).
func (b *matrixBed) requireMKE3AsBefore(t *testing.T) {
	t.Helper()
	// the API server was restarted by the rollback: wait until it serves
	// again (a safety net; a changed object never changes back, so the
	// difference is final)
	begin := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var diff error
	for {
		got, err := testbed.KubeObjects(ctx, b.mke3Cfg)
		if err == nil {
			if diff = testbed.DiffObjects(b.objects, got); diff == nil {
				break
			}
		} else {
			diff = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("MKE 3's API after the rollback: %v", diff)
		case <-time.After(500 * time.Millisecond):
		}
	}
	api := time.Now()
	require.Equal(t, b.nodes, b.nodeStates(t), "a node is not in its MKE 3 state after the rollback")
	t.Logf("MKE 3's API as before after %v, nodes checked in %v", api.Sub(begin).Round(100*time.Millisecond), time.Since(api).Round(100*time.Millisecond))
}

// nodeState is what a rollback must put back on a node.
type nodeState struct {
	// CNI lists /etc/cni: path, mode and SHA-256 of each file
	CNI string
	// K0s lists what k0s and the run leave on a node: the k0s binary
	// (a link to fakenode before), /etc/k0s, /var/lib/k0s and the run's
	// state folder
	K0s string
	// Node is the fake node's docker engine, Swarm and containers
	// (node.json), Swarm's task containers by service: a task stopped
	// by the drain stays in Swarm's task history and its undo starts a
	// new task (another ID), as Swarm does
	Node string
	// Files are the fake node's other state files (systemd units, k0s,
	// container logs), by SHA-256
	Files string
}

// swarmTask matches a Swarm task container's name (service.node.task).
var swarmTask = regexp.MustCompile(`^([^.]+)\.[0-9a-z]{25}\.[0-9a-z]{25}$`)

const (
	treeCmd = `for p in %s; do if [ -e "$p" ] || [ -L "$p" ]; then find "$p" \( -type f -o -type l -o -type d \) -printf '%%p %%m %%l\n' | LC_ALL=C sort; ` +
		`find "$p" -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum; else echo "$p absent"; fi; done`
	// the fake node's state files but its volatile ones (fakestate.Volatile)
	filesCmd = `cd ` + testbed.FakeNodeDir + ` && find . -type f ! -name node.json ! -name faults.json ! -name calls.log ! -name .lock ! -name times.json ` +
		`! -name procs.json ! -name kube-assets ! -path './pids/*' ! -name '.tmp-*' -print0 | LC_ALL=C sort -z | xargs -0r sha256sum`
)

func (b *matrixBed) nodeStates(t *testing.T) map[string]nodeState {
	t.Helper()
	out := map[string]nodeState{}
	for _, h := range b.c.Hosts {
		var s nodeState
		var err error
		s.CNI, err = b.c.Exec(t.Context(), h, fmt.Sprintf(treeCmd, "/etc/cni"))
		require.NoError(t, err)
		s.K0s, err = b.c.Exec(t.Context(), h, fmt.Sprintf(treeCmd, "/usr/local/bin/k0s /etc/k0s /var/lib/k0s /var/lib/mke-migrate"))
		require.NoError(t, err)
		s.Files, err = b.c.Exec(t.Context(), h, filesCmd)
		require.NoError(t, err)
		js, err := b.c.Exec(t.Context(), h, "cat "+testbed.FakeNodeDir+"/node.json")
		require.NoError(t, err)
		s.Node = normalizeNode(t, js)
		out[h.Name] = s
	}
	return out
}

// normalizeNode is node.json with Swarm's task containers by service:
// only the running ones, named by their service.
func normalizeNode(t *testing.T, js string) string {
	t.Helper()
	var n map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &n))
	cs, _ := n["containers"].([]any)
	var keep []any
	for _, c := range cs {
		m := c.(map[string]any)
		name, _ := m["name"].(string)
		if sm := swarmTask.FindStringSubmatch(name); sm != nil {
			if running, _ := m["running"].(bool); running {
				keep = append(keep, map[string]any{"swarmTask": sm[1], "running": true})
			}
			continue
		}
		keep = append(keep, m)
	}
	sort.SliceStable(keep, func(i, j int) bool {
		a, _ := json.Marshal(keep[i])
		b, _ := json.Marshal(keep[j])
		return string(a) < string(b)
	})
	n["containers"] = keep
	out, err := json.MarshalIndent(n, "", " ")
	require.NoError(t, err)
	return string(out)
}

// The default matrix covers what its comment says: every step before the
// point of no return meets every kind it can, on every host it has in the
// matrix; every step past it meets every kind; kills are rolled back and
// resumed. The short one still meets every kind somewhere.
func TestMatrixCoverage(t *testing.T) {
	count := func(cs []matrixCase) (map[string]map[faultKind]bool, map[string]bool, map[faultKind]bool, map[bool]int) {
		byStep, hostsOf, kinds, kills := map[string]map[faultKind]bool{}, map[string]bool{}, map[faultKind]bool{}, map[bool]int{}
		for _, c := range cs {
			if byStep[c.step] == nil {
				byStep[c.step] = map[faultKind]bool{}
			}
			byStep[c.step][c.kind] = true
			hostsOf[c.point.String()] = true
			kinds[c.kind] = true
			if c.kind == kindKill {
				kills[c.resume]++
			}
		}
		return byStep, hostsOf, kinds, kills
	}
	for _, size := range []string{sizeDefault, sizeFull} {
		cs := matrixCases(size)
		byStep, points, _, kills := count(cs)
		for _, st := range matrixSteps {
			for _, k := range st.kinds {
				require.True(t, byStep[st.points[0].step][k], "%s: %s never meets %q", size, st.points[0].step, k)
			}
			for _, p := range st.points {
				require.True(t, points[p.String()], "%s: %s is never faulted", size, p)
			}
		}
		for _, p := range pastSteps {
			for _, k := range allKinds {
				require.True(t, byStep[p.step][k], "%s: %s never meets %q", size, p.step, k)
			}
		}
		require.GreaterOrEqual(t, kills[false], 2, "%s: kills rolled back", size)
		require.GreaterOrEqual(t, kills[true], 3, "%s: kills resumed", size)
		names := map[string]bool{}
		for _, c := range cs {
			require.False(t, names[c.name()], "%s: %s twice", size, c.name())
			names[c.name()] = true
		}
		t.Logf("%s: %d cases", size, len(cs))
	}
	short := matrixCases(sizeShort)
	t.Logf("short: %d cases", len(short))
	_, _, kinds, kills := count(short)
	for _, k := range append(allKinds, kindKill) {
		require.True(t, kinds[k], "short: no %q", k)
	}
	require.Positive(t, kills[false])
	require.Positive(t, kills[true])
}
