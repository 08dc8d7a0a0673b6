package upgrade

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// F3: the backup command, run by a real sh (and openssl for the
// encryption), makes the archive 0600 in a 0700 folder even under a
// permissive umask and in a folder that was 0755; encrypted, the
// passphrase comes from stdin and the plain archive never reaches the
// disk; a failed backup fails the command. Before the fix the archive was
// 0644 in a 0755 folder.
func TestBackupCmdModes(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	const pass = "correct horse battery staple"
	for _, tc := range []struct {
		name, backup string
		encrypt      bool
		fail         bool
	}{
		{"plain", "printf 'the archive'", false, false},
		{"encrypted", "printf 'the archive'", true, false},
		{"plain, backup fails", "exit 3", false, true},
		{"encrypted, backup fails", "printf partial; exit 3", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			remote := backupPath(dir)
			enc := ""
			if tc.encrypt {
				enc = Commands{}.withDefaults().Encrypt
			}
			cmd := exec.Command("sh", "-c", "umask 022; "+backupCmd(dir, "", tc.backup, remote, enc))
			cmd.Stdin = strings.NewReader(pass + "\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tc.fail {
				if err == nil {
					t.Fatalf("a failed backup succeeded: %s", out)
				}
				if _, err := os.Stat(remote); err == nil {
					t.Fatal("a failed backup left an archive")
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			if strings.Contains(stderr.String()+string(out), pass) {
				t.Fatal("the passphrase was printed")
			}
			for p, want := range map[string]os.FileMode{dir: 0o700, remote: 0o600} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
				}
			}
			got, err := os.ReadFile(remote)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.encrypt {
				if string(got) != "the archive" {
					t.Fatalf("archive %q", got)
				}
				return
			}
			if bytes.Contains(got, []byte("the archive")) {
				t.Fatal("the encrypted archive holds the plain text")
			}
			dec := exec.Command("openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", "600000", "-pass", "env:P", "-in", remote)
			dec.Env = append(os.Environ(), "P="+pass)
			plain, err := dec.Output()
			if err != nil || string(plain) != "the archive" {
				t.Fatalf("decrypted %q, %v", plain, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("left in the folder: %v", entries)
			}
		})
	}
}

func TestBackupPassphraseChecked(t *testing.T) {
	for _, p := range []string{"short", "twelve bytes\nand a line", ""} {
		if _, err := New(Options{Hosts: inventoryHosts(), OutputDir: "x", KubeconfigPath: "kc", BackupPassphrase: []byte(p)}); err == nil {
			t.Errorf("passphrase %q accepted", p)
		}
	}
}
