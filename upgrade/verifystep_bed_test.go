package upgrade_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
	"github.com/mke-migrate/mke-migrate/verify"
)

// Verify is on by default and runs last, after MKE 3's uninstall. On the
// fast bed the new cluster's API is the stand-in plane, which has none of
// the bed's nodes: verify fails, as it must. The failure is past the
// point of no return: nothing is rolled back, the error is a
// *VerifyError (and ErrPastPointOfNoReturn), the report is in the output
// folder, a support bundle is written, and every other step is done.
func TestVerifyFailureIsNotRolledBack(t *testing.T) {
	if plane == nil {
		t.Skip("needs the stand-in control plane (internal/kubetest)")
	}
	b := startBed(t, 1)
	dir := t.TempDir()
	o := b.options(t, dir)
	o.SkipVerify = false // the default
	u, p := discoverAndPlan(t, o)
	steps := p.Steps()
	require.Equal(t, "verify", steps[len(steps)-1].Name, "verify is not the last step")

	res, err := u.Apply(t.Context(), p)
	require.Error(t, err)
	var ve *upgrade.VerifyError
	require.ErrorAs(t, err, &ve, "%v", err)
	require.ErrorIs(t, err, upgrade.ErrPastPointOfNoReturn)
	require.False(t, res.RolledBack)
	require.NotEmpty(t, res.SupportBundles, "no support bundle")

	// the failed checks name the nodes the stand-in does not have
	var missing []string
	for _, c := range ve.Report.Checks {
		if c.ID == verify.CheckNodes && !c.OK {
			require.Contains(t, c.Message, "no such node")
			missing = append(missing, c.Subject)
		}
	}
	require.Len(t, missing, len(b.hosts), "%+v", ve.Report.Checks)

	// the report, in both forms, in the output folder
	txt, err := os.ReadFile(filepath.Join(dir, upgrade.VerifyTextFile))
	require.NoError(t, err)
	require.Contains(t, string(txt), "FAIL  nodes")
	js, err := os.ReadFile(filepath.Join(dir, upgrade.VerifyJSONFile))
	require.NoError(t, err)
	var doc struct {
		OK     bool `json:"ok"`
		Failed int  `json:"failed"`
	}
	require.NoError(t, json.Unmarshal(js, &doc))
	require.False(t, doc.OK)
	require.Equal(t, ve.Report.Failed(), doc.Failed)

	// every step but verify is done; MKE 3 stays uninstalled (k0s runs)
	rs, err := journal.Read(dir)
	require.NoError(t, err)
	st := journal.Replay(rs)
	for _, s := range steps[:len(steps)-1] {
		require.True(t, st.Done(s.Name, s.Host), "%s@%s is not done", s.Name, s.Host)
	}
	require.False(t, st.Done("verify", ""))
	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "k0s status")
		require.NoError(t, err, h.Name)
		require.True(t, strings.Contains(out, "Role: controller") || strings.Contains(out, "Role: worker"), "%s: %s", h.Name, out)
	}
}
