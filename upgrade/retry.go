package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
)

// Defaults of RetryOptions.
const (
	DefaultRetryTries = pastTries
	DefaultRetryPause = pastPause
)

// RetryOptions bound the tries of the steps past the point of no return
// (MKE 3's uninstall and every step after it), where a failure is no
// longer rolled back but stops the run for Resume. A step that fails
// transiently there (its SSH connection lost, or a try that ran out of
// the step's timeout) is tried again, up to Tries times in all, after a
// pause that doubles from Pause; any other failure, or the last try's,
// stops the run as before. The volumes step's tries (a volume still in
// use) follow the same bounds. Before the point of no return nothing is
// retried: a failure rolls the run back.
type RetryOptions struct {
	// Tries is how often a step is tried in all (DefaultRetryTries when
	// 0; 1: no retry).
	Tries int
	// Pause is the pause after the first failed try, doubled after each
	// (DefaultRetryPause when 0).
	Pause time.Duration
}

func (r RetryOptions) fill() RetryOptions {
	if r.Tries <= 0 {
		r.Tries = DefaultRetryTries
	}
	if r.Pause <= 0 {
		r.Pause = DefaultRetryPause
	}
	return r
}

// transient reports whether a try's failure is worth another try: the
// connection to its host was lost (hosts.ErrConnectionLost), or the try
// ran out of its own time while the run goes on. A *ManualStepError has
// had its tries already.
func transient(err error, tryTimedOut bool) bool {
	var me *ManualStepError
	if errors.As(err, &me) {
		return false
	}
	return tryTimedOut || errors.Is(err, hosts.ErrConnectionLost)
}

// withRetries returns p with every step from the first point-of-no-return
// step on (in plan order) tried as RetryOptions say, in one place for
// all of them: each try gets the step's own timeout (stepTimeout when it
// has none) and, on a lost connection, a new connection from nodes. The
// steps keep their names and hosts, so the journal sees one step; p is
// not changed. The wrapped Do runs Verify too.
func withRetries(p *plan.Plan, rp RetryOptions, stepTimeout time.Duration, nodes plan.Nodes) *plan.Plan {
	rp = rp.fill()
	if stepTimeout <= 0 {
		stepTimeout = plan.DefaultStepTimeout
	}
	if _, ok := p.PointOfNoReturn(); !ok || rp.Tries == 1 {
		return p
	}
	past := false
	out := &plan.Plan{}
	for _, st := range p.Stages {
		ns := &plan.Stage{Name: st.Name, Phase: st.Phase}
		for _, lane := range st.Lanes {
			var nl []*plan.Step
			for _, s := range lane {
				past = past || s.PointOfNoReturn
				if past {
					s = retried(s, rp, stepTimeout, nodes)
				}
				nl = append(nl, s)
			}
			ns.Lanes = append(ns.Lanes, nl)
		}
		out.Stages = append(out.Stages, ns)
	}
	return out
}

// retried is a copy of s whose Do tries s's Do (and Verify) as rp says.
func retried(s *plan.Step, rp RetryOptions, stepTimeout time.Duration, nodes plan.Nodes) *plan.Step {
	perTry := s.Timeout
	if perTry <= 0 {
		perTry = stepTimeout
	}
	c := *s
	// the executor's bound on the whole step: every try and every pause
	total := time.Duration(rp.Tries) * perTry
	for i, p := 1, rp.Pause; i < rp.Tries; i, p = i+1, p*2 {
		total += p
	}
	c.Timeout = total
	c.Verify = nil
	c.Do = func(ctx context.Context, r *plan.Run) error {
		pause := rp.Pause
		for try := 1; ; try++ {
			tctx, cancel := context.WithTimeoutCause(ctx, perTry, fmt.Errorf("step %s timed out after %v (try %d of %d)", s.ID(), perTry, try, rp.Tries))
			err := s.Do(tctx, r)
			if err == nil && s.Verify != nil {
				err = s.Verify(tctx, r)
			}
			timedOut := tctx.Err() != nil && ctx.Err() == nil
			if err != nil && timedOut && !errors.Is(err, context.Cause(tctx)) {
				err = fmt.Errorf("%w (%w)", err, context.Cause(tctx))
			}
			cancel()
			if err == nil || try >= rp.Tries || ctx.Err() != nil || !transient(err, timedOut) {
				return err
			}
			r.Logger.Warn("step failed past the point of no return; trying again", "try", try, "of", rp.Tries, "pause", pause, "err", err)
			select {
			case <-ctx.Done():
				return err
			case <-time.After(pause):
			}
			pause *= 2
			// a lost connection is unusable: the run's pool dials again
			if s.Host != "" && nodes != nil {
				if n, nerr := nodes.Node(ctx, s.Host); nerr == nil {
					r.Node = n
				}
			}
		}
	}
	return &c
}
