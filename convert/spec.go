package convert

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/mke-migrate/mke-migrate/internal/tomlwalk"
)

// Basis says how sure the project is of a mapping. Like Status, it is a
// small integer that reads and writes as its name ("documented", ...);
// the zero Basis is unset and prints as "".
type Basis uint8

const (
	// Documented: a Mirantis document states the MKE 4k target.
	Documented Basis = iota + 1
	// Checked: mkectl's compatibility check calls the key supported, but no
	// document names its target; the target is this project's reading.
	Checked
	// Inferred: the target is this project's inference from field names
	// and semantics. Review such entries before relying on them.
	Inferred
)

var basisNames = [...]string{"", "documented", "checked", "inferred"}

// String is the basis's name: "documented", "checked" or "inferred"; ""
// for the zero Basis.
func (b Basis) String() string { return enumString(b, basisNames[:], "basis") }

// MarshalText writes the basis's name.
func (b Basis) MarshalText() ([]byte, error) { return enumMarshal(b, basisNames[:], "basis") }

// UnmarshalText reads a basis's name (as String writes it); a name this
// version does not know is an error.
func (b *Basis) UnmarshalText(t []byte) error { return enumUnmarshal(b, t, basisNames[:], "basis") }

// keySpec is what the converter knows of one MKE 3 key, independent of
// its value. Keys with a target are converted by code in convert.go; keys
// without one are dropped, or reported as default when they hold the MKE 3
// default (so nothing is lost).
type keySpec struct {
	pattern string // dotted key; "[]" for array elements, "*" for any map key
	target  string // MKE 4k path under spec, or "" when there is none
	basis   Basis  // for keys with a target
	reason  string // why there is no target (keys without one)
	def     any    // MKE 3 default of a key without target (nil: any value is a loss)
	secret  bool   // never show the value
	// off makes the key a feature switch for the compatibility check: when
	// it holds this value the feature is disabled in MKE 3 and the key and
	// its deps are grouped "Skipped".
	off  any
	deps []string // patterns skipped with this switch (prefix match with ".")
	// since is the first MKE 3 minor version with the key ("3.9"); empty
	// for keys of every supported version.
	since string
}

// Reasons shared by many keys.
const (
	whySwarm     = "Docker Swarm setting: MKE 4k has no Swarm, and Swarm workloads are not migrated"
	whyUCP       = "MKE 3 (UCP) internal or UI setting: MKE 4k has no equivalent component"
	whyWindows   = "MKE 4k has no Windows nodes"
	whyMetrics   = "MKE 3 monitoring setting: MKE 4k monitoring is configured under spec.monitoring and does not take it (documented: not supported)"
	whyCalicoMgr = "MKE 3 Calico manifest detail: MKE 4k installs Calico with the tigera operator and manages this itself"
	whyBackup    = "MKE 3 scheduled backups: MKE 4k backs up with its own spec.backup (Velero/MinIO) and a different schedule model; recreate the schedule there"
	whyEtcdClean = "MKE 3 etcd cleanup schedule: k0s compacts its etcd itself; MKE 4k has no scheduled cleanup setting"
	whyAuthNS    = "documented as not supported by MKE 4k authentication (Dex)"
	whyStorage   = "MKE 3 storage plugin setting: MKE 4k does not manage iSCSI, FlexVolume or storage export; install a CSI driver"
)

// anyValue as a default means every value is harmless to leave behind
// (the setting is kept elsewhere, or only matters for nodes MKE 4k cannot
// have): such keys are always reported as default.
type anyValueT struct{}

var anyValue = anyValueT{}

func drop(pattern, reason string, def any) keySpec {
	return keySpec{pattern: pattern, reason: reason, def: def}
}

func to(pattern, target string, basis Basis) keySpec {
	return keySpec{pattern: pattern, target: target, basis: basis}
}

// basisOr is the basis of a (possibly nil) spec, or def.
func (k *keySpec) basisOr(def Basis) Basis {
	if k == nil || k.basis == 0 {
		return def
	}
	return k.basis
}

func (k keySpec) sinceVersion(v string) keySpec { k.since = v; return k }

func (k keySpec) secretKey() keySpec                      { k.secret = true; return k }
func (k keySpec) switchOff(v any, deps ...string) keySpec { k.off = v; k.deps = deps; return k }

// specs lists every key of the MKE 3.7/3.8/3.9 model. A test checks that it and
// the MKE3Config struct describe exactly the same keys.
var specs = []keySpec{
	// [hardening_configuration]
	drop("hardening_configuration.hardening_enabled", "MKE 3 hardening switch: MKE 4k (k0s) hardens its components itself; the PID limit for pods is carried to spec.kubelet.podPidsLimit", false).switchOff(false, "hardening_configuration"),
	drop("hardening_configuration.limit_kernel_capabilities", "MKE 3 component hardening: no MKE 4k equivalent", false),
	drop("hardening_configuration.limit_non_root_containers", "MKE 3 component hardening: no MKE 4k equivalent", false),
	to("hardening_configuration.pids_limit_k8s", "kubelet.podPidsLimit", Inferred),
	drop("hardening_configuration.pids_limit_int", "PID limit of MKE 3 internal containers: no MKE 4k equivalent", 0),
	drop("hardening_configuration.pids_limit_swarm", whySwarm, 0),
	to("hardening_configuration.pids_limit_unspecified_k8s", "kubelet.podPidsLimit", Inferred),
	drop("hardening_configuration.pids_limit_unspecified_int", "PID limit of MKE 3 internal containers: no MKE 4k equivalent", true),
	drop("hardening_configuration.pids_limit_unspecified_swarm", whySwarm, true),
	drop("hardening_configuration.use_strong_tls_ciphers", "no MKE 4k switch: set tls-cipher-suites in apiServer/kubelet extraArgs and etcd.tlsCipherSuites (the cipher_suites_for_* keys are carried there)", false),

	// [auth]
	to("auth.backend", "authentication.ldap.enabled", Inferred).switchOff("managed"),
	drop("auth.default_new_user_role", "role for a new user's private Swarm collection: MKE 4k has no collections", "restrictedcontrol"),
	to("auth.samlEnabled", "authentication.saml.enabled", Inferred).switchOff(false, "auth.saml"),
	drop("auth.samlLoginText", "MKE 3 UI text: Dex shows its own login page", ""),
	drop("auth.scimEnabled", "SCIM provisioning: MKE 4k has no SCIM endpoint", false).switchOff(false, "auth.scim"),
	to("auth.managedPasswordDisabled", "authentication.localUsers", Checked),
	drop("auth.managedPasswordFallbackUser", "MKE 4k has no per-user password fallback (local users are all on or all off)", ""),
	to("auth.sessions.lifetime_minutes", "authentication.expiry.idTokens", Inferred),
	to("auth.sessions.renewal_threshold_minutes", "authentication.expiry.refreshTokens.validIfNotUsedFor", Inferred),
	drop("auth.sessions.per_user_limit", "Dex has no limit of concurrent sessions per user", 10),
	drop("auth.sessions.store_token_per_session", "MKE 3 UI storage detail: no MKE 4k equivalent", false).switchOff(false),
	to("auth.saml.idpMetadataURL", "authentication.saml.ssoMetadataURL", Inferred),
	drop("auth.saml.spHost", "Dex derives the service-provider URL from the external address", ""),
	to("auth.saml.rootCerts", "authentication.saml.caData", Inferred),
	drop("auth.saml.tlsSkipVerify", "Dex verifies the IdP metadata over TLS; there is no skip switch", false),
	drop("auth.saml.allowLdapLogins", "LDAP logins while SAML is on: "+whyAuthNS, false),
	drop("auth.scim.token", "SCIM provisioning: MKE 4k has no SCIM endpoint", "").secretKey(),
	drop("auth.scim.orgName", "SCIM provisioning: MKE 4k has no SCIM endpoint", ""),
	drop("auth.samlProxy.enabled", "SAML proxies: "+whyAuthNS, false).switchOff(false, "auth.samlProxy"),
	drop("auth.samlProxy.proxy_url", "SAML proxies: "+whyAuthNS, ""),
	drop("auth.samlProxy.credentials.basic.user", "SAML proxies: "+whyAuthNS, ""),
	drop("auth.samlProxy.credentials.basic.password", "SAML proxies: "+whyAuthNS, "").secretKey(),
	to("auth.external_identity_provider.wellKnownConfigUrl", "authentication.oidc.issuer", Inferred),
	to("auth.external_identity_provider.clientId", "authentication.oidc.clientID", Checked),
	to("auth.external_identity_provider.clientSecret", "authentication.oidc.clientSecret", Inferred).secretKey(),
	to("auth.external_identity_provider.issuer", "authentication.oidc.issuer", Checked),
	drop("auth.external_identity_provider.usernameClaim", "Dex's OIDC connector maps claims itself; "+whyAuthNS+" in the compatibility check", ""),
	drop("auth.external_identity_provider.caBundle", "custom IdP CA bundle: "+whyAuthNS+" in the compatibility check", ""),
	drop("auth.external_identity_provider.httpProxy", "OIDC proxies: "+whyAuthNS, ""),
	drop("auth.external_identity_provider.httpsProxy", "OIDC proxies: "+whyAuthNS, ""),
	drop("auth.external_identity_provider.userServiceId", "MKE 3 eNZi service id: no MKE 4k equivalent", ""),
	drop("auth.external_identity_provider.signInCriteria[].term", "sign-in claim criteria: Dex has no equivalent; restrict access with RBAC on the user's groups", nil),
	drop("auth.external_identity_provider.signInCriteria[].value", "sign-in claim criteria: Dex has no equivalent; restrict access with RBAC on the user's groups", nil),
	drop("auth.external_identity_provider.signInCriteria[].matchType", "sign-in claim criteria: Dex has no equivalent; restrict access with RBAC on the user's groups", nil),
	drop("auth.external_identity_provider.adminRoleCriteria[].term", "admin claim criteria: grant cluster-admin to the IdP group with a ClusterRoleBinding instead", nil),
	drop("auth.external_identity_provider.adminRoleCriteria[].value", "admin claim criteria: grant cluster-admin to the IdP group with a ClusterRoleBinding instead", nil),
	drop("auth.external_identity_provider.adminRoleCriteria[].matchType", "admin claim criteria: grant cluster-admin to the IdP group with a ClusterRoleBinding instead", nil),
	drop("auth.account_lock.enabled", "account lockout: Dex has no lockout after failed logins", false).switchOff(false, "auth.account_lock"),
	drop("auth.account_lock.failureTrigger", "account lockout: Dex has no lockout after failed logins", 0),
	drop("auth.account_lock.durationSeconds", "account lockout: Dex has no lockout after failed logins", 0),

	// [backup_schedule_config], [etcd_cleanup_schedule_config]
	drop("backup_schedule_config.enabled", whyBackup, false).switchOff(false, "backup_schedule_config"),
	drop("backup_schedule_config.path", whyBackup, ""),
	drop("backup_schedule_config.passphrase", whyBackup, "").secretKey(),
	drop("backup_schedule_config.no_passphrase", whyBackup, false),
	drop("backup_schedule_config.cron_spec", whyBackup, ""),
	drop("backup_schedule_config.include_logs", whyBackup, false),
	drop("backup_schedule_config.backups_limit", whyBackup, 30),
	drop("backup_schedule_config.notification_delay", whyBackup, 7),
	drop("etcd_cleanup_schedule_config.cleanup_enabled", whyEtcdClean, false).switchOff(false, "etcd_cleanup_schedule_config"),
	drop("etcd_cleanup_schedule_config.min_ttl_to_keep_seconds", whyEtcdClean, 0),
	drop("etcd_cleanup_schedule_config.cron_expression", whyEtcdClean, ""),
	drop("etcd_cleanup_schedule_config.defrag_enabled", whyEtcdClean, false),
	drop("etcd_cleanup_schedule_config.defrag_pause_seconds", whyEtcdClean, 0),
	drop("etcd_cleanup_schedule_config.defrag_timeout_seconds", whyEtcdClean, 0),

	// [[registries]]
	drop("registries[].host_address", "MSR instance trusted by MKE 3: MKE 4k pulls through spec.registries; trust the MSR CA on the nodes yourself", nil),
	drop("registries[].service_id", "MSR service id: no MKE 4k equivalent", nil),
	drop("registries[].ca_bundle", "MSR CA: MKE 4k does not distribute registry CAs to nodes; install it in each node's trust store", nil),
	drop("registries[].batch_scanning_data_enabled", "MSR scanning data in the MKE 3 UI: no MKE 4k equivalent", nil),

	// Swarm, tracking, trust, logs, licence, PKI
	drop("scheduling_configuration.enable_admin_ucp_scheduling", "lets users schedule on managers in MKE 3: MKE 4k taints controller+worker nodes; use tolerations (or hosts[].noTaints) instead", true),
	drop("scheduling_configuration.default_node_orchestrator", whySwarm, "kubernetes"),
	to("tracking_configuration.disable_usageinfo", "tracking.enabled", Inferred),
	to("tracking_configuration.disable_tracking", "tracking.enabled", Inferred).switchOff(false),
	to("tracking_configuration.cluster_label", "tracking.clusterLabel", Inferred),
	to("tracking_configuration.ops_care", "monitoring.enableOpscare", Inferred),
	drop("trust_configuration.require_content_trust", "Docker Content Trust: MKE 4k does not check image signatures; enforce them with an admission policy (e.g. Gatekeeper)", false),
	drop("trust_configuration.require_signature_from", "Docker Content Trust: MKE 4k does not check image signatures", []any{}),
	drop("trust_configuration.allow_repos", "Docker Content Trust: MKE 4k does not check image signatures", []any{}),
	to("log_configuration.level", "network.providers[calico].extraConfig.loglevel", Checked),
	drop("log_configuration.protocol", "remote syslog of MKE 3 components: ship logs with a log collector in MKE 4k", nil),
	drop("log_configuration.host", "remote syslog of MKE 3 components: ship logs with a log collector in MKE 4k", ""),
	to("audit_log_configuration.level", "apiServer.audit.level", Inferred).switchOff(""),
	drop("audit_log_configuration.support_bundle_include_audit_logs", "MKE 3 support dump option: no MKE 4k equivalent", false).switchOff(false),
	drop("license_configuration.auto_refresh", "the MKE 4k licence is a token in spec.license.token; there is no auto refresh", true),
	drop("license_configuration.omit_telemetry", "the MKE 4k licence is a token in spec.license.token", false),
	drop("pki.client_ca_bundle", "extra client CA for the MKE 3 API: not supported by MKE 4k", ""),
	drop("user_workload_defaults.swarm_defaults.*.value", whySwarm, nil),
	drop("custom_api_server_headers[].name", "extra HTTP headers of the MKE 3 API: not supported by MKE 4k", nil),
	drop("custom_api_server_headers[].value", "extra HTTP headers of the MKE 3 API: not supported by MKE 4k", nil),

	// [cluster_config]: ports and endpoints
	drop("cluster_config.controller_port", "MKE 3 controller (UI/API) port: MKE 4k serves its UI through the ingress (load balancer 443 → NodePort 33001)", 443),
	drop("cluster_config.kube_apiserver_port", "MKE 4k serves the Kubernetes API on 6443 (not configurable); point the load balancer at 6443", 6443),
	drop("cluster_config.swarm_port", whySwarm, 2376),
	drop("cluster_config.node_exporter_port", whyMetrics, 9100),
	to("cluster_config.shared_sans", "apiServer.sans", Inferred),
	drop("cluster_config.swarm_strategy", whySwarm, "spread"),
	drop("cluster_config.dns", "DNS of MKE 3 system containers: k0s components use the host's resolver", []any{}),
	drop("cluster_config.dns_opt", "DNS of MKE 3 system containers: k0s components use the host's resolver", []any{}),
	drop("cluster_config.dns_search", "DNS of MKE 3 system containers: k0s components use the host's resolver", []any{}),
	drop("cluster_config.exclude_server_identity_headers", whyUCP, false),
	drop("cluster_config.disable_client_bundle", "MKE 4k has no client bundles (users get kubeconfigs)", false),

	// networking
	to("cluster_config.pod_cidr", "network.providers[calico].extraConfig.cidrV4", Checked),
	to("cluster_config.service_cluster_ip_range", "network.serviceCIDR", Checked),
	to("cluster_config.nodeport_range", "network.nodePortRange", Checked),
	drop("cluster_config.calico_kdd", "Calico datastore: MKE 4k requires the Kubernetes datastore (KDD)", true),
	to("cluster_config.calico_mtu", "network.providers[calico].extraConfig.values.yaml:installation.calicoNetwork.mtu", Checked),
	to("cluster_config.ipip_mtu", "network.providers[calico].extraConfig.values.yaml:defaultFelixConfiguration.ipipMTU", Inferred),
	to("cluster_config.calico_vxlan", "network.providers[calico].extraConfig.values.yaml:installation.calicoNetwork.bgp", Inferred),
	to("cluster_config.vxlan_vni", "network.providers[calico].extraConfig.values.yaml:defaultFelixConfiguration.vxlanVNI", Documented),
	to("cluster_config.calico_vxlan_mtu", "network.providers[calico].extraConfig.values.yaml:defaultFelixConfiguration.vxlanMTU", Inferred),
	to("cluster_config.calico_vxlan_port", "network.providers[calico].extraConfig.values.yaml:defaultFelixConfiguration.vxlanPort", Documented),
	to("cluster_config.calico_ip_auto_method", "network.providers[calico].extraConfig.values.yaml:installation.calicoNetwork.nodeAddressAutodetectionV4", Checked),
	drop("cluster_config.calico_strict_affinity", "kept by the cluster: strict affinity lives in Calico's IPAMConfig in the Kubernetes datastore, which MKE 4k adopts unchanged", anyValue),
	drop("cluster_config.calico_ebpf_enabled", "Calico eBPF dataplane", false).switchOff(false),
	drop("cluster_config.calico_controller_probes_tuning", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", false).switchOff(false, "cluster_config.calico_controller_liveness_probe_failure_threshold", "cluster_config.calico_controller_liveness_probe_initial_delay_seconds", "cluster_config.calico_controller_liveness_probe_period_seconds", "cluster_config.calico_controller_liveness_probe_success_threshold", "cluster_config.calico_controller_liveness_probe_timeout_seconds", "cluster_config.calico_controller_readiness_probe_failure_threshold", "cluster_config.calico_controller_readiness_probe_initial_delay_seconds", "cluster_config.calico_controller_readiness_probe_period_seconds", "cluster_config.calico_controller_readiness_probe_success_threshold", "cluster_config.calico_controller_readiness_probe_timeout_seconds"),
	drop("cluster_config.calico_controller_liveness_probe_failure_threshold", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_liveness_probe_initial_delay_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", -1),
	drop("cluster_config.calico_controller_liveness_probe_period_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_liveness_probe_success_threshold", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_liveness_probe_timeout_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_readiness_probe_failure_threshold", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_readiness_probe_initial_delay_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", -1),
	drop("cluster_config.calico_controller_readiness_probe_period_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_readiness_probe_success_threshold", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_controller_readiness_probe_timeout_seconds", "calico-kube-controllers probes: the tigera operator in MKE 4k sets them", 0),
	drop("cluster_config.calico_manifest_tigop_compat_disabled", whyCalicoMgr, false),
	drop("cluster_config.tigop_compatible_manifest", whyCalicoMgr, true),
	to("cluster_config.unmanaged_cni", "network.providers", Documented).switchOff(false),
	drop("cluster_config.cni_installer_url", "install-time CNI manifest URL: with an unmanaged CNI, MKE 4k keeps the CNI already running", "").switchOff(""),
	drop("cluster_config.secure_overlay", "IPsec overlay: MKE 4k has no IPsec option (Calico can encrypt with WireGuard instead)", false).switchOff(false),
	drop("cluster_config.azure_ip_count", "Azure IPAM setting: MKE 4k does not manage Azure IPAM", ""),
	to("cluster_config.kube_proxy_mode", "network.kubeProxy.mode", Checked),
	drop("cluster_config.kube_proxy_use_config_file", "kube-proxy configuration source: MKE 4k generates the kube-proxy configuration from network.kubeProxy", false).switchOff(false),
	drop("cluster_config.kube_proxy_no_cleanup_on_start", "kube-proxy start-up detail: k0s manages kube-proxy start-up", true).switchOff(true),
	drop("cluster_config.custom_proxy_config_yaml", "raw kube-proxy configuration: MKE 4k does not take one; move its settings to network.kubeProxy or custom_kube_proxy_flags", "").switchOff(""),
	drop("cluster_config.ipvs_exclude_cidrs", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_min_sync_period", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_scheduler", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_sync_period", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_tcp_timeout", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_tcpfin_timeout", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_udp_timeout", "IPVS tuning: MKE 4k supports only iptables kube-proxy", ""),
	drop("cluster_config.ipvs_strict_arp", "IPVS tuning: MKE 4k supports only iptables kube-proxy", false),
	drop("cluster_config.kube_default_drop_masq_bits", "iptables mark bits: k0s uses the Kubernetes defaults", false).switchOff(false),
	to("cluster_config.node_local_dns", "nodeLocalDNS.enabled", Inferred),
	to("cluster_config.node_local_dns_config_persist", "nodeLocalDNS.nodeLocalConfigPersist", Inferred),
	drop("cluster_config.core_dns_memory_limit", "CoreDNS resources: MKE 4k (k0s) sizes CoreDNS itself", "170Mi"),
	drop("cluster_config.core_dns_memory_request", "CoreDNS resources: MKE 4k (k0s) sizes CoreDNS itself", "70Mi"),
	drop("cluster_config.core_dns_config_persist", "CoreDNS Corefile persistence: k0s owns the CoreDNS configuration", false),
	drop("cluster_config.networks_quota_per_collection", whySwarm, 0),

	// kubelet and nodes
	to("cluster_config.kubelet_max_pods", "kubelet.maxPods", Checked),
	to("cluster_config.kubelet_pods_per_core", "kubelet.podsPerCore", Inferred).switchOff(int64(0)),
	to("cluster_config.kubelet_event_record_qps", "kubelet.eventRecordQPS", Checked),
	to("cluster_config.kubelet_data_root", "kubelet.kubeletRootDir", Checked),
	to("cluster_config.kubelet_serialize_image_pulls", "kubelet.extraArgs.serialize-image-pulls", Inferred),
	to("cluster_config.kubelet_max_parallel_image_pulls", "kubelet.extraArgs.max-parallel-image-pulls", Inferred),
	to("cluster_config.kube_protect_kernel_defaults", "kubelet.protectKernelDefaults", Inferred).switchOff(false),
	to("cluster_config.manager_kube_reserved_resources", "kubelet.managerKubeReserved", Checked),
	to("cluster_config.worker_kube_reserved_resources", "kubelet.workerKubeReserved", Checked),
	to("cluster_config.disable_seccomp_default", "kubelet.seccompDefault", Inferred).switchOff(false),
	to("cluster_config.cipher_suites_for_kubelet", "kubelet.extraArgs.tls-cipher-suites", Checked),
	to("cluster_config.custom_kubelet_flags", "kubelet.extraArgs", Documented),
	to("cluster_config.custom_kubelet_flags_profiles.*", "kubelet.customProfiles", Documented),
	drop("cluster_config.containerd_root", "k0s keeps containerd state under its data directory (/var/lib/k0s by default)", "/var/lib/containerd"),
	drop("cluster_config.windows_containerd_root", whyWindows+": Windows paths have no effect on Linux nodes (Windows nodes themselves are a preflight blocker)", anyValue),
	drop("cluster_config.windows_kubelet_data_root", whyWindows+": Windows paths have no effect on Linux nodes (Windows nodes themselves are a preflight blocker)", anyValue),
	drop("cluster_config.gmsa_allow_non_admins", whyWindows, false).switchOff(false),
	drop("cluster_config.windows_gmsa", whyWindows, false),
	drop("cluster_config.ignore_pod_updates_for_node_selector", "MKE 3 admission-controller detail: no MKE 4k equivalent", false).switchOff(false),
	to("cluster_config.nvidia_device_plugin", "devicePlugins.nvidiaGPU.enabled", Inferred).switchOff(false),
	drop("cluster_config.nvidia_device_partitioner", "MIG partitioning is set under devicePlugins.nvidiaGPU.mig in MKE 4k, whose settings have no MKE 3 equivalent; configure it there", true),
	to("cluster_config.cadvisor_enabled", "monitoring.enableCAdvisor", Inferred).switchOff(false),
	drop("cluster_config.iscsi_enabled", whyStorage, false),
	drop("cluster_config.iscsiadm_path", whyStorage, ""),
	drop("cluster_config.iscsidb_path", whyStorage, ""),
	drop("cluster_config.use_flex_volume_driver", whyStorage, false),
	drop("cluster_config.local_volume_collection_mapping", "Swarm collection mapping of local volumes: "+whySwarm, false).switchOff(false),
	drop("cluster_config.storage_expt_enabled", whyStorage, false),
	to("cluster_config.custom_kube_api_server_flags", "apiServer.extraArgs", Documented),
	to("cluster_config.custom_kube_controller_manager_flags", "controllerManager.extraArgs", Documented),
	to("cluster_config.custom_kube_scheduler_flags", "scheduler.extraArgs", Documented),
	to("cluster_config.custom_kube_proxy_flags", "network.kubeProxy.extraArgs", Documented),

	// control plane
	to("cluster_config.cipher_suites_for_kube_api_server", "apiServer.extraArgs.tls-cipher-suites", Checked),
	to("cluster_config.kube_api_server_request_timeout", "apiServer.requestTimeout", Inferred),
	to("cluster_config.kube_api_server_auditing", "apiServer.audit.enabled", Inferred),
	to("cluster_config.kube_api_server_audit_log_maxage", "apiServer.audit.maxAge", Checked),
	to("cluster_config.kube_api_server_audit_log_maxbackup", "apiServer.audit.maxBackup", Inferred),
	to("cluster_config.kube_api_server_audit_log_maxsize", "apiServer.audit.maxSize", Inferred),
	to("cluster_config.kube_api_server_enable_custom_audit_policy", "apiServer.audit.customPolicyYaml", Inferred),
	to("cluster_config.kube_api_server_custom_audit_policy_yaml", "apiServer.audit.customPolicyYaml", Inferred),
	to("cluster_config.kube_api_server_profiling_enabled", "apiServer.profilingEnabled", Inferred),
	to("cluster_config.kube_controller_manager_profiling_enabled", "controllerManager.profilingEnabled", Inferred),
	to("cluster_config.kube_scheduler_profiling_enabled", "scheduler.profilingEnabled", Checked),
	to("cluster_config.kube_scheduler_bind_to_all", "scheduler.bindToAll", Inferred).switchOff(false),
	to("cluster_config.kube_manager_terminated_pod_gc_threshold", "controllerManager.terminatedPodGCThreshold", Inferred),
	to("cluster_config.k8s_always_pull_images_ac_enabled", "apiServer.extraArgs.enable-admission-plugins", Inferred).switchOff(false),
	drop("cluster_config.unauthenticated_http2_dos_mitigation", "MKE 3 API-proxy setting: no MKE 4k equivalent", false),
	drop("cluster_config.disable_http2", "MKE 3 API-proxy setting: no MKE 4k equivalent", false).switchOff(false),
	to("cluster_config.kms_enabled", "apiServer.encryptionProvider", Inferred).switchOff(false, "cluster_config.kms_name", "cluster_config.kms_endpoint", "cluster_config.kms_cachesize"),
	drop("cluster_config.kms_name", "KMS plugin name: part of the EncryptionConfiguration you write for apiServer.encryptionProvider", ""),
	drop("cluster_config.kms_endpoint", "KMS plugin endpoint: part of the EncryptionConfiguration you write for apiServer.encryptionProvider", ""),
	drop("cluster_config.kms_cachesize", "KMS cache size: part of the EncryptionConfiguration you write for apiServer.encryptionProvider", 0),
	to("cluster_config.etcd_storage_quota", "etcd.storageQuota", Inferred),
	to("cluster_config.cipher_suites_for_etcd_server", "etcd.tlsCipherSuites", Inferred),
	to("cluster_config.cluster_name", "controllerManager.extraArgs.cluster-name", Inferred),
	to("cluster_config.cloud_provider", "cloudProvider", Inferred).switchOff(""),
	drop("cluster_config.pubkey_auth_cache_enabled", whyUCP, false).switchOff(false),
	drop("cluster_config.authz_cache_timeout", whyUCP, 0),

	// MKE internals, Swarm, UI, metrics
	drop("cluster_config.kv_timeout", "MKE 3 key-value store (ucp-kv): k0s runs its own etcd", 5000),
	drop("cluster_config.kv_snapshot_count", "MKE 3 key-value store (ucp-kv): k0s runs its own etcd", 20000),
	drop("cluster_config.profiling_enabled", whyUCP, false).switchOff(false),
	drop("cluster_config.swarm_polling_disabled", whySwarm, false),
	drop("cluster_config.swarm_only", whySwarm, false),
	drop("cluster_config.hide_swarm_ui", whySwarm, false),
	drop("cluster_config.image_scan_aggregation_enabled", whyUCP, false).switchOff(false),
	drop("cluster_config.image_scan_cvss_version", whyUCP, 3),
	drop("cluster_config.image_prune_schedule", "MKE 3 image pruning: kubelet garbage-collects images in MKE 4k (imageGCHighThresholdPercent)", ""),
	drop("cluster_config.external_service_lb", whyUCP, "").switchOff(""),
	drop("cluster_config.metrics_retention_time", whyMetrics, "24h"),
	drop("cluster_config.metrics_scrape_interval", whyMetrics, "1m"),
	drop("cluster_config.metrics_disk_usage_interval", whyMetrics, nil),
	drop("cluster_config.prometheus_memory_limit", whyMetrics, "2Gi"),
	drop("cluster_config.prometheus_memory_request", whyMetrics, "1Gi"),
	drop("cluster_config.rethinkdb_cache_size", "MKE 3 RethinkDB (auth store): MKE 4k has no RethinkDB", "1GB"),
	drop("cluster_config.cpu_usage_banner_threshold", whyUCP, 20),
	drop("cluster_config.cpu_usage_banner_scrape_interval", whyUCP, "10m"),
	drop("cluster_config.pre_logon_message", whyUCP, "").switchOff(""),
	drop("cluster_config.oidc_client_id", "MKE 3 eNZi service id: no MKE 4k equivalent", ""),

	// sub-tables
	to("cluster_config.ingress_controller.enabled", "ingressController.enabled", Documented).switchOff(false, "cluster_config.ingress_controller"),
	to("cluster_config.ingress_controller.ingress_num_replicas", "ingressController.replicaCount", Documented),
	to("cluster_config.ingress_controller.ingress_external_ips", "ingressController.externalIPs", Inferred),
	to("cluster_config.ingress_controller.ingress_enable_lb", "ingressController.enableLoadBalancer", Documented),
	to("cluster_config.ingress_controller.ingress_preserve_client_ip", "ingressController.preserveClientIP", Documented),
	to("cluster_config.ingress_controller.ingress_exposed_ports[].name", "ingressController.nodePorts", Documented),
	to("cluster_config.ingress_controller.ingress_exposed_ports[].port", "ingressController.ports", Documented),
	to("cluster_config.ingress_controller.ingress_exposed_ports[].target_port", "ingressController.ports", Documented),
	to("cluster_config.ingress_controller.ingress_exposed_ports[].node_port", "ingressController.nodePorts", Documented),
	to("cluster_config.ingress_controller.ingress_exposed_ports[].protocol", "ingressController.nodePorts", Documented),
	to("cluster_config.ingress_controller.ingress_node_toleration[].key", "ingressController.tolerations", Documented),
	to("cluster_config.ingress_controller.ingress_node_toleration[].value", "ingressController.tolerations", Documented),
	to("cluster_config.ingress_controller.ingress_node_toleration[].operator", "ingressController.tolerations", Documented),
	to("cluster_config.ingress_controller.ingress_node_toleration[].effect", "ingressController.tolerations", Documented),
	to("cluster_config.ingress_controller.ingress_node_affinity.*", "ingressController.affinity", Documented),
	to("cluster_config.ingress_controller.ingress_config_map.*", "ingressController.configMap", Documented),
	to("cluster_config.ingress_controller.ingress_tcp_services.*", "ingressController.tcpServices", Documented),
	to("cluster_config.ingress_controller.ingress_udp_services.*", "ingressController.udpServices", Documented),
	to("cluster_config.ingress_controller.ingress_extra_args.http_port", "ingressController.extraArgs.httpPort", Documented),
	to("cluster_config.ingress_controller.ingress_extra_args.https_port", "ingressController.extraArgs.httpsPort", Documented),
	to("cluster_config.ingress_controller.ingress_extra_args.enable_ssl_passthrough", "ingressController.extraArgs.enableSslPassthrough", Documented),
	drop("cluster_config.ingress_controller.ingress_extra_args.default_ssl_certificate", "MKE 4k manages the ingress default certificate (mke/mke-ingress.tls); supply your own through spec.certificates", ""),
	drop("cluster_config.ingress_controller.ingress_extra_args.default_backend_service", "ingress default backend: not configurable in MKE 4k's ingressController", ""),
	// MKE 3.9: the Envoy Gateway controller that takes the NGINX ingress
	// controller's place. MKE 4k (4.1.3 and later) always runs Envoy Gateway.
	to("cluster_config.gateway_controller.enabled", "envoyGateway", Documented).switchOff(false, "cluster_config.gateway_controller").sinceVersion("3.9"),
	to("cluster_config.gateway_controller.gateway_num_replicas", "envoyGateway.replicaCount", Inferred).sinceVersion("3.9"),
	to("cluster_config.gateway_controller.gateway_node_toleration[].key", "envoyGateway.tolerations", Inferred).sinceVersion("3.9"),
	to("cluster_config.gateway_controller.gateway_node_toleration[].value", "envoyGateway.tolerations", Inferred).sinceVersion("3.9"),
	to("cluster_config.gateway_controller.gateway_node_toleration[].operator", "envoyGateway.tolerations", Inferred).sinceVersion("3.9"),
	to("cluster_config.gateway_controller.gateway_node_toleration[].effect", "envoyGateway.tolerations", Inferred).sinceVersion("3.9"),
	drop("cluster_config.policy_enforcement.pod_security_policy", "PodSecurityPolicy was removed in Kubernetes 1.25: use Pod Security Admission or OPA Gatekeeper", false),
	to("cluster_config.policy_enforcement.gatekeeper.enabled", "policyController.opaGatekeeper.enabled", Documented).switchOff(false, "cluster_config.policy_enforcement.gatekeeper"),
	to("cluster_config.policy_enforcement.gatekeeper.excluded_namespaces", "policyController.opaGatekeeper.exemptNamespaces", Documented),
	to("cluster_config.core_dns_lameduck_config.enabled", "dns.lameduck.enabled", Documented).switchOff(false, "cluster_config.core_dns_lameduck_config"),
	to("cluster_config.core_dns_lameduck_config.duration", "dns.lameduck.duration", Documented),
	to("cluster_config.metallb_config.enabled", "addons[metallb].enabled", Documented).switchOff(false, "cluster_config.metallb_config"),
	drop("cluster_config.metallb_config.metallb_ip_addr_pool[].name", "MetalLB pools are not MKE 4k configuration: recreate them as IPAddressPool and L2Advertisement objects (listed under metallbPools in this report)", nil),
	drop("cluster_config.metallb_config.metallb_ip_addr_pool[].external_ip", "MetalLB pools are not MKE 4k configuration: recreate them as IPAddressPool and L2Advertisement objects (listed under metallbPools in this report)", nil),
	to("cluster_config.k8s_event_rate_limit.event_rate_limit_ac_enabled", "apiServer.eventRateLimit.enabled", Inferred).switchOff(false),
	drop("cluster_config.image_prune_whitelist[].key", "MKE 3 image pruning filter: kubelet garbage-collects images in MKE 4k", nil),
	drop("cluster_config.image_prune_whitelist[].value", "MKE 3 image pruning filter: kubelet garbage-collects images in MKE 4k", nil),
}

// legacyHints explains keys that older UCP exports carry, so that an
// unknown key still gets a useful reason.
var legacyHints = map[string]string{
	"auth.ldap": "UCP 3.1-era LDAP table: MKE 3.7/3.8 keeps LDAP in eNZi (GET /enzi/v0/config/auth/ldap); give those settings to the converter (Options.LDAP) to carry them to spec.authentication.ldap",
	"tracking_configuration.anonymize_tracking": "UCP 3.1-era key, not in MKE 3.7/3.8",
	"cluster_config.metrics_target_heap_size":   "UCP 3.1-era key, not in MKE 3.7/3.8",
	"cluster_config.min_tls_version":            "UCP 3.1-era key, not in MKE 3.7/3.8: set tls-min-version in apiServer/kubelet extraArgs if needed",
}

// specByPattern indexes specs; built once, never modified.
var specByPattern = func() map[string]*keySpec {
	m := make(map[string]*keySpec, len(specs))
	for i := range specs {
		m[specs[i].pattern] = &specs[i]
	}
	return m
}()

// modelNode is the MKE 3 model type as a tree keyed by TOML names, built
// once so that parsing does not walk struct tags for every key.
type modelNode struct {
	t      reflect.Type
	fields map[string]*modelNode // struct fields by TOML name
	elem   *modelNode            // map values or slice elements
}

var modelRoot = buildModel(reflect.TypeFor[MKE3Config]())

func buildModel(t reflect.Type) *modelNode {
	n := &modelNode{t: t}
	switch t.Kind() {
	case reflect.Struct:
		n.fields = map[string]*modelNode{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if tag != "" && tag != "-" && f.IsExported() {
				n.fields[tag] = buildModel(f.Type)
			}
		}
	case reflect.Map, reflect.Slice:
		n.elem = buildModel(t.Elem())
	}
	return n
}

// resolve walks the model along a leaf path. It returns the spec pattern
// of the path (indices as "[]", map keys as "*", free-form subtrees cut at
// their map), whether the model knows the path, and, when it does, either
// the Go type the value must fit (t) or why the path itself does not fit
// the model's shape (mismatch).
func resolve(path tomlwalk.Path) (pattern string, known bool, t reflect.Type, mismatch string) {
	var b strings.Builder
	n := modelRoot
	for i, e := range path {
		if e.Index >= 0 {
			b.WriteString("[]")
		} else if i > 0 {
			b.WriteByte('.')
		}
		if n == nil { // beyond the model: an unknown key
			if e.Index < 0 {
				b.WriteString(e.Key)
			}
			continue
		}
		switch n.t.Kind() {
		case reflect.Struct:
			if e.Index >= 0 {
				return b.String(), true, nil, "expected a table, got an array"
			}
			b.WriteString(e.Key)
			n = n.fields[e.Key]
		case reflect.Map:
			if e.Index >= 0 {
				return b.String(), true, nil, "expected a table, got an array"
			}
			b.WriteByte('*')
			n = n.elem
		case reflect.Slice:
			if e.Index < 0 {
				return b.String(), true, nil, fmt.Sprintf("expected %s, got a table", describe(n.t))
			}
			n = n.elem
		case reflect.Interface:
			// Free-form value (ingress_node_affinity): its map's pattern
			// covers the whole subtree.
			return strings.TrimSuffix(strings.TrimSuffix(b.String(), "[]"), "."), true, nil, ""
		default:
			return b.String(), true, nil, fmt.Sprintf("expected %s, got a table", describe(n.t))
		}
	}
	if n == nil {
		return b.String(), false, nil, ""
	}
	return b.String(), true, n.t, ""
}

// modelPatterns lists the spec patterns of every leaf of the model type
// (used by tests to keep the struct and the spec table in step).
func modelPatterns() []string {
	var out []string
	var walk func(n *modelNode, prefix string)
	walk = func(n *modelNode, prefix string) {
		switch n.t.Kind() {
		case reflect.Struct:
			for name, f := range n.fields {
				p := name
				if prefix != "" {
					p = prefix + "." + name
				}
				walk(f, p)
			}
		case reflect.Map:
			walk(n.elem, prefix+".*")
		case reflect.Slice:
			if n.elem.t.Kind() == reflect.Struct {
				walk(n.elem, prefix+"[]")
				return
			}
			out = append(out, prefix)
		default:
			out = append(out, prefix)
		}
	}
	walk(modelRoot, "")
	sort.Strings(out)
	return out
}
