package kube_test

import (
	"context"
	"fmt"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// authzModel is an MKE 3 org/team tree with grants whose effect the real
// authorizer judges:
//
//	org acme: teams dev (alice, bob, erin) and ops (carol, erin); dave is
//	  a direct member; acme has View Only on namespace acme-ns
//	team dev: Restricted Control on namespace shared
//	team ops: None on namespace shared, Full Control on namespace ops-ns
//	org globex: team qa (frank); nothing granted
//	root: an MKE 3 admin
func authzModel() *rbac.Model {
	u := func(id, name string) rbac.User { return rbac.User{ID: id, Name: name, IsActive: true} }
	return &rbac.Model{
		APIVersion: rbac.ExportAPIVersion, Kind: rbac.ExportKind,
		Users: []rbac.User{u("u1", "alice"), u("u2", "bob"), u("u3", "carol"), u("u4", "dave"), u("u5", "erin"), u("u6", "frank"),
			{ID: "u0", Name: "root", IsActive: true, IsAdmin: true}},
		Orgs: []rbac.Org{{ID: "o1", Name: "acme", Members: []string{"u4"}}, {ID: "o2", Name: "globex"}},
		Teams: []rbac.Team{
			{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u2", "u5"}},
			{ID: "t2", OrgID: "o1", Name: "ops", Members: []string{"u3", "u5"}},
			{ID: "t3", OrgID: "o2", Name: "qa", Members: []string{"u6"}},
		},
		Roles: []rbac.Role{
			{ID: "none", Name: "None", System: true}, {ID: "viewonly", Name: "View Only", System: true},
			{ID: "restrictedcontrol", Name: "Restricted Control", System: true}, {ID: "fullcontrol", Name: "Full Control", System: true},
		},
		Grants: []rbac.Grant{
			{SubjectID: "o1", RoleID: "viewonly", ObjectID: "acme-ns", ObjectType: rbac.ObjectNamespace},
			{SubjectID: "t1", RoleID: "restrictedcontrol", ObjectID: "shared", ObjectType: rbac.ObjectNamespace},
			{SubjectID: "t2", RoleID: "none", ObjectID: "shared", ObjectType: rbac.ObjectNamespace},
			{SubjectID: "t2", RoleID: "fullcontrol", ObjectID: "ops-ns", ObjectType: rbac.ObjectNamespace},
		},
	}
}

type access struct {
	user, verb, group, resource, ns string
	allowed                         bool
}

func (a access) String() string {
	return fmt.Sprintf("%s %s %s/%s in %q", a.user, a.verb, a.group, a.resource, a.ns)
}

// allowed asks the API server's authorizer.
func allowed(t *testing.T, cs kubernetes.Interface, a access) bool {
	t.Helper()
	sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{User: a.user, ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: a.ns, Verb: a.verb, Group: a.group, Resource: a.resource}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

func TestTranslatedRBACAsTheAuthorizerSeesIt(t *testing.T) {
	cs := client(t)
	ctx := t.Context()
	for _, ns := range []string{"acme-ns", "shared", "ops-ns", "elsewhere"} {
		namespace(t, cs, ns)
	}
	objs, rep, err := rbac.Translate(authzModel(), rbac.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.HasErrors() {
		t.Fatalf("report: %+v", rep.Problems)
	}
	res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("applied %d objects: %d created, %d updated, %d unchanged", objs.Len(), len(res.Created), len(res.Updated), len(res.Unchanged))

	checks := []access{
		// an org-level View Only reaches every member of the org, in its namespace only
		{"alice", "list", "", "pods", "acme-ns", true},
		{"carol", "get", "", "configmaps", "acme-ns", true},
		{"dave", "list", "", "pods", "acme-ns", true},
		{"erin", "watch", "apps", "deployments", "acme-ns", true},
		{"alice", "create", "", "pods", "acme-ns", false},
		{"alice", "list", "", "pods", "elsewhere", false},
		{"frank", "list", "", "pods", "acme-ns", false},
		// a team's Restricted Control (edit) does not leak to another team
		{"bob", "create", "apps", "deployments", "shared", true},
		{"bob", "create", "rbac.authorization.k8s.io", "rolebindings", "shared", false}, // edit, not admin
		{"carol", "create", "apps", "deployments", "shared", false},
		{"carol", "list", "", "pods", "shared", false}, // None grants nothing
		{"dave", "list", "", "pods", "shared", false},
		// a user in two teams gets the union
		{"erin", "create", "apps", "deployments", "shared", true},
		{"erin", "create", "rbac.authorization.k8s.io", "rolebindings", "ops-ns", true},
		{"carol", "create", "rbac.authorization.k8s.io", "rolebindings", "ops-ns", true},
		{"alice", "list", "", "pods", "ops-ns", false},
		// nothing cluster-wide for anyone but the MKE 3 admin
		{"erin", "list", "", "nodes", "", false},
		{"root", "delete", "", "nodes", "", true},
		{"root", "create", "rbac.authorization.k8s.io", "clusterroles", "", true},
	}
	for _, a := range checks {
		if got := allowed(t, cs, a); got != a.allowed {
			t.Errorf("%v: allowed = %v, want %v", a, got, a.allowed)
		}
	}

	// The aggregated roles work as MKE 4k means them to: permissions an
	// administrator aggregates into acme-org reach every acme member
	// through the membership bindings, and no one else.
	orgRole := aggregatedName(t, objs, rbac.KindOrg, "acme")
	extra := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-extra-secrets-reader", Labels: map[string]string{rbac.AggregateLabelPrefix + orgRole: "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, extra, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoles().Delete(context.Background(), extra.Name, metav1.DeleteOptions{})
	})
	waitRules(t, cs, orgRole, 1)
	// The API server's authorizer reads roles from its own informer
	// cache, which may see the aggregated rule after a GET does: wait
	// until it allows the first grant (a safety net, not a timing).
	first := access{"alice", "get", "", "secrets", "elsewhere", true}
	if err := poll(ctx, func() (bool, error) { return allowed(t, cs, first), nil }); err != nil {
		t.Fatalf("the authorizer never allowed %v after aggregating into %s: %v", first, orgRole, err)
	}
	for _, a := range []access{
		first,
		{"dave", "get", "", "secrets", "elsewhere", true},
		{"carol", "get", "", "secrets", "elsewhere", true},
		{"frank", "get", "", "secrets", "elsewhere", false},
		{"alice", "list", "", "secrets", "elsewhere", false},
	} {
		if got := allowed(t, cs, a); got != a.allowed {
			t.Errorf("after aggregating into %s: %v: allowed = %v, want %v", orgRole, a, got, a.allowed)
		}
	}
	// the team roles aggregate nothing with permissions: None is empty
	for _, team := range []string{"dev", "ops"} {
		name := aggregatedName(t, objs, rbac.KindTeam, team)
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Rules) != 0 {
			t.Errorf("%s has rules %v; Swarm roles and none must add none", name, got.Rules)
		}
	}

	// The same, seen from the user's side: impersonate alice.
	imp := rest.CopyConfig(plane.Config)
	imp.Impersonate = rest.ImpersonationConfig{UserName: "alice"}
	as, err := kubernetes.NewForConfig(imp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CoreV1().Pods("acme-ns").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("alice lists pods in acme-ns: %v", err)
	}
	_, err = as.CoreV1().ConfigMaps("acme-ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("alice creates a configmap in acme-ns: err = %v, want forbidden", err)
	}

	// Applying again writes nothing.
	before := resourceVersions(t, cs, objs)
	res, err = kube.Apply(ctx, cs, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unchanged) != objs.Len() {
		t.Errorf("re-apply: %d created, %d updated; want all %d unchanged", len(res.Created), len(res.Updated), objs.Len())
	}
	after := resourceVersions(t, cs, objs)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: resourceVersion %s -> %s on re-apply", k, v, after[k])
		}
	}
}

// aggregatedName finds the aggregated ClusterRole Translate made for an
// MKE 3 org or team, by its kind label and source annotation.
func aggregatedName(t *testing.T, objs *rbac.Objects, kind, mke3Name string) string {
	t.Helper()
	for _, r := range objs.ClusterRoles {
		if r.Labels[rbac.LabelKind] == kind && r.AggregationRule != nil && r.Name == mke3Name+"-"+kind {
			return r.Name
		}
	}
	t.Fatalf("no %s ClusterRole for %q", kind, mke3Name)
	return ""
}

func TestDryRunWritesNothing(t *testing.T) {
	cs := client(t)
	ctx := t.Context()
	namespace(t, cs, "dry-ns")
	m := &rbac.Model{
		APIVersion: rbac.ExportAPIVersion, Kind: rbac.ExportKind,
		Users: []rbac.User{{ID: "u1", Name: "dry-user", IsActive: true}},
		Orgs:  []rbac.Org{{ID: "o1", Name: "dryorg"}},
		Teams: []rbac.Team{{ID: "t1", OrgID: "o1", Name: "dryteam", Members: []string{"u1"}}},
		// a role of its own, so that no object is shared with other tests
		Roles:  []rbac.Role{{ID: "dryrole", Name: "Dry Role"}},
		Grants: []rbac.Grant{{SubjectID: "t1", RoleID: "dryrole", ObjectID: "dry-ns", ObjectType: rbac.ObjectNamespace}},
	}
	objs, _, err := rbac.Translate(m, rbac.Options{SkipAdmins: true, Permissions: map[string]string{"dryrole": "view"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created)+len(res.Unchanged)+len(res.Updated) != objs.Len() {
		t.Fatalf("dry run %+v", res)
	}
	for _, r := range objs.ClusterRoles {
		if r.Name == rbac.PlaceholderName {
			continue // shared with the other tests
		}
		if _, err := cs.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run stored ClusterRole %s (%v)", r.Name, err)
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run stored ClusterRoleBinding %s (%v)", b.Name, err)
		}
	}
	for _, b := range objs.RoleBindings {
		if _, err := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run stored RoleBinding %s/%s (%v)", b.Namespace, b.Name, err)
		}
	}
	if allowed(t, cs, access{"dry-user", "list", "", "pods", "dry-ns", false}) {
		t.Error("dry run granted access")
	}
}
