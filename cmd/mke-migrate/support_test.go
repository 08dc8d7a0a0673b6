package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bundleFiles reads a support bundle: name → content.
func bundleFiles(t *testing.T, p string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		d, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = string(d)
	}
}

// support-bundle on demand, against a run's output folder.
func TestSupportBundleOnDemand(t *testing.T) {
	b := startCLIBed(t)
	out := filepath.Join(b.dir, "bundles")
	cmd := b.command(t, "support-bundle", "--output", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	p := strings.TrimSpace(strings.TrimPrefix(stdout.String(), "Support bundle: "))
	require.FileExists(t, p)
	files := bundleFiles(t, p)
	n := 0
	for name := range files {
		if strings.HasPrefix(name, "nodes/") && strings.HasSuffix(name, "/k0s-status.txt") {
			n++
		}
	}
	assert.Equal(t, len(b.c.Hosts), n, "one folder per node")
	assert.Equal(t, b.baseline, b.digests(t), "a support bundle changed a node")
}
