package main

import (
	"encoding/json"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	code, stdout, stderr := runCLI(t, "version")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "mke-migrate "), stdout)
	assert.Contains(t, stdout, runtime.Version())

	code, stdout, _ = runCLI(t, "version", "--json")
	require.Equal(t, 0, code)
	var v struct{ Version, GoVersion, Platform string }
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.NotEmpty(t, v.Version)
	assert.Equal(t, runtime.Version(), v.GoVersion)
	assert.Equal(t, runtime.GOOS+"/"+runtime.GOARCH, v.Platform)
}

func TestCompletion(t *testing.T) {
	tests := map[string]string{
		"bash": "complete -o bashdefault -o default -F _mke_migrate_complete mke-migrate",
		"zsh":  "#compdef mke-migrate",
		"fish": "complete -c mke-migrate",
	}
	for shell, want := range tests {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "completion", shell)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, want)
			if shell == "fish" {
				assert.Contains(t, stdout, "upgrade", "the fish script lists the commands")
			}
		})
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		code, _, stderr := runCLI(t, args...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, stderr, "Error:")
	}
}

// The completion scripts rely on the framework's hidden flag, which reads
// os.Args: so through the real binary.
func TestCompletionCandidates(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "--generate-bash-completion").Output()
	require.NoError(t, err)
	for _, c := range []string{"upgrade", "resume", "rollback", "demo", "version", "completion"} {
		assert.Contains(t, strings.Fields(string(out)), c)
	}
	// a command's flags, before its required flags are given
	out, err = exec.Command(bin, "upgrade", "--dry", "--generate-bash-completion").Output()
	require.NoError(t, err)
	assert.Equal(t, "--dry-run", strings.TrimSpace(string(out)))
}

func TestHelpOfNewCommands(t *testing.T) {
	for _, cmd := range []string{"upgrade", "resume", "rollback", "demo", "version", "completion"} {
		code, stdout, _ := runCLI(t, cmd, "--help")
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, stdout, "EXIT CODES", cmd)
		assert.Contains(t, stdout, "3  something blocks the upgrade", cmd)
	}
	_, stdout, _ := runCLI(t, "upgrade", "--help")
	for _, f := range []string{"--hosts-path", "--mke3-admin-username", "--mke3-admin-password", "--mke3-admin-password-stdin", "--mke3-host",
		"--mke3-ca-cert", "--mke3-ca-fingerprint", "--mke3-insecure", "--external-address", "--config-out", "--image-registry",
		"--chart-registry", "--mke3-airgapped", "--dry-run", "--force", "--output", "--log-level", "--timeout", "--k0s-binary",
		"--worker-batch", "--concurrency", "--known-hosts", "--ssh-insecure-ignore-host-key", "--json", "--skip-join-check", "--retries"} {
		assert.Contains(t, stdout, f)
	}
	_, stdout, _ = runCLI(t, "preflight", "--help")
	for _, f := range []string{"--external-address", "--data-dir", "--no-carry", "--skip-join-check"} {
		assert.Contains(t, stdout, f)
	}
}
