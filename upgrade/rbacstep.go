package upgrade

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// adminKubeconfigCmd prints the admin kubeconfig on a controller.
const adminKubeconfigCmd = "k0s kubeconfig admin"

// adminKubeconfig reads the admin kubeconfig from the first controller,
// pointed at the external address.
func (e *Env) adminKubeconfig(ctx context.Context) ([]byte, error) {
	out, err := e.onLeader(ctx, adminKubeconfigCmd+e.dataDirFlag())
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.Load([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("k0s kubeconfig admin: not a kubeconfig")
	}
	if a := e.ExternalAddress; a != "" {
		for _, cl := range cfg.Clusters {
			cl.Server = "https://" + a + ":6443"
		}
	}
	return clientcmd.Write(*cfg)
}

func (e *Env) kubeClient(ctx context.Context) (kubernetes.Interface, error) {
	kc, err := e.adminKubeconfig(ctx)
	if err != nil {
		return nil, err
	}
	return e.clientFrom(ctx, kc)
}

// clientFrom is the client of the new cluster the admin kubeconfig kc
// makes (Env.KubeClient's when set).
func (e *Env) clientFrom(ctx context.Context, kc []byte) (kubernetes.Interface, error) {
	if e.KubeClient != nil {
		return e.KubeClient(ctx, kc)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// rbacApplyStep applies the translated RBAC to the new cluster; its undo
// deletes what it created (not what existed before).
func rbacApplyStep(e *Env) *plan.Step {
	objs := e.Cluster.RBACObjects
	return &plan.Step{Name: "rbac-apply", Phase: PhaseRBAC,
		Changes: fmt.Sprintf("applies %d RBAC objects (orgs, teams, memberships, grants) to the new cluster", objs.Len()),
		Do: func(ctx context.Context, r *plan.Run) error {
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{Logger: r.Logger})
			// what was created, even on failure, so that Undo removes it
			created := res.Created
			if prev := r.Get("created"); prev != "" {
				var old []rbac.Ref
				if json.Unmarshal([]byte(prev), &old) == nil {
					created = append(old, created...)
				}
			}
			b, _ := json.Marshal(created)
			r.Set("created", string(b))
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			var created []rbac.Ref
			if s := r.Get("created"); s != "" {
				if err := json.Unmarshal([]byte(s), &created); err != nil {
					return fmt.Errorf("journal: created objects: %w", err)
				}
			}
			if len(created) == 0 {
				return nil
			}
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			_, err = kube.Delete(ctx, cs, rbac.Select(objs, created), kube.DeleteOptions{Logger: r.Logger})
			return err
		}}
}
