package mke3api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults used when a Seed leaves a field empty.
const (
	DefaultVersion       = "3.8.8"
	DefaultAdminUsername = "admin"
	// DefaultAdminPassword is only for throw-away simulators; MKE itself
	// requires at least 8 characters, which this satisfies.
	DefaultAdminPassword = "orcaorca"
)

// DefaultConfigTOML is the configuration a simulator starts with when the
// seed has none: a small but valid MKE 3.8 export with the Calico datastore
// still on etcd (calico_kdd = false), so that the KDD switch can be tested.
const DefaultConfigTOML = `[auth]
  backend = "managed"
  default_new_user_role = "restrictedcontrol"
  managedPasswordDisabled = false

  [auth.sessions]
    lifetime_minutes = 60
    renewal_threshold_minutes = 20
    per_user_limit = 10

[scheduling_configuration]
  enable_admin_ucp_scheduling = true
  default_node_orchestrator = "swarm"

[tracking_configuration]
  disable_usageinfo = false
  disable_tracking = false
  cluster_label = ""

[log_configuration]
  level = "INFO"

[license_configuration]
  auto_refresh = false

[cluster_config]
  controller_port = 443
  kube_apiserver_port = 6443
  swarm_port = 2376
  calico_kdd = false
  pod_cidr = "192.168.0.0/16"
  service_cluster_ip_range = "10.96.0.0/16"
  nodeport_range = "32768-35535"
  kube_proxy_mode = "iptables"
`

// Seed is the content of a simulated cluster. Every list is optional; see
// the field comments for what an empty one means. Seeds are YAML-loadable
// with LoadSeed, using the camelCase json/yaml names of the fields.
type Seed struct {
	// Version is the MKE version; /version answers "ucp/<Version>".
	// Default DefaultVersion.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	// Admin is the administrator who can log in. When Users has no entry of
	// that name, one is added. Default DefaultAdminUsername/DefaultAdminPassword.
	Admin Credentials `json:"admin" yaml:"admin,omitempty"`
	// Users are the user accounts.
	Users []User `json:"users,omitempty" yaml:"users,omitempty"`
	// Orgs are the organizations, with their teams.
	Orgs []Org `json:"orgs,omitempty" yaml:"orgs,omitempty"`
	// Roles are the Swarm roles; empty means the five built-ins (BuiltinRoles).
	Roles []Role `json:"roles,omitempty" yaml:"roles,omitempty"`
	// Collections are the Swarm collections; empty means "/", "/Shared" and
	// "/System" (DefaultCollections).
	Collections []Collection `json:"collections,omitempty" yaml:"collections,omitempty"`
	// Grants bind a subject to a role on an object.
	Grants []Grant `json:"grants,omitempty" yaml:"grants,omitempty"`
	// LDAP is served by GET /enzi/v0/config/auth/ldap; nil means LDAP is not
	// configured (the endpoint answers serverURL "").
	LDAP *LDAPConfig `json:"ldap,omitempty" yaml:"ldap,omitempty"`
	// ConfigTOML is the initial /api/ucp/config-toml; default DefaultConfigTOML.
	ConfigTOML string `json:"configTOML,omitempty" yaml:"configTOML,omitempty"`
	// Swarm is the Docker Swarm content served by the Engine API lists
	// (/services, /tasks, ...); nil means DefaultSwarm, an empty one
	// (swarm: {}) a Swarm without services.
	Swarm *Swarm `json:"swarm,omitempty" yaml:"swarm,omitempty"`
}

// Credentials are a user name and password.
type Credentials struct {
	Username string `json:"username,omitempty" yaml:"username,omitempty"`
	Password string `json:"password,omitempty" yaml:"password,omitempty"`
}

// User is a user account.
type User struct {
	Name string `json:"name" yaml:"name"`
	// ID is the eNZi account ID. When empty it is derived from the name, so
	// that the same seed always yields the same IDs (tests can predict them
	// with AccountID).
	ID       string `json:"id,omitempty" yaml:"id,omitempty"`
	FullName string `json:"fullName,omitempty" yaml:"fullName,omitempty"`
	IsAdmin  bool   `json:"isAdmin,omitempty" yaml:"isAdmin,omitempty"`
	// IsActive defaults to true; a pointer so that an explicit false is
	// distinguishable from "not set" (write new(false)).
	IsActive *bool `json:"isActive,omitempty" yaml:"isActive,omitempty"`
	// IsImported marks an account synchronised from LDAP.
	IsImported bool `json:"isImported,omitempty" yaml:"isImported,omitempty"`
	// Password, when set, lets this user log in.
	Password string `json:"password,omitempty" yaml:"password,omitempty"`
}

// Org is an organization account with its teams.
type Org struct {
	Name     string `json:"name" yaml:"name"`
	ID       string `json:"id,omitempty" yaml:"id,omitempty"`
	FullName string `json:"fullName,omitempty" yaml:"fullName,omitempty"`
	Teams    []Team `json:"teams,omitempty" yaml:"teams,omitempty"`
}

// Team is a team of an organization.
type Team struct {
	Name string `json:"name" yaml:"name"`
	// ID is derived from the org and team names when empty (see TeamID).
	ID          string       `json:"id,omitempty" yaml:"id,omitempty"`
	Description string       `json:"description,omitempty" yaml:"description,omitempty"`
	Members     []TeamMember `json:"members,omitempty" yaml:"members,omitempty"`
}

// TeamMember names a user (by name) who belongs to a team.
type TeamMember struct {
	Name    string `json:"name" yaml:"name"`
	IsAdmin bool   `json:"isAdmin,omitempty" yaml:"isAdmin,omitempty"`
}

// Role is a Swarm role. Operations maps a resource kind to the operations
// allowed on it, e.g. {"Container": {"Container View": []}}.
type Role struct {
	ID         string                         `json:"id" yaml:"id"`
	Name       string                         `json:"name,omitempty" yaml:"name,omitempty"`
	SystemRole bool                           `json:"systemRole,omitempty" yaml:"systemRole,omitempty"`
	Operations map[string]map[string][]string `json:"operations,omitempty" yaml:"operations,omitempty"`
}

// Collection is a Swarm collection. ParentIDs lists the ancestors' IDs.
type Collection struct {
	ID        string   `json:"id" yaml:"id"`
	Name      string   `json:"name,omitempty" yaml:"name,omitempty"`
	Path      string   `json:"path" yaml:"path"`
	ParentIDs []string `json:"parentIDs,omitempty" yaml:"parentIDs,omitempty"`
}

// Grant binds a subject to a role on an object. The subject is given either
// by SubjectID (an account or team ID) or by SubjectName: a user or org name,
// or "org/team" for a team. ObjectID is a collection ID,
// "kubernetesnamespaces", or a Kubernetes namespace name.
type Grant struct {
	SubjectID   string `json:"subjectID,omitempty" yaml:"subjectID,omitempty"`
	SubjectName string `json:"subjectName,omitempty" yaml:"subjectName,omitempty"`
	ObjectID    string `json:"objectID" yaml:"objectID"`
	RoleID      string `json:"roleID" yaml:"roleID"`
}

// LDAPConfig is the eNZi LDAP configuration. ReaderPassword may be seeded
// but is never served.
type LDAPConfig struct {
	ServerURL           string             `json:"serverURL,omitempty" yaml:"serverURL,omitempty"`
	NoSimplePagination  bool               `json:"noSimplePagination,omitempty" yaml:"noSimplePagination,omitempty"`
	StartTLS            bool               `json:"startTLS,omitempty" yaml:"startTLS,omitempty"`
	RootCerts           string             `json:"rootCerts,omitempty" yaml:"rootCerts,omitempty"`
	TLSSkipVerify       bool               `json:"tlsSkipVerify,omitempty" yaml:"tlsSkipVerify,omitempty"`
	ReaderDN            string             `json:"readerDN,omitempty" yaml:"readerDN,omitempty"`
	ReaderPassword      string             `json:"readerPassword,omitempty" yaml:"readerPassword,omitempty"`
	AdditionalDomains   []LDAPDomain       `json:"additionalDomains,omitempty" yaml:"additionalDomains,omitempty"`
	UserSearchConfigs   []LDAPSearchConfig `json:"userSearchConfigs,omitempty" yaml:"userSearchConfigs,omitempty"`
	AdminSyncOpts       LDAPAdminSyncOpts  `json:"adminSyncOpts" yaml:"adminSyncOpts,omitempty"`
	SyncSchedule        string             `json:"syncSchedule,omitempty" yaml:"syncSchedule,omitempty"`
	JITUserProvisioning bool               `json:"jitUserProvisioning,omitempty" yaml:"jitUserProvisioning,omitempty"`
}

// LDAPDomain is an additional LDAP domain. The API document lists
// additionalDomains without its element shape; eNZi's is a domain name plus
// its own server settings and search configs.
type LDAPDomain struct {
	Domain             string             `json:"domain" yaml:"domain"`
	ServerURL          string             `json:"serverURL,omitempty" yaml:"serverURL,omitempty"`
	NoSimplePagination bool               `json:"noSimplePagination,omitempty" yaml:"noSimplePagination,omitempty"`
	StartTLS           bool               `json:"startTLS,omitempty" yaml:"startTLS,omitempty"`
	RootCerts          string             `json:"rootCerts,omitempty" yaml:"rootCerts,omitempty"`
	TLSSkipVerify      bool               `json:"tlsSkipVerify,omitempty" yaml:"tlsSkipVerify,omitempty"`
	ReaderDN           string             `json:"readerDN,omitempty" yaml:"readerDN,omitempty"`
	ReaderPassword     string             `json:"readerPassword,omitempty" yaml:"readerPassword,omitempty"`
	UserSearchConfigs  []LDAPSearchConfig `json:"userSearchConfigs,omitempty" yaml:"userSearchConfigs,omitempty"`
}

// LDAPSearchConfig is one LDAP user search.
type LDAPSearchConfig struct {
	BaseDN               string `json:"baseDN" yaml:"baseDN"`
	ScopeSubtree         bool   `json:"scopeSubtree,omitempty" yaml:"scopeSubtree,omitempty"`
	UsernameAttr         string `json:"usernameAttr,omitempty" yaml:"usernameAttr,omitempty"`
	FullNameAttr         string `json:"fullNameAttr,omitempty" yaml:"fullNameAttr,omitempty"`
	Filter               string `json:"filter,omitempty" yaml:"filter,omitempty"`
	MatchGroup           bool   `json:"matchGroup,omitempty" yaml:"matchGroup,omitempty"`
	MatchGroupDN         string `json:"matchGroupDN,omitempty" yaml:"matchGroupDN,omitempty"`
	MatchGroupMemberAttr string `json:"matchGroupMemberAttr,omitempty" yaml:"matchGroupMemberAttr,omitempty"`
	MatchGroupIterate    bool   `json:"matchGroupIterate,omitempty" yaml:"matchGroupIterate,omitempty"`
}

// LDAPAdminSyncOpts selects the LDAP group whose members become MKE admins.
type LDAPAdminSyncOpts struct {
	EnableSync         bool   `json:"enableSync,omitempty" yaml:"enableSync,omitempty"`
	SelectGroupMembers bool   `json:"selectGroupMembers,omitempty" yaml:"selectGroupMembers,omitempty"`
	GroupDN            string `json:"groupDN,omitempty" yaml:"groupDN,omitempty"`
	GroupMemberAttr    string `json:"groupMemberAttr,omitempty" yaml:"groupMemberAttr,omitempty"`
	SearchBaseDN       string `json:"searchBaseDN,omitempty" yaml:"searchBaseDN,omitempty"`
	SearchScopeSubtree bool   `json:"searchScopeSubtree,omitempty" yaml:"searchScopeSubtree,omitempty"`
	SearchFilter       string `json:"searchFilter,omitempty" yaml:"searchFilter,omitempty"`
}

// BuiltinRoles returns MKE's five built-in Swarm roles, whose IDs equal
// their names as in MKE: none, viewonly, restrictedcontrol, scheduler,
// fullcontrol. A fresh copy each call, so callers may modify it.
func BuiltinRoles() []Role {
	view := map[string][]string{}
	ops := func(kinds map[string][]string) map[string]map[string][]string {
		out := make(map[string]map[string][]string, len(kinds))
		for kind, names := range kinds {
			m := make(map[string][]string, len(names))
			for _, n := range names {
				m[kind+" "+n] = []string{}
			}
			out[kind] = m
		}
		return out
	}
	kinds := []string{"Config", "Container", "Image", "Network", "Node", "Secret", "Service", "Volume"}
	for _, k := range kinds {
		view[k] = []string{"View"}
	}
	restricted := map[string][]string{}
	full := map[string][]string{}
	for _, k := range kinds {
		restricted[k] = []string{"View", "Create", "Update", "Delete"}
		full[k] = []string{"View", "Create", "Update", "Delete"}
	}
	full["Container"] = append(full["Container"], "Exec", "Attach", "Privileged")
	full["Node"] = append(full["Node"], "Schedule")
	return []Role{
		{ID: "none", Name: "None", SystemRole: true, Operations: map[string]map[string][]string{}},
		{ID: "viewonly", Name: "View Only", SystemRole: true, Operations: ops(view)},
		{ID: "restrictedcontrol", Name: "Restricted Control", SystemRole: true, Operations: ops(restricted)},
		{ID: "scheduler", Name: "Scheduler", SystemRole: true, Operations: ops(map[string][]string{"Node": {"View", "Schedule"}})},
		{ID: "fullcontrol", Name: "Full Control", SystemRole: true, Operations: ops(full)},
	}
}

// DefaultCollections returns the collections of a fresh MKE: the root
// ("swarm", path "/") with "/Shared" and "/System" under it.
func DefaultCollections() []Collection {
	return []Collection{
		{ID: "swarm", Name: "swarm", Path: "/"},
		{ID: "shared", Name: "Shared", Path: "/Shared", ParentIDs: []string{"swarm"}},
		{ID: "system", Name: "System", Path: "/System", ParentIDs: []string{"swarm"}},
	}
}

// AccountID is the ID a user or org gets when the seed gives none. It is a
// version-8 (custom) UUID computed from the name, so it is stable.
func AccountID(name string) string { return derivedID("account\x00" + name) }

// TeamID is the ID a team gets when the seed gives none.
func TeamID(org, team string) string { return derivedID("team\x00" + org + "\x00" + team) }

func derivedID(s string) string {
	h := sha256.Sum256([]byte("mke3api\x00" + s))
	h[6] = h[6]&0x0f | 0x80 // version 8: custom, RFC 9562
	h[8] = h[8]&0x3f | 0x80 // RFC 4122/9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// GenerateSeed builds a deterministic seed for load tests: users named
// user001…, orgs org001… with teamsPerOrg teams each (team001…), numbers
// zero-padded to the digits of the count (at least 3), so that name order is
// creation order (GenerateSeed(10000, …) starts at user00001). Every
// team having membersPerTeam consecutive users (the first one a team admin).
// Every 100th user is an admin and every 50th is inactive; each org gets a
// restrictedcontrol grant on /Shared and each team a viewonly grant on it.
// Negative counts are treated as zero.
func GenerateSeed(users, orgs, teamsPerOrg, membersPerTeam int) Seed {
	users, orgs, teamsPerOrg, membersPerTeam = max(users, 0), max(orgs, 0), max(teamsPerOrg, 0), max(membersPerTeam, 0)
	membersPerTeam = min(membersPerTeam, users)
	width := func(n int) int { return max(len(strconv.Itoa(n)), 3) }
	uw, ow, tw := width(users), width(orgs), width(teamsPerOrg)
	userName := func(i int) string { return fmt.Sprintf("user%0*d", uw, i+1) }

	s := Seed{Users: make([]User, users), Orgs: make([]Org, orgs)}
	for i := range s.Users {
		u := User{Name: userName(i), FullName: fmt.Sprintf("User %d", i+1)}
		u.IsAdmin = (i+1)%100 == 0
		if (i+1)%50 == 0 {
			u.IsActive = new(false)
		}
		s.Users[i] = u
	}
	next := 0
	for o := range s.Orgs {
		org := Org{Name: fmt.Sprintf("org%0*d", ow, o+1), FullName: fmt.Sprintf("Organization %d", o+1)}
		org.Teams = make([]Team, teamsPerOrg)
		for t := range org.Teams {
			team := Team{Name: fmt.Sprintf("team%0*d", tw, t+1), Description: fmt.Sprintf("team %d of %s", t+1, org.Name)}
			team.Members = make([]TeamMember, membersPerTeam)
			for m := range team.Members {
				team.Members[m] = TeamMember{Name: userName(next % users), IsAdmin: m == 0}
				next++
			}
			org.Teams[t] = team
			s.Grants = append(s.Grants, Grant{SubjectName: org.Name + "/" + team.Name, ObjectID: "shared", RoleID: "viewonly"})
		}
		s.Orgs[o] = org
		s.Grants = append(s.Grants, Grant{SubjectName: org.Name, ObjectID: "shared", RoleID: "restrictedcontrol"})
	}
	return s
}

// SeedError is one problem in a seed. File and Line are set when the seed
// came from LoadSeed or ParseSeed (Line is 0 when unknown); Path is the
// field, like "orgs[0].teams[1].members[2].name".
type SeedError struct {
	File string
	Line int
	Path string
	Msg  string
	// Err is the underlying decoder error, if any.
	Err error
}

func (e *SeedError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *SeedError) Unwrap() error { return e.Err }

// LoadSeed reads a YAML seed file strictly: unknown fields, duplicate keys,
// wrong types, several documents and inconsistent content (a team member
// who is not a user, a grant to an unknown role, ...) are errors. Each
// problem is a *SeedError naming the file and line.
func LoadSeed(path string) (Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("mke3api: load seed: %w", err)
	}
	return ParseSeed(path, data)
}

// ParseSeed is LoadSeed for data already in memory; name is used in errors.
func ParseSeed(name string, data []byte) (Seed, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Seed{}, &SeedError{File: name, Msg: "empty seed"}
		}
		return Seed{}, yamlErrors(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		// extra.Line is the line of the "---" that starts the second document.
		return Seed{}, &SeedError{File: name, Line: extra.Line, Msg: "more than one YAML document"}
	case !errors.Is(err, io.EOF):
		return Seed{}, yamlErrors(name, err)
	}
	if len(root.Content) == 0 || root.Content[0].Tag == "!!null" {
		return Seed{}, &SeedError{File: name, Line: root.Line, Msg: "empty seed"}
	}

	// The node tree has no strict mode, so decode the bytes again for the
	// typed value; the tree is kept to put line numbers on semantic errors.
	var s Seed
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&s); err != nil {
		return Seed{}, yamlErrors(name, err)
	}
	if issues := validateSeed(&s); len(issues) > 0 {
		errs := make([]error, len(issues))
		for i, is := range issues {
			errs[i] = &SeedError{File: name, Line: is.line(root.Content[0]), Path: is.pathString(), Msg: strings.ReplaceAll(is.msg, "\n", `\n`)}
		}
		return Seed{}, errors.Join(errs...)
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlErrors turns the decoder's "yaml: line N: msg" texts into SeedErrors
// so that every message starts with file:line like the rest of the project.
func yamlErrors(name string, err error) error {
	toSeedErr := func(text string) *SeedError {
		// A message may quote a multi-line value; keep one error per line.
		text = strings.ReplaceAll(strings.TrimSpace(text), "\n", `\n`)
		if m := yamlLineRE.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			return &SeedError{File: name, Line: n, Msg: m[2], Err: err}
		}
		return &SeedError{File: name, Msg: strings.TrimPrefix(text, "yaml: "), Err: err}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		errs := make([]error, len(te.Errors))
		for i, text := range te.Errors {
			errs[i] = toSeedErr(text)
		}
		return errors.Join(errs...)
	}
	return toSeedErr(err.Error())
}

// issue is a semantic problem at a path of the seed (keys and indexes).
type issue struct {
	path []any
	msg  string
	// tomlLine is the line inside configTOML, added to the YAML line of a
	// block scalar so that the error points at the offending TOML line.
	tomlLine int
}

func (is issue) pathString() string {
	var b strings.Builder
	for _, p := range is.path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// line finds the YAML line of the issue's path, or of its deepest existing
// ancestor when the field itself is absent (a missing name, say).
func (is issue) line(n *yaml.Node) int {
	line := n.Line
	for _, p := range is.path {
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	if is.tomlLine > 0 && (n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle) {
		return n.Line + is.tomlLine
	}
	return line
}

// validateSeed checks a seed's consistency; New and ParseSeed share it so
// that a seed that loads always starts.
func validateSeed(s *Seed) []issue {
	var out []issue
	add := func(msg string, path ...any) { out = append(out, issue{path: path, msg: msg}) }
	if s.Version != "" && !versionRE.MatchString(s.Version) {
		add(fmt.Sprintf("%q is not a version like 3.8.8", s.Version), "version")
	}
	if s.Admin.Username != "" {
		if msg := checkName(s.Admin.Username); msg != "" {
			add(msg, "admin", "username")
		}
	}
	accounts := map[string][]any{} // name → path of first definition
	ids := map[string][]any{}
	// claim records a unique key; a clash is reported once, at the later
	// definition.
	claim := func(seen map[string][]any, key, what string, path ...any) bool {
		if prev, ok := seen[key]; ok {
			add(fmt.Sprintf("duplicate %s %q (also at %s)", what, key, issue{path: prev}.pathString()), path...)
			return false
		}
		seen[key] = path
		return true
	}
	users := map[string]*User{}
	for i := range s.Users {
		u := &s.Users[i]
		nameOK := false
		if msg := checkName(u.Name); msg != "" {
			add(msg, "users", i, "name")
		} else if nameOK = claim(accounts, u.Name, "account name", "users", i, "name"); nameOK {
			users[u.Name] = u
		}
		if u.ID != "" {
			if msg := checkID(u.ID); msg != "" {
				add(msg, "users", i, "id")
			} else {
				claim(ids, u.ID, "ID", "users", i, "id")
			}
		} else if nameOK {
			// Derived IDs only collide with explicit ones (names are unique).
			claim(ids, AccountID(u.Name), "ID", "users", i, "name")
		}
		if u.Name == adminName(s) {
			if !u.IsAdmin {
				add("the admin account must have isAdmin: true", "users", i, "isAdmin")
			}
			if u.IsActive != nil && !*u.IsActive {
				add("the admin account must be active", "users", i, "isActive")
			}
			if u.Password != "" && u.Password != adminPassword(s) {
				add("the admin account's password differs from admin.password", "users", i, "password")
			}
		}
	}
	if _, ok := users[adminName(s)]; !ok {
		// The admin is added as a user by New; reserve its name and ID.
		claim(accounts, adminName(s), "account name", "admin", "username")
		claim(ids, AccountID(adminName(s)), "ID", "admin", "username")
	}
	teamIDs := map[string][]any{}
	orgTeams := map[string]map[string]bool{}
	for i := range s.Orgs {
		o := &s.Orgs[i]
		nameOK := false
		if msg := checkName(o.Name); msg != "" {
			add(msg, "orgs", i, "name")
		} else {
			nameOK = claim(accounts, o.Name, "account name", "orgs", i, "name")
		}
		if o.ID != "" {
			if msg := checkID(o.ID); msg != "" {
				add(msg, "orgs", i, "id")
			} else {
				claim(ids, o.ID, "ID", "orgs", i, "id")
			}
		} else if nameOK {
			claim(ids, AccountID(o.Name), "ID", "orgs", i, "name")
		}
		teamNames := map[string][]any{}
		orgTeams[o.Name] = map[string]bool{}
		for j := range o.Teams {
			t := &o.Teams[j]
			orgTeams[o.Name][t.Name] = true
			teamOK := false
			if msg := checkName(t.Name); msg != "" {
				add(msg, "orgs", i, "teams", j, "name")
			} else {
				teamOK = claim(teamNames, t.Name, "team name", "orgs", i, "teams", j, "name")
			}
			if t.ID != "" {
				if msg := checkID(t.ID); msg != "" {
					add(msg, "orgs", i, "teams", j, "id")
				} else {
					claim(teamIDs, t.ID, "team ID", "orgs", i, "teams", j, "id")
				}
			} else if teamOK && nameOK {
				claim(teamIDs, TeamID(o.Name, t.Name), "team ID", "orgs", i, "teams", j, "name")
			}
			members := map[string][]any{}
			for k, m := range t.Members {
				p := []any{"orgs", i, "teams", j, "members", k, "name"}
				if _, ok := users[m.Name]; !ok && m.Name != adminName(s) {
					add(fmt.Sprintf("%q is not a user", m.Name), p...)
					continue
				}
				claim(members, m.Name, "member", p...)
			}
		}
	}
	roles := map[string]bool{}
	for i, r := range s.Roles {
		if msg := checkID(r.ID); msg != "" {
			add(msg, "roles", i, "id")
		}
		if roles[r.ID] {
			add(fmt.Sprintf("duplicate role ID %q", r.ID), "roles", i, "id")
		}
		roles[r.ID] = true
	}
	if len(s.Roles) == 0 {
		for _, r := range BuiltinRoles() {
			roles[r.ID] = true
		}
	}
	colls := map[string]bool{}
	paths := map[string]bool{}
	for i, c := range s.Collections {
		if msg := checkID(c.ID); msg != "" {
			add(msg, "collections", i, "id")
		} else if colls[c.ID] {
			add(fmt.Sprintf("duplicate collection ID %q", c.ID), "collections", i, "id")
		}
		colls[c.ID] = true
		switch {
		case !strings.HasPrefix(c.Path, "/") || (c.Path != "/" && strings.HasSuffix(c.Path, "/")) || strings.Contains(c.Path, "//"):
			add(fmt.Sprintf("path %q must be absolute, like /Shared/team", c.Path), "collections", i, "path")
		case paths[c.Path]:
			add(fmt.Sprintf("duplicate collection path %q", c.Path), "collections", i, "path")
		}
		paths[c.Path] = true
	}
	for i, c := range s.Collections {
		for j, p := range c.ParentIDs {
			if !colls[p] {
				add(fmt.Sprintf("unknown parent collection %q", p), "collections", i, "parentIDs", j)
			}
		}
	}
	for i, g := range s.Grants {
		switch {
		case (g.SubjectID == "") == (g.SubjectName == ""):
			add("exactly one of subjectID and subjectName is required", "grants", i)
		case g.SubjectID != "":
			_, isAccount := ids[g.SubjectID]
			_, isTeam := teamIDs[g.SubjectID]
			if !isAccount && !isTeam {
				add(fmt.Sprintf("no account or team has ID %q", g.SubjectID), "grants", i, "subjectID")
			}
		default:
			org, team, isTeam := strings.Cut(g.SubjectName, "/")
			if _, ok := accounts[org]; !ok || (isTeam && !orgTeams[org][team]) {
				add(fmt.Sprintf("no user, org or org/team is named %q", g.SubjectName), "grants", i, "subjectName")
			}
		}
		if msg := checkID(g.ObjectID); msg != "" {
			add("objectID: "+msg, "grants", i, "objectID")
		}
		if !roles[g.RoleID] {
			add(fmt.Sprintf("unknown role %q", g.RoleID), "grants", i, "roleID")
		}
	}
	if s.Swarm != nil {
		out = append(out, validateSwarm(s.Swarm)...)
	}
	if s.ConfigTOML != "" {
		if _, err := parseConfigTOML(s.ConfigTOML); err != nil {
			is := issue{path: []any{"configTOML"}, msg: err.Error()}
			var ce *configError
			if errors.As(err, &ce) {
				is.tomlLine = ce.line
			}
			out = append(out, is)
		}
	}
	return out
}

var (
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.+-]+)?$`)
	idRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

// checkName enforces what a name must be to be usable in a request path
// and as a paging key: eNZi's own rules are stricter, this only keeps the
// simulator's URLs and start values unambiguous.
func checkName(name string) string {
	switch {
	case name == "":
		return "name is required"
	case len(name) > 100:
		return "name is longer than 100 bytes"
	case strings.HasPrefix(name, "id:"):
		return fmt.Sprintf("name %q starts with id:, which is reserved for ID references", name)
	case name == "." || name == "..":
		return fmt.Sprintf("name %q is not allowed", name)
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f || r == '/' || r == '?' || r == '#' || r == '%' || r == '\\' || r == 0xfffd {
			return fmt.Sprintf("name %q contains %q", name, r)
		}
	}
	return ""
}

func checkID(id string) string {
	if !idRE.MatchString(id) {
		return fmt.Sprintf("ID %q must be 1-128 letters, digits, '.', '_', ':' or '-'", id)
	}
	return ""
}

func adminName(s *Seed) string {
	if s.Admin.Username != "" {
		return s.Admin.Username
	}
	return DefaultAdminUsername
}

func adminPassword(s *Seed) string {
	if s.Admin.Password != "" {
		return s.Admin.Password
	}
	return DefaultAdminPassword
}
