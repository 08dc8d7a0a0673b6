package mke3

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// Account is an eNZi user or organization.
type Account struct {
	Name         string `json:"name"`
	ID           string `json:"id"`
	FullName     string `json:"fullName,omitempty"`
	IsActive     bool   `json:"isActive"`
	IsAdmin      bool   `json:"isAdmin"`
	IsOrg        bool   `json:"isOrg"`
	IsImported   bool   `json:"isImported"`
	OnDemand     bool   `json:"onDemand"`
	OTPEnabled   bool   `json:"otpEnabled"`
	MembersCount int    `json:"membersCount,omitempty"`
	TeamsCount   int    `json:"teamsCount,omitempty"`
}

// Team is a team of an organization.
type Team struct {
	ID           string `json:"id"`
	OrgID        string `json:"orgID"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	MembersCount int    `json:"membersCount"`
}

// Member is a member of a team.
type Member struct {
	IsAdmin  bool    `json:"isAdmin"`
	IsPublic bool    `json:"isPublic"`
	Member   Account `json:"member"`
}

// AccountFilter selects the accounts Accounts lists. The zero value lists
// all accounts.
type AccountFilter string

// Account filters understood by MKE 3.
const (
	AccountsAll           AccountFilter = "all"
	AccountsUsers         AccountFilter = "users"
	AccountsOrgs          AccountFilter = "orgs"
	AccountsAdmins        AccountFilter = "admins"
	AccountsNonAdmins     AccountFilter = "non-admins"
	AccountsActiveUsers   AccountFilter = "active-users"
	AccountsInactiveUsers AccountFilter = "inactive-users"
)

// MemberFilter selects the team members TeamMembers lists. The zero value
// lists all members.
type MemberFilter string

// Member filters understood by MKE 3.
const (
	MembersAll       MemberFilter = "all"
	MembersAdmins    MemberFilter = "admins"
	MembersNonAdmins MemberFilter = "non-admins"
)

// IDRef makes an account reference from an account ID, for Account and the
// org arguments of Teams and TeamMembers: "id:" + id.
func IDRef(id string) string { return "id:" + id }

const (
	pathAccounts = "/enzi/v0/accounts"
	pathLDAP     = "/enzi/v0/config/auth/ldap"
)

// segment escapes one path element (an account, org or team reference).
func segment(what, s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("mke3: empty %s", what)
	case s == "." || s == "..":
		return "", fmt.Errorf("mke3: %s %q is not a name", what, s)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", fmt.Errorf("mke3: %s contains control characters", what)
	}
	return url.PathEscape(s), nil
}

// Accounts lists the accounts that match filter, following the pages. The
// iterator yields each account, or a single error that ends it.
func (c *Client) Accounts(ctx context.Context, filter AccountFilter) iter.Seq2[Account, error] {
	switch filter {
	case "":
		filter = AccountsAll
	case AccountsAll, AccountsUsers, AccountsOrgs, AccountsAdmins, AccountsNonAdmins, AccountsActiveUsers, AccountsInactiveUsers:
	default:
		return failed[Account](fmt.Errorf("mke3: unknown account filter %q", string(filter)))
	}
	q := url.Values{"filter": {string(filter)}}
	return pagedItems(ctx, c, pathAccounts, q, `a JSON object with "accounts"`, decodeAccountsPage)
}

// ListAccounts returns every account that matches filter, or the error.
func (c *Client) ListAccounts(ctx context.Context, filter AccountFilter) ([]Account, error) {
	return collect(c.Accounts(ctx, filter))
}

// decodeAccountsPage decodes a page of GET /enzi/v0/accounts.
func decodeAccountsPage(body []byte) ([]Account, string, error) {
	return decodeListPage[Account](body, "accounts")
}

// decodeListPage decodes an eNZi list page {"<field>": [...],
// "nextPageStart": "..."}. A null list is an empty page; a missing one is
// an error (the answer is not the list that was asked for).
func decodeListPage[T any](body []byte, field string) ([]T, string, error) {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, "", err
	}
	raw, ok := page[field]
	if !ok {
		return nil, "", &shapeError{msg: fmt.Sprintf("no %q field", field)}
	}
	var items []T
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, "", err
	}
	var next string
	if rawNext, ok := page["nextPageStart"]; ok {
		if err := json.Unmarshal(rawNext, &next); err != nil {
			return nil, "", err
		}
	}
	return items, next, nil
}

// Account returns one account by name, or by ID through IDRef.
func (c *Client) Account(ctx context.Context, ref string) (Account, error) {
	seg, err := segment("account reference", ref)
	if err != nil {
		return Account{}, err
	}
	return getJSON[Account](ctx, c, pathAccounts+"/"+seg, "an account object")
}

// Teams lists the teams of an organization (a name, or IDRef(id)).
func (c *Client) Teams(ctx context.Context, org string) iter.Seq2[Team, error] {
	seg, err := segment("organization", org)
	if err != nil {
		return failed[Team](err)
	}
	return pagedItems(ctx, c, pathAccounts+"/"+seg+"/teams", nil, `a JSON object with "teams"`, decodeTeamsPage)
}

// ListTeams returns every team of an organization, or the error.
func (c *Client) ListTeams(ctx context.Context, org string) ([]Team, error) {
	return collect(c.Teams(ctx, org))
}

func decodeTeamsPage(body []byte) ([]Team, string, error) {
	return decodeListPage[Team](body, "teams")
}

// TeamMembers lists the members of a team that match filter.
func (c *Client) TeamMembers(ctx context.Context, org, team string, filter MemberFilter) iter.Seq2[Member, error] {
	orgSeg, err := segment("organization", org)
	if err != nil {
		return failed[Member](err)
	}
	teamSeg, err := segment("team", team)
	if err != nil {
		return failed[Member](err)
	}
	switch filter {
	case "":
		filter = MembersAll
	case MembersAll, MembersAdmins, MembersNonAdmins:
	default:
		return failed[Member](fmt.Errorf("mke3: unknown member filter %q", string(filter)))
	}
	q := url.Values{"filter": {string(filter)}}
	path := pathAccounts + "/" + orgSeg + "/teams/" + teamSeg + "/members"
	return pagedItems(ctx, c, path, q, `a JSON object with "members"`, decodeMembersPage)
}

// ListTeamMembers returns every member of a team that matches filter, or
// the error.
func (c *Client) ListTeamMembers(ctx context.Context, org, team string, filter MemberFilter) ([]Member, error) {
	return collect(c.TeamMembers(ctx, org, team, filter))
}

func decodeMembersPage(body []byte) ([]Member, string, error) {
	return decodeListPage[Member](body, "members")
}

// LDAPConfig is the eNZi LDAP configuration. ServerURL is empty when LDAP
// is not configured. The reader password is write-only in MKE and so is not
// here.
type LDAPConfig struct {
	ServerURL           string            `json:"serverURL"`
	NoSimplePagination  bool              `json:"noSimplePagination"`
	StartTLS            bool              `json:"startTLS"`
	RootCerts           string            `json:"rootCerts"`
	TLSSkipVerify       bool              `json:"tlsSkipVerify"`
	ReaderDN            string            `json:"readerDN"`
	AdditionalDomains   []LDAPDomain      `json:"additionalDomains"`
	UserSearchConfigs   []LDAPUserSearch  `json:"userSearchConfigs"`
	AdminSyncOpts       LDAPAdminSyncOpts `json:"adminSyncOpts"`
	SyncSchedule        string            `json:"syncSchedule"`
	JITUserProvisioning bool              `json:"jitUserProvisioning"`
}

// LDAPDomain is an additional LDAP domain: the server settings used for
// users whose domain is Domain. Its shape is not published; these are the
// fields of the primary server that eNZi repeats per domain.
type LDAPDomain struct {
	Domain             string `json:"domain"`
	ServerURL          string `json:"serverURL"`
	NoSimplePagination bool   `json:"noSimplePagination"`
	StartTLS           bool   `json:"startTLS"`
	RootCerts          string `json:"rootCerts"`
	TLSSkipVerify      bool   `json:"tlsSkipVerify"`
	ReaderDN           string `json:"readerDN"`
}

// LDAPUserSearch is one user search of the LDAP configuration.
type LDAPUserSearch struct {
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

// LDAPAdminSyncOpts says how MKE admins are synchronised from LDAP.
type LDAPAdminSyncOpts struct {
	EnableSync         bool   `json:"enableSync"`
	SelectGroupMembers bool   `json:"selectGroupMembers"`
	GroupDN            string `json:"groupDN"`
	GroupMemberAttr    string `json:"groupMemberAttr"`
	SearchBaseDN       string `json:"searchBaseDN"`
	SearchScopeSubtree bool   `json:"searchScopeSubtree"`
	SearchFilter       string `json:"searchFilter"`
}

// LDAPConfig returns the LDAP configuration (GET /enzi/v0/config/auth/ldap).
func (c *Client) LDAPConfig(ctx context.Context) (LDAPConfig, error) {
	return getJSON[LDAPConfig](ctx, c, pathLDAP, "an LDAP settings object")
}

// get is an authenticated JSON GET.
func (c *Client) get(ctx context.Context, path string) (*response, error) {
	return c.do(ctx, &request{
		method:     http.MethodGet,
		path:       path,
		accept:     "application/json",
		auth:       true,
		replayable: true,
	})
}
