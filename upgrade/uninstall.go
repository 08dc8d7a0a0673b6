package upgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// exitMarker ends the output of the uninstaller with its exit status.
const exitMarker = "mke-migrate-exit="

// uninstallCmd runs the uninstaller (expanded) so that its output, which
// alone tells a timeout, comes back whatever its exit status.
func uninstallCmd(uninstall string) string { return uninstall + ` 2>&1; echo "` + exitMarker + `$?"` }

// uninstallOutcome reads the output of uninstallCmd: the uninstaller timed
// out (timeoutText in its output), or ended with status.
func uninstallOutcome(out, timeoutText string) (body, status string, timedOut bool) {
	body, status, _ = strings.Cut(out, exitMarker)
	return body, strings.TrimSpace(status), strings.Contains(body, timeoutText)
}

// removeUCPContainersCmd removes every ucp-* container left on the node,
// running or not: docker volume rm refuses a volume a container still
// uses, --force included ("volume is in use"; Docker CLI reference,
// volume rm), and after an uninstall-ucp timeout they remain. Docker's
// name filter is a regular expression over names with their leading /.
const removeUCPContainersCmd = `ids=$(docker ps -aq --filter 'name=^/?ucp-'); [ -z "$ids" ] || docker rm -f $ids >/dev/null`

// volumesCmd removes MKE 3's leftover containers, then its volumes.
func volumesCmd(vols []string) string {
	return removeUCPContainersCmd + " && docker volume rm --force " + shell.Join(vols...)
}

// pastTries bounds the tries of a step past the point of no return, and
// pastPause is the pause after the first failed try (doubled each time):
// a step that keeps failing ends with a ManualStepError, never a loop
// (the defaults of RetryOptions).
const (
	pastTries = 3
	pastPause = 2 * time.Second
)

// tryPast runs f up to rp.Tries times while ctx lives, then fails with
// a *ManualStepError naming by, the command that does it by hand.
func tryPast(ctx context.Context, r *plan.Run, rp RetryOptions, by string, f func() error) error {
	var err error
	rp = rp.fill()
	pause := rp.Pause
	tries := 0
	for tries < rp.Tries {
		tries++
		if err = f(); err == nil {
			return nil
		}
		if errors.Is(err, hosts.ErrConnectionLost) {
			// the connection is unusable: the retries past the point
			// of no return (withRetries) try again on a new one
			return err
		}
		if ctx.Err() != nil || tries == rp.Tries {
			break
		}
		r.Logger.Warn("step failed past the point of no return; trying again", "step", r.Step.Name, "try", tries, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause *= 2
	}
	host := r.Step.Host
	if host == "" {
		host = "this machine"
	}
	return &ManualStepError{Step: r.Step.Name, Host: host, Tries: tries, By: by, Err: err}
}

// uninstallStep removes MKE 3: the point of no return. When uninstall-ucp
// times out, every node leaves the Swarm instead, the leader last.
func uninstallStep(e *Env) *plan.Step {
	sh, c := e.Cluster, e.Commands
	return &plan.Step{Name: "mke3-uninstall", Host: sh.Leader, Phase: PhaseCleanup, PointOfNoReturn: true,
		Changes: "uninstalls MKE " + sh.MKEVersion + " (uninstall-ucp; on timeout, every node leaves the Swarm)",
		Do: func(ctx context.Context, r *plan.Run) error {
			out, err := sudo(ctx, r.Node, uninstallCmd(e.expand(c.Uninstall, "")))
			if err != nil {
				return err
			}
			body, status, timedOut := uninstallOutcome(out, c.UninstallTimeoutText)
			switch {
			case timedOut:
				r.Logger.Warn("uninstall-ucp timed out; every node leaves the Swarm instead")
			case status != "0":
				return fmt.Errorf("uninstall-ucp failed (exit %s): %s", status, lastLines(body, 5))
			default:
				return nil
			}
			var errs []error
			for _, h := range append(slices.Clone(sh.Workers), sh.Managers[1:]...) {
				n, err := e.Nodes.Node(ctx, h)
				if err == nil {
					_, err = sudo(ctx, n, c.Leave)
				}
				if err != nil {
					r.Logger.Warn("swarm leave", "host", h, "err", err)
				}
			}
			if _, err := sudo(ctx, r.Node, c.Leave); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}}
}

// lastLines is the end of a command's output, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// volumesStep removes MKE 3's volumes from a manager, and first the
// ucp-* containers that still use them (all of them after an
// uninstall-ucp timeout). Past the point of no return: bounded tries,
// then the command to run by hand.
func volumesStep(e *Env, host string) *plan.Step {
	c := e.Commands
	return &plan.Step{Name: "mke3-volumes", Host: host, Phase: PhaseCleanup, Changes: "removes MKE 3's leftover ucp-* containers and volumes " + strings.Join(c.CleanupVolumes, ", "),
		Do: func(ctx context.Context, r *plan.Run) error {
			if len(c.CleanupVolumes) == 0 {
				return nil
			}
			cmd := volumesCmd(c.CleanupVolumes)
			return tryPast(ctx, r, e.Retry, cmd, func() error {
				_, err := sudo(ctx, r.Node, cmd)
				return err
			})
		}}
}
