package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

var goldenCases = []struct {
	name string
	opts Options
}{
	{"default", Options{}},
	{"cluster-wide", Options{CollectionGrants: CollectionGrantsClusterWide, IncludeInactiveUsers: true}},
	{"structure-only", Options{StructureOnly: true, SkipAdmins: true}},
}

func TestTranslateGolden(t *testing.T) {
	m := loadModel(t, "model.json")
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			objs, rep, err := Translate(m, tc.opts)
			require.NoError(t, err)
			y, err := Manifests(objs, FormatYAML)
			require.NoError(t, err)
			golden(t, "model."+tc.name+".yaml", y)
			js, err := json.MarshalIndent(rep, "", "  ")
			require.NoError(t, err)
			golden(t, "model."+tc.name+".report.json", append(js, '\n'))
			var txt bytes.Buffer
			require.NoError(t, rep.WriteText(&txt))
			golden(t, "model."+tc.name+".report.txt", txt.Bytes())
			checkObjects(t, objs)
		})
	}
}

func TestManifestsJSONGolden(t *testing.T) {
	objs, _, err := Translate(loadModel(t, "model.json"), Options{})
	require.NoError(t, err)
	js, err := Manifests(objs, FormatJSON)
	require.NoError(t, err)
	golden(t, "model.default.list.json", js)

	var list struct {
		APIVersion, Kind string
		Items            []map[string]any
	}
	require.NoError(t, json.Unmarshal(js, &list))
	assert.Equal(t, "v1", list.APIVersion)
	assert.Equal(t, "List", list.Kind)
	assert.Len(t, list.Items, objs.Len())

	_, err = Manifests(objs, "toml")
	assert.ErrorContains(t, err, `unknown format "toml"`)
	_, err = Manifests(nil, FormatYAML)
	assert.Error(t, err)
	empty, err := Manifests(&Objects{}, FormatYAML)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

// checkObjects validates every name, label and reference as the API server
// would, and the invariants of the package documentation.
func checkObjects(t *testing.T, objs *Objects) {
	t.Helper()
	checkMeta := func(kind string, tm metav1.TypeMeta, om metav1.ObjectMeta) {
		t.Helper()
		assert.Equal(t, "rbac.authorization.k8s.io/v1", tm.APIVersion, om.Name)
		assert.Equal(t, kind, tm.Kind, om.Name)
		assert.Empty(t, path.IsValidPathSegmentName(om.Name), "%s name %q", kind, om.Name)
		assert.LessOrEqual(t, len(om.Name), validation.DNS1123SubdomainMaxLength, om.Name)
		if om.Namespace != "" {
			assert.Empty(t, validation.IsDNS1123Label(om.Namespace), om.Namespace)
		}
		for k, v := range om.Labels {
			assert.Empty(t, validation.IsQualifiedName(k), "label key %q on %s", k, om.Name)
			assert.Empty(t, validation.IsValidLabelValue(v), "label value %q on %s", v, om.Name)
		}
		assert.Equal(t, ManagedByValue, om.Labels[LabelManagedBy], om.Name)
		assert.NotEmpty(t, om.Labels[LabelKind], om.Name)
		assert.NotEmpty(t, om.Annotations[AnnotationSource], om.Name)
	}
	roles := map[string]rbacv1.ClusterRole{}
	for i, r := range objs.ClusterRoles {
		checkMeta("ClusterRole", r.TypeMeta, r.ObjectMeta)
		assert.Nil(t, r.Rules, "%s has rules", r.Name)
		if i > 0 {
			assert.Less(t, objs.ClusterRoles[i-1].Name, r.Name, "sorted and unique")
		}
		roles[r.Name] = r
		switch r.Labels[LabelKind] {
		case KindOrg, KindTeam:
			require.NotNil(t, r.AggregationRule, r.Name)
			assert.LessOrEqual(t, len(r.Name), MaxNameLen)
			assert.Empty(t, validation.IsDNS1123Label(r.Name), r.Name)
			sel := r.AggregationRule.ClusterRoleSelectors
			require.Len(t, sel, 2)
			assert.Equal(t, map[string]string{aggregateLabel(r.Name): "true"}, sel[0].MatchLabels)
			assert.Equal(t, map[string]string{LabelPlaceholder: "true"}, sel[1].MatchLabels)
		case KindSwarmRole, KindPlaceholder:
			assert.Nil(t, r.AggregationRule, r.Name)
		default:
			t.Errorf("%s: kind label %q", r.Name, r.Labels[LabelKind])
		}
	}
	hasAggregated := false
	for _, r := range roles {
		if r.AggregationRule != nil {
			hasAggregated = true
		}
	}
	if hasAggregated {
		assert.Equal(t, "true", roles[PlaceholderName].Labels[LabelPlaceholder], "placeholder present")
	}
	checkSubjects := func(name string, ss []rbacv1.Subject) {
		t.Helper()
		require.NotEmpty(t, ss, "%s has no subjects", name)
		for i, s := range ss {
			assert.Equal(t, rbacv1.UserKind, s.Kind)
			assert.Equal(t, rbacv1.GroupName, s.APIGroup)
			if i > 0 {
				assert.Less(t, ss[i-1].Name, s.Name, "%s subjects sorted and unique", name)
			}
		}
	}
	for i, b := range objs.ClusterRoleBindings {
		checkMeta("ClusterRoleBinding", b.TypeMeta, b.ObjectMeta)
		checkSubjects(b.Name, b.Subjects)
		if i > 0 {
			assert.Less(t, objs.ClusterRoleBindings[i-1].Name, b.Name)
		}
		if b.Labels[LabelKind] == KindMembership {
			assert.Equal(t, b.Name, b.RoleRef.Name, "membership binding named like its role")
			assert.Contains(t, roles, b.RoleRef.Name)
			assert.NotContains(t, b.Name, ":")
		}
	}
	for i, b := range objs.RoleBindings {
		checkMeta("RoleBinding", b.TypeMeta, b.ObjectMeta)
		checkSubjects(b.Name, b.Subjects)
		assert.Equal(t, KindGrant, b.Labels[LabelKind])
		assert.Equal(t, "ClusterRole", b.RoleRef.Kind)
		if i > 0 {
			p := objs.RoleBindings[i-1]
			assert.Less(t, p.Namespace+"\x00"+p.Name, b.Namespace+"\x00"+b.Name)
		}
	}
}

// shuffled returns a deep copy of m with every list, member lists
// included, in a random order from a fixed seed.
func shuffled(m *Model, seed uint64) *Model {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := *m
	out.Users = shuffle(r, m.Users)
	out.Orgs = shuffle(r, m.Orgs)
	for i := range out.Orgs {
		out.Orgs[i].Members = shuffle(r, out.Orgs[i].Members)
	}
	out.Teams = shuffle(r, m.Teams)
	for i := range out.Teams {
		out.Teams[i].Members = shuffle(r, out.Teams[i].Members)
	}
	out.Roles = shuffle(r, m.Roles)
	out.Collections = shuffle(r, m.Collections)
	out.Grants = shuffle(r, m.Grants)
	return &out
}

func shuffle[T any](r *rand.Rand, s []T) []T {
	c := append([]T(nil), s...)
	r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

// rendered is everything Translate gives, as bytes.
func rendered(t testing.TB, m *Model, opts Options) []byte {
	t.Helper()
	objs, rep, err := Translate(m, opts)
	require.NoError(t, err)
	y, err := Manifests(objs, FormatYAML)
	require.NoError(t, err)
	js, err := json.Marshal(rep)
	require.NoError(t, err)
	return append(y, js...)
}

func TestTranslateDeterministicUnderShuffle(t *testing.T) {
	for _, m := range []*Model{loadModel(t, "model.json"), generateModel(300, 30, 120, 2)} {
		for _, tc := range goldenCases {
			want := rendered(t, m, tc.opts)
			for seed := range uint64(8) {
				got := rendered(t, shuffled(m, seed), tc.opts)
				require.True(t, bytes.Equal(want, got), "%s: seed %d gives other output", tc.name, seed)
			}
		}
	}
}

func TestTranslateDoesNotModifyInput(t *testing.T) {
	m := loadModel(t, "model.json")
	before, err := json.Marshal(m)
	require.NoError(t, err)
	_, _, err = Translate(m, Options{})
	require.NoError(t, err)
	after, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

func TestTranslateNilModel(t *testing.T) {
	_, _, err := Translate(nil, Options{})
	assert.ErrorIs(t, err, ErrNilModel)
}

func TestTranslateEmptyModel(t *testing.T) {
	objs, rep, err := Translate(&Model{}, Options{})
	require.NoError(t, err)
	assert.Zero(t, objs.Len(), "no placeholder without aggregated roles")
	assert.Empty(t, rep.Problems)
	assert.NotNil(t, rep.Problems, `"problems": [] for tools`)
}

// small builds a model from compact parts for table tests.
func small(users []User, orgs []Org, teams []Team, roles []Role, grants []Grant) *Model {
	return &Model{APIVersion: ExportAPIVersion, Kind: ExportKind, Users: users, Orgs: orgs, Teams: teams, Roles: roles,
		Collections: []Collection{{ID: "shared", Path: "/Shared"}}, Grants: grants}
}

func active(id, name string) User { return User{ID: id, Name: name, IsActive: true} }

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

func roleNames(o *Objects) []string {
	return names(o.ClusterRoles, func(r rbacv1.ClusterRole) string { return r.Name })
}

func crbNames(o *Objects) []string {
	return names(o.ClusterRoleBindings, func(r rbacv1.ClusterRoleBinding) string { return r.Name })
}

func rbNames(o *Objects) []string {
	return names(o.RoleBindings, func(r rbacv1.RoleBinding) string { return r.Namespace + "/" + r.Name })
}

func subjectsOf(o *Objects, name string) []string {
	for _, b := range o.ClusterRoleBindings {
		if b.Name == name {
			return names(b.Subjects, func(s rbacv1.Subject) string { return s.Name })
		}
	}
	for _, b := range o.RoleBindings {
		if b.Namespace+"/"+b.Name == name {
			return names(b.Subjects, func(s rbacv1.Subject) string { return s.Name })
		}
	}
	return nil
}

// hasProblem reports whether a problem of the severity has a subject and
// message containing the fragments.
func hasProblem(rep *Report, s Severity, subject, message string) bool {
	for _, p := range rep.Problems {
		if p.Severity == s && strings.Contains(p.Subject, subject) && strings.Contains(p.Message, message) {
			return true
		}
	}
	return false
}

func TestTranslateCases(t *testing.T) {
	acme := Org{ID: "o1", Name: "acme"}
	builtin := []Role{{ID: "viewonly", Name: "View Only", System: true}, {ID: "none", Name: "None", System: true}}
	type problem struct {
		sev              Severity
		subject, message string
	}
	cases := []struct {
		name     string
		model    *Model
		opts     Options
		roles    []string // ClusterRole names, when set
		crbs     []string // ClusterRoleBinding names, when set
		rbs      []string // RoleBindings "ns/name", when set
		subjects map[string][]string
		problems []problem
		counts   *Report // counts to compare, when set
	}{
		{
			name:     "names with spaces, capitals, dots and non-ASCII",
			model:    small([]User{active("u1", "Ann.Lee")}, []Org{{ID: "o1", Name: "Entire Company"}}, []Team{{ID: "t1", OrgID: "o1", Name: "Dév.Ops Team", Members: []string{"u1"}}}, nil, nil),
			roles:    []string{"d-v-ops-team-team", "entire-company-org", "none"},
			crbs:     []string{"d-v-ops-team-team", "entire-company-org"},
			subjects: map[string][]string{"d-v-ops-team-team": {"Ann.Lee"}, "entire-company-org": {"Ann.Lee"}},
		},
		{
			name:     "empty org keeps its role, no binding",
			model:    small(nil, []Org{{ID: "o1", Name: "empty"}}, nil, nil, nil),
			roles:    []string{"empty-org", "none"},
			crbs:     []string{},
			problems: []problem{{SeverityInfo, `org "empty"`, "no active members"}},
		},
		{
			name:     "org and team without a name are named after their IDs",
			model:    small([]User{active("u1", "a")}, []Org{{ID: "O-1", Name: ""}}, []Team{{ID: "T_9", OrgID: "O-1", Members: []string{"u1"}}}, nil, nil),
			roles:    []string{"none", "o-1-org", "t-9-team"},
			problems: []problem{{SeverityWarning, `org "" (id O-1)`, "named after its ID"}, {SeverityWarning, `team "" (org id O-1, id T_9)`, "named after its ID"}},
		},
		{
			name: "user in many teams is in every team and once in the org",
			model: small([]User{active("u1", "a"), active("u2", "b")}, []Org{acme},
				[]Team{{ID: "t1", OrgID: "o1", Name: "x", Members: []string{"u1", "u2", "u1"}}, {ID: "t2", OrgID: "o1", Name: "y", Members: []string{"u1"}}}, nil, nil),
			subjects: map[string][]string{"x-team": {"a", "b"}, "y-team": {"a"}, "acme-org": {"a", "b"}},
		},
		{
			name: "org members are direct members and team members",
			model: small([]User{active("u1", "a"), active("u2", "b")}, []Org{{ID: "o1", Name: "acme", Members: []string{"u2"}}},
				[]Team{{ID: "t1", OrgID: "o1", Name: "x", Members: []string{"u1"}}}, nil, nil),
			subjects: map[string][]string{"acme-org": {"a", "b"}, "x-team": {"a"}},
		},
		{
			name: "shared team name is qualified in every org",
			model: small([]User{active("u1", "a")}, []Org{acme, {ID: "o2", Name: "beta"}, {ID: "o3", Name: "gamma"}},
				[]Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}, {ID: "t2", OrgID: "o2", Name: "Dev", Members: []string{"u1"}}, {ID: "t3", OrgID: "o3", Name: "qa", Members: []string{"u1"}}}, nil, nil),
			roles:    []string{"acme-dev-team", "acme-org", "beta-dev-team", "beta-org", "gamma-org", "none", "qa-team"},
			problems: []problem{{SeverityInfo, `team "dev" (org "acme", id t1)`, "exist in 2 orgs"}, {SeverityInfo, `team "Dev" (org "beta", id t2)`, "qualified"}},
		},
		{
			name:  "renamed team is not qualified",
			model: small(nil, []Org{acme, {ID: "o2", Name: "beta"}}, []Team{{ID: "t1", OrgID: "o1", Name: "dev"}, {ID: "t2", OrgID: "o2", Name: "dev"}}, nil, nil),
			opts:  Options{Rename: map[string]string{"team:t2": "beta-devs"}},
			roles: []string{"acme-org", "beta-devs-team", "beta-org", "dev-team", "none"},
		},
		{
			name:     "team without its org is left out",
			model:    small([]User{active("u1", "a")}, nil, []Team{{ID: "t1", OrgID: "gone", Name: "dev", Members: []string{"u1"}}}, nil, nil),
			roles:    []string{},
			crbs:     []string{},
			problems: []problem{{SeverityError, `team "dev" (org id gone, id t1)`, `its org (id "gone") is not in the model`}},
		},
		{
			name: "members that are not users",
			model: small([]User{active("u1", "a")}, []Org{acme},
				[]Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "ghost", "o1", "t1"}}}, nil, nil),
			subjects: map[string][]string{"dev-team": {"a"}},
			problems: []problem{
				{SeverityWarning, `team "dev"`, "member ghost is not a known user"},
				{SeverityWarning, `team "dev"`, "member o1 is an org"},
				{SeverityWarning, `team "dev"`, "member t1 is a team"},
			},
		},
		{
			name: "duplicate IDs with different content leave all out",
			model: small([]User{active("u1", "a"), active("u1", "b"), active("u2", "c")}, []Org{acme},
				[]Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u2"}}}, nil, nil),
			subjects: map[string][]string{"dev-team": {"c"}},
			problems: []problem{
				{SeverityError, `user "a" (id u1)`, `also used by user "b"`},
				{SeverityError, `user "b" (id u1)`, `also used by user "a"`},
				{SeverityWarning, `team "dev"`, "member u1 was left out"},
			},
			counts: &Report{Users: Counts{3, 1}, Orgs: Counts{1, 1}, Teams: Counts{1, 1}},
		},
		{
			name:     "identical duplicates are kept once",
			model:    small([]User{active("u1", "a"), active("u1", "a")}, []Org{acme, acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}}, nil, nil),
			subjects: map[string][]string{"dev-team": {"a"}, "acme-org": {"a"}},
			problems: []problem{{SeverityWarning, `user "a" (id u1)`, "listed 2 times identically"}, {SeverityWarning, `org "acme"`, "listed 2 times"}},
		},
		{
			name: "a user that is also an org",
			model: small([]User{active("o1", "acme")}, []Org{acme},
				[]Team{{ID: "t1", OrgID: "o1", Name: "dev"}}, nil, nil),
			roles: []string{},
			problems: []problem{
				{SeverityError, `user "acme" (id o1)`, `also used by org "acme"`},
				{SeverityError, `team "dev"`, "was left out"},
			},
		},
		{
			name:     "entries without ID or user name",
			model:    small([]User{{Name: "x", IsActive: true}, {ID: "u2", IsActive: true}}, []Org{{Name: "o"}}, nil, []Role{{Name: "r"}}, nil),
			roles:    []string{},
			problems: []problem{{SeverityError, `user "x" (id )`, "has no ID"}, {SeverityError, `user "" (id u2)`, "has no name"}, {SeverityError, `org "o"`, "has no ID"}, {SeverityError, `Swarm role "r"`, "has no ID"}},
		},
		{
			name:     "inactive users are left out, or kept on request",
			model:    small([]User{{ID: "u1", Name: "a"}, active("u2", "b")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u2"}}}, nil, nil),
			subjects: map[string][]string{"dev-team": {"b"}},
			problems: []problem{{SeverityWarning, `user "a"`, "inactive in MKE 3"}},
		},
		{
			name:     "inactive users kept",
			model:    small([]User{{ID: "u1", Name: "a"}, active("u2", "b")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u2"}}}, nil, nil),
			opts:     Options{IncludeInactiveUsers: true},
			subjects: map[string][]string{"dev-team": {"a", "b"}},
			problems: []problem{{SeverityInfo, `user "a"`, "kept in bindings"}},
		},
		{
			name:     "two accounts of one user name",
			model:    small([]User{active("u1", "sam"), active("u2", "sam")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u2"}}}, nil, nil),
			subjects: map[string][]string{"dev-team": {"sam"}},
			problems: []problem{{SeverityWarning, `user "sam" (id u1)`, "become one user"}},
		},
		{
			name: "grants by object type",
			model: small([]User{active("u1", "Ann"), active("u2", "bo")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u2"}}}, builtin, []Grant{
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
				{SubjectID: "u1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
				{SubjectID: "o1", RoleID: "viewonly", ObjectID: "kubernetesnamespaces", ObjectType: ObjectAllNamespaces},
				{SubjectID: "o1", RoleID: "viewonly", ObjectID: "shared", ObjectType: ObjectCollection},
			}),
			crbs:     []string{"acme-org", "acme-org:view", "dev-team"},
			rbs:      []string{"web/dev-team:view", "web/user-ann:view"},
			subjects: map[string][]string{"web/user-ann:view": {"Ann"}, "acme-org:view": {"bo"}},
			problems: []problem{{SeverityInfo, "grant of role viewonly to o1 on collection", "structure only"}},
			counts:   &Report{Users: Counts{2, 2}, Orgs: Counts{1, 1}, Teams: Counts{1, 1}, Roles: Counts{2, 2}, Grants: Counts{4, 3}},
		},
		{
			name: "collection grants cluster-wide",
			model: small([]User{active("u1", "a")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}}, builtin, []Grant{
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "shared", ObjectType: ObjectCollection},
			}),
			opts:     Options{CollectionGrants: CollectionGrantsClusterWide},
			crbs:     []string{"acme-org", "dev-team", "dev-team:view"},
			problems: []problem{{SeverityWarning, "grant of role viewonly to t1 on collection", "widens access"}},
		},
		{
			name: "grants merge into one binding",
			model: small([]User{active("u1", "a"), active("u2", "b")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}},
				append(builtin, Role{ID: "scheduler", Name: "Scheduler"}), []Grant{
					{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
					{SubjectID: "t1", RoleID: "scheduler", ObjectID: "web", ObjectType: ObjectNamespace},
				}),
			rbs: []string{"web/dev-team:view"},
		},
		{
			name: "bad grants are skipped",
			model: small([]User{active("u1", "a")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}}, builtin, []Grant{
				{SubjectID: "nobody", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
				{SubjectID: "t1", RoleID: "gone", ObjectID: "web", ObjectType: ObjectNamespace},
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "Not A Namespace", ObjectType: ObjectNamespace},
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "nocoll", ObjectType: ObjectCollection},
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: "node"},
			}),
			crbs: []string{"acme-org", "dev-team"},
			rbs:  []string{},
			problems: []problem{
				{SeverityWarning, "to nobody", "not a known user, org or team"},
				{SeverityWarning, "grant of role gone", "not in the model"},
				{SeverityWarning, `on namespace "Not A Namespace"`, "not a valid namespace name"},
				{SeverityWarning, `on collection "nocoll"`, "collection nocoll is not in the model"},
				{SeverityWarning, `(type "node")`, "unknown object type"},
			},
			counts: &Report{Users: Counts{1, 1}, Orgs: Counts{1, 1}, Teams: Counts{1, 1}, Roles: Counts{2, 2}, Grants: Counts{5, 0}},
		},
		{
			name: "custom roles and None",
			model: small([]User{active("u1", "a")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}},
				append(builtin, Role{ID: "c1", Name: "Deployer"}), []Grant{
					{SubjectID: "t1", RoleID: "c1", ObjectID: "web", ObjectType: ObjectNamespace},
					{SubjectID: "t1", RoleID: "none", ObjectID: "web", ObjectType: ObjectNamespace},
				}),
			rbs: []string{},
			problems: []problem{
				{SeverityWarning, "grant of role c1", `custom Swarm role "Deployer" granted to team "dev" (org "acme", id t1) on namespace "web" has no Kubernetes equivalent; grant a ClusterRole yourself`},
				{SeverityInfo, "grant of role none", "maps to no permission"},
			},
		},
		{
			name: "custom permission mapping, and an invalid one",
			model: small([]User{active("u1", "a")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}},
				append(builtin, Role{ID: "c1", Name: "Deployer"}), []Grant{
					{SubjectID: "t1", RoleID: "c1", ObjectID: "web", ObjectType: ObjectNamespace},
					{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
				}),
			opts:     Options{Permissions: map[string]string{"c1": "deployer", "viewonly": "bad/name"}},
			rbs:      []string{"web/dev-team:deployer"},
			problems: []problem{{SeverityError, `Options.Permissions["viewonly"]`, "not a valid ClusterRole name"}},
		},
		{
			name: "structure only",
			model: small([]User{active("u1", "a")}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}}, builtin, []Grant{
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
			}),
			opts:     Options{StructureOnly: true},
			rbs:      []string{},
			problems: []problem{{SeverityInfo, "Options.StructureOnly", "1 grants kept as structure only"}},
		},
		{
			name: "grant to a team without active members",
			model: small([]User{{ID: "u1", Name: "a"}}, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1"}}}, builtin, []Grant{
				{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: ObjectNamespace},
			}),
			rbs:      []string{},
			crbs:     []string{},
			problems: []problem{{SeverityInfo, "grant of role viewonly to t1", "has no active users: no binding"}, {SeverityInfo, `team "dev"`, "no active members"}},
		},
		{
			name:     "admins",
			model:    small([]User{{ID: "u1", Name: "root", IsAdmin: true, IsActive: true}, {ID: "u2", Name: "old", IsAdmin: true}}, nil, nil, nil, nil),
			crbs:     []string{"mke3-admins"},
			subjects: map[string][]string{"mke3-admins": {"root"}},
			problems: []problem{{SeverityInfo, "MKE 3 admins", "1 admins bound to cluster-admin"}},
		},
		{
			name:     "admins skipped",
			model:    small([]User{{ID: "u1", Name: "root", IsAdmin: true, IsActive: true}}, nil, nil, nil, nil),
			opts:     Options{SkipAdmins: true},
			crbs:     []string{},
			problems: []problem{{SeverityInfo, "MKE 3 admins", "not bound"}},
		},
		{
			name: "Swarm roles named like built-ins, the placeholder or an org role",
			model: small(nil, []Org{acme}, nil, []Role{{ID: "none", Name: "None"}, {ID: "c1", Name: "View"}, {ID: "c2", Name: "acme org"}, {ID: "c3", Name: "system:x"}}, []Grant{
				{SubjectID: "o1", RoleID: "c1", ObjectID: "shared", ObjectType: ObjectCollection},
			}),
			roles: []string{"acme-org", "none", "swarm-acme-org", "swarm-none", "swarm-view", "system-x"},
			problems: []problem{
				{SeverityInfo, `Swarm role "None"`, "placeholder"},
				{SeverityInfo, `Swarm role "View"`, "built-in"},
				{SeverityInfo, `Swarm role "acme org"`, `is the name of org "acme"`},
			},
		},
		{
			name:  "duplicate role and collection IDs",
			model: &Model{Roles: []Role{{ID: "r", Name: "a"}, {ID: "r", Name: "b"}, {ID: "x", Name: "x"}, {ID: "x", Name: "x"}}, Collections: []Collection{{ID: "c", Path: "/a"}, {ID: "c", Path: "/b"}, {Path: "/none"}}},
			roles: []string{"x"},
			problems: []problem{
				{SeverityError, `Swarm role "a" (id r)`, "used by 2 different roles"},
				{SeverityError, `Swarm role "b" (id r)`, "used by 2 different roles"},
				{SeverityWarning, `Swarm role "x"`, "listed 2 times identically"},
				{SeverityError, `collection "/a" (id c)`, "used by 2 different collections"},
				{SeverityError, `collection "/none" (id )`, "has no ID"},
			},
		},
		{
			name:     "unknown collection grants mode",
			model:    small(nil, nil, nil, nil, nil),
			opts:     Options{CollectionGrants: "everywhere"},
			problems: []problem{{SeverityError, "Options.CollectionGrants", `unknown mode "everywhere"`}},
		},
		{
			name:  "rename keys that match nothing",
			model: small(nil, []Org{acme}, nil, nil, nil),
			opts:  Options{Rename: map[string]string{"org:zzz": "x", "bogus": "y", "org:o1": "Big Co"}},
			roles: []string{"big-co-org", "none"},
			problems: []problem{
				{SeverityWarning, `Options.Rename["org:zzz"]`, "no org of that ID"},
				{SeverityWarning, `Options.Rename["bogus"]`, "the key must be"},
				{SeverityWarning, `Options.Rename["org:o1"]`, `used as "big-co"`},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, rep, err := Translate(tc.model, tc.opts)
			require.NoError(t, err)
			checkObjects(t, objs)
			if tc.roles != nil {
				assert.Equal(t, tc.roles, nonNil(roleNames(objs)), "ClusterRoles")
			}
			if tc.crbs != nil {
				assert.Equal(t, tc.crbs, nonNil(crbNames(objs)), "ClusterRoleBindings")
			}
			if tc.rbs != nil {
				assert.Equal(t, tc.rbs, nonNil(rbNames(objs)), "RoleBindings")
			}
			for name, want := range tc.subjects {
				assert.Equal(t, want, subjectsOf(objs, name), "subjects of %s", name)
			}
			for _, p := range tc.problems {
				assert.True(t, hasProblem(rep, p.sev, p.subject, p.message), "no %s problem %q: %q in\n%s", p.sev, p.subject, p.message, problemsText(rep))
			}
			if tc.problems != nil && len(tc.problems) == 0 {
				assert.Empty(t, rep.Problems)
			}
			if tc.counts != nil {
				got := *rep
				got.Problems = nil
				assert.Equal(t, *tc.counts, got)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func problemsText(rep *Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "  %s %s: %s\n", p.Severity, p.Subject, p.Message)
	}
	return b.String()
}

func TestTranslateCollisions(t *testing.T) {
	acme := Org{ID: "o1", Name: "acme"}
	cases := []struct {
		name      string
		model     *Model
		opts      Options
		wantName  string
		wantParts []string
	}{
		{
			name:      "teams of one org that sanitise alike",
			model:     small(nil, []Org{acme}, []Team{{ID: "t1", OrgID: "o1", Name: "Dev Ops"}, {ID: "t2", OrgID: "o1", Name: "dev.ops"}}, nil, nil),
			wantName:  "dev-ops-team",
			wantParts: []string{`team "Dev Ops" (org "acme", id t1) and team "dev.ops" (org "acme", id t2) both become ClusterRole "dev-ops-team"`, `Options.Rename["team:t2"]`},
		},
		{
			name:      "orgs that sanitise alike",
			model:     small(nil, []Org{acme, {ID: "o2", Name: "ACME"}}, nil, nil, nil),
			wantName:  "acme-org",
			wantParts: []string{`org "acme" (id o1) and org "ACME" (id o2)`},
		},
		{
			name: "qualified team meets a plain one",
			model: small(nil, []Org{acme, {ID: "o2", Name: "beta"}, {ID: "o3", Name: "gamma"}},
				[]Team{{ID: "t1", OrgID: "o1", Name: "dev"}, {ID: "t2", OrgID: "o2", Name: "dev"}, {ID: "t3", OrgID: "o3", Name: "acme dev"}}, nil, nil),
			wantName: "acme-dev-team",
		},
		{
			name:     "Swarm roles that sanitise alike",
			model:    small(nil, nil, nil, []Role{{ID: "r1", Name: "Ops"}, {ID: "r2", Name: "ops"}}, nil),
			wantName: "ops",
		},
		{
			name:     "long names that agree in the first 63 characters still collide only when the whole names do",
			model:    small(nil, []Org{{ID: "o1", Name: strings.Repeat("x", 70)}, {ID: "o2", Name: strings.Repeat("X", 70)}}, nil, nil, nil),
			wantName: fitName(strings.Repeat("x", 70), "-org"),
		},
		{
			name:     "a rename into another's name",
			model:    small(nil, []Org{acme, {ID: "o2", Name: "beta"}}, nil, nil, nil),
			opts:     Options{Rename: map[string]string{"org:o2": "acme"}},
			wantName: "acme-org",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, rep, err := Translate(tc.model, tc.opts)
			assert.Nil(t, objs)
			require.NotNil(t, rep)
			var ce *CollisionError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.wantName, ce.Name)
			assert.Equal(t, "ClusterRole", ce.Kind)
			for _, p := range tc.wantParts {
				assert.Contains(t, err.Error(), p)
			}
		})
	}

	// Long names that differ only after the cut do not collide.
	m := small(nil, []Org{{ID: "o1", Name: strings.Repeat("x", 70) + "a"}, {ID: "o2", Name: strings.Repeat("x", 70) + "b"}}, nil, nil, nil)
	objs, _, err := Translate(m, Options{})
	require.NoError(t, err)
	assert.Len(t, objs.ClusterRoles, 3)

	// Several collisions are all returned, each typed.
	m = small(nil, []Org{acme, {ID: "o2", Name: "ACME"}, {ID: "o3", Name: "b"}, {ID: "o4", Name: "B"}}, nil, nil, nil)
	_, _, err = Translate(m, Options{})
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined)
	require.Len(t, joined.Unwrap(), 2)
	for _, e := range joined.Unwrap() {
		var ce *CollisionError
		assert.True(t, errors.As(e, &ce))
	}
}
