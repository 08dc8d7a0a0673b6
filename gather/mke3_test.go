package gather_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Through the MKE 3 API (the simulator): the TOML, the LDAP settings that
// an ldap backend needs, and the client bundle, whose Kubernetes API here
// refuses connections (a warning, not an error).
func TestClusterThroughMKE3API(t *testing.T) {
	cfg := strings.Replace(mke3api.DefaultConfigTOML, `backend = "managed"`, `backend = "ldap"`, 1)
	cfg = strings.Replace(cfg, "calico_kdd = false", "calico_kdd = true", 1)
	sim, err := mke3api.Start(mke3api.Options{
		Seed: mke3api.Seed{ConfigTOML: cfg, LDAP: &mke3api.LDAPConfig{ServerURL: "ldaps://ldap.example.com", ReaderDN: "cn=reader",
			ReaderPassword: "never-served", UserSearchConfigs: []mke3api.LDAPSearchConfig{{BaseDN: "ou=people", UsernameAttr: "uid"}}}},
		BundleKubeAPI: "https://127.0.0.1:1", // nothing listens on port 1
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	client, err := mke3.New(mke3.Options{Host: sim.URL, Username: mke3api.DefaultAdminUsername, Password: mke3api.DefaultAdminPassword, CACertPEM: sim.CAPEM})
	require.NoError(t, err)

	f := newFake()
	o := f.options(t)
	o.MKE3 = client
	res, err := gather.Cluster(t.Context(), o)
	require.NoError(t, err)

	assert.Contains(t, string(res.TOML), `backend = "ldap"`)
	require.NotNil(t, res.LDAP)
	assert.Equal(t, "ldaps://ldap.example.com", res.LDAP.ServerURL)
	assert.Empty(t, res.LDAP.ReaderPassword)
	require.NotNil(t, res.MKE4)
	assert.True(t, res.MKE4.Spec.Authentication.LDAP.Enabled)
	assert.Equal(t, "ldap.example.com:636", res.MKE4.Spec.Authentication.LDAP.Host)
	statuses := map[string]convert.Status{}
	for _, e := range res.Report.Entries {
		statuses[e.Key] = e.Status
	}
	assert.Equal(t, convert.StatusConverted, statuses["auth.backend"])
	assert.Equal(t, convert.StatusUnconvertible, statuses["enzi.ldap.readerPassword"])

	require.Error(t, res.KubeAPIError)
	assert.Nil(t, res.KubeNodes)
	assert.Equal(t, []string{"warning kubernetes-api "}, ids(res.Checks))
	assert.Empty(t, res.Blockers())
	assert.Equal(t, preflight.Warning, res.Checks[0].Severity)
}
