package swarm_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/mke-migrate/mke-migrate/swarm"
)

// one translates a single service given as Engine API JSON (its Spec) and
// returns the result and the workload's pod spec.
func one(t *testing.T, spec string, inv swarm.Inventory) (*swarm.Result, *corev1.PodSpec, swarm.Object) {
	t.Helper()
	svcs, err := swarm.DecodeServices(fmt.Appendf(nil, `[{"ID":"id1","Spec":%s}]`, spec))
	require.NoError(t, err)
	inv.Services = svcs
	res, err := swarm.Translate(&inv, swarm.Options{})
	require.NoError(t, err)
	for _, ns := range res.Namespaces {
		for _, o := range ns.Objects {
			switch w := o.(type) {
			case *appsv1.Deployment:
				return res, &w.Spec.Template.Spec, w
			case *appsv1.DaemonSet:
				return res, &w.Spec.Template.Spec, w
			case *batchv1.Job:
				return res, &w.Spec.Template.Spec, w
			}
		}
	}
	return res, nil, nil
}

func TestConstraints(t *testing.T) {
	var nodes []swarm.Node
	require.NoError(t, jsonUnmarshal(`[{"ID":"n1","Spec":{"Labels":{"disk":"ssd"}},"Description":{"Hostname":"Node-1"}}]`, &nodes))
	for _, tc := range []struct {
		constraint string
		want       string // key op values, or "" when not carried
		attention  bool
	}{
		{"node.role==manager", "node-role.kubernetes.io/control-plane Exists []", false},
		{"node.role == worker", "node-role.kubernetes.io/control-plane DoesNotExist []", false},
		{"node.role!=manager", "node-role.kubernetes.io/control-plane DoesNotExist []", false},
		{"node.hostname==Node-1", "kubernetes.io/hostname In [node-1]", false},
		{"node.hostname!=node-2", "kubernetes.io/hostname NotIn [node-2]", false},
		{"node.id==n1", "kubernetes.io/hostname In [node-1]", false},
		{"node.id==nX", "", true},
		{"node.platform.os==linux", "kubernetes.io/os In [linux]", false},
		{"node.platform.arch==x86_64", "kubernetes.io/arch In [amd64]", false},
		{"node.labels.disk==ssd", "disk In [ssd]", true},
		{"node.labels.disk!=hdd", "disk NotIn [hdd]", true},
		{"node.labels.bad key==x", "", true},
		{"engine.labels.os==ubuntu", "", true},
		{"node.role==king", "", true},
		{"nonsense", "", true},
		{"node.unknown==1", "", true},
	} {
		t.Run(tc.constraint, func(t *testing.T) {
			res, pod, _ := one(t, fmt.Sprintf(`{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"i"},"Placement":{"Constraints":[%q]}}}`, tc.constraint), swarm.Inventory{Nodes: nodes})
			require.NotNil(t, pod)
			got := ""
			if a := pod.Affinity; a != nil && a.NodeAffinity != nil {
				r := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
				got = fmt.Sprintf("%s %s %v", r.Key, r.Operator, r.Values)
			}
			assert.Equal(t, tc.want, got)
			for _, e := range res.Report.Services[0].Entries {
				if e.Field == "Spec.TaskTemplate.Placement.Constraints[0]" {
					assert.Equal(t, tc.attention, e.Attention, e.Note)
					return
				}
			}
			t.Fatal("the constraint is not in the report")
		})
	}
}

func TestModesAndStrategies(t *testing.T) {
	for _, tc := range []struct {
		name, mode, update string
		check              func(t *testing.T, o swarm.Object)
	}{
		{"replicated default strategy", `{"Replicated":{"Replicas":0}}`, "", func(t *testing.T, o swarm.Object) {
			d := o.(*appsv1.Deployment)
			assert.Equal(t, int32(0), *d.Spec.Replicas)
			assert.Equal(t, "1", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
			assert.Equal(t, "0", d.Spec.Strategy.RollingUpdate.MaxSurge.String())
		}},
		{"start-first all at once", `{"Replicated":{"Replicas":5}}`, `{"Parallelism":0,"Order":"start-first"}`, func(t *testing.T, o swarm.Object) {
			d := o.(*appsv1.Deployment)
			assert.Equal(t, "0", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
			assert.Equal(t, "100%", d.Spec.Strategy.RollingUpdate.MaxSurge.String())
		}},
		{"global", `{"Global":{}}`, `{"Parallelism":2}`, func(t *testing.T, o swarm.Object) {
			ds := o.(*appsv1.DaemonSet)
			assert.Equal(t, "2", ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.String())
		}},
		{"replicated job", `{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":6}}`, "", func(t *testing.T, o swarm.Object) {
			j := o.(*batchv1.Job)
			assert.Equal(t, int32(2), *j.Spec.Parallelism)
			assert.Equal(t, int32(6), *j.Spec.Completions)
			assert.Equal(t, corev1.RestartPolicyOnFailure, j.Spec.Template.Spec.RestartPolicy)
		}},
		{"global job", `{"GlobalJob":{}}`, "", func(t *testing.T, o swarm.Object) {
			j := o.(*batchv1.Job)
			assert.Equal(t, int32(1), *j.Spec.Completions, "no nodes known: one")
			assert.NotNil(t, j.Spec.Template.Spec.Affinity.PodAntiAffinity)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := fmt.Sprintf(`{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"i"}},"Mode":%s`, tc.mode)
			if tc.update != "" {
				spec += `,"UpdateConfig":` + tc.update
			}
			_, _, o := one(t, spec+"}", swarm.Inventory{})
			require.NotNil(t, o)
			tc.check(t, o)
		})
	}
}
