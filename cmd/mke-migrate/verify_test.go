package main

import (
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
