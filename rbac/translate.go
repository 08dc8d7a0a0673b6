package rbac

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// CollectionGrantsMode says what Translate does with grants on Swarm
// collections, which hold Swarm resources only.
type CollectionGrantsMode string

const (
	// CollectionGrantsStructureOnly (the default, also for ""): the grant
	// shapes the Swarm role's aggregation labels but gives no permission.
	CollectionGrantsStructureOnly CollectionGrantsMode = "structure-only"
	// CollectionGrantsClusterWide: the grant's permission is given in every
	// namespace, like an all-namespaces grant. This widens access.
	CollectionGrantsClusterWide CollectionGrantsMode = "cluster-wide"
)

// Names of the objects Translate makes that do not come from a name in the
// model.
const (
	// PlaceholderName is the rule-less ClusterRole every aggregated role
	// selects (MKE 4k calls its own "none").
	PlaceholderName = placeholderName
	// AdminsBindingName is the ClusterRoleBinding of MKE 3 admins to
	// cluster-admin.
	AdminsBindingName = "mke3-admins"

	placeholderName = "none"
)

// ErrNilModel is returned by Translate for a nil model.
var ErrNilModel = errors.New("rbac: nil model")

// Options change what Translate makes. The zero value is the default: the
// built-in Swarm roles carry the permissions of DefaultPermissions,
// collection grants are structure only, inactive users are left out and
// admins are bound to cluster-admin.
type Options struct {
	// Permissions maps a Swarm role ID to the ClusterRole that grants on
	// namespaces give; "" maps a role to no permission. nil means
	// DefaultPermissions(); roles missing from a non-nil map are custom
	// roles (no permission, a warning per grant).
	Permissions map[string]string
	// StructureOnly makes no grant bindings at all, as MKE 4k's own upgrade
	// does: orgs, teams, memberships and Swarm roles only. It does not
	// affect the admins binding (see SkipAdmins).
	StructureOnly bool
	// CollectionGrants says what grants on Swarm collections give.
	CollectionGrants CollectionGrantsMode
	// IncludeInactiveUsers keeps users who are inactive in MKE 3 in the
	// bindings.
	IncludeInactiveUsers bool
	// SkipAdmins makes no AdminsBindingName binding.
	SkipAdmins bool
	// Rename sets the Kubernetes base name of an org ("org:<id>"), team
	// ("team:<id>") or Swarm role ("role:<id>"), before the "-org" or
	// "-team" suffix; the way out of a *CollisionError. Values are
	// sanitised like MKE 3 names. A renamed team is never qualified with
	// its org's name.
	Rename map[string]string
}

// DefaultPermissions returns a new map of the built-in Swarm roles to the
// Kubernetes user-facing ClusterRoles closest to them: View Only and
// Scheduler to view, Restricted Control to edit, Full Control to admin,
// None to nothing.
func DefaultPermissions() map[string]string {
	return map[string]string{
		"viewonly":          "view",
		"scheduler":         "view",
		"restrictedcontrol": "edit",
		"fullcontrol":       "admin",
		"none":              "",
	}
}

// AllNamespacesObjectID is MKE 3's object ID for "all Kubernetes namespaces" in
// grants (a Grant with ObjectType ObjectAllNamespaces carries it).
const AllNamespacesObjectID = "kubernetesnamespaces"

// maxSources bounds the grant descriptions in a binding's source
// annotation; annotations share a 256 KiB budget per object.
const maxSources = 10

// Translate makes the Kubernetes RBAC objects for an MKE 3 model, as
// described in the package documentation. It is pure and deterministic:
// the same model, in any order of its lists, gives the same objects and
// report. Problems with the input are reported, not returned; the error is
// ErrNilModel, or *CollisionError (several joined with errors.Join) when
// two MKE 3 names would become one ClusterRole, in which case the report
// holds the problems found so far and no objects are returned.
func Translate(m *Model, opts Options) (*Objects, *Report, error) {
	if m == nil {
		return nil, nil, ErrNilModel
	}
	t := &translator{
		m:        m.sorted(), // canonical order makes every loop deterministic
		opts:     opts,
		perms:    opts.Permissions,
		users:    map[string]*User{},
		orgs:     map[string]*orgInfo{},
		teams:    map[string]*teamInfo{},
		roles:    map[string]*roleInfo{},
		colls:    map[string]*Collection{},
		skipped:  map[string]bool{},
		bindings: map[bindingKey]*bindingAcc{},
	}
	if t.perms == nil {
		t.perms = DefaultPermissions()
	}
	t.rep.Users.Found, t.rep.Orgs.Found, t.rep.Teams.Found = len(m.Users), len(m.Orgs), len(m.Teams)
	t.rep.Roles.Found, t.rep.Grants.Found = len(m.Roles), len(m.Grants)

	t.indexAccounts()
	t.indexRolesAndCollections()
	if errs := t.assignNames(); len(errs) > 0 {
		t.rep.Problems = sortProblems(t.rep.Problems)
		if len(errs) == 1 {
			return nil, &t.rep, errs[0]
		}
		return nil, &t.rep, errors.Join(errs...)
	}
	t.memberships()
	t.grants()
	t.admins()
	objs := t.objects()
	t.rep.Problems = sortProblems(t.rep.Problems)
	return objs, &t.rep, nil
}

type orgInfo struct {
	org     *Org
	desc    string
	base    string
	name    string
	teams   []*teamInfo
	members []string // user names, sorted
}

type teamInfo struct {
	team    *Team
	org     *orgInfo
	desc    string
	base    string
	renamed bool
	name    string
	members []string // user names, sorted
}

type roleInfo struct {
	role        *Role
	desc        string
	name        string
	aggregateTo map[string]bool // names of aggregated roles that include it
}

type bindingKey struct{ namespace, name string }

type bindingAcc struct {
	key      bindingKey
	kind     string
	roleRef  string
	subjects map[string]bool
	sources  map[string]bool
}

type translator struct {
	m     *Model
	opts  Options
	perms map[string]string
	rep   Report

	users   map[string]*User // accepted users, inactive ones included
	orgs    map[string]*orgInfo
	teams   map[string]*teamInfo
	roles   map[string]*roleInfo
	colls   map[string]*Collection
	skipped map[string]bool // account IDs left out as inconsistent

	bindings map[bindingKey]*bindingAcc
}

func (t *translator) problem(s Severity, subject, format string, args ...any) {
	t.rep.Problems = append(t.rep.Problems, Problem{Severity: s, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

func describeUser(u *User) string { return fmt.Sprintf("user %q (id %s)", u.Name, u.ID) }
func describeOrg(o *Org) string   { return fmt.Sprintf("org %q (id %s)", o.Name, o.ID) }
func describeRole(r *Role) string { return fmt.Sprintf("Swarm role %q (id %s)", r.Name, r.ID) }

func describeTeam(tm *Team, orgName string) string {
	if orgName == "" {
		return fmt.Sprintf("team %q (org id %s, id %s)", tm.Name, tm.OrgID, tm.ID)
	}
	return fmt.Sprintf("team %q (org %q, id %s)", tm.Name, orgName, tm.ID)
}

func describeGrant(g *Grant) string {
	switch g.ObjectType {
	case ObjectAllNamespaces:
		return fmt.Sprintf("grant of role %s to %s on all namespaces", g.RoleID, g.SubjectID)
	case ObjectNamespace, ObjectCollection:
		return fmt.Sprintf("grant of role %s to %s on %s %q", g.RoleID, g.SubjectID, g.ObjectType, g.ObjectID)
	}
	return fmt.Sprintf("grant of role %s to %s on %q (type %q)", g.RoleID, g.SubjectID, g.ObjectID, g.ObjectType)
}

// account is a user, org or team entry of the model, for the shared ID
// space checks.
type account struct {
	kind string // "user", "org", "team"
	desc string
	idx  int
}

// indexAccounts accepts the users, orgs and teams whose IDs are unique.
// An ID used by two different entries (of any of the three kinds) is
// inconsistent: which one a grant or membership meant cannot be known, and
// keeping the first would depend on input order, so all of them are left
// out. Entries repeated identically are kept once.
func (t *translator) indexAccounts() {
	m := t.m
	byID := map[string][]account{}
	var ids []string
	add := func(id string, a account) {
		if id == "" {
			t.problem(SeverityError, a.desc, "has no ID: left out")
			return
		}
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], a)
	}
	orgNames := map[string]string{}
	for i := range m.Orgs {
		orgNames[m.Orgs[i].ID] = m.Orgs[i].Name
	}
	for i := range m.Users {
		add(m.Users[i].ID, account{"user", describeUser(&m.Users[i]), i})
	}
	for i := range m.Orgs {
		add(m.Orgs[i].ID, account{"org", describeOrg(&m.Orgs[i]), i})
	}
	for i := range m.Teams {
		add(m.Teams[i].ID, account{"team", describeTeam(&m.Teams[i], orgNames[m.Teams[i].OrgID]), i})
	}
	slices.Sort(ids)

	var keptTeams []int
	for _, id := range ids {
		as := byID[id]
		if len(as) > 1 && !t.identical(as) {
			descs := make([]string, len(as))
			for i, a := range as {
				descs[i] = a.desc
			}
			for i, a := range as {
				others := slices.Concat(descs[:i], descs[i+1:])
				t.problem(SeverityError, a.desc, "its ID is also used by %s; all of them are left out, because MKE 3 IDs are unique and which one was meant cannot be told", strings.Join(others, ", "))
			}
			t.skipped[id] = true
			continue
		}
		if len(as) > 1 {
			t.problem(SeverityWarning, as[0].desc, "listed %d times identically; kept once", len(as))
		}
		a := as[0]
		switch a.kind {
		case "user":
			u := &m.Users[a.idx]
			if u.Name == "" {
				t.problem(SeverityError, a.desc, "has no name, which is its Kubernetes identity: left out")
				t.skipped[id] = true
				continue
			}
			t.users[id] = u
		case "org":
			o := &m.Orgs[a.idx]
			t.orgs[id] = &orgInfo{org: o, desc: a.desc}
		case "team":
			keptTeams = append(keptTeams, a.idx)
		}
	}
	// Teams need their orgs, which are all known only now.
	for _, i := range keptTeams {
		tm := &m.Teams[i]
		o, ok := t.orgs[tm.OrgID]
		if !ok {
			why := "is not in the model"
			if t.skipped[tm.OrgID] {
				why = "was left out"
			}
			t.problem(SeverityError, describeTeam(tm, ""), "its org (id %q) %s: team left out", tm.OrgID, why)
			t.skipped[tm.ID] = true
			continue
		}
		ti := &teamInfo{team: tm, org: o, desc: describeTeam(tm, o.org.Name)}
		t.teams[tm.ID] = ti
		o.teams = append(o.teams, ti)
	}

	// Users are Kubernetes identities by name: two accounts of one name
	// become one user.
	byName := map[string][]*User{}
	for _, u := range t.sortedUsers() {
		byName[u.Name] = append(byName[u.Name], u)
		if !u.IsActive {
			if t.opts.IncludeInactiveUsers {
				t.problem(SeverityInfo, describeUser(u), "inactive in MKE 3; kept in bindings (Options.IncludeInactiveUsers)")
			} else {
				t.problem(SeverityWarning, describeUser(u), "inactive in MKE 3: left out of every binding (set Options.IncludeInactiveUsers to keep)")
			}
		}
	}
	for name, us := range byName {
		if len(us) > 1 {
			for _, u := range us {
				t.problem(SeverityWarning, describeUser(u), "%d MKE 3 accounts are named %q; Kubernetes knows users by name, so they become one user", len(us), name)
			}
		}
	}
	for _, u := range t.users {
		if t.usable(u) {
			t.rep.Users.Translated++
		}
	}
}

// identical reports whether entries with one ID are the same entry
// repeated. The model is sorted, so repeats are equal field by field.
func (t *translator) identical(as []account) bool {
	for _, a := range as[1:] {
		if a.kind != as[0].kind {
			return false
		}
		var c int
		switch a.kind {
		case "user":
			c = cmpUser(t.m.Users[a.idx], t.m.Users[as[0].idx])
		case "org":
			c = cmpOrg(t.m.Orgs[a.idx], t.m.Orgs[as[0].idx])
		case "team":
			c = cmpTeam(t.m.Teams[a.idx], t.m.Teams[as[0].idx])
		}
		if c != 0 {
			return false
		}
	}
	return true
}

func (t *translator) usable(u *User) bool { return u.IsActive || t.opts.IncludeInactiveUsers }

func (t *translator) sortedUsers() []*User {
	us := slices.Collect(maps.Values(t.users))
	slices.SortFunc(us, func(a, b *User) int { return cmp.Compare(a.ID, b.ID) })
	return us
}

func (t *translator) sortedOrgs() []*orgInfo {
	os := slices.Collect(maps.Values(t.orgs))
	slices.SortFunc(os, func(a, b *orgInfo) int { return cmp.Compare(a.org.ID, b.org.ID) })
	return os
}

func (t *translator) sortedTeams() []*teamInfo {
	ts := slices.Collect(maps.Values(t.teams))
	slices.SortFunc(ts, func(a, b *teamInfo) int { return cmp.Compare(a.team.ID, b.team.ID) })
	return ts
}

func (t *translator) sortedRoles() []*roleInfo {
	rs := slices.Collect(maps.Values(t.roles))
	slices.SortFunc(rs, func(a, b *roleInfo) int { return cmp.Compare(a.role.ID, b.role.ID) })
	return rs
}

// groupsByID yields the runs of items (sorted by ID) that share an ID.
func groupsByID[T any](items []T, id func(T) string) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for i := 0; i < len(items); {
			j := i + 1
			for j < len(items) && id(items[j]) == id(items[i]) {
				j++
			}
			if !yield(items[i:j]) {
				return
			}
			i = j
		}
	}
}

// indexRolesAndCollections accepts roles and collections with unique IDs,
// by the same rule as accounts.
func (t *translator) indexRolesAndCollections() {
	m := t.m
	for group := range groupsByID(m.Roles, func(r Role) string { return r.ID }) {
		r := &group[0]
		switch {
		case r.ID == "":
			for k := range group {
				t.problem(SeverityError, describeRole(&group[k]), "has no ID: left out")
			}
			continue
		case len(group) > 1 && slices.ContainsFunc(group[1:], func(o Role) bool { return cmpRole(o, *r) != 0 }):
			for k := range group {
				t.problem(SeverityError, describeRole(&group[k]), "its ID is used by %d different roles; all of them are left out", len(group))
			}
			continue
		case len(group) > 1:
			t.problem(SeverityWarning, describeRole(r), "listed %d times identically; kept once", len(group))
		}
		t.roles[r.ID] = &roleInfo{role: r, desc: describeRole(r), aggregateTo: map[string]bool{}}
	}
	t.rep.Roles.Translated = len(t.roles)

	for group := range groupsByID(m.Collections, func(c Collection) string { return c.ID }) {
		c := &group[0]
		desc := fmt.Sprintf("collection %q (id %s)", c.Path, c.ID)
		switch {
		case c.ID == "":
			t.problem(SeverityError, desc, "has no ID: left out")
			continue
		case len(group) > 1 && slices.ContainsFunc(group[1:], func(o Collection) bool { return o != *c }):
			t.problem(SeverityError, desc, "its ID is used by %d different collections; all of them are left out", len(group))
			continue
		}
		t.colls[c.ID] = c
	}
}

// renameOf returns the Options.Rename value for a key, sanitised.
func (t *translator) renameOf(key string) (string, bool) {
	v, ok := t.opts.Rename[key]
	if !ok {
		return "", false
	}
	return SanitizeName(v), true
}

// checkRenames reports Rename entries that do nothing or are changed.
func (t *translator) checkRenames() {
	for _, key := range slices.Sorted(maps.Keys(t.opts.Rename)) {
		subject := fmt.Sprintf("Options.Rename[%q]", key)
		kind, id, _ := strings.Cut(key, ":")
		var found bool
		switch kind {
		case "org":
			_, found = t.orgs[id]
		case "team":
			_, found = t.teams[id]
		case "role":
			_, found = t.roles[id]
		default:
			t.problem(SeverityWarning, subject, `the key must be "org:<id>", "team:<id>" or "role:<id>"; ignored`)
			continue
		}
		if !found {
			t.problem(SeverityWarning, subject, "no %s of that ID was translated; ignored", kind)
		}
		if v := t.opts.Rename[key]; SanitizeName(v) != v {
			t.problem(SeverityWarning, subject, "%q is not a valid name part; used as %q", v, SanitizeName(v))
		}
	}
}

type nameOwner struct{ desc, renameKey string }

// assignNames names every org, team and Swarm role ClusterRole, and
// returns a *CollisionError for every name two inputs would share.
func (t *translator) assignNames() []error {
	t.checkRenames()
	owners := map[string]nameOwner{}
	var errs []error
	claim := func(name, desc, key string) {
		if first, ok := owners[name]; ok {
			errs = append(errs, &CollisionError{Kind: "ClusterRole", Name: name, First: first.desc, Second: desc, RenameKey: key})
			return
		}
		owners[name] = nameOwner{desc, key}
	}
	baseOf := func(kind, id, name string, desc string) (string, bool) {
		if v, ok := t.renameOf(kind + ":" + id); ok {
			return v, true
		}
		if name == "" {
			t.problem(SeverityWarning, desc, "has no name: named after its ID")
			name = id
		}
		return SanitizeName(name), false
	}

	orgs := t.sortedOrgs()
	for _, o := range orgs {
		o.base, _ = baseOf("org", o.org.ID, o.org.Name, o.desc)
		o.name = fitName(o.base, "-org")
		claim(o.name, o.desc, "org:"+o.org.ID)
	}

	teams := t.sortedTeams()
	orgsOfBase := map[string]map[string]bool{}
	for _, ti := range teams {
		ti.base, ti.renamed = baseOf("team", ti.team.ID, ti.team.Name, ti.desc)
		if !ti.renamed {
			if orgsOfBase[ti.base] == nil {
				orgsOfBase[ti.base] = map[string]bool{}
			}
			orgsOfBase[ti.base][ti.org.org.ID] = true
		}
	}
	for _, ti := range teams {
		if !ti.renamed && len(orgsOfBase[ti.base]) > 1 {
			ti.name = fitName(ti.org.base+"-"+ti.base, "-team")
			t.problem(SeverityInfo, ti.desc, "teams named %q exist in %d orgs, so each is qualified with its org: ClusterRole %q",
				ti.base, len(orgsOfBase[ti.base]), ti.name)
		} else {
			ti.name = fitName(ti.base, "-team")
		}
		claim(ti.name, ti.desc, "team:"+ti.team.ID)
	}
	if len(orgs)+len(teams) > 0 {
		claim(placeholderName, "the placeholder role", "")
	}

	// Swarm roles give way to org and team roles; between themselves a
	// shared name is a collision like any other.
	aggregatedNames := maps.Clone(owners)
	for _, ri := range t.sortedRoles() {
		base, _ := baseOf("role", ri.role.ID, ri.role.Name, ri.desc)
		ri.name = fitName(base, "")
		why := ""
		if builtinRole(ri.name) {
			why = "is a Kubernetes built-in role name"
			if ri.name == placeholderName {
				why = "is the placeholder role every aggregated role selects"
			}
		} else if o, taken := aggregatedNames[ri.name]; taken {
			why = "is the name of " + o.desc
		}
		if why != "" {
			prefixed := fitName("swarm-"+base, "")
			t.problem(SeverityInfo, ri.desc, "named %q: %q %s", prefixed, ri.name, why)
			ri.name = prefixed
		}
		claim(ri.name, ri.desc, "role:"+ri.role.ID)
	}
	slices.SortFunc(errs, func(a, b error) int {
		ca, cb := a.(*CollisionError), b.(*CollisionError)
		return cmp.Or(cmp.Compare(ca.Name, cb.Name), cmp.Compare(ca.Second, cb.Second))
	})
	return errs
}

// resolveMembers turns member IDs into sorted, distinct user names,
// reporting members that are not usable users.
func (t *translator) resolveMembers(ids []string, ownerDesc string) []string {
	var names []string
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			continue // sorted: a repeat
		}
		if u, ok := t.users[id]; ok {
			if t.usable(u) {
				names = append(names, u.Name)
			}
			continue
		}
		switch {
		case t.orgs[id] != nil:
			t.problem(SeverityWarning, ownerDesc, "member %s is an org, not a user: left out", id)
		case t.teams[id] != nil:
			t.problem(SeverityWarning, ownerDesc, "member %s is a team, not a user: left out", id)
		case t.skipped[id]:
			t.problem(SeverityWarning, ownerDesc, "member %s was left out of the translation (see its problem): not bound", id)
		default:
			t.problem(SeverityWarning, ownerDesc, "member %s is not a known user: left out", id)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// memberships resolves team and org members and makes the membership
// bindings.
func (t *translator) memberships() {
	for _, ti := range t.sortedTeams() {
		ti.members = t.resolveMembers(ti.team.Members, ti.desc)
		t.rep.Teams.Translated++
		if len(ti.members) == 0 {
			t.problem(SeverityInfo, ti.desc, "has no active members: ClusterRole %q made, no binding", ti.name)
			continue
		}
		t.bind(bindingKey{name: ti.name}, KindMembership, ti.name, ti.members, "members of "+ti.desc)
	}
	for _, o := range t.sortedOrgs() {
		members := t.resolveMembers(o.org.Members, o.desc)
		for _, ti := range o.teams {
			members = append(members, ti.members...)
		}
		slices.Sort(members)
		o.members = slices.Compact(members)
		t.rep.Orgs.Translated++
		if len(o.members) == 0 {
			t.problem(SeverityInfo, o.desc, "has no active members: ClusterRole %q made, no binding", o.name)
			continue
		}
		t.bind(bindingKey{name: o.name}, KindMembership, o.name, o.members, "members of "+o.desc)
	}
}

func (t *translator) bind(key bindingKey, kind, roleRef string, users []string, source string) {
	b, ok := t.bindings[key]
	if !ok {
		b = &bindingAcc{key: key, kind: kind, roleRef: roleRef, subjects: map[string]bool{}, sources: map[string]bool{}}
		t.bindings[key] = b
	}
	for _, u := range users {
		b.subjects[u] = true
	}
	b.sources[source] = true
}

// grants turns the grants into Swarm role aggregation labels and, unless
// StructureOnly, into bindings of the mapped Kubernetes ClusterRoles.
func (t *translator) grants() {
	mode := t.opts.CollectionGrants
	switch mode {
	case "":
		mode = CollectionGrantsStructureOnly
	case CollectionGrantsStructureOnly, CollectionGrantsClusterWide:
	default:
		t.problem(SeverityError, "Options.CollectionGrants", "unknown mode %q: collection grants kept as structure only", string(mode))
		mode = CollectionGrantsStructureOnly
	}
	badRoles := map[string]bool{}
	structureOnly := 0
	gs := t.m.Grants
	for i := range gs {
		g := &gs[i]
		if i > 0 && gs[i-1] == *g {
			continue // the same grant twice gives nothing more
		}
		desc := describeGrant(g)

		// The subject: its aggregated role (orgs and teams), its users.
		var subjRole, subjName, subjDesc string
		var users []string
		if u, ok := t.users[g.SubjectID]; ok {
			subjName, subjDesc = fitName("user-"+SanitizeName(u.Name), ""), describeUser(u)
			if t.usable(u) {
				users = []string{u.Name}
			}
		} else if o, ok := t.orgs[g.SubjectID]; ok {
			subjRole, subjName, subjDesc, users = o.name, o.name, o.desc, o.members
		} else if ti, ok := t.teams[g.SubjectID]; ok {
			subjRole, subjName, subjDesc, users = ti.name, ti.name, ti.desc, ti.members
		} else {
			why := "is not a known user, org or team"
			if t.skipped[g.SubjectID] {
				why = "was left out of the translation (see its problem)"
			}
			t.problem(SeverityWarning, desc, "the subject %s %s: grant skipped", g.SubjectID, why)
			continue
		}
		ri, ok := t.roles[g.RoleID]
		if !ok {
			t.problem(SeverityWarning, desc, "the Swarm role %s is not in the model: grant skipped", g.RoleID)
			continue
		}
		var ns, on string
		switch g.ObjectType {
		case ObjectNamespace:
			if errs := validation.IsDNS1123Label(g.ObjectID); len(errs) > 0 {
				t.problem(SeverityWarning, desc, "%q is not a valid namespace name (lowercase letters, digits and '-', at most 63): grant skipped", g.ObjectID)
				continue
			}
			ns, on = g.ObjectID, fmt.Sprintf("namespace %q", g.ObjectID)
		case ObjectAllNamespaces:
			on = "all namespaces"
		case ObjectCollection:
			c, ok := t.colls[g.ObjectID]
			if !ok {
				t.problem(SeverityWarning, desc, "the collection %s is not in the model: grant skipped", g.ObjectID)
				continue
			}
			on = fmt.Sprintf("collection %q", c.Path)
		default:
			t.problem(SeverityWarning, desc, "unknown object type %q (want %q, %q or %q): grant skipped",
				g.ObjectType, ObjectNamespace, ObjectAllNamespaces, ObjectCollection)
			continue
		}
		if subjRole != "" {
			ri.aggregateTo[subjRole] = true
		}
		if t.opts.StructureOnly {
			structureOnly++
			continue
		}
		if g.ObjectType == ObjectCollection && mode == CollectionGrantsStructureOnly {
			t.problem(SeverityInfo, desc, "Swarm collection grant: structure only, no Kubernetes permission (Options.CollectionGrants)")
			continue
		}
		k8sRole, mapped := t.perms[g.RoleID]
		switch {
		case !mapped:
			t.problem(SeverityWarning, desc, "custom Swarm role %q granted to %s on %s has no Kubernetes equivalent; grant a ClusterRole yourself (or map it in Options.Permissions)",
				ri.role.Name, subjDesc, on)
			continue
		case k8sRole == "":
			t.problem(SeverityInfo, desc, "Swarm role %q maps to no permission: no binding", ri.role.Name)
			continue
		case badRoles[g.RoleID]:
			continue
		case len(path.IsValidPathSegmentName(k8sRole)) > 0 || len(k8sRole) > 253-MaxNameLen-1:
			t.problem(SeverityError, fmt.Sprintf("Options.Permissions[%q]", g.RoleID), "%q is not a valid ClusterRole name: grants of this role skipped", k8sRole)
			badRoles[g.RoleID] = true
			continue
		}
		if len(users) == 0 {
			if subjRole == "" {
				t.problem(SeverityInfo, desc, "%s is inactive: no binding", subjDesc)
				continue
			}
			t.problem(SeverityInfo, desc, "%s has no active users: no binding", subjDesc)
			continue
		}
		if g.ObjectType == ObjectCollection {
			t.problem(SeverityWarning, desc, "collection grant given in all namespaces (Options.CollectionGrants is %q): this widens access", string(mode))
			ns = ""
		}
		source := fmt.Sprintf("Swarm role %q granted to %s on %s", ri.role.Name, subjDesc, on)
		t.bind(bindingKey{namespace: ns, name: subjName + ":" + k8sRole}, KindGrant, k8sRole, users, source)
		t.rep.Grants.Translated++
	}
	if structureOnly > 0 {
		t.problem(SeverityInfo, "Options.StructureOnly", "%d grants kept as structure only: no permissions given", structureOnly)
	}
}

// admins binds the active MKE 3 admins to cluster-admin.
func (t *translator) admins() {
	var names []string
	for _, u := range t.users {
		if u.IsAdmin && t.usable(u) {
			names = append(names, u.Name)
		}
	}
	switch {
	case len(names) == 0:
		return
	case t.opts.SkipAdmins:
		t.problem(SeverityInfo, "MKE 3 admins", "%d admins not bound to cluster-admin (Options.SkipAdmins)", len(names))
		return
	}
	t.problem(SeverityInfo, "MKE 3 admins", "%d admins bound to cluster-admin by ClusterRoleBinding %q", len(names), AdminsBindingName)
	t.bind(bindingKey{name: AdminsBindingName}, KindGrant, "cluster-admin", names, "MKE 3 admins")
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}

func objectMeta(name, namespace, kind, source string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:        name,
		Namespace:   namespace,
		Labels:      map[string]string{LabelManagedBy: ManagedByValue, LabelKind: kind},
		Annotations: map[string]string{AnnotationSource: source},
	}
}

func aggregated(name, kind, source string) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{
		TypeMeta:   typeMeta("ClusterRole"),
		ObjectMeta: objectMeta(name, "", kind, source),
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{aggregateLabel(name): "true"}},
			{MatchLabels: map[string]string{LabelPlaceholder: "true"}},
		}},
	}
}

// objects builds the sorted object lists.
func (t *translator) objects() *Objects {
	objs := &Objects{}
	for _, o := range t.orgs {
		objs.ClusterRoles = append(objs.ClusterRoles, aggregated(o.name, KindOrg, o.desc))
	}
	for _, ti := range t.teams {
		objs.ClusterRoles = append(objs.ClusterRoles, aggregated(ti.name, KindTeam, ti.desc))
	}
	for _, ri := range t.roles {
		cr := rbacv1.ClusterRole{TypeMeta: typeMeta("ClusterRole"), ObjectMeta: objectMeta(ri.name, "", KindSwarmRole, ri.desc)}
		for agg := range ri.aggregateTo {
			cr.Labels[aggregateLabel(agg)] = "true"
		}
		objs.ClusterRoles = append(objs.ClusterRoles, cr)
	}
	if len(t.orgs)+len(t.teams) > 0 {
		cr := rbacv1.ClusterRole{TypeMeta: typeMeta("ClusterRole"),
			ObjectMeta: objectMeta(placeholderName, "", KindPlaceholder, "no MKE 3 object: every aggregated role selects it, so none aggregates nothing")}
		cr.Labels[LabelPlaceholder] = "true"
		objs.ClusterRoles = append(objs.ClusterRoles, cr)
	}

	for _, b := range t.bindings {
		subjects := make([]rbacv1.Subject, 0, len(b.subjects))
		for _, name := range slices.Sorted(maps.Keys(b.subjects)) {
			subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name})
		}
		sources := slices.Sorted(maps.Keys(b.sources))
		if len(sources) > maxSources {
			sources = append(sources[:maxSources], fmt.Sprintf("and %d more", len(sources)-maxSources))
		}
		source := strings.Join(sources, "; ")
		roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.roleRef}
		if b.key.namespace == "" {
			objs.ClusterRoleBindings = append(objs.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
				TypeMeta:   typeMeta("ClusterRoleBinding"),
				ObjectMeta: objectMeta(b.key.name, "", b.kind, source),
				Subjects:   subjects,
				RoleRef:    roleRef,
			})
			continue
		}
		objs.RoleBindings = append(objs.RoleBindings, rbacv1.RoleBinding{
			TypeMeta:   typeMeta("RoleBinding"),
			ObjectMeta: objectMeta(b.key.name, b.key.namespace, b.kind, source),
			Subjects:   subjects,
			RoleRef:    roleRef,
		})
	}
	slices.SortFunc(objs.ClusterRoles, func(a, b rbacv1.ClusterRole) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(objs.ClusterRoleBindings, func(a, b rbacv1.ClusterRoleBinding) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(objs.RoleBindings, func(a, b rbacv1.RoleBinding) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return objs
}
