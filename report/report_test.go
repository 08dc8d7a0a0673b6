package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixtures are output folders as the demo left them (paths and addresses
// made neutral): a finished upgrade, one rolled back after a failed
// k0s-worker step, and a dry run (no journal, no summary).
var fixtures = []struct {
	name    string
	outcome string
}{
	{"upgraded", report.OutcomeUpgraded},
	{"rolled-back", report.OutcomeRolledBack},
	{"dry-run", report.OutcomeDryRun},
}

// generated is the fixed time of the golden reports.
var generated = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func load(t *testing.T, dir string) *report.Data {
	t.Helper()
	d, err := report.Load(dir)
	require.NoError(t, err)
	d.Generated = generated
	d.Folder = filepath.Base(dir)
	return d
}

func render(t *testing.T, d *report.Data) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.Render(&b, d))
	return b.String()
}

var dataBlock = regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`)

// embedded returns the JSON embedded in a rendered page.
func embedded(t *testing.T, page string) string {
	t.Helper()
	m := dataBlock.FindAllStringSubmatch(page, -1)
	require.Len(t, m, 1, "one data block")
	return strings.TrimSpace(m[0][1])
}

// TestGoldenEmbeddedData checks the data each fixture's page embeds
// against testdata/<fixture>.golden.json (go test ./report -update
// rewrites them), and that it decodes to what Load returned.
func TestGoldenEmbeddedData(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			d := load(t, filepath.Join("testdata", f.name))
			assert.Equal(t, f.outcome, d.Outcome)
			raw := embedded(t, render(t, d))
			var back report.Data
			require.NoError(t, json.Unmarshal([]byte(raw), &back))
			assert.Equal(t, *d, back, "the embedded JSON is the data")
			var got bytes.Buffer
			require.NoError(t, json.Indent(&got, []byte(raw), "", "  "))
			got.WriteByte('\n')
			golden := filepath.Join("testdata", f.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./report -update")
			assert.Equal(t, string(want), got.String())
		})
	}
}

func TestLoadSections(t *testing.T) {
	up := load(t, filepath.Join("testdata", "upgraded"))
	require.NotNil(t, up.Timeline)
	assert.Len(t, up.Cluster.Nodes, 5)
	assert.Equal(t, "manager", up.Cluster.Nodes[0].Role)
	assert.True(t, up.Cluster.Nodes[0].Leader)
	assert.Empty(t, up.Timeline.Failures)
	assert.Contains(t, up.Unavailable, report.SectionRBAC, "the demo's upgrade leaves RBAC out and saved no export")
	assert.Contains(t, up.Unavailable, report.SectionSwarm)
	require.NotNil(t, up.Summary)
	assert.Contains(t, up.Summary.Text, "Upgrade summary")
	var ponr int
	for _, st := range up.Plan.Stages {
		for _, s := range st.Steps {
			if s.PointOfNoReturn {
				ponr++
				assert.Equal(t, "mke3-uninstall", s.Name)
			}
			assert.Equal(t, "done", s.Status, s.Name)
		}
		assert.Positive(t, st.Estimate, st.Name)
	}
	assert.Equal(t, 1, ponr)

	rb := load(t, filepath.Join("testdata", "rolled-back"))
	require.NotNil(t, rb.Timeline)
	require.NotEmpty(t, rb.Timeline.Failures)
	assert.Equal(t, "k0s-worker", rb.Timeline.Failures[0].Step)
	assert.Contains(t, rb.Timeline.Failures[0].Error, "injected failure")
	assert.False(t, rb.Timeline.RollbackStart.IsZero())
	undone := 0
	for _, h := range rb.Timeline.Hosts {
		for _, b := range h.Bars {
			if b.Undo {
				undone++
				assert.Equal(t, "undone", b.Status)
			}
		}
	}
	assert.Positive(t, undone)
	assert.Contains(t, rb.Unavailable, report.SectionSummary)

	dry := load(t, filepath.Join("testdata", "dry-run"))
	assert.Nil(t, dry.Timeline)
	require.NotNil(t, dry.RBAC)
	assert.Len(t, dry.RBAC.Orgs, 2)
	assert.Equal(t, "payments", dry.RBAC.Orgs[0].Name)
	assert.Equal(t, []string{"carol", "dave"}, dry.RBAC.Orgs[0].Teams[0].Members)
}

// TestLoadToleratesMissingAndBrokenFiles: an empty folder and a folder of
// broken files give a page with every section marked not available, and
// the reason names the file.
func TestLoadToleratesMissingAndBrokenFiles(t *testing.T) {
	empty := t.TempDir()
	d := load(t, empty)
	assert.Equal(t, report.OutcomeUnknown, d.Outcome)
	for _, s := range []string{report.SectionCluster, report.SectionPreflight, report.SectionConversion, report.SectionRBAC,
		report.SectionPlan, report.SectionTimeline, report.SectionSummary, report.SectionSwarm} {
		assert.Contains(t, d.Unavailable, s)
	}
	assert.Contains(t, d.Unavailable[report.SectionPlan], "plan.json: not in the output folder")
	page := render(t, d)
	assert.Contains(t, page, "Not available: plan.json: not in the output folder")

	broken := t.TempDir()
	for _, f := range []string{report.FileDiscovery, report.FilePlan, report.FilePreflight, report.FileConversionReport,
		report.FileRBACExport, report.FileSummaryJSON} {
		require.NoError(t, os.WriteFile(filepath.Join(broken, f), []byte("{not json"), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(broken, report.FileSummaryText), []byte("text"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(broken, report.FileJournal), []byte(
		`{"seq":1,"time":"2026-12-01T10:00:00Z","run":"r1","event":"run-start"}`+"\n"+
			`{"seq":2,"time":"2026-12-01T10:00:01Z","run":"r1","step":"save-inputs","event":"start"}`+"\n"+
			"garbage\n"), 0o600))
	d = load(t, broken)
	assert.Contains(t, d.Unavailable[report.SectionCluster], "discovery.json")
	assert.Contains(t, d.Unavailable[report.SectionTimeline], "journal.jsonl line 3")
	require.NotNil(t, d.Timeline, "the lines before the bad one are shown")
	assert.Equal(t, "running", d.Timeline.Hosts[0].Bars[0].Status)
	assert.Equal(t, report.OutcomeIncomplete, d.Outcome)
	render(t, d)

	_, err := report.Load(filepath.Join(empty, "missing"))
	assert.Error(t, err)
}

func TestWriteFileAndPlanRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := &report.Plan{Stages: []report.Stage{{Name: "Backup", Phase: "backup", Lanes: 1, Steps: []report.PlanStep{
		{Name: "mke3-backup", Host: "10.0.0.1:22", Changes: "takes a backup", Undo: true, Status: "ignored"}}}}}
	require.NoError(t, report.WritePlan(dir, p))
	path, err := report.WriteFile(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, report.FileHTML), path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	d := load(t, dir)
	require.NotNil(t, d.Plan)
	assert.Equal(t, report.OutcomeDryRun, d.Outcome)
	assert.Equal(t, "", d.Plan.Stages[0].Steps[0].Status, "statuses come from the journal, not plan.json")
	assert.Equal(t, report.Duration(report.EstimateStep("mke3-backup")), d.Plan.Estimate)
}

func TestEstimateStep(t *testing.T) {
	for name, want := range map[string]time.Duration{
		"mke3-backup":      5 * time.Minute,
		"drain-batch-12":   5 * time.Minute,
		"uncordon-batch-1": 10 * time.Second,
		"something-new":    report.DefaultStepEstimate,
	} {
		assert.Equal(t, want, report.EstimateStep(name), name)
	}
}

func TestRenderRefusesNil(t *testing.T) {
	assert.Error(t, report.Render(&bytes.Buffer{}, nil))
}

// A conversion report saved by another version, with a status and a basis
// this one does not know, still renders: convert's Status and Basis refuse
// unknown names, so the report reads their text.
func TestConversionFromAnotherVersion(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, report.FileConversionReport), []byte(`{"entries": [
  {"key": "a", "line": 2, "status": "converted", "target": "spec.a", "basis": "documented"},
  {"key": "b", "line": 3, "flag": "--x=1", "status": "postponed", "target": "spec.b", "basis": "guessed"},
  {"key": "c", "status": "blocking", "reason": "r"}
]}`), 0o600))
	d := load(t, dir)
	require.NotNil(t, d.Conversion, d.Unavailable[report.SectionConversion])
	var counts []string
	for _, c := range d.Conversion.Counts {
		counts = append(counts, c.Status)
	}
	assert.Equal(t, []string{"blocking", "converted", "postponed"}, counts, "known statuses first, most urgent first")
	var b report.Entry
	for _, e := range d.Conversion.Entries {
		if e.Key == "b" {
			b = e
		}
	}
	assert.Equal(t, report.Entry{Key: "b", Line: 3, Flag: "--x=1", Status: "postponed", Target: "spec.b", Basis: "guessed"}, b)
	render(t, d)
}
