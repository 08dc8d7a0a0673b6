package upgrade_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

// --backup-path (issue 15 item 2): an existing backup of this cluster is
// verified and kept instead of taking one (no backup runs on the leader);
// a backup of another cluster stops the run before anything changes.
func TestBackupPathUsed(t *testing.T) {
	b := startBed(t, 1)
	dir := t.TempDir()
	o := b.options(t, dir)
	o.SkipRBAC = true
	u, err := upgrade.New(o)
	require.NoError(t, err)
	sh, err := u.Discover(t.Context())
	require.NoError(t, err)
	u.Close()
	// the operator's backup, taken as MKE 3's docs say
	leader := b.c.Host("manager-1")
	tarball, err := b.c.Exec(t.Context(), leader, "docker run --rm -i --name ucp --log-driver none -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:"+
		sh.MKEVersion+" backup --id "+sh.ClusterID+" --no-passphrase")
	require.NoError(t, err)
	given := filepath.Join(t.TempDir(), "backup.tar")
	require.NoError(t, os.WriteFile(given, []byte(tarball), 0o600))
	before, err := b.c.Calls(t.Context(), leader)
	require.NoError(t, err)

	// another cluster's backup: refused by Discover, nothing changed
	other := filepath.Join(t.TempDir(), "other.tar")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(tarball, sh.ClusterID, "someothercluster000000000", 1)), 0o600))
	o.BackupPath = other
	u, err = upgrade.New(o)
	require.NoError(t, err)
	_, err = u.Discover(t.Context())
	u.Close()
	var bpe *upgrade.BackupPathError
	require.ErrorAs(t, err, &bpe)
	require.Contains(t, err.Error(), "not of this cluster")
	require.Equal(t, b.baseline, b.digests(t))

	o.BackupPath = given
	u, p := discoverAndPlan(t, o)
	s, ok := p.Find("mke3-backup@" + sh.Leader)
	require.True(t, ok)
	require.Contains(t, s.Changes, given)
	_, err = u.Apply(t.Context(), p)
	require.NoError(t, err)
	kept, err := os.ReadFile(filepath.Join(dir, "mke3-backup.tar"))
	require.NoError(t, err)
	require.Equal(t, tarball, string(kept))
	after, err := b.c.Calls(t.Context(), leader)
	require.NoError(t, err)
	for _, c := range after[len(before):] {
		require.NotContains(t, strings.Join(c, " "), " backup ", "a backup was taken on the leader")
	}
}
