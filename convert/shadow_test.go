package convert

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 13: a custom flag and a structured key that set the same thing give
// one value; MKE 3 applies custom flags last, so the flag wins and the key
// is dropped with a reason naming it.
func TestShadowedKeys(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
kubelet_max_pods = 100
nodeport_range = "32768-35535"
service_cluster_ip_range = "10.96.0.0/16"
kube_api_server_audit_log_maxage = 30
cipher_suites_for_kube_api_server = "TLS_AES_128_GCM_SHA256"
cluster_name = "prod"
custom_kubelet_flags = ["--max-pods=50"]
custom_kube_api_server_flags = ["--service-node-port-range=30000-32767", "--service-cluster-ip-range=10.100.0.0/16", "--audit-log-maxage=45", "--tls-cipher-suites=TLS_AES_256_GCM_SHA384"]
custom_kube_controller_manager_flags = ["--cluster-name=other"]
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	s := out.Spec
	assert.Equal(t, 50, s.Kubelet.MaxPods)
	assert.NotContains(t, s.Kubelet.ExtraArgs, "max-pods", "one value: not also in extraArgs")
	assert.Equal(t, "30000-32767", s.Network.NodePortRange)
	assert.NotContains(t, s.APIServer.ExtraArgs, "service-node-port-range")
	assert.Equal(t, "10.100.0.0/16", s.Network.ServiceCIDR)
	assert.NotContains(t, s.APIServer.ExtraArgs, "service-cluster-ip-range")
	assert.Equal(t, 45, s.APIServer.Audit.MaxAge)
	assert.NotContains(t, s.APIServer.ExtraArgs, "audit-log-maxage")
	assert.Equal(t, "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384", s.APIServer.ExtraArgs["tls-cipher-suites"], "pflag appends list flags: MKE 3 used both")
	assert.Equal(t, "other", s.ControllerManager.ExtraArgs["cluster-name"])

	for key, flag := range map[string]string{
		"kubelet_max_pods":                 "--max-pods=50",
		"nodeport_range":                   "--service-node-port-range=30000-32767",
		"service_cluster_ip_range":         "--service-cluster-ip-range=10.100.0.0/16",
		"kube_api_server_audit_log_maxage": "--audit-log-maxage=45",
		"cluster_name":                     "--cluster-name=other",
	} {
		es := entriesFor(rep, cc+key)
		require.Len(t, es, 1, key)
		assert.Equal(t, StatusDropped, es[0].Status, key)
		assert.True(t, strings.HasPrefix(es[0].Reason, "shadowed by "+flag+" in cluster_config.custom_"), "%s: %s", key, es[0].Reason)
		assert.NotZero(t, es[0].Line, key)
	}
	assert.Equal(t, StatusConverted, statusOf(t, rep, cc+"cipher_suites_for_kube_api_server"))
	for _, e := range entriesFor(rep, cc+"custom_kube_api_server_flags") {
		assert.Equal(t, StatusConverted, e.Status, e.Flag)
	}
	// No target is written twice by converted entries.
	seen := map[string]string{}
	for _, e := range rep.Entries {
		if e.Status != StatusConverted || e.Target == "" || strings.Contains(e.Target, "tls-cipher-suites") {
			continue
		}
		if prev, ok := seen[e.Target]; ok && prev != e.Key {
			t.Errorf("%s converted from both %s and %s", e.Target, prev, e.Key)
		}
		seen[e.Target] = e.Key
	}
}

// The ingress NodePorts are checked against the range the API server really
// used: the custom flag's.
func TestIngressNodePortsUseTheWinningRange(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
nodeport_range = "32768-35535"
custom_kube_api_server_flags = ["--service-node-port-range=30000-32767"]
[cluster_config.ingress_controller]
enabled = true
[[cluster_config.ingress_controller.ingress_exposed_ports]]
name = "http2"
port = 80
target_port = 80
node_port = 33000
protocol = "TCP"
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	assert.Equal(t, "30000-32767", out.Spec.Network.NodePortRange)
	var why []string
	for _, e := range rep.Blocking() {
		why = append(why, e.Reason)
	}
	assert.Contains(t, strings.Join(why, "\n"), "33000 is outside spec.network.nodePortRange 30000-32767")
}

// An unusable flag value does not win: the key keeps its value.
func TestShadowingFlagWithBadValue(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
kubelet_max_pods = 100
custom_kubelet_flags = ["--max-pods=lots"]
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	assert.Equal(t, 100, out.Spec.Kubelet.MaxPods)
	assert.Equal(t, StatusConverted, statusOf(t, rep, cc+"kubelet_max_pods"))
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"custom_kubelet_flags"))
}

// One --kube-reserved is every node's reservation: it shadows both per-role
// keys; --pod-max-pids shadows the hardening PID limit.
func TestKubeReservedAndPodPidsShadowing(t *testing.T) {
	cfg := mustParse(t, `[hardening_configuration]
hardening_enabled = true
pids_limit_k8s = 4096
pids_limit_unspecified_k8s = false
[cluster_config]
calico_kdd = true
manager_kube_reserved_resources = "cpu=250m,memory=2Gi,ephemeral-storage=4Gi"
worker_kube_reserved_resources = "cpu=50m,memory=300Mi,ephemeral-storage=500Mi"
custom_kubelet_flags = ["--kube-reserved=cpu=100m,memory=1Gi", "--pod-max-pids=2048"]
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	k := out.Spec.Kubelet
	assert.Equal(t, map[string]string{"cpu": "100m", "memory": "1Gi", "ephemeral-storage": "4Gi"}, k.ManagerKubeReserved, "pflag merges map flags")
	assert.Equal(t, map[string]string{"cpu": "100m", "memory": "1Gi", "ephemeral-storage": "500Mi"}, k.WorkerKubeReserved)
	assert.Equal(t, 2048, k.PodPidsLimit)
	assert.NotContains(t, k.ExtraArgs, "kube-reserved")
	assert.NotContains(t, k.ExtraArgs, "pod-max-pids")
	assert.Equal(t, StatusDropped, statusOf(t, rep, "hardening_configuration.pids_limit_k8s"))
	for _, key := range []string{cc + "manager_kube_reserved_resources", cc + "worker_kube_reserved_resources"} {
		assert.Equal(t, StatusConverted, statusOf(t, rep, key), key)
		assert.Contains(t, entriesFor(rep, key)[0].Reason, "merged with --kube-reserved=cpu=100m,memory=1Gi")
	}
}
