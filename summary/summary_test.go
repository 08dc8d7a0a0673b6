package summary_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/summary"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func convertFile(t *testing.T, path string) *convert.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return convertBytes(t, path, data)
}

func convertBytes(t *testing.T, name string, data []byte) *convert.Report {
	t.Helper()
	cfg, err := convert.Parse(name, data)
	require.NoError(t, err)
	_, rep, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	require.NoError(t, err)
	return &rep
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run go test ./summary -update to create it")
	assert.Equal(t, string(want), string(got))
}

func build(t *testing.T, in summary.Input) summary.Summary {
	t.Helper()
	s, err := summary.Build(in)
	require.NoError(t, err)
	return s
}

func text(t *testing.T, s summary.Summary) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, s.WriteText(&b))
	return b.String()
}

func TestGolden(t *testing.T) {
	managers := []string{"10.10.0.11:22", "10.10.0.12:22", "10.10.0.13:22"}
	workers := []string{"10.10.0.21:22", "10.10.0.22:22"}
	rr := &summary.RBAC{UsersFound: 12, UsersMigrated: 11, OrgsFound: 2, OrgsTranslated: 2, TeamsFound: 3, TeamsTranslated: 3}
	ok := convertBytes(t, "ok.toml", []byte("[cluster_config]\ncalico_kdd = true\nkubelet_max_pods = 150\n"))
	tests := map[string]summary.Input{
		"example": {Report: convertFile(t, filepath.Join("..", "examples", "mke3-config.toml")), RBAC: rr,
			MKEVersion: "3.8.8", Managers: managers, Workers: workers},
		"all-converted": {Report: ok, RBAC: rr, MKEVersion: "3.7.15", Managers: managers[:1]},
		"swarm-export": {Report: ok, RBAC: rr, MKEVersion: "3.8.8", Managers: managers, Workers: workers,
			Swarm: &summary.Swarm{Services: 7, Exported: 6, NeedAttention: 3, Dir: "/var/tmp/run/swarm"}},
		"no-rbac-dry-run": {Report: convertBytes(t, "ok.toml", []byte("[cluster_config]\ncalico_kdd = true\nswarm_port = 2400\n")),
			MKEVersion: "3.8.8", Managers: managers, Workers: workers, DryRun: true},
		"rolled-back": {Report: ok, RBAC: rr, MKEVersion: "3.7.15", Managers: managers, Workers: workers,
			Outcome: summary.RolledBack, Error: "aborting upgrade due to signal interrupt"},
		"failed": {Report: ok, RBAC: rr, MKEVersion: "3.8.8", Managers: managers, Workers: workers,
			Outcome: summary.Failed, Error: "step k0s-install on 10.10.0.12:22: exit status 1"},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			s := build(t, in)
			golden(t, name+".txt", []byte(text(t, s)))
			j, err := s.JSON()
			require.NoError(t, err)
			golden(t, name+".json", j)
		})
	}
}

// pageExample is the input of the example summary on the MKE 4k page
// "Upgrade from MKE 3.7 or 3.8": one user, one organization, no teams, every
// setting converted, MKE 3.8.5.
func pageExample(t *testing.T) summary.Summary {
	return build(t, summary.Input{Report: &convert.Report{}, MKEVersion: "3.8.5",
		RBAC: &summary.RBAC{UsersFound: 1, UsersMigrated: 1, OrgsFound: 1, OrgsTranslated: 1}})
}

// The documented text, word for word: the page's example is the golden
// file's prefix (extra sections may follow it).
func TestPageExample(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "page-example.txt"))
	require.NoError(t, err)
	got := text(t, pageExample(t))
	assert.True(t, strings.HasPrefix(got, string(want)), "the summary must start with the page's example:\n%s\ngot:\n%s", want, got)
	assert.Equal(t, string(want), got, "with no hosts and no pools, nothing follows the documented text")
}

// The same check against the page itself, when the reference copy is at
// hand (it is not part of the repository).
func TestPageExampleFromReference(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "shared", "reference", "mke4k-upgrade-from-mke3-page.md"))
	if err != nil {
		t.Skip("reference page not available:", err)
	}
	m := regexp.MustCompile("(?s)```\n(  Upgrade Summary\n.*?)  ```").FindSubmatch(page)
	require.NotNil(t, m, "the page's example summary block")
	var want strings.Builder
	for _, l := range strings.Split(strings.TrimRight(string(m[1]), "\n"), "\n") {
		want.WriteString(strings.TrimPrefix(l, "  ") + "\n")
	}
	assert.Equal(t, want.String(), text(t, pageExample(t)))
}

func TestSections(t *testing.T) {
	s := build(t, summary.Input{Report: convertFile(t, filepath.Join("..", "examples", "mke3-config.toml")), MKEVersion: "3.8.8"})
	got := text(t, s)
	for _, section := range []string{"Upgrade Summary\n---------------\n", "\nConfiguration file\n---------------\n", "\nAuthentication\n---------------\n",
		"\nAuthorization\n---------------\n", "\nPorts\n---------------\n", "\nMCR\n---------------\n",
		"\nMKE3 Cleanup\n---------------\n", "\nMetalLB IP address pools\n---------------\n"} {
		assert.Contains(t, got, section)
	}
	assert.Contains(t, got, "\nMCR may safely be uninstalled\n")
	assert.Contains(t, got, "[2377,6444,7946,9055,12376,12378,12379,12380,12381,12382,12383,12384,12385,12386,12387,12388,12389,12391,12392,179,12390,2376,443]")
	assert.Contains(t, got, "MKE 3.8.8 was uninstalled from the cluster successfully.")
	assert.NotContains(t, got, "example-passphrase-not-a-real-secret", "reasons never carry values that are secrets")

	// No pools: no section.
	got = text(t, build(t, summary.Input{Report: &convert.Report{}}))
	assert.NotContains(t, got, "MetalLB")
	assert.Contains(t, got, "All MKE 3 TOML settings were successfully converted into MKE 4 YAML settings.")
}

func TestBuildRefusesNilReport(t *testing.T) {
	_, err := summary.Build(summary.Input{MKEVersion: "3.8.8"})
	require.ErrorIs(t, err, summary.ErrNoReport)
	_, err = summary.Build(summary.Input{Report: &convert.Report{}, Outcome: "maybe"})
	require.Error(t, err)
}

func TestOutcomes(t *testing.T) {
	for _, o := range []summary.Outcome{summary.Failed, summary.RolledBack} {
		s := build(t, summary.Input{Report: &convert.Report{}, MKEVersion: "3.7.15", Outcome: o, Error: "boom",
			RBAC: &summary.RBAC{UsersFound: 1, UsersMigrated: 1}})
		assert.Equal(t, o, s.Outcome)
		assert.Equal(t, "boom", s.Error)
		assert.False(t, s.Cleanup.Uninstalled, "%s: MKE 3 stays", o)
		assert.False(t, s.MCR.SafeToUninstall, "%s: MKE 3 still runs on MCR", o)
		got := text(t, s)
		assert.Contains(t, got, "Upgrade failed due to error: boom\n")
		assert.NotContains(t, got, "successfully.\n"+"\n"+"Authorization")
		assert.NotContains(t, got, "All users were upgraded")
		assert.NotContains(t, got, "was uninstalled from the cluster successfully")
		if o == summary.RolledBack {
			assert.Contains(t, got, "Rollback to MKE version 3.7.15 completed successfully.")
		} else {
			assert.NotContains(t, got, "Rollback to MKE version")
		}
	}
	s := build(t, summary.Input{Report: &convert.Report{}})
	assert.Equal(t, summary.Succeeded, s.Outcome)
	assert.Empty(t, s.Error)
}

// The JSON field names are an interface: pipelines read them.
func TestJSONFieldsAreStable(t *testing.T) {
	j, err := build(t, summary.Input{Report: &convert.Report{}}).JSON()
	require.NoError(t, err)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(j, &doc))
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"dryRun", "outcome", "hosts", "configuration", "authentication", "authorization", "ports", "mcr", "mke3Cleanup", "metallbPools"}, keys)
	assert.JSONEq(t, `{"allConverted":true,"notConverted":[]}`, string(doc["configuration"]))
	assert.JSONEq(t, `[]`, string(doc["metallbPools"]))
}

func TestBuildCopiesItsInput(t *testing.T) {
	rep := &convert.Report{MetalLBPools: []convert.MetalLBPool{{Name: "p", Addresses: []string{"10.0.0.1-10.0.0.9"}}}}
	managers := []string{"a"}
	s := build(t, summary.Input{Report: rep, Managers: managers})
	rep.MetalLBPools[0].Addresses[0] = "changed"
	managers[0] = "changed"
	assert.Equal(t, "10.0.0.1-10.0.0.9", s.MetalLBPools[0].Addresses[0])
	assert.Equal(t, "a", s.Hosts.Managers[0])
}

// summary must stay light: no RBAC translation, no Kubernetes client (the
// import budget of the whole module is checked elsewhere).
func TestImportsStayLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skip("go list unavailable:", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/mke-migrate/mke-migrate/rbac", "k8s.io/client-go"} {
			assert.False(t, p == bad || strings.HasPrefix(p, bad+"/"), "summary depends on %s", p)
		}
	}
}
