package mke3api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// TestConcurrentClients runs many clients at once against one simulator,
// mixing reads, logins, config writes, bundles, token expiry and fault
// changes; run it with -race.
func TestConcurrentClients(t *testing.T) {
	seed := mke3api.GenerateSeed(500, 5, 4, 10)
	seed.Admin.Password = adminPass
	e := start(t, mke3api.Options{Seed: seed, PageSize: 50})
	e.c.Transport.(*http.Transport).MaxIdleConnsPerHost = 32

	const workers, rounds = 24, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			token := ""
			// get retries once after a 401, as the mke3 client does when
			// ExpireTokens ran in between.
			get := func(path string) (resp, bool) {
				for attempt := 0; attempt < 2; attempt++ {
					if token == "" {
						r, err := e.doCtx(t.Context(), http.MethodPost, "/auth/login", "", `{"username":"admin","password":"`+adminPass+`"}`)
						if !assert.NoError(t, err) || !assert.Equal(t, 200, r.status) {
							return resp{}, false
						}
						var tok map[string]string
						assert.NoError(t, json.Unmarshal(r.body, &tok))
						token = tok["auth_token"]
					}
					r, err := e.doCtx(t.Context(), http.MethodGet, path, token, "")
					if !assert.NoError(t, err) {
						return resp{}, false
					}
					if r.status == http.StatusUnauthorized {
						token = ""
						continue
					}
					return r, assert.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
				}
				return resp{}, false
			}
			for i := range rounds {
				switch (w + i) % 8 {
				case 0, 1:
					// A full listing must be complete and consistent.
					start, n := "", 0
					for {
						r, ok := get("/enzi/v0/accounts?filter=users&limit=100&start=" + start)
						if !ok {
							return
						}
						var p accountsPage
						assert.NoError(t, json.Unmarshal(r.body, &p))
						n += len(p.Accounts)
						if start = p.NextPageStart; start == "" {
							break
						}
					}
					assert.Equal(t, 501, n)
				case 2:
					get(fmt.Sprintf("/enzi/v0/accounts/org%03d/teams/team%03d/members", w%5+1, i%4+1))
				case 3:
					get("/collectionGrants?limit=7")
				case 4:
					r, err := e.doCtx(t.Context(), http.MethodPut, "/api/ucp/config-toml", token,
						fmt.Sprintf("[cluster_config]\n  calico_kdd = true\n  worker = %d\n", w))
					if assert.NoError(t, err) {
						assert.Contains(t, []int{200, 401}, r.status)
					}
					_ = e.sim.ConfigTOML()
				case 5:
					get("/api/clientbundle")
				case 6:
					if i%5 == 0 {
						e.sim.ExpireTokens()
					}
					_ = e.sim.Stats()
				case 7:
					e.sim.SetFault("GET", "/roles", mke3api.Fault{Status: 503, Times: 1})
					r, err := e.doCtx(t.Context(), http.MethodGet, "/roles", token, "")
					if assert.NoError(t, err) {
						assert.Contains(t, []int{200, 401, 503}, r.status)
					}
				}
			}
		})
	}
	wg.Wait()
	st := e.sim.Stats()
	require.Positive(t, st.Logins)
	assert.Equal(t, 0, st.FailedLogins)
	t.Logf("%d requests, %d logins, %d rejected tokens, %d faults", st.Total, st.Logins, st.Unauthorized, st.Faults)
}
