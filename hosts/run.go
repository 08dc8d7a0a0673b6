package hosts

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// DefaultConcurrency is the number of hosts Run works on at once when
// concurrency <= 0.
const DefaultConcurrency = 30

// Run calls fn for every host, at most concurrency at a time (default
// DefaultConcurrency), and waits for all calls to return. Each failure is
// reported as a *HostError naming its host (an error fn returns that is
// already a *HostError for that host is kept as is), all of them joined with
// errors.Join in the order of hs. When ctx ends, no further host is started
// and ctx's error is joined too; calls already running get the cancelled ctx.
func Run(ctx context.Context, hs []Host, concurrency int, fn func(ctx context.Context, h Host) error) error {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	errs := make([]error, len(hs))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	notStarted := 0
schedule:
	for i, h := range hs {
		if ctx.Err() != nil {
			notStarted = len(hs) - i
			break
		}
		select {
		case sem <- struct{}{}:
			if ctx.Err() != nil { // both were ready: cancellation wins
				<-sem
				notStarted = len(hs) - i
				break schedule
			}
		case <-ctx.Done():
			notStarted = len(hs) - i
			break schedule
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, h); err != nil {
				var he *HostError
				if errors.As(err, &he) && he.Host == h.String() {
					errs[i] = err
				} else {
					errs[i] = &HostError{Host: h.String(), Op: "run", Err: err}
				}
			}
		})
	}
	wg.Wait()
	if notStarted > 0 {
		errs = append(errs, fmt.Errorf("%d of %d hosts not started: %w", notStarted, len(hs), ctx.Err()))
	}
	return errors.Join(errs...)
}
