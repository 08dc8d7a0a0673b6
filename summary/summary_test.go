package summary_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/rbac"
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

func TestGolden(t *testing.T) {
	managers := []string{"10.10.0.11:22", "10.10.0.12:22", "10.10.0.13:22"}
	workers := []string{"10.10.0.21:22", "10.10.0.22:22"}
	rr := &rbac.Report{Users: rbac.Counts{Found: 12, Translated: 11}, Orgs: rbac.Counts{Found: 2, Translated: 2},
		Teams: rbac.Counts{Found: 3, Translated: 3}}
	tests := map[string]summary.Input{
		"example": {Report: convertFile(t, filepath.Join("..", "examples", "mke3-config.toml")), RBAC: rr,
			MKEVersion: "3.8.8", Managers: managers, Workers: workers},
		"all-converted": {Report: convertBytes(t, "ok.toml", []byte("[cluster_config]\ncalico_kdd = true\nkubelet_max_pods = 150\n")),
			RBAC: rr, MKEVersion: "3.7.15", Managers: managers[:1]},
		"no-rbac-dry-run": {Report: convertBytes(t, "ok.toml", []byte("[cluster_config]\ncalico_kdd = true\nswarm_port = 2400\n")),
			MKEVersion: "3.8.8", Managers: managers, Workers: workers, DryRun: true},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			s := summary.Build(in)
			var b bytes.Buffer
			require.NoError(t, s.WriteText(&b))
			golden(t, name+".txt", b.Bytes())
			j, err := s.JSON()
			require.NoError(t, err)
			golden(t, name+".json", j)
		})
	}
}

func TestSections(t *testing.T) {
	s := summary.Build(summary.Input{Report: convertFile(t, filepath.Join("..", "examples", "mke3-config.toml")), MKEVersion: "3.8.8"})
	var b bytes.Buffer
	require.NoError(t, s.WriteText(&b))
	for _, section := range []string{"\nConfiguration file\n", "\nAuthentication\n", "\nAuthorization\n", "\nPorts\n", "\nMCR\n",
		"\nMKE3 Cleanup\n", "\nMetalLB IP address pools\n"} {
		assert.Contains(t, b.String(), section)
	}
	assert.Contains(t, b.String(), "MCR may safely be uninstalled")
	assert.Contains(t, b.String(), "2377, 6444, 7946, 9055, 12376, 12378, 12379, 12380, 12381, 12382, 12383, 12384, 12385, 12386, 12387, 12388, 12389, 12391, 12392, 179, 12390, 2376, 443")
	assert.Contains(t, b.String(), "MKE 3.8.8 was uninstalled from the cluster successfully.")
	assert.NotContains(t, b.String(), "example-passphrase-not-a-real-secret", "reasons never carry values that are secrets")

	// No pools: no section.
	s = summary.Build(summary.Input{Report: &convert.Report{}})
	b.Reset()
	require.NoError(t, s.WriteText(&b))
	assert.NotContains(t, b.String(), "MetalLB")
	assert.Contains(t, b.String(), "All MKE 3 settings were converted.")
}

// The JSON field names are an interface: pipelines read them.
func TestJSONFieldsAreStable(t *testing.T) {
	j, err := summary.Build(summary.Input{}).JSON()
	require.NoError(t, err)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(j, &doc))
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"dryRun", "hosts", "configuration", "authentication", "authorization", "ports", "mcr", "mke3Cleanup", "metallbPools"}, keys)
	assert.JSONEq(t, `{"allConverted":true,"notConverted":[]}`, string(doc["configuration"]))
	assert.JSONEq(t, `[]`, string(doc["metallbPools"]))
}

func TestBuildCopiesItsInput(t *testing.T) {
	rep := &convert.Report{MetalLBPools: []convert.MetalLBPool{{Name: "p", Addresses: []string{"10.0.0.1-10.0.0.9"}}}}
	managers := []string{"a"}
	s := summary.Build(summary.Input{Report: rep, Managers: managers})
	rep.MetalLBPools[0].Addresses[0] = "changed"
	managers[0] = "changed"
	assert.Equal(t, "10.0.0.1-10.0.0.9", s.MetalLBPools[0].Addresses[0])
	assert.Equal(t, "a", s.Hosts.Managers[0])
}
