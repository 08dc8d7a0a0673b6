package convert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where this project's verdict differs from mkectl's published example, on
// purpose. Every difference must be listed here with its reason, and every
// entry here must still be a difference: the test fails both ways.
var deliberateDifferences = map[string]string{
	// MKE 4k has a field for each of these (see spec.go); mkectl 4.1.1 does
	// not carry them, mke-migrate does, and says so in the report.
	"auth.external_identity_provider.wellKnownConfigUrl":       "issuer derived from the discovery URL",
	"cluster_config.calico_vxlan":                              "values.yaml calicoNetwork.bgp",
	"cluster_config.calico_vxlan_mtu":                          "values.yaml defaultFelixConfiguration.vxlanMTU",
	"cluster_config.calico_vxlan_port":                         "values.yaml defaultFelixConfiguration.vxlanPort (documented upgrade example)",
	"cluster_config.vxlan_vni":                                 "values.yaml defaultFelixConfiguration.vxlanVNI (documented upgrade example)",
	"cluster_config.ipip_mtu":                                  "values.yaml defaultFelixConfiguration.ipipMTU",
	"cluster_config.cipher_suites_for_etcd_server":             "etcd.tlsCipherSuites exists",
	"cluster_config.etcd_storage_quota":                        "etcd.storageQuota exists",
	"cluster_config.custom_kube_controller_manager_flags":      "documented: converted to extraArgs",
	"cluster_config.kube_api_server_audit_log_maxbackup":       "apiServer.audit.maxBackup exists",
	"cluster_config.kube_api_server_audit_log_maxsize":         "apiServer.audit.maxSize exists",
	"cluster_config.kube_api_server_auditing":                  "apiServer.audit.enabled exists",
	"cluster_config.kube_api_server_request_timeout":           "apiServer.requestTimeout exists",
	"cluster_config.kube_controller_manager_profiling_enabled": "controllerManager.profilingEnabled exists",
	"cluster_config.kube_manager_terminated_pod_gc_threshold":  "controllerManager.terminatedPodGCThreshold exists",
	// The monitoring page says not supported; the check example says supported.
	"cluster_config.prometheus_memory_limit": "documented as not supported on the MKE 4k monitoring page",
}

func TestCheckMatchesMkectlExample(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "fixtures", "mke3")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/fixtures/mke3 not present: mkectl comparison skipped")
	}
	found := map[string]bool{}
	for file, want := range map[string]Group{
		"compat-check-not-supported.toml": GroupNotSupported,
		"compat-check-supported.toml":     GroupSupported,
		"compat-check-skipped.toml":       GroupSkipped,
	} {
		cfg := mustParseFile(t, filepath.Join(dir, file))
		res, err := Check(cfg, Options{})
		require.NoError(t, err)
		tables := map[string]bool{}
		for _, l := range cfg.Leaves {
			tables[l.Key] = l.Table
		}
		for _, it := range res.Items {
			if it.Line == 0 || tables[it.Key] {
				// Not in the fragment (e.g. an absent calico_kdd), or an
				// empty table header that mkectl's split left behind.
				continue
			}
			if it.Group != want {
				_, ok := deliberateDifferences[it.Key]
				assert.True(t, ok, "%s: %s, mkectl says %s (%s)", file, it.Key, it.Group, it.Reason)
				found[it.Key] = true
			}
		}
	}
	for k := range deliberateDifferences {
		assert.True(t, found[k], "%s is listed as a deliberate difference but now agrees with mkectl: remove it", k)
	}
}

func TestCheckGroupsAndSecrets(t *testing.T) {
	cfg := mustParse(t, `[auth.samlProxy]
enabled = true
proxy_url = "http://p"
[auth.samlProxy.credentials.basic]
password = "hunter2-secret"
[backup_schedule_config]
enabled = false
passphrase = "pp-secret"
[cluster_config]
calico_kdd = false
kubelet_max_pods = 110
calico_controller_probes_tuning = false
calico_controller_liveness_probe_period_seconds = 5
kms_enabled = false
kms_name = "vault"
`)
	res, err := Check(cfg, Options{})
	require.NoError(t, err)
	groups := map[string]Group{}
	for _, it := range res.Items {
		groups[it.Key] = it.Group
	}
	assert.Equal(t, GroupNotSupported, groups["auth.samlProxy.enabled"])
	assert.Equal(t, GroupSkipped, groups["backup_schedule_config.passphrase"], "keys of a disabled feature are skipped")
	assert.Equal(t, GroupSupported, groups["cluster_config.kubelet_max_pods"])
	assert.Equal(t, GroupNotSupported, groups["cluster_config.calico_kdd"])
	assert.Equal(t, GroupSkipped, groups["cluster_config.calico_controller_liveness_probe_period_seconds"])
	assert.Equal(t, GroupSkipped, groups["cluster_config.kms_name"])
	assert.True(t, res.Blocking())

	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	js, err := res.JSON()
	require.NoError(t, err)
	for _, out := range []string{text.String(), string(js)} {
		assert.NotContains(t, out, "hunter2-secret")
		assert.NotContains(t, out, "pp-secret")
		assert.Contains(t, out, "<redacted>")
	}
	assert.Contains(t, text.String(), "BLOCKING: unsupported configuration for mke4 upgrade")
	var doc struct {
		Blocking bool             `json:"blocking"`
		Items    []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal(js, &doc))
	assert.True(t, doc.Blocking)
	assert.Equal(t, "auth.samlProxy.enabled", doc.Items[0]["key"])
	assert.Equal(t, "Not supported", doc.Items[0]["group"])
}

func TestCheckGoldenText(t *testing.T) {
	for _, f := range ownFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		t.Run(name, func(t *testing.T) {
			res, err := Check(mustParseFile(t, f), Options{})
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, res.WriteText(&b))
			golden(t, name+".check.txt", b.Bytes())
		})
	}
}

func TestSplitKey(t *testing.T) {
	for in, want := range map[string][2]string{
		"a":             {"", "a"},
		"a.b.c":         {"a.b", "c"},
		`a."x.y".value`: {`a."x.y"`, "value"},
		`a."x.y"`:       {"a", `"x.y"`},
		"a.b[0].c":      {"a.b[0]", "c"},
	} {
		tbl, key := splitKey(in)
		assert.Equal(t, want, [2]string{tbl, key}, in)
	}
}
