package mke3

import (
	"archive/zip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoSecrets is what a careless or hostile server might put in an answer:
// the password, the caller's token, and "user:password".
func echoSecrets(r *http.Request) string {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	return fmt.Sprintf("pw=%s token=%s basic=%s:%s", testPassword, tok, testUser, testPassword)
}

// faults answer every route of the fake in one failure mode.
var faults = map[string]http.HandlerFunc{
	"envelope 500": func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusInternalServerError, echoSecrets(r), echoSecrets(r))
	},
	"envelope 403": func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusForbidden, "NOT_AUTHORIZED", echoSecrets(r))
	},
	"envelope 401": func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", echoSecrets(r))
	},
	"docker message": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": echoSecrets(r)})
	},
	"html 502": func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = fmt.Fprintf(w, "<html><body>%s</body></html>", echoSecrets(r))
	},
	"429 with odd Retry-After": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", testPassword)
		writeEnvelope(w, http.StatusTooManyRequests, "", echoSecrets(r))
	},
	"truncated JSON": func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"accounts": [{"name": "%s`, echoSecrets(r))
	},
	"wrong types": func(w http.ResponseWriter, r *http.Request) {
		s := echoSecrets(r)
		writeJSON(w, http.StatusOK, map[string]any{
			"accounts": s, "teams": s, "members": s, "grants": s, "subjects": s,
			"Version": []string{s}, "serverURL": []string{s}, "message": []string{s},
			"name": []string{s}, "auth_token": []string{s},
		})
	},
	"array of strings": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []string{echoSecrets(r)})
	},
	"hang up": func(w http.ResponseWriter, r *http.Request) { hangUp(w) },
	"paging loop": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerNextPageStart, echoSecrets(r))
		writeJSON(w, http.StatusOK, map[string]any{"accounts": []any{}, "teams": []any{}, "members": []any{}, "grants": []any{}})
	},
	"zip with secret names": func(w http.ResponseWriter, r *http.Request) {
		zw := zip.NewWriter(w)
		fw, _ := zw.Create("../" + echoSecrets(r))
		_, _ = fw.Write([]byte(echoSecrets(r)))
		_ = zw.Close()
	},
}

// everyCall runs every public call of the client and returns the errors.
func everyCall(ctx context.Context, c *Client) map[string]error {
	errs := map[string]error{}
	errs["Login"] = c.Login(ctx)
	errs["Ping"] = c.Ping(ctx)
	_, errs["Version"] = c.Version(ctx)
	_, errs["ConfigTOML"] = c.ConfigTOML(ctx)
	_, errs["PutConfigTOML"] = c.PutConfigTOML(ctx, []byte("[cluster_config]\n"))
	_, errs["ListAccounts"] = c.ListAccounts(ctx, AccountsAll)
	_, errs["Account"] = c.Account(ctx, "alice")
	_, errs["ListTeams"] = c.ListTeams(ctx, "org")
	_, errs["ListTeamMembers"] = c.ListTeamMembers(ctx, "org", "team", MembersAll)
	_, errs["LDAPConfig"] = c.LDAPConfig(ctx)
	_, errs["Roles"] = c.Roles(ctx)
	_, errs["ListCollections"] = c.ListCollections(ctx)
	_, errs["Grants"] = c.Grants(ctx)
	b, err := c.ClientBundle(ctx)
	errs["ClientBundle"] = err
	if b != nil {
		_, errs["RESTConfig"] = b.RESTConfig()
	}
	return errs
}

var everyRoute = []string{
	"GET /_ping", "GET /version", "GET /api/ucp/config-toml", "PUT /api/ucp/config-toml",
	"GET /enzi/v0/accounts", "GET /enzi/v0/accounts/{ref}", "GET /enzi/v0/accounts/{org}/teams",
	"GET /enzi/v0/accounts/{org}/teams/{team}/members", "GET /enzi/v0/config/auth/ldap",
	"GET /roles", "GET /collections", "GET /collectionGrants", "POST /api/clientbundle",
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testPassword, tokenPrefix, testUser + ":" + testPassword} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains %q: %s", what, secret, s)
		}
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	for mode, fault := range faults {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t)
			for _, route := range everyRoute {
				if route == "GET /_ping" {
					f.handleOpen(route, fault)
					continue
				}
				f.handle(route, fault)
			}
			c, logs := f.client()
			errs := everyCall(testCtx(t), c)
			failures := 0
			for name, err := range errs {
				if err == nil {
					continue
				}
				failures++
				assertNoSecret(t, name+" error", err.Error())
				assertNoSecret(t, name+" error %+v", fmt.Sprintf("%+v", err))
			}
			assert.Greater(t, failures, 1, "the faults were seen")
			assertNoSecret(t, "log", logs.String())
			for _, u := range f.requestURIs() {
				assertNoSecret(t, "request URI", u)
			}
		})
	}
}

func TestSecretsNeverLeakFromLogin(t *testing.T) {
	for mode, fault := range faults {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t)
			f.loginHook = fault
			c, logs := f.client()
			errs := everyCall(testCtx(t), c)
			require.Error(t, errs["Login"])
			for name, err := range errs {
				if err != nil {
					assertNoSecret(t, name+" error", err.Error())
				}
			}
			assertNoSecret(t, "log", logs.String())
		})
	}
}

func TestSecretsRedactedEvenOnSuccessMessages(t *testing.T) {
	f := newFake(t)
	f.handle("PUT /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		writeJSON(w, http.StatusOK, map[string]string{"message": "applied for " + echoSecrets(r)})
	})
	c, _ := f.client()
	msg, err := c.PutConfigTOML(testCtx(t), []byte("[x]\n"))
	require.NoError(t, err)
	assertNoSecret(t, "message", msg)
	assert.Contains(t, msg, "applied for")
}
