package rbac

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, got, 0o644))
		return
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "missing golden file: run go test ./rbac -run %s -update", t.Name())
	if string(want) != string(got) {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		for i := range max(len(wl), len(gl)) {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("golden file %s differs at line %d (review, then run with -update):\nwant: %s\ngot:  %s", p, i+1, w, g)
			}
		}
	}
}

// loadModel decodes a model from testdata.
func loadModel(t testing.TB, name string) *Model {
	t.Helper()
	p := filepath.Join("testdata", name)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	m, err := DecodeExport(p, data)
	require.NoError(t, err)
	return m
}
