package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/report"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// copyDir copies the files of src (one level) into a new folder.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return dst
}

func TestReportCommand(t *testing.T) {
	dir := copyDir(t, filepath.Join("..", "..", "report", "testdata", "rolled-back"))
	code, _, stderr := runCLI(t, "report", "--output", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Report: "+filepath.Join(dir, "report.html"))
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "The upgrade failed and was rolled back")

	// an empty folder still gives a page, with every part not available
	empty := t.TempDir()
	code, _, stderr = runCLI(t, "report", "--output", empty)
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, filepath.Join(empty, "report.html"))

	for _, args := range [][]string{{"report"}, {"report", "--output", filepath.Join(empty, "missing")},
		{"report", "--output", filepath.Join(dir, "plan.json")}} {
		code, _, stderr := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
	}
}

func TestReportPlanKeepsLanesAndPointOfNoReturn(t *testing.T) {
	do := func(context.Context, *plan.Run) error { return nil }
	p := &plan.Plan{Stages: []*plan.Stage{
		{Name: "Workers", Phase: upgrade.PhaseWorkers, Lanes: [][]*plan.Step{
			{{Name: "k0s-binary", Host: "w1:22", Changes: "installs", Do: do, Undo: do}, {Name: "k0s-worker", Host: "w1:22", Do: do}},
			{{Name: "k0s-binary", Host: "w2:22", Do: do, Undo: do}},
		}},
		{Name: "Cleanup", Phase: upgrade.PhaseCleanup, Lanes: [][]*plan.Step{{{Name: "mke3-uninstall", Host: "m1:22", PointOfNoReturn: true, Do: do}}}},
	}}
	got := reportPlan(p)
	require.Len(t, got.Stages, 2)
	st := got.Stages[0]
	assert.Equal(t, 2, st.Lanes)
	assert.Equal(t, "workers", st.Phase)
	assert.Equal(t, []report.PlanStep{
		{Name: "k0s-binary", Host: "w1:22", Lane: 0, Changes: "installs", Undo: true},
		{Name: "k0s-worker", Host: "w1:22", Lane: 0},
		{Name: "k0s-binary", Host: "w2:22", Lane: 1, Undo: true},
	}, st.Steps)
	assert.True(t, got.Stages[1].Steps[0].PointOfNoReturn)
}
