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

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
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

// demo --fail-at leaves a support bundle from before and one from after
// the rollback in its output folder, names them, and they hold the nodes'
// MKE 3 containers and the run's files, never the admin password.
func TestDemoFailAtLeavesSupportBundles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runDemoBinary(t, "--fail-at", "k0s-controller", "--workers", "1", "--output", dir)
	require.Equal(t, 1, code, stderr)
	for _, when := range []string{"before-rollback", "after-rollback"} {
		ms, err := filepath.Glob(filepath.Join(dir, "support-bundle-"+when+"-*.tar.gz"))
		require.NoError(t, err)
		require.Len(t, ms, 1, when)
		assert.Contains(t, stderr, "Support bundle: "+ms[0])
		fi, err := os.Stat(ms[0])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		files := bundleFiles(t, ms[0])
		var containers, facts bool
		for name, data := range files {
			assert.NotContains(t, data, mke3api.DefaultAdminPassword, name)
			containers = containers || (strings.HasSuffix(name, "/mke3-containers.txt") && strings.Contains(data, "ucp-"))
			facts = facts || (strings.HasSuffix(name, "/facts.json") && strings.Contains(data, "hostname"))
		}
		assert.True(t, containers, "no MKE 3 containers in %s", when)
		assert.True(t, facts, "no facts in %s", when)
		for _, f := range []string{"manifest.json", "local/journal.jsonl", "local/discovery.json"} {
			assert.Contains(t, files, f, when)
		}
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
