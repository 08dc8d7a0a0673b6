package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// F9 (issue 14): the debug log followed a symbolic link, and a second run
// on a locked output folder appended to the first run's log before it
// found the lock. Each run here would log (connection attempts to a host
// where nothing listens) if it got that far.
func TestRunLogIsOpenedSafely(t *testing.T) {
	dir := t.TempDir()
	hostsYAML := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 127.0.0.1\n    port: 1\n    role: manager\n")
	k0s := writeFile(t, dir, "k0s", "#!/bin/sh\n")
	upgradeIn := func(out string) []string {
		return []string{"upgrade", "--force", "--hosts-path", hostsYAML, "--k0s-binary", k0s, "--external-address", "lb",
			"--mke3-host", "127.0.0.1:1", "--mke3-admin-username", "admin", "--mke3-admin-password", "x",
			"--known-hosts", filepath.Join(dir, "kh"), "--output", out, "--log-level", "error"}
	}

	t.Run("symbolic link", func(t *testing.T) {
		out := t.TempDir()
		victim := writeFile(t, t.TempDir(), "victim", "keep\n")
		require.NoError(t, os.Symlink(victim, filepath.Join(out, logFileName)))
		code, _, stderr := runCLI(t, upgradeIn(out)...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, filepath.Join(out, logFileName))
		b, err := os.ReadFile(victim)
		require.NoError(t, err)
		assert.Equal(t, "keep\n", string(b), "written through the link")

		// a dangling link: opening through it would create its target
		out = t.TempDir()
		target := filepath.Join(t.TempDir(), "created")
		require.NoError(t, os.Symlink(target, filepath.Join(out, logFileName)))
		code, _, stderr = runCLI(t, upgradeIn(out)...)
		assert.Equal(t, 2, code, stderr)
		assert.NoFileExists(t, target)
	})

	t.Run("folder locked by another run", func(t *testing.T) {
		out := t.TempDir()
		log := writeFile(t, out, logFileName, "the first run's log\n")
		release, err := journal.LockDir(out, "run-first")
		require.NoError(t, err)
		defer func() { _ = release() }()
		code, _, stderr := runCLI(t, upgradeIn(out)...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "run-first")
		b, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Equal(t, "the first run's log\n", string(b), "the second run wrote to the first run's log")
	})

	t.Run("log in use by another mke-migrate", func(t *testing.T) {
		out := t.TempDir()
		log := writeFile(t, out, logFileName, "the first run's log\n")
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
		code, _, stderr := runCLI(t, upgradeIn(out)...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "in use by another mke-migrate")
		b, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Equal(t, "the first run's log\n", string(b))
	})

	t.Run("a free folder is logged to", func(t *testing.T) {
		out := t.TempDir()
		code, _, stderr := runCLI(t, upgradeIn(out)...)
		assert.Equal(t, 1, code, stderr) // nothing listens: the discovery fails
		st, err := os.Lstat(filepath.Join(out, logFileName))
		require.NoError(t, err)
		assert.True(t, st.Mode().IsRegular())
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		// the lock went with the process's run: the folder is free again
		release, err := journal.LockDir(out, "run-next")
		require.NoError(t, err)
		require.NoError(t, release())
	})
}
