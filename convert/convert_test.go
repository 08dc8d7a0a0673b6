package convert

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// The spec table and the typed model must describe the same keys.
func TestSpecCoversModel(t *testing.T) {
	assert.Equal(t, modelPatterns(), Keys())
	seen := map[string]bool{}
	for _, s := range specs {
		assert.False(t, seen[s.pattern], "duplicate spec %s", s.pattern)
		seen[s.pattern] = true
		if s.target == "" {
			assert.NotEmpty(t, s.reason, "%s: a key without target needs a reason", s.pattern)
		} else {
			assert.NotEmpty(t, s.basis, "%s: a key with a target needs a basis", s.pattern)
		}
		for _, d := range s.deps {
			assert.True(t, strings.HasPrefix(d, strings.Split(s.pattern, ".")[0]), "%s: dependency %s outside its table", s.pattern, d)
		}
	}
}

// Every leaf key of every fixture appears in the report, no rule is
// missing, and the result is a valid MKE 4k configuration.
func TestEveryLeafKeyIsReported(t *testing.T) {
	files := ownFixtures(t)
	if shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "mke3", "*.toml")); len(shared) > 0 {
		files = append(files, shared...)
	} else {
		t.Log("../shared/fixtures/mke3 not present: checking the project's own fixtures only")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg := mustParseFile(t, f)
			require.NotEmpty(t, cfg.Leaves)
			out, rep, err := Convert(cfg, Options{ExternalAddress: "mke.example.com"})
			require.NoError(t, err)
			reported := map[string]bool{}
			for _, e := range rep.Entries {
				reported[e.Key] = true
				assert.NotContains(t, e.Reason, "internal:", "%s", e.Key)
				if e.Status == StatusConverted {
					assert.True(t, strings.HasPrefix(e.Target, "spec."), "%s: converted entries name a spec path, got %q", e.Key, e.Target)
				} else if e.Status != StatusDefault {
					assert.NotEmpty(t, e.Reason, "%s (%s) needs a reason", e.Key, e.Status)
				}
			}
			for _, l := range cfg.Leaves {
				assert.True(t, reported[l.Key], "leaf %s (line %d) missing from the report", l.Key, l.Line)
			}
			// An invalid result is allowed only when the report says so.
			invalidReported := false
			for _, e := range rep.Blocking() {
				invalidReported = invalidReported || e.Key == "mke4.yaml"
			}
			if err := out.Validate(); invalidReported {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestAllKeysFixtureHasNoUnknownKey(t *testing.T) {
	cfg := mustParseFile(t, filepath.Join("testdata", "mke3-all-keys.toml"))
	assert.Empty(t, cfg.Unknown)
	seen := map[string]bool{}
	for _, l := range cfg.Leaves {
		seen[l.pattern] = true
	}
	for _, k := range Keys() {
		assert.True(t, seen[k], "testdata/mke3-all-keys.toml lacks %s: every key must be exercised", k)
	}
}

func TestGolden(t *testing.T) {
	files := ownFixtures(t)
	if shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "mke3", "*.toml")); len(shared) > 0 {
		files = append(files, shared...)
	}
	hostsOpt := []Host{
		{Host: mke4.Host{Role: mke4.RoleControllerWorker, SSH: &mke4.SSH{Address: "10.0.0.11", User: "root", Port: 22}}, Labels: map[string]string{DefaultKubeletProfileLabel: "high"}},
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.21", User: "root", Port: 22}}},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		t.Run(name, func(t *testing.T) {
			cfg := mustParseFile(t, f)
			out, rep, err := Convert(cfg, Options{ExternalAddress: "mke.example.com", Hosts: hostsOpt})
			require.NoError(t, err)
			y, err := mke4.Marshal(out)
			require.NoError(t, err)
			golden(t, name+".mke4.yaml", y)
			j, err := rep.JSON()
			require.NoError(t, err)
			golden(t, name+".report.json", j)
			// The YAML reads back to the same configuration.
			back, err := mke4.Unmarshal(y)
			require.NoError(t, err)
			y2, err := mke4.Marshal(back)
			require.NoError(t, err)
			assert.Equal(t, string(y), string(y2))
		})
	}
}

func TestReportJSONShape(t *testing.T) {
	cfg := mustParse(t, "[cluster_config]\ncalico_kdd = true\nkubelet_max_pods = 150\nswarm_port = 2377\nmystery = 1\n")
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	b, err := rep.JSON()
	require.NoError(t, err)
	var doc struct {
		Entries []map[string]any `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Entries, 4)
	assert.Equal(t, map[string]any{"key": "cluster_config.kubelet_max_pods", "line": 3.0, "status": "converted", "target": "spec.kubelet.maxPods", "basis": "checked"}, doc.Entries[1])
	assert.Equal(t, "dropped", doc.Entries[2]["status"])
	assert.NotEmpty(t, doc.Entries[2]["reason"])
	assert.Equal(t, "unknown", doc.Entries[3]["status"])
}

func entriesFor(rep Report, key string) []Entry {
	var out []Entry
	for _, e := range rep.Entries {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

func statusOf(t *testing.T, rep Report, key string) Status {
	t.Helper()
	es := entriesFor(rep, key)
	require.NotEmpty(t, es, "no entry for %s", key)
	return es[0].Status
}

func TestConvertNilAndBadOptions(t *testing.T) {
	_, _, err := Convert(nil, Options{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	cfg := mustParse(t, "[cluster_config]\ncalico_kdd = true\n")
	for _, o := range []Options{
		{ChartRegistry: "registry.example.com/charts"},
		{ChartRegistry: "oci://registry.example.com/charts/"},
		{ImageRegistry: "registry.example.com/mke/"},
		{ExternalAddress: "https://mke.example.com"},
		{Hosts: []Host{{Host: mke4.Host{Role: "manager"}}}},
	} {
		_, _, err := Convert(cfg, o)
		assert.ErrorIs(t, err, ErrInvalidOptions, "%+v", o)
	}
}

func TestConvertDoesNotMutateInput(t *testing.T) {
	cfg := mustParseFile(t, filepath.Join("testdata", "mke3-all-keys.toml"))
	before, err := json.Marshal(cfg)
	require.NoError(t, err)
	_, r1, err := Convert(cfg, Options{})
	require.NoError(t, err)
	_, r2, err := Convert(cfg, Options{})
	require.NoError(t, err)
	after, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	assert.Equal(t, r1, r2, "conversion must be deterministic")
}
