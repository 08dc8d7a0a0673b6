package kubeletprofile

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
)

// decodeStrict decodes Values the way a strict consumer would: unknown
// fields are errors, so a wrong name or shape fails the test.
func decodeStrict(t testing.TB, values map[string]any) kubeletv1beta1.KubeletConfiguration {
	t.Helper()
	data, err := json.Marshal(values)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var kc kubeletv1beta1.KubeletConfiguration
	require.NoError(t, dec.Decode(&kc), "%s", data)
	return kc
}

// TestValuesDecodeIntoKubeletConfiguration proves field names and shapes
// against the real v1beta1 type: one profile with the first valid case of
// every flag, decoded strictly, then checked field by field.
func TestValuesDecodeIntoKubeletConfiguration(t *testing.T) {
	seen := map[string]bool{}
	var elems []string
	for _, c := range validCases {
		flags, err := flagparse.ParseList([]string{c.in})
		require.NoError(t, err)
		if k := flagKey(flags[0].Name); !seen[k] {
			seen[k] = true
			elems = append(elems, c.in)
		}
	}
	r, err := MapList(elems)
	require.NoError(t, err)
	for _, fr := range r.Flags {
		require.Equal(t, Converted, fr.Status, "%s: %s", fr.Flag, fr.Reason)
	}
	kc := decodeStrict(t, r.Values)

	i32 := func(p *int32) int32 { require.NotNil(t, p); return *p }
	b := func(p *bool) bool { require.NotNil(t, p); return *p }
	q := func(s string) resource.Quantity { return resource.MustParse(s) }

	// Integers.
	assert.Equal(t, int32(250), kc.MaxPods)
	assert.Equal(t, int32(10), kc.PodsPerCore)
	require.NotNil(t, kc.PodPidsLimit)
	assert.Equal(t, int64(-1), *kc.PodPidsLimit)
	assert.Equal(t, int64(1000000), kc.MaxOpenFiles)
	assert.Equal(t, int32(-1), i32(kc.NodeStatusMaxImages))
	assert.Equal(t, int32(-1), kc.EvictionMaxPodGracePeriod)
	assert.Equal(t, int32(85), i32(kc.ImageGCHighThresholdPercent))
	assert.Equal(t, int32(80), i32(kc.ImageGCLowThresholdPercent))
	assert.Equal(t, int32(5), i32(kc.RegistryPullQPS))
	assert.Equal(t, int32(10), kc.RegistryBurst)
	assert.Equal(t, int32(50), i32(kc.EventRecordQPS))
	assert.Equal(t, int32(100), kc.EventBurst)
	assert.Equal(t, int32(50), i32(kc.KubeAPIQPS))
	assert.Equal(t, int32(100), kc.KubeAPIBurst)
	assert.Equal(t, int32(5), i32(kc.ContainerLogMaxFiles))
	assert.Equal(t, int32(14), i32(kc.IPTablesMasqueradeBit))
	assert.Equal(t, int32(15), i32(kc.IPTablesDropBit))
	assert.Equal(t, int32(10250), kc.Port)
	assert.Equal(t, int32(0), kc.ReadOnlyPort)
	assert.Equal(t, int32(10248), i32(kc.HealthzPort))
	assert.Equal(t, int32(-999), i32(kc.OOMScoreAdj))

	// Booleans.
	assert.False(t, b(kc.SerializeImagePulls))
	assert.True(t, b(kc.CgroupsPerQOS))
	assert.False(t, b(kc.CPUCFSQuota))
	assert.True(t, kc.ProtectKernelDefaults)
	assert.False(t, b(kc.FailSwapOn))
	assert.True(t, b(kc.MakeIPTablesUtilChains))
	assert.True(t, kc.RotateCertificates)
	assert.True(t, kc.ServerTLSBootstrap)
	assert.False(t, b(kc.Authentication.Anonymous.Enabled))
	assert.True(t, b(kc.Authentication.Webhook.Enabled))
	assert.True(t, b(kc.EnableServer))
	assert.False(t, b(kc.EnableDebuggingHandlers))
	assert.True(t, kc.EnableContentionProfiling)
	assert.True(t, kc.KernelMemcgNotification)
	assert.False(t, b(kc.LocalStorageCapacityIsolation))
	assert.True(t, b(kc.RegisterNode))
	assert.False(t, kc.RunOnce)
	assert.False(t, b(kc.EnableControllerAttachDetach))
	assert.True(t, b(kc.SeccompDefault))

	// Strings.
	assert.Equal(t, "/high", kc.KubeReservedCgroup)
	assert.Equal(t, "/system.slice", kc.SystemReservedCgroup)
	assert.Equal(t, "application/vnd.kubernetes.protobuf", kc.ContentType)
	assert.Equal(t, "/", kc.CgroupRoot)
	assert.Equal(t, "/kubelet.slice", kc.KubeletCgroups)
	assert.Equal(t, "/system.slice", kc.SystemCgroups)
	assert.Equal(t, "50Mi", kc.ContainerLogMaxSize)
	assert.Equal(t, "cluster.local", kc.ClusterDomain)
	require.NotNil(t, kc.ResolverConfig)
	assert.Equal(t, "/run/systemd/resolve/resolv.conf", *kc.ResolverConfig)
	assert.Equal(t, "/etc/kubelet/tls.crt", kc.TLSCertFile)
	assert.Equal(t, "/etc/kubelet/tls.key", kc.TLSPrivateKeyFile)
	assert.Equal(t, "/etc/kubernetes/ca.crt", kc.Authentication.X509.ClientCAFile)
	assert.Equal(t, "/etc/kubernetes/manifests", kc.StaticPodPath)
	assert.Equal(t, "http://example.com/pods", kc.StaticPodURL)
	assert.Equal(t, "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/", kc.VolumePluginDir)
	assert.Equal(t, "aws:///us-east-1a/i-0123", kc.ProviderID)
	assert.Equal(t, "unix:///run/containerd/containerd.sock", kc.ContainerRuntimeEndpoint)
	assert.Equal(t, "unix:///run/containerd/containerd.sock", kc.ImageServiceEndpoint)
	assert.Equal(t, "10.244.0.0/24", kc.PodCIDR)
	assert.Equal(t, "0-1,6", kc.ReservedSystemCPUs)
	assert.Equal(t, "0.0.0.0", kc.Address)
	assert.Equal(t, "127.0.0.1", kc.HealthzBindAddress)
	assert.Equal(t, "static", kc.CPUManagerPolicy)
	assert.Equal(t, "Static", kc.MemoryManagerPolicy)
	assert.Equal(t, "single-numa-node", kc.TopologyManagerPolicy)
	assert.Equal(t, "pod", kc.TopologyManagerScope)
	assert.Equal(t, "systemd", kc.CgroupDriver)
	assert.Equal(t, "hairpin-veth", kc.HairpinMode)
	assert.Equal(t, "VersionTLS12", kc.TLSMinVersion)
	assert.Equal(t, kubeletv1beta1.KubeletAuthorizationModeWebhook, kc.Authorization.Mode)

	// Durations.
	assert.Equal(t, 30*time.Second, kc.EvictionPressureTransitionPeriod.Duration)
	assert.Equal(t, 2*time.Minute, kc.ImageMinimumGCAge.Duration)
	assert.Equal(t, time.Minute, kc.SyncFrequency.Duration)
	assert.Equal(t, 20*time.Second, kc.FileCheckFrequency.Duration)
	assert.Equal(t, 20*time.Second, kc.HTTPCheckFrequency.Duration)
	assert.Equal(t, 10*time.Second, kc.NodeStatusUpdateFrequency.Duration)
	assert.Equal(t, 2*time.Minute, kc.RuntimeRequestTimeout.Duration)
	assert.Equal(t, 5*time.Minute, kc.StreamingConnectionIdleTimeout.Duration)
	assert.Equal(t, 90*time.Second, kc.VolumeStatsAggPeriod.Duration)
	assert.Equal(t, 10*time.Second, kc.CPUManagerReconcilePeriod.Duration)
	require.NotNil(t, kc.CPUCFSQuotaPeriod)
	assert.Equal(t, 100*time.Millisecond, kc.CPUCFSQuotaPeriod.Duration)
	assert.Equal(t, 2*time.Minute, kc.Authentication.Webhook.CacheTTL.Duration)
	assert.Equal(t, 5*time.Minute, kc.Authorization.Webhook.CacheAuthorizedTTL.Duration)
	assert.Equal(t, 30*time.Second, kc.Authorization.Webhook.CacheUnauthorizedTTL.Duration)

	// Lists.
	assert.Equal(t, []string{"pods", "kube-reserved"}, kc.EnforceNodeAllocatable)
	assert.Equal(t, []string{"net.core.somaxconn", "kernel.msg*"}, kc.AllowedUnsafeSysctls)
	assert.Equal(t, []string{"10.96.0.10", "fd00::10"}, kc.ClusterDNS)
	assert.Equal(t, []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"}, kc.TLSCipherSuites)

	// Maps.
	assert.Equal(t, map[string]string{"cpu": "200m", "memory": "512Mi"}, kc.KubeReserved)
	assert.Equal(t, "200m", kc.KubeReserved["cpu"])
	assert.Equal(t, map[string]string{"cpu": "100m", "memory": "1Gi", "ephemeral-storage": "1Gi", "pid": "1000"}, kc.SystemReserved)
	assert.Equal(t, "100Mi", kc.EvictionHard["memory.available"])
	assert.Equal(t, "10%", kc.EvictionHard["nodefs.available"])
	assert.Equal(t, "1.5Gi", kc.EvictionSoft["memory.available"])
	assert.Equal(t, "1m30s", kc.EvictionSoftGracePeriod["memory.available"])
	assert.Equal(t, "2Gi", kc.EvictionMinimumReclaim["imagefs.available"])
	assert.Equal(t, map[string]bool{"A": true, "B": false}, kc.FeatureGates)
	assert.Equal(t, map[string]string{"full-pcpus-only": "true"}, kc.CPUManagerPolicyOptions)
	assert.Equal(t, map[string]string{"prefer-closest-numa-nodes": "true"}, kc.TopologyManagerPolicyOptions)
	assert.Equal(t, map[string]string{"memory": "50%"}, kc.QOSReserved)
	assert.Equal(t, map[string][]string{"Authorization": {"Bearer abc"}, "X-A": {"1", "2"}}, kc.StaticPodURLHeader)

	// Structured lists.
	require.Len(t, kc.ReservedMemory, 2)
	assert.Equal(t, int32(0), kc.ReservedMemory[0].NumaNode)
	assert.True(t, q("1Gi").Equal(kc.ReservedMemory[0].Limits[corev1.ResourceMemory]))
	assert.True(t, q("2Gi").Equal(kc.ReservedMemory[0].Limits["hugepages-2Mi"]))
	assert.Equal(t, int32(1), kc.ReservedMemory[1].NumaNode)
	assert.True(t, q("2Gi").Equal(kc.ReservedMemory[1].Limits[corev1.ResourceMemory]))
	assert.Equal(t, []corev1.Taint{
		{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
		{Key: "example.com/maint", Effect: corev1.TaintEffectNoExecute},
	}, kc.RegisterWithTaints)

	// Logging.
	assert.Equal(t, uint32(4), uint32(kc.Logging.Verbosity))
	require.Len(t, kc.Logging.VModule, 2)
	assert.Equal(t, "server*", kc.Logging.VModule[0].FilePattern)
	assert.Equal(t, uint32(4), uint32(kc.Logging.VModule[0].Verbosity))
	assert.Equal(t, 5*time.Second, kc.Logging.FlushFrequency.Duration.Duration)
	assert.Equal(t, "json", kc.Logging.Format)
	assert.True(t, kc.Logging.Options.Text.SplitStream)
	assert.True(t, kc.Logging.Options.JSON.SplitStream)
	assert.True(t, q("2Ki").Equal(kc.Logging.Options.Text.InfoBufferSize.Quantity))
	assert.True(t, q("512").Equal(kc.Logging.Options.JSON.InfoBufferSize.Quantity))
}

// TestDecodeStrictRejectsWrongNames shows the strict decode above would catch
// a misspelt field or a wrong shape, so its success means something.
func TestDecodeStrictRejectsWrongNames(t *testing.T) {
	for _, doc := range []string{`{"maxPod":1}`, `{"maxPods":"1"}`, `{"evictionHard":["a"]}`, `{"authentication":{"anonymous":{"enable":true}}}`} {
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		dec.DisallowUnknownFields()
		var kc kubeletv1beta1.KubeletConfiguration
		assert.Error(t, dec.Decode(&kc), doc)
	}
}
