package upgrade

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/verify"
)

// countingNodes hands out a new (fake) connection per call and counts
// them: a retry after a lost connection must not reuse the dead one.
type countingNodes struct{ dials int }

func (c *countingNodes) Node(context.Context, string) (hosts.Node, error) {
	c.dials++
	return &fakeNode{host: fmt.Sprint(c.dials)}, nil
}

// retryPlan is before → ponr → after, each on host h, with the Do of
// ponr and after given.
func retryPlan(before, ponr, after func(context.Context, *plan.Run) error) *plan.Plan {
	return &plan.Plan{Stages: []*plan.Stage{
		{Name: "a", Lanes: [][]*plan.Step{{{Name: "before", Host: "h", Do: before}}}},
		{Name: "b", Lanes: [][]*plan.Step{{{Name: "ponr", Host: "h", PointOfNoReturn: true, Do: ponr}}}},
		{Name: "c", Lanes: [][]*plan.Step{{{Name: "after", Host: "h", Do: after, Timeout: time.Hour}}}},
	}}
}

func TestWithRetries(t *testing.T) {
	lost := &hosts.HostError{Host: "h", Op: "exec", Err: hosts.ErrConnectionLost}
	rp := RetryOptions{Tries: 3, Pause: time.Millisecond}
	for name, tc := range map[string]struct {
		fails     []error // the errors of the first tries, then success
		hang      bool    // the first try blocks until its own timeout
		wantCalls int
		wantErr   error
	}{
		"lost connection twice, then done":  {fails: []error{lost, lost}, wantCalls: 3},
		"lost connection every try":         {fails: []error{lost, lost, lost, lost}, wantCalls: 3, wantErr: hosts.ErrConnectionLost},
		"command failed: not retried":       {fails: []error{errors.New("exit status 1")}, wantCalls: 1, wantErr: errors.New("")},
		"manual step: not retried":          {fails: []error{&ManualStepError{Err: lost}}, wantCalls: 1, wantErr: errors.New("")},
		"a try past its timeout, then done": {hang: true, wantCalls: 2},
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			var nodesSeen []hosts.Node
			do := func(ctx context.Context, r *plan.Run) error {
				calls++
				nodesSeen = append(nodesSeen, r.Node)
				if tc.hang && calls == 1 {
					<-ctx.Done() // hangs until the try's own timeout
					return ctx.Err()
				}
				if calls <= len(tc.fails) {
					return tc.fails[calls-1]
				}
				return nil
			}
			beforeCalls := 0
			before := func(context.Context, *plan.Run) error { beforeCalls++; return lost }
			nodes := &countingNodes{}
			// the try's timeout: the step's own when it has one, else the
			// run's step timeout (here short, for the hanging try only)
			p := withRetries(retryPlan(before, do, do), rp, 20*time.Millisecond, nodes)
			steps := p.Steps()
			if len(steps) != 3 || steps[1].Name != "ponr" || !steps[1].PointOfNoReturn {
				t.Fatalf("plan changed: %v", steps)
			}
			// before the point of no return: not retried (a failure rolls back)
			if err := steps[0].Do(t.Context(), plan.NewRun(steps[0], &fakeNode{}, nil, nil)); !errors.Is(err, hosts.ErrConnectionLost) || beforeCalls != 1 {
				t.Errorf("before the point of no return: %d calls, %v", beforeCalls, err)
			}
			s := steps[1]
			if min := 3*20*time.Millisecond + 3*time.Millisecond; s.Timeout < min {
				t.Errorf("step timeout %v does not cover 3 tries and the pauses (%v)", s.Timeout, min)
			}
			err := s.Do(t.Context(), plan.NewRun(s, &fakeNode{host: "first"}, nil, nil))
			if calls != tc.wantCalls {
				t.Errorf("%d tries, want %d", calls, tc.wantCalls)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != nil && err == nil:
				t.Error("no error")
			case errors.Is(tc.wantErr, hosts.ErrConnectionLost) && !errors.Is(err, hosts.ErrConnectionLost):
				t.Errorf("err = %v, want the lost connection", err)
			}
			// each retry on a new connection
			if calls > 1 && (nodes.dials != calls-1 || nodesSeen[1] == nodesSeen[0]) {
				t.Errorf("%d new connections for %d tries", nodes.dials, calls)
			}
			// the step after it too, with its own timeout per try
			if a := steps[2]; a.Timeout < 3*time.Hour {
				t.Errorf("the step after the point of no return: timeout %v, want its own hour per try", a.Timeout)
			}
		})
	}
	// one try: the plan as it was
	p := retryPlan(nil, nil, nil)
	if withRetries(p, RetryOptions{Tries: 1}, 0, nil) != p {
		t.Error("Tries 1 changed the plan")
	}
}

// A failure keeps its type through the retries, also when its try ran
// out of time and the cause is added: the CLI finds a *VerifyError.
func TestWithRetriesKeepsErrorType(t *testing.T) {
	for name, hang := range map[string]bool{"failed": false, "timed out": true} {
		t.Run(name, func(t *testing.T) {
			do := func(ctx context.Context, r *plan.Run) error {
				if hang {
					<-ctx.Done() // until the try's own timeout
				}
				return &VerifyError{Report: &verify.Report{}}
			}
			p := withRetries(retryPlan(nil, do, do), RetryOptions{Tries: 2, Pause: time.Millisecond}, 20*time.Millisecond, &countingNodes{})
			s := p.Steps()[1]
			err := s.Do(t.Context(), plan.NewRun(s, &fakeNode{}, nil, nil))
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a *VerifyError in its chain", err, err)
			}
		})
	}
}
