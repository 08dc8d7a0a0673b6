package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every command that connects to the nodes takes the host-key flags
// (sshFlags) and refuses both at once before it connects.
func TestSSHFlagsExcludeEachOther(t *testing.T) {
	dir := t.TempDir()
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    role: manager\n")
	kh := writeFile(t, dir, "known_hosts", "")
	both := []string{"--hosts-path", hostsFile, "--known-hosts", kh, "--ssh-insecure-ignore-host-key"}
	for name, cmd := range map[string][]string{
		"preflight":      {"preflight"},
		"check ports":    {"check", "ports"},
		"support-bundle": {"support-bundle", "--output", dir},
		"upgrade":        {"upgrade", "--mke3-admin-username", "a", "--external-address", "x", "--force", "--dry-run"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append(cmd, both...)...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, "give --known-hosts or --ssh-insecure-ignore-host-key, not both")
			assert.Empty(t, stdout)
		})
	}
}
