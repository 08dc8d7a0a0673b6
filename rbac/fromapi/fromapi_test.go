package fromapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func simSeed() mke3api.Seed {
	return mke3api.Seed{
		Users: []mke3api.User{
			{Name: "alice", IsAdmin: true},
			{Name: "bob", FullName: "Bob B"},
			{Name: "carol", IsActive: new(false)},
		},
		Orgs: []mke3api.Org{
			{Name: "acme", Teams: []mke3api.Team{
				{Name: "dev", Members: []mke3api.TeamMember{{Name: "alice"}, {Name: "bob"}}},
				{Name: "ops", Members: []mke3api.TeamMember{{Name: "carol"}}},
			}},
			{Name: "beta", Teams: []mke3api.Team{{Name: "dev", Members: []mke3api.TeamMember{{Name: "bob"}}}}},
			{Name: "empty"},
		},
		Grants: []mke3api.Grant{
			{SubjectName: "acme/dev", ObjectID: "dev", RoleID: "viewonly"},
			{SubjectName: "acme", ObjectID: "shared", RoleID: "fullcontrol"},
			{SubjectName: "bob", ObjectID: "kubernetesnamespaces", RoleID: "viewonly"},
			{SubjectName: "beta/dev", ObjectID: "web", RoleID: "restrictedcontrol"},
		},
	}
}

func startSim(t testing.TB, seed mke3api.Seed) *mke3api.Running {
	t.Helper()
	r, err := mke3api.Start(mke3api.Options{Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func simClient(t testing.TB, r *mke3api.Running, pageSize int) *mke3.Client {
	t.Helper()
	c, err := mke3.New(mke3.Options{
		Host:      r.URL,
		Username:  mke3api.DefaultAdminUsername,
		Password:  mke3api.DefaultAdminPassword,
		CACertPEM: r.CAPEM,
		PageSize:  pageSize,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry:     mke3.Retry{Attempts: 2, Base: time.Millisecond, Max: 5 * time.Millisecond},
	})
	require.NoError(t, err)
	return c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFromMKE3(t *testing.T) {
	r := startSim(t, simSeed())
	m, err := Read(testContext(t), simClient(t, r, 0), Options{Source: "sim"})
	require.NoError(t, err)

	id := mke3api.AccountID
	assert.Equal(t, rbac.ExportAPIVersion, m.APIVersion)
	assert.Equal(t, "sim", m.Source)
	assert.Contains(t, m.Users, rbac.User{ID: id("bob"), Name: "bob", FullName: "Bob B", IsActive: true})
	assert.Contains(t, m.Users, rbac.User{ID: id("carol"), Name: "carol"})
	assert.Len(t, m.Users, 4, "the seeded users and the admin")
	assert.Len(t, m.Orgs, 3)
	for _, o := range m.Orgs {
		assert.Empty(t, o.Members, "no org-members call: org members come from teams")
	}
	assert.Contains(t, m.Teams, rbac.Team{ID: mke3api.TeamID("acme", "dev"), OrgID: id("acme"), Name: "dev", Members: slices.Sorted(slices.Values([]string{id("alice"), id("bob")}))})
	assert.Contains(t, m.Teams, rbac.Team{ID: mke3api.TeamID("beta", "dev"), OrgID: id("beta"), Name: "dev", Members: []string{id("bob")}})
	assert.Len(t, m.Roles, 5)
	assert.Contains(t, m.Roles, rbac.Role{ID: "viewonly", Name: "View Only", System: true})
	assert.Len(t, m.Collections, 3)
	assert.ElementsMatch(t, []rbac.Grant{
		{SubjectID: mke3api.TeamID("acme", "dev"), RoleID: "viewonly", ObjectID: "dev", ObjectType: rbac.ObjectNamespace},
		{SubjectID: id("acme"), RoleID: "fullcontrol", ObjectID: "shared", ObjectType: rbac.ObjectCollection},
		{SubjectID: id("bob"), RoleID: "viewonly", ObjectID: "kubernetesnamespaces", ObjectType: rbac.ObjectAllNamespaces},
		{SubjectID: mke3api.TeamID("beta", "dev"), RoleID: "restrictedcontrol", ObjectID: "web", ObjectType: rbac.ObjectNamespace},
	}, m.Grants)

	// The model survives the export format and translates.
	data, err := rbac.EncodeExport(m)
	require.NoError(t, err)
	back, err := rbac.DecodeExport("sim.json", data)
	require.NoError(t, err)
	objs, rep, err := rbac.Translate(back, rbac.Options{})
	require.NoError(t, err)
	assert.False(t, rep.HasErrors(), fmt.Sprint(rep.Problems))
	assert.Equal(t, []string{"acme-dev-team", "acme-org", "beta-dev-team", "beta-org", "empty-org", "full-control", "none", "ops-team",
		"restricted-control", "scheduler", "swarm-none", "view-only"}, roleNames(objs))
	assert.Equal(t, []string{"dev/acme-dev-team:view", "web/beta-dev-team:edit"}, rbNames(objs))
	assert.Equal(t, []string{"alice", "bob"}, subjectsOf(objs, "acme-org"))
	assert.Equal(t, []string{"bob"}, subjectsOf(objs, "user-bob:view"))
	assert.Equal(t, []string{"admin", "alice"}, subjectsOf(objs, rbac.AdminsBindingName))
}

func TestFromMKE3IndependentOfPagingAndConcurrency(t *testing.T) {
	r := startSim(t, mke3api.GenerateSeed(60, 7, 4, 6))
	want, err := Read(testContext(t), simClient(t, r, 0), Options{})
	require.NoError(t, err)
	assert.Len(t, want.Teams, 28)
	for _, tc := range []struct{ page, workers int }{{1, 1}, {5, 3}, {1000, 32}} {
		got, err := Read(testContext(t), simClient(t, r, tc.page), Options{Concurrency: tc.workers})
		require.NoError(t, err)
		assert.Equal(t, want, got, "page size %d, %d workers", tc.page, tc.workers)
	}
}

func TestFromMKE3Errors(t *testing.T) {
	r := startSim(t, simSeed())
	c := simClient(t, r, 0)

	r.SetFault(http.MethodGet, "/enzi/v0/accounts/", mke3api.Fault{Status: http.StatusInternalServerError})
	_, err := Read(testContext(t), c, Options{Concurrency: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rbac: read teams of MKE 3 org")
	var ae *mke3.APIError
	assert.ErrorAs(t, err, &ae, "the client's error is wrapped")

	r.SetFault(http.MethodGet, "/enzi/v0/accounts/", mke3api.Fault{})
	r.SetFault(http.MethodGet, "/collectionGrants", mke3api.Fault{Malformed: true})
	_, err = Read(testContext(t), c, Options{})
	assert.ErrorContains(t, err, "rbac: read MKE 3 grants")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Read(ctx, c, Options{})
	assert.ErrorIs(t, err, context.Canceled)

	_, err = Read(context.Background(), nil, Options{})
	assert.Error(t, err)
}

func TestForEach(t *testing.T) {
	var seen [50]int
	err := forEach(context.Background(), 4, len(seen), func(_ context.Context, i int) error { seen[i]++; return nil })
	require.NoError(t, err)
	for i, n := range seen {
		assert.Equal(t, 1, n, "item %d", i)
	}
	boom := assert.AnError
	err = forEach(context.Background(), 3, 1000, func(ctx context.Context, i int) error {
		if i == 10 {
			return boom
		}
		return ctx.Err()
	})
	assert.ErrorIs(t, err, boom)
	assert.NoError(t, forEach(context.Background(), 8, 0, nil))
}

func roleNames(o *rbac.Objects) []string {
	var out []string
	for _, r := range o.ClusterRoles {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

func rbNames(o *rbac.Objects) []string {
	var out []string
	for _, r := range o.RoleBindings {
		out = append(out, r.Namespace+"/"+r.Name)
	}
	slices.Sort(out)
	return out
}

func subjectsOf(o *rbac.Objects, name string) []string {
	var out []string
	for _, b := range o.ClusterRoleBindings {
		if b.Name == name {
			for _, s := range b.Subjects {
				out = append(out, s.Name)
			}
		}
	}
	for _, b := range o.RoleBindings {
		if b.Namespace+"/"+b.Name == name {
			for _, s := range b.Subjects {
				out = append(out, s.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}
