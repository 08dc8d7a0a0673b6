package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unusablePaths are output paths that hold something that is not ours to
// replace, or cannot be created; all in a temporary folder (never the
// machine's own /dev: a regression would replace it).
func unusablePaths(t *testing.T) (paths map[string]string, victim string) {
	t.Helper()
	dir := t.TempDir()
	victim = writeFile(t, dir, "victim", "keep")
	paths = map[string]string{
		"symlink":        filepath.Join(dir, "link"),
		"link to stdout": filepath.Join(dir, "stdout"),
		"directory":      filepath.Join(dir, "sub"),
		"named pipe":     filepath.Join(dir, "fifo"),
		"missing folder": filepath.Join(dir, "missing", "dir", "x"),
		"file as folder": filepath.Join(victim, "x"),
	}
	require.NoError(t, os.Symlink(victim, paths["symlink"]))
	require.NoError(t, os.Symlink("/proc/self/fd/1", paths["link to stdout"]))
	require.NoError(t, os.Mkdir(paths["directory"], 0o700))
	require.NoError(t, syscall.Mkfifo(paths["named pipe"], 0o600))
	// like /dev/null (1, 3): needs root
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		paths["device"] = filepath.Join(dir, "null")
	}
	return paths, victim
}

// assertUntouched checks that each existing path is still what it was.
func snapshot(t *testing.T, paths map[string]string) map[string]os.FileInfo {
	t.Helper()
	m := map[string]os.FileInfo{}
	for _, p := range paths {
		if st, err := os.Lstat(p); err == nil {
			m[p] = st
		}
	}
	return m
}

func assertUntouched(t *testing.T, before map[string]os.FileInfo, victim string) {
	t.Helper()
	for p, st := range before {
		now, err := os.Lstat(p)
		if assert.NoError(t, err, p) {
			assert.True(t, os.SameFile(st, now), "%s was replaced", p)
		}
	}
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b), "written through a link")
}

// F1/F10 (issue 14): every output flag refuses, with exit 2 and the path
// named, what is not a regular file or cannot be created, before any work:
// the inputs are missing or the MKE 3 host does not answer, and the error
// is still about the output path.
func TestOutputFlagsRefuseUnusablePaths(t *testing.T) {
	dir := t.TempDir()
	toml := writeFile(t, dir, "mke3.toml", okTOML)
	export := writeFile(t, dir, "export.json", smallExport)
	hostsYAML := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 127.0.0.1\n    role: manager\n")
	missing := filepath.Join(dir, "missing.toml")
	// nothing listens on port 1: a login would fail with exit 1
	mke3 := []string{"--mke3-host", "127.0.0.1:1", "--mke3-admin-username", "admin", "--mke3-admin-password", "x"}

	commands := map[string]func(p string) []string{
		"convert --config-out":        func(p string) []string { return []string{"convert", "--mke3-config", missing, "--config-out", p} },
		"convert --report-out":        func(p string) []string { return []string{"convert", "--mke3-config", missing, "--report-out", p} },
		"mke3 config -o":              func(p string) []string { return append([]string{"mke3", "config", "-o", p}, mke3...) },
		"rbac export -o":              func(p string) []string { return append([]string{"rbac", "export", "-o", p}, mke3...) },
		"rbac translate --out":        func(p string) []string { return []string{"rbac", "translate", "--from", missing, "--out", p} },
		"rbac translate --report-out": func(p string) []string { return []string{"rbac", "translate", "--from", missing, "--report-out", p} },
		"upgrade --config-out": func(p string) []string {
			return append([]string{"upgrade", "--dry-run", "--hosts-path", hostsYAML, "--external-address", "lb", "--config-out", p}, mke3...)
		},
		"upgrade --kubeconfig": func(p string) []string {
			return append([]string{"upgrade", "--dry-run", "--hosts-path", hostsYAML, "--external-address", "lb", "--kubeconfig", p}, mke3...)
		},
	}
	for cmd, args := range commands {
		paths, victim := unusablePaths(t)
		before := snapshot(t, paths)
		for what, p := range paths {
			if cmd == "upgrade --kubeconfig" && strings.HasPrefix(what, "missing") {
				continue // the upgrade creates the kubeconfig's folder
			}
			code, stdout, stderr := runCLI(t, args(p)...)
			assert.Equal(t, 2, code, "%s %s: %s", cmd, what, stderr)
			assert.Contains(t, stderr, p, "%s %s: the path is named", cmd, what)
			assert.NotContains(t, stderr, "missing.toml", "%s %s: an input was read first", cmd, what)
			assert.NotContains(t, stderr, "127.0.0.1:1", "%s %s: logged in first", cmd, what)
			assert.Empty(t, stdout, "%s %s", cmd, what)
		}
		assertUntouched(t, before, victim)
	}

	// The same refusals when the inputs are good (the write itself).
	paths, victim := unusablePaths(t)
	before := snapshot(t, paths)
	for what, p := range paths {
		code, _, stderr := runCLI(t, "convert", "--mke3-config", toml, "--config-out", p)
		assert.Equal(t, 2, code, "%s: %s", what, stderr)
		code, _, stderr = runCLI(t, "rbac", "translate", "--from", export, "--out", p)
		assert.Equal(t, 2, code, "%s: %s", what, stderr)
	}
	assertUntouched(t, before, victim)
}

// "-" is standard output; only one output may go there.
func TestOutputFlagsDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	toml := writeFile(t, dir, "mke3.toml", okTOML)
	code, stdout, stderr := runCLI(t, "convert", "--mke3-config", toml, "--config-out", "-")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "kind: MkeConfig")
	if _, err := os.Stat("-"); err == nil {
		_ = os.Remove("-")
		t.Error("a file named - was written")
	}

	out := filepath.Join(dir, "mke4.yaml")
	code, stdout, stderr = runCLI(t, "convert", "--mke3-config", toml, "--config-out", out, "--report-out", "-", "--report-format", "json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"entries"`)
	assert.FileExists(t, out)

	for _, args := range [][]string{
		{"convert", "--mke3-config", toml, "--report-out", "-"},
		{"convert", "--mke3-config", toml, "--config-out", "-", "--report-out", "-"},
		{"rbac", "translate", "--from", toml, "--report-out", "-"},
	} {
		code, _, stderr = runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "standard output", args)
	}

	export := writeFile(t, dir, "export.json", smallExport)
	code, stdout, stderr = runCLI(t, "rbac", "translate", "--from", export, "--out", "-")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "kind: ClusterRole")
}
