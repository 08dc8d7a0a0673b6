package upgrade

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// The k0s ClusterConfig (k0s.k0sproject.io/v1beta1) the controllers start
// with: what mke4.yaml holds that k0s owns. The field names are k0s's
// (pkg/apis/k0s/v1beta1 at v1.33.9+k0s.0); a test decodes and validates
// the result with k0s's own types. These types hold only what is written.
type (
	k0sClusterConfig struct {
		APIVersion string      `json:"apiVersion"`
		Kind       string      `json:"kind"`
		Metadata   k0sMetadata `json:"metadata"`
		Spec       k0sSpec     `json:"spec"`
	}
	k0sMetadata struct {
		Name string `json:"name"`
	}
	k0sSpec struct {
		API               *k0sAPI            `json:"api,omitempty"`
		ControllerManager *k0sExtraArgs      `json:"controllerManager,omitempty"`
		Scheduler         *k0sExtraArgs      `json:"scheduler,omitempty"`
		Storage           *k0sStorage        `json:"storage,omitempty"`
		Network           k0sNetwork         `json:"network"`
		WorkerProfiles    []k0sWorkerProfile `json:"workerProfiles,omitempty"`
	}
	k0sAPI struct {
		Address         string            `json:"address,omitempty"`
		ExternalAddress string            `json:"externalAddress,omitempty"`
		SANs            []string          `json:"sans,omitempty"`
		ExtraArgs       map[string]string `json:"extraArgs,omitempty"`
	}
	k0sExtraArgs struct {
		ExtraArgs map[string]string `json:"extraArgs,omitempty"`
	}
	k0sStorage struct {
		Type string  `json:"type"`
		Etcd k0sEtcd `json:"etcd"`
	}
	k0sEtcd struct {
		PeerAddress string `json:"peerAddress,omitempty"`
	}
	k0sNetwork struct {
		Provider    string        `json:"provider"`
		PodCIDR     string        `json:"podCIDR,omitempty"`
		ServiceCIDR string        `json:"serviceCIDR,omitempty"`
		KubeProxy   *k0sKubeProxy `json:"kubeProxy,omitempty"`
	}
	k0sKubeProxy struct {
		Mode               string            `json:"mode,omitempty"`
		MetricsBindAddress string            `json:"metricsBindAddress,omitempty"`
		IPTables           map[string]string `json:"iptables,omitempty"`
		IPVS               map[string]string `json:"ipvs,omitempty"`
		NFTables           map[string]string `json:"nftables,omitempty"`
		ExtraArgs          map[string]string `json:"extraArgs,omitempty"`
	}
	k0sWorkerProfile struct {
		Name string `json:"name"`
		// Values is never empty: k0s's WorkerProfile.Validate reads it
		// unconditionally.
		Values map[string]any `json:"values"`
	}
)

// k0sConfig derives the controllers' k0s ClusterConfig from mke4.yaml and
// the carry (nil: none):
//   - api: external address, SANs, extraArgs (mke4.yaml's win over what
//     is derived: profiling, request-timeout, service-node-port-range,
//     and the carry's etcd-prefix and service-account-issuer);
//   - controllerManager and scheduler: extraArgs (and
//     terminated-pod-gc-threshold, profiling);
//   - network: provider custom (MKE 4k installs Calico itself; k0s
//     installs no CNI), pod and service CIDRs, kube-proxy mode, metrics
//     address, sync periods and extraArgs;
//   - workerProfiles: "default" with mke4.yaml's cluster-wide kubelet
//     settings, and one per custom kubelet profile (those settings, the
//     profile's values over them), as k0s builds each profile from its
//     own defaults (workerconfig/reconciler.go buildConfigMaps);
//   - storage.etcd.peerAddress and api.address: per host, from its
//     privateAddress (k0sConfigFor), as k0sctl does.
//
// The rest of mke4.yaml is MKE 4k's, applied by its operator (see
// applyConfigStep and README "What the engine does not install").
func k0sConfig(c *mke4.MkeConfig, carry *Carry) ([]byte, error) {
	return marshalK0sConfig(buildK0sConfig(c, carry))
}

func buildK0sConfig(c *mke4.MkeConfig, carry *Carry) *k0sClusterConfig {
	s := &c.Spec
	cfg := &k0sClusterConfig{APIVersion: "k0s.k0sproject.io/v1beta1", Kind: "ClusterConfig", Metadata: k0sMetadata{Name: "k0s"}}
	api := &k0sAPI{ExternalAddress: s.APIServer.ExternalAddress, SANs: s.APIServer.SANs}
	args := map[string]string{}
	if p := s.APIServer.ProfilingEnabled; p != nil {
		args["profiling"] = strconv.FormatBool(*p)
	}
	if t := s.APIServer.RequestTimeout; t != "" {
		args["request-timeout"] = t
	}
	if r := s.Network.NodePortRange; r != "" {
		args["service-node-port-range"] = r
	}
	if carry != nil {
		if carry.EtcdPrefix != "" && carry.EtcdPrefix != DefaultEtcdPrefix {
			args["etcd-prefix"] = carry.EtcdPrefix
		}
		if carry.Issuer != "" && carry.Issuer != k0sIssuer {
			args["service-account-issuer"] = carry.Issuer
		}
	}
	maps.Copy(args, s.APIServer.ExtraArgs)
	api.ExtraArgs = nonEmpty(args)
	if api.ExternalAddress != "" || len(api.SANs) > 0 || api.ExtraArgs != nil {
		cfg.Spec.API = api
	}

	args = map[string]string{}
	if n := s.ControllerManager.TerminatedPodGCThreshold; n > 0 {
		args["terminated-pod-gc-threshold"] = strconv.Itoa(n)
	}
	if p := s.ControllerManager.ProfilingEnabled; p != nil {
		args["profiling"] = strconv.FormatBool(*p)
	}
	maps.Copy(args, s.ControllerManager.ExtraArgs)
	if a := nonEmpty(args); a != nil {
		cfg.Spec.ControllerManager = &k0sExtraArgs{ExtraArgs: a}
	}
	args = map[string]string{}
	if p := s.Scheduler.ProfilingEnabled; p != nil {
		args["profiling"] = strconv.FormatBool(*p)
	}
	maps.Copy(args, s.Scheduler.ExtraArgs)
	if a := nonEmpty(args); a != nil {
		cfg.Spec.Scheduler = &k0sExtraArgs{ExtraArgs: a}
	}

	n := &cfg.Spec.Network
	n.Provider = "custom"
	n.ServiceCIDR = s.Network.ServiceCIDR
	for _, p := range s.Network.Providers {
		if p.Enabled {
			n.PodCIDR = p.ExtraConfig["cidrV4"]
		}
	}
	kp := s.Network.KubeProxy
	k := &k0sKubeProxy{Mode: kp.Mode, MetricsBindAddress: kp.MetricsBindAddress, ExtraArgs: nonEmpty(maps.Clone(kp.ExtraArgs))}
	if t := kp.IPTables; t != nil {
		k.IPTables = nonZero(map[string]string{"minSyncPeriod": t.MinSyncPeriod, "syncPeriod": t.SyncPeriod})
	}
	if t := kp.IPVS; t != nil {
		k.IPVS = nonZero(map[string]string{"minSyncPeriod": t.MinSyncPeriod, "syncPeriod": t.SyncPeriod,
			"tcpFinTimeout": t.TCPFinTimeout, "tcpTimeout": t.TCPTimeout, "udpTimeout": t.UDPTimeout})
	}
	if t := kp.NFTables; t != nil {
		k.NFTables = nonZero(map[string]string{"minSyncPeriod": t.MinSyncPeriod, "syncPeriod": t.SyncPeriod})
	}
	if k.Mode != "" || k.MetricsBindAddress != "" || k.IPTables != nil || k.IPVS != nil || k.NFTables != nil || k.ExtraArgs != nil {
		n.KubeProxy = k
	}

	base := kubeletBase(s.Kubelet)
	if len(base) > 0 {
		cfg.Spec.WorkerProfiles = append(cfg.Spec.WorkerProfiles, k0sWorkerProfile{Name: "default", Values: base})
	}
	for _, p := range s.Kubelet.CustomProfiles {
		v := maps.Clone(base)
		if v == nil {
			v = map[string]any{}
		}
		maps.Copy(v, p.Values)
		cfg.Spec.WorkerProfiles = append(cfg.Spec.WorkerProfiles, k0sWorkerProfile{Name: p.Name, Values: v})
	}
	return cfg
}

// kubeletBase are mke4.yaml's cluster-wide kubelet settings as
// KubeletConfiguration fields; zero values are the kubelet's defaults and
// left out. managerKubeReserved, kubeletRootDir and kubelet.extraArgs are
// not in a worker profile (see docs/carry.md).
func kubeletBase(k mke4.Kubelet) map[string]any {
	v := map[string]any{}
	if k.EventRecordQPS != 0 {
		v["eventRecordQPS"] = k.EventRecordQPS
	}
	if k.MaxPods != 0 {
		v["maxPods"] = k.MaxPods
	}
	if k.PodPidsLimit != 0 {
		v["podPidsLimit"] = k.PodPidsLimit
	}
	if k.PodsPerCore != 0 {
		v["podsPerCore"] = k.PodsPerCore
	}
	if k.ProtectKernelDefaults {
		v["protectKernelDefaults"] = true
	}
	if k.SeccompDefault {
		v["seccompDefault"] = true
	}
	if len(k.WorkerKubeReserved) > 0 {
		v["kubeReserved"] = maps.Clone(k.WorkerKubeReserved)
	}
	return v
}

// nonEmpty drops the empty values of m, and returns nil for an empty map.
func nonEmpty(m map[string]string) map[string]string {
	maps.DeleteFunc(m, func(_, v string) bool { return v == "" })
	if len(m) == 0 {
		return nil
	}
	return m
}

// nonZero drops the durations of m that are zero: mke4.yaml's defaults
// write 0s for "unset", which k0s would pass on to kube-proxy, whose
// validation wants a sync period above zero; k0s's own defaults apply
// instead.
func nonZero(m map[string]string) map[string]string {
	maps.DeleteFunc(m, func(_, v string) bool {
		d, err := time.ParseDuration(v)
		return err == nil && d == 0
	})
	return nonEmpty(m)
}

func marshalK0sConfig(cfg *k0sClusterConfig) ([]byte, error) {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("upgrade: k0s configuration: %w", err)
	}
	return bytes.TrimSpace(b), nil
}

// k0sConfigFor is the k0s configuration of one controller: the cluster's,
// with api.address and storage.etcd.peerAddress set to the host's
// privateAddress in mke4.yaml when it has one (k0s picks the node's first
// address otherwise, as it does for any controller).
func (e *Env) k0sConfigFor(host string) ([]byte, error) {
	sh := e.Cluster
	addr := ""
	if sh.Config != nil {
		for _, h := range sh.Config.Spec.Hosts {
			if h.PrivateAddress != "" && h.SSH != nil && sshKey(h.SSH) == host {
				addr = h.PrivateAddress
			}
		}
	}
	if addr == "" {
		return sh.K0sConfig, nil
	}
	var cfg k0sClusterConfig
	if err := yaml.UnmarshalStrict(sh.K0sConfig, &cfg); err != nil {
		return nil, fmt.Errorf("upgrade: k0s configuration: %w", err)
	}
	if cfg.Spec.API == nil {
		cfg.Spec.API = &k0sAPI{}
	}
	cfg.Spec.API.Address = addr
	cfg.Spec.Storage = &k0sStorage{Type: "etcd", Etcd: k0sEtcd{PeerAddress: addr}}
	return marshalK0sConfig(&cfg)
}

// sshKey is the host key (address:port) of an mke4.yaml host.
func sshKey(s *mke4.SSH) string {
	port := s.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(s.Address, strconv.Itoa(port))
}
