package tomledit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetBool(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"replace false", "[cluster_config]\n  calico_kdd = false\n  x = 1\n", "[cluster_config]\n  calico_kdd = true\n  x = 1\n"},
		{"keep comment and spacing", "# top\n[cluster_config]\n  calico_kdd   =   false  # was etcd\n", "# top\n[cluster_config]\n  calico_kdd   =   true  # was etcd\n"},
		{"already true", "[cluster_config]\ncalico_kdd = true\n", "[cluster_config]\ncalico_kdd = true\n"},
		{"dotted key at top", "cluster_config.calico_kdd = false\n", "cluster_config.calico_kdd = true\n"},
		{"missing key, table present", "[cluster_config]\n    a = 1\n[auth]\nb = 2\n", "[cluster_config]\n    calico_kdd = true\n    a = 1\n[auth]\nb = 2\n"},
		{"missing key, empty table at end", "[auth]\nb = 2\n[cluster_config]", "[auth]\nb = 2\n[cluster_config]\n  calico_kdd = true\n"},
		{"missing table", "[auth]\nb = 2\n", "[auth]\nb = 2\n\n[cluster_config]\n  calico_kdd = true\n"},
		{"missing table, no final newline", "[auth]\nb = 2", "[auth]\nb = 2\n\n[cluster_config]\n  calico_kdd = true\n"},
		{"CRLF", "[cluster_config]\r\ncalico_kdd = false\r\n", "[cluster_config]\r\ncalico_kdd = true\r\n"},
		{"sub-table after", "[cluster_config]\ncalico_kdd = false\n[cluster_config.ingress_controller]\nenabled = false\n", "[cluster_config]\ncalico_kdd = true\n[cluster_config.ingress_controller]\nenabled = false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetBool([]byte(tt.in), "cluster_config", "calico_kdd", true)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestSetBoolRefusals(t *testing.T) {
	_, err := SetBool([]byte("[cluster_config]\ncalico_kdd = \"false\"\n"), "cluster_config", "calico_kdd", true)
	assert.True(t, errors.Is(err, ErrNotBool), "%v", err)
	_, err = SetBool([]byte("[cluster_config\n"), "cluster_config", "calico_kdd", true)
	assert.Error(t, err)
	// An inline table cannot take a new key by text insertion: the
	// verification catches it rather than sending a broken document.
	_, err = SetBool([]byte("cluster_config = {a = 1}\n"), "cluster_config", "calico_kdd", true)
	assert.Error(t, err)
}

func TestSetBoolOnRealExports(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "mke3", "*.toml"))
	own, _ := filepath.Glob(filepath.Join("..", "..", "convert", "testdata", "*.toml"))
	for _, f := range append(files, own...) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		out, err := SetBool(data, "cluster_config", "calico_kdd", true)
		require.NoError(t, err, f)
		assert.Contains(t, string(out), "calico_kdd = true", f)
		// Nothing else moved: the documents differ in at most one line
		// (or one added line).
		a, b := strings.Split(string(data), "\n"), strings.Split(string(out), "\n")
		diff := 0
		for i, j := 0, 0; i < len(a) && j < len(b); i, j = i+1, j+1 {
			if a[i] != b[j] {
				diff++
				if len(b) > len(a) {
					i--
				}
			}
		}
		assert.LessOrEqual(t, diff, 1, f)
	}
}

func FuzzSetBool(f *testing.F) {
	f.Add([]byte("[cluster_config]\ncalico_kdd = false\n"), true)
	f.Add([]byte("[auth]\nb = 2\n"), false)
	f.Add([]byte("a.b = 1\n[cluster_config]\n# c\nx = [1, 2]\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, v bool) {
		out, err := SetBool(data, "cluster_config", "calico_kdd", v)
		if err != nil {
			return
		}
		// Idempotent: setting again changes nothing.
		again, err := SetBool(out, "cluster_config", "calico_kdd", v)
		if err != nil || string(again) != string(out) {
			t.Fatalf("second edit differs or fails: %v", err)
		}
	})
}
