package mke3api

import (
	"cmp"
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// Wire types. Field names and presence follow docs/mke3-api.md; fields are
// never omitted (no omitempty) so that a client sees the same keys for
// every item, as MKE sends them.

type accountJSON struct {
	Name         string `json:"name"`
	ID           string `json:"id"`
	FullName     string `json:"fullName"`
	IsActive     bool   `json:"isActive"`
	IsAdmin      bool   `json:"isAdmin"`
	IsOrg        bool   `json:"isOrg"`
	IsImported   bool   `json:"isImported"`
	OnDemand     bool   `json:"onDemand"`
	OTPEnabled   bool   `json:"otpEnabled"`
	MembersCount int    `json:"membersCount"`
	TeamsCount   int    `json:"teamsCount"`
}

type teamJSON struct {
	ID           string `json:"id"`
	OrgID        string `json:"orgID"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	MembersCount int    `json:"membersCount"`
}

type memberJSON struct {
	IsAdmin  bool         `json:"isAdmin"`
	IsPublic bool         `json:"isPublic"`
	Member   *accountJSON `json:"member"`
}

type roleJSON struct {
	ID         string                         `json:"id"`
	Name       string                         `json:"name"`
	SystemRole bool                           `json:"system_role"`
	Operations map[string]map[string][]string `json:"operations"`
}

type labelConstraintJSON struct {
	Type       string `json:"type"`
	LabelKey   string `json:"label_key"`
	LabelValue string `json:"label_value"`
	Equality   bool   `json:"equality"`
}

type collectionJSON struct {
	ID               string                `json:"id"`
	Name             string                `json:"name"`
	Path             string                `json:"path"`
	ParentIDs        []string              `json:"parent_ids"`
	LabelConstraints []labelConstraintJSON `json:"label_constraints"`
}

type grantJSON struct {
	SubjectID string `json:"subjectID"`
	ObjectID  string `json:"objectID"`
	RoleID    string `json:"roleID"`
}

// subjectJSON describes a grant subject. Users and orgs carry their
// account; a team has no account, so it carries the team instead (the API
// document only shows "account").
type subjectJSON struct {
	ID          string       `json:"id"`
	SubjectType string       `json:"subject_type"`
	Account     *accountJSON `json:"account,omitempty"`
	Team        *teamJSON    `json:"team,omitempty"`
}

type ldapSearchJSON struct {
	BaseDN               string `json:"baseDN"`
	ScopeSubtree         bool   `json:"scopeSubtree"`
	UsernameAttr         string `json:"usernameAttr"`
	FullNameAttr         string `json:"fullNameAttr"`
	Filter               string `json:"filter"`
	MatchGroup           bool   `json:"matchGroup"`
	MatchGroupDN         string `json:"matchGroupDN"`
	MatchGroupMemberAttr string `json:"matchGroupMemberAttr"`
	MatchGroupIterate    bool   `json:"matchGroupIterate"`
}

type ldapDomainJSON struct {
	Domain             string           `json:"domain"`
	ServerURL          string           `json:"serverURL"`
	NoSimplePagination bool             `json:"noSimplePagination"`
	StartTLS           bool             `json:"startTLS"`
	RootCerts          string           `json:"rootCerts"`
	TLSSkipVerify      bool             `json:"tlsSkipVerify"`
	ReaderDN           string           `json:"readerDN"`
	UserSearchConfigs  []ldapSearchJSON `json:"userSearchConfigs"`
}

type ldapAdminSyncJSON struct {
	EnableSync         bool   `json:"enableSync"`
	SelectGroupMembers bool   `json:"selectGroupMembers"`
	GroupDN            string `json:"groupDN"`
	GroupMemberAttr    string `json:"groupMemberAttr"`
	SearchBaseDN       string `json:"searchBaseDN"`
	SearchScopeSubtree bool   `json:"searchScopeSubtree"`
	SearchFilter       string `json:"searchFilter"`
}

// ldapJSON has no readerPassword field at all, so that no code path can
// serve the seeded password.
type ldapJSON struct {
	ServerURL           string            `json:"serverURL"`
	NoSimplePagination  bool              `json:"noSimplePagination"`
	StartTLS            bool              `json:"startTLS"`
	RootCerts           string            `json:"rootCerts"`
	TLSSkipVerify       bool              `json:"tlsSkipVerify"`
	ReaderDN            string            `json:"readerDN"`
	AdditionalDomains   []ldapDomainJSON  `json:"additionalDomains"`
	UserSearchConfigs   []ldapSearchJSON  `json:"userSearchConfigs"`
	AdminSyncOpts       ldapAdminSyncJSON `json:"adminSyncOpts"`
	SyncSchedule        string            `json:"syncSchedule"`
	JITUserProvisioning bool              `json:"jitUserProvisioning"`
}

// Internal model, built once by New and never modified afterwards, so the
// read paths need no locks.

type account struct {
	json accountJSON
	// raw is json encoded once at build time: account listings are the
	// bulk of a migration's reads, and the content never changes.
	raw      []byte
	password string // empty: cannot log in
	// Orgs only: teams sorted by name, and lookups.
	teams      []*team
	teamByName map[string]*team
	teamByID   map[string]*team
}

type team struct {
	json    teamJSON
	members []memberJSON // sorted by member account ID
}

type grant struct {
	json grantJSON
	// key orders grants and is their paging start value: subject, object
	// and role IDs joined by "/", which no ID contains (checkID), so the
	// key is unambiguous and safe in an HTTP header.
	key         string
	subjectType string
}

// accountFilter returns the predicate of a GET /enzi/v0/accounts filter.
func accountFilter(name string) (keep func(a *account) bool, ok bool) {
	switch name {
	case "all":
		return func(*account) bool { return true }, true
	case "users":
		return func(a *account) bool { return !a.json.IsOrg }, true
	case "orgs":
		return func(a *account) bool { return a.json.IsOrg }, true
	case "admins":
		return func(a *account) bool { return !a.json.IsOrg && a.json.IsAdmin }, true
	case "non-admins":
		return func(a *account) bool { return !a.json.IsOrg && !a.json.IsAdmin }, true
	case "active-users":
		return func(a *account) bool { return !a.json.IsOrg && a.json.IsActive }, true
	case "inactive-users":
		return func(a *account) bool { return !a.json.IsOrg && !a.json.IsActive }, true
	}
	return nil, false
}

func accountFilterNames() []string {
	return []string{"all", "users", "orgs", "admins", "non-admins", "active-users", "inactive-users"}
}

type accountList struct {
	items       []*account // sorted by name
	users, orgs int
}

type model struct {
	accounts []*account // sorted by name
	byName   map[string]*account
	byID     map[string]*account
	filtered map[string]accountList
	roles    []roleJSON
	colls    []collectionJSON // sorted by ID
	grants   []grant          // sorted by key
	subjects map[string]subjectJSON
	ldap     ldapJSON
}

// buildModel turns a validated seed into the served model.
func buildModel(s *Seed) *model {
	m := &model{byName: map[string]*account{}, byID: map[string]*account{}}
	admin := adminName(s)
	hasAdmin := false
	for _, u := range s.Users {
		a := &account{json: accountJSON{
			Name: u.Name, ID: cmp.Or(u.ID, AccountID(u.Name)), FullName: u.FullName,
			IsActive: u.IsActive == nil || *u.IsActive, IsAdmin: u.IsAdmin, IsImported: u.IsImported,
		}, password: u.Password}
		if u.Name == admin {
			hasAdmin = true
			a.password = adminPassword(s)
		}
		m.add(a)
	}
	if !hasAdmin {
		m.add(&account{json: accountJSON{Name: admin, ID: AccountID(admin), IsActive: true, IsAdmin: true}, password: adminPassword(s)})
	}

	teamsByID := map[string]*team{}
	for _, o := range s.Orgs {
		org := &account{json: accountJSON{Name: o.Name, ID: cmp.Or(o.ID, AccountID(o.Name)), FullName: o.FullName, IsActive: true, IsOrg: true},
			teamByName: map[string]*team{}, teamByID: map[string]*team{}}
		orgMembers := map[string]bool{}
		for _, t := range o.Teams {
			tm := &team{json: teamJSON{ID: cmp.Or(t.ID, TeamID(o.Name, t.Name)), OrgID: org.json.ID, Name: t.Name, Description: t.Description}}
			for _, mem := range t.Members {
				acct := m.byName[mem.Name]
				tm.members = append(tm.members, memberJSON{IsAdmin: mem.IsAdmin, Member: &acct.json})
				orgMembers[mem.Name] = true
			}
			slices.SortFunc(tm.members, func(a, b memberJSON) int { return strings.Compare(a.Member.ID, b.Member.ID) })
			tm.json.MembersCount = len(tm.members)
			org.teams = append(org.teams, tm)
			org.teamByName[t.Name] = tm
			org.teamByID[tm.json.ID] = tm
			teamsByID[tm.json.ID] = tm
		}
		slices.SortFunc(org.teams, func(a, b *team) int { return strings.Compare(a.json.Name, b.json.Name) })
		org.json.TeamsCount = len(org.teams)
		org.json.MembersCount = len(orgMembers)
		m.add(org)
	}
	slices.SortFunc(m.accounts, func(a, b *account) int { return strings.Compare(a.json.Name, b.json.Name) })
	for _, a := range m.accounts {
		a.raw, _ = json.Marshal(&a.json) // cannot fail: strings, bools and ints
	}
	m.filtered = map[string]accountList{}
	for _, name := range accountFilterNames() {
		keep, _ := accountFilter(name)
		var l accountList
		for _, a := range m.accounts {
			if keep(a) {
				l.items = append(l.items, a)
				if a.json.IsOrg {
					l.orgs++
				} else {
					l.users++
				}
			}
		}
		m.filtered[name] = l
	}

	roles := s.Roles
	if len(roles) == 0 {
		roles = BuiltinRoles()
	}
	for _, r := range roles {
		// Copied so that a caller changing its Seed later cannot race with
		// requests.
		ops := make(map[string]map[string][]string, len(r.Operations))
		for kind, names := range r.Operations {
			m := make(map[string][]string, len(names))
			for n, v := range names {
				m[n] = append([]string{}, v...)
			}
			ops[kind] = m
		}
		m.roles = append(m.roles, roleJSON{ID: r.ID, Name: cmp.Or(r.Name, r.ID), SystemRole: r.SystemRole, Operations: ops})
	}

	colls := s.Collections
	if len(colls) == 0 {
		colls = DefaultCollections()
	}
	for _, c := range colls {
		name := c.Name
		if name == "" {
			name = path.Base(c.Path)
			if c.Path == "/" {
				name = "swarm"
			}
		}
		m.colls = append(m.colls, collectionJSON{ID: c.ID, Name: name, Path: c.Path,
			ParentIDs: append([]string{}, c.ParentIDs...), LabelConstraints: []labelConstraintJSON{}})
	}
	slices.SortFunc(m.colls, func(a, b collectionJSON) int { return strings.Compare(a.ID, b.ID) })

	m.subjects = map[string]subjectJSON{}
	for _, g := range s.Grants {
		var subj subjectJSON
		if g.SubjectID != "" {
			if a, ok := m.byID[g.SubjectID]; ok {
				subj = accountSubject(a)
			} else {
				t := teamsByID[g.SubjectID]
				subj = subjectJSON{ID: t.json.ID, SubjectType: "team", Team: &t.json}
			}
		} else if orgName, teamName, isTeam := strings.Cut(g.SubjectName, "/"); isTeam {
			t := m.byName[orgName].teamByName[teamName]
			subj = subjectJSON{ID: t.json.ID, SubjectType: "team", Team: &t.json}
		} else {
			subj = accountSubject(m.byName[g.SubjectName])
		}
		m.subjects[subj.ID] = subj
		gj := grantJSON{SubjectID: subj.ID, ObjectID: g.ObjectID, RoleID: g.RoleID}
		m.grants = append(m.grants, grant{json: gj, key: gj.SubjectID + "/" + gj.ObjectID + "/" + gj.RoleID, subjectType: subj.SubjectType})
	}
	slices.SortFunc(m.grants, func(a, b grant) int { return strings.Compare(a.key, b.key) })
	// A grant given twice (say by ID and by name) is one grant in MKE.
	m.grants = slices.CompactFunc(m.grants, func(a, b grant) bool { return a.key == b.key })

	m.ldap = ldapFromSeed(s.LDAP)
	return m
}

func (m *model) add(a *account) {
	m.accounts = append(m.accounts, a)
	m.byName[a.json.Name] = a
	m.byID[a.json.ID] = a
}

// lookup resolves an account reference: a name, or "id:" and an ID.
func (m *model) lookup(ref string) *account {
	if id, ok := strings.CutPrefix(ref, "id:"); ok {
		return m.byID[id]
	}
	return m.byName[ref]
}

// lookupTeam resolves a team reference within an org, like lookup.
func (a *account) lookupTeam(ref string) *team {
	if id, ok := strings.CutPrefix(ref, "id:"); ok {
		return a.teamByID[id]
	}
	return a.teamByName[ref]
}

func accountSubject(a *account) subjectJSON {
	typ := "user"
	if a.json.IsOrg {
		typ = "org"
	}
	return subjectJSON{ID: a.json.ID, SubjectType: typ, Account: &a.json}
}

func ldapFromSeed(l *LDAPConfig) ldapJSON {
	out := ldapJSON{AdditionalDomains: []ldapDomainJSON{}, UserSearchConfigs: []ldapSearchJSON{}}
	if l == nil {
		return out
	}
	searches := func(in []LDAPSearchConfig) []ldapSearchJSON {
		res := make([]ldapSearchJSON, 0, len(in))
		for _, c := range in {
			res = append(res, ldapSearchJSON(c))
		}
		return res
	}
	out.ServerURL, out.NoSimplePagination, out.StartTLS = l.ServerURL, l.NoSimplePagination, l.StartTLS
	out.RootCerts, out.TLSSkipVerify, out.ReaderDN = l.RootCerts, l.TLSSkipVerify, l.ReaderDN
	out.UserSearchConfigs = searches(l.UserSearchConfigs)
	out.AdminSyncOpts = ldapAdminSyncJSON(l.AdminSyncOpts)
	out.SyncSchedule, out.JITUserProvisioning = l.SyncSchedule, l.JITUserProvisioning
	for _, d := range l.AdditionalDomains {
		out.AdditionalDomains = append(out.AdditionalDomains, ldapDomainJSON{
			Domain: d.Domain, ServerURL: d.ServerURL, NoSimplePagination: d.NoSimplePagination, StartTLS: d.StartTLS,
			RootCerts: d.RootCerts, TLSSkipVerify: d.TLSSkipVerify, ReaderDN: d.ReaderDN,
			UserSearchConfigs: searches(d.UserSearchConfigs),
		})
	}
	return out
}

// paginate returns up to limit items of a key-sorted list starting at the
// first key >= start (start is inclusive, like eNZi's), skipping items keep
// rejects, and the key of the item that would come next ("" at the end).
// With repeat (the RepeatStart fault), next is the current start instead:
// the request's start, or the first key of a first page.
func paginate[T any](items []T, key func(T) string, start string, limit int, keep func(T) bool, repeat bool) (page []T, next string) {
	i, _ := slices.BinarySearchFunc(items, start, func(it T, s string) int { return strings.Compare(key(it), s) })
	page = make([]T, 0, min(limit, len(items)-i))
	for ; i < len(items); i++ {
		it := items[i]
		if keep != nil && !keep(it) {
			continue
		}
		if len(page) == limit {
			next = key(it)
			break
		}
		page = append(page, it)
	}
	if repeat {
		next = start
		if next == "" && len(page) > 0 {
			next = key(page[0])
		}
	}
	return page, next
}
