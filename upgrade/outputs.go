package upgrade

import (
	"context"
	"os"
	"path/filepath"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/plan"
)

// outputsStep writes mke4.yaml and the admin kubeconfig (atomic, 0600).
// A local step; the kubeconfig comes from the leader.
func outputsStep(e *Env) *plan.Step {
	return &plan.Step{Name: "write-outputs", Phase: PhaseOutput, Changes: "writes mke4.yaml and the admin kubeconfig (" + e.KubeconfigPath + ")",
		Do: func(ctx context.Context, r *plan.Run) error {
			y, err := mke4.Marshal(*e.Cluster.Config)
			if err != nil {
				return err
			}
			for _, p := range []string{filepath.Join(e.OutputDir, "mke4.yaml"), e.ConfigOut} {
				if p == "" {
					continue
				}
				if err := atomicfile.WriteFile(p, y, 0o600); err != nil {
					return err
				}
			}
			kc, err := e.adminKubeconfig(ctx)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(e.KubeconfigPath), 0o700); err != nil {
				return err
			}
			return atomicfile.WriteFile(e.KubeconfigPath, kc, 0o600)
		}}
}
