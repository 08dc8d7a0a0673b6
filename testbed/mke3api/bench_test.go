package mke3api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// BenchmarkListAccounts lists 10 000 users in pages of 1000 through the raw
// HTTP API, once over HTTPS (what a client pays) and once straight into the
// handler (the server's own cost). One op is one full listing.
func BenchmarkListAccounts(b *testing.B) {
	seed := mke3api.GenerateSeed(10000, 100, 10, 20)
	seed.Admin.Password = adminPass
	const want = 10001 // the generated users and the admin

	b.Run("https", func(b *testing.B) {
		e := start(b, mke3api.Options{Seed: seed})
		token := e.admin()
		get := func(path string) (*http.Response, error) {
			req, err := http.NewRequest(http.MethodGet, e.sim.URL+path, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			return e.c.Do(req)
		}
		listAll(b, want, get)
		b.ReportAllocs()
		for b.Loop() {
			listAll(b, -1, get)
		}
		b.ReportMetric(float64(want*b.N)/b.Elapsed().Seconds(), "accounts/s")
	})

	b.Run("handler", func(b *testing.B) {
		srv, err := mke3api.New(mke3api.Options{Seed: seed})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequestWithContext(b.Context(), http.MethodPost, "/auth/login",
			strings.NewReader(`{"username":"admin","password":"`+adminPass+`"}`)))
		var tok map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
			b.Fatal(err)
		}
		get := func(path string) (*http.Response, error) {
			req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+tok["auth_token"])
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			return rec.Result(), nil
		}
		listAll(b, want, get)
		b.ReportAllocs()
		for b.Loop() {
			listAll(b, -1, get)
		}
		b.ReportMetric(float64(want*b.N)/b.Elapsed().Seconds(), "accounts/s")
	})
}

// listAll pages through the users as a client would. It follows
// X-Next-Page-Start. With want >= 0 it decodes the pages and checks the
// count; the timed loops pass -1 and discard the bodies, so that the
// client's JSON decoding does not hide the server's cost.
func listAll(b *testing.B, want int, get func(path string) (*http.Response, error)) {
	b.Helper()
	start, n, check := "", 0, want >= 0
	for {
		res, err := get("/enzi/v0/accounts?filter=users&limit=1000&start=" + url.QueryEscape(start))
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		if check {
			var p struct {
				Accounts []json.RawMessage `json:"accounts"`
			}
			err = json.NewDecoder(res.Body).Decode(&p)
			n += len(p.Accounts)
		} else {
			_, err = io.Copy(io.Discard, res.Body)
		}
		res.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if start = res.Header.Get("X-Next-Page-Start"); start == "" {
			break
		}
	}
	if check {
		if n != want {
			b.Fatalf("listed %d accounts, want %d", n, want)
		}
	}
}
