package mke3

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeAPIError(t *testing.T) {
	redact := func(s string) string { return strings.ReplaceAll(s, "hunter2", "<redacted>") }
	long := strings.Repeat("é", 600)
	tests := []struct {
		name   string
		status int
		body   string
		want   string
		code   string
		msg    string
		nerrs  int
	}{
		{"envelope", 403, `{"errors":[{"code":"NOT_AUTHORIZED","message":"not an admin"}]}`,
			"mke3: GET /enzi/v0/accounts: 403 NOT_AUTHORIZED: not an admin", "NOT_AUTHORIZED", "not an admin", 1},
		{"several", 400, `{"errors":[{"code":"INVALID_INPUT","message":"a"},{"code":"X","message":"b"},{"code":"Y"}]}`,
			"mke3: GET /enzi/v0/accounts: 400 INVALID_INPUT: a (and 2 more)", "INVALID_INPUT", "a", 3},
		{"code only", 404, `{"errors":[{"code":"NO_SUCH_TEAM"}]}`,
			"mke3: GET /enzi/v0/accounts: 404 NO_SUCH_TEAM", "NO_SUCH_TEAM", "", 1},
		{"message only", 400, `{"errors":[{"message":"bad"}]}`,
			"mke3: GET /enzi/v0/accounts: 400: bad", "", "bad", 1},
		{"empty envelope", 500, `{"errors":[]}`,
			"mke3: GET /enzi/v0/accounts: 500 Internal Server Error", "", "", 0},
		{"no envelope", 502, `{"foo":1}`,
			"mke3: GET /enzi/v0/accounts: 502 Bad Gateway", "", "", 0},
		{"html", 502, `<html><body>upstream hunter2 down</body></html>`,
			"mke3: GET /enzi/v0/accounts: 502 Bad Gateway", "", "", 0},
		{"plain text", 404, "404 page not found\n",
			"mke3: GET /enzi/v0/accounts: 404 Not Found", "", "", 0},
		{"empty body", 503, "",
			"mke3: GET /enzi/v0/accounts: 503 Service Unavailable", "", "", 0},
		{"unknown status", 599, "",
			"mke3: GET /enzi/v0/accounts: 599", "", "", 0},
		{"docker style", 409, `{"message":"name conflicts"}`,
			"mke3: GET /enzi/v0/accounts: 409: name conflicts", "", "name conflicts", 0},
		{"errors not a list", 400, `{"errors":"boom","message":"fallback"}`,
			"mke3: GET /enzi/v0/accounts: 400: fallback", "", "fallback", 0},
		{"control characters", 400, `{"errors":[{"code":"X","message":"line1\nline2\u001b[31m"}]}`,
			"mke3: GET /enzi/v0/accounts: 400 X: line1 line2 [31m", "X", "line1 line2 [31m", 1},
		{"secret echoed", 401, `{"errors":[{"code":"UNAUTHORIZED","message":"password hunter2 is wrong"}]}`,
			"mke3: GET /enzi/v0/accounts: 401 UNAUTHORIZED: password <redacted> is wrong", "UNAUTHORIZED", "password <redacted> is wrong", 1},
		{"long message", 400, `{"errors":[{"code":"X","message":"` + long + `"}]}`,
			"", "X", strings.Repeat("é", 256) + "…", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeAPIError(http.MethodGet, "/enzi/v0/accounts", tt.status, []byte(tt.body), redact)
			if tt.want != "" {
				assert.Equal(t, tt.want, e.Error())
			}
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.msg, e.Message)
			assert.Len(t, e.Errors, tt.nerrs)
			assert.Equal(t, tt.status, e.Status)
			assert.NotContains(t, e.Error(), "hunter2")
			assert.NotContains(t, e.Error(), "<html")
		})
	}
}

func TestAPIErrorIs(t *testing.T) {
	for status, target := range map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound} {
		var err error = &APIError{Method: "GET", Path: "/x", Status: status}
		err = errors.Join(errors.New("context"), err)
		assert.ErrorIs(t, err, target)
		for _, other := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRepeatedPage} {
			if other != target {
				assert.NotErrorIs(t, err, other)
			}
		}
	}
	assert.NotErrorIs(t, &APIError{Status: 500}, ErrNotFound)
}

func TestErrorsHaveNoQueryString(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("start") == "" {
			w.Header().Set(headerNextPageStart, "second-page-start")
			writeJSON(w, http.StatusOK, map[string]any{"accounts": []Account{{Name: "a"}}})
			return
		}
		writeEnvelope(w, http.StatusForbidden, "NOT_AUTHORIZED", "not an admin")
	})
	f.handle("GET /collections", func(w http.ResponseWriter, r *http.Request) { hangUp(w) })
	c, logs := f.client()
	ctx := testCtx(t)
	_, err := c.ListAccounts(ctx, AccountsAdmins)
	require.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, "mke3: GET /enzi/v0/accounts: 403 NOT_AUTHORIZED: not an admin", err.Error())

	_, err = c.ListCollections(ctx)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "mke3: GET /collections: "), err.Error())
	for _, s := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, s, "?")
		assert.NotContains(t, s, "limit=")
		assert.NotContains(t, s, "second-page-start&")
	}
}

func TestMalformedJSON(t *testing.T) {
	const marker = "BODY-MARKER-7731"
	f := newFake(t)
	bad := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }
	}
	f.handle("GET /version", bad(`{"Version": ["`+marker+`"]}`))
	f.handle("GET /enzi/v0/accounts", bad(`{"accounts": [{"name": "`+marker))
	f.handle("GET /enzi/v0/accounts/{ref}", bad(`<html>`+marker+`</html>`))
	f.handle("GET /enzi/v0/config/auth/ldap", bad(`{"serverURL": 42, "x": "`+marker+`"}`))
	f.handle("GET /roles", bad(`{"roles": "`+marker+`"}`))
	f.handle("GET /collectionGrants", bad(`{"grants": {"`+marker+`": 1}}`))
	c, _ := f.client()
	ctx := testCtx(t)

	check := func(err error, prefix, expected string) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), prefix), err.Error())
		assert.Contains(t, err.Error(), "expected "+expected)
		assert.NotContains(t, err.Error(), marker)
	}
	_, err := c.Version(ctx)
	check(err, "mke3: GET /version: ", `a JSON object with "Version"`)
	_, err = c.ListAccounts(ctx, "")
	check(err, "mke3: GET /enzi/v0/accounts: ", `a JSON object with "accounts"`)
	_, err = c.Account(ctx, "a")
	check(err, "mke3: GET /enzi/v0/accounts/a: ", "an account object")
	_, err = c.LDAPConfig(ctx)
	check(err, "mke3: GET /enzi/v0/config/auth/ldap: ", "an LDAP settings object")
	_, err = c.Roles(ctx)
	check(err, "mke3: GET /roles: ", "a JSON array of roles")
	_, err = c.Grants(ctx)
	check(err, "mke3: GET /collectionGrants: ", `a JSON object with "grants" and "subjects"`)
}

func TestDecodeErrorQuotesNoNumber(t *testing.T) {
	f := newFake(t)
	f.handle("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"accounts":[{"name":"a","membersCount":31415926535897932384626433832795028841}]}`))
	})
	c, _ := f.client()
	_, err := c.ListAccounts(testCtx(t), "")
	require.Error(t, err)
	assert.Equal(t, `mke3: GET /enzi/v0/accounts: decoding the answer: expected a JSON object with "accounts": got a JSON number at membersCount`, err.Error())
	var typ *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &typ, "the json error stays reachable")
}

func TestAnswerSizeLimit(t *testing.T) {
	f := newFake(t)
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 1<<17)))
	})
	c, _ := f.client()
	err := c.Ping(testCtx(t))
	require.ErrorIs(t, err, errBodyTooLarge)
	assert.Equal(t, 1, f.count("GET /_ping"), "a size error is not retried")
}

func TestRedirectNotFollowed(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.example.com/version", http.StatusFound)
	})
	c, _ := f.client()
	_, err := c.Version(testCtx(t))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusFound, apiErr.Status)
}
