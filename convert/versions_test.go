package convert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func TestCheckMKE3Version(t *testing.T) {
	for v, ok := range map[string]bool{
		"3.7.15": true, "3.7.20": true, "3.8.0": true, "3.8.8": true, "v3.9.1": true, "3.9.0-rc1": true,
		"3.7.14": false, "3.6.9": false, "3.10.0": false, "4.0.0": false, "3.8": false, "latest": false, "": false,
	} {
		err := CheckMKE3Version(v)
		if ok {
			assert.NoError(t, err, v)
		} else {
			assert.True(t, errors.Is(err, ErrUnsupportedMKE3Version), "%s: %v", v, err)
		}
	}
	assert.Contains(t, CheckMKE3Version("3.7.14").Error(), "3.7.15 or later first")
}

// One fixture per source version, written from the docs (see each file's
// header): every key accounted for, nothing unknown, nothing blocking.
func TestVersionFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "versions", "mke3.*.toml"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	for _, f := range files {
		version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "mke3."), ".toml")
		version = "3." + version
		t.Run(version, func(t *testing.T) {
			cfg := mustParseFile(t, f)
			out, rep, err := Convert(cfg, Options{ExternalAddress: "mke.example.com", MKE3Version: version})
			require.NoError(t, err)
			assert.Empty(t, cfg.Unknown)
			assert.Zero(t, rep.Counts()[StatusUnknown])
			assert.False(t, rep.HasBlocking(), "%v", rep.Blocking())
			reported := map[string]bool{}
			for _, e := range rep.Entries {
				reported[e.Key] = true
			}
			for _, l := range cfg.Leaves {
				assert.True(t, reported[l.Key], "%s missing", l.Key)
			}
			y, err := mke4.Marshal(out)
			require.NoError(t, err)
			golden(t, "version-"+version+".mke4.yaml", y)
			j, err := rep.JSON()
			require.NoError(t, err)
			golden(t, "version-"+version+".report.json", j)
		})
	}
}

// What changed in 3.9 is reported per key, and a 3.9 key in an older
// source is not silently taken.
func TestVersionChangesPerKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "versions", "mke3.9.1.toml"))
	require.NoError(t, err)
	cfg, err := Parse("mke3.9.1.toml", data)
	require.NoError(t, err)

	out, rep, err := Convert(cfg, Options{MKE3Version: "3.9.1"})
	require.NoError(t, err)
	assert.Equal(t, MKE4VersionFor39, out.Spec.Version, "MKE 3.9 upgrades to MKE 4.2 or later only")
	require.NotNil(t, out.Spec.EnvoyGateway)
	assert.Equal(t, 2, out.Spec.EnvoyGateway.ReplicaCount)
	for _, e := range entriesFor(rep, cc+"ingress_controller.enabled") {
		assert.Contains(t, e.Reason, "Envoy Gateway")
	}

	out, rep, err = Convert(cfg, Options{MKE3Version: "3.8.8"})
	require.NoError(t, err)
	assert.Equal(t, mke4.DefaultVersion, out.Spec.Version)
	e := entriesFor(rep, cc+"gateway_controller.gateway_num_replicas")
	require.Len(t, e, 1)
	assert.Equal(t, StatusUnknown, e[0].Status)
	assert.Contains(t, e[0].Reason, "exists from MKE 3.9 on")
	for _, e := range entriesFor(rep, cc+"ingress_controller.enabled") {
		assert.NotContains(t, e.Reason, "Envoy Gateway")
	}

	_, rep, err = Convert(cfg, Options{MKE3Version: "3.7.14"})
	require.NoError(t, err)
	require.True(t, rep.HasBlocking())
	assert.Equal(t, "mke3.version", rep.Blocking()[0].Key)
}
