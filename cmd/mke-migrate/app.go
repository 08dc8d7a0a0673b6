package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

const exitCodesHelp = `EXIT CODES:
   0  success
   1  the operation failed
   2  usage error or unusable input (bad flag, unreadable or malformed file)
   3  something blocks the upgrade (outputs are still written)`

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "mke-migrate",
		Usage:                "migrate Mirantis Kubernetes Engine 3 clusters to MKE 4k",
		Version:              version(),
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// Errors are printed and mapped to exit codes by run, not here.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageErr(err)
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitCodesHelp + "\n",
		Before:                relaxForCompletion,
		Commands: append([]*cli.Command{
			convertCommand(),
			checkCommand(),
			reportCommand(),
		}, append(append(mke3Commands(), preflightCommand(), rbacCommand()),
			append(upgradeCommands(), swarmCommand(), supportBundleCommand(), verifyCommand(), demoCommand(), versionCommand(), completionCommand())...)...),
	}
	for _, c := range app.Commands {
		c.CustomHelpTemplate = cli.CommandHelpTemplate + "\n" + exitCodesHelp + "\n"
		for _, s := range c.Subcommands {
			s.CustomHelpTemplate = cli.CommandHelpTemplate + "\n" + exitCodesHelp + "\n"
		}
	}
	return app
}

// relaxForCompletion lets the shell ask for a command's flags before the
// required ones are typed: the framework checks required flags even then.
// Like the framework's own completion, it reads os.Args.
func relaxForCompletion(c *cli.Context) error {
	if len(os.Args) == 0 || os.Args[len(os.Args)-1] != "--generate-bash-completion" {
		return nil
	}
	var relax func(cs []*cli.Command)
	relax = func(cs []*cli.Command) {
		for _, cmd := range cs {
			for _, f := range cmd.Flags {
				if sf, ok := f.(*cli.StringFlag); ok {
					sf.Required = false
				}
			}
			relax(cmd.Subcommands)
		}
	}
	relax(c.App.Commands)
	return nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// fprintf writes to a CLI stream; a failed write to stdout is a failure.
func fprintf(w io.Writer, format string, a ...any) error {
	if _, err := fmt.Fprintf(w, format, a...); err != nil {
		return failure(fmt.Errorf("write output: %w", err))
	}
	return nil
}
