package fromapi

import (
	"context"
	"fmt"
	"sync"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/rbac"
)

// DefaultConcurrency is how many team and member lists Read reads at
// once when Options.Concurrency is 0: enough to hide latency
// without loading an MKE 3 manager that also serves its users.
const DefaultConcurrency = 8

// Options change how Read reads MKE 3.
type Options struct {
	// Source is recorded in Model.Source (typically the MKE 3 host).
	Source string
	// Concurrency bounds the requests in flight while listing the teams of
	// every org and the members of every team; 0 means DefaultConcurrency.
	Concurrency int
}

// Read reads the access model of an MKE 3 cluster through c: users,
// orgs, their teams and team members, Swarm roles, collections and grants.
// The client must be logged in as an admin (the listings are admin-only).
//
// The MKE 3 client has no call for org members, so Org.Members is left
// empty: Translate counts the members of an org's teams as its members,
// and users who belong to an org but to none of its teams are not read.
//
// A grant's ObjectType is ObjectAllNamespaces for MKE 3's
// "kubernetesnamespaces", ObjectCollection when the object is a listed
// collection, and ObjectNamespace otherwise. The first error stops the
// read and is returned, wrapped with what was being read.
func Read(ctx context.Context, c *mke3.Client, opts Options) (*rbac.Model, error) {
	if c == nil {
		return nil, fmt.Errorf("rbac: read MKE 3: nil client")
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	m := &rbac.Model{APIVersion: rbac.ExportAPIVersion, Kind: rbac.ExportKind, Source: opts.Source}

	users, err := c.ListAccounts(ctx, mke3.AccountsUsers)
	if err != nil {
		return nil, fmt.Errorf("rbac: read MKE 3 users: %w", err)
	}
	for _, a := range users {
		if a.IsOrg {
			continue // the filter should not give orgs; do not trust it blindly
		}
		m.Users = append(m.Users, rbac.User{ID: a.ID, Name: a.Name, FullName: a.FullName, IsAdmin: a.IsAdmin, IsActive: a.IsActive})
	}

	orgs, err := c.ListAccounts(ctx, mke3.AccountsOrgs)
	if err != nil {
		return nil, fmt.Errorf("rbac: read MKE 3 orgs: %w", err)
	}
	orgs = slicesFilter(orgs, func(a mke3.Account) bool { return a.IsOrg })
	for _, a := range orgs {
		m.Orgs = append(m.Orgs, rbac.Org{ID: a.ID, Name: a.Name})
	}

	teamsOf := make([][]mke3.Team, len(orgs))
	err = forEach(ctx, workers, len(orgs), func(ctx context.Context, i int) error {
		ts, err := c.ListTeams(ctx, mke3.IDRef(orgs[i].ID))
		if err != nil {
			return fmt.Errorf("rbac: read teams of MKE 3 org %q: %w", orgs[i].Name, err)
		}
		teamsOf[i] = ts
		return nil
	})
	if err != nil {
		return nil, err
	}
	type teamRef struct {
		org  mke3.Account
		team mke3.Team
	}
	var teams []teamRef
	for i, ts := range teamsOf {
		for _, t := range ts {
			teams = append(teams, teamRef{orgs[i], t})
		}
	}
	members := make([][]string, len(teams))
	err = forEach(ctx, workers, len(teams), func(ctx context.Context, i int) error {
		tr := teams[i]
		ms, err := c.ListTeamMembers(ctx, mke3.IDRef(tr.org.ID), tr.team.Name, mke3.MembersAll)
		if err != nil {
			return fmt.Errorf("rbac: read members of MKE 3 team %q of org %q: %w", tr.team.Name, tr.org.Name, err)
		}
		for _, mb := range ms {
			members[i] = append(members[i], mb.Member.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, tr := range teams {
		orgID := tr.team.OrgID
		if orgID == "" {
			orgID = tr.org.ID // listed under that org, whatever the answer omits
		}
		m.Teams = append(m.Teams, rbac.Team{ID: tr.team.ID, OrgID: orgID, Name: tr.team.Name, Members: members[i]})
	}

	roles, err := c.Roles(ctx)
	if err != nil {
		return nil, fmt.Errorf("rbac: read MKE 3 Swarm roles: %w", err)
	}
	for _, r := range roles {
		m.Roles = append(m.Roles, rbac.Role{ID: r.ID, Name: r.Name, System: r.SystemRole})
	}
	colls, err := c.ListCollections(ctx)
	if err != nil {
		return nil, fmt.Errorf("rbac: read MKE 3 collections: %w", err)
	}
	isColl := make(map[string]bool, len(colls))
	for _, col := range colls {
		m.Collections = append(m.Collections, rbac.Collection{ID: col.ID, Path: col.Path})
		isColl[col.ID] = true
	}
	grants, err := c.Grants(ctx)
	if err != nil {
		return nil, fmt.Errorf("rbac: read MKE 3 grants: %w", err)
	}
	for _, g := range grants.Grants {
		typ := rbac.ObjectNamespace
		switch {
		case g.ObjectID == rbac.AllNamespacesObjectID:
			typ = rbac.ObjectAllNamespaces
		case isColl[g.ObjectID]:
			typ = rbac.ObjectCollection
		}
		m.Grants = append(m.Grants, rbac.Grant{SubjectID: g.SubjectID, RoleID: g.RoleID, ObjectID: g.ObjectID, ObjectType: typ})
	}
	return m, nil
}

func slicesFilter[T any](s []T, keep func(T) bool) []T {
	out := s[:0:0]
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// forEach runs fn(ctx, i) for i in [0, n) with at most workers at once.
// The first error cancels the others' context and is returned.
func forEach(ctx context.Context, workers, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
