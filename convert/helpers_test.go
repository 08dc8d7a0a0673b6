package convert

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// ownFixtures returns the project's own TOML fixtures.
func ownFixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.toml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sort.Strings(files)
	return files
}

func mustParseFile(t testing.TB, path string) *MKE3Config {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg, err := Parse(path, data)
	require.NoError(t, err)
	return cfg
}

func mustParse(t testing.TB, toml string) *MKE3Config {
	t.Helper()
	cfg, err := Parse("test.toml", []byte(toml))
	require.NoError(t, err)
	return cfg
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./convert -update")
	if d := firstDiff(string(want), string(got)); d != "" {
		t.Fatalf("golden file %s differs (review, then run go test ./convert -update):\n%s", path, d)
	}
}

// firstDiff shows the first differing line of two texts with its number,
// or "" when they are equal: enough to find the change without a flood.
func firstDiff(want, got string) string {
	if want == got {
		return ""
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "texts differ in line endings"
}
