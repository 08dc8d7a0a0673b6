package upgrade_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/plan"
)

// A plan is data: a caller can add its own step (here a site-specific
// check after the managers) before Apply, and print the plan for a dry run.
func ExamplePlan() {
	nop := func(context.Context, *plan.Run) error { return nil }
	p := &plan.Plan{Stages: []*plan.Stage{
		{Name: "Manager 1 of 1: 10.0.0.1:22", Lanes: [][]*plan.Step{{
			{Name: "k0s-controller", Host: "10.0.0.1:22", Changes: "installs and starts the first k0s controller", Do: nop, Undo: nop},
		}}},
		{Name: "MKE 3 cleanup", Lanes: [][]*plan.Step{{
			{Name: "mke3-uninstall", Host: "10.0.0.1:22", Changes: "uninstalls MKE 3", PointOfNoReturn: true, Do: nop},
		}}},
	}}
	site := &plan.Stage{Name: "Site checks", Lanes: [][]*plan.Step{{
		{Name: "ingress-check", Changes: "nothing (checks the load balancer)", Do: nop},
	}}}
	p.Stages = append(p.Stages[:1], append([]*plan.Stage{site}, p.Stages[1:]...)...)
	if err := p.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	_ = p.Print(os.Stdout)
	// Output:
	// Manager 1 of 1: 10.0.0.1:22
	//     1/3  k0s-controller               10.0.0.1:22            installs and starts the first k0s controller (undo: yes)
	// Site checks
	//     2/3  ingress-check                local                  nothing (checks the load balancer) (undo: nothing to undo)
	// MKE 3 cleanup
	//     3/3  mke3-uninstall               10.0.0.1:22            uninstalls MKE 3 (undo: nothing to undo)  <-- point of no return: from here a failure is resumed, not rolled back
}
