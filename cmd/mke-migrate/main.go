// Command mke-migrate moves a Mirantis Kubernetes Engine 3 cluster to
// MKE 4k. It is a thin layer over the project's packages: it maps flags to
// option structs and owns signals, output streams and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, documented in --help.
const (
	exitOK       = 0
	exitFailure  = 1 // the operation failed
	exitUsage    = 2 // bad flags or unusable input
	exitBlocking = 3 // a check found something that blocks the upgrade
)

// exitError carries an exit code through the CLI framework; a nil err
// exits without a message (the output already said everything).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error        { return &exitError{exitUsage, err} }
func failure(err error) error         { return &exitError{exitFailure, err} }
func blocking(err error) error        { return &exitError{exitBlocking, err} }
func silentExit(code int) error       { return &exitError{code: code} }
func usagef(f string, a ...any) error { return usageErr(fmt.Errorf(f, a...)) }

func main() {
	ctx, stop := signalContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// interrupted is the cause (context.Cause) of the CLI's context when a
// signal ended it; any other end (stop, a parent's deadline) is not an
// interrupt, and nothing may say that one was sent.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return e.sig.String() + " signal received" }

// signalContext is signal.NotifyContext with a cause that says which
// signal ended the context.
func signalContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			cancel(&interrupted{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// wasInterrupted reports whether a signal ended ctx.
func wasInterrupted(ctx context.Context) bool {
	var ie *interrupted
	return errors.As(context.Cause(ctx), &ie)
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err == nil {
			return ee.code
		}
		fmt.Fprintf(stderr, "Error: %v\n", ee.err)
		return ee.code
	}
	// Anything else comes from flag parsing or the framework: a usage error.
	fmt.Fprintf(stderr, "Error: %v\nRun '%s --help' for usage.\n", err, app.Name)
	return exitUsage
}
