package upgrade

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
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
		PeerAddress string            `json:"peerAddress,omitempty"`
		ExtraArgs   map[string]string `json:"extraArgs,omitempty"`
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
//     privateAddress (k0sConfigFor), as k0sctl does;
//   - storage.etcd.extraArgs quota-backend-bytes: etcd.storageQuota;
//   - api.extraArgs for audit (apiServer.audit: the log, its rotation, a
//     policy file of the level's, or the policy file given) and the
//     EventRateLimit admission plugin (apiServer.eventRateLimit), whose
//     files the controller step writes on each controller (k0sNodeFiles);
//   - a worker profile "mke-manager" for the managers without a custom
//     kubelet profile: the default profile's values with
//     kubelet.managerKubeReserved as kubeReserved.
//
// The rest of mke4.yaml is MKE 4k's, applied by its operator (see
// applyConfigStep and README "What the engine does not install").
func k0sConfig(c *mke4.MkeConfig, carry *Carry) ([]byte, error) {
	cfg, err := buildK0sConfig(c, carry)
	if err != nil {
		return nil, err
	}
	return marshalK0sConfig(cfg)
}

// defaultK0sDir is where the k0s configuration names the files of
// k0sNodeFiles (Commands.K0sDir's default); k0sConfigFor moves them to
// another Commands.K0sDir.
const defaultK0sDir = "/etc/k0s"

// The files of k0sNodeFiles, in the k0s folder of every controller.
const (
	auditPolicyFile      = "audit-policy.yaml"
	admissionConfigFile  = "admission-control.yaml"
	eventRateLimitConfig = "event-rate-limit.yaml"
)

// managerProfile is the worker profile of the managers without a custom
// kubelet profile when mke4.yaml reserves resources for managers
// (kubelet.managerKubeReserved): a controller+worker otherwise takes
// k0s's default profile, the workers' reservation.
const managerProfile = "mke-manager"

// managerProfileOf is the profile a manager without a custom one is
// installed with ("" for k0s's default).
func managerProfileOf(c *mke4.MkeConfig) string {
	if c == nil || len(c.Spec.Kubelet.ManagerKubeReserved) == 0 {
		return ""
	}
	if _, taken := c.Spec.Kubelet.Profile(managerProfile); taken {
		return "" // a custom profile of that name is the operator's
	}
	return managerProfile
}

func buildK0sConfig(c *mke4.MkeConfig, carry *Carry) (*k0sClusterConfig, error) {
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
	if a := s.APIServer.Audit; a.Enabled {
		// kube-apiserver's audit flags (k0s runs it as a process on the
		// controller, so these are host paths); k0s sets none of them
		args["audit-log-path"] = cmp.Or(a.LogPath, mke4.DefaultAuditLogPath)
		for flag, n := range map[string]int{"audit-log-maxage": a.MaxAge, "audit-log-maxbackup": a.MaxBackup, "audit-log-maxsize": a.MaxSize} {
			if n > 0 {
				args[flag] = strconv.Itoa(n)
			}
		}
		args["audit-policy-file"] = cmp.Or(a.PolicyFile, defaultK0sDir+"/"+auditPolicyFile)
		if a.WebhookConfigPath != "" {
			args["audit-webhook-config-file"] = a.WebhookConfigPath
		}
	}
	if s.APIServer.EventRateLimit.Enabled {
		// k0s enables NodeRestriction alone (pkg/component/controller/
		// apiserver.go); an extraArgs value replaces it, so it is kept
		args["enable-admission-plugins"] = "NodeRestriction,EventRateLimit"
		args["admission-control-config-file"] = defaultK0sDir + "/" + admissionConfigFile
	}
	maps.Copy(args, s.APIServer.ExtraArgs)
	if s.APIServer.EventRateLimit.Enabled && !slices.Contains(strings.Split(args["enable-admission-plugins"], ","), "EventRateLimit") {
		args["enable-admission-plugins"] = strings.TrimPrefix(args["enable-admission-plugins"]+",EventRateLimit", ",")
	}
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

	if q := s.Etcd.StorageQuota; q != "" {
		b, err := quotaBytes(q)
		if err != nil {
			return nil, fmt.Errorf("upgrade: k0s configuration: etcd.storageQuota %q: %w", q, err)
		}
		cfg.Spec.Storage = &k0sStorage{Type: "etcd", Etcd: k0sEtcd{ExtraArgs: map[string]string{"quota-backend-bytes": strconv.FormatInt(b, 10)}}}
	}

	base := kubeletBase(s.Kubelet)
	if len(base) > 0 {
		cfg.Spec.WorkerProfiles = append(cfg.Spec.WorkerProfiles, k0sWorkerProfile{Name: "default", Values: base})
	}
	if managerProfileOf(c) != "" {
		// the managers' kubelet reservation (MKE 3's
		// manager_kube_reserved_resources) over the default profile
		v := maps.Clone(base)
		if v == nil {
			v = map[string]any{}
		}
		v["kubeReserved"] = maps.Clone(s.Kubelet.ManagerKubeReserved)
		cfg.Spec.WorkerProfiles = append(cfg.Spec.WorkerProfiles, k0sWorkerProfile{Name: managerProfile, Values: v})
	}
	for _, p := range s.Kubelet.CustomProfiles {
		v := maps.Clone(base)
		if v == nil {
			v = map[string]any{}
		}
		maps.Copy(v, p.Values)
		cfg.Spec.WorkerProfiles = append(cfg.Spec.WorkerProfiles, k0sWorkerProfile{Name: p.Name, Values: v})
	}
	return cfg, nil
}

// quotaBytes reads etcd.storageQuota (MKE 3's etcd_storage_quota, such as
// "2GB" or "4GB") as bytes for etcd's --quota-backend-bytes. The units are
// binary, as Docker's go-units RAMInBytes reads "GB" (MKE 3 is Docker's
// product; its own parser is not public): 2GB is 2 GiB. Kubernetes
// quantities (2Gi, 2G) and plain bytes are read as they say.
func quotaBytes(q string) (int64, error) {
	q = strings.TrimSpace(q)
	num := strings.TrimRightFunc(q, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(q[len(num):]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a positive size such as 2GB or 8GiB")
	}
	mult := map[string]int64{"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "ki": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "mi": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "gi": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q: use B, KB, MB or GB", unit)
	}
	if n > (1<<62)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// k0sNodeFiles are the files the k0s configuration cfg (as k0sConfigFor
// makes it for dir, Commands.K0sDir) names in dir: the audit policy
// (apiServer.audit.customPolicyYaml, or one rule at the audit level), and
// the EventRateLimit admission configuration with its limits. A file
// mke4.yaml's extraArgs replaced is not written.
func k0sNodeFiles(c *mke4.MkeConfig, cfg *k0sClusterConfig, dir string) map[string][]byte {
	out := map[string][]byte{}
	if c == nil || cfg.Spec.API == nil {
		return out
	}
	args := cfg.Spec.API.ExtraArgs
	s := &c.Spec
	if p := dir + "/" + auditPolicyFile; args["audit-policy-file"] == p {
		policy := s.APIServer.Audit.CustomPolicyYAML
		if strings.TrimSpace(policy) == "" {
			// the audit.k8s.io/v1 Policy of the level for every request
			// (apiServer.audit.level: None, Metadata or Request,
			// case-insensitive as mke4.yaml's docs spell it both ways)
			level := mke4.AuditLevelMetadata
			for _, l := range []string{mke4.AuditLevelNone, mke4.AuditLevelMetadata, mke4.AuditLevelRequest} {
				if strings.EqualFold(l, s.APIServer.Audit.Level) {
					level = l
				}
			}
			policy = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: " + level + "\n"
		}
		out[p] = []byte(policy)
	}
	if p := dir + "/" + admissionConfigFile; args["admission-control-config-file"] == p {
		// the EventRateLimit plugin's configuration (Kubernetes
		// "Admission Controllers Reference", EventRateLimit: its example's
		// limits per namespace and per user; MKE 3's TOML has the switch
		// only, so these are our documented default)
		out[p] = []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: EventRateLimit\n  path: " + dir + "/" + eventRateLimitConfig + "\n")
		out[dir+"/"+eventRateLimitConfig] = []byte("apiVersion: eventratelimit.admission.k8s.io/v1alpha1\nkind: Configuration\nlimits:\n- type: Namespace\n  qps: 50\n  burst: 100\n  cacheSize: 2000\n- type: User\n  qps: 10\n  burst: 50\n")
	}
	return out
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
// The files the configuration names in the k0s folder (k0sNodeFiles) move
// to Commands.K0sDir when it is not the default.
func (e *Env) k0sConfigFor(host string) ([]byte, error) {
	cfg, changed, err := e.k0sConfigOf(host)
	if err != nil || !changed {
		return e.Cluster.K0sConfig, err
	}
	return marshalK0sConfig(cfg)
}

// k0sConfigOf is k0sConfigFor before it is written out; changed says it
// differs from the cluster's.
func (e *Env) k0sConfigOf(host string) (cfg *k0sClusterConfig, changed bool, err error) {
	sh := e.Cluster
	addr := ""
	if sh.Config != nil {
		for _, h := range sh.Config.Spec.Hosts {
			if h.PrivateAddress != "" && h.SSH != nil && sshKey(h.SSH) == host {
				addr = h.PrivateAddress
			}
		}
	}
	cfg = &k0sClusterConfig{}
	if err := yaml.UnmarshalStrict(sh.K0sConfig, cfg); err != nil {
		return nil, false, fmt.Errorf("upgrade: k0s configuration: %w", err)
	}
	if dir := strings.TrimRight(e.Commands.K0sDir, "/"); dir != "" && dir != defaultK0sDir && cfg.Spec.API != nil {
		for k, v := range cfg.Spec.API.ExtraArgs {
			if rest, ok := strings.CutPrefix(v, defaultK0sDir+"/"); ok && slices.Contains([]string{auditPolicyFile, admissionConfigFile}, rest) {
				cfg.Spec.API.ExtraArgs[k] = dir + "/" + rest
				changed = true
			}
		}
	}
	if addr == "" {
		return cfg, changed, nil
	}
	if cfg.Spec.API == nil {
		cfg.Spec.API = &k0sAPI{}
	}
	cfg.Spec.API.Address = addr
	if cfg.Spec.Storage == nil {
		cfg.Spec.Storage = &k0sStorage{Type: "etcd"}
	}
	cfg.Spec.Storage.Etcd.PeerAddress = addr
	return cfg, true, nil
}

// k0sNodeFilesFor are the files host's k0s configuration names in the
// k0s folder (k0sNodeFiles).
func (e *Env) k0sNodeFilesFor(host string) (map[string][]byte, error) {
	cfg, _, err := e.k0sConfigOf(host)
	if err != nil {
		return nil, err
	}
	return k0sNodeFiles(e.Cluster.Config, cfg, strings.TrimRight(e.Commands.K0sDir, "/")), nil
}

// sshKey is the host key (address:port) of an mke4.yaml host.
func sshKey(s *mke4.SSH) string {
	port := s.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(s.Address, strconv.Itoa(port))
}
