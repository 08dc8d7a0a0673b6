package plan_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/plan"
)

// A plan is data: a caller adds its own step (here a local check after the
// first controller, which takes that stage's phase), finds the point of no
// return, and prints the plan for a dry run.
func ExamplePlan_InsertAfter() {
	nop := func(context.Context, *plan.Run) error { return nil }
	p := &plan.Plan{Stages: []*plan.Stage{
		{Name: "Manager 1 of 1: 10.0.0.1:22", Phase: "managers", Lanes: [][]*plan.Step{{
			{Name: "k0s-controller", Host: "10.0.0.1:22", Changes: "installs and starts the first k0s controller", Do: nop, Undo: nop},
		}}},
		{Name: "MKE 3 cleanup", Phase: "cleanup", Lanes: [][]*plan.Step{{
			{Name: "mke3-uninstall", Host: "10.0.0.1:22", Changes: "uninstalls MKE 3", PointOfNoReturn: true, Do: nop},
		}}},
	}}
	check := &plan.Step{Name: "ingress-check", Changes: "nothing (checks the load balancer)", Do: nop}
	if err := p.InsertAfter("k0s-controller@10.0.0.1:22", check); err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	s, _ := p.PointOfNoReturn()
	fmt.Printf("%s runs in phase %s; the point of no return is %s\n", check.Name, check.Phase, s.ID())
	_ = p.Print(os.Stdout)
	// Output:
	// ingress-check runs in phase managers; the point of no return is mke3-uninstall@10.0.0.1:22
	// Manager 1 of 1: 10.0.0.1:22
	//     1/3  k0s-controller               10.0.0.1:22            installs and starts the first k0s controller (undo: yes)
	//     2/3  ingress-check                local                  nothing (checks the load balancer) (undo: nothing to undo)
	// MKE 3 cleanup
	//     3/3  mke3-uninstall               10.0.0.1:22            uninstalls MKE 3 (undo: nothing to undo)  <-- point of no return: from here a failure is resumed, not rolled back
}
