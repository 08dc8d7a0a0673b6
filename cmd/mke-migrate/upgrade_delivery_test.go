package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDeliveryFlags(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("MKE_PASSWORD", "not-used-by-these-tests")
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    role: manager\n  - address: 10.0.0.2\n    role: worker\n")
	k0s := writeFile(t, dir, "k0s", "binary")
	base := []string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "admin", "--external-address", "mke.example.com",
		"--force", "--output", filepath.Join(dir, "out")}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	other := strings.Repeat("ab", 32)
	for name, tt := range map[string]struct {
		args []string
		want string
	}{
		"unknown mode":                  {with("--k0s-binary", k0s, "--k0s-delivery", "scp"), "--k0s-delivery"},
		"url without binary nor sum":    {with("--k0s-delivery", "url", "--k0s-download-url", "https://mirror/k0s"), "--k0s-binary is required"},
		"peer without binary":           {with("--k0s-delivery", "peer", "--k0s-sha256", other), "--k0s-binary is required"},
		"sum of another binary":         {with("--k0s-binary", k0s, "--k0s-sha256", other), "--k0s-sha256"},
		"sum not hex":                   {with("--k0s-delivery", "url", "--k0s-sha256", "xyz", "--k0s-download-url", "https://m/k0s"), "--k0s-sha256"},
		"default URL without version":   {with("--k0s-delivery", "url", "--k0s-binary", k0s), "--k0s-version"},
		"URL not http":                  {with("--k0s-delivery", "url", "--k0s-binary", k0s, "--k0s-download-url", "file:///k0s"), "--k0s-download-url"},
		"URL with a quote":              {with("--k0s-delivery", "url", "--k0s-binary", k0s, "--k0s-download-url", `https://m/k"0s`), "--k0s-download-url"},
		"URL without url mode":          {with("--k0s-binary", k0s, "--k0s-download-url", "https://m/k0s"), "only with --k0s-delivery url"},
		"negative uploads":              {with("--k0s-binary", k0s, "--concurrent-uploads", "-1"), "--concurrent-uploads"},
		"fanout zero":                   {with("--k0s-binary", k0s, "--k0s-peer-fanout", "0"), "--k0s-peer-fanout"},
		"ports past 65535":              {with("--k0s-binary", k0s, "--k0s-peer-port", "65535"), "--k0s-peer-port"},
		"resume, url without a sum":     {[]string{"resume", "--hosts-path", hostsFile, "--output", dir, "--k0s-delivery", "url"}, "--k0s-binary is required"},
		"resume, peer without a binary": {[]string{"resume", "--hosts-path", hostsFile, "--output", dir, "--k0s-sha256", other}, "--k0s-binary is required"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			assert.Equal(t, 2, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NoDirExists(t, filepath.Join(dir, "out"), "nothing is written on a usage error")
		})
	}
	_, stdout, _ := runCLI(t, "upgrade", "--help")
	for _, f := range []string{"--k0s-delivery", "--k0s-download-url", "--k0s-version", "--k0s-sha256", "--concurrent-uploads", "--k0s-peer-fanout", "--k0s-peer-port"} {
		assert.Contains(t, stdout, f)
	}
}
