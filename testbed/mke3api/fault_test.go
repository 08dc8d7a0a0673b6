package mke3api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestFaultStatus(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	tests := []struct {
		name          string
		method, match string
		fault         mke3api.Fault
		reqMethod     string
		path          string
		status        int
		body          string // exact body when set; else a FAULT_INJECTED envelope
	}{
		{"exact path", "GET", "/roles", mke3api.Fault{Status: 503}, "GET", "/roles", 503, ""},
		{"any method", "", "/roles", mke3api.Fault{Status: 500}, "GET", "/roles", 500, ""},
		{"star method", "*", "/version", mke3api.Fault{Status: 502}, "GET", "/version", 502, ""},
		{"prefix", "GET", "/enzi/", mke3api.Fault{Status: 429, Body: "slow down"}, "GET", "/enzi/v0/accounts/alice", 429, "slow down"},
		{"custom JSON body", "GET", "/collections", mke3api.Fault{Status: 500, Body: `{"errors":[{"code":"X","message":"y"}]}`}, "GET", "/collections", 500, `{"errors":[{"code":"X","message":"y"}]}`},
		{"a 200 with a chosen body", "GET", "/collections", mke3api.Fault{Status: 200, Body: `[]`}, "GET", "/collections", 200, `[]`},
		{"before authentication", "GET", "/roles", mke3api.Fault{Status: 503}, "GET", "/roles", 503, ""},
		{"on login", "POST", "/auth/login", mke3api.Fault{Status: 500}, "POST", "/auth/login", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(e.sim.ClearFaults)
			e.sim.SetFault(tt.method, tt.match, tt.fault)
			tok := token
			if tt.name == "before authentication" {
				tok = ""
			}
			r := e.do(tt.reqMethod, tt.path, tok, `{"username":"admin","password":"s3cret-admin"}`)
			if tt.body != "" {
				assert.Equal(t, tt.status, r.status)
				assert.Equal(t, tt.body, string(r.body))
				return
			}
			requireError(t, r, tt.status, "FAULT_INJECTED")
		})
	}
	t.Run("not matching", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("PUT", "/roles", mke3api.Fault{Status: 500})
		e.sim.SetFault("GET", "/enzi", mke3api.Fault{Status: 500})         // exact, not a prefix
		e.sim.SetFault("GET", "/enzi/v0/acc/", mke3api.Fault{Status: 500}) // a prefix of nothing served
		assert.Equal(t, http.StatusOK, e.do("GET", "/roles", token, "").status)
		assert.Equal(t, http.StatusOK, e.do("GET", "/enzi/v0/accounts", token, "").status)
	})
	t.Run("longest pattern wins and SetFault replaces", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("", "/", mke3api.Fault{Status: 500})
		e.sim.SetFault("", "/enzi/v0/accounts", mke3api.Fault{Status: 502})
		assert.Equal(t, 502, e.do("GET", "/enzi/v0/accounts", token, "").status)
		assert.Equal(t, 500, e.do("GET", "/roles", token, "").status)
		e.sim.SetFault("", "/enzi/v0/accounts", mke3api.Fault{Status: 503})
		assert.Equal(t, 503, e.do("GET", "/enzi/v0/accounts", token, "").status)
	})
	t.Run("Times", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("GET", "/roles", mke3api.Fault{Status: 503, Times: 2})
		got := []int{}
		for range 4 {
			got = append(got, e.do("GET", "/roles", token, "").status)
		}
		assert.Equal(t, []int{503, 503, 200, 200}, got)
	})
	t.Run("Times 0 is always", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("GET", "/roles", mke3api.Fault{Status: 503})
		for range 5 {
			assert.Equal(t, 503, e.do("GET", "/roles", token, "").status)
		}
	})
	t.Run("ClearFaults", func(t *testing.T) {
		e.sim.SetFault("GET", "/roles", mke3api.Fault{Status: 503})
		e.sim.ClearFaults()
		assert.Equal(t, 200, e.do("GET", "/roles", token, "").status)
	})
	t.Run("invalid faults panic", func(t *testing.T) {
		assert.Panics(t, func() { e.sim.SetFault("GET", "/roles", mke3api.Fault{Status: 99}) })
		assert.Panics(t, func() { e.sim.SetFault("GET", "/roles", mke3api.Fault{Times: -1}) })
		assert.Panics(t, func() { e.sim.SetFault("GET", "roles", mke3api.Fault{Status: 500}) })
	})
}

func TestFaultLatency(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	t.Run("client deadline", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("GET", "/enzi/v0/accounts", mke3api.Fault{Latency: 10 * time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, err := e.doCtx(ctx, "GET", "/enzi/v0/accounts", token, "")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(began), 5*time.Second)
	})
	t.Run("delayed answer", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("GET", "/roles", mke3api.Fault{Latency: 150 * time.Millisecond, Times: 1})
		faults := e.sim.Stats().Faults
		began := time.Now()
		assert.Equal(t, http.StatusOK, e.do("GET", "/roles", token, "").status)
		assert.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond)
		assert.Equal(t, http.StatusOK, e.do("GET", "/roles", token, "").status)
		assert.Equal(t, faults+1, e.sim.Stats().Faults, "Times: 1 delays only the first request")
	})
	t.Run("latency then status", func(t *testing.T) {
		t.Cleanup(e.sim.ClearFaults)
		e.sim.SetFault("GET", "/roles", mke3api.Fault{Latency: 50 * time.Millisecond, Status: 504})
		began := time.Now()
		requireError(t, e.do("GET", "/roles", token, ""), 504, "FAULT_INJECTED")
		assert.GreaterOrEqual(t, time.Since(began), 50*time.Millisecond)
	})
	t.Run("Close releases waiting requests", func(t *testing.T) {
		e := loadTestdata(t, nil)
		e.sim.SetFault("", "/_ping", mke3api.Fault{Latency: time.Minute})
		errc := make(chan error, 1)
		go func() {
			_, err := e.doCtx(context.Background(), "GET", "/_ping", "", "")
			errc <- err
		}()
		time.Sleep(100 * time.Millisecond)
		began := time.Now()
		require.NoError(t, e.sim.Close())
		assert.Less(t, time.Since(began), 10*time.Second)
		assert.Error(t, <-errc)
	})
}

func TestFaultMalformed(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	e.sim.SetFault("", "/", mke3api.Fault{Malformed: true})
	t.Run("JSON list", func(t *testing.T) {
		r := e.do("GET", "/enzi/v0/accounts?limit=2", token, "")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.Equal(t, "bob", r.header.Get("X-Next-Page-Start"), "headers are kept")
		var v any
		assert.Error(t, json.Unmarshal(r.body, &v))
	})
	t.Run("login", func(t *testing.T) {
		r := e.do("POST", "/auth/login", "", `{"username":"admin","password":"s3cret-admin"}`)
		assert.Equal(t, http.StatusOK, r.status)
		var v map[string]string
		assert.Error(t, json.Unmarshal(r.body, &v))
	})
	t.Run("an error becomes a garbled 200", func(t *testing.T) {
		r := e.do("GET", "/roles", "", "")
		assert.Equal(t, http.StatusOK, r.status)
		var v any
		assert.Error(t, json.Unmarshal(r.body, &v))
	})
	t.Run("TOML", func(t *testing.T) {
		r := e.do("GET", "/api/ucp/config-toml", token, "")
		assert.Equal(t, http.StatusOK, r.status)
		assert.NotEqual(t, e.sim.ConfigTOML(), string(r.body))
		assert.Contains(t, string(r.body), "\x00")
	})
	t.Run("bundle", func(t *testing.T) {
		r := e.do("POST", "/api/clientbundle", token, "")
		assert.Equal(t, http.StatusOK, r.status)
		_, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
		assert.Error(t, err)
	})
}

func TestFaultDrop(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	e.sim.SetFault("GET", "/enzi/v0/accounts", mke3api.Fault{Drop: true})
	for range 3 {
		_, err := e.doCtx(t.Context(), "GET", "/enzi/v0/accounts", token, "")
		require.Error(t, err)
		assert.False(t, errors.Is(err, context.DeadlineExceeded))
	}
	e.sim.ClearFaults()
	assert.Equal(t, http.StatusOK, e.do("GET", "/enzi/v0/accounts", token, "").status, "served again")

	t.Run("Times on a fresh connection", func(t *testing.T) {
		// net/http retries an idempotent request once when a reused
		// connection closes before answering, so use a new connection to
		// see a single drop.
		e.sim.SetFault("GET", "/enzi/v0/accounts", mke3api.Fault{Drop: true, Times: 1})
		e.c.CloseIdleConnections()
		_, err := e.doCtx(t.Context(), "GET", "/enzi/v0/accounts", token, "")
		require.Error(t, err)
		assert.Equal(t, http.StatusOK, e.do("GET", "/enzi/v0/accounts", token, "").status)
	})

	t.Run("HTTP/2", func(t *testing.T) {
		c := e.sim.Client() // a clone of http.DefaultTransport: it attempts HTTP/2
		defer c.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, e.sim.URL+"/_ping", nil)
		require.NoError(t, err)
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 2, res.ProtoMajor, "the server speaks HTTP/2")

		e.sim.SetFault("GET", "/_ping", mke3api.Fault{Drop: true, Times: 1})
		_, err = c.Do(req)
		require.Error(t, err)
		res, err = c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
}

func TestFaultRepeatStart(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	type page struct {
		Accounts []struct {
			Name string `json:"name"`
		} `json:"accounts"`
		NextPageStart string `json:"nextPageStart"`
	}
	next := func(path string) (string, string) {
		var p page
		r := e.getJSON(path, token, &p)
		return r.header.Get("X-Next-Page-Start"), p.NextPageStart
	}
	e.sim.SetFault("GET", "/enzi/v0/accounts", mke3api.Fault{RepeatStart: true})
	h, b := next("/enzi/v0/accounts?limit=2&start=bob")
	assert.Equal(t, []string{"bob", "bob"}, []string{h, b}, "the request's start comes back")
	h, b = next("/enzi/v0/accounts?limit=2")
	assert.Equal(t, []string{"admin", "admin"}, []string{h, b}, "a first page repeats its first key")
	h, _ = next("/enzi/v0/accounts?limit=100&start=erin")
	assert.Equal(t, "erin", h, "even the last page")

	t.Run("a pager sees the repeat", func(t *testing.T) {
		used := map[string]bool{}
		start := ""
		for i := 0; ; i++ {
			require.Less(t, i, 10, "never detected")
			h, _ := next("/enzi/v0/accounts?limit=2&start=" + start)
			if used[h] {
				break
			}
			used[h] = true
			start = h
		}
	})
	t.Run("other lists", func(t *testing.T) {
		e.sim.SetFault("GET", "/", mke3api.Fault{RepeatStart: true})
		for _, p := range []string{"/collections?limit=1&start=system", "/collectionGrants?limit=1&start=ops-org-id",
			"/enzi/v0/accounts/engineering/teams?limit=1&start=frontend"} {
			r := e.do("GET", p, token, "")
			require.Equal(t, http.StatusOK, r.status)
			assert.NotEmpty(t, r.header.Get("X-Next-Page-Start"), p)
			assert.Contains(t, p, "start="+r.header.Get("X-Next-Page-Start"))
		}
	})
	t.Run("Times", func(t *testing.T) {
		e.sim.ClearFaults()
		e.sim.SetFault("GET", "/enzi/v0/accounts", mke3api.Fault{RepeatStart: true, Times: 1})
		h, _ := next("/enzi/v0/accounts?limit=2&start=bob")
		assert.Equal(t, "bob", h)
		h, _ = next("/enzi/v0/accounts?limit=2&start=bob")
		assert.Equal(t, "dave", h)
	})
}

func TestStats(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	e.do("GET", "/roles", token, "")
	e.do("GET", "/roles?limit=3", token, "")
	e.do("GET", "/roles", "", "")
	e.do("POST", "/auth/login", "", `{"username":"admin","password":"bad"}`)
	e.sim.SetFault("GET", "/collections", mke3api.Fault{Status: 500, Times: 1})
	e.do("GET", "/collections", token, "")
	st := e.sim.Stats()
	assert.Equal(t, map[string]int{"POST /auth/login": 2, "GET /roles": 3, "GET /collections": 1}, st.Requests)
	assert.Equal(t, 6, st.Total)
	assert.Equal(t, 1, st.Logins)
	assert.Equal(t, 1, st.FailedLogins)
	assert.Equal(t, 1, st.Unauthorized)
	assert.Equal(t, 1, st.Faults)
	st.Requests["GET /roles"] = 100
	assert.Equal(t, 3, e.sim.Stats().Requests["GET /roles"], "a snapshot")
}
