package upgrade

import (
	"context"
	"fmt"

	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// nodeNames are Kubernetes node names as shell words, for one kubectl call
// ({node} of Commands.Drain and Commands.Uncordon).
func nodeNames(names []string) string { return shell.Join(names...) }

// batchNodes are the node names of the hosts of a batch.
func (e *Env) batchNodes(hs []string) string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = e.hostname(h)
	}
	return nodeNames(names)
}

// drainStep cordons and drains a batch of workers, with one command on
// the first controller; its undo uncordons them. A local step: its
// command runs on the leader, through Env.Nodes.
func drainStep(e *Env, batch int, hs []string) *plan.Step {
	nodes := e.batchNodes(hs)
	return &plan.Step{Name: fmt.Sprintf("drain-batch-%d", batch), Phase: PhaseWorkers, Changes: "cordons and drains " + nodes + " (on the first controller)",
		Do: func(ctx context.Context, r *plan.Run) error {
			_, err := e.onLeader(ctx, e.expand(e.Commands.Drain, nodes))
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := e.onLeader(ctx, e.expand(e.Commands.Uncordon, nodes))
			return err
		}}
}

// uncordonStep uncordons a batch once its workers run k0s.
func uncordonStep(e *Env, batch int, hs []string) *plan.Step {
	nodes := e.batchNodes(hs)
	return &plan.Step{Name: fmt.Sprintf("uncordon-batch-%d", batch), Phase: PhaseWorkers, Changes: "uncordons " + nodes + " (on the first controller)",
		Do: func(ctx context.Context, r *plan.Run) error {
			_, err := e.onLeader(ctx, e.expand(e.Commands.Uncordon, nodes))
			return err
		}}
}
