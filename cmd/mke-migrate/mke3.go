package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mke-migrate/mke-migrate/mke3"
)

// mke3Flags are the flags of every command that talks to the MKE 3 API.
func mke3Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "mke3-host", Usage: "MKE 3 `HOST[:PORT]` (a manager or its load balancer)", Required: true},
		&cli.StringFlag{Name: "mke3-admin-username", Usage: "MKE 3 admin `USER`", Required: true},
		&cli.StringFlag{Name: "mke3-admin-password", Usage: "MKE 3 admin `PASSWORD` (visible to other users in the process list: prefer MKE_PASSWORD or --mke3-admin-password-stdin)"},
		&cli.BoolFlag{Name: "mke3-admin-password-stdin", Usage: "read the MKE 3 admin password from the first line of standard input"},
		&cli.StringFlag{Name: "mke3-ca-cert", Usage: "trust the MKE 3 API certificate signed by the CA in `FILE` (PEM)"},
		&cli.StringFlag{Name: "mke3-ca-fingerprint", Usage: "trust the MKE 3 API certificate with this `SHA256` fingerprint (the error for an unknown certificate prints it)"},
		&cli.BoolFlag{Name: "mke3-insecure", Usage: "do not verify the MKE 3 API certificate (not recommended)"},
		&cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Value: "warn", Usage: "log `LEVEL` on stderr: debug, info, warn, error"},
	}
}

func mke3Commands() []*cli.Command {
	return []*cli.Command{
		{
			Name:  "mke3",
			Usage: "read from the MKE 3 API",
			Subcommands: []*cli.Command{{
				Name:  "config",
				Usage: "download the MKE 3 configuration TOML (the input of convert)",
				Flags: append(mke3Flags(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the TOML to `FILE` (atomically, owner-readable only; only a regular file is replaced) instead of stdout"},
				),
				Action: runMKE3Config,
			}},
		},
		{
			Name:  "calico-kdd",
			Usage: "check or switch the Calico datastore of MKE 3 from etcd to Kubernetes (KDD), the upgrade prerequisite",
			Description: `With --check: prints the datastore; exit 0 when it is already KDD, 3 when it is still etcd.
Without: switches to KDD by sending MKE 3 its own configuration back with only
cluster_config.calico_kdd changed, then reads it again to verify. The switch cannot be undone,
and new pods get no networking for about 20 seconds per node while it runs. It asks for
confirmation on a terminal; without one it refuses unless --force is given.`,
			Flags: append(mke3Flags(),
				&cli.BoolFlag{Name: "check", Usage: "only report the datastore"},
				&cli.BoolFlag{Name: "force", Usage: "switch without asking for confirmation"},
			),
			Action: runCalicoKDD,
		},
	}
}

func logger(c *cli.Context) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: lvl})), nil
}

// password takes the MKE 3 password from, in order: the flag, standard
// input (--mke3-admin-password-stdin), MKE_PASSWORD, or a prompt without
// echo on a terminal. It is never echoed or put in an error.
func password(c *cli.Context) (string, error) {
	fromFlag, fromStdin := c.String("mke3-admin-password"), c.Bool("mke3-admin-password-stdin")
	switch {
	case fromFlag != "" && fromStdin:
		return "", usagef("give the password with --mke3-admin-password or --mke3-admin-password-stdin, not both")
	case fromFlag != "":
		return fromFlag, nil
	case fromStdin:
		line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", usagef("read the password from standard input: %w", err)
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, nil
		}
		return "", usagef("--mke3-admin-password-stdin: standard input is empty")
	}
	if p := os.Getenv("MKE_PASSWORD"); p != "" {
		return p, nil
	}
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(c.App.ErrWriter, "MKE 3 password for %s: ", c.String("mke3-admin-username"))
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", usagef("read the password: %w", err)
		}
		return string(b), nil
	}
	return "", usagef("no MKE 3 password: set MKE_PASSWORD, or use --mke3-admin-password-stdin or --mke3-admin-password")
}

// mke3Client maps the flags to mke3.Options.
func mke3Client(c *cli.Context) (*mke3.Client, error) {
	log, err := logger(c)
	if err != nil {
		return nil, err
	}
	pw, err := password(c)
	if err != nil {
		return nil, err
	}
	opts := mke3.Options{
		Host:          c.String("mke3-host"),
		Username:      c.String("mke3-admin-username"),
		Password:      pw,
		CAFingerprint: c.String("mke3-ca-fingerprint"),
		Insecure:      c.Bool("mke3-insecure"),
		Logger:        log,
		UserAgent:     "mke-migrate/" + version(),
	}
	if p := c.String("mke3-ca-cert"); p != "" {
		if opts.CACertPEM, err = os.ReadFile(p); err != nil {
			return nil, usagef("--mke3-ca-cert: %w", err)
		}
	}
	client, err := mke3.New(opts)
	if err != nil {
		return nil, usageErr(err)
	}
	return client, nil
}

// apiFailure maps MKE 3 API errors to exit codes: a certificate or
// credential problem is the user's to fix (2), the rest is a failure (1).
func apiFailure(err error) error {
	var ce *mke3.CertificateError
	if errors.As(err, &ce) || errors.Is(err, mke3.ErrUnauthorized) {
		return usageErr(err)
	}
	return failure(err)
}

// fetchConfigTOML downloads the MKE 3 configuration with the flags' client.
func fetchConfigTOML(c *cli.Context) ([]byte, error) {
	client, err := mke3Client(c)
	if err != nil {
		return nil, err
	}
	data, err := client.ConfigTOML(c.Context)
	if err != nil {
		return nil, apiFailure(err)
	}
	return data, nil
}

func runMKE3Config(c *cli.Context) error {
	// Before logging in: a bad path fails at once.
	if err := checkOutputs(c, false, "output"); err != nil {
		return err
	}
	data, err := fetchConfigTOML(c)
	if err != nil {
		return err
	}
	if c.String("output") != "" {
		// The TOML can hold secrets (backup passphrase, SCIM token).
		return writeOutput(c, "output", data, 0o600)
	}
	if _, err := c.App.Writer.Write(data); err != nil {
		return failure(err)
	}
	return nil
}

func runCalicoKDD(c *cli.Context) error {
	client, err := mke3Client(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	state, err := client.CalicoDatastore(ctx)
	if err != nil {
		return apiFailure(err)
	}
	if c.Bool("check") || state.KDD {
		if err := fprintf(c.App.Writer, "Calico datastore: %s\n", state); err != nil {
			return err
		}
		if !state.KDD {
			return silentExit(exitBlocking)
		}
		return nil
	}
	if err := fprintf(c.App.ErrWriter, `Calico on %s uses the etcd datastore. MKE 4k needs the Kubernetes datastore (KDD).
The switch cannot be undone, and while it runs (about 20 seconds per node) new pods get no networking.
`, c.String("mke3-host")); err != nil {
		return err
	}
	if !c.Bool("force") {
		if err := confirm(c, "Switch Calico to KDD now? Type yes to continue: "); err != nil {
			return err
		}
	}
	res, err := client.SwitchCalicoKDD(ctx)
	if err != nil {
		return apiFailure(err)
	}
	return fprintf(c.App.Writer, "Calico datastore: kdd (%s)\n", res.Message)
}

// confirm asks on a terminal; without one it refuses (--force skips it).
func confirm(c *cli.Context, question string) error {
	f, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return usagef("refusing to switch without confirmation: standard input is not a terminal (use --force to switch anyway)")
	}
	fmt.Fprint(c.App.ErrWriter, question)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return failure(err)
	}
	if strings.TrimSpace(strings.ToLower(line)) != "yes" {
		return &exitError{code: exitFailure, err: errors.New("not switched: confirmation not given")}
	}
	return nil
}
