package mke3

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func versionHandler(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"Version": v, "ApiVersion": "1.41"})
	}
}

func TestLoginSuccessAndBearer(t *testing.T) {
	f := newFake(t)
	var gotAuth string
	f.handle("GET /version", func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		versionHandler("ucp/3.8.8")(w, r)
	})
	var body map[string]string
	f.loginHook = func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Get("Authorization"))
		f.mu.Lock()
		f.tokens["tok-explicit"] = true
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"auth_token": "tok-explicit", "token_id": "id1"})
	}
	c, _ := f.client()
	ctx := testCtx(t)

	require.NoError(t, c.Login(ctx))
	assert.Equal(t, map[string]string{"username": testUser, "password": testPassword}, body)
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "3.8.8", v)
	assert.Equal(t, "Bearer tok-explicit", gotAuth)
	assert.Equal(t, 1, f.count("POST /auth/login"))
}

func TestLoginWrongPassword(t *testing.T) {
	f := newFake(t)
	c, logs := f.client(func(o *Options) { o.Password = "wrong-" + testPassword })
	err := c.Login(testCtx(t))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "/auth/login", apiErr.Path)
	assert.Equal(t, "UNAUTHORIZED", apiErr.Code)
	assert.Equal(t, "mke3: POST /auth/login: 401 UNAUTHORIZED: invalid credentials", err.Error())
	for _, s := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, s, testPassword)
		assert.NotContains(t, s, testUser+":")
	}
	assert.Equal(t, 1, f.count("POST /auth/login"), "a 401 on login is not retried")
}

func TestLoginServerEchoesPassword(t *testing.T) {
	f := newFake(t)
	f.loginHook = func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad password "+testPassword+" for "+testUser+":"+testPassword)
	}
	c, _ := f.client()
	err := c.Login(testCtx(t))
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), testPassword)
	assert.Contains(t, err.Error(), "<redacted>")
}

func TestLoginAnswerWithoutToken(t *testing.T) {
	f := newFake(t)
	f.loginHook = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"token_id": "x"})
	}
	c, _ := f.client()
	err := c.Login(testCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "POST /auth/login")
	assert.Contains(t, err.Error(), "auth_token")
}

func TestLazyLoginOnce(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.7.1"))
	c, _ := f.client()
	ctx := testCtx(t)
	for range 3 {
		v, err := c.Version(ctx)
		require.NoError(t, err)
		assert.Equal(t, "3.7.1", v)
	}
	assert.Equal(t, 1, f.loginCount())
	assert.Equal(t, 3, f.count("GET /version"))
}

func TestConcurrentCallsShareOneLogin(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	c, _ := f.client()
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.Version(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.loginCount())
}

func TestConcurrentReloginShared(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	c, _ := f.client()
	ctx := testCtx(t)
	require.NoError(t, c.Login(ctx))
	f.expireAll()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.Version(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 2, f.loginCount(), "the calls that got 401 share one new login")
}

func TestReloginOnceOn401(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	c, _ := f.client()
	ctx := testCtx(t)
	_, err := c.Version(ctx)
	require.NoError(t, err)

	f.expireAll()
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "3.8.8", v)
	assert.Equal(t, 2, f.loginCount())
	assert.Equal(t, 3, f.count("GET /version"), "1 + the 401 + the retry")
}

func TestSecond401IsReturned(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", "session revoked")
	})
	c, _ := f.client()
	_, err := c.Version(testCtx(t))
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, "mke3: GET /version: 401 UNAUTHORIZED: session revoked", err.Error())
	assert.Equal(t, 2, f.loginCount(), "one login, one re-login")
	assert.Equal(t, 2, f.count("GET /version"))
}

func TestReloginFailureIsReturned(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	c, _ := f.client()
	ctx := testCtx(t)
	_, err := c.Version(ctx)
	require.NoError(t, err)
	f.expireAll()
	f.loginHook = func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", "account locked")
	}
	_, err = c.Version(ctx)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), "POST /auth/login")
}

func TestNoCredentials(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("OK")) })
	c, _ := f.client(func(o *Options) { o.Username, o.Password = "", "" })
	ctx := testCtx(t)
	require.NoError(t, c.Ping(ctx), "ping needs no session")
	_, err := c.Version(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, errNoCredentials))
	assert.Equal(t, 0, f.count("POST /auth/login"))
}

func TestPingSendsNoToken(t *testing.T) {
	f := newFake(t)
	var auth []string
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		_, _ = w.Write([]byte("OK"))
	})
	c, _ := f.client()
	require.NoError(t, c.Login(testCtx(t)))
	require.NoError(t, c.Ping(testCtx(t)))
	assert.Equal(t, []string{""}, auth)
}

func TestUserAgent(t *testing.T) {
	f := newFake(t)
	var agents []string
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {
		agents = append(agents, r.Header.Get("User-Agent"))
	})
	c, _ := f.client()
	require.NoError(t, c.Ping(testCtx(t)))
	c2, _ := f.client(func(o *Options) { o.UserAgent = "mytool/1.0" })
	require.NoError(t, c2.Ping(testCtx(t)))
	assert.Equal(t, []string{DefaultUserAgent, "mytool/1.0"}, agents)
}

func TestTokenNeverInURL(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/3.8.8"))
	f.handle("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"accounts": []Account{{Name: "a"}}})
	})
	c, _ := f.client()
	ctx := testCtx(t)
	_, err := c.Version(ctx)
	require.NoError(t, err)
	_, err = c.ListAccounts(ctx, "")
	require.NoError(t, err)
	for _, u := range f.requestURIs() {
		assert.NotContains(t, u, tokenPrefix)
		assert.NotContains(t, u, testPassword)
		assert.False(t, strings.Contains(u, "token"), u)
	}
}
