package mke3api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

const (
	kddMessage     = "Calico datastore upgrade from etcd to kdd successful"
	updatedMessage = "Configuration updated"
)

func tomlWith(kdd string, extra string) string {
	return "[auth]\n  backend = \"managed\"\n\n[cluster_config]\n  controller_port = 443\n" + extra + "  calico_kdd = " + kdd + "\n"
}

func TestConfigTOML(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	seeded := e.sim.ConfigTOML()

	t.Run("GET", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, e.sim.URL+"/api/ucp/config-toml", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/toml")
		r := e.send(req)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "application/toml", r.header.Get("Content-Type"))
		assert.Equal(t, seeded, string(r.body))
		assert.Contains(t, seeded, `backend = "ldap"`)
	})

	// The steps depend on each other: the stored calico_kdd carries over.
	steps := []struct {
		name    string
		body    string
		status  int
		message string // the JSON message, or a fragment of the error message
		stored  bool
	}{
		{"unparsable TOML", "[auth]\n  backend = \"managed\"\n  broken = = 1\n", 400, "line 3", false},
		{"duplicate key", "[auth]\nbackend = \"a\"\nbackend = \"b\"\n", 400, "line 3", false},
		{"calico_kdd not a boolean", tomlWith(`"true"`, ""), 400, "calico_kdd must be a boolean", false},
		{"cluster_config not a table", "cluster_config = 3\n", 400, "cluster_config must be a table", false},
		{"empty", "  \n", 400, "empty", false},
		{"unchanged datastore", tomlWith("false", "  kube_apiserver_port = 6443\n"), 200, updatedMessage, true},
		{"calico_kdd absent counts as false", "[cluster_config]\n  controller_port = 443\n", 200, updatedMessage, true},
		{"switch to KDD", tomlWith("true", ""), 200, kddMessage, true},
		{"already KDD", tomlWith("true", "  swarm_port = 2376\n"), 200, updatedMessage, true},
		{"back to etcd", tomlWith("false", ""), 400, "irreversible", false},
		{"back to etcd by omission", "[auth]\n  backend = \"managed\"\n", 400, "irreversible", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := e.sim.ConfigTOML()
			r := e.do(http.MethodPut, "/api/ucp/config-toml", token, st.body)
			if st.status != http.StatusOK {
				msg := requireError(t, r, st.status, "INVALID_CONFIG")
				assert.Contains(t, msg, st.message)
				assert.Equal(t, before, e.sim.ConfigTOML(), "a refused PUT stores nothing")
				return
			}
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			var got map[string]string
			require.NoError(t, json.Unmarshal(r.body, &got))
			assert.Equal(t, map[string]string{"message": st.message}, got, "exactly one key")
			assert.Equal(t, st.body, e.sim.ConfigTOML())
			g := e.do(http.MethodGet, "/api/ucp/config-toml", token, "")
			assert.Equal(t, st.body, string(g.body))
		})
	}
	t.Run("exact KDD answer", func(t *testing.T) {
		e := start(t, mke3api.Options{Seed: mke3api.Seed{Admin: mke3api.Credentials{Password: adminPass}}})
		require.Contains(t, e.sim.ConfigTOML(), "calico_kdd = false", "the default TOML is on etcd")
		r := e.do(http.MethodPut, "/api/ucp/config-toml", e.admin(), strings.Replace(e.sim.ConfigTOML(), "calico_kdd = false", "calico_kdd = true", 1))
		require.Equal(t, http.StatusOK, r.status)
		assert.JSONEq(t, `{"message":"Calico datastore upgrade from etcd to kdd successful"}`, string(r.body))
	})
}

// TestConfigKDDSwitchOnce checks that concurrent switches report the
// upgrade exactly once, as the datastore only migrates once.
func TestConfigKDDSwitchOnce(t *testing.T) {
	e := loadTestdata(t, nil)
	token := e.admin()
	var mu sync.Mutex
	messages := map[string]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := e.doCtx(t.Context(), http.MethodPut, "/api/ucp/config-toml", token, tomlWith("true", ""))
			if !assert.NoError(t, err) || !assert.Equal(t, http.StatusOK, r.status) {
				return
			}
			var got map[string]string
			assert.NoError(t, json.Unmarshal(r.body, &got))
			mu.Lock()
			messages[got["message"]]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[string]int{kddMessage: 1, updatedMessage: 19}, messages)
}

func TestConfigTooLarge(t *testing.T) {
	e := loadTestdata(t, nil)
	body := "# " + strings.Repeat("x", 5<<20) + "\n"
	r := e.do(http.MethodPut, "/api/ucp/config-toml", e.admin(), body)
	requireError(t, r, http.StatusRequestEntityTooLarge, "INVALID_INPUT")
}
