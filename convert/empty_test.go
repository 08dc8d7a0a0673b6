package convert

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 13: empty tables and empty inline tables are keys too; a misspelled
// or future section header must not pass without a word.
func TestEmptyTablesAreReported(t *testing.T) {
	cfg := mustParse(t, `[hyperkube]

[cluster_config]
  calico_kdd = true
  [cluster_config.future_subsystem]
  [cluster_config.ingress_controller]
    ingress_udp_services = {}
    ingress_tcp_services = {}
    ingress_config_map = {"proxy-body-size" = "10m"}

[auth.samlProxy.credentials.basic]

[[custom_api_server_headers]]

[user_workload_defaults]

[cluster_config.custom_kubelet_flags_profiles]
`)
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	got := map[string]Entry{}
	for _, e := range rep.Entries {
		got[e.Key] = e
	}
	unknown := "not an MKE 3.7/3.8/3.9 key known to mke-migrate: check its spelling; it is not carried to MKE 4k"
	for key, want := range map[string]Entry{
		"hyperkube":                       {Status: StatusUnknown, Reason: unknown, Line: 1},
		"cluster_config.future_subsystem": {Status: StatusUnknown, Reason: unknown, Line: 5},
		"cluster_config.ingress_controller.ingress_udp_services": {Status: StatusDefault, Target: "spec.ingressController.udpServices", Line: 7},
		"cluster_config.ingress_controller.ingress_tcp_services": {Status: StatusDefault, Target: "spec.ingressController.tcpServices", Line: 8},
		"auth.samlProxy.credentials.basic":                       {Status: StatusDefault, Line: 11},
		"custom_api_server_headers[0]":                           {Status: StatusDefault, Line: 13},
		"user_workload_defaults":                                 {Status: StatusDefault, Line: 15},
		"cluster_config.custom_kubelet_flags_profiles":           {Status: StatusDefault, Line: 17},
	} {
		e, ok := got[key]
		if !assert.True(t, ok, "%s has no report entry", key) {
			continue
		}
		assert.Equal(t, want.Status, e.Status, key)
		assert.Equal(t, want.Line, e.Line, key)
		if want.Reason != "" {
			assert.Equal(t, want.Reason, e.Reason, key)
		}
		if want.Target != "" {
			assert.Equal(t, want.Target, e.Target, key)
		}
	}
	// A table with keys is accounted for by its keys, not as a table.
	_, ok := got["cluster_config.ingress_controller.ingress_config_map"]
	assert.False(t, ok)
	assert.Contains(t, got, "cluster_config.ingress_controller.ingress_config_map.proxy-body-size")
	assert.Contains(t, got, "cluster_config.calico_kdd")

	// The unknown tables are in Unknown, as unknown keys are.
	var unk []string
	for _, l := range cfg.Unknown {
		unk = append(unk, l.Key)
	}
	assert.ElementsMatch(t, []string{"hyperkube", "cluster_config.future_subsystem"}, unk)
}

// An empty table where the model has a value is a type error, with its line.
func TestEmptyTableWhereAValueBelongs(t *testing.T) {
	_, err := Parse("x.toml", []byte("[cluster_config]\ncalico_kdd = {}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.toml:2:1: cluster_config.calico_kdd: expected a boolean (true or false), got a table ({})")
}

// Issue 13: flag lists follow Kubernetes' flag parser (pflag): a known
// boolean flag takes no separate value.
func TestBooleanFlagsTakeNoSeparateValue(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
custom_kube_api_server_flags = ["--allow-privileged", "false", "--event-ttl", "2h"]
custom_kube_scheduler_flags = ["--leader-elect=false", "--profiling=false"]
custom_kubelet_flags = ["--fail-swap-on", "false"]
custom_kube_proxy_flags = ["--masquerade-all"]
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	s := out.Spec
	assert.Equal(t, "true", s.APIServer.ExtraArgs["allow-privileged"], "pflag reads a bare boolean as true")
	assert.Equal(t, "2h", s.APIServer.ExtraArgs["event-ttl"], "a non-boolean flag keeps its separate value")
	assert.Equal(t, "false", s.Scheduler.ExtraArgs["leader-elect"])
	assert.Equal(t, false, *s.Scheduler.ProfilingEnabled)
	assert.Equal(t, "true", s.Kubelet.ExtraArgs["fail-swap-on"])
	assert.Equal(t, "true", s.Network.KubeProxy.ExtraArgs["masquerade-all"])
	var strays []Entry
	for _, e := range rep.Entries {
		if e.Flag == "false" {
			strays = append(strays, e)
		}
	}
	require.Len(t, strays, 2)
	for i, e := range strays {
		assert.Equal(t, StatusUnconvertible, e.Status)
		assert.Equal(t, []int32{3, 5}[i], e.Line, "the stray element is reported with its line")
		assert.Contains(t, e.Reason, "stray argument")
		assert.Contains(t, e.Reason, "=false")
	}
}

// In a list written over several lines, the stray element is reported with
// its own line.
func TestStrayElementLineInMultilineList(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
custom_kube_api_server_flags = [
  "--allow-privileged",
  "false",
  "--event-ttl=2h",
]
`)
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	var stray []Entry
	for _, e := range entriesFor(rep, "cluster_config.custom_kube_api_server_flags") {
		if e.Status == StatusUnconvertible {
			stray = append(stray, e)
		} else {
			assert.Equal(t, int32(3), e.Line, "the flags themselves keep the key's line")
		}
	}
	require.Len(t, stray, 1)
	assert.Equal(t, "false", stray[0].Flag)
	assert.Equal(t, int32(5), stray[0].Line)
}
