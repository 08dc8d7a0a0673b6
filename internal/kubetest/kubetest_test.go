package kubetest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

var plane *kubetest.Plane

func TestMain(m *testing.M) {
	os.Exit(kubetest.Main(m, kubetest.Options{ControllerManager: true}, &plane))
}

func TestPlane(t *testing.T) {
	p := kubetest.Need(t, plane)
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v"+kubetest.KubeVersion {
		t.Errorf("server version %q, want v%s", v.GitVersion, kubetest.KubeVersion)
	}
	if fi, err := os.Stat(p.Kubeconfig); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig: %v, %v", fi, err)
	}

	// The aggregation controller runs in kube-controller-manager: an
	// aggregated role must be filled from a labelled part.
	ctx := t.Context()
	part := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubetest-part", Labels: map[string]string{"kubetest/agg": "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}},
	}
	agg := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubetest-agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"kubetest/agg": "true"}}}},
	}
	for _, r := range []*rbacv1.ClusterRole{part, agg} {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{}) })
	}
	// Start waited for the bootstrap roles
	if v, err := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{}); err != nil || len(v.Rules) == 0 {
		t.Errorf("view has no rules yet: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, "kubetest-agg", metav1.GetOptions{})
		return err == nil && len(got.Rules) == 1, err
	})
	if err != nil {
		t.Fatalf("aggregated role not filled: %v", err)
	}
}

func TestAssetsMissing(t *testing.T) {
	t.Setenv(kubetest.EnvAssets, t.TempDir())
	if _, err := kubetest.Assets(); err == nil {
		t.Fatal("no error for an empty assets folder")
	}
}
