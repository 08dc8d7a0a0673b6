package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/internal/ownerdir"
)

// F14 (issue 14): a demo killed with -9 left its folder (with the nodes'
// private keys) behind. The next demo removes it, whatever else it then
// does (here: refuse a bad flag), and leaves a live demo's folder alone.
func TestDemoRemovesKilledDemosFolders(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	require.NoError(t, dead.Run()) // its process ID is free now
	stale := filepath.Join(tmp, demoDirPrefix+"killed")
	require.NoError(t, os.Mkdir(stale, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(stale, ownerdir.OwnerFile), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(stale, "id_ed25519"), []byte("a private key"), 0o600))
	live, err := ownerdir.Create(tmp, demoDirPrefix)
	require.NoError(t, err)

	code, _, stderr := runCLI(t, "demo", "--workers", "0")
	assert.Equal(t, 2, code, stderr)
	assert.NoDirExists(t, stale)
	assert.Contains(t, stderr, "Removed 1 folder(s) of demos that were killed")
	assert.DirExists(t, live)
}
