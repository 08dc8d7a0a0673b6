package verify

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/rbac"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var plane *kubetest.Plane

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, kubetest.Options{}, &plane)) }

// fixture is a cluster as an upgrade leaves it, in one shared control
// plane: two Ready nodes with their labels (and a taint on the manager),
// a running, Ready system pod, a system Deployment whose controller counts
// say it is ready, a ConfigMap and a Secret of an application, and the
// translated RBAC of one org and one team.
type fixture struct {
	cs  kubernetes.Interface
	exp Expect
}

var managerTaint = corev1.Taint{Key: "com.docker.ucp.manager", Effect: corev1.TaintEffectNoSchedule}

const secretCanary = "verify-secret-canary-6c1f"

func setup(t *testing.T) *fixture {
	t.Helper()
	p := kubetest.Need(t, plane)
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	f := &fixture{cs: cs}
	if _, err := cs.CoreV1().Nodes().Get(ctx, "manager-1", metav1.GetOptions{}); err == nil {
		f.exp = f.expect()
		return f // made by an earlier test
	}
	for _, n := range []Node{{Name: "manager-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": "true"}, Taints: []corev1.Taint{managerTaint}},
		{Name: "worker-1", Labels: map[string]string{"zone": "a"}}} {
		node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}, Spec: corev1.NodeSpec{Taints: n.Taints}}, metav1.CreateOptions{})
		must(t, err)
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		must(t, err)
	}
	for _, ns := range []string{"apps", "mke"} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		must(t, err)
	}
	// no controller manager here: the service accounts are made by hand
	for _, ns := range []string{"kube-system", "apps"} {
		_, _ = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	}
	runningPod(t, cs, "kube-system", "coredns-x", corev1.PodRunning, true)
	one := int32(1)
	d, err := cs.AppsV1().Deployments("mke").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "mke-operator"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "op"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "op"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "op"}}}}}}, metav1.CreateOptions{})
	must(t, err)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	_, err = cs.AppsV1().Deployments("mke").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	must(t, err)
	_, err = cs.CoreV1().ConfigMaps("apps").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().Secrets("apps").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": secretCanary}}, metav1.CreateOptions{})
	must(t, err)
	objs := rbacObjects()
	for _, r := range objs.ClusterRoles {
		_, err := cs.RbacV1().ClusterRoles().Create(ctx, &r, metav1.CreateOptions{})
		must(t, err)
	}
	for _, b := range objs.ClusterRoleBindings {
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &b, metav1.CreateOptions{})
		must(t, err)
	}
	for _, b := range objs.RoleBindings {
		_, err := cs.RbacV1().RoleBindings(b.Namespace).Create(ctx, &b, metav1.CreateOptions{})
		must(t, err)
	}
	f.exp = f.expect()
	return f
}

func (f *fixture) expect() Expect {
	return Expect{Nodes: []Node{{Name: "manager-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": "true"}, Taints: []corev1.Taint{managerTaint}},
		{Name: "worker-1", Labels: map[string]string{"zone": "a"}}}, RBAC: rbacObjects()}
}

func rbacObjects() *rbac.Objects {
	return &rbac.Objects{
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
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runningPod makes a pod with the given phase, Ready or not, as a
// kubelet would report it.
func runningPod(t *testing.T, cs kubernetes.Interface, ns, name string, phase corev1.PodPhase, ready bool) {
	t.Helper()
	ctx := t.Context()
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: "worker-1", Containers: []corev1.Container{{Name: "c", Image: "img"}}}}, metav1.CreateOptions{})
	must(t, err)
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	pod.Status.Phase = phase
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	must(t, err)
}

func deletePod(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	zero := int64(0) // no kubelet here to finish a graceful deletion
	must(t, cs.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
}

func setNode(t *testing.T, cs kubernetes.Interface, name string, change func(*corev1.Node)) {
	t.Helper()
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	must(t, err)
	change(n)
	n, err = cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
	must(t, err)
	change(n)
	_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	must(t, err)
}

func readiness(s corev1.ConditionStatus) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: s, Reason: "test"}}
	}
}

// Each check against a real API server: a healthy cluster passes; each
// damage an upgrade could do fails exactly the check that looks for it,
// with a message that names what is wrong.
func TestChecks(t *testing.T) {
	f := setup(t)
	cs := f.cs
	ctx := context.Background()
	unreachable, err := kubernetes.NewForConfig(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 5e9})
	must(t, err)
	tests := []struct {
		name string
		// damage changes the cluster after the inventory; it returns the
		// repair (nil when there is nothing to repair)
		damage   func(t *testing.T, o *Options) func()
		failID   string // "" when every check passes
		subject  string
		contains string
	}{
		{name: "healthy", damage: func(*testing.T, *Options) func() { return nil }},
		{name: "node NotReady", failID: CheckNodes, subject: "worker-1", contains: "not Ready",
			damage: func(t *testing.T, _ *Options) func() {
				setNode(t, cs, "worker-1", readiness(corev1.ConditionFalse))
				return func() { setNode(t, cs, "worker-1", readiness(corev1.ConditionTrue)) }
			}},
		{name: "node gone", failID: CheckNodes, subject: "worker-2", contains: "no such node",
			damage: func(_ *testing.T, o *Options) func() {
				o.Expect.Nodes = append(o.Expect.Nodes, Node{Name: "worker-2"})
				return nil
			}},
		{name: "label missing", failID: CheckNodes, subject: "worker-1", contains: `label zone=a missing (has "")`,
			damage: func(t *testing.T, _ *Options) func() {
				setNode(t, cs, "worker-1", func(n *corev1.Node) { delete(n.Labels, "zone") })
				return func() {
					setNode(t, cs, "worker-1", func(n *corev1.Node) {
						if n.Labels == nil {
							n.Labels = map[string]string{}
						}
						n.Labels["zone"] = "a"
					})
				}
			}},
		{name: "taint missing", failID: CheckNodes, subject: "manager-1", contains: "taint com.docker.ucp.manager:NoSchedule missing",
			damage: func(t *testing.T, _ *Options) func() {
				setNode(t, cs, "manager-1", func(n *corev1.Node) { n.Spec.Taints = nil })
				return func() {
					setNode(t, cs, "manager-1", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{managerTaint} })
				}
			}},
		{name: "system pod not running", failID: CheckSystemPods, subject: "kube-system", contains: "pod calico-node-y Pending",
			damage: func(t *testing.T, _ *Options) func() {
				runningPod(t, cs, "kube-system", "calico-node-y", corev1.PodPending, false)
				return func() { deletePod(t, cs, "kube-system", "calico-node-y") }
			}},
		{name: "system pod running but not ready", failID: CheckSystemPods, subject: "kube-system", contains: "pod calico-node-z Running but not Ready",
			damage: func(t *testing.T, _ *Options) func() {
				runningPod(t, cs, "kube-system", "calico-node-z", corev1.PodRunning, false)
				return func() { deletePod(t, cs, "kube-system", "calico-node-z") }
			}},
		{name: "system deployment not ready", failID: CheckSystemPods, subject: "mke", contains: "Deployment mke-operator 0 of 1 ready",
			damage: func(t *testing.T, _ *Options) func() {
				d, err := cs.AppsV1().Deployments("mke").Get(ctx, "mke-operator", metav1.GetOptions{})
				must(t, err)
				d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
				_, err = cs.AppsV1().Deployments("mke").UpdateStatus(ctx, d, metav1.UpdateOptions{})
				must(t, err)
				return func() {
					d, err := cs.AppsV1().Deployments("mke").Get(ctx, "mke-operator", metav1.GetOptions{})
					must(t, err)
					d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1
					_, err = cs.AppsV1().Deployments("mke").UpdateStatus(ctx, d, metav1.UpdateOptions{})
					must(t, err)
				}
			}},
		{name: "system statefulset not ready", failID: CheckSystemPods, subject: "kube-system", contains: "StatefulSet etcd-backup 0 of 2 ready",
			damage: func(t *testing.T, _ *Options) func() {
				two := int32(2)
				_, err := cs.AppsV1().StatefulSets("kube-system").Create(ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "etcd-backup"},
					Spec: appsv1.StatefulSetSpec{Replicas: &two, ServiceName: "etcd-backup", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "eb"}},
						Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "eb"}},
							Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "eb"}}}}}}, metav1.CreateOptions{})
				must(t, err)
				return func() {
					must(t, cs.AppsV1().StatefulSets("kube-system").Delete(ctx, "etcd-backup", metav1.DeleteOptions{}))
				}
			}},
		{name: "object missing", failID: CheckObjects, subject: "configmaps", contains: "missing: apps/settings",
			damage: func(t *testing.T, _ *Options) func() {
				must(t, cs.CoreV1().ConfigMaps("apps").Delete(ctx, "settings", metav1.DeleteOptions{}))
				return func() {
					_, err := cs.CoreV1().ConfigMaps("apps").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}, metav1.CreateOptions{})
					must(t, err)
				}
			}},
		{name: "object replaced", failID: CheckObjects, subject: "secrets", contains: "another object (UID) under the name: apps/db",
			damage: func(t *testing.T, _ *Options) func() {
				must(t, cs.CoreV1().Secrets("apps").Delete(ctx, "db", metav1.DeleteOptions{}))
				_, err := cs.CoreV1().Secrets("apps").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}}, metav1.CreateOptions{})
				must(t, err)
				return nil
			}},
		{name: "kind no longer served", failID: CheckObjects, subject: "widgets.example.com", contains: "the API server does not serve widgets.example.com",
			damage: func(_ *testing.T, o *Options) func() {
				o.Expect.Inventory.Kinds = append(o.Expect.Inventory.Kinds, Kind{Group: "example.com", Version: "v1", Resource: "widgets", Kind: "Widget",
					Objects: []Object{{Name: "w", UID: "u"}}})
				return nil
			}},
		{name: "kind at another version", // a newer release serves the group at another version
			damage: func(_ *testing.T, o *Options) func() {
				for i, k := range o.Expect.Inventory.Kinds {
					if k.Name() == "deployments.apps" {
						o.Expect.Inventory.Kinds[i].Version = "v1beta9"
					}
				}
				return nil
			}},
		{name: "RBAC binding missing", failID: CheckRBACObject, subject: "ClusterRoleBinding acme-org", contains: "not found",
			damage: func(t *testing.T, o *Options) func() {
				// RBAC is applied after the carry: not in the inventory
				o.Expect.Inventory = nil
				must(t, cs.RbacV1().ClusterRoleBindings().Delete(ctx, "acme-org", metav1.DeleteOptions{}))
				return func() {
					b := rbacObjects().ClusterRoleBindings[0]
					_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &b, metav1.CreateOptions{})
					must(t, err)
				}
			}},
		{name: "SAR denied", failID: CheckRBACAccess, subject: "group team:acme:dev may create deployments in apps", contains: "denied",
			damage: func(t *testing.T, _ *Options) func() {
				// the binding is there, to another group
				set := func(group string) {
					b, err := cs.RbacV1().RoleBindings("apps").Get(ctx, "dev-team", metav1.GetOptions{})
					must(t, err)
					b.Subjects[0].Name = group
					_, err = cs.RbacV1().RoleBindings("apps").Update(ctx, b, metav1.UpdateOptions{})
					must(t, err)
				}
				set("team:acme:ops")
				return func() { set("team:acme:dev") }
			}},
		{name: "external address unreachable", failID: CheckExternalAPI, subject: "mke.example.com", contains: "connection refused",
			damage: func(_ *testing.T, o *Options) func() {
				o.External = unreachable
				return nil
			}},
		{name: "API down", failID: CheckNodes, subject: "the API", contains: "cannot list the nodes",
			damage: func(_ *testing.T, o *Options) func() {
				o.Client, o.External = unreachable, nil
				return nil
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := TakeInventory(ctx, plane.Config, InventoryOptions{})
			must(t, err)
			exp := f.exp
			exp.Inventory = inv
			o := Options{Client: cs, External: cs, ExternalAddress: "mke.example.com", Expect: exp}
			if repair := tc.damage(t, &o); repair != nil {
				defer repair()
			}
			rep, err := Run(ctx, o)
			must(t, err)
			var text bytes.Buffer
			must(t, rep.WriteText(&text))
			var failed []Check
			for _, c := range rep.Checks {
				if !c.OK {
					failed = append(failed, c)
				}
			}
			if tc.failID == "" {
				if len(failed) > 0 {
					t.Fatalf("checks failed:\n%s", text.String())
				}
				return
			}
			if len(failed) != 1 {
				t.Fatalf("%d checks failed, want 1 (%s %s):\n%s", len(failed), tc.failID, tc.subject, text.String())
			}
			c := failed[0]
			if c.ID != tc.failID || c.Subject != tc.subject || !strings.Contains(c.Message, tc.contains) {
				t.Fatalf("failed %s %s: %s; want %s %s containing %q", c.ID, c.Subject, c.Message, tc.failID, tc.subject, tc.contains)
			}
			if !strings.Contains(text.String(), "FAIL  "+tc.failID) || !strings.Contains(text.String(), "checks failed") {
				t.Errorf("text does not show the failure:\n%s", text.String())
			}
		})
	}
}

// What the healthy cluster's report says, beyond passing: one check per
// node, system namespace, recorded kind, RBAC object and grant, and the
// external address; an empty system namespace is a visible fact; a
// controlled pod that is gone is counted and does not fail.
func TestReportSaysWhatItChecked(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	must(t, ensureNamespace(ctx, f.cs, "empty-system"))
	runningPod(t, f.cs, "apps", "web-abc", corev1.PodRunning, true)
	p, err := f.cs.CoreV1().Pods("apps").Get(ctx, "web-abc", metav1.GetOptions{})
	must(t, err)
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs-uid", Controller: &yes}}
	_, err = f.cs.CoreV1().Pods("apps").Update(ctx, p, metav1.UpdateOptions{})
	must(t, err)
	inv, err := TakeInventory(ctx, plane.Config, InventoryOptions{})
	must(t, err)
	deletePod(t, f.cs, "apps", "web-abc") // its ReplicaSet would make another
	exp := f.exp
	exp.Inventory = inv
	exp.SystemNamespaces = []string{"kube-system", "mke", "empty-system"}
	// an org without grants: its role has no rule to ask about
	empty := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "empty-org"}}
	emptyB := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "empty-org"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "empty-org"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "org:empty"}}}
	_, _ = f.cs.RbacV1().ClusterRoles().Create(ctx, &empty, metav1.CreateOptions{})
	_, _ = f.cs.RbacV1().ClusterRoleBindings().Create(ctx, &emptyB, metav1.CreateOptions{})
	exp.RBAC = rbacObjects()
	exp.RBAC.ClusterRoles = append(exp.RBAC.ClusterRoles, empty)
	exp.RBAC.ClusterRoleBindings = append(exp.RBAC.ClusterRoleBindings, emptyB)
	rep, err := Run(ctx, Options{Client: f.cs, External: f.cs, Expect: exp})
	must(t, err)
	var text bytes.Buffer
	must(t, rep.WriteText(&text))
	if !rep.OK() {
		t.Fatalf("a healthy cluster fails:\n%s", text.String())
	}
	ids := map[string]int{}
	for _, c := range rep.Checks {
		ids[c.ID]++
	}
	for id, n := range map[string]int{CheckNodes: 2, CheckSystemPods: 3, CheckRBACObject: 6, CheckRBACAccess: 3, CheckExternalAPI: 1} {
		if ids[id] != n {
			t.Errorf("%d %s checks, want %d", ids[id], id, n)
		}
	}
	if ids[CheckObjects] < 10 {
		t.Errorf("%d kinds checked: %v", ids[CheckObjects], rep.Checks)
	}
	for _, want := range []string{
		"note  system-pods   empty-system  0 pods and 0 workloads: nothing runs there to check",
		"system-pods   kube-system   1 pods running, 0 workloads ready",
		"mke           0 pods running, 1 workloads ready",
		"pods  1 of 2 present; 1 gone or replaced (replaced by their controllers: not required)",
		"external-api  the external address  answers: Kubernetes v",
		"note  rbac-access  group org:empty  its role grants no permission (an org or team without grants): nothing to ask",
	} {
		if !strings.Contains(strings.Join(strings.Fields(text.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("no %q in:\n%s", want, text.String())
		}
	}
}

func ensureNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return err
	}
	return nil
}

// The inventory lists every kind with its objects' UIDs, never a
// Secret's data; MaxObjects truncates it and says so; what it encodes
// decodes to the same.
func TestInventory(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	inv, err := TakeInventory(ctx, plane.Config, InventoryOptions{PageSize: 7})
	must(t, err)
	b, err := inv.Encode()
	must(t, err)
	if bytes.Contains(b, []byte(secretCanary)) {
		t.Fatal("the inventory holds a Secret's data")
	}
	sec, err := f.cs.CoreV1().Secrets("apps").Get(ctx, "db", metav1.GetOptions{})
	must(t, err)
	found := map[string]bool{}
	for _, k := range inv.Kinds {
		for _, o := range k.Objects {
			if k.Name() == "secrets" && o.Key() == "apps/db" && o.UID == string(sec.UID) {
				found["secret"] = true
			}
		}
		found[k.Name()] = true
	}
	for _, k := range []string{"secret", "configmaps", "deployments.apps", "clusterroles.rbac.authorization.k8s.io", "namespaces", "nodes"} {
		if !found[k] {
			t.Errorf("%s not in the inventory", k)
		}
	}
	if found["events"] {
		t.Error("events are recorded")
	}
	var manager *Node
	for i := range inv.Nodes {
		if inv.Nodes[i].Name == "manager-1" {
			manager = &inv.Nodes[i]
		}
	}
	if manager == nil || len(manager.Taints) != 1 || manager.Taints[0].Key != managerTaint.Key {
		t.Errorf("manager-1's taint not recorded: %+v", inv.Nodes)
	}
	back, err := DecodeInventory("inv", b)
	must(t, err)
	if back.Count() != inv.Count() || len(back.Kinds) != len(inv.Kinds) {
		t.Errorf("decoded %d objects in %d kinds, encoded %d in %d", back.Count(), len(back.Kinds), inv.Count(), len(inv.Kinds))
	}
	small, err := TakeInventory(ctx, plane.Config, InventoryOptions{MaxObjects: 5})
	must(t, err)
	if !small.Truncated || small.Count() != 5 {
		t.Fatalf("MaxObjects 5: %d objects, truncated %v", small.Count(), small.Truncated)
	}
	rep, err := Run(ctx, Options{Client: f.cs, Expect: Expect{Inventory: small}})
	must(t, err)
	var text bytes.Buffer
	must(t, rep.WriteText(&text))
	if rep.OK() || !strings.Contains(text.String(), "the inventory stopped at 5 objects") {
		t.Fatalf("a truncated inventory passes:\n%s", text.String())
	}
}

// FromRun reads the output folder: hosts from discovery.json with their
// labels, taints from the inventory; without an inventory, why not.
func TestFromRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) { must(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600)) }
	write("discovery.json", `{"facts":{"10.0.0.1:22":{"hostname":"manager-1"},"10.0.0.2:22":{"hostname":"worker-1"}},
		"labels":{"10.0.0.2:22":{"zone":"a"}},"carry":null}`)
	exp, err := FromRun(dir, nil)
	must(t, err)
	if len(exp.Nodes) != 2 || exp.Nodes[1].Labels["zone"] != "a" || exp.Inventory != nil || !strings.Contains(exp.InventoryMissing, "--no-carry") {
		t.Fatalf("%+v", exp)
	}
	write("discovery.json", `{"facts":{"10.0.0.1:22":{"hostname":"manager-1"}},"carry":{"etcdPrefix":"/registry"}}`)
	exp, err = FromRun(dir, nil)
	must(t, err)
	if !strings.Contains(exp.InventoryMissing, InventoryFile) {
		t.Fatalf("no reason: %+v", exp)
	}
	write(InventoryFile, `{"taken":"2026-01-02T03:04:05Z","nodes":[{"name":"manager-1","taints":[{"key":"k","effect":"NoSchedule"}]}],
		"kinds":[{"version":"v1","resource":"configmaps","kind":"ConfigMap","namespaced":true,"objects":[{"ns":"a","name":"b","uid":"u"}]}]}`)
	exp, err = FromRun(dir, nil)
	must(t, err)
	if exp.Inventory == nil || exp.Inventory.Count() != 1 || len(exp.Nodes[0].Taints) != 1 {
		t.Fatalf("%+v", exp)
	}
	write(InventoryFile, `{"kinds":[{"version":"v1","resource":"configmaps","namespaced":true,"objects":[{"name":"b","uid":"u"}]}]}`)
	if _, err := FromRun(dir, nil); err == nil || !strings.Contains(err.Error(), InventoryFile) {
		t.Fatalf("a namespaced object without a namespace: %v", err)
	}
	if _, err := FromRun(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "output folder") {
		t.Fatalf("no discovery.json: %v", err)
	}
}

// The text and JSON reports, golden: every verdict (pass, note, skip,
// fail) of every check.
func TestReportGolden(t *testing.T) {
	rep := &Report{Checks: []Check{
		{ID: CheckNodes, Subject: "manager-1", OK: true},
		{ID: CheckNodes, Subject: "worker-1", Message: `not Ready; label zone=a missing (has ""); taint dedicated=db:NoSchedule missing`},
		{ID: CheckSystemPods, Subject: "kube-system", OK: true, Message: "0 pods and 0 workloads: nothing runs there to check"},
		{ID: CheckSystemPods, Subject: "mke", Message: "not running: pod mke-operator-1 Pending, DaemonSet calico-node 1 of 2 ready"},
		{ID: CheckObjects, Subject: "configmaps", Message: "3 of 4 present; missing: shop/settings"},
		{ID: CheckObjects, Subject: "pods", OK: true, Message: "2 of 3 present; 1 gone or replaced (replaced by their controllers: not required)"},
		{ID: CheckObjects, Subject: "inventory", OK: true, Skipped: true, Message: "not recorded before the upgrade: metrics.k8s.io/v1beta1: the server is currently unable to handle the request"},
		{ID: CheckRBACObject, Subject: "ClusterRole acme-org", OK: true},
		{ID: CheckRBACAccess, Subject: "team web-team: alice may get pods in shop", Message: "denied (granted by RoleBinding shop/web-team:edit): no reason given"},
		{ID: CheckRBACAccess, Subject: "team web-team: alice may not delete pods in shop", OK: true},
		{ID: CheckRBACAccess, Subject: "team idle-team", OK: true, Skipped: true, Message: "not checked: no active member in MKE 3 (its role is bound to nobody), so no user to ask for"},
		{ID: CheckExternalAPI, Subject: "mke.example.com", Message: `Get "https://mke.example.com:6443/version": dial tcp: connection refused`},
	}, SubjectAccessReviews: 2}
	for _, g := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return rep.WriteText(b) }},
		{"report.json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"passed.txt", func(b *bytes.Buffer) error { return (&Report{Checks: rep.Checks[:1]}).WriteText(b) }},
	} {
		var b bytes.Buffer
		must(t, g.write(&b))
		p := filepath.Join("testdata", g.file)
		if *update {
			must(t, os.MkdirAll("testdata", 0o755))
			must(t, os.WriteFile(p, b.Bytes(), 0o644))
		}
		want, err := os.ReadFile(p)
		must(t, err)
		if b.String() != string(want) {
			t.Errorf("%s differs (go test ./verify -run TestReportGolden -update):\n%s", p, b.String())
		}
	}
}
