package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// The backup passphrase comes from the environment or stdin, never a
// flag value; a missing or short one is a usage error (exit 2).
func TestBackupPassphraseFlags(t *testing.T) {
	t.Setenv("MKE_MIGRATE_TEST_PASS", "twelve bytes long")
	t.Setenv("MKE_MIGRATE_TEST_SHORT", "short")
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string // the passphrase, or the error's text
		code  int
	}{
		{nil, "", "", 0},
		{[]string{"--backup-passphrase-env", "MKE_MIGRATE_TEST_PASS"}, "", "twelve bytes long", 0},
		{[]string{"--backup-passphrase-env", "MKE_MIGRATE_TEST_UNSET"}, "", "MKE_MIGRATE_TEST_UNSET is not set", exitUsage},
		{[]string{"--backup-passphrase-env", "MKE_MIGRATE_TEST_SHORT"}, "", "at least 12 bytes", exitUsage},
		{[]string{"--backup-passphrase-stdin"}, "from standard input\nrest", "from standard input", 0},
		{[]string{"--backup-passphrase-stdin"}, "", "no passphrase on standard input", exitUsage},
		{[]string{"--backup-passphrase-stdin", "--backup-passphrase-env", "MKE_MIGRATE_TEST_PASS"}, "", "not both", exitUsage},
	} {
		var got []byte
		var err error
		app := &cli.App{Flags: passphraseFlags(), Reader: strings.NewReader(tc.stdin), ErrWriter: io.Discard, Writer: io.Discard,
			Action: func(c *cli.Context) error { got, err = backupPassphrase(c); return nil }}
		if rerr := app.Run(append([]string{"x"}, tc.args...)); rerr != nil {
			t.Fatal(rerr)
		}
		if tc.code == 0 {
			if err != nil || string(got) != tc.want {
				t.Errorf("%v: %q, %v; want %q", tc.args, got, err, tc.want)
			}
			continue
		}
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want exit %d with %q", tc.args, err, tc.code, tc.want)
		}
	}
}
