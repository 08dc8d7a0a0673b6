package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// passphraseFlags choose where the MKE 3 backup's passphrase comes from:
// never a flag value (argv is visible to every user of the machine).
func passphraseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "backup-passphrase-env", Usage: "encrypt MKE 3's backup archive with the passphrase in environment variable `NAME`"},
		&cli.BoolFlag{Name: "backup-passphrase-stdin", Usage: "encrypt MKE 3's backup archive with the first line of standard input (asked without echo on a terminal)"},
	}
}

// backupPassphrase reads the passphrase the flags name; nil for none.
func backupPassphrase(c *cli.Context) ([]byte, error) {
	env, stdin := c.String("backup-passphrase-env"), c.Bool("backup-passphrase-stdin")
	var p []byte
	switch {
	case env != "" && stdin:
		return nil, usagef("give --backup-passphrase-env or --backup-passphrase-stdin, not both")
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, usagef("--backup-passphrase-env: environment variable %s is not set", env)
		}
		p = []byte(v)
	case stdin:
		if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(c.App.ErrWriter, "Backup passphrase: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(c.App.ErrWriter)
			if err != nil {
				return nil, failure(err)
			}
			p = b
		} else {
			line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				return nil, usagef("--backup-passphrase-stdin: no passphrase on standard input")
			}
			p = []byte(strings.TrimRight(line, "\r\n"))
		}
	default:
		return nil, nil
	}
	if len(p) < 12 {
		return nil, usagef("the backup passphrase must be at least 12 bytes")
	}
	return p, nil
}
