package mke3api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestLogin(t *testing.T) {
	seed, err := mke3api.LoadSeed("testdata/seed.yaml")
	require.NoError(t, err)
	seed.Users = append(seed.Users, mke3api.User{Name: "frank", Password: "frank-pass", IsActive: new(false)})
	e := start(t, mke3api.Options{Seed: seed})

	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"admin", `{"username":"admin","password":"s3cret-admin"}`, http.StatusOK, ""},
		{"user with a password", `{"username":"alice","password":"alice-pass"}`, http.StatusOK, ""},
		{"extra client fields are ignored", `{"username":"bob","password":"bob-pass","useTLS":true,"code":""}`, http.StatusOK, ""},
		{"wrong password", `{"username":"admin","password":"nope"}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"empty password", `{"username":"admin","password":""}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"unknown user", `{"username":"mallory","password":"s3cret-admin"}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"user without a password", `{"username":"erin","password":""}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"inactive user", `{"username":"frank","password":"frank-pass"}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"org", `{"username":"engineering","password":""}`, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"not JSON", `username=admin`, http.StatusBadRequest, "INVALID_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/auth/login", "", tt.body)
			if tt.code != "" {
				requireError(t, r, tt.status, tt.code)
				assert.NotContains(t, string(r.body), "auth_token")
				return
			}
			require.Equal(t, tt.status, r.status, string(r.body))
			var tok map[string]string
			require.NoError(t, json.Unmarshal(r.body, &tok))
			assert.Len(t, tok["auth_token"], 43, "32 random bytes, base64url")
			assert.NotEmpty(t, tok["token_id"])
		})
	}
	t.Run("tokens differ", func(t *testing.T) {
		assert.NotEqual(t, e.admin(), e.admin())
	})
	t.Run("wrong method", func(t *testing.T) {
		r := e.do(http.MethodGet, "/auth/login", "", "")
		requireError(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		assert.Equal(t, "POST", r.header.Get("Allow"))
	})
	st := e.sim.Stats()
	assert.Equal(t, 5, st.Logins)
	assert.Equal(t, 6, st.FailedLogins)
}

func TestTokenRequired(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	endpoints := []struct{ method, path string }{
		{"GET", "/version"},
		{"GET", "/api/ucp/config-toml"},
		{"PUT", "/api/ucp/config-toml"},
		{"GET", "/api/clientbundle"},
		{"POST", "/api/clientbundle"},
		{"GET", "/enzi/v0/accounts"},
		{"GET", "/enzi/v0/accounts/alice"},
		{"GET", "/enzi/v0/accounts/engineering/teams"},
		{"GET", "/enzi/v0/accounts/engineering/teams/backend"},
		{"GET", "/enzi/v0/accounts/engineering/teams/backend/members"},
		{"GET", "/enzi/v0/config/auth/ldap"},
		{"GET", "/roles"},
		{"GET", "/collections"},
		{"GET", "/collectionGrants"},
	}
	auths := []struct{ name, header string }{
		{"none", ""},
		{"unknown token", "Bearer not-a-token"},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + token},
		{"token without scheme", token},
	}
	for _, ep := range endpoints {
		for _, a := range auths {
			t.Run(ep.method+ep.path+"/"+a.name, func(t *testing.T) {
				req, err := http.NewRequest(ep.method, e.sim.URL+ep.path, nil)
				require.NoError(t, err)
				if a.header != "" {
					req.Header.Set("Authorization", a.header)
				}
				res, err := e.c.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				requireError(t, resp{status: res.StatusCode, body: body}, http.StatusUnauthorized, "UNAUTHORIZED")
				assert.Equal(t, `Bearer realm="mke"`, res.Header.Get("WWW-Authenticate"))
			})
		}
	}
	t.Run("ping needs no token", func(t *testing.T) {
		r := e.do(http.MethodGet, "/_ping", "", "")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "OK", string(r.body))
		assert.Equal(t, http.StatusOK, e.do(http.MethodHead, "/_ping", "", "").status)
	})
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, e.sim.URL+"/version", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "bearer "+token)
		res, err := e.c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	assert.Equal(t, len(endpoints)*len(auths), e.sim.Stats().Unauthorized)
}

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTokenExpiry(t *testing.T) {
	clk := &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	e := loadTestdata(t, func(o *mke3api.Options) {
		o.Now = clk.Now
		o.TokenTTL = 10 * time.Minute
	})
	token := e.admin()
	ok := func(tok string) bool {
		r := e.do(http.MethodGet, "/version", tok, "")
		if r.status == http.StatusUnauthorized {
			requireError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
			return false
		}
		require.Equal(t, http.StatusOK, r.status)
		return true
	}
	require.True(t, ok(token))
	clk.Advance(10*time.Minute - time.Nanosecond)
	require.True(t, ok(token), "valid until the TTL has fully elapsed")
	clk.Advance(time.Nanosecond)
	require.False(t, ok(token), "expired at the TTL")

	fresh := e.admin()
	require.True(t, ok(fresh), "a new login works after expiry")

	t.Run("default TTL is 60 minutes", func(t *testing.T) {
		clk := &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
		e := loadTestdata(t, func(o *mke3api.Options) { o.Now = clk.Now })
		token := e.admin()
		clk.Advance(59 * time.Minute)
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/version", token, "").status)
		clk.Advance(time.Minute)
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/version", token, "").status)
	})

	t.Run("ExpireTokens", func(t *testing.T) {
		a, b := e.admin(), e.login("alice", "alice-pass")
		require.True(t, ok(a))
		require.True(t, ok(b))
		e.sim.ExpireTokens()
		assert.False(t, ok(a))
		assert.False(t, ok(b))
		assert.True(t, ok(e.admin()), "logging in again works")
	})
}

func TestNonAdminIsForbidden(t *testing.T) {
	e := loadTestdata(t, nil)
	alice := e.login("alice", "alice-pass")
	for _, ep := range []struct{ method, path string }{
		{"GET", "/api/ucp/config-toml"},
		{"PUT", "/api/ucp/config-toml"},
		{"GET", "/enzi/v0/accounts"},
		{"GET", "/enzi/v0/accounts/alice"},
		{"GET", "/enzi/v0/accounts/engineering/teams"},
		{"GET", "/enzi/v0/accounts/engineering/teams/backend/members"},
		{"GET", "/enzi/v0/config/auth/ldap"},
		{"GET", "/roles"},
		{"GET", "/collections"},
		{"GET", "/collectionGrants"},
	} {
		t.Run(ep.method+ep.path, func(t *testing.T) {
			requireError(t, e.do(ep.method, ep.path, alice, "x = 1"), http.StatusForbidden, "NOT_AUTHORIZED")
		})
	}
	t.Run("version and bundle are open to users", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/version", alice, "").status)
		assert.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/clientbundle", alice, "").status)
	})
	t.Run("a non-admin's PUT changed nothing", func(t *testing.T) {
		assert.NotEqual(t, "x = 1", e.sim.ConfigTOML())
	})
	t.Run("bob is an admin", func(t *testing.T) {
		bob := e.login("bob", "bob-pass")
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/enzi/v0/accounts", bob, "").status)
	})
}

func TestRouting(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	tests := []struct {
		name, method, path string
		status             int
		code, allow        string
	}{
		{"unknown path", "GET", "/nope", 404, "NOT_FOUND", ""},
		{"unknown path without token", "GET", "/api/ucp/nope", 404, "NOT_FOUND", ""},
		{"trailing slash", "GET", "/enzi/v0/accounts/", 404, "NOT_FOUND", ""},
		{"too deep", "GET", "/enzi/v0/accounts/engineering/teams/backend/members/alice/x", 404, "NOT_FOUND", ""},
		{"POST roles", "POST", "/roles", 405, "METHOD_NOT_ALLOWED", "GET"},
		{"DELETE accounts", "DELETE", "/enzi/v0/accounts", 405, "METHOD_NOT_ALLOWED", "GET"},
		{"POST config", "POST", "/api/ucp/config-toml", 405, "METHOD_NOT_ALLOWED", "GET, PUT"},
		{"PUT bundle", "PUT", "/api/clientbundle", 405, "METHOD_NOT_ALLOWED", "GET, POST"},
		{"POST ping", "POST", "/_ping", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tok := range []string{token, ""} {
				r := e.do(tt.method, tt.path, tok, "")
				requireError(t, r, tt.status, tt.code)
				assert.Equal(t, tt.allow, r.header.Get("Allow"))
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, tt := range []struct{ seed, want string }{{"", "ucp/3.8.8"}, {"3.7.15", "ucp/3.7.15"}} {
		e := start(t, mke3api.Options{Seed: mke3api.Seed{Version: tt.seed, Admin: mke3api.Credentials{Password: adminPass}}})
		var v map[string]any
		e.getJSON("/version", e.admin(), &v)
		assert.Equal(t, tt.want, v["Version"])
		assert.NotEmpty(t, v["ApiVersion"])
	}
}

func TestDefaultAdmin(t *testing.T) {
	e := start(t, mke3api.Options{})
	tok := e.login(mke3api.DefaultAdminUsername, mke3api.DefaultAdminPassword)
	var a account
	e.getJSON("/enzi/v0/accounts/"+mke3api.DefaultAdminUsername, tok, &a)
	assert.True(t, a.IsAdmin)
	assert.True(t, a.IsActive)
	assert.Equal(t, mke3api.AccountID("admin"), a.ID)
}

func names(accts []account) []string {
	out := make([]string, len(accts))
	for i, a := range accts {
		out[i] = a.Name
	}
	return out
}

func TestAccountsPaging(t *testing.T) {
	seed := mke3api.GenerateSeed(25, 3, 1, 2)
	seed.Admin.Password = adminPass
	e := start(t, mke3api.Options{Seed: seed})
	token := e.admin()

	var all accountsPage
	e.getJSON("/enzi/v0/accounts?limit=1000", token, &all)
	require.Len(t, all.Accounts, 29, "25 users + admin + 3 orgs")
	assert.Empty(t, all.NextPageStart)
	assert.True(t, slices.IsSorted(names(all.Accounts)))
	assert.Equal(t, 26, all.UsersCount)
	assert.Equal(t, 3, all.OrgsCount)
	assert.Equal(t, 29, all.ResourceCount)

	tests := []struct {
		name  string
		query string
		pages int
	}{
		{"default page size", "", 3},
		{"one page exactly", "?limit=29", 1},
		{"one big page", "?limit=65536", 1},
		{"two pages", "?limit=15", 2},
		{"many pages", "?limit=1", 29},
		{"uneven", "?limit=7", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := e.pageAll("/enzi/v0/accounts"+tt.query, token, true)
			require.Len(t, pages, tt.pages)
			var got []account
			for i, p := range pages {
				var page accountsPage
				require.NoError(t, json.Unmarshal(p, &page))
				if i < len(pages)-1 {
					require.NotEmpty(t, page.Accounts)
				}
				assert.Equal(t, 29, page.ResourceCount, "counts describe the whole list on every page")
				got = append(got, page.Accounts...)
			}
			assert.Equal(t, names(all.Accounts), names(got))
		})
	}

	t.Run("start is inclusive", func(t *testing.T) {
		var p accountsPage
		r := e.getJSON("/enzi/v0/accounts?start=user010&limit=2", token, &p)
		assert.Equal(t, []string{"user010", "user011"}, names(p.Accounts))
		assert.Equal(t, "user012", p.NextPageStart)
		assert.Equal(t, "user012", r.header.Get("X-Next-Page-Start"))
	})
	t.Run("start between names", func(t *testing.T) {
		var p accountsPage
		e.getJSON("/enzi/v0/accounts?start=user010a&limit=1", token, &p)
		assert.Equal(t, []string{"user011"}, names(p.Accounts))
	})
	t.Run("start past the end", func(t *testing.T) {
		var p accountsPage
		r := e.getJSON("/enzi/v0/accounts?start=zzz", token, &p)
		assert.NotNil(t, p.Accounts)
		assert.Empty(t, p.Accounts)
		assert.Empty(t, r.header.Values("X-Next-Page-Start"), "absent on the last page")
		assert.Contains(t, string(r.body), `"accounts":[]`)
	})
	t.Run("PageSize option", func(t *testing.T) {
		e := start(t, mke3api.Options{Seed: seed, PageSize: 4})
		assert.Len(t, e.pageAll("/enzi/v0/accounts", e.admin(), true), 8)
	})
}

func TestAccountFilters(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	tests := []struct {
		filter             string
		want               []string
		users, orgs, total int
	}{
		{"", []string{"admin", "alice", "bob", "carol", "dave", "engineering", "erin", "ops"}, 6, 2, 8},
		{"all", []string{"admin", "alice", "bob", "carol", "dave", "engineering", "erin", "ops"}, 6, 2, 8},
		{"users", []string{"admin", "alice", "bob", "carol", "dave", "erin"}, 6, 0, 6},
		{"orgs", []string{"engineering", "ops"}, 0, 2, 2},
		{"admins", []string{"admin", "bob"}, 2, 0, 2},
		{"non-admins", []string{"alice", "carol", "dave", "erin"}, 4, 0, 4},
		{"active-users", []string{"admin", "alice", "bob", "dave", "erin"}, 5, 0, 5},
		{"inactive-users", []string{"carol"}, 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run("filter="+tt.filter, func(t *testing.T) {
			// limit=1 so that the filter is exercised across pages too.
			var got []string
			for _, p := range e.pageAll("/enzi/v0/accounts?limit=1&filter="+tt.filter, token, true) {
				var page accountsPage
				require.NoError(t, json.Unmarshal(p, &page))
				assert.Equal(t, []int{tt.users, tt.orgs, tt.total}, []int{page.UsersCount, page.OrgsCount, page.ResourceCount})
				got = append(got, names(page.Accounts)...)
			}
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("unknown filter", func(t *testing.T) {
		requireError(t, e.do(http.MethodGet, "/enzi/v0/accounts?filter=robots", token, ""), http.StatusBadRequest, "INVALID_INPUT")
	})
}

func TestLimitValidation(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	paths := []string{
		"/enzi/v0/accounts", "/enzi/v0/accounts/engineering/teams",
		"/enzi/v0/accounts/engineering/teams/backend/members", "/collections", "/collectionGrants",
	}
	for _, p := range paths {
		for _, limit := range []string{"0", "-1", "ten", "65537", "1e3", ""} {
			t.Run(p+"?limit="+limit, func(t *testing.T) {
				requireError(t, e.do(http.MethodGet, p+"?limit="+limit, token, ""), http.StatusBadRequest, "INVALID_INPUT")
			})
		}
		t.Run(p+"?limit=65536", func(t *testing.T) {
			assert.Equal(t, http.StatusOK, e.do(http.MethodGet, p+"?limit=65536", token, "").status)
		})
	}
}

func TestAccountLookup(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	tests := []struct {
		ref, name, id string
	}{
		{"alice", "alice", mke3api.AccountID("alice")},
		{"id:" + mke3api.AccountID("alice"), "alice", mke3api.AccountID("alice")},
		{"dave", "dave", "0b5c1d2e-dave"},
		{"id:0b5c1d2e-dave", "dave", "0b5c1d2e-dave"},
		{"ops", "ops", "ops-org-id"},
		{"id:ops-org-id", "ops", "ops-org-id"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			var a account
			e.getJSON("/enzi/v0/accounts/"+tt.ref, token, &a)
			assert.Equal(t, tt.name, a.Name)
			assert.Equal(t, tt.id, a.ID)
		})
	}
	t.Run("all fields", func(t *testing.T) {
		var raw map[string]any
		e.getJSON("/enzi/v0/accounts/engineering", token, &raw)
		assert.Equal(t, map[string]any{
			"name": "engineering", "id": mke3api.AccountID("engineering"), "fullName": "Engineering",
			"isActive": true, "isAdmin": false, "isOrg": true, "isImported": false, "onDemand": false,
			"otpEnabled": false, "membersCount": float64(4), "teamsCount": float64(2),
		}, raw)
		var dave account
		e.getJSON("/enzi/v0/accounts/dave", token, &dave)
		assert.True(t, dave.IsImported)
		var carol account
		e.getJSON("/enzi/v0/accounts/carol", token, &carol)
		assert.False(t, carol.IsActive)
	})
	for _, ref := range []string{"mallory", "id:mallory", "id:", "ALICE", "id:alice"} {
		t.Run("missing "+ref, func(t *testing.T) {
			requireError(t, e.do(http.MethodGet, "/enzi/v0/accounts/"+ref, token, ""), http.StatusNotFound, "NO_SUCH_ACCOUNT")
		})
	}
}

func TestTeams(t *testing.T) {
	seed := mke3api.GenerateSeed(60, 2, 25, 3)
	seed.Admin.Password = adminPass
	e := start(t, mke3api.Options{Seed: seed})
	token := e.admin()
	type teamsPage struct {
		Teams         []team `json:"teams"`
		NextPageStart string `json:"nextPageStart"`
	}
	for _, tt := range []struct {
		query string
		pages int
	}{{"", 3}, {"?limit=25", 1}, {"?limit=24", 2}, {"?limit=1", 25}, {"?limit=100", 1}} {
		t.Run("org002/teams"+tt.query, func(t *testing.T) {
			pages := e.pageAll("/enzi/v0/accounts/org002/teams"+tt.query, token, true)
			require.Len(t, pages, tt.pages)
			var got []string
			for _, p := range pages {
				var page teamsPage
				require.NoError(t, json.Unmarshal(p, &page))
				for _, tm := range page.Teams {
					assert.Equal(t, mke3api.AccountID("org002"), tm.OrgID)
					assert.Equal(t, mke3api.TeamID("org002", tm.Name), tm.ID)
					assert.Equal(t, 3, tm.MembersCount)
					got = append(got, tm.Name)
				}
			}
			require.Len(t, got, 25)
			assert.True(t, slices.IsSorted(got))
			assert.Equal(t, "team001", got[0])
		})
	}
	t.Run("by id: reference", func(t *testing.T) {
		var p teamsPage
		e.getJSON("/enzi/v0/accounts/id:"+mke3api.AccountID("org001")+"/teams?start=team010&limit=2", token, &p)
		assert.Equal(t, "team010", p.Teams[0].Name)
		assert.Equal(t, "team012", p.NextPageStart)
		var tm team
		e.getJSON("/enzi/v0/accounts/org001/teams/id:"+mke3api.TeamID("org001", "team007"), token, &tm)
		assert.Equal(t, "team007", tm.Name)
		e.getJSON("/enzi/v0/accounts/org001/teams/team008", token, &tm)
		assert.Equal(t, mke3api.TeamID("org001", "team008"), tm.ID)
	})
	t.Run("errors", func(t *testing.T) {
		requireError(t, e.do("GET", "/enzi/v0/accounts/nobody/teams", token, ""), 404, "NO_SUCH_ACCOUNT")
		requireError(t, e.do("GET", "/enzi/v0/accounts/user001/teams", token, ""), 404, "NO_SUCH_ACCOUNT")
		requireError(t, e.do("GET", "/enzi/v0/accounts/org001/teams/team999", token, ""), 404, "NO_SUCH_TEAM")
		requireError(t, e.do("GET", "/enzi/v0/accounts/org001/teams/team999/members", token, ""), 404, "NO_SUCH_TEAM")
		// A team ID of another org does not resolve here.
		requireError(t, e.do("GET", "/enzi/v0/accounts/org001/teams/id:"+mke3api.TeamID("org002", "team001"), token, ""), 404, "NO_SUCH_TEAM")
	})
	t.Run("org without teams", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var p teamsPage
		r := e.getJSON("/enzi/v0/accounts/ops/teams", e.admin(), &p)
		assert.Contains(t, string(r.body), `"teams":[]`)
	})
}

func TestMembers(t *testing.T) {
	seed := mke3api.GenerateSeed(100, 1, 1, 40)
	seed.Admin.Password = adminPass
	e := start(t, mke3api.Options{Seed: seed})
	token := e.admin()
	type membersPage struct {
		Members       []member `json:"members"`
		NextPageStart string   `json:"nextPageStart"`
	}
	base := "/enzi/v0/accounts/org001/teams/team001/members"
	tests := []struct {
		query        string
		pages, count int
		admins       int
	}{
		{"", 4, 40, 1},
		{"?filter=all&limit=40", 1, 40, 1},
		{"?limit=15", 3, 40, 1},
		{"?limit=1", 40, 40, 1},
		{"?filter=admins", 1, 1, 1},
		{"?filter=non-admins&limit=13", 3, 39, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			pages := e.pageAll(base+tt.query, token, true)
			require.Len(t, pages, tt.pages)
			var ids []string
			admins := 0
			for _, p := range pages {
				var page membersPage
				require.NoError(t, json.Unmarshal(p, &page))
				for _, m := range page.Members {
					ids = append(ids, m.Member.ID)
					assert.Equal(t, mke3api.AccountID(m.Member.Name), m.Member.ID)
					if m.IsAdmin {
						admins++
						assert.Equal(t, "user001", m.Member.Name, "the first member of a generated team is its admin")
					}
				}
			}
			assert.Len(t, ids, tt.count)
			assert.True(t, slices.IsSorted(ids), "members are ordered by account ID")
			assert.Equal(t, tt.admins, admins)
		})
	}
	t.Run("start is a member ID", func(t *testing.T) {
		var all membersPage
		e.getJSON(base+"?limit=40", token, &all)
		var p membersPage
		r := e.getJSON(base+"?limit=2&start="+all.Members[5].Member.ID, token, &p)
		assert.Equal(t, all.Members[5:7], p.Members)
		assert.Equal(t, all.Members[7].Member.ID, r.header.Get("X-Next-Page-Start"))
	})
	t.Run("unknown filter", func(t *testing.T) {
		requireError(t, e.do("GET", base+"?filter=owners", token, ""), 400, "INVALID_INPUT")
	})
	t.Run("testdata team", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var p membersPage
		e.getJSON("/enzi/v0/accounts/id:"+mke3api.AccountID("engineering")+"/teams/backend/members", e.admin(), &p)
		byName := map[string]bool{}
		for _, m := range p.Members {
			byName[m.Member.Name] = m.IsAdmin
		}
		assert.Equal(t, map[string]bool{"alice": true, "dave": false, "erin": false}, byName)
	})
}

func TestLDAP(t *testing.T) {
	t.Run("configured", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var l map[string]any
		r := e.getJSON("/enzi/v0/config/auth/ldap", e.admin(), &l)
		assert.NotContains(t, string(r.body), "ldap-reader-secret")
		assert.NotContains(t, l, "readerPassword")
		assert.Equal(t, "ldaps://ldap.example.com", l["serverURL"])
		assert.Equal(t, "cn=reader,dc=example,dc=com", l["readerDN"])
		assert.Equal(t, "@hourly", l["syncSchedule"])
		assert.Equal(t, true, l["jitUserProvisioning"])
		assert.Equal(t, []any{}, l["additionalDomains"])
		searches := l["userSearchConfigs"].([]any)
		require.Len(t, searches, 1)
		assert.Equal(t, "uid", searches[0].(map[string]any)["usernameAttr"])
		sync := l["adminSyncOpts"].(map[string]any)
		assert.Equal(t, true, sync["enableSync"])
		assert.Equal(t, "member", sync["groupMemberAttr"])
		for _, k := range []string{"noSimplePagination", "startTLS", "rootCerts", "tlsSkipVerify"} {
			assert.Contains(t, l, k)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		e := start(t, mke3api.Options{Seed: mke3api.Seed{Admin: mke3api.Credentials{Password: adminPass}}})
		var l map[string]any
		e.getJSON("/enzi/v0/config/auth/ldap", e.admin(), &l)
		assert.Equal(t, "", l["serverURL"])
		assert.Equal(t, []any{}, l["userSearchConfigs"])
	})
}

func TestRoles(t *testing.T) {
	e := loadTestdata(t, nil)
	var roles []struct {
		ID         string         `json:"id"`
		Name       string         `json:"name"`
		SystemRole bool           `json:"system_role"`
		Operations map[string]any `json:"operations"`
	}
	r := e.getJSON("/roles", e.admin(), &roles)
	assert.True(t, strings.HasPrefix(string(r.body), "["), "an array")
	var ids []string
	for _, role := range roles {
		ids = append(ids, role.ID)
		assert.True(t, role.SystemRole)
		assert.NotNil(t, role.Operations)
	}
	assert.Equal(t, []string{"none", "viewonly", "restrictedcontrol", "scheduler", "fullcontrol"}, ids)
	assert.Empty(t, roles[0].Operations, "none allows nothing")

	t.Run("custom", func(t *testing.T) {
		seed := mke3api.Seed{Admin: mke3api.Credentials{Password: adminPass}, Roles: []mke3api.Role{
			{ID: "ops-role", Name: "Ops", Operations: map[string]map[string][]string{"Node": {"Node View": {}}}},
		}}
		e := start(t, mke3api.Options{Seed: seed})
		var raw []map[string]any
		e.getJSON("/roles", e.admin(), &raw)
		assert.Equal(t, []map[string]any{{"id": "ops-role", "name": "Ops", "system_role": false,
			"operations": map[string]any{"Node": map[string]any{"Node View": []any{}}}}}, raw)
	})
}

func TestCollections(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var cs []collection
		r := e.getJSON("/collections", e.admin(), &cs)
		assert.Empty(t, r.header.Get("X-Next-Page-Start"))
		assert.Equal(t, []collection{
			{ID: "shared", Name: "Shared", Path: "/Shared", ParentIDs: []string{"swarm"}},
			{ID: "swarm", Name: "swarm", Path: "/", ParentIDs: []string{}},
			{ID: "system", Name: "System", Path: "/System", ParentIDs: []string{"swarm"}},
		}, cs)
		assert.Contains(t, string(r.body), `"label_constraints":[]`)
	})

	seed := mke3api.Seed{Admin: mke3api.Credentials{Password: adminPass}, Collections: mke3api.DefaultCollections()}
	for i := range 20 {
		seed.Collections = append(seed.Collections, mke3api.Collection{
			ID: fmt.Sprintf("c%02d", i), Path: fmt.Sprintf("/Shared/c%02d", i), ParentIDs: []string{"swarm", "shared"},
		})
	}
	e := start(t, mke3api.Options{Seed: seed})
	token := e.admin()
	for _, tt := range []struct {
		query string
		pages int
	}{{"", 3}, {"?limit=23", 1}, {"?limit=12", 2}, {"?limit=1", 23}, {"?limit=5", 5}} {
		t.Run("paging"+tt.query, func(t *testing.T) {
			pages := e.pageAll("/collections"+tt.query, token, false)
			require.Len(t, pages, tt.pages)
			var ids []string
			for _, p := range pages {
				var cs []collection
				require.NoError(t, json.Unmarshal(p, &cs))
				for _, c := range cs {
					ids = append(ids, c.ID)
				}
			}
			require.Len(t, ids, 23)
			assert.True(t, slices.IsSorted(ids))
		})
	}
	t.Run("name defaults to the last path element", func(t *testing.T) {
		var cs []collection
		e.getJSON("/collections?start=c07&limit=1", token, &cs)
		assert.Equal(t, []collection{{ID: "c07", Name: "c07", Path: "/Shared/c07", ParentIDs: []string{"swarm", "shared"}}}, cs)
	})
}

func TestGrants(t *testing.T) {
	seed := mke3api.GenerateSeed(30, 4, 5, 2)
	seed.Admin.Password = adminPass
	e := start(t, mke3api.Options{Seed: seed})
	token := e.admin()
	collect := func(query string) (grants, pages int, types map[string]int) {
		types = map[string]int{}
		ps := e.pageAll("/collectionGrants"+query, token, false)
		for _, p := range ps {
			var page grantsPage
			require.NoError(t, json.Unmarshal(p, &page))
			subjects := map[string]string{}
			for _, s := range page.Subjects {
				subjects[s.ID] = s.SubjectType
				switch s.SubjectType {
				case "team":
					require.NotNil(t, s.Team)
					assert.Equal(t, s.ID, s.Team.ID)
				default:
					require.NotNil(t, s.Account)
					assert.Equal(t, s.ID, s.Account.ID)
				}
			}
			assert.Len(t, subjects, len(page.Subjects), "each subject once per page")
			for _, g := range page.Grants {
				typ, ok := subjects[g.SubjectID]
				require.True(t, ok, "the page lists the subject of every grant")
				types[typ]++
				assert.Equal(t, "shared", g.ObjectID)
			}
			grants += len(page.Grants)
		}
		return grants, len(ps), types
	}
	tests := []struct {
		query         string
		grants, pages int
		types         map[string]int
	}{
		{"?subjectType=all&expandUser=false&showPaths=false", 24, 3, map[string]int{"team": 20, "org": 4}},
		{"?limit=24", 24, 1, map[string]int{"team": 20, "org": 4}},
		{"?limit=1", 24, 24, map[string]int{"team": 20, "org": 4}},
		{"?limit=7&subjectType=team", 20, 3, map[string]int{"team": 20}},
		{"?subjectType=org", 4, 1, map[string]int{"org": 4}},
		{"?subjectType=user", 0, 1, map[string]int{}},
		{"?subjectID=" + mke3api.AccountID("org003"), 1, 1, map[string]int{"org": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			grants, pages, types := collect(tt.query)
			assert.Equal(t, tt.grants, grants)
			assert.Equal(t, tt.pages, pages)
			assert.Equal(t, tt.types, types)
		})
	}
	t.Run("unknown subjectType", func(t *testing.T) {
		requireError(t, e.do("GET", "/collectionGrants?subjectType=robots", token, ""), 400, "INVALID_INPUT")
	})
	t.Run("testdata", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var p grantsPage
		r := e.getJSON("/collectionGrants?subjectType=all&expandUser=false&showPaths=false", e.admin(), &p)
		assert.Empty(t, r.header.Get("X-Next-Page-Start"))
		got := map[string]string{}
		for _, g := range p.Grants {
			got[g.SubjectID+" "+g.ObjectID] = g.RoleID
		}
		assert.Equal(t, map[string]string{
			mke3api.TeamID("engineering", "backend") + " shared": "restrictedcontrol",
			mke3api.AccountID("alice") + " kubernetesnamespaces": "viewonly",
			"ops-org-id swarm": "fullcontrol",
		}, got)
		types := map[string]string{}
		for _, s := range p.Subjects {
			types[s.ID] = s.SubjectType
		}
		assert.Equal(t, map[string]string{
			mke3api.TeamID("engineering", "backend"): "team", mke3api.AccountID("alice"): "user", "ops-org-id": "org",
		}, types)
	})
}

// TestLogsNoSecrets drives every endpoint that handles a secret with a
// debug logger and checks that none reaches the log.
func TestLogsNoSecrets(t *testing.T) {
	var mu sync.Mutex
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := loadTestdata(t, func(o *mke3api.Options) { o.Logger = logger })
	token := e.admin()
	e.login("alice", "alice-pass")
	e.do("POST", "/auth/login", "", `{"username":"admin","password":"wrong-secret"}`)
	bundle := e.do("POST", "/api/clientbundle", token, "")
	key := string(unzip(t, bundle.body)["key.pem"])
	e.do("GET", "/enzi/v0/config/auth/ldap", token, "")
	e.do("PUT", "/api/ucp/config-toml", token, "[auth]\n  backend = \"managed\"\n")
	require.NoError(t, e.sim.Close())

	mu.Lock()
	log := buf.String()
	mu.Unlock()
	assert.Contains(t, log, "path=/auth/login", "requests are logged")
	assert.Contains(t, log, "login failed")
	for _, secret := range []string{adminPass, "alice-pass", "wrong-secret", token, "ldap-reader-secret", "PRIVATE KEY", key[40:80]} {
		assert.NotContains(t, log, secret)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
