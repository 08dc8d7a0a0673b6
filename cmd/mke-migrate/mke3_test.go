package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func startSim(t *testing.T) (*mke3api.Running, string) {
	t.Helper()
	r, err := mke3api.Start(mke3api.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, r.CAPEM, 0o644))
	return r, ca
}

func simArgs(r *mke3api.Running, ca string, cmd ...string) []string {
	return append(cmd, "--mke3-host", strings.TrimPrefix(r.URL, "https://"), "--mke3-admin-username", mke3api.DefaultAdminUsername, "--mke3-ca-cert", ca)
}

func TestMKE3ConfigDownload(t *testing.T) {
	r, ca := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	out := filepath.Join(t.TempDir(), "mke3.toml")
	code, stdout, stderr := runCLI(t, simArgs(r, ca, "mke3", "config", "-o", out)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, r.ConfigTOML(), string(b))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	code, stdout, _ = runCLI(t, simArgs(r, ca, "mke3", "config")...)
	require.Equal(t, 0, code)
	assert.Equal(t, r.ConfigTOML(), stdout)

	// The download feeds convert.
	code, _, stderr = runCLI(t, "convert", "--mke3-config", out, "--config-out", filepath.Join(t.TempDir(), "mke4.yaml"))
	assert.Equal(t, 3, code, "the simulator starts on etcd: blocking")
	assert.Contains(t, stderr, "not kdd backend for calico")
}

func TestCalicoKDDCheckAndSwitch(t *testing.T) {
	r, ca := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)

	code, stdout, _ := runCLI(t, simArgs(r, ca, "calico-kdd", "--check")...)
	assert.Equal(t, 3, code)
	assert.Equal(t, "Calico datastore: etcd\n", stdout)

	// No terminal and no --force: refused, nothing changed.
	before := r.ConfigTOML()
	code, _, stderr := runCLI(t, simArgs(r, ca, "calico-kdd")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "cannot be undone")
	assert.Contains(t, stderr, "--force")
	assert.Equal(t, before, r.ConfigTOML())

	code, stdout, stderr = runCLI(t, simArgs(r, ca, "calico-kdd", "--force")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Calico datastore: kdd (Calico datastore upgrade from etcd to kdd successful)")
	assert.Equal(t, strings.Replace(before, "calico_kdd = false", "calico_kdd = true", 1), r.ConfigTOML())

	code, stdout, _ = runCLI(t, simArgs(r, ca, "calico-kdd", "--check")...)
	assert.Equal(t, 0, code)
	assert.Equal(t, "Calico datastore: kdd\n", stdout)
	code, stdout, _ = runCLI(t, simArgs(r, ca, "calico-kdd", "--force")...)
	assert.Equal(t, 0, code, "already on KDD: nothing to do")
	assert.Equal(t, "Calico datastore: kdd\n", stdout)
}

func TestMKE3PasswordSourcesAndSecrecy(t *testing.T) {
	r, ca := startSim(t)
	var out, errb strings.Builder
	// From standard input.
	code := run(t.Context(), append([]string{"mke-migrate"}, simArgs(r, ca, "calico-kdd", "--check", "--mke3-admin-password-stdin", "-l", "debug")...),
		strings.NewReader(mke3api.DefaultAdminPassword+"\n"), &out, &errb)
	assert.Equal(t, 3, code, errb.String())
	assert.NotContains(t, out.String()+errb.String(), mke3api.DefaultAdminPassword)

	// Wrong password: a usage error that does not echo it.
	t.Setenv("MKE_PASSWORD", "not-the-Passw0rd")
	code, stdout, stderr := runCLI(t, simArgs(r, ca, "mke3", "config", "-l", "debug")...)
	assert.Equal(t, 2, code)
	assert.NotContains(t, stdout+stderr, "not-the-Passw0rd")
	for _, tok := range r.IssuedTokens() {
		assert.NotContains(t, stdout+stderr, tok)
	}

	// No password anywhere, no terminal.
	t.Setenv("MKE_PASSWORD", "")
	code, _, stderr = runCLI(t, simArgs(r, ca, "mke3", "config")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "MKE_PASSWORD")

	// Both flags: refused.
	code, _, _ = runCLI(t, simArgs(r, ca, "mke3", "config", "--mke3-admin-password", "x", "--mke3-admin-password-stdin")...)
	assert.Equal(t, 2, code)
}

func TestMKE3CertificateTrust(t *testing.T) {
	r, _ := startSim(t)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	host := strings.TrimPrefix(r.URL, "https://")
	base := []string{"mke3", "config", "--mke3-host", host, "--mke3-admin-username", mke3api.DefaultAdminUsername}
	code, _, stderr := runCLI(t, base...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--mke3-ca-fingerprint")
	fp := strings.ToLower(strings.ReplaceAll(r.Fingerprint, ":", ""))
	assert.Contains(t, strings.ToLower(strings.ReplaceAll(stderr, ":", "")), fp, "the error prints the fingerprint to pin")

	code, _, stderr = runCLI(t, append(base, "--mke3-ca-fingerprint", r.Fingerprint)...)
	assert.Equal(t, 0, code, stderr)
	code, _, stderr = runCLI(t, append(base, "--mke3-insecure", "-l", "warn")...)
	assert.Equal(t, 0, code)
	assert.Contains(t, strings.ToLower(stderr), "insecure")
}

// The confirmation prompt on a real terminal: the built binary runs under
// script(1), which gives it a pseudo-terminal, and the answer is typed on it.
func TestCalicoKDDConfirmsOnATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed: the terminal prompt is not tested")
	}
	bin := filepath.Join(t.TempDir(), "mke-migrate")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	for _, tc := range []struct {
		answer   string
		switched bool
	}{{"no\n", false}, {"yes\n", true}} {
		r, ca := startSim(t)
		args := simArgs(r, ca, bin, "calico-kdd")
		cmd := exec.Command(scriptPath, "-qefc", strings.Join(args, " "), "/dev/null")
		cmd.Env = append(os.Environ(), "MKE_PASSWORD="+mke3api.DefaultAdminPassword)
		cmd.Stdin = strings.NewReader(tc.answer)
		out, err := cmd.CombinedOutput()
		text := string(out)
		assert.Contains(t, text, "Type yes to continue")
		assert.NotContains(t, text, mke3api.DefaultAdminPassword)
		ds := strings.Contains(r.ConfigTOML(), "calico_kdd = true")
		assert.Equal(t, tc.switched, ds, "answer %q: %s", tc.answer, text)
		if tc.switched {
			assert.NoError(t, err, text)
		} else {
			assert.Error(t, err, "a refused confirmation exits non-zero")
		}
	}
}
