package verify

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/rbac"
)

var plane *kubetest.Plane

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, kubetest.Options{}, &plane)) }

// seed makes a cluster as an upgrade leaves it: two Ready nodes with
// their labels, a running system pod, and the translated RBAC objects of
// one org and one team.
func seed(t *testing.T, cs kubernetes.Interface) (Expect, *rbac.Objects) {
	t.Helper()
	ctx := t.Context()
	var exp Expect
	for _, n := range []Node{{Name: "manager-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": "true"}},
		{Name: "worker-1", Labels: map[string]string{"zone": "a"}}} {
		node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
		if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		exp.Nodes = append(exp.Nodes, n)
	}
	// the service account controller may not have made it yet
	_, _ = cs.CoreV1().ServiceAccounts("kube-system").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	pod, err := cs.CoreV1().Pods("kube-system").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "coredns-x"},
		Spec: corev1.PodSpec{NodeName: "worker-1", Containers: []corev1.Container{{Name: "c", Image: "coredns"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if _, err := cs.CoreV1().Pods("kube-system").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := &rbac.Objects{
		ClusterRoles: []rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "acme-org"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "dev-team"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}}}},
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "acme-org"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "acme-org"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "org:acme"}}}},
		RoleBindings: []rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "dev-team", Namespace: "apps"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "dev-team"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team:acme:dev"}}}},
	}
	for _, r := range objs.ClusterRoles {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range objs.RoleBindings {
		if _, err := cs.RbacV1().RoleBindings(b.Namespace).Create(ctx, &b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	exp.RBAC = objs
	return exp, objs
}

func TestVerify(t *testing.T) {
	p := kubetest.Need(t, plane)
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := seed(t, cs)
	ctx := context.Background()
	rep, err := Run(ctx, Options{Client: cs, External: cs, Expect: exp})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var b bytes.Buffer
		_ = rep.WriteText(&b)
		t.Fatalf("a fresh cluster fails:\n%s", b.String())
	}
	ids := map[string]int{}
	for _, c := range rep.Checks {
		ids[c.ID]++
	}
	for id, n := range map[string]int{"nodes": 2, "system-pods": 1, "rbac-object": 4, "rbac-access": 2, "external-api": 1} {
		if ids[id] != n {
			t.Errorf("%d %s checks, want %d: %+v", ids[id], id, n, rep.Checks)
		}
	}

	// what an upgrade could lose: a label, a binding, a permission
	n, _ := cs.CoreV1().Nodes().Get(ctx, "worker-1", metav1.GetOptions{})
	delete(n.Labels, "zone")
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.RbacV1().ClusterRoleBindings().Delete(ctx, "acme-org", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r, _ := cs.RbacV1().ClusterRoles().Get(ctx, "dev-team", metav1.GetOptions{})
	r.Rules[0].Resources = []string{"configmaps"}
	if _, err := cs.RbacV1().ClusterRoles().Update(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	exp.RBAC.ClusterRoles[1].Rules = nil // verify asks the server for the role's rules
	rep, err = Run(ctx, Options{Client: cs, Expect: exp})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("a damaged cluster passes")
	}
	var text, js bytes.Buffer
	_ = rep.WriteText(&text)
	_ = rep.WriteJSON(&js)
	for _, want := range []string{"label zone=a missing", "ClusterRoleBinding acme-org"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("no %q in:\n%s", want, text.String())
		}
	}
	if !strings.Contains(js.String(), `"ok": false`) {
		t.Errorf("json: %s", js.String())
	}
}
