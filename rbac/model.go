package rbac

import (
	"cmp"
	"slices"
)

// Identification of an export document (Model.APIVersion, Model.Kind).
const (
	ExportAPIVersion = "rbac.mke-migrate.io/v1"
	ExportKind       = "MKE3RBACExport"
)

// Model is the MKE 3 access model that Translate reads: eNZi users, orgs
// and teams, and Swarm roles, collections and grants. It is also the JSON
// export document (see DecodeExport), so an export can be reviewed, edited
// and translated later without access to MKE 3.
//
// IDs are MKE 3's own. Users, orgs and teams share one ID space, because a
// grant names its subject by ID alone; roles and collections have their own.
type Model struct {
	APIVersion string `json:"apiVersion"` // ExportAPIVersion
	Kind       string `json:"kind"`       // ExportKind
	// Source is the MKE 3 host the model was read from; informational.
	Source      string       `json:"source,omitempty"`
	Users       []User       `json:"users,omitempty"`
	Orgs        []Org        `json:"orgs,omitempty"`
	Teams       []Team       `json:"teams,omitempty"`
	Roles       []Role       `json:"roles,omitempty"`
	Collections []Collection `json:"collections,omitempty"`
	Grants      []Grant      `json:"grants,omitempty"`
}

// User is an eNZi user account. Name is the login name, which becomes the
// Kubernetes user name unchanged.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"fullName,omitempty"`
	IsAdmin  bool   `json:"isAdmin"`
	IsActive bool   `json:"isActive"`
}

// Org is an eNZi organization. Members are the IDs of users who belong to
// the org directly; members of its teams belong to it anyway.
type Org struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
}

// Team is a team of the org OrgID. Members are user IDs.
type Team struct {
	ID      string   `json:"id"`
	OrgID   string   `json:"orgID"`
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
}

// Role is a Swarm role. The five built-in roles have IDs equal to their
// short names: none, viewonly, restrictedcontrol, scheduler, fullcontrol.
type Role struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	System bool   `json:"system,omitempty"`
}

// Collection is a Swarm collection, a set of Swarm resources.
type Collection struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

// Object types of a Grant.
const (
	ObjectCollection    = "collection"     // ObjectID is a Collection ID
	ObjectNamespace     = "namespace"      // ObjectID is a Kubernetes namespace
	ObjectAllNamespaces = "all-namespaces" // MKE 3's "kubernetesnamespaces"
)

// Grant gives the subject (a user, org or team ID) the Swarm role RoleID
// on an object.
type Grant struct {
	SubjectID  string `json:"subjectID"`
	RoleID     string `json:"roleID"`
	ObjectID   string `json:"objectID"`
	ObjectType string `json:"objectType"`
}

// sorted returns a copy of m with every list, member lists included, in
// the canonical order EncodeExport writes. Empty lists become nil, so that
// a sorted model compares equal to its decoded encoding.
func (m *Model) sorted() *Model {
	out := *m
	out.Users = sortedBy(m.Users, cmpUser)
	out.Roles = sortedBy(m.Roles, cmpRole)
	out.Collections = sortedBy(m.Collections, cmpCollection)
	out.Grants = sortedBy(m.Grants, cmpGrant)
	out.Orgs = sortedBy(m.Orgs, cmpOrg)
	for i := range out.Orgs {
		out.Orgs[i].Members = sortedBy(out.Orgs[i].Members, cmp.Compare[string])
	}
	out.Teams = sortedBy(m.Teams, cmpTeam)
	for i := range out.Teams {
		out.Teams[i].Members = sortedBy(out.Teams[i].Members, cmp.Compare[string])
	}
	// Orgs and teams were sorted with their members unsorted; members can
	// only break ties between entries with equal IDs and names, so sort
	// again now that they are canonical.
	slices.SortStableFunc(out.Orgs, cmpOrg)
	slices.SortStableFunc(out.Teams, cmpTeam)
	return &out
}

func sortedBy[T any](s []T, f func(a, b T) int) []T {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.SortStableFunc(c, f)
	return c
}

// The comparisons order by ID first and then by every other field, so that
// entries with a duplicated ID still have one canonical order.

func cmpUser(a, b User) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), cmp.Compare(a.FullName, b.FullName),
		cmpBool(a.IsAdmin, b.IsAdmin), cmpBool(a.IsActive, b.IsActive))
}

func cmpOrg(a, b Org) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), slices.Compare(a.Members, b.Members))
}

func cmpTeam(a, b Team) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.OrgID, b.OrgID), cmp.Compare(a.Name, b.Name),
		slices.Compare(a.Members, b.Members))
}

func cmpRole(a, b Role) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name), cmpBool(a.System, b.System))
}

func cmpCollection(a, b Collection) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Path, b.Path))
}

func cmpGrant(a, b Grant) int {
	return cmp.Or(cmp.Compare(a.SubjectID, b.SubjectID), cmp.Compare(a.ObjectType, b.ObjectType),
		cmp.Compare(a.ObjectID, b.ObjectID), cmp.Compare(a.RoleID, b.RoleID))
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}
