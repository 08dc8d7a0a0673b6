package mke3api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

var engineLists = []string{"services", "tasks", "configs", "secrets", "networks", "volumes", "nodes"}

func TestEngineListsServeTheDefaultSwarm(t *testing.T) {
	e := loadTestdata(t, nil)
	tok := e.admin()
	def := mke3api.DefaultSwarm()
	for _, prefix := range []string{"", "/v1.41", "/v1.24"} {
		var services []map[string]any
		e.getJSON(prefix+"/services", tok, &services)
		assert.Len(t, services, len(def.Services), prefix)
		var vols struct {
			Volumes  []map[string]any
			Warnings []string
		}
		e.getJSON(prefix+"/volumes", tok, &vols)
		assert.Len(t, vols.Volumes, len(def.Volumes), prefix)
	}
	names := map[string]bool{}
	var services []struct{ Spec struct{ Name string } }
	e.getJSON("/services", tok, &services)
	for _, s := range services {
		names[s.Spec.Name] = true
	}
	for _, want := range []string{"shop_web", "shop_worker", "shop_db", "shop_migrate", "monitoring-agent", "node-cleanup"} {
		assert.True(t, names[want], want)
	}
}

// The Engine API never returns a secret's data; the default seed has one
// with Data to prove the simulator drops it.
func TestSecretsNeverCarryData(t *testing.T) {
	e := start(t, mke3api.Options{})
	tok := e.login(mke3api.DefaultAdminUsername, mke3api.DefaultAdminPassword)
	r := e.do(http.MethodGet, "/secrets", tok, "")
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, string(r.body), `"Data"`)
	var secrets []struct{ Spec map[string]any }
	require.NoError(t, json.Unmarshal(r.body, &secrets))
	require.NotEmpty(t, secrets)
	// The seed itself still has it: only serving drops it.
	found := false
	for _, s := range mke3api.DefaultSwarm().Secrets {
		if _, ok := s["Spec"].(map[string]any)["Data"]; ok {
			found = true
		}
	}
	assert.True(t, found, "the default seed should carry a secret value to test this")
}

func TestEngineListsAreForAdminsOnly(t *testing.T) {
	e := loadTestdata(t, nil)
	alice := e.login("alice", "alice-pass")
	for _, l := range engineLists {
		requireError(t, e.do(http.MethodGet, "/"+l, alice, ""), http.StatusForbidden, "NOT_AUTHORIZED")
		requireError(t, e.do(http.MethodGet, "/v1.41/"+l, alice, ""), http.StatusForbidden, "NOT_AUTHORIZED")
		requireError(t, e.do(http.MethodGet, "/"+l, "", ""), http.StatusUnauthorized, "UNAUTHORIZED")
		requireError(t, e.do(http.MethodPost, "/"+l, alice, ""), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	}
}

// A version prefix outside the engine's range is refused as dockerd's
// version middleware refuses it, in Docker's error shape.
func TestEngineAPIVersionPrefix(t *testing.T) {
	e := loadTestdata(t, nil)
	tok := e.admin()
	for path, msg := range map[string]string{
		"/v1.99/services": "client version 1.99 is too new. Maximum supported API version is 1.41",
		"/v1.11/services": "client version 1.11 is too old. Minimum supported API version is 1.12",
	} {
		r := e.do(http.MethodGet, path, tok, "")
		assert.Equal(t, http.StatusBadRequest, r.status, path)
		var body struct{ Message string }
		require.NoError(t, json.Unmarshal(r.body, &body), path)
		assert.Contains(t, body.Message, msg, path)
	}
	r := e.do(http.MethodGet, "/v1.41/roles", tok, "")
	assert.Equal(t, http.StatusNotFound, r.status, "only Engine API paths take a version")
	r = e.do(http.MethodGet, "/services?filters=%7B%7D", tok, "")
	assert.Equal(t, http.StatusBadRequest, r.status, "filters are refused, not ignored")
}

func TestEmptySwarm(t *testing.T) {
	e := start(t, mke3api.Options{Seed: mke3api.Seed{Swarm: &mke3api.Swarm{}}})
	tok := e.login(mke3api.DefaultAdminUsername, mke3api.DefaultAdminPassword)
	for _, l := range engineLists {
		r := e.do(http.MethodGet, "/"+l, tok, "")
		require.Equal(t, http.StatusOK, r.status, l)
		want := "[]\n"
		if l == "volumes" {
			want = `{"Volumes":null,"Warnings":null}` + "\n"
		}
		assert.Equal(t, want, string(r.body), l)
	}
}

func TestSwarmSeedValidation(t *testing.T) {
	_, err := mke3api.ParseSeed("s.yaml", []byte(`swarm:
  services:
    - ID: a
      Spec:
        Name: web
        TaskTemplate:
          ContainerSpec:
            Image: nginx
            Secrets:
              - SecretID: nope
          Networks:
            - Target: nowhere
    - ID: a
      Spec: {}
  tasks:
    - ID: t1
      ServiceID: ghost
`))
	require.Error(t, err)
	var se *mke3api.SeedError
	require.True(t, errors.As(err, &se))
	text := err.Error()
	for _, want := range []string{
		`s.yaml:10: swarm.services[0].Spec.TaskTemplate.ContainerSpec.Secrets[0]: SecretID "nope" is not in swarm.secrets`,
		`s.yaml:12: swarm.services[0].Spec.TaskTemplate.Networks[0]: network "nowhere" is not in swarm.networks`,
		`swarm.services[1].ID: duplicate ID "a"`,
		`swarm.services[1].Spec: Spec.Name is required`,
		`s.yaml:17: swarm.tasks[0].ServiceID: ServiceID "ghost" is not in swarm.services`,
	} {
		assert.Contains(t, text, want)
	}
	_, err = mke3api.ParseSeed("s.yaml", []byte("swarm:\n  nodes:\n    - ID: n\n      Spec: {1: x}\n"))
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "cannot be served as JSON"), err.Error())
}
