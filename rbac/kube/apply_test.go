package kube_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// plane is one real control plane (etcd, kube-apiserver and the
// controller-manager's aggregation controller) for the package's tests.
var plane *kubetest.Plane

func TestMain(m *testing.M) {
	os.Exit(kubetest.Main(m, kubetest.Options{ControllerManager: true}, &plane))
}

func client(t testing.TB) kubernetes.Interface {
	t.Helper()
	p := kubetest.Need(t, plane)
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func meta(name, ns, kind string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
		rbac.LabelManagedBy: rbac.ManagedByValue, rbac.LabelKind: kind}}
}

// handObjects is a small tree made by hand, so that Apply is tested apart
// from Translate; prefix keeps tests apart on the shared server.
func handObjects(prefix, ns string) *rbac.Objects {
	agg := prefix + "-team"
	return &rbac.Objects{
		ClusterRoles: []rbacv1.ClusterRole{
			{ObjectMeta: meta(agg, "", rbac.KindTeam), AggregationRule: &rbacv1.AggregationRule{
				ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{rbac.AggregateLabelPrefix + agg: "true"}}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-part", Labels: map[string]string{
				rbac.LabelManagedBy: rbac.ManagedByValue, rbac.LabelKind: rbac.KindSwarmRole, rbac.AggregateLabelPrefix + agg: "true"}},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}},
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{
			ObjectMeta: meta(agg, "", rbac.KindMembership),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: agg},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: prefix + "-alice"}},
		}},
		RoleBindings: []rbacv1.RoleBinding{{
			ObjectMeta: meta(agg+":view", ns, rbac.KindGrant),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: prefix + "-bob"}},
		}},
	}
}

func namespace(t testing.TB, cs kubernetes.Interface, name string) {
	t.Helper()
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func resourceVersions(t *testing.T, cs kubernetes.Interface, objs *rbac.Objects) map[string]string {
	t.Helper()
	ctx := t.Context()
	out := map[string]string{}
	for _, r := range objs.ClusterRoles {
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["cr/"+r.Name] = got.ResourceVersion
	}
	for _, b := range objs.ClusterRoleBindings {
		got, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["crb/"+b.Name] = got.ResourceVersion
	}
	for _, b := range objs.RoleBindings {
		got, err := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["rb/"+b.Namespace+"/"+b.Name] = got.ResourceVersion
	}
	return out
}

func TestApplyIdempotentAndDelete(t *testing.T) {
	cs := client(t)
	ctx := t.Context()
	namespace(t, cs, "apply-ns")
	objs := handObjects("idem", "apply-ns")

	// a dry run writes nothing
	res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != objs.Len() || !res.DryRun {
		t.Errorf("dry run result %+v", res)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "idem-team", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry run stored the role: %v", err)
	}

	res, err = kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != objs.Len() || len(res.Updated)+len(res.Unchanged) != 0 {
		t.Fatalf("first apply %+v", res)
	}
	before := resourceVersions(t, cs, objs)

	// the aggregated role is filled by the controller from the labelled part
	waitRules(t, cs, "idem-team", 1)
	before["cr/idem-team"] = resourceVersions(t, cs, objs)["cr/idem-team"]

	res, err = kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unchanged) != objs.Len() {
		t.Errorf("re-apply %+v; want all unchanged", res)
	}
	after := resourceVersions(t, cs, objs)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: resourceVersion %s -> %s on re-apply", k, v, after[k])
		}
	}
	// and the controller's rules survived our apply
	waitRules(t, cs, "idem-team", 1)

	// a change is an update, and a dry run of it reports it without writing
	objs.ClusterRoleBindings[0].Subjects = append(objs.ClusterRoleBindings[0].Subjects,
		rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "idem-carol"})
	res, err = kube.Apply(ctx, cs, objs, kube.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0].Kind != "ClusterRoleBinding" {
		t.Errorf("dry-run update %+v", res)
	}
	if resourceVersions(t, cs, objs)["crb/idem-team"] != before["crb/idem-team"] {
		t.Error("dry run changed the binding")
	}
	res, err = kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	if err != nil || len(res.Updated) != 1 {
		t.Fatalf("update %+v, %v", res, err)
	}

	// delete (dry run first) removes exactly the objects
	del, err := kube.Delete(ctx, cs, objs, kube.DeleteOptions{DryRun: true})
	if err != nil || len(del.Deleted) != objs.Len() {
		t.Fatalf("dry-run delete %+v, %v", del, err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "idem-team", metav1.GetOptions{}); err != nil {
		t.Fatalf("dry-run delete removed the role: %v", err)
	}
	del, err = kube.Delete(ctx, cs, objs, kube.DeleteOptions{})
	if err != nil || len(del.Deleted) != objs.Len() {
		t.Fatalf("delete %+v, %v", del, err)
	}
	del, err = kube.Delete(ctx, cs, objs, kube.DeleteOptions{})
	if err != nil || len(del.Missing) != objs.Len() {
		t.Fatalf("second delete %+v, %v", del, err)
	}
}

func waitRules(t *testing.T, cs kubernetes.Interface, name string, n int) {
	t.Helper()
	var got *rbacv1.ClusterRole
	err := poll(t.Context(), func() (bool, error) {
		var err error
		got, err = cs.RbacV1().ClusterRoles().Get(t.Context(), name, metav1.GetOptions{})
		return err == nil && len(got.Rules) == n, err
	})
	if err != nil {
		t.Fatalf("%s: want %d aggregated rules: %v (have %v)", name, n, err, got)
	}
}

func TestApplyRefusesObjectsItDoesNotOwn(t *testing.T) {
	cs := client(t)
	ctx := t.Context()
	namespace(t, cs, "apply-ns")
	objs := handObjects("foreign", "apply-ns")
	// someone else's binding of the same name
	theirs := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "foreign-team"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "someone"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), "foreign-team", metav1.DeleteOptions{})
	})
	res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	var ae *kube.ApplyError
	if !errors.As(err, &ae) || !errors.Is(err, kube.ErrNotOwned) || ae.Ref.Name != "foreign-team" {
		t.Fatalf("err = %v; want ErrNotOwned for foreign-team", err)
	}
	if len(res.Created) != objs.Len()-1 {
		t.Errorf("created %v; the others should still be applied", res.Created)
	}
	got, _ := cs.RbacV1().ClusterRoleBindings().Get(ctx, "foreign-team", metav1.GetOptions{})
	if got.RoleRef.Name != "view" {
		t.Error("the foreign binding was changed")
	}
	// rolling back what was created leaves the foreign binding alone
	del, err := kube.Delete(ctx, cs, objs, kube.DeleteOptions{})
	if err != nil || len(del.NotOwned) != 1 || len(del.Deleted) != objs.Len()-1 {
		t.Fatalf("delete %+v, %v", del, err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "foreign-team", metav1.GetOptions{}); err != nil {
		t.Errorf("foreign binding deleted: %v", err)
	}
}

func TestApplyMissingNamespace(t *testing.T) {
	cs := client(t)
	objs := handObjects("nons", "no-such-namespace")
	res, err := kube.Apply(t.Context(), cs, objs, kube.ApplyOptions{})
	var ae *kube.ApplyError
	if !errors.As(err, &ae) || ae.Ref.Namespace != "no-such-namespace" || !strings.Contains(err.Error(), `create namespace "no-such-namespace"`) {
		t.Fatalf("err = %v", err)
	}
	// roll back what did go in
	if _, err := kube.Delete(t.Context(), cs, rbac.Select(objs, res.Created), kube.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestApplyCancelled(t *testing.T) {
	cs := client(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := kube.Apply(ctx, cs, handObjects("cancel", "apply-ns"), kube.ApplyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

// poll retries cond for up to 30 s: the aggregation controller works
// asynchronously (milliseconds here, but CI machines are busy).
func poll(ctx context.Context, cond func() (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		ok, err := cond()
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return ok, err
	})
}
