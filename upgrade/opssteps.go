package upgrade

import (
	"slices"
	"time"

	"github.com/mke-migrate/mke-migrate/plan"
)

// opsSteps adds the operations steps to the plan Steps made: the
// operator's own MKE 3 backup instead of taking one; the inventory of
// MKE 3's Kubernetes objects before the carry and the verify step at the
// end (its checks of the new cluster); the
// registries' pull credentials in a stage of their own just before MKE 3's
// cleanup (a failure there still rolls back).
func opsSteps(e *Env, p *plan.Plan) error {
	if e.Cluster.BackupPath != "" {
		if err := p.Replace("mke3-backup@"+e.Cluster.Leader, givenBackupStep(e)); err != nil {
			return err
		}
	}
	if e.Cluster.KubeInventory {
		if err := p.InsertAfter("save-inputs", kubeInventoryStep(e)); err != nil {
			return err
		}
	}
	if e.Verify {
		if err := p.InsertAfter("write-outputs", verifyStep(e)); err != nil {
			return err
		}
	}
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

func (o *Options) rollbackTimeout() time.Duration {
	if o.RollbackTimeout > 0 {
		return o.RollbackTimeout
	}
	return o.Timeout
}
