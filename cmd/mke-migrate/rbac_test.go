package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

const smallExport = `{
  "apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport",
  "users": [{"id": "u1", "name": "alice", "isAdmin": false, "isActive": true}],
  "orgs": [{"id": "o1", "name": "Acme"}],
  "teams": [{"id": "t1", "orgID": "o1", "name": "Dev Ops", "members": ["u1"]}],
  "roles": [{"id": "viewonly", "name": "View Only", "system": true}],
  "grants": [{"subjectID": "t1", "roleID": "viewonly", "objectID": "cli-ns", "objectType": "namespace"}]
}`

func TestRBACTranslateFromFile(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "export.json", smallExport)

	code, stdout, stderr := runCLI(t, "rbac", "translate", "--from", in)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"kind: ClusterRole", "name: acme-org", "name: dev-ops-team", "name: dev-ops-team:view", "namespace: cli-ns"} {
		assert.Contains(t, stdout, want)
	}
	assert.Contains(t, stderr, "Users found")

	code, stdout, _ = runCLI(t, "rbac", "translate", "--from", in, "-o", "json", "--report-format", "json", "--report-out", filepath.Join(dir, "report.json"))
	require.Equal(t, 0, code)
	var list struct {
		Kind  string
		Items []json.RawMessage
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &list))
	assert.Equal(t, "List", list.Kind)
	assert.NotEmpty(t, list.Items)
	var rep rbac.Report
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, 1, rep.Teams.Translated)

	// structure only: no grant bindings
	code, stdout, _ = runCLI(t, "rbac", "translate", "--from", in, "--structure-only")
	require.Equal(t, 0, code)
	assert.NotContains(t, stdout, "dev-ops-team:view")

	// bad input and bad flags: exit 2
	bad := writeFile(t, dir, "bad.json", `{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport", "users": [{"id": 1}]}`)
	code, _, stderr = runCLI(t, "rbac", "translate", "--from", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "bad.json")
	code, _, _ = runCLI(t, "rbac", "translate", "--from", in, "--collection-grants", "everything")
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, "rbac", "translate", "--from", in, "--permission", "viewonly")
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, "rbac", "translate")
	assert.Equal(t, 2, code)

	// two teams that become one name: exit 2, naming both, and --rename is the way out
	clash := strings.Replace(smallExport, `"teams": [`, `"teams": [{"id": "t2", "orgID": "o1", "name": "dev.ops", "members": ["u1"]},`, 1)
	cf := writeFile(t, dir, "clash.json", clash)
	code, _, stderr = runCLI(t, "rbac", "translate", "--from", cf)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "Dev Ops")
	assert.Contains(t, stderr, "dev.ops")
	code, stdout, stderr = runCLI(t, "rbac", "translate", "--from", cf, "--rename", "team:t2=devops-two")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "devops-two-team")
}

func TestRBACExportAndApply(t *testing.T) {
	r, err := mke3api.Start(mke3api.Options{Seed: mke3api.GenerateSeed(20, 2, 3, 4)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	ca := writeFile(t, t.TempDir(), "ca.pem", string(r.CAPEM))
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	dir := t.TempDir()
	export := filepath.Join(dir, "export.json")

	code, _, stderr := runCLI(t, simArgs(r, ca, "rbac", "export", "-o", export)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "exported")
	data, err := os.ReadFile(export)
	require.NoError(t, err)
	m, err := rbac.DecodeExport(export, data)
	require.NoError(t, err)
	assert.NotEmpty(t, m.Teams)

	plane := kubetest.StartT(t, kubetest.Options{})
	code, stdout, stderr := runCLI(t, "rbac", "apply", "--from", export, "--kubeconfig", plane.Kubeconfig, "--dry-run")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dry run: nothing stored")
	cs, err := plane.Client()
	require.NoError(t, err)
	crs, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{LabelSelector: rbac.LabelManagedBy + "=" + rbac.ManagedByValue})
	require.NoError(t, err)
	assert.Empty(t, crs.Items, "dry run stored roles")

	code, stdout, stderr = runCLI(t, "rbac", "apply", "--from", export, "--kubeconfig", plane.Kubeconfig, "-o", "json")
	require.Equal(t, 0, code, stderr)
	var out struct{ Apply kube.ApplyResult }
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	assert.NotEmpty(t, out.Apply.Created)

	code, stdout, _ = runCLI(t, "rbac", "apply", "--from", export, "--kubeconfig", plane.Kubeconfig)
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "0 created, 0 updated")
	assert.Contains(t, stdout, "unchanged")

	code, _, stderr = runCLI(t, "rbac", "apply", "--from", export, "--kubeconfig", filepath.Join(dir, "missing"))
	assert.Equal(t, 2, code, stderr)
}
