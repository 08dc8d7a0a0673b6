package upgrade

import (
	"slices"

	"github.com/mke-migrate/mke-migrate/plan"
)

// opsSteps adds the operations steps to the plan Steps made: the
// registries' pull credentials in a stage of their own just before MKE 3's
// cleanup (a failure there still rolls back).
func opsSteps(e *Env, p *plan.Plan) error {
	if len(e.Cluster.RegistrySecrets) > 0 {
		insertStageBefore(p, PhaseCleanup, &plan.Stage{Name: "Registry credentials", Phase: PhaseRBAC,
			Lanes: [][]*plan.Step{{registryCredentialsStep(e)}}})
	}
	return nil
}

// insertStageBefore puts st before the first stage of phase (at the end
// when there is none).
func insertStageBefore(p *plan.Plan, phase plan.Phase, st *plan.Stage) {
	i := slices.IndexFunc(p.Stages, func(s *plan.Stage) bool { return s.Phase == phase })
	if i < 0 {
		i = len(p.Stages)
	}
	p.Stages = slices.Insert(p.Stages, i, st)
}
