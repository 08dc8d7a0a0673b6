package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const abortLine = "Aborting upgrade due to signal interrupt"

// lockedBuffer is written by the watcher's goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// F11 (issue 14): the abort line was printed when the context ended without
// a signal (main's stop after a failed run, a deadline), racing with the
// watcher's stop. Many rounds: the old watcher printed in about half.
func TestWatchInterruptSaysNothingWithoutASignal(t *testing.T) {
	for i := range 200 {
		var out lockedBuffer
		r := &reporter{w: &out}
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := r.watchInterrupt(ctx)
		if i%2 == 0 {
			cancel(nil) // the context ends first, without a signal
			stop()
		} else {
			stop() // the run ended first; main's stop then ends the context
			cancel(nil)
		}
		time.Sleep(time.Microsecond) // let a watcher that outlived stop print
		require.NotContains(t, out.String(), abortLine, "round %d", i)
	}
}

func TestWatchInterruptSaysSoOnASignal(t *testing.T) {
	var out lockedBuffer
	r := &reporter{w: &out}
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := r.watchInterrupt(ctx)
	defer stop()
	cancel(&interrupted{os.Interrupt})
	// a generous safety net, not a timing assertion
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), abortLine) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	assert.Contains(t, out.String(), abortLine)
	assert.True(t, wasInterrupted(ctx))
}
