package upgrade

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/plan"
)

// Where the MkeConfig is stored in the new cluster: MKE 4k keeps its
// MkeConfig in namespace mke (metadata.namespace must stay mke), as a
// custom resource whose definition only MKE 4k's installer (mkectl)
// brings. Without it, the engine stores mke4.yaml as a Secret there, for
// mkectl apply -f to read (a Secret, not a ConfigMap: mke4.yaml may hold
// the license, LDAP bind password, OIDC client secret and TLS key).
const (
	ConfigNamespace = "mke"
	ConfigSecret    = "mke4-config"
	ConfigKey       = "mke4.yaml"
	managedBy       = "app.kubernetes.io/managed-by"
)

// applyConfigStep stores the converted MkeConfig in the new cluster:
// namespace mke, Secret mke4-config, key mke4.yaml. It installs none of
// MKE 4k's components (README "What the engine does not install"); a
// caller with mkectl replaces this step (plan.Plan.Replace) with one that
// runs mkectl apply. Its undo deletes what it created.
func applyConfigStep(e *Env) *plan.Step {
	return &plan.Step{Name: "mke4-config", Phase: PhaseRBAC,
		Changes: "stores mke4.yaml in the new cluster (Secret " + ConfigNamespace + "/" + ConfigSecret + ") for MKE 4k's installer; installs no MKE 4k component",
		Do: func(ctx context.Context, r *plan.Run) error {
			y, err := mke4.Marshal(*e.Cluster.Config)
			if err != nil {
				return err
			}
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			labels := map[string]string{managedBy: "mke-migrate"}
			_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ConfigNamespace, Labels: labels}}, metav1.CreateOptions{})
			switch {
			case err == nil:
				r.Set("namespace", "created")
			case !apierrors.IsAlreadyExists(err):
				return fmt.Errorf("namespace %s: %w", ConfigNamespace, err)
			}
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ConfigSecret, Namespace: ConfigNamespace, Labels: labels},
				Type: corev1.SecretTypeOpaque, Data: map[string][]byte{ConfigKey: y}}
			_, err = cs.CoreV1().Secrets(ConfigNamespace).Create(ctx, sec, metav1.CreateOptions{})
			switch {
			case err == nil:
				r.Set("secret", "created")
				return nil
			case !apierrors.IsAlreadyExists(err):
				return fmt.Errorf("secret %s/%s: %w", ConfigNamespace, ConfigSecret, err)
			}
			// a resumed step, or one the cluster had: ours is updated, any
			// other is left alone
			old, err := cs.CoreV1().Secrets(ConfigNamespace).Get(ctx, ConfigSecret, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if old.Labels[managedBy] != "mke-migrate" {
				return fmt.Errorf("secret %s/%s exists and is not mke-migrate's: remove it or replace step mke4-config", ConfigNamespace, ConfigSecret)
			}
			old.Data = sec.Data
			_, err = cs.CoreV1().Secrets(ConfigNamespace).Update(ctx, old, metav1.UpdateOptions{})
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			if r.Get("secret") == "" && r.Get("namespace") == "" {
				return nil
			}
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			if r.Get("secret") != "" {
				err := cs.CoreV1().Secrets(ConfigNamespace).Delete(ctx, ConfigSecret, metav1.DeleteOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
			if r.Get("namespace") != "" {
				err := cs.CoreV1().Namespaces().Delete(ctx, ConfigNamespace, metav1.DeleteOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
			return nil
		}}
}
