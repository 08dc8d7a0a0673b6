package convert

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 13 (precedence left out): the kubelet's --root-dir shadows
// kubelet_data_root like the other shadowed keys; the flags k0s derives
// from another setting's field are dropped when they agree with it, and
// unconvertible with both values when they do not.
func TestShadowRootDirAndFollowers(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
kubelet_data_root = "/var/lib/kubelet"
service_cluster_ip_range = "10.96.0.0/16"
pod_cidr = "192.168.0.0/16"
custom_kubelet_flags = ["--root-dir=/data/kubelet"]
custom_kube_api_server_flags = ["--service-cluster-ip-range=10.100.0.0/16"]
custom_kube_controller_manager_flags = ["--service-cluster-ip-range=10.100.0.0/16", "--cluster-cidr=10.0.0.0/8"]
custom_kube_proxy_flags = ["--cluster-cidr=192.168.0.0/16"]
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	s := out.Spec
	assert.Equal(t, "/data/kubelet", s.Kubelet.KubeletRootDir)
	assert.NotContains(t, s.Kubelet.ExtraArgs, "root-dir")
	es := entriesFor(rep, cc+"kubelet_data_root")
	require.Len(t, es, 1)
	assert.Equal(t, StatusDropped, es[0].Status)
	assert.Contains(t, es[0].Reason, "shadowed by --root-dir=/data/kubelet")

	assert.NotContains(t, s.ControllerManager.ExtraArgs, "service-cluster-ip-range")
	assert.NotContains(t, s.ControllerManager.ExtraArgs, "cluster-cidr")
	assert.NotContains(t, s.Network.KubeProxy.ExtraArgs, "cluster-cidr")
	byFlag := map[string]Entry{}
	for _, k := range []string{"custom_kube_controller_manager_flags", "custom_kube_proxy_flags", "custom_kubelet_flags"} {
		for _, e := range entriesFor(rep, cc+k) {
			byFlag[k+" "+e.Flag] = e
		}
	}
	cm := byFlag["custom_kube_controller_manager_flags --service-cluster-ip-range=10.100.0.0/16"]
	assert.Equal(t, StatusDropped, cm.Status, cm.Reason)
	assert.Contains(t, cm.Reason, "--service-cluster-ip-range=10.100.0.0/16 in cluster_config.custom_kube_api_server_flags", "names the winner")
	cidr := byFlag["custom_kube_controller_manager_flags --cluster-cidr=10.0.0.0/8"]
	assert.Equal(t, StatusUnconvertible, cidr.Status)
	assert.True(t, strings.Contains(cidr.Reason, "192.168.0.0/16") && strings.Contains(cidr.Reason, "10.0.0.0/8") && strings.Contains(cidr.Reason, cc+"pod_cidr"), cidr.Reason)
	kp := byFlag["custom_kube_proxy_flags --cluster-cidr=192.168.0.0/16"]
	assert.Equal(t, StatusDropped, kp.Status, kp.Reason)
	assert.Contains(t, kp.Reason, cc+"pod_cidr")
	rd := byFlag["custom_kubelet_flags --root-dir=/data/kubelet"]
	assert.Equal(t, StatusConverted, rd.Status)
	assert.Equal(t, sp+"kubelet.kubeletRootDir", rd.Target)
}
