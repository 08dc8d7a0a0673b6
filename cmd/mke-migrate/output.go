package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// Output files. Every flag naming a file the CLI writes goes through
// checkOutputs before any work (reading inputs, logging in, connecting)
// and through writeOutput at the end. "-" is standard output. Anything at
// the path that is not a regular file (a device such as /dev/null, a
// symbolic link, a folder) is refused, never replaced, with exit 2; so is
// a path whose folder does not exist.

// stdoutPath names standard output in a file flag.
const stdoutPath = "-"

// checkOutputs checks the file flags named (those that are set and not
// "-"), and that at most one output goes to standard output: stdoutTaken
// says whether the command already prints there without a flag.
func checkOutputs(c *cli.Context, stdoutTaken bool, flags ...string) error {
	toStdout := 0
	if stdoutTaken {
		toStdout++
	}
	var named []string
	for _, f := range flags {
		switch p := c.String(f); p {
		case "":
		case stdoutPath:
			toStdout++
			named = append(named, "--"+f)
		default:
			if err := atomicfile.Check(p); err != nil {
				return usagef("--%s %w", f, err)
			}
		}
	}
	if toStdout > 1 {
		return usagef("%v: only one output can go to standard output (-); write the others to files", named)
	}
	return nil
}

// writeOutput writes data to the file of flag, or to standard output when
// it is "-". A path refused by atomicfile exits 2, another failure 1.
func writeOutput(c *cli.Context, flag string, data []byte, perm os.FileMode) error {
	return writeOutputFunc(c, flag, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeOutputFunc is writeOutput for content that write produces as it
// goes (a large report), so that it is never held whole in memory.
func writeOutputFunc(c *cli.Context, flag string, perm os.FileMode, write func(io.Writer) error) error {
	p := c.String(flag)
	if p == stdoutPath {
		if err := write(c.App.Writer); err != nil {
			return failure(fmt.Errorf("write output: %w", err))
		}
		return nil
	}
	if err := atomicfile.Write(p, perm, write); err != nil {
		if errors.Is(err, atomicfile.ErrUnusable) {
			return usagef("--%s %w", flag, err)
		}
		return failure(fmt.Errorf("--%s: %w", flag, err))
	}
	return nil
}

func writeTo(w io.Writer, data []byte) error {
	if _, err := w.Write(data); err != nil {
		return failure(fmt.Errorf("write output: %w", err))
	}
	return nil
}

// checkRunOutputs is checkOutputs for upgrade, plus --kubeconfig, whose
// folder the upgrade creates when missing.
func checkRunOutputs(c *cli.Context, stdoutTaken bool, flags ...string) error {
	if err := checkOutputs(c, stdoutTaken, flags...); err != nil {
		return err
	}
	if p := c.String("kubeconfig"); p != "" {
		err := atomicfile.Check(p)
		if _, serr := os.Stat(filepath.Dir(p)); err != nil && serr == nil {
			return usagef("--kubeconfig %w", err)
		}
	}
	return nil
}

// writeConfig writes the run's mke4.yaml to --config-out (a dry run, or
// standard output: the engine writes a file itself).
func (s *runSetup) writeConfig(c *cli.Context, sh *upgrade.Shared) error {
	y, err := mke4.Marshal(*sh.Config)
	if err != nil {
		return failure(err)
	}
	if s.yamlOut != nil {
		return writeTo(s.yamlOut, y)
	}
	return writeOutput(c, "config-out", y, 0o600)
}
