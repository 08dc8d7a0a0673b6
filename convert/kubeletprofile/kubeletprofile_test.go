package kubeletprofile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
)

// validCase is one flag that must convert, with the field it sets and the
// value expected at that field in Result.Values.
type validCase struct {
	in    string // one list element (no shell quoting needed)
	field string
	want  any
}

// validCases covers every entry of specs at least once (checked by
// TestValidCasesCoverEverySpec) and every value shape.
var validCases = []validCase{
	// Integers.
	{"--max-pods=250", "maxPods", int64(250)},
	{"--max-pods=0x10", "maxPods", int64(16)},
	{"--pods-per-core=10", "podsPerCore", int64(10)},
	{"--pod-max-pids=-1", "podPidsLimit", int64(-1)},
	{"--pod-max-pids=4096", "podPidsLimit", int64(4096)},
	{"--max-open-files=1000000", "maxOpenFiles", int64(1000000)},
	{"--node-status-max-images=-1", "nodeStatusMaxImages", int64(-1)},
	{"--eviction-max-pod-grace-period=-1", "evictionMaxPodGracePeriod", int64(-1)},
	{"--image-gc-high-threshold=85", "imageGCHighThresholdPercent", int64(85)},
	{"--image-gc-low-threshold=80", "imageGCLowThresholdPercent", int64(80)},
	{"--registry-qps=5", "registryPullQPS", int64(5)},
	{"--registry-burst=10", "registryBurst", int64(10)},
	{"--event-qps=50", "eventRecordQPS", int64(50)},
	{"--event-burst=100", "eventBurst", int64(100)},
	{"--kube-api-qps=50", "kubeAPIQPS", int64(50)},
	{"--kube-api-burst=100", "kubeAPIBurst", int64(100)},
	{"--container-log-max-files=5", "containerLogMaxFiles", int64(5)},
	{"--iptables-masquerade-bit=14", "iptablesMasqueradeBit", int64(14)},
	{"--iptables-drop-bit=15", "iptablesDropBit", int64(15)},
	{"--port=10250", "port", int64(10250)},
	{"--read-only-port=0", "readOnlyPort", int64(0)},
	{"--healthz-port=10248", "healthzPort", int64(10248)},
	{"--oom-score-adj=-999", "oomScoreAdj", int64(-999)},
	{"--oom-score-adj -999", "oomScoreAdj", int64(-999)},
	{"-v=4", "logging.verbosity", int64(4)},
	{"--v 2", "logging.verbosity", int64(2)},

	// Booleans.
	{"--serialize-image-pulls=false", "serializeImagePulls", false},
	{"--cgroups-per-qos=true", "cgroupsPerQOS", true},
	{"--cpu-cfs-quota=0", "cpuCFSQuota", false},
	{"--protect-kernel-defaults", "protectKernelDefaults", true},
	{"--fail-swap-on=false", "failSwapOn", false},
	{"--make-iptables-util-chains=True", "makeIPTablesUtilChains", true},
	{"--rotate-certificates", "rotateCertificates", true},
	{"--rotate-server-certificates=true", "serverTLSBootstrap", true},
	{"--anonymous-auth=false", "authentication.anonymous.enabled", false},
	{"--authentication-token-webhook", "authentication.webhook.enabled", true},
	{"--enable-server=true", "enableServer", true},
	{"--enable-debugging-handlers=false", "enableDebuggingHandlers", false},
	{"--contention-profiling=t", "enableContentionProfiling", true},
	{"--kernel-memcg-notification", "kernelMemcgNotification", true},
	{"--local-storage-capacity-isolation=false", "localStorageCapacityIsolation", false},
	{"--register-node=true", "registerNode", true},
	{"--runonce=false", "runOnce", false},
	{"--enable-controller-attach-detach=F", "enableControllerAttachDetach", false},
	{"--seccomp-default", "seccompDefault", true},
	{"--log-text-split-stream", "logging.options.text.splitStream", true},
	{"--log-json-split-stream=true", "logging.options.json.splitStream", true},

	// Strings.
	{"--kube-reserved-cgroup=/high", "kubeReservedCgroup", "/high"},
	{"--system-reserved-cgroup=/system.slice", "systemReservedCgroup", "/system.slice"},
	{"--kube-api-content-type=application/vnd.kubernetes.protobuf", "contentType", "application/vnd.kubernetes.protobuf"},
	{"--cgroup-root=/", "cgroupRoot", "/"},
	{"--cgroup-root=", "cgroupRoot", ""},
	{"--kubelet-cgroups=/kubelet.slice", "kubeletCgroups", "/kubelet.slice"},
	{"--system-cgroups=/system.slice", "systemCgroups", "/system.slice"},
	{"--container-log-max-size=50Mi", "containerLogMaxSize", "50Mi"},
	{"--cluster-domain=cluster.local", "clusterDomain", "cluster.local"},
	{"--resolv-conf=/run/systemd/resolve/resolv.conf", "resolvConf", "/run/systemd/resolve/resolv.conf"},
	{"--tls-cert-file=/etc/kubelet/tls.crt", "tlsCertFile", "/etc/kubelet/tls.crt"},
	{"--tls-private-key-file=/etc/kubelet/tls.key", "tlsPrivateKeyFile", "/etc/kubelet/tls.key"},
	{"--client-ca-file=/etc/kubernetes/ca.crt", "authentication.x509.clientCAFile", "/etc/kubernetes/ca.crt"},
	{"--pod-manifest-path=/etc/kubernetes/manifests", "staticPodPath", "/etc/kubernetes/manifests"},
	{"--manifest-url=http://example.com/pods", "staticPodURL", "http://example.com/pods"},
	{"--volume-plugin-dir=/usr/libexec/kubernetes/kubelet-plugins/volume/exec/", "volumePluginDir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/"},
	{"--provider-id=aws:///us-east-1a/i-0123", "providerID", "aws:///us-east-1a/i-0123"},
	{"--container-runtime-endpoint=unix:///run/containerd/containerd.sock", "containerRuntimeEndpoint", "unix:///run/containerd/containerd.sock"},
	{"--image-service-endpoint=unix:///run/containerd/containerd.sock", "imageServiceEndpoint", "unix:///run/containerd/containerd.sock"},
	{"--pod-cidr=10.244.0.0/24", "podCIDR", "10.244.0.0/24"},
	{"--reserved-cpus=0-1,6", "reservedSystemCPUs", "0-1,6"},
	{"--reserved-cpus=3", "reservedSystemCPUs", "3"},
	{"--address=0.0.0.0", "address", "0.0.0.0"},
	{"--address=::", "address", "::"},
	{"--healthz-bind-address=127.0.0.1", "healthzBindAddress", "127.0.0.1"},
	{"--log-text-info-buffer-size=2Ki", "logging.options.text.infoBufferSize", "2Ki"},
	{"--log-json-info-buffer-size=512", "logging.options.json.infoBufferSize", "512"},

	// Enumerations.
	{"--cpu-manager-policy=static", "cpuManagerPolicy", "static"},
	{"--memory-manager-policy=Static", "memoryManagerPolicy", "Static"},
	{"--topology-manager-policy=single-numa-node", "topologyManagerPolicy", "single-numa-node"},
	{"--topology-manager-scope=pod", "topologyManagerScope", "pod"},
	{"--cgroup-driver=systemd", "cgroupDriver", "systemd"},
	{"--hairpin-mode=hairpin-veth", "hairpinMode", "hairpin-veth"},
	{"--tls-min-version=VersionTLS12", "tlsMinVersion", "VersionTLS12"},
	{"--authorization-mode=Webhook", "authorization.mode", "Webhook"},
	{"--logging-format=json", "logging.format", "json"},

	// Durations, normalised.
	{"--eviction-pressure-transition-period=30s", "evictionPressureTransitionPeriod", "30s"},
	{"--minimum-image-ttl-duration=2m", "imageMinimumGCAge", "2m0s"},
	{"--sync-frequency=1m", "syncFrequency", "1m0s"},
	{"--file-check-frequency=20s", "fileCheckFrequency", "20s"},
	{"--http-check-frequency=20s", "httpCheckFrequency", "20s"},
	{"--node-status-update-frequency=10s", "nodeStatusUpdateFrequency", "10s"},
	{"--runtime-request-timeout=2m", "runtimeRequestTimeout", "2m0s"},
	{"--streaming-connection-idle-timeout=5m", "streamingConnectionIdleTimeout", "5m0s"},
	{"--volume-stats-agg-period=90s", "volumeStatsAggPeriod", "1m30s"},
	{"--volume-stats-agg-period=-1s", "volumeStatsAggPeriod", "-1s"},
	{"--cpu-manager-reconcile-period=10s", "cpuManagerReconcilePeriod", "10s"},
	{"--cpu-cfs-quota-period=100ms", "cpuCFSQuotaPeriod", "100ms"},
	{"--authentication-token-webhook-cache-ttl=2m", "authentication.webhook.cacheTTL", "2m0s"},
	{"--authorization-webhook-cache-authorized-ttl=5m", "authorization.webhook.cacheAuthorizedTTL", "5m0s"},
	{"--authorization-webhook-cache-unauthorized-ttl=30s", "authorization.webhook.cacheUnauthorizedTTL", "30s"},
	{"--log-flush-frequency=5s", "logging.flushFrequency", "5s"},

	// Lists.
	{"--enforce-node-allocatable=pods,kube-reserved", "enforceNodeAllocatable", []string{"pods", "kube-reserved"}},
	{"--enforce-node-allocatable=none", "enforceNodeAllocatable", []string{"none"}},
	{"--allowed-unsafe-sysctls=net.core.somaxconn, kernel.msg*,,", "allowedUnsafeSysctls", []string{"net.core.somaxconn", "kernel.msg*"}},
	{"--cluster-dns=10.96.0.10,fd00::10", "clusterDNS", []string{"10.96.0.10", "fd00::10"}},
	{"--cluster-dns=", "clusterDNS", []string{}},
	{"--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "tlsCipherSuites",
		[]string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"}},

	// Maps.
	{"--kube-reserved=cpu=200m,memory=512Mi", "kubeReserved", map[string]string{"cpu": "200m", "memory": "512Mi"}},
	{"--system-reserved=cpu=100m, memory=1Gi ,ephemeral-storage=1Gi,pid=1000", "systemReserved",
		map[string]string{"cpu": "100m", "memory": "1Gi", "ephemeral-storage": "1Gi", "pid": "1000"}},
	{"--kube-reserved=", "kubeReserved", map[string]string{}},
	{"--eviction-hard=memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%", "evictionHard",
		map[string]string{"memory.available": "100Mi", "nodefs.available": "10%", "imagefs.available": "15%", "nodefs.inodesFree": "5%"}},
	{"--eviction-hard=memory.available<0%", "evictionHard", map[string]string{"memory.available": "0%"}},
	{"--eviction-soft=memory.available<1.5Gi,pid.available<2.5%", "evictionSoft",
		map[string]string{"memory.available": "1.5Gi", "pid.available": "2.5%"}},
	{"--eviction-soft-grace-period=memory.available=1m30s,nodefs.available=2m", "evictionSoftGracePeriod",
		map[string]string{"memory.available": "1m30s", "nodefs.available": "2m"}},
	{"--eviction-minimum-reclaim=imagefs.available=2Gi,nodefs.available=5%,memory.available=0", "evictionMinimumReclaim",
		map[string]string{"imagefs.available": "2Gi", "nodefs.available": "5%", "memory.available": "0"}},
	{"--feature-gates=A=true,B=false", "featureGates", map[string]bool{"A": true, "B": false}},
	{"--feature-gates= C = 1 ,", "featureGates", map[string]bool{"C": true}},
	{"--cpu-manager-policy-options=full-pcpus-only=true", "cpuManagerPolicyOptions", map[string]string{"full-pcpus-only": "true"}},
	{"--topology-manager-policy-options=prefer-closest-numa-nodes=true", "topologyManagerPolicyOptions",
		map[string]string{"prefer-closest-numa-nodes": "true"}},
	{"--qos-reserved=memory=50%", "qosReserved", map[string]string{"memory": "50%"}},
	{"--manifest-url-header=Authorization:Bearer abc,X-A:1,X-A:2", "staticPodURLHeader",
		map[string][]string{"Authorization": {"Bearer abc"}, "X-A": {"1", "2"}}},

	// Structured lists.
	{"--reserved-memory=0:memory=1Gi,hugepages-2Mi=2Gi;1:memory=2Gi", "reservedMemory", []any{
		map[string]any{"numaNode": int64(0), "limits": map[string]string{"memory": "1Gi", "hugepages-2Mi": "2Gi"}},
		map[string]any{"numaNode": int64(1), "limits": map[string]string{"memory": "2Gi"}},
	}},
	{"--register-with-taints=dedicated=gpu:NoSchedule,example.com/maint:NoExecute", "registerWithTaints", []any{
		map[string]any{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
		map[string]any{"key": "example.com/maint", "effect": "NoExecute"},
	}},
	{"--register-with-taints=", "registerWithTaints", []any{}},
	{"--vmodule=server*=4,kubelet.go=2", "logging.vmodule", []any{
		map[string]any{"filePattern": "server*", "verbosity": int64(4)},
		map[string]any{"filePattern": "kubelet.go", "verbosity": int64(2)},
	}},

	// Names are matched like the kubelet does: '_' equals '-'.
	{"--max_pods=42", "maxPods", int64(42)},
}

func mapOne(t *testing.T, in string) Result {
	t.Helper()
	r, err := MapList([]string{in})
	require.NoError(t, err)
	require.Len(t, r.Flags, 1)
	return r
}

func TestMapValid(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.in, func(t *testing.T) {
			r := mapOne(t, c.in)
			fr := r.Flags[0]
			assert.Equal(t, Converted, fr.Status, fr.Reason)
			assert.Equal(t, c.field, fr.Field)
			assert.Equal(t, c.want, getPath(r.Values, c.field))
			_, err := json.Marshal(r.Values)
			assert.NoError(t, err)
		})
	}
}

func TestValidCasesCoverEverySpec(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range validCases {
		flags, err := flagparse.ParseList([]string{c.in})
		require.NoError(t, err)
		covered[flagKey(flags[0].Name)] = true
	}
	for name := range specs {
		assert.True(t, covered[name], "no valid test case for --%s", name)
	}
}

func TestNestedPaths(t *testing.T) {
	r, err := MapString("--anonymous-auth=false --authentication-token-webhook --client-ca-file=/ca.crt " +
		"--authorization-mode=Webhook --authorization-webhook-cache-authorized-ttl=5m -v=3 --log-json-split-stream")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": "/ca.crt"},
		},
		"authorization": map[string]any{
			"mode":    "Webhook",
			"webhook": map[string]any{"cacheAuthorizedTTL": "5m0s"},
		},
		"logging": map[string]any{
			"verbosity": int64(3),
			"options":   map[string]any{"json": map[string]any{"splitStream": true}},
		},
	}, r.Values)
}

func TestMapInvalid(t *testing.T) {
	tests := []struct {
		in     string
		wantIn []string // substrings of the reason
	}{
		{"--max-pods=abc", []string{`"abc"`, "--max-pods", "whole number"}},
		{"--max-pods=-1", []string{"--max-pods", "between 0 and"}},
		{"--max-pods=2147483648", []string{"--max-pods", "whole number"}},
		{"--pod-max-pids=9223372036854775808", []string{"--pod-max-pids", "whole number"}},
		{"--pod-max-pids=1.5", []string{"--pod-max-pids", "whole number"}},
		{"--image-gc-high-threshold=101", []string{"between 0 and 100"}},
		{"--oom-score-adj=-1001", []string{"between -1000 and 1000"}},
		{"--port=0", []string{"--port", "between 1 and 65535"}},
		{"--read-only-port=70000", []string{"between 0 and 65535"}},
		{"--iptables-drop-bit=32", []string{"between 0 and 31"}},
		{"--container-log-max-files=1", []string{"between 2 and"}},
		{"--node-status-max-images=-2", []string{"between -1 and"}},
		{"--event-qps=-5", []string{"between 0 and"}},
		{"--fail-swap-on=maybe", []string{`"maybe"`, "true or false"}},
		{"--fail-swap-on=", []string{"true or false"}},
		{"-v=-1", []string{"-v", "verbosity"}},
		{"--sync-frequency=10", []string{`"10"`, "duration"}},
		{"--minimum-image-ttl-duration=-1m", []string{"non-negative duration"}},
		{"--cpu-cfs-quota-period=2s", []string{"between 1ms and 1s"}},
		{"--cpu-manager-policy=dynamic", []string{"none, static"}},
		{"--memory-manager-policy=static", []string{"None, Static"}},
		{"--topology-manager-policy=strict", []string{"single-numa-node"}},
		{"--topology-manager-scope=node", []string{"container, pod"}},
		{"--cgroup-driver=docker", []string{"cgroupfs, systemd"}},
		{"--hairpin-mode=bridge", []string{"promiscuous-bridge"}},
		{"--tls-min-version=TLS1.2", []string{"VersionTLS12"}},
		{"--authorization-mode=RBAC", []string{"AlwaysAllow, Webhook"}},
		{"--logging-format=yaml", []string{"text, json"}},
		{"--address=localhost", []string{"IP address"}},
		{"--address=", []string{"IP address"}},
		{"--healthz-bind-address=010.0.0.1", []string{"IP address"}},
		{"--container-log-max-size=10MB", []string{"quantity"}},
		{"--log-json-info-buffer-size=lots", []string{"quantity"}},
		{"--reserved-cpus=0-", []string{"CPU list"}},
		{"--reserved-cpus=3-1", []string{"CPU list"}},
		{"--reserved-cpus=0, 1", []string{"CPU list"}},
		{"--cluster-dns=10.96.0.10,dns.local", []string{`"dns.local"`, "IP addresses"}},
		{"--tls-cipher-suites=TLS_FAKE", []string{"TLS_FAKE", "cipher"}},
		{"--enforce-node-allocatable=pods,everything", []string{`"everything"`}},
		{"--enforce-node-allocatable=pods,pods", []string{"listed twice"}},
		{"--enforce-node-allocatable=none,pods", []string{`"none" cannot be combined`}},
		{"--kube-reserved=cpu", []string{"malformed item", "resource=quantity"}},
		{"--kube-reserved=gpu=1", []string{`cannot reserve "gpu"`}},
		{"--kube-reserved=cpu=lots", []string{"cpu=lots", "non-negative quantity"}},
		{"--system-reserved=memory=-1Gi", []string{"non-negative quantity"}},
		{"--kube-reserved==1", []string{"malformed item"}},
		{"--eviction-hard=memory.available=100Mi", []string{"malformed item", "signal<threshold"}},
		{"--eviction-hard=memory.free<100Mi", []string{`unknown eviction signal "memory.free"`}},
		{"--eviction-hard=memory.available<0", []string{"positive quantity"}},
		{"--eviction-soft=nodefs.available<110%", []string{"percentage from 0% to 100%"}},
		{"--eviction-soft=nodefs.available<abc%", []string{"percentage"}},
		{"--eviction-soft-grace-period=memory.available=90", []string{"non-negative duration"}},
		{"--eviction-soft-grace-period=memory.available=-1m", []string{"non-negative duration"}},
		{"--eviction-minimum-reclaim=nodefs.available=0%", []string{"above 0%"}},
		{"--eviction-minimum-reclaim=nodefs.available=-1Gi", []string{"non-negative quantity"}},
		{"--eviction-minimum-reclaim=disk=1Gi", []string{"unknown eviction signal"}},
		{"--feature-gates=A=yes", []string{"A=yes", "Name=true|false"}},
		{"--feature-gates=A", []string{"malformed item"}},
		{"--cpu-manager-policy-options=full-pcpus-only=true,align-by-socket=true", []string{"one option=value per flag"}},
		{"--cpu-manager-policy-options=full-pcpus-only", []string{"one option=value per flag"}},
		{"--topology-manager-policy-options==true", []string{"one option=value per flag"}},
		{"--qos-reserved=cpu=50%", []string{`cannot reserve "cpu"`}},
		{"--qos-reserved=memory=50", []string{"whole percentage"}},
		{"--qos-reserved=memory=150%", []string{"whole percentage"}},
		{"--manifest-url-header=Authorization", []string{"Header:value"}},
		{"--reserved-memory=", []string{"empty value"}},
		{"--reserved-memory=memory=1Gi", []string{"malformed entry"}},
		{"--reserved-memory=x:memory=1Gi", []string{"NUMA node"}},
		{"--reserved-memory=-1:memory=1Gi", []string{"NUMA node"}},
		{"--reserved-memory=0:memory=1Gi;", []string{"malformed entry"}},
		{"--reserved-memory=0:cpu=1", []string{`unknown memory type "cpu"`}},
		{"--reserved-memory=0:memory=lots", []string{`"lots" is not a quantity`}},
		{"--reserved-memory=0:memory", []string{"malformed limit"}},
		{"--register-with-taints=dedicated=gpu", []string{"malformed taint"}},
		{"--register-with-taints=dedicated=gpu:NoWay", []string{`unknown effect "NoWay"`}},
		{"--register-with-taints=bad key:NoSchedule", []string{"taint key"}},
		{"--register-with-taints=k=bad value!:NoSchedule", []string{"taint value"}},
		{"--register-with-taints=a:NoSchedule,a=b:NoSchedule", []string{"listed twice"}},
		{"--register-with-taints=a-", []string{"malformed taint"}},
		{"--vmodule=server*", []string{"malformed item", "pattern=N"}},
		{"--vmodule=server*=x", []string{"verbosity"}},
		{"--runonce", []string{"--runonce=true", "runOnce mode is deprecated"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := mapOne(t, tt.in)
			fr := r.Flags[0]
			assert.Equal(t, Unconvertible, fr.Status)
			assert.NotEmpty(t, fr.Field, "an invalid value still names the target field")
			for _, want := range tt.wantIn {
				assert.Contains(t, fr.Reason, want)
			}
			assert.Empty(t, r.Values, "an invalid value must not be written")
		})
	}
}

func TestInvalidReasonNamesFlagValueAndForm(t *testing.T) {
	r := mapOne(t, "--eviction-hard=memory.available<lots")
	assert.Equal(t, `invalid value "memory.available<lots" for --eviction-hard: threshold "lots" for memory.available `+
		`is not a positive quantity or a percentage; expected signal<threshold pairs such as `+
		`memory.available<100Mi,nodefs.available<10%`, r.Flags[0].Reason)
}

func TestMissingValue(t *testing.T) {
	r, err := MapString("--max-pods --fail-swap-on")
	require.NoError(t, err)
	require.Len(t, r.Flags, 2)
	assert.Equal(t, Unconvertible, r.Flags[0].Status)
	assert.Equal(t, "--max-pods needs a value; write --max-pods=<value>", r.Flags[0].Reason)
	assert.Equal(t, Converted, r.Flags[1].Status)
	assert.Equal(t, map[string]any{"failSwapOn": true}, r.Values)
}

func TestNonConfigFlags(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"--node-ip=10.0.0.5", reasonPerNode},
		{"--hostname-override=node1", reasonPerNode},
		{"--node-labels=a=b,c=d", reasonPerNode},
		{"--cloud-provider=external", reasonPerNode},
		{"--cloud-config=/etc/cloud.conf", reasonPerNode},
		{"--image-credential-provider-config=/etc/cp.yaml", reasonPerNode},
		{"--image-credential-provider-bin-dir=/opt/cp", reasonPerNode},
		{"--runtime-cgroups=/runtime", reasonPerNode},
		{"--root-dir=/var/lib/kubelet", reasonManaged},
		{"--cert-dir=/var/lib/kubelet/pki", reasonManaged},
		{"--kubeconfig=/etc/kubernetes/kubelet.conf", reasonManaged},
		{"--bootstrap-kubeconfig=/etc/kubernetes/bootstrap.conf", reasonManaged},
		{"--config=/var/lib/kubelet/config.yaml", reasonManaged},
		{"--config-dir=/etc/kubelet.conf.d", reasonManaged},
		{"--lock-file=/var/run/lock/kubelet.lock", reasonManaged},
		{"--exit-on-lock-contention", reasonManaged},
		{"--minimum-container-ttl-duration=1m", reasonContainerG},
		{"--maximum-dead-containers=100", reasonContainerG},
		{"--maximum-dead-containers-per-container=2", reasonContainerG},
		{"--container-runtime=remote", reasonRemoved},
		{"--network-plugin=cni", reasonRemoved},
		{"--cni-bin-dir=/opt/cni/bin", reasonRemoved},
		{"--dynamic-config-dir=/x", reasonRemoved},
		{"--log-dir=/var/log", reasonKlog},
		{"--logtostderr=false", reasonKlog},
		{"--experimental-allocatable-ignore-eviction=true", reasonExperiment},
		{"--experimental-mounter-path=/x", reasonExperiment},
		{"--register-schedulable=false", "register-with-taints"},
		{"--keep-terminated-pod-volumes", "deprecated debugging flag"},
		{"--pod-infra-container-image=pause:3.9", "sandbox"},
		{"--windows-service", "Windows-only"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r := mapOne(t, tt.in)
			fr := r.Flags[0]
			assert.Equal(t, Unconvertible, fr.Status)
			assert.Empty(t, fr.Field)
			assert.Contains(t, fr.Reason, tt.want)
			assert.True(t, strings.HasPrefix(fr.Reason, "not a KubeletConfiguration field"), fr.Reason)
			assert.Empty(t, r.Values)
			_, ok := Lookup(fr.Name)
			assert.False(t, ok)
		})
	}
	// Every listed non-config flag has a reason and no spec.
	for name, reason := range nonConfig {
		assert.NotEmpty(t, reason, name)
		_, isSpec := specs[name]
		assert.False(t, isSpec, "%s is both a field and a non-config flag", name)
	}
}

func TestUnknownFlag(t *testing.T) {
	r := mapOne(t, "--no-such-flag=1")
	assert.Equal(t, Unconvertible, r.Flags[0].Status)
	assert.Empty(t, r.Flags[0].Field)
	assert.Contains(t, r.Flags[0].Reason, "unknown kubelet flag")
	assert.Contains(t, r.Flags[0].Reason, "--no-such-flag")
}

func TestRepeatedScalarLastWins(t *testing.T) {
	r, err := MapString("--max-pods=110 --fail-swap-on --max-pods=250")
	require.NoError(t, err)
	assert.Equal(t, int64(250), r.Values["maxPods"])
	assert.Equal(t, FlagResult{Flag: "--max-pods=110", Name: "max-pods", Field: "maxPods", Status: Overridden,
		Reason: "overridden by a later --max-pods in the same profile"}, r.Flags[0])
	assert.Equal(t, FlagResult{Flag: "--max-pods=250", Name: "max-pods", Field: "maxPods", Status: Converted,
		Reason: "overrides an earlier --max-pods"}, r.Flags[2])
}

func TestRepeatedScalarInvalidLaterDoesNotOverride(t *testing.T) {
	r, err := MapString("--max-pods=110 --max-pods=lots")
	require.NoError(t, err)
	assert.Equal(t, int64(110), r.Values["maxPods"])
	assert.Equal(t, Converted, r.Flags[0].Status)
	assert.Equal(t, Unconvertible, r.Flags[1].Status)
}

func TestRepeatedScalarAcrossSpellings(t *testing.T) {
	r, err := MapString("-v=2 --v=5 --max_pods=1 --max-pods=2")
	require.NoError(t, err)
	assert.Equal(t, int64(5), getPath(r.Values, "logging.verbosity"))
	assert.Equal(t, int64(2), r.Values["maxPods"])
	assert.Equal(t, "overridden by a later -v in the same profile", r.Flags[0].Reason)
	assert.Equal(t, "overrides an earlier -v", r.Flags[1].Reason)
	assert.Equal(t, "overrides an earlier --max_pods", r.Flags[3].Reason)
}

func TestRepeatedTaintsReplace(t *testing.T) {
	r, err := MapString("--register-with-taints=a:NoSchedule --register-with-taints=b:NoExecute")
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"key": "b", "effect": "NoExecute"}}, r.Values["registerWithTaints"])
	assert.Equal(t, Overridden, r.Flags[0].Status)
}

func TestRepeatedMapsMerge(t *testing.T) {
	r, err := MapString("--kube-reserved=cpu=100m,memory=1Gi --kube-reserved=cpu=200m,pid=100 " +
		"--feature-gates=A=true --feature-gates=A=false,B=true --eviction-hard=memory.available<1Gi --eviction-hard=nodefs.available<5%")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cpu": "200m", "memory": "1Gi", "pid": "100"}, r.Values["kubeReserved"])
	assert.Equal(t, map[string]bool{"A": false, "B": true}, r.Values["featureGates"])
	assert.Equal(t, map[string]string{"memory.available": "1Gi", "nodefs.available": "5%"}, r.Values["evictionHard"])

	// Partly overridden: still converted, with a note.
	assert.Equal(t, Converted, r.Flags[0].Status)
	assert.Equal(t, "cpu overridden by a later --kube-reserved in the same profile", r.Flags[0].Reason)
	assert.Equal(t, Converted, r.Flags[1].Status)
	assert.Equal(t, "overrides cpu from an earlier --kube-reserved", r.Flags[1].Reason)
	// Fully overridden: nothing of it remains.
	assert.Equal(t, Overridden, r.Flags[2].Status)
	assert.Contains(t, r.Flags[2].Reason, "overridden by a later --feature-gates")
	// Disjoint keys: both converted, no notes.
	assert.Equal(t, Converted, r.Flags[4].Status)
	assert.Empty(t, r.Flags[4].Reason)
	assert.Equal(t, Converted, r.Flags[5].Status)
	assert.Empty(t, r.Flags[5].Reason)
}

func TestRepeatedPolicyOptionsMerge(t *testing.T) {
	r, err := MapString("--cpu-manager-policy-options=full-pcpus-only=true --cpu-manager-policy-options=align-by-socket=true")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"full-pcpus-only": "true", "align-by-socket": "true"}, r.Values["cpuManagerPolicyOptions"])
}

func TestRepeatedListsAccumulate(t *testing.T) {
	r, err := MapString("--cluster-dns=10.0.0.10 --cluster-dns=10.0.0.11,10.0.0.12 " +
		"--reserved-memory=0:memory=1Gi --reserved-memory=1:memory=2Gi " +
		"--vmodule=a=1 --vmodule=b=2 --manifest-url-header=X:1 --manifest-url-header=X:2,Y:3")
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.10", "10.0.0.11", "10.0.0.12"}, r.Values["clusterDNS"])
	assert.Equal(t, []any{
		map[string]any{"numaNode": int64(0), "limits": map[string]string{"memory": "1Gi"}},
		map[string]any{"numaNode": int64(1), "limits": map[string]string{"memory": "2Gi"}},
	}, r.Values["reservedMemory"])
	assert.Equal(t, []any{
		map[string]any{"filePattern": "a", "verbosity": int64(1)},
		map[string]any{"filePattern": "b", "verbosity": int64(2)},
	}, getPath(r.Values, "logging.vmodule"))
	assert.Equal(t, map[string][]string{"X": {"1", "2"}, "Y": {"3"}}, r.Values["staticPodURLHeader"])
	for i, fr := range r.Flags {
		assert.Equal(t, Converted, fr.Status, i)
		if i%2 == 1 {
			assert.Contains(t, fr.Reason, "added to the values of an earlier", i)
		}
	}
}

func TestNotes(t *testing.T) {
	r, err := MapString("--iptables-masquerade-bit=14 --container-runtime-endpoint=unix:///var/run/cri-dockerd.sock " +
		"--provider-id=x --cpu-cfs-quota-period=50ms --feature-gates=")
	require.NoError(t, err)
	assert.Contains(t, r.Flags[0].Reason, "no effect")
	assert.Contains(t, r.Flags[1].Reason, "cri-dockerd")
	assert.Contains(t, r.Flags[2].Reason, "per node")
	assert.Contains(t, r.Flags[3].Reason, "CustomCPUCFSQuotaPeriod")
	assert.Contains(t, r.Flags[4].Reason, "empty value")
	for _, fr := range r.Flags {
		assert.Equal(t, Converted, fr.Status)
	}
}

func TestEveryFlagGetsOneResult(t *testing.T) {
	profile := "--max-pods=1 --node-ip=1.2.3.4 --bogus --max-pods=x --kube-reserved=cpu=1 --kube-reserved=cpu=2 --max-pods=3"
	flags, err := flagparse.ParseString(profile)
	require.NoError(t, err)
	r := Map(flags)
	require.Len(t, r.Flags, len(flags))
	for i, f := range flags {
		assert.Equal(t, f.Raw, r.Flags[i].Flag)
		assert.Equal(t, f.Name, r.Flags[i].Name)
	}
}

func TestMapEmpty(t *testing.T) {
	r := Map(nil)
	assert.NotNil(t, r.Values)
	assert.Empty(t, r.Values)
	assert.Empty(t, r.Flags)

	r, err := MapString("   ")
	require.NoError(t, err)
	assert.NotNil(t, r.Values)
}

func TestMapStringAndListErrors(t *testing.T) {
	_, err := MapString(`--node-labels "a=b`)
	var pe *flagparse.Error
	require.ErrorAs(t, err, &pe)

	_, err = MapList([]string{"--max-pods=1", "stray"})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Index)
}

func TestMapList(t *testing.T) {
	r, err := MapList([]string{"--max-pods", "250", "--node-labels=a=b c", "--kube-reserved cpu=1"})
	require.NoError(t, err)
	require.Len(t, r.Flags, 3)
	assert.Equal(t, int64(250), r.Values["maxPods"])
	assert.Equal(t, map[string]string{"cpu": "1"}, r.Values["kubeReserved"])
	assert.Equal(t, Unconvertible, r.Flags[1].Status)
}

func TestLookup(t *testing.T) {
	for flag, want := range map[string]string{
		"max-pods":                   "maxPods",
		"--max-pods":                 "maxPods",
		"max_pods":                   "maxPods",
		"rotate-server-certificates": "serverTLSBootstrap",
		"anonymous-auth":             "authentication.anonymous.enabled",
		"authorization-webhook-cache-unauthorized-ttl": "authorization.webhook.cacheUnauthorizedTTL",
		"v":                          "logging.verbosity",
		"-v":                         "logging.verbosity",
		"reserved-cpus":              "reservedSystemCPUs",
		"minimum-image-ttl-duration": "imageMinimumGCAge",
		"seccomp-default":            "seccompDefault",
	} {
		got, ok := Lookup(flag)
		assert.True(t, ok, flag)
		assert.Equal(t, want, got, flag)
	}
	for _, flag := range []string{"node-ip", "node-labels", "experimental-foo", "nope", "", "-"} {
		got, ok := Lookup(flag)
		assert.False(t, ok, flag)
		assert.Empty(t, got, flag)
	}
}

func TestDeterministic(t *testing.T) {
	elems := make([]string, 0, len(validCases))
	for _, c := range validCases {
		elems = append(elems, c.in)
	}
	first, err := MapList(elems)
	require.NoError(t, err)
	firstJSON, err := json.Marshal(first)
	require.NoError(t, err)
	for range 20 {
		again, err := MapList(elems)
		require.NoError(t, err)
		againJSON, err := json.Marshal(again)
		require.NoError(t, err)
		require.True(t, bytes.Equal(firstJSON, againJSON))
		require.Equal(t, first, again)
	}
}

func TestNoSharedStateBetweenCalls(t *testing.T) {
	a := mapOne(t, "--kube-reserved=cpu=1")
	a.Values["kubeReserved"].(map[string]string)["cpu"] = "mutated"
	b := mapOne(t, "--kube-reserved=cpu=1")
	assert.Equal(t, map[string]string{"cpu": "1"}, b.Values["kubeReserved"])
}

// benchProfile is a realistic 10-flag MKE 3 kubelet profile.
const benchProfile = `--kube-reserved=cpu=200m,memory=512Mi,ephemeral-storage=1Gi --kube-reserved-cgroup=/high ` +
	`--system-reserved=cpu=100m,memory=256Mi --eviction-hard=memory.available<100Mi,nodefs.available<10%,imagefs.available<15% ` +
	`--max-pods 250 --image-gc-high-threshold=85 --image-gc-low-threshold=80 ` +
	`--feature-gates=KubeletTracing=true,MemoryQoS=false --node-labels "tier=high zone=a" --minimum-image-ttl-duration=2m`

func BenchmarkMapString(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := MapString(benchProfile)
		if err != nil || len(r.Flags) != 10 {
			b.Fatalf("unexpected result: %v, %d flags", err, len(r.Flags))
		}
	}
}

func TestRepeatedMapChain(t *testing.T) {
	r, err := MapString("--kube-reserved=cpu=1 --kube-reserved=cpu=2,memory=1Gi --kube-reserved=memory=2Gi")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cpu": "2", "memory": "2Gi"}, r.Values["kubeReserved"])
	assert.Equal(t, Overridden, r.Flags[0].Status)
	assert.Equal(t, "overridden by a later --kube-reserved in the same profile (it sets every key again)", r.Flags[0].Reason)
	assert.Equal(t, Converted, r.Flags[1].Status)
	assert.Equal(t, "memory overridden by a later --kube-reserved in the same profile; overrides cpu from an earlier --kube-reserved",
		r.Flags[1].Reason)
	assert.Equal(t, Converted, r.Flags[2].Status)
	assert.Equal(t, "overrides memory from an earlier --kube-reserved", r.Flags[2].Reason)
}

func TestGracePeriodUnknownSignal(t *testing.T) {
	r := mapOne(t, "--eviction-soft-grace-period=disk=1m")
	assert.Equal(t, Unconvertible, r.Flags[0].Status)
	assert.Contains(t, r.Flags[0].Reason, `unknown eviction signal "disk"`)
}

// The kubelet parses flags with pflag: a bare boolean flag means true and
// never takes the next word, which is then a stray argument the kubelet
// refuses. A profile holding one is an error, as on the node.
func TestBooleanFlagTakesNoSeparateValue(t *testing.T) {
	_, err := MapString("--max-pods=50 --fail-swap-on false")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"false": stray argument: --fail-swap-on is a boolean flag`)
	r, err := MapString("--fail-swap-on --max-pods 50")
	require.NoError(t, err)
	assert.Equal(t, true, r.Values["failSwapOn"])
	assert.Equal(t, int64(50), r.Values["maxPods"])
	for _, name := range []string{"fail-swap-on", "--serialize-image-pulls", "exit-on-lock-contention", "anonymous_auth"} {
		assert.True(t, IsBool(name), name)
	}
	for _, name := range []string{"max-pods", "node-ip", "feature-gates"} {
		assert.False(t, IsBool(name), name)
	}
}

func TestMapStringLenient(t *testing.T) {
	r, strays, err := MapStringLenient(`--fail-swap-on false --node-labels "a=b c" --max-pods=50 junk`)
	if err != nil {
		t.Fatal(err)
	}
	if len(strays) != 2 || strays[0].Input != "false" || strays[0].Index != 1 || strays[1].Input != "junk" || strays[1].Index != 5 {
		t.Fatalf("strays: %+v", strays)
	}
	if !strings.Contains(strays[0].Reason, "--fail-swap-on=false") {
		t.Errorf("reason: %s", strays[0].Reason)
	}
	if r.Values["maxPods"] != int64(50) || r.Values["failSwapOn"] != true {
		t.Errorf("values: %v", r.Values)
	}
	if len(r.Flags) != 3 || r.Flags[1].Flag != `--node-labels 'a=b c'` {
		t.Errorf("flags: %+v", r.Flags)
	}
	if _, _, err := MapStringLenient(`--node-labels "a=b`); err == nil {
		t.Error("an unterminated quote is an error")
	}
}
