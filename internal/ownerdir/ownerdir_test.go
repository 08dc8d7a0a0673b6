package ownerdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const prefix = "ownerdir-test-"

// TestMain lets the test binary be the owner that gets killed.
func TestMain(m *testing.M) {
	if base := os.Getenv("OWNERDIR_CHILD_BASE"); base != "" {
		dir, err := Create(base, prefix)
		if err != nil {
			os.Exit(3)
		}
		_ = os.WriteFile(filepath.Join(dir, "id_ed25519"), []byte("a private key"), 0o600)
		time.Sleep(time.Hour) // until killed
	}
	os.Exit(m.Run())
}

// F14 (issue 14): a folder whose owner was killed with SIGKILL (no
// deferred cleanup ran) is removed by the next process; a live owner's,
// a folder without an owner file and a reused process ID are handled.
func TestRemoveStaleAfterSIGKILL(t *testing.T) {
	base := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	child := exec.Command(exe, "-test.run", "^$")
	child.Env = append(os.Environ(), "OWNERDIR_CHILD_BASE="+base)
	require.NoError(t, child.Start())
	var killed string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ds, _ := filepath.Glob(filepath.Join(base, prefix+"*", "id_ed25519")); len(ds) == 1 {
			killed = filepath.Dir(ds[0])
			break
		}
	}
	require.NotEmpty(t, killed, "the child made no folder")

	mine, err := Create(base, prefix)
	require.NoError(t, err)
	noOwner := filepath.Join(base, prefix+"no-owner")
	require.NoError(t, os.Mkdir(noOwner, 0o700))
	// this process's ID with another start time: a reused ID
	reused := filepath.Join(base, prefix+"reused")
	require.NoError(t, os.Mkdir(reused, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(reused, OwnerFile), []byte(strconv.Itoa(os.Getpid())+" 1\n"), 0o600))

	// the child is alive: nothing of its is removed
	removed, err := RemoveStale(base, prefix)
	require.NoError(t, err)
	assert.Equal(t, []string{reused}, removed)
	assert.DirExists(t, killed)

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	assert.DirExists(t, killed, "SIGKILL runs no cleanup")
	removed, err = RemoveStale(base, prefix)
	require.NoError(t, err)
	assert.Equal(t, []string{killed}, removed)
	assert.NoDirExists(t, killed)
	assert.DirExists(t, mine)
	assert.DirExists(t, noOwner)
	st, err := os.Stat(mine)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
}
