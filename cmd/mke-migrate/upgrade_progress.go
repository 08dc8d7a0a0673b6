package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/mke-migrate/mke-migrate/plan"
)

// ANSI colours, used only on a terminal without NO_COLOR.
const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// useColor: colour only on a terminal, and never with NO_COLOR set.
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reporter prints an upgrade's events as "Step i of n: step on host ...
// done (1.2s)" lines. Steps of one stage run at once, so a start line is
// left open only until another line must be printed.
type reporter struct {
	w     io.Writer
	color bool

	mu       sync.Mutex
	open     string // the event whose start line awaits its end
	version  string // MKE 3 version, for the rollback lines
	rollback bool   // the rollback header was printed
}

func newReporter(w io.Writer) *reporter { return &reporter{w: w, color: useColor(w)} }

func (r *reporter) paint(color, s string) string {
	if !r.color {
		return s
	}
	return color + s + reset
}

func (r *reporter) closeLine() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
}

func (r *reporter) closeLocked() {
	if r.open != "" {
		fmt.Fprintln(r.w)
		r.open = ""
	}
}

func (r *reporter) startRollback() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headerLocked()
}

func (r *reporter) headerLocked() {
	if r.rollback {
		return
	}
	r.closeLocked()
	r.rollback = true
	fmt.Fprintln(r.w, r.paint(yellow, "Initiating rollback of MKE to version: "+r.version))
}

func (r *reporter) rollbackDone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	fmt.Fprintln(r.w, r.paint(green, fmt.Sprintf("Rollback to MKE version %s completed successfully", r.version)))
}

// watchInterrupt says so when a signal (Ctrl-C) ends the context: the run
// then rolls back on its own. Nothing is printed when the context ends
// otherwise, or after stop returns (stop waits for the watcher).
func (r *reporter) watchInterrupt(ctx context.Context) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			if !wasInterrupted(ctx) {
				return
			}
			r.mu.Lock()
			r.closeLocked()
			fmt.Fprintln(r.w, r.paint(yellow, "Aborting upgrade due to signal interrupt"))
			r.mu.Unlock()
		case <-done:
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-exited }) }
}

func (r *reporter) event(e plan.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := e.Step
	if e.Host != "" {
		what += " on " + e.Host
	}
	prefix := fmt.Sprintf("Step %d of %d: ", e.Index, e.Total)
	id := e.Step + "@" + e.Host
	switch e.Kind {
	case plan.EventUndoStart, plan.EventUndoDone, plan.EventUndoFailed:
		r.headerLocked()
		prefix = fmt.Sprintf("Step %d of %d [Rollback]: undo ", e.Index, e.Total)
		id = "undo:" + id
	case plan.EventRollbackInfo:
		r.headerLocked()
		return
	}
	took := fmt.Sprintf("(%.1fs)", e.Took.Seconds())
	end := ""
	switch e.Kind {
	case plan.EventStepStart, plan.EventUndoStart:
		r.closeLocked()
		fmt.Fprintf(r.w, "%s%s ...", prefix, what)
		r.open = id
		return
	case plan.EventStepDone, plan.EventUndoDone:
		end = r.paint(green, "done") + " " + took
	case plan.EventStepFailed, plan.EventUndoFailed:
		end = r.paint(red, "failed") + " " + took
		if e.Err != nil {
			end += ": " + e.Err.Error()
		}
	case plan.EventStepSkipped:
		end = "skipped (done in an earlier run)"
	default:
		return
	}
	if r.open == id {
		fmt.Fprintf(r.w, " %s\n", end)
		r.open = ""
		return
	}
	r.closeLocked()
	fmt.Fprintf(r.w, "%s%s ... %s\n", prefix, what, end)
}
