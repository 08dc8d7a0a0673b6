package upgrade

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mke-migrate/mke-migrate/plan"
)

// Phases of an upgrade, in the documented order. A custom step takes the
// phase of the stage it joins (plan.Plan.InsertBefore and InsertAfter set
// it when the step has none).
const (
	PhaseBackup   plan.Phase = "backup"
	PhaseMigrate  plan.Phase = "pre-upgrade migrations"
	PhaseManagers plan.Phase = "managers"
	PhaseWorkers  plan.Phase = "workers"
	PhaseRBAC     plan.Phase = "rbac"
	PhaseCleanup  plan.Phase = "mke3 cleanup"
	PhaseOutput   plan.Phase = "output"
)

// Env is the environment the steps of Plan are made from: the cluster
// Discover found (or Restore or FromInventory gave), with the options'
// commands and paths and the run's connections. Custom steps may use it
// too.
func (u *Upgrade) Env() (*Env, error) {
	if u.shared == nil {
		return nil, errors.New("upgrade: no cluster yet: call Discover, Restore or FromInventory first")
	}
	o := &u.o
	e := &Env{Cluster: u.shared, Commands: o.Commands, K0sBinary: o.K0sBinary,
		OutputDir: o.OutputDir, KubeconfigPath: o.KubeconfigPath, ConfigOut: o.ConfigOut,
		ExternalAddress: o.ExternalAddress, Nodes: u.clients, KubeClient: o.KubeClient,
		SwarmOptions: o.SwarmOptions, tokens: u.tokens,
		BackupPassphrase: o.BackupPassphrase}
	e.ImageRegistryAuth, e.ChartRegistryAuth, e.RegistrySecretNamespace = o.ImageRegistryAuth, o.ChartRegistryAuth, o.registrySecretNamespace()
	e.BackupInfo, e.Verify, e.SystemNamespaces, e.MKE3KubeConfig = o.BackupInfo, !e.Cluster.SkipVerify, o.SystemNamespaces, o.mke3KubeConfig()
	e.Delivery, e.delivery = o.Delivery, u.delivery
	e.Retry = o.Retry
	// a worker's kubelet.conf and k0s kubectl follow --data-dir
	if d := e.Cluster.DataDir; d != "" && d != DefaultDataDir {
		e.Commands.NodeReady = e.withKubectlDataDir(strings.ReplaceAll(e.Commands.NodeReady, kubeletKubeconfig, strings.TrimRight(d, "/")+"/kubelet.conf"))
	}
	if o.MKE3 != nil { // no typed nil in the interface
		e.Swarm = o.MKE3
	}
	return e, nil
}

// Plan makes the steps of the upgrade of the cluster Discover found (or
// Restore or FromInventory gave).
func (u *Upgrade) Plan() (*plan.Plan, error) {
	e, err := u.Env()
	if err != nil {
		return nil, err
	}
	return Steps(e, u.o.WorkerBatch)
}

// Steps makes the plan of an upgrade from its environment, the workers in
// batches of workerBatch percent (at least one worker; 100 for one stage
// of all).
func Steps(e *Env, workerBatch int) (*plan.Plan, error) {
	if e.tokens == nil {
		e.tokens = &joinTokens{}
	}
	if e.delivery == nil {
		e.delivery = newDeliveryState(e.Delivery)
	}
	sh := e.Cluster
	p := &plan.Plan{}
	add := func(name string, phase plan.Phase, lanes ...[]*plan.Step) {
		p.Stages = append(p.Stages, &plan.Stage{Name: name, Phase: phase, Lanes: lanes})
	}
	backup := []*plan.Step{saveInputsStep(e)}
	if sh.SwarmExport {
		backup = append(backup, swarmExportStep(e))
	}
	add("Backup", PhaseBackup, append(backup, backupStep(e)))
	// the k0s binary reaches every node before MKE 3 stops: the copy is
	// not on the outage's critical path (k0sUploadStep)
	p.Stages = append(p.Stages, k0sUploadStage(e))
	// before any MKE 3 container stops: Swarm and the agents would start
	// them again
	add("Swarm: drain the managers", PhaseMigrate, []*plan.Step{swarmDrainNodesStep(e, "swarm-drain", sh.Managers)})
	if sh.Carry != nil {
		p.Stages = append(p.Stages, carryStopStage(e))
		add("Carry: snapshot of MKE 3's etcd", PhaseMigrate, []*plan.Step{snapshotStep(e)})
	}
	var managerStages []*plan.Stage
	for i, m := range sh.Managers {
		steps := append(takeOverSteps(e, m, PhaseManagers), controllerStep(e, m, i == 0))
		if sh.Carry != nil {
			steps = carrySteps(e, steps, i == 0)
		}
		add(fmt.Sprintf("Manager %d of %d: %s", i+1, len(sh.Managers), m), PhaseManagers, steps)
		managerStages = append(managerStages, p.Stages[len(p.Stages)-1])
	}
	// The workers are drained while the managers move, a share beside
	// each manager: one by one, 200 drains took longer than a manager,
	// and only the workers' own stop needs them done (drainWorkerLanes).
	drainWorkerLanes(e, managerStages)
	// The cluster is down until the workers are back (the MKE 4k upgrade
	// page says so): by default they move all at once, at most
	// plan.Options.Concurrency at a time; workerBatch < 100 trades a
	// longer outage for a smaller blast radius.
	bs := batches(sh.Workers, workerBatch)
	for i, batch := range bs {
		var lanes [][]*plan.Step
		for _, w := range batch {
			lanes = append(lanes, append(takeOverSteps(e, w, PhaseWorkers), workerStep(e, w)))
		}
		name := fmt.Sprintf("Workers: %d node(s)", len(batch))
		if len(bs) > 1 {
			name = fmt.Sprintf("Workers, batch %d of %d: %d node(s)", i+1, len(bs), len(batch))
		}
		add(name, PhaseWorkers, lanes...)
	}
	if sh.RBACObjects != nil {
		add("RBAC", PhaseRBAC, []*plan.Step{rbacApplyStep(e)})
	}
	if sh.ConfigStore {
		add("MKE 4k configuration", PhaseRBAC, []*plan.Step{applyConfigStep(e)})
	}
	add("MKE 3 cleanup", PhaseCleanup, []*plan.Step{uninstallStep(e)})
	var vols [][]*plan.Step
	for _, m := range sh.Managers {
		vols = append(vols, []*plan.Step{volumesStep(e, m)})
	}
	add("MKE 3 volumes", PhaseCleanup, vols...)
	add("Output", PhaseOutput, []*plan.Step{outputsStep(e)})
	if err := opsSteps(e, p); err != nil {
		return nil, err
	}
	return p, p.Validate()
}

// batches cuts workers into groups of pct percent (at least one).
func batches(ws []string, pct int) [][]string {
	n := len(ws) * pct / 100
	if n < 1 {
		n = 1
	}
	var out [][]string
	for len(ws) > 0 {
		k := min(n, len(ws))
		out = append(out, ws[:k])
		ws = ws[k:]
	}
	return out
}

// drainWorkerLanes adds to each of stages a lane that drains its share
// of the workers in Swarm (contiguous, sizes within one of each other), so
// that every worker is drained before the workers' stages and none of
// it waits in the outage's critical path unless a share outlasts its
// manager.
func drainWorkerLanes(e *Env, stages []*plan.Stage) {
	ws := e.Cluster.Workers
	if len(ws) == 0 || len(stages) == 0 {
		return
	}
	n := len(stages)
	for i, st := range stages {
		from, to := i*len(ws)/n, (i+1)*len(ws)/n
		if from == to {
			continue
		}
		s := swarmDrainNodesStep(e, fmt.Sprintf("swarm-drain-workers-%d", i+1), ws[from:to])
		s.Phase = st.Phase
		st.Lanes = append(st.Lanes, []*plan.Step{s})
	}
}
