package mke3api_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

const adminPass = "s3cret-admin"

// env is a simulator started for one test, with a client that trusts it
// only through CAPEM, as a real consumer would configure it.
type env struct {
	t   testing.TB
	sim *mke3api.Running
	c   *http.Client
}

func start(t testing.TB, opts mke3api.Options) *env {
	t.Helper()
	sim, err := mke3api.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(sim.CAPEM))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, sim: sim, c: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// loadTestdata starts a simulator with testdata/seed.yaml.
func loadTestdata(t testing.TB, mod func(*mke3api.Options)) *env {
	t.Helper()
	seed, err := mke3api.LoadSeed("testdata/seed.yaml")
	require.NoError(t, err)
	opts := mke3api.Options{Seed: seed}
	if mod != nil {
		mod(&opts)
	}
	return start(t, opts)
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) doCtx(ctx context.Context, method, path, token, body string) (resp, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.sim.URL+path, rd)
	if err != nil {
		return resp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.sendErr(req)
}

func (e *env) sendErr(req *http.Request) (resp, error) {
	r, err := e.c.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: b}, err
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	r, err := e.sendErr(req)
	require.NoError(e.t, err)
	return r
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	r, err := e.doCtx(context.Background(), method, path, token, body)
	require.NoError(e.t, err)
	return r
}

func (e *env) login(user, pass string) string {
	e.t.Helper()
	body, err := json.Marshal(map[string]string{"username": user, "password": pass})
	require.NoError(e.t, err)
	r := e.do(http.MethodPost, "/auth/login", "", string(body))
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var tok struct {
		AuthToken string `json:"auth_token"`
		TokenID   string `json:"token_id"`
	}
	require.NoError(e.t, json.Unmarshal(r.body, &tok))
	require.NotEmpty(e.t, tok.AuthToken)
	require.NotEmpty(e.t, tok.TokenID)
	return tok.AuthToken
}

func (e *env) admin() string { return e.login("admin", adminPass) }

// getJSON fetches path and decodes a 200 answer into v.
func (e *env) getJSON(path, token string, v any) resp {
	e.t.Helper()
	r := e.do(http.MethodGet, path, token, "")
	require.Equal(e.t, http.StatusOK, r.status, "%s: %s", path, r.body)
	require.Equal(e.t, "application/json", r.header.Get("Content-Type"))
	require.NoError(e.t, json.Unmarshal(r.body, v), path)
	return r
}

// requireError checks an error answer's status and envelope code.
func requireError(t testing.TB, r resp, status int, code string) string {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	var env struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(r.body, &env), string(r.body))
	require.Len(t, env.Errors, 1)
	require.Equal(t, code, env.Errors[0].Code)
	require.NotEmpty(t, env.Errors[0].Message)
	return env.Errors[0].Message
}

// Wire shapes as a client decodes them.
type account struct {
	Name         string `json:"name"`
	ID           string `json:"id"`
	FullName     string `json:"fullName"`
	IsActive     bool   `json:"isActive"`
	IsAdmin      bool   `json:"isAdmin"`
	IsOrg        bool   `json:"isOrg"`
	IsImported   bool   `json:"isImported"`
	MembersCount int    `json:"membersCount"`
	TeamsCount   int    `json:"teamsCount"`
}

type accountsPage struct {
	Accounts      []account `json:"accounts"`
	NextPageStart string    `json:"nextPageStart"`
	UsersCount    int       `json:"usersCount"`
	OrgsCount     int       `json:"orgsCount"`
	ResourceCount int       `json:"resourceCount"`
}

type team struct {
	ID           string `json:"id"`
	OrgID        string `json:"orgID"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	MembersCount int    `json:"membersCount"`
}

type member struct {
	IsAdmin bool    `json:"isAdmin"`
	Member  account `json:"member"`
}

type collection struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Path      string   `json:"path"`
	ParentIDs []string `json:"parent_ids"`
}

type grantsPage struct {
	Grants []struct {
		SubjectID string `json:"subjectID"`
		ObjectID  string `json:"objectID"`
		RoleID    string `json:"roleID"`
	} `json:"grants"`
	Subjects []struct {
		ID          string   `json:"id"`
		SubjectType string   `json:"subject_type"`
		Account     *account `json:"account"`
		Team        *team    `json:"team"`
	} `json:"subjects"`
}

// pageAll follows X-Next-Page-Start from path (which may carry a query)
// and returns each page's raw body. It fails the test on a repeated start
// or when body nextPageStart (if the list has it) disagrees with the header.
func (e *env) pageAll(path, token string, hasBodyNext bool) [][]byte {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var pages [][]byte
	used := map[string]bool{"": true}
	start := ""
	for {
		p := path
		if start != "" {
			p += sep + "start=" + url.QueryEscape(start)
		}
		r := e.do(http.MethodGet, p, token, "")
		require.Equal(e.t, http.StatusOK, r.status, "%s: %s", p, r.body)
		pages = append(pages, r.body)
		next := r.header.Get("X-Next-Page-Start")
		if hasBodyNext {
			var b struct {
				NextPageStart string `json:"nextPageStart"`
			}
			require.NoError(e.t, json.Unmarshal(r.body, &b))
			require.Equal(e.t, next, b.NextPageStart, "header and body disagree")
		}
		if next == "" {
			return pages
		}
		require.False(e.t, used[next], "start %q repeated", next)
		used[next] = true
		start = next
	}
}
