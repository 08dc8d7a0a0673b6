package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// sarModel is an MKE 3 access model with every case verify meets: a
// team granted a namespace, a team granted every namespace, an org
// granted a namespace, a team without active members, a team whose only
// grant is on a Swarm collection (structure only), and a team whose
// only member is an MKE 3 admin (cluster-admin allows everything, so no
// negative control can be asked).
func sarModel() *rbac.Model {
	return &rbac.Model{APIVersion: rbac.ExportAPIVersion, Kind: rbac.ExportKind,
		Users: []rbac.User{{ID: "u1", Name: "sar-alice", IsActive: true}, {ID: "u2", Name: "sar-bob", IsActive: true},
			{ID: "u3", Name: "sar-carol", IsActive: true}, {ID: "u4", Name: "sar-dave", IsActive: true, IsAdmin: true},
			{ID: "u5", Name: "sar-erin"}},
		Orgs: []rbac.Org{{ID: "o1", Name: "sar"}},
		Teams: []rbac.Team{{ID: "t1", OrgID: "o1", Name: "web", Members: []string{"u1", "u2"}},
			{ID: "t2", OrgID: "o1", Name: "ops", Members: []string{"u3"}},
			{ID: "t3", OrgID: "o1", Name: "idle", Members: []string{"u5"}},
			{ID: "t4", OrgID: "o1", Name: "structure", Members: []string{"u2"}},
			{ID: "t5", OrgID: "o1", Name: "boss", Members: []string{"u4"}}},
		Roles:       []rbac.Role{{ID: "viewonly", Name: "View Only", System: true}, {ID: "restrictedcontrol", Name: "Restricted Control", System: true}},
		Collections: []rbac.Collection{{ID: "shared", Path: "/Shared"}},
		Grants: []rbac.Grant{{SubjectID: "t1", RoleID: "restrictedcontrol", ObjectID: "sar-apps", ObjectType: rbac.ObjectNamespace},
			{SubjectID: "t2", RoleID: "viewonly", ObjectType: rbac.ObjectAllNamespaces},
			{SubjectID: "o1", RoleID: "viewonly", ObjectID: "sar-ops", ObjectType: rbac.ObjectNamespace},
			{SubjectID: "t4", RoleID: "viewonly", ObjectID: "shared", ObjectType: rbac.ObjectCollection},
			{SubjectID: "t5", RoleID: "viewonly", ObjectID: "sar-apps", ObjectType: rbac.ObjectNamespace}},
	}
}

// The roles the grants map to (this control plane runs no controller
// manager, so Kubernetes' view and edit are not aggregated: the test
// brings its own, without delete).
var sarRoles = []rbacv1.ClusterRole{
	{ObjectMeta: metav1.ObjectMeta{Name: "sar-view"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}}}},
	{ObjectMeta: metav1.ObjectMeta{Name: "sar-edit"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"one"}}, // passed over: names only
		{Verbs: []string{"get", "list", "watch", "create", "update", "patch"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}}}},
}

// setupSAR applies the translation of sarModel and its roles, and waits
// until the authorizer sees them (it reads from a cache).
func setupSAR(t *testing.T) (kubernetes.Interface, *rbac.Objects) {
	t.Helper()
	f := setup(t)
	ctx := t.Context()
	objs, _, err := rbac.Translate(sarModel(), rbac.Options{Permissions: map[string]string{"viewonly": "sar-view", "restrictedcontrol": "sar-edit"}})
	must(t, err)
	for _, ns := range []string{"sar-apps", "sar-ops"} {
		must(t, ensureNamespace(ctx, f.cs, ns))
	}
	for _, r := range sarRoles {
		putClusterRole(t, f.cs, r)
	}
	_, err = kube.Apply(ctx, f.cs, objs, kube.ApplyOptions{})
	must(t, err)
	waitSAR(t, f.cs, "sar-alice", &authzv1.ResourceAttributes{Namespace: "sar-apps", Verb: "get", Resource: "pods"}, true)
	return f.cs, objs
}

func putClusterRole(t *testing.T, cs kubernetes.Interface, r rbacv1.ClusterRole) {
	t.Helper()
	got, err := cs.RbacV1().ClusterRoles().Get(t.Context(), r.Name, metav1.GetOptions{})
	if err != nil {
		_, err = cs.RbacV1().ClusterRoles().Create(t.Context(), &r, metav1.CreateOptions{})
		must(t, err)
		return
	}
	got.Rules = r.Rules
	_, err = cs.RbacV1().ClusterRoles().Update(t.Context(), got, metav1.UpdateOptions{})
	must(t, err)
}

// waitSAR waits until the authorizer answers allowed for user (safety
// net: a minute).
func waitSAR(t *testing.T, cs kubernetes.Interface, user string, attr *authzv1.ResourceAttributes, allowed bool) {
	t.Helper()
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: attr}}
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		return err == nil && res.Status.Allowed == allowed, err
	})
	must(t, err)
}

// Every org and team is checked by a member's SubjectAccessReviews: the
// grant's permission allowed, one no binding of theirs gives denied; what
// cannot be checked says why; the report counts the reviews and names
// each failure.
func TestRBACAccess(t *testing.T) {
	cs, objs := setupSAR(t)
	ctx := t.Context()
	rb := cs.RbacV1()
	// the checks every case has, passing unless the case says otherwise
	healthy := map[string]string{ // subject: "" (passes), "SKIP <message part>" or "note <message part>"
		"team web-team: sar-alice may get pods in sar-apps":           "",
		"team web-team: sar-alice may not delete pods in sar-apps":    "",
		"team ops-team: sar-carol may get pods (cluster-wide)":        "",
		"team ops-team: sar-carol may not delete pods (cluster-wide)": "",
		"org sar-org: sar-alice may get pods in sar-ops":              "",
		"org sar-org: sar-alice may not delete pods in sar-ops":       "",
		"team boss-team: sar-dave may get pods in sar-apps":           "note every member is also allowed it by another binding",
		"team boss-team: sar-dave may not (negative control)":         "SKIP the user's bindings give every permission",
		"team idle-team":      "SKIP not checked: no active member",
		"team structure-team": "SKIP not checked: no grant gives it a Kubernetes permission",
	}
	tests := []struct {
		name   string
		damage func(t *testing.T) func()
		fails  map[string]string // subject: part of its message
		sars   int
	}{
		{name: "healthy", damage: func(*testing.T) func() { return nil }, sars: 7},
		{name: "grant not effective", sars: 7,
			damage: func(t *testing.T) func() {
				// the binding is there, naming someone else
				set := func(user string) {
					b, err := rb.RoleBindings("sar-apps").Get(ctx, "web-team:sar-edit", metav1.GetOptions{})
					must(t, err)
					b.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
					_, err = rb.RoleBindings("sar-apps").Update(ctx, b, metav1.UpdateOptions{})
					must(t, err)
				}
				set("sar-nobody")
				waitSAR(t, cs, "sar-alice", &authzv1.ResourceAttributes{Namespace: "sar-apps", Verb: "get", Resource: "pods"}, false)
				return func() {
					set("sar-alice")
					b, err := rb.RoleBindings("sar-apps").Get(ctx, "web-team:sar-edit", metav1.GetOptions{})
					must(t, err)
					b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "sar-bob"})
					_, err = rb.RoleBindings("sar-apps").Update(ctx, b, metav1.UpdateOptions{})
					must(t, err)
					waitSAR(t, cs, "sar-alice", &authzv1.ResourceAttributes{Namespace: "sar-apps", Verb: "get", Resource: "pods"}, true)
				}
			},
			fails: map[string]string{"team web-team: sar-alice may get pods in sar-apps": "denied (granted by RoleBinding sar-apps/web-team:sar-edit)"}},
		{name: "more access than granted", sars: 7,
			damage: func(t *testing.T) func() {
				putClusterRole(t, cs, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "sar-deleter"},
					Rules: []rbacv1.PolicyRule{{Verbs: []string{"delete"}, APIGroups: []string{""}, Resources: []string{"pods"}}}})
				_, err := rb.RoleBindings("sar-apps").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sar-extra"},
					RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "sar-deleter"},
					Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "sar-alice"}}}, metav1.CreateOptions{})
				must(t, err)
				waitSAR(t, cs, "sar-alice", &authzv1.ResourceAttributes{Namespace: "sar-apps", Verb: "delete", Resource: "pods"}, true)
				return func() {
					must(t, rb.RoleBindings("sar-apps").Delete(ctx, "sar-extra", metav1.DeleteOptions{}))
					waitSAR(t, cs, "sar-alice", &authzv1.ResourceAttributes{Namespace: "sar-apps", Verb: "delete", Resource: "pods"}, false)
				}
			},
			fails: map[string]string{"team web-team: sar-alice may not delete pods in sar-apps": "more access than MKE 3 granted"}},
		{name: "granted role gives nothing", sars: 2,
			damage: func(t *testing.T) func() {
				putClusterRole(t, cs, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "sar-view"}})
				return func() { putClusterRole(t, cs, sarRoles[0]) }
			},
			fails: map[string]string{
				"team ops-team (ClusterRoleBinding ops-team:sar-view)":     "grants no resource permission",
				"org sar-org (RoleBinding sar-ops/sar-org:sar-view)":       "grants no resource permission",
				"team boss-team (RoleBinding sar-apps/boss-team:sar-view)": "grants no resource permission",
			}},
		{name: "granted role gone", sars: 5,
			damage: func(t *testing.T) func() {
				must(t, rb.ClusterRoles().Delete(ctx, "sar-edit", metav1.DeleteOptions{}))
				return func() { putClusterRole(t, cs, sarRoles[1]) }
			},
			fails: map[string]string{"team web-team (RoleBinding sar-apps/web-team:sar-edit)": "cannot read its ClusterRole sar-edit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if repair := tc.damage(t); repair != nil {
				defer repair()
			}
			// no node, namespace or inventory: RBAC only
			rep, err := Run(ctx, Options{Client: cs, Expect: Expect{RBAC: objs, SystemNamespaces: []string{}, InventoryMissing: "not this test's"}, SARWait: time.Second})
			must(t, err)
			var text, js bytes.Buffer
			must(t, rep.WriteText(&text))
			must(t, rep.WriteJSON(&js))
			t.Logf("verify:\n%s", text.String())
			got := map[string]Check{}
			for _, c := range rep.Checks {
				if c.ID == CheckRBACAccess {
					got[c.Subject] = c
				}
				if c.ID == CheckRBACObject && !c.OK {
					t.Errorf("RBAC object check failed: %+v", c)
				}
			}
			for subj, want := range healthy {
				if _, failing := tc.fails[subj]; failing {
					continue
				}
				if slices.ContainsFunc(slices.Collect(maps.Keys(tc.fails)), func(f string) bool { return strings.HasPrefix(f, strings.SplitN(subj, ":", 2)[0]+" (") }) {
					continue // the grant's role is broken: no review
				}
				c, ok := got[subj]
				switch {
				case !ok:
					t.Errorf("no check %q in:\n%s", subj, text.String())
				case !c.OK:
					t.Errorf("%q failed: %s", subj, c.Message)
				case strings.HasPrefix(want, "SKIP ") && (!c.Skipped || !strings.Contains(c.Message, want[5:])):
					t.Errorf("%q: %+v, want skipped saying %q", subj, c, want[5:])
				case strings.HasPrefix(want, "note ") && !strings.Contains(c.Message, want[5:]):
					t.Errorf("%q: %+v, want a note saying %q", subj, c, want[5:])
				case want == "" && (c.Skipped || c.Message != ""):
					t.Errorf("%q: %+v, want a plain pass", subj, c)
				}
			}
			for subj, part := range tc.fails {
				c, ok := got[subj]
				if !ok || c.OK || !strings.Contains(c.Message, part) {
					t.Errorf("want %q failed with %q; got %+v in:\n%s", subj, part, c, text.String())
				}
				// the text names each failure; the JSON has it
				if !strings.Contains(text.String(), "FAIL  rbac-access  "+subj) {
					t.Errorf("the text does not name the failure %q:\n%s", subj, text.String())
				}
			}
			if n := rep.Failed(); n != len(tc.fails) {
				t.Errorf("%d checks failed, want %d:\n%s", n, len(tc.fails), text.String())
			}
			if rep.SubjectAccessReviews != tc.sars {
				t.Errorf("%d SubjectAccessReviews, want %d", rep.SubjectAccessReviews, tc.sars)
			}
			if want := "; " + strconv.Itoa(tc.sars) + " SubjectAccessReviews asked"; !strings.Contains(strings.Join(strings.Fields(text.String()), " "), want) {
				t.Errorf("no %q in the text:\n%s", want, text.String())
			}
			var doc struct {
				SubjectAccessReviews int     `json:"subjectAccessReviews"`
				Checks               []Check `json:"checks"`
			}
			must(t, json.Unmarshal(js.Bytes(), &doc))
			if doc.SubjectAccessReviews != tc.sars {
				t.Errorf("JSON: %d SubjectAccessReviews, want %d", doc.SubjectAccessReviews, tc.sars)
			}
			failed := 0
			for _, c := range doc.Checks {
				if !c.OK {
					failed++
				}
			}
			if failed != len(tc.fails) {
				t.Errorf("JSON: %d failed checks, want %d", failed, len(tc.fails))
			}
		})
	}
}
