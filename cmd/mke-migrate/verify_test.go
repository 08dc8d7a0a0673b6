package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/verify"
)

// mke-migrate verify on an output folder and a real API server: exit 0
// when the cluster is what the folder recorded, 3 (text and JSON naming
// the object) once a recorded object is gone; 2 for a folder that is not
// a run's.
func TestVerifyCommand(t *testing.T) {
	plane := kubetest.StartT(t, kubetest.Options{})
	cs, err := plane.Client()
	require.NoError(t, err)
	ctx := t.Context()
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"zone": "a"}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-settings"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	out := t.TempDir()
	writeFile(t, out, "discovery.json", `{"facts":{"10.0.0.1:22":{"hostname":"node-a"}},"labels":{"10.0.0.1:22":{"zone":"a"}},"carry":{}}`)
	inv, err := verify.TakeInventory(ctx, plane.Config, verify.InventoryOptions{})
	require.NoError(t, err)
	b, err := inv.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, verify.InventoryFile), b, 0o600))

	args := []string{"verify", "--output", out, "--kubeconfig", plane.Kubeconfig, "--system-namespace", "kube-system"}
	code, stdout, stderr := runCLI(t, args...)
	require.Equal(t, 0, code, stdout+stderr)
	assert.Contains(t, stdout, "verify: all ")
	assert.Contains(t, stdout, "0 pods and 0 workloads: nothing runs there to check")

	require.NoError(t, cs.CoreV1().ConfigMaps("default").Delete(ctx, "app-settings", metav1.DeleteOptions{}))
	code, stdout, stderr = runCLI(t, args...)
	require.Equal(t, 3, code, stdout+stderr)
	assert.Contains(t, stdout, "missing: default/app-settings")
	code, stdout, stderr = runCLI(t, append(args, "--json")...)
	require.Equal(t, 3, code, stderr)
	var doc struct {
		OK     bool           `json:"ok"`
		Checks []verify.Check `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc), stdout)
	assert.False(t, doc.OK)
	assert.NotEmpty(t, doc.Checks)

	code, _, stderr = runCLI(t, "verify", "--output", t.TempDir(), "--kubeconfig", plane.Kubeconfig)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "output folder")
}

// The upgrade verifies by default. On the fast bed k0s serves no API and
// prints an admin kubeconfig no client can use: the upgrade itself
// finishes, its verify step fails, and the command says so (exit 3,
// "verify-failed" with the report, verify.txt, a support bundle), rolls
// nothing back, and resume verifies again.
func TestUpgradeVerifyFailureExitsThree(t *testing.T) {
	b := startCLIBed(t)
	outDir := filepath.Join(b.dir, "run")
	var args []string
	for _, a := range b.upgradeArgs("--force", "--skip-rbac", "--json", "--k0s-binary", b.k0sPath, "--output", outDir) {
		if a != "--skip-verify" {
			args = append(args, a)
		}
	}
	cmd := b.command(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.Equal(t, 3, exitCode(t, cmd.Run()), errb.String())
	assert.Contains(t, errb.String(), "The upgrade finished, but the new cluster fails verification")
	assert.Contains(t, errb.String(), "Nothing was rolled back")
	assert.Contains(t, errb.String(), "Support bundle: ")
	assert.Contains(t, errb.String(), "FAIL  nodes")
	var res runResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.Equal(t, "verify-failed", res.Result)
	assert.False(t, res.RolledBack)
	require.NotNil(t, res.Verify)
	assert.False(t, res.Verify.OK())
	assert.FileExists(t, filepath.Join(outDir, "verify.txt"))
	assert.FileExists(t, filepath.Join(outDir, "verify.json"))

	cmd = b.command(t, "resume", "--output", outDir, "--k0s-binary", b.k0sPath, "--json")
	out.Reset()
	cmd.Stdout = &out
	require.Equal(t, 3, exitCode(t, cmd.Run()))
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.Equal(t, "verify-failed", res.Result)
}

// --verify, the opt-in of before, is accepted and said to do nothing;
// with --skip-verify it is a contradiction.
func TestVerifyFlagDeprecated(t *testing.T) {
	dir := t.TempDir()
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 127.0.0.1\n    port: 1\n    role: manager\n")
	base := []string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "a", "--external-address", "x", "--dry-run", "--verify"}
	code, _, stderr := runCLI(t, append(base, "--skip-verify")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "contradict")
	_, _, stderr = runCLI(t, append(base, "--mke3-host", "127.0.0.1:1", "--mke3-admin-password", "x")...)
	assert.Contains(t, stderr, "--verify is deprecated and does nothing")
}
