package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

// timingFlags are mkectl's time windows, in minutes, next to our
// --timeout: --upgrade-timeout-minutes is --timeout in minutes (the run
// rolls back when it is exceeded); --timeout-minutes bounds the whole
// command (discovery, the run and its rollback), as mkectl's bounds "the
// totality" of its work.
func timingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "upgrade-timeout-minutes", DefaultText: "60, as --timeout", Usage: "mkectl's name for --timeout, in `MINUTES`: roll back when the upgrade takes longer"},
		&cli.IntFlag{Name: "timeout-minutes", DefaultText: "no bound beyond --timeout and the rollback's own", Usage: "end the whole command (discovery, upgrade and rollback) after `MINUTES`"},
	}
}

// upgradeOpsFlags are the flags only upgrade has.
func upgradeOpsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "data-dir", Aliases: []string{"d"}, Value: upgrade.DefaultDataDir, Usage: "k0s's data `DIR` on every node, ending in /k0s (e.g. /var/lib/docker/k0s on MKE 3's Docker partition); preflight checks that it can be made and has room"},
		&cli.BoolFlag{Name: "skip-verify", Usage: "do not end the upgrade with mke-migrate verify's checks of the new cluster (nodes Ready with their labels and taints, system pods, every carried object, RBAC, the external address); a failed check is reported (exit 3, verify.txt, a support bundle), never rolled back"},
		// --verify was the opt-in before verify became the default: kept
		// so that scripts still run, and said to be a no-op
		&cli.BoolFlag{Name: "verify", Hidden: true, Usage: "deprecated: verify is the default (see --skip-verify)"},
		&cli.StringFlag{Name: "backup-path", Usage: "use the existing MKE 3 backup `FILE` (a plain tar made by mirantis/ucp backup) as the run's way back instead of taking one; verified first: this cluster's ID and MKE version"},
	}
}

// verifyOption refuses --verify with --skip-verify and says that
// --verify, once the opt-in, does nothing now.
func verifyOption(c *cli.Context) error {
	if !c.Bool("verify") {
		return nil
	}
	if c.Bool("skip-verify") {
		return usagef("--verify and --skip-verify contradict each other (--verify is deprecated: verify is the default)")
	}
	fmt.Fprintln(c.App.ErrWriter, "Warning: --verify is deprecated and does nothing: the upgrade verifies by default (--skip-verify turns it off)")
	return nil
}

// timingOptions maps the timing flags onto o (after validateRunFlags) and
// bounds c.Context with --timeout-minutes; the returned function releases
// that bound.
func timingOptions(c *cli.Context, o *upgrade.Options) (func(), error) {
	if c.IsSet("upgrade-timeout-minutes") {
		m := c.Int("upgrade-timeout-minutes")
		if m < 1 {
			return nil, usagef("--upgrade-timeout-minutes: must be at least 1")
		}
		d := time.Duration(m) * time.Minute
		if c.IsSet("timeout") && c.Duration("timeout") != d {
			return nil, usagef("--upgrade-timeout-minutes and --timeout are the same setting: give one")
		}
		o.Timeout = d
	}
	if !c.IsSet("timeout-minutes") {
		return func() {}, nil
	}
	m := c.Int("timeout-minutes")
	if m < 1 {
		return nil, usagef("--timeout-minutes: must be at least 1")
	}
	d := time.Duration(m) * time.Minute
	if o.Timeout > d {
		return nil, usagef("--timeout-minutes (%v) is shorter than the upgrade's timeout (%v): the command would end before the run could", d, o.Timeout)
	}
	ctx, cancel := context.WithTimeoutCause(c.Context, d, fmt.Errorf("the command took longer than --timeout-minutes %d", m))
	c.Context = ctx
	return cancel, nil
}

// backupPathOption checks --backup-path before anything is reached (the
// archive itself is verified against the cluster by Discover), and maps
// --data-dir.
func backupPathOption(c *cli.Context, o *upgrade.Options) error {
	if d := c.String("data-dir"); d != "" && d != upgrade.DefaultDataDir {
		o.DataDir = d
		chk := upgrade.Options{DataDir: d}
		if err := chk.CheckDataDir(); err != nil {
			return usagef("--data-dir: %w", err)
		}
	}
	p := c.String("backup-path")
	if p == "" {
		return nil
	}
	if c.String("backup-passphrase-env") != "" || c.Bool("backup-passphrase-stdin") {
		return usagef("--backup-path: the given backup is used as it is; a backup passphrase encrypts the backup the run takes: give one or the other")
	}
	fi, err := os.Stat(p)
	if err != nil {
		return usagef("--backup-path: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return usagef("--backup-path: %s is not a regular file", p)
	}
	o.BackupPath = p
	return nil
}

// printBundles names the support bundles a failed run wrote.
func printBundles(w io.Writer, res *upgrade.Result) {
	if res == nil {
		return
	}
	for _, p := range res.SupportBundles {
		fmt.Fprintf(w, "Support bundle: %s\n", p)
	}
}
