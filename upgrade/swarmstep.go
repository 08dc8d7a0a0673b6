package upgrade

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/swarm"
)

// SwarmDir is the folder of the output directory that receives the Swarm
// export: one manifest per namespace and the report.
const SwarmDir = "swarm"

// swarmExportStep writes the cluster's Swarm services as Kubernetes
// manifests into the output directory, before anything changes: MKE 4k runs
// no Swarm, and the API that describes the services is gone after the
// uninstall. A local step; nothing to undo (the output folder is kept).
func swarmExportStep(e *Env) *plan.Step {
	return &plan.Step{Name: "swarm-export", Phase: PhaseBackup,
		Changes: "writes the Swarm services as Kubernetes manifests to the output directory (" + SwarmDir + "/)",
		Do: func(ctx context.Context, r *plan.Run) error {
			if e.Swarm == nil {
				return errors.New("the Swarm export reads the MKE 3 API: run the upgrade with MKE 3 credentials")
			}
			opts := e.SwarmOptions
			if opts.NodePortMin == 0 && opts.NodePortMax == 0 && e.Cluster.Config != nil {
				opts.NodePortMin, opts.NodePortMax = nodePortRange(e.Cluster.Config.Spec.Network.NodePortRange)
			}
			res, err := swarm.Export(ctx, e.Swarm, opts)
			if err != nil {
				return fmt.Errorf("export the Swarm services: %w", err)
			}
			if _, err := swarm.WriteDir(filepath.Join(e.OutputDir, SwarmDir), res, swarm.YAML); err != nil {
				return err
			}
			r.Set("services", strconv.Itoa(len(res.Report.Services)))
			r.Set("exported", strconv.Itoa(res.Exported))
			r.Set("needAttention", strconv.Itoa(res.NeedAttention))
			return nil
		}}
}

// nodePortRange reads mke4.yaml's "<first>-<last>"; 0, 0 (swarm's
// default) when it is not one.
func nodePortRange(s string) (int, int) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || lo <= 0 || hi < lo {
		return 0, 0
	}
	return lo, hi
}
