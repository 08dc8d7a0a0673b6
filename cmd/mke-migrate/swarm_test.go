package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestSwarmExportWritesManifestsAndExitsThree(t *testing.T) {
	r, ca := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	out := filepath.Join(t.TempDir(), "swarm")
	code, stdout, stderr := runCLI(t, simArgs(r, ca, "swarm", "export", "--out", out)...)
	require.Equal(t, 3, code, stderr)
	assert.Contains(t, stdout, "6 of 6 Swarm services exported to "+out+", 6 need attention")
	assert.Contains(t, stdout, "shop_db: Spec.TaskTemplate.ContainerSpec.Secrets[0]: Secret db-password written without its value")
	for _, f := range []string{"default.yaml", "shop.yaml", "report.yaml", "report.txt"} {
		st, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	shop, err := os.ReadFile(filepath.Join(out, "shop.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(shop), "kind: Deployment")
	assert.NotContains(t, string(shop), "seeded-db-password", "a secret value reached the manifests")

	// Again into the same folder: replaced, JSON this time, the YAML gone.
	code, _, stderr = runCLI(t, simArgs(r, ca, "swarm", "export", "--out", out, "-o", "json")...)
	require.Equal(t, 3, code, stderr)
	_, err = os.Stat(filepath.Join(out, "shop.yaml"))
	assert.True(t, os.IsNotExist(err), "the previous run's YAML is left")
	_, err = os.Stat(filepath.Join(out, "shop.json"))
	assert.NoError(t, err)
}

func TestSwarmExportRefusesAFolderItDidNotWrite(t *testing.T) {
	r, ca := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	out := t.TempDir()
	writeFile(t, out, "precious.txt", "mine")
	code, _, stderr := runCLI(t, simArgs(r, ca, "swarm", "export", "--out", out)...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "precious.txt")
	b, err := os.ReadFile(filepath.Join(out, "precious.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))
}

func TestSwarmExportUsageErrors(t *testing.T) {
	r, ca := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	for _, args := range [][]string{
		{"-o", "xml"},
		{"--nodeport-range", "30000"},
		{"--nodeport-range", "32767-30000"},
		{"--volume-size", "big"},
		{"--namespace", "Not_A_Name"},
	} {
		code, _, stderr := runCLI(t, simArgs(r, ca, append([]string{"swarm", "export", "--out", t.TempDir()}, args...)...)...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.True(t, strings.TrimSpace(stderr) != "", "%v: no message", args)
	}
}

// A user who is not an admin gets MKE's 403, exit 1 with the API's words.
func TestSwarmExportNeedsAnAdmin(t *testing.T) {
	r, err := mke3api.Start(mke3api.Options{Seed: mke3api.Seed{Users: []mke3api.User{{Name: "dev", Password: "devdevdev"}}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, r.CAPEM, 0o644))
	t.Setenv("MKE_PASSWORD", "devdevdev")
	args := []string{"swarm", "export", "--out", t.TempDir(), "--mke3-host", strings.TrimPrefix(r.URL, "https://"), "--mke3-admin-username", "dev", "--mke3-ca-cert", ca}
	code, _, stderr := runCLI(t, args...)
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "403")
}
