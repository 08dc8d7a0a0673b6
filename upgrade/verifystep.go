package upgrade

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/verify"
)

// verifyStep checks the new cluster against what Discover saw (package
// verify): the nodes Ready with their labels, the system pods, the
// applied RBAC objects and their effect, the API on the external address.
// It changes nothing; a failed check fails the step (past the point of no
// return: fix, then resume to verify again).
func verifyStep(e *Env) *plan.Step {
	return &plan.Step{Name: "verify", Phase: PhaseOutput, Changes: "nothing: checks the new cluster against what was there before (mke-migrate verify)",
		Do: func(ctx context.Context, r *plan.Run) error {
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			exp := verify.Expect{RBAC: e.Cluster.RBACObjects}
			for host, f := range e.Cluster.Facts {
				exp.Nodes = append(exp.Nodes, verify.Node{Name: f.Hostname, Labels: e.Cluster.Labels[host]})
			}
			slices.SortFunc(exp.Nodes, func(a, b verify.Node) int { return strings.Compare(a.Name, b.Name) })
			rep, err := verify.Run(ctx, verify.Options{Client: cs, External: cs, Expect: exp, Logger: r.Logger})
			if err != nil {
				return err
			}
			if !rep.OK() {
				var b strings.Builder
				_ = rep.WriteText(&b)
				return fmt.Errorf("the new cluster fails verification:\n%s", b.String())
			}
			return nil
		}}
}
