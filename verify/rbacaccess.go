package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// DefaultSARWait is Options.SARWait's default.
const DefaultSARWait = 30 * time.Second

// Reasons an org or team's access is not checked (Check.Skipped, the
// message says which).
const (
	notCheckedNoMember = "not checked: no active member in MKE 3 (its role is bound to nobody), so no user to ask for"
	notCheckedNoGrant  = "not checked: no grant gives it a Kubernetes permission (MKE 3 grants on Swarm collections are carried as structure only, a Swarm role mapped to none gives nothing), so nothing to ask for"
)

// unit is an org or a team as the translation made it: its aggregated
// ClusterRole, the users its membership binding names and the bindings
// of its grants.
type unit struct {
	kind, role string
	members    []string
	grants     []binding
}

// binding is one (Cluster)RoleBinding naming users.
type binding struct {
	kind, ns, name string
	ref            rbacv1.RoleRef
	users          []string
}

func (b binding) String() string {
	if b.ns != "" {
		return b.kind + " " + b.ns + "/" + b.name
	}
	return b.kind + " " + b.name
}

// rbacAccess asks, for every org and team of the translation, the API
// server's authorizer (a SubjectAccessReview, as a member of it would
// be asked) whether a member may do what each of its grants gives, and,
// as a negative control, whether that member may do something no
// translated binding of theirs gives (which must be denied). The
// translation binds users, not groups (rbac package doc, Membership), so
// the reviews name a member: the first, in name order, that no other
// binding of theirs already allows the grant's permission (an MKE 3
// admin is bound to cluster-admin). An org or team without members or
// without a grant that gives a Kubernetes permission is reported as not
// checked, with the reason. It returns the number of reviews created.
func rbacAccess(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, wait time.Duration, add func(Check)) int {
	units, all := orgsAndTeams(objs)
	a := &asker{cs: cs, deadline: time.Now().Add(wait), all: all, rules: map[string][]rbacv1.PolicyRule{}}
	for _, u := range units {
		subj := u.kind + " " + u.role
		switch {
		case len(u.members) == 0:
			add(Check{ID: CheckRBACAccess, Subject: subj, OK: true, Skipped: true, Message: notCheckedNoMember})
			continue
		case len(u.grants) == 0:
			add(Check{ID: CheckRBACAccess, Subject: subj, OK: true, Skipped: true, Message: notCheckedNoGrant})
			continue
		}
		for _, g := range u.grants {
			a.grant(ctx, subj, u, g, add)
		}
	}
	return a.asked
}

// orgsAndTeams finds the orgs and teams of a translation (by the labels
// Translate sets: rbac.LabelKind) and every binding naming users.
func orgsAndTeams(objs *rbac.Objects) ([]unit, []binding) {
	var all []binding
	kinds := map[string]string{} // binding key: its rbac.LabelKind
	users := func(ss []rbacv1.Subject) []string {
		var out []string
		for _, s := range ss {
			if s.Kind == rbacv1.UserKind {
				out = append(out, s.Name)
			}
		}
		return out
	}
	for _, b := range objs.ClusterRoleBindings {
		bb := binding{kind: "ClusterRoleBinding", name: b.Name, ref: b.RoleRef, users: users(b.Subjects)}
		all = append(all, bb)
		kinds[bb.String()] = b.Labels[rbac.LabelKind]
	}
	for _, b := range objs.RoleBindings {
		bb := binding{kind: "RoleBinding", ns: b.Namespace, name: b.Name, ref: b.RoleRef, users: users(b.Subjects)}
		all = append(all, bb)
		kinds[bb.String()] = b.Labels[rbac.LabelKind]
	}
	var units []unit
	for _, r := range objs.ClusterRoles {
		k := r.Labels[rbac.LabelKind]
		if k != rbac.KindOrg && k != rbac.KindTeam {
			continue
		}
		u := unit{kind: k, role: r.Name}
		for _, b := range all {
			switch {
			case kinds[b.String()] == rbac.KindMembership && b.ns == "" && b.ref.Kind == "ClusterRole" && b.ref.Name == r.Name:
				u.members = append(u.members, b.users...)
			// a grant's binding is named "<subject role>:<ClusterRole>"
			// (rbac package doc, Permissions)
			case kinds[b.String()] == rbac.KindGrant && b.name == r.Name+":"+b.ref.Name && len(b.users) > 0:
				u.grants = append(u.grants, b)
			}
		}
		slices.Sort(u.members)
		u.members = slices.Compact(u.members)
		units = append(units, u)
	}
	return units, all
}

type asker struct {
	cs kubernetes.Interface
	// deadline ends the asking again of denied reviews (see review): one
	// budget for them all, so that many broken grants do not wait each
	deadline time.Time
	all      []binding
	rules    map[string][]rbacv1.PolicyRule // by role kind, namespace and name
	asked    int
}

// roleRules are the rules of a binding's role as the API server serves
// it (aggregation included).
func (a *asker) roleRules(ctx context.Context, ns string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error) {
	key := ref.Kind + "/" + ns + "/" + ref.Name
	if ref.Kind == "ClusterRole" {
		key = ref.Kind + "//" + ref.Name
	}
	if r, ok := a.rules[key]; ok {
		return r, nil
	}
	var rules []rbacv1.PolicyRule
	switch ref.Kind {
	case "ClusterRole":
		r, err := a.cs.RbacV1().ClusterRoles().Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		rules = r.Rules
	case "Role":
		r, err := a.cs.RbacV1().Roles(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		rules = r.Rules
	default:
		return nil, fmt.Errorf("role kind %q", ref.Kind)
	}
	a.rules[key] = rules
	return rules, nil
}

// allows says whether any translated binding naming user, other than
// except, gives attr (the rules as served; a RoleBinding only in its
// namespace). A role that cannot be read gives nothing here.
func (a *asker) allows(ctx context.Context, user string, attr *authzv1.ResourceAttributes, except *binding) bool {
	res := attr.Resource
	if attr.Subresource != "" {
		res += "/" + attr.Subresource
	}
	want := []rbacv1.PolicyRule{{Verbs: []string{attr.Verb}, APIGroups: []string{attr.Group}, Resources: []string{res}}}
	for i := range a.all {
		b := &a.all[i]
		if (except != nil && b.String() == except.String()) || !slices.Contains(b.users, user) || (b.ns != "" && b.ns != attr.Namespace) {
			continue
		}
		rules, err := a.roleRules(ctx, b.ns, b.ref)
		if err != nil {
			continue
		}
		if ok, _ := rbacvalidation.Covers(rules, want); ok {
			return true
		}
	}
	return false
}

// grant checks one grant binding of u: a member may do the first
// permission of its role, and may not do one no binding of theirs gives.
func (a *asker) grant(ctx context.Context, subj string, u unit, g binding, add func(Check)) {
	rules, err := a.roleRules(ctx, g.ns, g.ref)
	if err != nil {
		add(Check{ID: CheckRBACAccess, Subject: subj + " (" + g.String() + ")", Message: fmt.Sprintf("cannot read its %s %s: %v", g.ref.Kind, g.ref.Name, err)})
		return
	}
	attr := firstAttributes(rules, g.ns)
	if attr == nil {
		// the grant was meant to give something: a role that gives
		// nothing to ask for (Kubernetes' view before its aggregation,
		// say) is a failure, not a pass
		add(Check{ID: CheckRBACAccess, Subject: subj + " (" + g.String() + ")",
			Message: fmt.Sprintf("its %s %s grants no resource permission (without resource names) as served: the grant gives nothing", g.ref.Kind, g.ref.Name)})
		return
	}
	// the member whose allowance can only come from this grant, when
	// there is one
	user, alsoOther := "", false
	for _, m := range u.members {
		if !slices.Contains(g.users, m) {
			continue
		}
		if user == "" {
			user, alsoOther = m, true
		}
		if !a.allows(ctx, m, attr, &g) {
			user, alsoOther = m, false
			break
		}
	}
	if user == "" { // the grant names none of the members (an edited translation)
		add(Check{ID: CheckRBACAccess, Subject: subj + " (" + g.String() + ")", Message: "the grant's binding names none of its members"})
		return
	}
	c := Check{ID: CheckRBACAccess, Subject: fmt.Sprintf("%s: %s may %s", subj, user, describe(attr))}
	switch res, err := a.review(ctx, user, attr, true); {
	case err != nil:
		c.Message = err.Error()
	case !res.Allowed:
		c.Message = fmt.Sprintf("denied (granted by %s): %s", g, reason(res))
	default:
		c.OK = true
		if alsoOther {
			c.Message = "allowed; every member is also allowed it by another binding (an MKE 3 admin, say), so this grant is not told apart"
		}
	}
	add(c)

	// the negative control: something no translated binding of the user
	// gives, which the authorizer must deny
	neg := negative(attr, func(n *authzv1.ResourceAttributes) bool { return !a.allows(ctx, user, n, nil) })
	if neg == nil {
		add(Check{ID: CheckRBACAccess, Subject: fmt.Sprintf("%s: %s may not (negative control)", subj, user), OK: true, Skipped: true,
			Message: "not checked: the user's bindings give every permission the control would ask for (cluster-admin?)"})
		return
	}
	c = Check{ID: CheckRBACAccess, Subject: fmt.Sprintf("%s: %s may not %s", subj, user, describe(neg))}
	switch res, err := a.review(ctx, user, neg, false); {
	case err != nil:
		c.Message = err.Error()
	case res.Allowed:
		c.Message = "allowed, though no translated binding of the user gives it: more access than MKE 3 granted (" + reason(res) + ")"
	default:
		c.OK = true
	}
	add(c)
}

// review creates a SubjectAccessReview for user (an authenticated user,
// system:authenticated as every authenticated request has). A review
// that should be allowed and is denied is asked again until a.deadline
// (Options.SARWait after the first review, for all of them together):
// the authorizer reads roles and bindings from the API server's informer
// cache, which may be behind what was just applied (a safety net, never a
// timing).
func (a *asker) review(ctx context.Context, user string, attr *authzv1.ResourceAttributes, wantAllowed bool) (*authzv1.SubjectAccessReviewStatus, error) {
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: attr}}
	var st *authzv1.SubjectAccessReviewStatus
	a.asked++
	ask := func(ctx context.Context) (bool, error) {
		res, err := a.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		st = &res.Status
		return !wantAllowed || st.Allowed, nil
	}
	left := time.Until(a.deadline)
	if !wantAllowed || left <= 0 {
		_, err := ask(ctx)
		return st, err
	}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, left, true, ask)
	if st != nil && wait.Interrupted(err) && ctx.Err() == nil {
		err = nil // past the safety net: st is the last answer
	}
	return st, err
}

// negative is the first of these that ok accepts: attr's resource
// deleted (Kubernetes' view role does not give it), cluster role
// bindings created (no role of view, edit or admin gives that, even in
// every namespace) and nodes deleted (cluster-scoped: no RoleBinding
// reaches it).
func negative(attr *authzv1.ResourceAttributes, ok func(*authzv1.ResourceAttributes) bool) *authzv1.ResourceAttributes {
	cands := []*authzv1.ResourceAttributes{
		{Verb: "create", Group: rbacv1.GroupName, Resource: "clusterrolebindings"},
		{Verb: "delete", Resource: "nodes"},
	}
	if attr.Verb != "delete" && attr.Verb != "*" {
		del := *attr
		del.Verb = "delete"
		cands = append([]*authzv1.ResourceAttributes{&del}, cands...)
	}
	for _, c := range cands {
		if ok(c) {
			return c
		}
	}
	return nil
}

func describe(attr *authzv1.ResourceAttributes) string {
	r := attr.Resource
	if attr.Subresource != "" {
		r += "/" + attr.Subresource
	}
	if attr.Group != "" {
		r += "." + attr.Group
	}
	s := attr.Verb + " " + r
	if attr.Namespace != "" {
		return s + " in " + attr.Namespace
	}
	return s + " (cluster-wide)"
}

func reason(st *authzv1.SubjectAccessReviewStatus) string {
	switch {
	case st.EvaluationError != "":
		return st.EvaluationError
	case st.Reason != "":
		return st.Reason
	}
	return "no reason given"
}

// splitResource splits "pods/log" into the resource and subresource a
// SubjectAccessReview names apart.
func splitResource(r string) (string, string) {
	res, sub, _ := strings.Cut(r, "/")
	return res, sub
}
