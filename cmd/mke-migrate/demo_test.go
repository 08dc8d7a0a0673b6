package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/internal/testbin"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
	"github.com/mke-migrate/mke-migrate/verify"
)

// startTestDemoBed starts the demo's realistic bed (1 manager and 2
// workers: the carry, a kubelet profile and a plain worker) for tests
// that run the demo on it in turn.
func startTestDemoBed(t *testing.T) *demoBed {
	t.Helper()
	needTestbed(t)
	for _, b := range testbin.All() {
		kubetest.NeedBinary(t, b)
	}
	var progress bytes.Buffer
	b, err := startDemoBed(t.Context(), &progress, t.TempDir(), 1, 2, nil)
	require.NoError(t, err, progress.String())
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// runDemoOn runs the demo command in this process on bed.
func runDemoOn(t *testing.T, bed *demoBed, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	start := time.Now()
	code = run(withDemoBed(t.Context(), bed), append([]string{"mke-migrate", "demo"}, args...), strings.NewReader(""), &out, &errb)
	t.Logf("mke-migrate demo %v: exit %d in %v", args, code, time.Since(start).Round(time.Millisecond))
	requireNoSecret(t, nil, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// decodeDemo decodes demo --json's stdout: exactly one JSON document.
func decodeDemo(t *testing.T, stdout string) demoResult {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var r demoResult
	require.NoError(t, dec.Decode(&r), "stdout: %s", stdout)
	require.False(t, dec.More(), "more than one JSON document on stdout: %s", stdout)
	// the documented shape, read without the demo's own types
	var raw struct {
		Kubernetes struct {
			Before map[string]int `json:"before"`
			After  map[string]int `json:"after"`
		} `json:"kubernetes"`
		RBAC struct {
			Applied *int `json:"applied"`
		} `json:"rbac"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &raw))
	require.NotEmpty(t, raw.Kubernetes.Before)
	require.NotEmpty(t, raw.Kubernetes.After)
	require.NotNil(t, raw.RBAC.Applied)
	return r
}

// The demo on one realistic bed, in the order that keeps it usable: an
// unknown step (nothing changes), --fail-at (the rollback restores MKE 3),
// then the whole upgrade.
func TestDemo(t *testing.T) {
	bed := startTestDemoBed(t)
	// every kind the test bed seeds, by its Kind
	seeded := []string{"Namespace", "CustomResourceDefinition", "Node", "ServiceAccount", "Secret", "ConfigMap", "Service",
		"PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "DaemonSet", "Role", "RoleBinding",
		"ClusterRole", "ClusterRoleBinding", "Widget", "IPPool", "FelixConfiguration"}

	t.Run("unknown step", func(t *testing.T) {
		code, _, stderr := runDemoOn(t, bed, "--fail-at", "k0s-everything")
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, `no step "k0s-everything"`)
		assert.Contains(t, stderr, "save-inputs, kube-inventory, swarm-export, mke3-backup, k0s-upload, swarm-drain, mke3-stop, etcd-snapshot, k0s-binary, k0s-restore, k0s-controller")
	})

	t.Run("fail-at rolls back and leaves support bundles", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		code, stdout, stderr := runDemoOn(t, bed, "--json", "--fail-at", "k0s-worker", "--output", dir)
		require.Equal(t, 1, code, stderr)
		r := decodeDemo(t, stdout)
		assert.Equal(t, "rolled-back", r.Result)
		assert.Equal(t, "k0s-worker", r.FailAt)
		assert.Contains(t, r.Error, "injected failure")
		k := r.Kubernetes
		assert.Equal(t, "mke3", k.AfterAPI)
		for _, kind := range seeded {
			assert.Positive(t, k.Before[kind], "%s was not seeded", kind)
		}
		assert.Equal(t, k.Before, k.After, "MKE 3's objects per kind after the rollback")
		assert.Empty(t, k.Missing)
		assert.Empty(t, k.Replaced)
		assert.Empty(t, k.Changed, "UID, resourceVersion and content after the rollback")
		assert.Contains(t, stderr, "MKE 3 is restored: its API serves the same")
		assert.Contains(t, stderr, "Rollback to MKE version 3.8.8 completed successfully")
		require.NotNil(t, r.Nodes)
		assert.True(t, r.Nodes.Same, "nodes not back in their MKE 3 state: %v", r.Nodes.Different)
		assert.Contains(t, stderr, "Every node is back in its MKE 3 state.")
		assertDemoBundles(t, dir, r, stderr)
		require.NotNil(t, r.Summary)
		assert.Equal(t, summary.RolledBack, r.Summary.Outcome)
		assertFailureSummary(t, dir, stderr, summary.RolledBack, "injected failure", "Rollback to MKE version 3.8.8 completed successfully.")
		requireNoSecret(t, []string{dir})
	})

	t.Run("upgrade carries the cluster", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		code, stdout, stderr := runDemoOn(t, bed, "--json", "--output", dir)
		require.Equal(t, 0, code, stderr)
		// MKE 3's Kubernetes API answers through its client bundle, as on a
		// real cluster: preflight has nothing to warn about
		assert.NotContains(t, stderr, preflight.IDKubeAPI)
		assertDemoVerify(t, dir)
		r := decodeDemo(t, stdout)
		assert.Equal(t, "upgraded", r.Result)
		assert.Empty(t, r.Error)
		k := r.Kubernetes
		assert.Equal(t, "k0s", k.AfterAPI)
		for _, kind := range seeded {
			if assert.Positive(t, k.Before[kind], "%s was not seeded", kind) {
				assert.Equal(t, k.Before[kind], k.After[kind], "%s: MKE 3 before, k0s after", kind)
			}
		}
		assert.Empty(t, k.Missing)
		assert.Empty(t, k.Replaced)
		assert.Positive(t, r.RBAC.Applied)
		assert.Equal(t, r.RBAC.Translated, r.RBAC.Applied)
		require.NotNil(t, r.Summary)
		// the MKE 3 API's accounts (testbed.ClusterOptions.APISeed)
		assert.Equal(t, 2, r.Summary.Authorization.OrgsFound)
		assert.Equal(t, 4, r.Summary.Authorization.TeamsFound)
		assert.Equal(t, summary.Succeeded, r.Summary.Outcome)
		require.NotNil(t, r.ConfigStore)
		assert.True(t, r.ConfigStore.Present, "mke4.yaml stored in k0s")
		assert.Empty(t, r.Skipped, "the demo leaves no step out")
		assert.Empty(t, r.SupportBundles)
		assert.Positive(t, r.UpgradeSeconds)
		assert.GreaterOrEqual(t, r.Seconds, r.UpgradeSeconds)
		assert.Equal(t, demoCluster{MKEVersion: "3.8.8", Managers: 1, Workers: 2}, r.Cluster)
		// the progress and the table on stderr, nothing but JSON on stdout
		for _, want := range []string{"== mke-migrate convert", "== mke-migrate preflight", "== mke-migrate upgrade",
			"etcd-snapshot on ", "k0s-restore on ", "rbac-apply ... done", "mke4-config ... done", "write-outputs ... done (", "verify ... done (",
			"KIND", "MKE 3 (before)", "k0s (after)", "All ", " objects carried: k0s serves each under its MKE 3 UID.",
			"Role controller", "Role worker", "Upgrade Summary\n", "MKE3 Cleanup"} {
			assert.Contains(t, stderr, want)
		}
	})
}

// assertDemoVerify: the upgrade's verify step asked k0s's authorizer, for
// each of the demo's 2 orgs and 4 teams, whether a member may do what its
// grant gives (allowed) and something it does not give (denied), and
// wrote the count of reviews in verify.json.
func assertDemoVerify(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, upgrade.VerifyJSONFile))
	require.NoError(t, err, "verify.json in the output folder")
	var rep struct {
		OK                   bool           `json:"ok"`
		SubjectAccessReviews int            `json:"subjectAccessReviews"`
		Checks               []verify.Check `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.True(t, rep.OK, "verify failed: %s", b)
	may, mayNot := map[string]int{}, map[string]int{}
	for _, c := range rep.Checks {
		if c.ID != verify.CheckRBACAccess {
			continue
		}
		assert.True(t, c.OK && !c.Skipped, "%s: %s", c.Subject, c.Message)
		unit, what, ok := strings.Cut(c.Subject, ": ")
		require.True(t, ok, "subject %q", c.Subject)
		if strings.Contains(what, " may not ") {
			mayNot[unit]++
		} else {
			may[unit]++
		}
	}
	units := []string{"org org001-org", "org org002-org", "team org001-team001-team", "team org001-team002-team", "team org002-team001-team", "team org002-team002-team"}
	for _, u := range units {
		assert.Positive(t, may[u], "no allowed review for %s", u)
		assert.Positive(t, mayNot[u], "no negative control for %s", u)
	}
	assert.GreaterOrEqual(t, rep.SubjectAccessReviews, 2*len(units))
	if txt, err := os.ReadFile(filepath.Join(dir, upgrade.VerifyTextFile)); err == nil {
		t.Logf("verify.txt:\n%s", txt)
	}
}

// assertDemoBundles: the run left a support bundle from before and one
// from after the rollback in its output folder, named them, and they hold
// the nodes' MKE 3 containers and the run's files, never the admin
// password.
func assertDemoBundles(t *testing.T, dir string, r demoResult, stderr string) {
	t.Helper()
	require.Len(t, r.SupportBundles, 2)
	for i, when := range []string{"before-rollback", "after-rollback"} {
		ms, err := filepath.Glob(filepath.Join(dir, "support-bundle-"+when+"-*.tar.gz"))
		require.NoError(t, err)
		require.Len(t, ms, 1, when)
		assert.Equal(t, ms[0], r.SupportBundles[i])
		assert.Contains(t, stderr, "Support bundle: "+ms[0])
		fi, err := os.Stat(ms[0])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		files := bundleFiles(t, ms[0])
		var containers, facts bool
		for name, data := range files {
			assert.NotContains(t, data, mke3api.DefaultAdminPassword, name)
			containers = containers || (strings.HasSuffix(name, "/mke3-containers.txt") && strings.Contains(data, "ucp-"))
			facts = facts || (strings.HasSuffix(name, "/facts.json") && strings.Contains(data, "hostname"))
		}
		assert.True(t, containers, "no MKE 3 containers in %s", when)
		assert.True(t, facts, "no facts in %s", when)
		for _, f := range []string{"manifest.json", "local/journal.jsonl", "local/discovery.json"} {
			assert.Contains(t, files, f, when)
		}
	}
}

// assertFailureSummary checks the summary of a failed or rolled-back run:
// in out under the documented heading, and in summary.txt and
// summary.json in the output folder dir.
func assertFailureSummary(t *testing.T, dir, out string, outcome summary.Outcome, cause, verdict string) {
	t.Helper()
	for _, want := range []string{"Upgrade Summary\n", "Upgrade failed due to error: ", cause, verdict} {
		assert.Contains(t, out, want, "the summary")
	}
	txt, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	require.NoError(t, err, "summary.txt in the output folder")
	assert.Contains(t, string(txt), verdict)
	assert.Contains(t, out, string(txt), "the summary printed is the one saved")
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err, "summary.json in the output folder")
	var got summary.Summary
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, outcome, got.Outcome)
	assert.Contains(t, got.Error, cause)
}

// Bad flags are refused before anything starts (exit 2).
func TestDemoFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no workers":       {[]string{"--workers", "0"}, "--workers: 0 is not from 1 to 20"},
		"too many workers": {[]string{"--workers", "21"}, "--workers: 21 is not from 1 to 20"},
		"even managers":    {[]string{"--managers", "2"}, "--managers: 2 is not 1, 3 or 5"},
		"log level":        {[]string{"--log-level", "loud"}, "--log-level"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			code, stdout, stderr := runCLI(t, append([]string{"demo"}, tc.args...)...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout)
		})
	}
}

// With the build on first use turned off and the binaries missing, the
// demo says what is missing and how to get it (exit 1), before it starts
// any node.
func TestDemoNoTestbinBuild(t *testing.T) {
	needTestbed(t)
	if os.Geteuid() != 0 {
		t.Skip("the demo needs root")
	}
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv(testbin.EnvAssets, "")
	t.Setenv(testbin.EnvRoot, t.TempDir()) // an empty cache
	t.Setenv(testbin.EnvNoBuild, "1")
	code, stdout, stderr := runCLI(t, "demo", "--json")
	assert.Equal(t, 1, code, stderr)
	// one JSON document all the same, saying why
	var r demoResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout)
	assert.Equal(t, "failed", r.Result)
	assert.Contains(t, r.Error, testbin.EnvNoBuild+" is set")
	for _, want := range []string{"missing", "etcd", testbin.EnvNoBuild + " is set", "hack/testbin/build.sh", "unset " + testbin.EnvNoBuild} {
		assert.Contains(t, stderr, want)
	}
	assert.NotContains(t, stderr, "Starting a simulated")
}
