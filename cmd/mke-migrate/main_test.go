package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"mke-migrate"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

const okTOML = "[cluster_config]\ncalico_kdd = true\nkubelet_max_pods = 150\nswarm_port = 2400\n"

func example(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "examples", "mke3-config.toml")
	_, err := os.Stat(p)
	require.NoError(t, err)
	return p
}

func TestConvertWritesConfigAndShortReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mke4.yaml")
	code, stdout, stderr := runCLI(t, "convert", "--mke3-config", example(t), "--config-out", out, "--external-address", "mke.example.com")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "keys accounted for")
	assert.Contains(t, stderr, "MetalLB IP address pools")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	cfg, err := mke4.Unmarshal(data)
	require.NoError(t, err)
	assert.Equal(t, 150, cfg.Spec.Kubelet.MaxPods)
	assert.Equal(t, "mke.example.com", cfg.Spec.APIServer.ExternalAddress)
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "mke4.yaml may hold secrets")
	assert.NotContains(t, stderr+string(data), "example-passphrase-not-a-real-secret")
}

func TestConvertToStdoutAndJSONReport(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "mke3.toml", okTOML)
	rep := filepath.Join(dir, "report.json")
	code, stdout, stderr := runCLI(t, "convert", "--mke3-config", in, "--report-out", rep, "--report-format", "json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "kind: MkeConfig")
	assert.Empty(t, stderr)
	var doc struct {
		Entries []struct{ Key, Status, Target, Reason string } `json:"entries"`
	}
	b, err := os.ReadFile(rep)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Entries, 3)
	assert.Equal(t, "spec.kubelet.maxPods", doc.Entries[1].Target)
	assert.Equal(t, "dropped", doc.Entries[2].Status)
}

func TestConvertBlockingExitsThreeAndStillWrites(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "mke3.toml", "[cluster_config]\ncalico_kdd = false\n")
	out := filepath.Join(dir, "mke4.yaml")
	rep := filepath.Join(dir, "report.txt")
	code, _, stderr := runCLI(t, "convert", "--mke3-config", in, "--config-out", out, "--report-out", rep)
	assert.Equal(t, 3, code)
	assert.Contains(t, stderr, "block the upgrade")
	assert.FileExists(t, out)
	b, err := os.ReadFile(rep)
	require.NoError(t, err)
	assert.Contains(t, string(b), "BLOCKING")
	assert.Contains(t, string(b), "not kdd backend for calico")
}

func TestConvertBadInputExitsTwoAndWritesNothing(t *testing.T) {
	tests := map[string]struct {
		content string
		want    []string
	}{
		"malformed":  {"[cluster_config]\nkubelet_max_pods = = 1\n", []string{"mke3.toml:2:", "invalid TOML"}},
		"wrong type": {"[cluster_config]\nkubelet_max_pods = \"many\"\n", []string{"mke3.toml:2:1", "cluster_config.kubelet_max_pods", "expected an integer"}},
		"empty":      {"", []string{"empty"}},
		"binary":     {"\x7fELF\x00\x00\x01", []string{"not UTF-8 text"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeFile(t, dir, "mke3.toml", tt.content)
			out := filepath.Join(dir, "mke4.yaml")
			rep := filepath.Join(dir, "report.txt")
			code, stdout, stderr := runCLI(t, "convert", "--mke3-config", in, "--config-out", out, "--report-out", rep)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no output (or temporary) file may be left behind")
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "mke3.toml", okTOML)
	badHosts := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    adress: x\n")
	noRole := writeFile(t, dir, "hosts2.yaml", "hosts:\n  - address: 10.0.0.1\n")
	for name, args := range map[string][]string{
		"missing required flag": {"convert"},
		"unknown flag":          {"convert", "--mke3-config", in, "--nope"},
		"unknown command":       {"frobnicate"},
		"bad report format":     {"convert", "--mke3-config", in, "--report-format", "xml"},
		"missing file":          {"convert", "--mke3-config", filepath.Join(dir, "absent.toml")},
		"bad hosts file":        {"convert", "--mke3-config", in, "--hosts-path", badHosts},
		"host without role":     {"convert", "--mke3-config", in, "--hosts-path", noRole},
		"url as address":        {"convert", "--mke3-config", in, "--external-address", "https://mke.example.com"},
		"bad check output":      {"check", "mke3", "--mke3-config", in, "--output", "yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, "Error:")
		})
	}
	code, _, stderr := runCLI(t, "convert", "--mke3-config", in, "--hosts-path", badHosts)
	require.Equal(t, 2, code)
	assert.Contains(t, stderr, "hosts.yaml:3")
	assert.Contains(t, stderr, `unknown field "adress"`)
}

func TestCheckMke3(t *testing.T) {
	code, stdout, stderr := runCLI(t, "check", "mke3", "--mke3-config", example(t))
	require.Equal(t, 0, code, stderr)
	for _, g := range []string{"# Not supported (", "# Supported (", "# Skipped ("} {
		assert.Contains(t, stdout, g)
	}
	assert.NotContains(t, stdout, "example-passphrase-not-a-real-secret")

	dir := t.TempDir()
	in := writeFile(t, dir, "mke3.toml", "[cluster_config]\ncalico_kdd = false\n")
	code, stdout, _ = runCLI(t, "check", "mke3", "--mke3-config", in, "-o", "json")
	assert.Equal(t, 3, code)
	var doc struct {
		Blocking bool `json:"blocking"`
		Items    []struct {
			Key, Group string
			Blocking   bool
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.True(t, doc.Blocking)
	assert.Equal(t, "Not supported", doc.Items[0].Group)
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	code, stdout, _ := runCLI(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "EXIT CODES")
	code, stdout, _ = runCLI(t, "convert", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "--mke3-config")
	assert.Contains(t, stdout, "EXIT CODES")
}

// The built binary, as users run it: real process, real exit codes.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mke-migrate")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, "convert", "--mke3-config", example(t), "--hosts-path", filepath.Join("..", "..", "examples", "hosts.yaml"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), errb.String())
	assert.Contains(t, out.String(), "--profile=gpu")
	assert.Contains(t, out.String(), "keyPath: ~/.ssh/mke", "key paths stay portable")

	dir := t.TempDir()
	in := writeFile(t, dir, "bad.toml", "[x\n")
	cmd = exec.Command(bin, "convert", "--mke3-config", in)
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
}

func TestJSONReportOnStderrIsPureJSON(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "mke3.toml", "[cluster_config]\ncalico_kdd = false\n")
	code, stdout, stderr := runCLI(t, "convert", "--mke3-config", in, "--report-format", "json")
	assert.Equal(t, 3, code)
	assert.Contains(t, stdout, "kind: MkeConfig")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stderr), &doc), stderr)
	assert.Contains(t, doc, "entries")
}

func TestOversizedInputIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "huge.toml")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(64<<20)) // sparse: cheap to make
	require.NoError(t, f.Close())
	code, _, stderr := runCLI(t, "convert", "--mke3-config", p)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "right file")
}

// Every fixture, through the CLI: exit 0 or 3, and every leaf key of the
// input is in the JSON report.
func TestConvertEveryFixtureReportsEveryKey(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "convert", "testdata", "*.toml"))
	files = append(files, filepath.Join("..", "..", "examples", "mke3-config.toml"))
	if shared, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "mke3", "*.toml")); len(shared) > 0 {
		files = append(files, shared...)
	} else {
		t.Log("../shared/fixtures/mke3 not present: checking the project's own fixtures only")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			rep := filepath.Join(dir, "report.json")
			code, _, stderr := runCLI(t, "convert", "--mke3-config", f, "--config-out", filepath.Join(dir, "mke4.yaml"), "--report-out", rep, "--report-format", "json")
			require.Contains(t, []int{0, 3}, code, stderr)
			var doc struct {
				Entries []struct{ Key string } `json:"entries"`
			}
			b, err := os.ReadFile(rep)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &doc))
			reported := map[string]bool{}
			for _, e := range doc.Entries {
				reported[e.Key] = true
			}
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			cfg, err := convert.Parse(f, data)
			require.NoError(t, err)
			for _, l := range cfg.Leaves {
				assert.True(t, reported[l.Key], "%s missing from the report", l.Key)
			}
		})
	}
}

// --mke3-version gates the source (3.7.15+, 3.8.x, 3.9.x) and reports what
// the version changes per key.
func TestCheckMke3Version(t *testing.T) {
	in := filepath.Join("..", "..", "convert", "testdata", "versions", "mke3.9.1.toml")
	for v, want := range map[string]int{"3.7.15": 0, "3.8.8": 0, "3.9.1": 0, "3.7.14": 3, "3.10.0": 3, "3.9": 2} {
		code, _, stderr := runCLI(t, "check", "mke3", "--mke3-config", in, "--mke3-version", v)
		assert.Equal(t, want, code, "%s: %s", v, stderr)
	}
	_, stdout, _ := runCLI(t, "check", "mke3", "--mke3-config", in, "--mke3-version", "3.8.8")
	assert.Contains(t, stdout, "exists from MKE 3.9 on")
	_, stdout, _ = runCLI(t, "convert", "--mke3-config", in, "--mke3-version", "3.9.1", "--report-format", "json")
	assert.Contains(t, stdout, "version: v4.2.0")
}
