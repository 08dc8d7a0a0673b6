package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// logFileName is the debug log kept in every run's output directory.
const logFileName = "mke-migrate.log"

// runFlags are the SSH and run flags of upgrade, resume and rollback.
func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE`", Required: true},
		&cli.StringFlag{Name: "k0s-binary", Usage: "the k0s executable `FILE` to install on every node (see --k0s-delivery)"},
		&cli.DurationFlag{Name: "timeout", Value: upgrade.DefaultTimeout, Usage: "roll back when the upgrade takes longer than `DURATION`"},
		&cli.IntFlag{Name: "worker-batch", Value: upgrade.DefaultWorkerBatch, Usage: "move `PERCENT` of the workers per stage (at least one; default all, --concurrency at a time: the cluster is down until the last worker is back, smaller batches only limit how many nodes a failure touches)"},
		&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
		&cli.StringFlag{Name: "kubeconfig", Usage: "write the MKE 4k admin kubeconfig to `FILE` (default ~/.mke/mke.kubeconf)"},
		&cli.BoolFlag{Name: "json", Usage: "print the result and summary as JSON on stdout (progress stays on stderr)"},
		&cli.IntFlag{Name: "retries", Value: upgrade.DefaultRetryTries, Usage: "past the point of no return (MKE 3's uninstall and after), try a step that fails transiently (SSH connection lost, a try past its step timeout) up to `N` times in all, pausing 2 s, then 4 s, …, before stopping for resume (1: no retry)"},
	}, slices.Concat(sshFlags(), passphraseFlags(), registryFlags(), timingFlags(), deliveryFlags())...)
}

// runSetup is what upgrade, resume and rollback share.
type runSetup struct {
	opts    upgrade.Options
	logPath string
	logFile *os.File
	out     *reporter
	json    bool
	// yamlOut is standard output when --config-out is -.
	yamlOut io.Writer
	// releaseDir hands the output folder's lock to the engine (openRunLog).
	releaseDir func()
	// releaseTime ends the --timeout-minutes bound of the command.
	releaseTime func()
}

// handOver gives the output folder's lock to the engine, which takes it
// in Apply, Resume and Rollback.
func (s *runSetup) handOver() {
	if s.releaseDir != nil {
		s.releaseDir()
	}
}

func (s *runSetup) close() {
	if s.releaseTime != nil {
		s.releaseTime()
	}
	if s.releaseDir != nil {
		s.releaseDir()
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
}

// validateRunFlags checks the flags every run command has.
func validateRunFlags(c *cli.Context) error {
	if n := c.Int("worker-batch"); n < 1 || n > 100 {
		return usagef("--worker-batch: %d is not a percentage from 1 to 100", n)
	}
	if c.Int("concurrency") < 1 {
		return usagef("--concurrency: must be at least 1")
	}
	if c.Duration("timeout") <= 0 {
		return usagef("--timeout: must be positive")
	}
	if c.Int("retries") < 1 {
		return usagef("--retries: must be at least 1 (1: no retry)")
	}
	if _, err := sshOptions(c); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usagef("--log-level: %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	return nil
}

// newRunSetup maps the common flags to upgrade.Options and opens the debug
// log in dir ("" for none: a dry run writes nothing).
func newRunSetup(c *cli.Context, dir string) (*runSetup, error) {
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return nil, usageErr(err)
	}
	var k0s []byte
	if p := c.String("k0s-binary"); p != "" {
		if k0s, err = readK0sBinary(p); err != nil {
			return nil, err
		}
	}
	// what installs k0s needs it (a dry run and a rollback do not)
	delivery, err := deliveryOptions(c, k0s, c.Command.Name == "resume" || (c.Command.Name == "upgrade" && !c.Bool("dry-run")))
	if err != nil {
		return nil, err
	}
	connect, err := sshOptions(c)
	if err != nil {
		return nil, err
	}
	// the registries' credentials and CAs before the output folder exists
	reg := upgrade.Options{Timeout: c.Duration("timeout")}
	if err := registryOptions(c, &reg); err != nil {
		return nil, err
	}
	if err := backupPathOption(c, &reg); err != nil {
		return nil, err
	}
	releaseTime, err := timingOptions(c, &reg)
	if err != nil {
		return nil, err
	}
	s := &runSetup{json: c.Bool("json"), out: newReporter(c.App.ErrWriter), releaseTime: releaseTime}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", c.String("log-level"))
	}
	handlers := []slog.Handler{slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: lvl})}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, failure(err)
		}
		// after the folder's lock, never through a link (F9)
		if s.logFile, s.releaseDir, err = openRunLog(dir); err != nil {
			return nil, err
		}
		s.logPath = filepath.Join(dir, logFileName)
		handlers = append(handlers, slog.NewTextHandler(s.logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	log := slog.New(slog.NewMultiHandler(handlers...))
	connect.Logger = log
	s.opts = upgrade.Options{
		Hosts:          file.Hosts,
		Connect:        connect,
		OutputDir:      dir,
		KubeconfigPath: c.String("kubeconfig"),
		Concurrency:    c.Int("concurrency"),
		WorkerBatch:    c.Int("worker-batch"),
		Timeout:        c.Duration("timeout"),
		Retry:          upgrade.RetryOptions{Tries: c.Int("retries")},
		Logger:         log,
		Events:         s.out.event,
	}
	s.opts.K0sBinary, s.opts.Delivery = k0s, delivery
	if s.opts.BackupPassphrase, err = backupPassphrase(c); err != nil {
		s.close()
		return nil, err
	}
	s.opts.ImageRegistryAuth, s.opts.ChartRegistryAuth, s.opts.ImageRegistryCA, s.opts.ChartRegistryCA = reg.ImageRegistryAuth, reg.ChartRegistryAuth, reg.ImageRegistryCA, reg.ChartRegistryCA
	s.opts.Timeout, s.opts.BackupPath, s.opts.DataDir, s.opts.SkipVerify = reg.Timeout, reg.BackupPath, reg.DataDir, c.Bool("skip-verify")
	return s, nil
}

func readK0sBinary(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, usagef("--k0s-binary: %w", err)
	}
	if len(b) == 0 {
		return nil, usagef("--k0s-binary: %s is empty", p)
	}
	return b, nil
}

// defaultOutputDir is a new folder per run under the XDG state directory.
func defaultOutputDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", usagef("no home directory for the output folder: give --output")
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "mke-migrate", time.Now().Format("20060102-150405"))
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return dir, nil
		}
		dir = filepath.Join(base, "mke-migrate", fmt.Sprintf("%s-%d", time.Now().Format("20060102-150405"), i))
	}
}
