package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// sshFlags are the host-key flags of every command that connects to the
// nodes.
func sshFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "known-hosts", Usage: "check SSH host keys against `FILE` (default ~/.ssh/known_hosts)"},
		&cli.BoolFlag{Name: "ssh-insecure-ignore-host-key", Usage: "accept any SSH host key (labs only)"},
	}
}

// sshOptions are the connect options sshFlags give; the two flags
// exclude each other.
func sshOptions(c *cli.Context) (hosts.ConnectOptions, error) {
	if c.Bool("ssh-insecure-ignore-host-key") && c.String("known-hosts") != "" {
		return hosts.ConnectOptions{}, usagef("give --known-hosts or --ssh-insecure-ignore-host-key, not both")
	}
	return hosts.ConnectOptions{KnownHostsPath: c.String("known-hosts"), InsecureIgnoreHostKey: c.Bool("ssh-insecure-ignore-host-key")}, nil
}

// textOrJSON is a result a command prints as text or, with --json, as
// JSON.
type textOrJSON interface {
	WriteText(io.Writer) error
	WriteJSON(io.Writer) error
}

// writeResult prints r as --json asks, on the command's standard output.
func writeResult(c *cli.Context, r textOrJSON) error {
	if c.Bool("json") {
		return r.WriteJSON(c.App.Writer)
	}
	return r.WriteText(c.App.Writer)
}
