package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// built is the mke-migrate binary, built once for the tests that run it.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "mke-migrate-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "mke-migrate")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.path
}

func TestUpgradeFlagValidation(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("MKE_PASSWORD", "not-used-by-these-tests")
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    role: manager\n  - address: 10.0.0.2\n    role: worker\n")
	noManager := writeFile(t, dir, "workers.yaml", "hosts:\n  - address: 10.0.0.2\n    role: worker\n")
	k0s := writeFile(t, dir, "k0s", "binary")
	empty := writeFile(t, dir, "empty", "")
	full := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(full, 0o700))
	writeFile(t, full, "journal.jsonl", "{}\n")
	base := []string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "admin", "--external-address", "mke.example.com",
		"--k0s-binary", k0s, "--force", "--output", filepath.Join(dir, "out")}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := map[string]struct {
		args []string
		want string
	}{
		"no hosts-path":             {[]string{"upgrade", "--mke3-admin-username", "a", "--external-address", "x"}, "hosts-path"},
		"no external address":       {[]string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "a", "--k0s-binary", k0s, "--force"}, "external-address"},
		"url as external address":   {with("--external-address", "https://mke.example.com"), "not a URL"},
		"no username":               {[]string{"upgrade", "--hosts-path", hostsFile, "--external-address", "x", "--k0s-binary", k0s, "--force"}, "--mke3-admin-username"},
		"image registry slash":      {with("--image-registry", "registry.example.com/mke/"), "must not end with /"},
		"chart registry not oci":    {with("--chart-registry", "https://charts.example.com"), "oci://"},
		"chart registry slash":      {with("--chart-registry", "oci://charts.example.com/"), "oci://"},
		"worker batch zero":         {with("--worker-batch", "0"), "--worker-batch"},
		"worker batch over 100":     {with("--worker-batch", "101"), "--worker-batch"},
		"concurrency zero":          {with("--concurrency", "0"), "--concurrency"},
		"timeout zero":              {with("--timeout", "0s"), "--timeout"},
		"timeout not a duration":    {with("--timeout", "soon"), "timeout"},
		"bad log level":             {with("--log-level", "loud"), "--log-level"},
		"known hosts and insecure":  {with("--known-hosts", k0s, "--ssh-insecure-ignore-host-key"), "not both"},
		"no k0s binary":             {[]string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "a", "--external-address", "x", "--force"}, "--k0s-binary is required"},
		"missing k0s binary":        {with("--k0s-binary", filepath.Join(dir, "absent")), "--k0s-binary"},
		"empty k0s binary":          {with("--k0s-binary", empty), "is empty"},
		"no terminal, no force":     {[]string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "a", "--external-address", "x", "--k0s-binary", k0s}, "--force"},
		"output holds a run":        {with("--output", full), "journal of an earlier run"},
		"no manager, no mke3-host":  {[]string{"upgrade", "--hosts-path", noManager, "--mke3-admin-username", "a", "--external-address", "x", "--k0s-binary", k0s, "--force"}, "--mke3-host is required"},
		"bad hosts file":            {with("--hosts-path", k0s), "hosts"},
		"two password sources":      {with("--mke3-admin-password", "x", "--mke3-admin-password-stdin"), "not both"},
		"unknown flag":              {with("--upgrade-everything"), "flag provided but not defined"},
		"resume without output":     {[]string{"resume", "--hosts-path", hostsFile, "--k0s-binary", k0s}, "output"},
		"resume without k0s":        {[]string{"resume", "--hosts-path", hostsFile, "--output", dir}, "--k0s-binary is required"},
		"resume of no run":          {[]string{"resume", "--hosts-path", hostsFile, "--output", filepath.Join(dir, "state"), "--k0s-binary", k0s}, "output"},
		"rollback of absent folder": {[]string{"rollback", "--hosts-path", hostsFile, "--output", filepath.Join(dir, "absent")}, "--output"},
		"rollback of no run":        {[]string{"rollback", "--hosts-path", hostsFile, "--output", full}, "output folder of an upgrade"},
		"demo workers":              {[]string{"demo", "--workers", "0"}, "--workers"},
		"demo log level":            {[]string{"demo", "--log-level", "loud"}, "--log-level"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			assert.Equal(t, 2, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NoDirExists(t, filepath.Join(dir, "out"), "nothing is written on a usage error")
			assert.NoDirExists(t, filepath.Join(dir, "state", "mke-migrate"))
		})
	}
}

func TestUpgradeNeedsAPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MKE_PASSWORD", "")
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    role: manager\n")
	code, _, stderr := runCLI(t, "upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "a", "--external-address", "x", "--dry-run")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "no MKE 3 password")
}

func TestReporterLines(t *testing.T) {
	var b bytes.Buffer
	r := newReporter(&b)
	r.version = "3.8.8"
	for _, e := range []upgradeEvent{
		{"step-start", 1, 3, "save-inputs", "", 0, nil},
		{"step-done", 1, 3, "save-inputs", "", 1200 * time.Millisecond, nil},
		{"step-start", 2, 3, "mke3-stop", "10.0.0.1:22", 0, nil},
		{"step-start", 3, 3, "mke3-stop", "10.0.0.2:22", 0, nil},
		{"step-done", 2, 3, "mke3-stop", "10.0.0.1:22", 100 * time.Millisecond, nil},
		{"step-failed", 3, 3, "mke3-stop", "10.0.0.2:22", 50 * time.Millisecond, fmt.Errorf("boom")},
		{"undo-start", 1, 1, "mke3-stop", "10.0.0.1:22", 0, nil},
		{"undo-done", 1, 1, "mke3-stop", "10.0.0.1:22", 300 * time.Millisecond, nil},
	} {
		r.event(e.event())
	}
	r.rollbackDone()
	assert.Equal(t, `Step 1 of 3: save-inputs ... done (1.2s)
Step 2 of 3: mke3-stop on 10.0.0.1:22 ...
Step 3 of 3: mke3-stop on 10.0.0.2:22 ...
Step 2 of 3: mke3-stop on 10.0.0.1:22 ... done (0.1s)
Step 3 of 3: mke3-stop on 10.0.0.2:22 ... failed (0.1s): boom
Initiating rollback of MKE to version: 3.8.8
Step 1 of 1 [Rollback]: undo mke3-stop on 10.0.0.1:22 ... done (0.3s)
Rollback to MKE version 3.8.8 completed successfully
`, b.String())
	assert.False(t, useColor(&b), "never colour what is not a terminal")
}

// cliBed is a simulated MKE 3 cluster and the files the CLI needs for it.
type cliBed struct {
	c          *testbed.Cluster
	dir        string
	hostsPath  string
	knownHosts string
	caPath     string
	k0sPath    string
	baseline   map[string]string
}

func needTestbed(t *testing.T) {
	t.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
}

func startCLIBed(t *testing.T) *cliBed { return startCLIBedKDD(t, true) }

func startCLIBedKDD(t *testing.T, kdd bool) *cliBed {
	t.Helper()
	needTestbed(t)
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: 2, API: true, CalicoKDD: kdd,
		Workdir: t.TempDir(), DigestPaths: demoDigestPaths})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	b := &cliBed{c: c, dir: t.TempDir()}
	b.knownHosts = filepath.Join(b.dir, "known_hosts")
	var y strings.Builder
	y.WriteString("hosts:\n")
	for i, h := range c.Hosts {
		_, err := c.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1))
		require.NoError(t, err)
		require.NoError(t, h.KnownHostsFile(b.knownHosts))
		role := "worker"
		if i < len(c.Managers) {
			role = "manager"
		}
		fmt.Fprintf(&y, "  - address: %s\n    port: %d\n    user: %s\n    keyPath: %s\n    role: %s\n", h.Address, h.Port, h.User, h.KeyPath, role)
	}
	b.hostsPath = writeFile(t, b.dir, "hosts.yaml", y.String())
	b.caPath = writeFile(t, b.dir, "ca.pem", string(c.API.CAPEM))
	k0s, err := testbed.FakeK0sBinary("v1.33.4+k0s.0")
	require.NoError(t, err)
	b.k0sPath = filepath.Join(b.dir, "k0s")
	require.NoError(t, os.WriteFile(b.k0sPath, k0s, 0o755))
	b.baseline = b.digests(t)
	return b
}

func (b *cliBed) digests(t *testing.T) map[string]string {
	t.Helper()
	d := map[string]string{}
	for _, h := range b.c.Hosts {
		s, err := b.c.Digest(context.Background(), h)
		require.NoError(t, err)
		d[h.Name] = s
	}
	return d
}

// command is the binary with the bed's connection flags; the password
// comes from MKE_PASSWORD, and HOME and XDG_STATE_HOME are the test's.
func (b *cliBed) command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	args = append(args, "--hosts-path", b.hostsPath, "--known-hosts", b.knownHosts)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "MKE_PASSWORD="+mke3api.DefaultAdminPassword, "HOME="+filepath.Join(b.dir, "home"),
		"XDG_STATE_HOME="+filepath.Join(b.dir, "state"), "NO_COLOR=1")
	return cmd
}

func (b *cliBed) upgradeArgs(extra ...string) []string {
	return append([]string{"upgrade", "--mke3-host", b.c.API.URL, "--mke3-ca-cert", b.caPath,
		"--mke3-admin-username", mke3api.DefaultAdminUsername, "--external-address", "mke.example.com",
		// the test bed's managers run no real ucp-kv yet, and its k0s no API
		// (so no cluster for verify to check)
		"--no-carry", "--skip-config-store", "--skip-join-check", "--skip-verify"}, extra...)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	require.True(t, ok, "%v", err)
	return ee.ExitCode()
}

// requireNoSecret checks that the password is in no output and no file.
func requireNoSecret(t *testing.T, dirs []string, outputs ...string) {
	t.Helper()
	secret := mke3api.DefaultAdminPassword
	for _, o := range outputs {
		require.NotContains(t, o, secret)
	}
	for _, d := range dirs {
		n := 0
		require.NoError(t, filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			require.NotContains(t, string(b), secret, p)
			return nil
		}))
		require.NotZero(t, n, "no files in %s", d)
	}
}

func TestUpgradeDryRunChangesNothing(t *testing.T) {
	b := startCLIBed(t)
	cfgOut := filepath.Join(b.dir, "mke4.yaml")
	cmd := b.command(t, b.upgradeArgs("--dry-run", "--json", "--config-out", cfgOut)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), errb.String())
	var res runResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.Equal(t, "dry-run", res.Result)
	require.NotNil(t, res.Summary)
	assert.True(t, res.Summary.DryRun)
	assert.Equal(t, "3.8.8", res.Summary.Cleanup.MKEVersion)
	assert.Len(t, res.Summary.Hosts.Managers, 3)
	assert.NotEmpty(t, res.Plan)
	assert.FileExists(t, cfgOut)
	assert.Equal(t, b.baseline, b.digests(t), "a dry run changed a node")
	assert.NoDirExists(t, filepath.Join(b.dir, "state"), "a dry run writes no output folder")
	assert.NoDirExists(t, filepath.Join(b.dir, "home", ".mke"))
	requireNoSecret(t, nil, out.String(), errb.String())

	// and in text: the plan, then the summary
	cmd = b.command(t, b.upgradeArgs("--dry-run")...)
	text, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(text), "point of no return")
	assert.Contains(t, string(text), "Upgrade Summary\n---------------\n\nDry run: nothing was changed")
	assert.Equal(t, b.baseline, b.digests(t))

	// with --output: the plan and what the report shows, and the report
	dry := filepath.Join(b.dir, "dry")
	cmd = b.command(t, b.upgradeArgs("--dry-run", "--output", dry)...)
	o, err := cmd.CombinedOutput()
	require.NoError(t, err, string(o))
	for _, f := range []string{"plan.json", "preflight.json", "discovery.json", "conversion-report.json", "summary.txt", "report.html"} {
		assert.FileExists(t, filepath.Join(dry, f))
	}
	assert.NoFileExists(t, filepath.Join(dry, "journal.jsonl"))
	page, err := os.ReadFile(filepath.Join(dry, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "Dry run: the plan below was made and nothing was changed.")
	assert.Equal(t, b.baseline, b.digests(t))

	// --config-out -: mke4.yaml alone on stdout, the plan and summary on
	// stderr (F1)
	cmd = b.command(t, b.upgradeArgs("--dry-run", "--config-out", "-")...)
	var yamlOut, rest bytes.Buffer
	cmd.Stdout, cmd.Stderr = &yamlOut, &rest
	require.NoError(t, cmd.Run(), rest.String())
	cfg, err := mke4.Unmarshal(yamlOut.Bytes())
	require.NoError(t, err, yamlOut.String())
	assert.NotEmpty(t, cfg.Spec.APIServer.ExternalAddress)
	assert.Contains(t, rest.String(), "Upgrade Summary")
	assert.NotContains(t, yamlOut.String(), "Upgrade Summary")
}

func TestUpgradeCompletesAndResumeIsANoop(t *testing.T) {
	b := startCLIBed(t)
	outDir := filepath.Join(b.dir, "run")
	cmd := b.command(t, b.upgradeArgs("--force", "--skip-rbac", "--k0s-binary", b.k0sPath, "--output", outDir)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	require.NoError(t, cmd.Run(), errb.String())
	t.Logf("upgrade of 5 simulated nodes through the binary: %v", time.Since(start).Round(time.Millisecond))
	assert.Contains(t, errb.String(), "Step 1 of ")
	assert.Contains(t, errb.String(), "write-outputs ... done (")
	assert.Contains(t, out.String(), "MKE 3.8.8 was uninstalled from the cluster successfully.")
	for _, f := range []string{"summary.txt", "summary.json", logFileName, "journal.jsonl", "mke4.yaml", "plan.json", "preflight.json", "report.html"} {
		assert.FileExists(t, filepath.Join(outDir, f))
	}
	saved, err := os.ReadFile(filepath.Join(outDir, "summary.txt"))
	require.NoError(t, err)
	assert.Contains(t, out.String(), string(saved))
	assert.FileExists(t, filepath.Join(b.dir, "home", ".mke", "mke.kubeconf"))
	requireNoSecret(t, []string{outDir}, out.String(), errb.String())

	// resume of a finished run: nothing to do, same summary
	cmd = b.command(t, "resume", "--output", outDir, "--k0s-binary", b.k0sPath, "--json")
	o, err := cmd.Output()
	require.NoError(t, err)
	var res runResult
	require.NoError(t, json.Unmarshal(o, &res), string(o))
	assert.Equal(t, "upgraded", res.Result)
	require.NotNil(t, res.Summary)
	assert.False(t, res.Summary.Configuration.AllConverted, "the resumed summary still lists what was not converted")
}

// Calico still on etcd blocks the upgrade: exit 3, nothing changed, and
// the blockers in the JSON result.
func TestUpgradeBlockedExitsThree(t *testing.T) {
	b := startCLIBedKDD(t, false)
	cmd := b.command(t, b.upgradeArgs("--force", "--json", "--k0s-binary", b.k0sPath, "--output", filepath.Join(b.dir, "run"))...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	assert.Equal(t, 3, exitCode(t, cmd.Run()), errb.String())
	assert.Contains(t, errb.String(), "Nothing was changed.")
	var res runResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.Equal(t, "blocked", res.Result)
	assert.NotEmpty(t, res.Blockers)
	assert.Equal(t, b.baseline, b.digests(t))
	page, err := os.ReadFile(filepath.Join(b.dir, "run", "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "Blocked: the pre-upgrade checks found blockers")
}

// Ctrl-C in the middle of the upgrade: the run is rolled back and every
// node is back in its MKE 3 state.
func TestUpgradeInterruptRollsBack(t *testing.T) {
	b := startCLIBed(t)
	// a slow worker join gives the interrupt a step to land in
	require.NoError(t, b.c.SetFault(t.Context(), b.c.Host("worker-1"), testbed.Fault{Match: "k0s install", HangSeconds: 10, Times: 1}))
	outDir := filepath.Join(b.dir, "run")
	cmd := b.command(t, b.upgradeArgs("--force", "--k0s-binary", b.k0sPath, "--output", outDir, "--log-level", "debug")...)
	var out bytes.Buffer
	errb := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errb
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errb.String(), "k0s-worker on "+b.c.Host("worker-1").Address) {
		require.True(t, time.Now().Before(deadline), "no k0s-worker step: %s", errb.String())
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	stderr := errb.String()
	assert.Equal(t, 1, exitCode(t, err), stderr)
	for _, want := range []string{"Aborting upgrade due to signal interrupt", "Initiating rollback of MKE to version: 3.8.8",
		"[Rollback]: undo k0s-controller on", "Rollback to MKE version 3.8.8 completed successfully", "Upgrade failed due to error: ",
		"Debug log: " + filepath.Join(outDir, logFileName)} {
		assert.Contains(t, stderr, want)
	}
	assert.Equal(t, b.baseline, b.digests(t), "a node differs from its MKE 3 state after the rollback")
	assertFailureSummary(t, outDir, out.String(), summary.RolledBack, "interrupt", "Rollback to MKE version 3.8.8 completed successfully.")
	log, err := os.ReadFile(filepath.Join(outDir, logFileName))
	require.NoError(t, err)
	assert.Contains(t, string(log), "level=DEBUG", "the debug log is kept at debug")
	requireNoSecret(t, []string{outDir}, out.String(), stderr)

	// mke-migrate rollback of the rolled-back run prints and saves the
	// summary of a rolled-back run too.
	require.NoError(t, os.Remove(filepath.Join(outDir, "summary.txt")))
	cmd = b.command(t, "rollback", "--output", outDir)
	var rout, rerr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &rout, &rerr
	require.NoError(t, cmd.Run(), rerr.String())
	assertFailureSummary(t, outDir, rout.String(), summary.RolledBack, "mke-migrate rollback", "Rollback to MKE version 3.8.8 completed successfully.")
	assert.Equal(t, b.baseline, b.digests(t))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type upgradeEvent struct {
	kind       string
	i, n       int
	step, host string
	took       time.Duration
	err        error
}

func (e upgradeEvent) event() plan.Event {
	return plan.Event{Kind: plan.EventKind(e.kind), Index: e.i, Total: e.n, Step: e.step, Host: e.host, Took: e.took, Err: e.err}
}
