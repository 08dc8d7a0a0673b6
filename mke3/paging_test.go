package mke3

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPage is one page of a scripted list.
type testPage struct {
	names []string
	next  string
}

// pager serves scripted pages keyed by the start query value; via says
// where the next start goes: "header", "body" or "both".
type pager struct {
	mu     sync.Mutex
	pages  map[string]testPage
	via    string
	field  string // list field; "" for a bare array
	starts []string
	limits []string
	query  []string
}

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.starts = append(p.starts, q.Get("start"))
	p.limits = append(p.limits, q.Get("limit"))
	p.query = append(p.query, r.URL.RawQuery)
	p.mu.Unlock()
	pg, ok := p.pages[q.Get("start")]
	if !ok {
		writeEnvelope(w, http.StatusBadRequest, "INVALID_INPUT", "unknown start")
		return
	}
	items := []map[string]any{}
	for _, n := range pg.names {
		items = append(items, map[string]any{"name": n, "id": "id-" + n})
	}
	if p.via == "header" || p.via == "both" {
		w.Header().Set(headerNextPageStart, pg.next)
	}
	if p.field == "" {
		writeJSON(w, http.StatusOK, items)
		return
	}
	body := map[string]any{p.field: items}
	if p.via == "body" || p.via == "both" {
		body["nextPageStart"] = pg.next
	}
	writeJSON(w, http.StatusOK, body)
}

func (p *pager) startsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.starts...)
}

func scripted(n int) map[string]testPage {
	pages := map[string]testPage{}
	start := ""
	for i := range n {
		next := ""
		if i < n-1 {
			next = fmt.Sprintf("u%02d", 2*(i+1))
		}
		pages[start] = testPage{names: []string{fmt.Sprintf("u%02d", 2*i), fmt.Sprintf("u%02d", 2*i+1)}, next: next}
		start = next
	}
	return pages
}

func TestAccountsPaging(t *testing.T) {
	for _, via := range []string{"header", "body", "both"} {
		for _, n := range []int{1, 2, 7} {
			t.Run(fmt.Sprintf("%s/%d", via, n), func(t *testing.T) {
				f := newFake(t)
				p := &pager{pages: scripted(n), via: via, field: "accounts"}
				f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
				c, logs := f.client(func(o *Options) { o.PageSize = 2 })
				got, err := c.ListAccounts(testCtx(t), AccountsUsers)
				require.NoError(t, err)
				require.Len(t, got, 2*n)
				for i, a := range got {
					assert.Equal(t, fmt.Sprintf("u%02d", i), a.Name)
					assert.Equal(t, "id-"+a.Name, a.ID)
				}
				starts := p.startsSeen()
				require.Len(t, starts, n)
				assert.Equal(t, "", starts[0])
				for _, l := range p.limits {
					assert.Equal(t, "2", l)
				}
				for _, q := range p.query {
					assert.Contains(t, q, "filter=users")
				}
				assert.Contains(t, logs.String(), fmt.Sprintf("pages=%d", n))
			})
		}
	}
}

func TestHeaderWinsOverBody(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerNextPageStart, "") // last page, says the header
		writeJSON(w, http.StatusOK, map[string]any{"accounts": []Account{{Name: "a"}}, "nextPageStart": "b"})
	})
	c, _ := f.client()
	got, err := c.ListAccounts(testCtx(t), "")
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Equal(t, 1, f.count("GET /enzi/v0/accounts"))
}

func TestDefaultPageSizeAndFilter(t *testing.T) {
	f := newFake(t)
	p := &pager{pages: scripted(1), via: "header", field: "accounts"}
	f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
	c, _ := f.client()
	_, err := c.ListAccounts(testCtx(t), "")
	require.NoError(t, err)
	assert.Equal(t, []string{"500"}, p.limits)
	assert.Contains(t, p.query[0], "filter=all")
}

func TestRepeatedStart(t *testing.T) {
	for name, pages := range map[string]map[string]testPage{
		"same page":     {"": {names: []string{"a"}, next: "b"}, "b": {names: []string{"b"}, next: "b"}},
		"earlier start": {"": {names: []string{"a"}, next: "b"}, "b": {names: []string{"b"}, next: "c"}, "c": {names: []string{"c"}, next: "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			p := &pager{pages: pages, via: "header", field: "accounts"}
			f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
			c, _ := f.client()
			got, err := c.ListAccounts(testCtx(t), "")
			require.ErrorIs(t, err, ErrRepeatedPage)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), "GET /enzi/v0/accounts:")
			assert.NotContains(t, err.Error(), "?")

			// The iterator yields the items it got, then the error.
			var names []string
			var iterErr error
			for a, err := range c.Accounts(testCtx(t), "") {
				if err != nil {
					iterErr = err
					break
				}
				names = append(names, a.Name)
			}
			assert.ErrorIs(t, iterErr, ErrRepeatedPage)
			assert.NotEmpty(t, names)
		})
	}
}

func TestEmptyPagesLoop(t *testing.T) {
	t.Run("two empty pages in a row", func(t *testing.T) {
		f := newFake(t)
		p := &pager{via: "header", field: "accounts", pages: map[string]testPage{
			"": {next: "b"}, "b": {next: "c"}, "c": {names: []string{"c"}},
		}}
		f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
		c, _ := f.client()
		_, err := c.ListAccounts(testCtx(t), "")
		require.ErrorIs(t, err, ErrRepeatedPage)
		assert.Len(t, p.startsSeen(), 2)
	})
	t.Run("one empty page is tolerated", func(t *testing.T) {
		f := newFake(t)
		p := &pager{via: "header", field: "accounts", pages: map[string]testPage{
			"": {next: "b"}, "b": {names: []string{"b"}, next: "c"}, "c": {next: "d"}, "d": {names: []string{"d"}},
		}}
		f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
		c, _ := f.client()
		got, err := c.ListAccounts(testCtx(t), "")
		require.NoError(t, err)
		assert.Len(t, got, 2)
	})
}

func TestConsumerBreak(t *testing.T) {
	f := newFake(t)
	p := &pager{pages: scripted(3), via: "header", field: "accounts"}
	f.handle("GET /enzi/v0/accounts", p.ServeHTTP)
	c, _ := f.client()
	n := 0
	for a, err := range c.Accounts(testCtx(t), "") {
		require.NoError(t, err)
		n++
		if a.Name == "u02" { // first item of page 2
			break
		}
	}
	assert.Equal(t, 3, n)
	assert.Len(t, p.startsSeen(), 2, "no page is fetched after the break")

	// Breaking on the last item of a page fetches nothing more either.
	p2 := &pager{pages: scripted(3), via: "header", field: "accounts"}
	f2 := newFake(t)
	f2.handle("GET /enzi/v0/accounts", p2.ServeHTTP)
	c2, _ := f2.client()
	for range c2.Accounts(testCtx(t), "") {
		break
	}
	assert.Len(t, p2.startsSeen(), 1)
}

func TestNullAndMissingList(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("filter") == "orgs" {
			_, _ = w.Write([]byte(`{"accounts": null, "usersCount": 0}`))
			return
		}
		_, _ = w.Write([]byte(`{"users": []}`))
	})
	c, _ := f.client()
	got, err := c.ListAccounts(testCtx(t), AccountsOrgs)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = c.ListAccounts(testCtx(t), AccountsUsers)
	require.Error(t, err)
	assert.Equal(t, `mke3: GET /enzi/v0/accounts: decoding the answer: expected a JSON object with "accounts": no "accounts" field`, err.Error())
}

func TestUnknownFilters(t *testing.T) {
	f := newFake(t)
	c, _ := f.client()
	_, err := c.ListAccounts(testCtx(t), "everyone")
	assert.ErrorContains(t, err, `unknown account filter "everyone"`)
	_, err = c.ListTeamMembers(testCtx(t), "org", "team", "owners")
	assert.ErrorContains(t, err, `unknown member filter "owners"`)
	_, err = c.ListTeams(testCtx(t), "")
	assert.ErrorContains(t, err, "empty organization")
	_, err = c.ListTeamMembers(testCtx(t), "org", "..", "")
	assert.ErrorContains(t, err, "not a name")
	assert.Equal(t, 0, f.loginCount(), "nothing was sent")
}

func TestTeamsAndMembers(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts/{org}/teams", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "eng ops", r.PathValue("org"))
		if r.URL.Query().Get("start") == "" {
			w.Header().Set(headerNextPageStart, "t2")
			writeJSON(w, http.StatusOK, map[string]any{"teams": []Team{{ID: "1", OrgID: "o", Name: "t1", MembersCount: 2}}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"teams": []Team{{ID: "2", OrgID: "o", Name: "t2"}}})
	})
	var memberQuery string
	f.handle("GET /enzi/v0/accounts/{org}/teams/{team}/members", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "id:o1", r.PathValue("org"))
		assert.Equal(t, "t/1", r.PathValue("team"))
		memberQuery = r.URL.RawQuery
		writeJSON(w, http.StatusOK, map[string]any{"members": []Member{
			{IsAdmin: true, Member: Account{Name: "alice", ID: "a1"}},
			{IsPublic: true, Member: Account{Name: "bob", ID: "b1"}},
		}})
	})
	c, _ := f.client()
	ctx := testCtx(t)
	teams, err := c.ListTeams(ctx, "eng ops")
	require.NoError(t, err)
	assert.Equal(t, []Team{{ID: "1", OrgID: "o", Name: "t1", MembersCount: 2}, {ID: "2", OrgID: "o", Name: "t2"}}, teams)

	members, err := c.ListTeamMembers(ctx, IDRef("o1"), "t/1", MembersAdmins)
	require.NoError(t, err)
	require.Len(t, members, 2)
	assert.True(t, members[0].IsAdmin)
	assert.Equal(t, "alice", members[0].Member.Name)
	assert.True(t, members[1].IsPublic)
	assert.Contains(t, memberQuery, "filter=admins")

	// The escaped path is what the server got and what errors show.
	uris := strings.Join(f.requestURIs(), "\n")
	assert.Contains(t, uris, "/enzi/v0/accounts/eng%20ops/teams?")
	assert.Contains(t, uris, "/enzi/v0/accounts/id:o1/teams/t%2F1/members?")
}

func TestCollectionsPaging(t *testing.T) {
	f := newFake(t)
	p := &pager{pages: scripted(3), via: "header"}
	f.handle("GET /collections", p.ServeHTTP)
	c, _ := f.client()
	got, err := c.ListCollections(testCtx(t))
	require.NoError(t, err)
	require.Len(t, got, 6)
	assert.Equal(t, "u05", got[5].Name)
}

func TestGrantsMerged(t *testing.T) {
	f := newFake(t)
	var queries []string
	f.handle("GET /collectionGrants", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		alice := map[string]any{"id": "a1", "subject_type": "user", "account": map[string]any{"name": "alice", "id": "a1"}}
		team := map[string]any{"id": "t1", "subject_type": "team"}
		switch r.URL.Query().Get("start") {
		case "":
			w.Header().Set(headerNextPageStart, "p2")
			writeJSON(w, http.StatusOK, map[string]any{
				"grants":   []Grant{{SubjectID: "a1", ObjectID: "swarm", RoleID: "fullcontrol"}},
				"subjects": []any{alice},
			})
		default:
			writeJSON(w, http.StatusOK, map[string]any{
				"grants": []Grant{
					{SubjectID: "a1", ObjectID: "kubernetesnamespaces", RoleID: "viewonly"},
					{SubjectID: "t1", ObjectID: "default", RoleID: "restrictedcontrol"},
				},
				"subjects": []any{alice, team},
			})
		}
	})
	c, _ := f.client()
	g, err := c.Grants(testCtx(t))
	require.NoError(t, err)
	assert.Len(t, g.Grants, 3)
	require.Len(t, g.Subjects, 2)
	assert.Equal(t, "alice", g.Subjects[0].Account.Name)
	assert.Nil(t, g.Subjects[1].Account)
	require.Len(t, queries, 2)
	for _, q := range queries {
		assert.Contains(t, q, "subjectType=all")
		assert.Contains(t, q, "expandUser=false")
		assert.Contains(t, q, "showPaths=false")
	}
	assert.Contains(t, queries[1], "start=p2")
}

func TestRolesAndLDAP(t *testing.T) {
	f := newFake(t)
	f.handle("GET /roles", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id":"fullcontrol","name":"Full Control","system_role":true,"operations":{"Container":{"Create":{}}}},
			{"id":"c1","name":"custom","system_role":false}]`))
	})
	f.handle("GET /enzi/v0/config/auth/ldap", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"serverURL":"ldaps://ldap.example.com","startTLS":false,"readerDN":"cn=reader",
			"additionalDomains":[{"domain":"other.example.com","serverURL":"ldaps://other"}],
			"userSearchConfigs":[{"baseDN":"ou=people","scopeSubtree":true,"usernameAttr":"uid","filter":"(objectClass=person)"}],
			"adminSyncOpts":{"enableSync":true,"groupDN":"cn=admins"},"syncSchedule":"@hourly","jitUserProvisioning":true}`))
	})
	c, _ := f.client()
	ctx := testCtx(t)
	roles, err := c.Roles(ctx)
	require.NoError(t, err)
	require.Len(t, roles, 2)
	assert.True(t, roles[0].SystemRole)
	assert.JSONEq(t, `{"Container":{"Create":{}}}`, string(roles[0].Operations))

	l, err := c.LDAPConfig(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ldaps://ldap.example.com", l.ServerURL)
	assert.Equal(t, "other.example.com", l.AdditionalDomains[0].Domain)
	assert.Equal(t, "uid", l.UserSearchConfigs[0].UsernameAttr)
	assert.True(t, l.AdminSyncOpts.EnableSync)
	assert.True(t, l.JITUserProvisioning)
}

func TestAccountByRef(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts/{ref}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("ref") {
		case "alice", "id:a1":
			writeJSON(w, http.StatusOK, Account{Name: "alice", ID: "a1", IsActive: true})
		default:
			writeEnvelope(w, http.StatusNotFound, "NO_SUCH_ACCOUNT", "no such account")
		}
	})
	c, _ := f.client()
	ctx := testCtx(t)
	a, err := c.Account(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "a1", a.ID)
	a, err = c.Account(ctx, IDRef("a1"))
	require.NoError(t, err)
	assert.Equal(t, "alice", a.Name)

	_, err = c.Account(ctx, "nobody")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "mke3: GET /enzi/v0/accounts/nobody: 404 NO_SUCH_ACCOUNT: no such account", err.Error())
	_, err = c.Account(ctx, "")
	require.Error(t, err)
}

func TestAccountJSONRoundTrip(t *testing.T) {
	in := `{"name":"o","id":"1","fullName":"Org","isActive":true,"isAdmin":false,"isOrg":true,"isImported":true,"onDemand":true,"otpEnabled":true,"membersCount":3,"teamsCount":2}`
	var a Account
	require.NoError(t, json.Unmarshal([]byte(in), &a))
	assert.Equal(t, Account{Name: "o", ID: "1", FullName: "Org", IsActive: true, IsOrg: true, IsImported: true, OnDemand: true, OTPEnabled: true, MembersCount: 3, TeamsCount: 2}, a)
}
