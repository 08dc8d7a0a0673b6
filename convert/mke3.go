package convert

// MKE3Config is the MKE 3.7/3.8/3.9 configuration file (the TOML that
// GET /api/ucp/config-toml returns), as typed Go values. Keys that exist
// only from a later version on are marked in the spec table (MKE 3.9's
// cluster_config.gateway_controller).
//
// Parse fills it and also keeps every leaf key of the input (Leaves), so
// that keys this model does not know are reported (Unknown) rather than
// dropped. A key absent from the file keeps its Go zero value here; use
// Has to tell "absent" from "set to the zero value".
type MKE3Config struct {
	HardeningConfiguration    HardeningConfiguration    `toml:"hardening_configuration"`
	Auth                      Auth                      `toml:"auth"`
	BackupScheduleConfig      BackupScheduleConfig      `toml:"backup_schedule_config"`
	EtcdCleanupScheduleConfig EtcdCleanupScheduleConfig `toml:"etcd_cleanup_schedule_config"`
	Registries                []Registry                `toml:"registries"`
	SchedulingConfiguration   SchedulingConfiguration   `toml:"scheduling_configuration"`
	TrackingConfiguration     TrackingConfiguration     `toml:"tracking_configuration"`
	TrustConfiguration        TrustConfiguration        `toml:"trust_configuration"`
	LogConfiguration          LogConfiguration          `toml:"log_configuration"`
	AuditLogConfiguration     AuditLogConfiguration     `toml:"audit_log_configuration"`
	LicenseConfiguration      LicenseConfiguration      `toml:"license_configuration"`
	PKI                       PKI                       `toml:"pki"`
	UserWorkloadDefaults      UserWorkloadDefaults      `toml:"user_workload_defaults"`
	CustomAPIServerHeaders    []CustomAPIServerHeader   `toml:"custom_api_server_headers"`
	ClusterConfig             ClusterConfig             `toml:"cluster_config"`

	// Leaves lists every leaf key of the parsed document in document order.
	Leaves []Leaf `toml:"-"`
	// Unknown lists the leaves that this model does not know.
	Unknown []Leaf `toml:"-"`

	present map[string]bool
}

// Has reports whether the document set the leaf key (dotted, as in a
// report entry, e.g. "cluster_config.calico_kdd").
func (c *MKE3Config) Has(key string) bool { return c.present[key] }

// HardeningConfiguration is [hardening_configuration].
type HardeningConfiguration struct {
	HardeningEnabled          bool `toml:"hardening_enabled"`
	LimitKernelCapabilities   bool `toml:"limit_kernel_capabilities"`
	LimitNonRootContainers    bool `toml:"limit_non_root_containers"`
	PidsLimitK8s              int  `toml:"pids_limit_k8s"`
	PidsLimitInt              int  `toml:"pids_limit_int"`
	PidsLimitSwarm            int  `toml:"pids_limit_swarm"`
	PidsLimitUnspecifiedK8s   bool `toml:"pids_limit_unspecified_k8s"`
	PidsLimitUnspecifiedInt   bool `toml:"pids_limit_unspecified_int"`
	PidsLimitUnspecifiedSwarm bool `toml:"pids_limit_unspecified_swarm"`
	UseStrongTLSCiphers       bool `toml:"use_strong_tls_ciphers"`
}

// Auth is [auth] and its sub-tables.
type Auth struct {
	Backend                     string                   `toml:"backend"`
	DefaultNewUserRole          string                   `toml:"default_new_user_role"`
	SAMLEnabled                 bool                     `toml:"samlEnabled"`
	SAMLLoginText               string                   `toml:"samlLoginText"`
	SCIMEnabled                 bool                     `toml:"scimEnabled"`
	ManagedPasswordDisabled     bool                     `toml:"managedPasswordDisabled"`
	ManagedPasswordFallbackUser string                   `toml:"managedPasswordFallbackUser"`
	Sessions                    Sessions                 `toml:"sessions"`
	SAML                        SAML                     `toml:"saml"`
	SCIM                        SCIM                     `toml:"scim"`
	SAMLProxy                   SAMLProxy                `toml:"samlProxy"`
	ExternalIdentityProvider    ExternalIdentityProvider `toml:"external_identity_provider"`
	AccountLock                 AccountLock              `toml:"account_lock"`
}

// Sessions is [auth.sessions].
type Sessions struct {
	LifetimeMinutes         int  `toml:"lifetime_minutes"`
	RenewalThresholdMinutes int  `toml:"renewal_threshold_minutes"`
	PerUserLimit            int  `toml:"per_user_limit"`
	StoreTokenPerSession    bool `toml:"store_token_per_session"`
}

// SAML is [auth.saml].
type SAML struct {
	IdPMetadataURL  string `toml:"idpMetadataURL"`
	SPHost          string `toml:"spHost"`
	RootCerts       string `toml:"rootCerts"`
	TLSSkipVerify   bool   `toml:"tlsSkipVerify"`
	AllowLDAPLogins bool   `toml:"allowLdapLogins"`
}

// SCIM is [auth.scim].
type SCIM struct {
	Token   string `toml:"token"`
	OrgName string `toml:"orgName"`
}

// SAMLProxy is [auth.samlProxy].
type SAMLProxy struct {
	Enabled     bool   `toml:"enabled"`
	ProxyURL    string `toml:"proxy_url"`
	Credentials struct {
		Basic struct {
			User     string `toml:"user"`
			Password string `toml:"password"`
		} `toml:"basic"`
	} `toml:"credentials"`
}

// ExternalIdentityProvider is [auth.external_identity_provider] (OIDC).
type ExternalIdentityProvider struct {
	WellKnownConfigURL string          `toml:"wellKnownConfigUrl"`
	ClientID           string          `toml:"clientId"`
	ClientSecret       string          `toml:"clientSecret"`
	Issuer             string          `toml:"issuer"`
	UsernameClaim      string          `toml:"usernameClaim"`
	CABundle           string          `toml:"caBundle"`
	HTTPProxy          string          `toml:"httpProxy"`
	HTTPSProxy         string          `toml:"httpsProxy"`
	UserServiceID      string          `toml:"userServiceId"`
	SignInCriteria     []ClaimCriteria `toml:"signInCriteria"`
	AdminRoleCriteria  []ClaimCriteria `toml:"adminRoleCriteria"`
}

// ClaimCriteria is one entry of signInCriteria / adminRoleCriteria.
type ClaimCriteria struct {
	Term      string `toml:"term"`
	Value     string `toml:"value"`
	MatchType string `toml:"matchType"`
}

// AccountLock is [auth.account_lock].
type AccountLock struct {
	Enabled         bool `toml:"enabled"`
	FailureTrigger  int  `toml:"failureTrigger"`
	DurationSeconds int  `toml:"durationSeconds"`
}

// BackupScheduleConfig is [backup_schedule_config].
type BackupScheduleConfig struct {
	Enabled           bool   `toml:"enabled"`
	Path              string `toml:"path"`
	Passphrase        string `toml:"passphrase"`
	NoPassphrase      bool   `toml:"no_passphrase"`
	CronSpec          string `toml:"cron_spec"`
	IncludeLogs       bool   `toml:"include_logs"`
	BackupsLimit      int    `toml:"backups_limit"`
	NotificationDelay int    `toml:"notification_delay"`
}

// EtcdCleanupScheduleConfig is [etcd_cleanup_schedule_config].
type EtcdCleanupScheduleConfig struct {
	CleanupEnabled       bool   `toml:"cleanup_enabled"`
	MinTTLToKeepSeconds  int    `toml:"min_ttl_to_keep_seconds"`
	CronExpression       string `toml:"cron_expression"`
	DefragEnabled        bool   `toml:"defrag_enabled"`
	DefragPauseSeconds   int    `toml:"defrag_pause_seconds"`
	DefragTimeoutSeconds int    `toml:"defrag_timeout_seconds"`
}

// Registry is one [[registries]] entry (an MSR instance MKE 3 trusts).
type Registry struct {
	HostAddress              string `toml:"host_address"`
	ServiceID                string `toml:"service_id"`
	CABundle                 string `toml:"ca_bundle"`
	BatchScanningDataEnabled bool   `toml:"batch_scanning_data_enabled"`
}

// SchedulingConfiguration is [scheduling_configuration].
type SchedulingConfiguration struct {
	EnableAdminUCPScheduling bool   `toml:"enable_admin_ucp_scheduling"`
	DefaultNodeOrchestrator  string `toml:"default_node_orchestrator"`
}

// TrackingConfiguration is [tracking_configuration].
type TrackingConfiguration struct {
	DisableUsageInfo bool   `toml:"disable_usageinfo"`
	DisableTracking  bool   `toml:"disable_tracking"`
	ClusterLabel     string `toml:"cluster_label"`
	OpsCare          bool   `toml:"ops_care"`
}

// TrustConfiguration is [trust_configuration].
type TrustConfiguration struct {
	RequireContentTrust  bool     `toml:"require_content_trust"`
	RequireSignatureFrom []string `toml:"require_signature_from"`
	AllowRepos           []string `toml:"allow_repos"`
}

// LogConfiguration is [log_configuration].
type LogConfiguration struct {
	Level    string `toml:"level"`
	Protocol string `toml:"protocol"`
	Host     string `toml:"host"`
}

// AuditLogConfiguration is [audit_log_configuration].
type AuditLogConfiguration struct {
	Level                         string `toml:"level"`
	SupportBundleIncludeAuditLogs bool   `toml:"support_bundle_include_audit_logs"`
}

// LicenseConfiguration is [license_configuration].
type LicenseConfiguration struct {
	AutoRefresh   bool `toml:"auto_refresh"`
	OmitTelemetry bool `toml:"omit_telemetry"`
}

// PKI is [pki].
type PKI struct {
	ClientCABundle string `toml:"client_ca_bundle"`
}

// UserWorkloadDefaults is [user_workload_defaults].
type UserWorkloadDefaults struct {
	SwarmDefaults map[string]SwarmDefault `toml:"swarm_defaults"`
}

// SwarmDefault is one user_workload_defaults.swarm_defaults."<setting>" table.
type SwarmDefault struct {
	Value string `toml:"value"`
}

// CustomAPIServerHeader is one [[custom_api_server_headers]] entry.
type CustomAPIServerHeader struct {
	Name  string `toml:"name"`
	Value string `toml:"value"`
}

// ClusterConfig is [cluster_config].
type ClusterConfig struct {
	// Ports and control-plane endpoints.
	ControllerPort               int      `toml:"controller_port"`
	KubeAPIServerPort            int      `toml:"kube_apiserver_port"`
	SwarmPort                    int      `toml:"swarm_port"`
	NodeExporterPort             int      `toml:"node_exporter_port"`
	SharedSANs                   []string `toml:"shared_sans"`
	SwarmStrategy                string   `toml:"swarm_strategy"`
	DNS                          []string `toml:"dns"`
	DNSOpt                       []string `toml:"dns_opt"`
	DNSSearch                    []string `toml:"dns_search"`
	ExcludeServerIdentityHeaders bool     `toml:"exclude_server_identity_headers"`
	DisableClientBundle          bool     `toml:"disable_client_bundle"`

	// Networking, Calico, kube-proxy.
	PodCIDR                                           string `toml:"pod_cidr"`
	ServiceClusterIPRange                             string `toml:"service_cluster_ip_range"`
	NodePortRange                                     string `toml:"nodeport_range"`
	CalicoKDD                                         bool   `toml:"calico_kdd"`
	CalicoMTU                                         string `toml:"calico_mtu"`
	IPIPMTU                                           string `toml:"ipip_mtu"`
	CalicoVXLAN                                       bool   `toml:"calico_vxlan"`
	VXLANVNI                                          int    `toml:"vxlan_vni"`
	CalicoVXLANMTU                                    string `toml:"calico_vxlan_mtu"`
	CalicoVXLANPort                                   string `toml:"calico_vxlan_port"`
	CalicoIPAutoMethod                                string `toml:"calico_ip_auto_method"`
	CalicoStrictAffinity                              bool   `toml:"calico_strict_affinity"`
	CalicoEBPFEnabled                                 bool   `toml:"calico_ebpf_enabled"`
	CalicoControllerProbesTuning                      bool   `toml:"calico_controller_probes_tuning"`
	CalicoControllerLivenessProbeFailureThreshold     int    `toml:"calico_controller_liveness_probe_failure_threshold"`
	CalicoControllerLivenessProbeInitialDelaySeconds  int    `toml:"calico_controller_liveness_probe_initial_delay_seconds"`
	CalicoControllerLivenessProbePeriodSeconds        int    `toml:"calico_controller_liveness_probe_period_seconds"`
	CalicoControllerLivenessProbeSuccessThreshold     int    `toml:"calico_controller_liveness_probe_success_threshold"`
	CalicoControllerLivenessProbeTimeoutSeconds       int    `toml:"calico_controller_liveness_probe_timeout_seconds"`
	CalicoControllerReadinessProbeFailureThreshold    int    `toml:"calico_controller_readiness_probe_failure_threshold"`
	CalicoControllerReadinessProbeInitialDelaySeconds int    `toml:"calico_controller_readiness_probe_initial_delay_seconds"`
	CalicoControllerReadinessProbePeriodSeconds       int    `toml:"calico_controller_readiness_probe_period_seconds"`
	CalicoControllerReadinessProbeSuccessThreshold    int    `toml:"calico_controller_readiness_probe_success_threshold"`
	CalicoControllerReadinessProbeTimeoutSeconds      int    `toml:"calico_controller_readiness_probe_timeout_seconds"`
	CalicoManifestTigopCompatDisabled                 bool   `toml:"calico_manifest_tigop_compat_disabled"`
	TigopCompatibleManifest                           bool   `toml:"tigop_compatible_manifest"`
	UnmanagedCNI                                      bool   `toml:"unmanaged_cni"`
	CNIInstallerURL                                   string `toml:"cni_installer_url"`
	SecureOverlay                                     bool   `toml:"secure_overlay"`
	AzureIPCount                                      string `toml:"azure_ip_count"`
	KubeProxyMode                                     string `toml:"kube_proxy_mode"`
	KubeProxyUseConfigFile                            bool   `toml:"kube_proxy_use_config_file"`
	KubeProxyNoCleanupOnStart                         bool   `toml:"kube_proxy_no_cleanup_on_start"`
	CustomProxyConfigYAML                             string `toml:"custom_proxy_config_yaml"`
	IPVSExcludeCIDRs                                  string `toml:"ipvs_exclude_cidrs"`
	IPVSMinSyncPeriod                                 string `toml:"ipvs_min_sync_period"`
	IPVSScheduler                                     string `toml:"ipvs_scheduler"`
	IPVSSyncPeriod                                    string `toml:"ipvs_sync_period"`
	IPVSTCPTimeout                                    string `toml:"ipvs_tcp_timeout"`
	IPVSTCPFinTimeout                                 string `toml:"ipvs_tcpfin_timeout"`
	IPVSUDPTimeout                                    string `toml:"ipvs_udp_timeout"`
	IPVSStrictARP                                     bool   `toml:"ipvs_strict_arp"`
	KubeDefaultDropMasqBits                           bool   `toml:"kube_default_drop_masq_bits"`
	NodeLocalDNS                                      bool   `toml:"node_local_dns"`
	NodeLocalDNSConfigPersist                         bool   `toml:"node_local_dns_config_persist"`
	CoreDNSMemoryLimit                                string `toml:"core_dns_memory_limit"`
	CoreDNSMemoryRequest                              string `toml:"core_dns_memory_request"`
	CoreDNSConfigPersist                              bool   `toml:"core_dns_config_persist"`
	NetworksQuotaPerCollection                        int    `toml:"networks_quota_per_collection"`

	// kubelet and nodes.
	KubeletMaxPods                   int               `toml:"kubelet_max_pods"`
	KubeletPodsPerCore               int               `toml:"kubelet_pods_per_core"`
	KubeletEventRecordQPS            int               `toml:"kubelet_event_record_qps"`
	KubeletDataRoot                  string            `toml:"kubelet_data_root"`
	KubeletSerializeImagePulls       bool              `toml:"kubelet_serialize_image_pulls"`
	KubeletMaxParallelImagePulls     int               `toml:"kubelet_max_parallel_image_pulls"`
	KubeProtectKernelDefaults        bool              `toml:"kube_protect_kernel_defaults"`
	ManagerKubeReservedResources     string            `toml:"manager_kube_reserved_resources"`
	WorkerKubeReservedResources      string            `toml:"worker_kube_reserved_resources"`
	DisableSeccompDefault            bool              `toml:"disable_seccomp_default"`
	CipherSuitesForKubelet           string            `toml:"cipher_suites_for_kubelet"`
	CustomKubeletFlags               []string          `toml:"custom_kubelet_flags"`
	CustomKubeletFlagsProfiles       map[string]string `toml:"custom_kubelet_flags_profiles"`
	ContainerdRoot                   string            `toml:"containerd_root"`
	WindowsContainerdRoot            string            `toml:"windows_containerd_root"`
	WindowsKubeletDataRoot           string            `toml:"windows_kubelet_data_root"`
	GMSAAllowNonAdmins               bool              `toml:"gmsa_allow_non_admins"`
	WindowsGMSA                      bool              `toml:"windows_gmsa"`
	IgnorePodUpdatesForNodeSelector  bool              `toml:"ignore_pod_updates_for_node_selector"`
	NvidiaDevicePlugin               bool              `toml:"nvidia_device_plugin"`
	NvidiaDevicePartitioner          bool              `toml:"nvidia_device_partitioner"`
	CAdvisorEnabled                  bool              `toml:"cadvisor_enabled"`
	ISCSIEnabled                     bool              `toml:"iscsi_enabled"`
	ISCSIAdmPath                     string            `toml:"iscsiadm_path"`
	ISCSIDBPath                      string            `toml:"iscsidb_path"`
	UseFlexVolumeDriver              bool              `toml:"use_flex_volume_driver"`
	LocalVolumeCollectionMapping     bool              `toml:"local_volume_collection_mapping"`
	StorageExptEnabled               bool              `toml:"storage_expt_enabled"`
	CustomKubeAPIServerFlags         []string          `toml:"custom_kube_api_server_flags"`
	CustomKubeControllerManagerFlags []string          `toml:"custom_kube_controller_manager_flags"`
	CustomKubeSchedulerFlags         []string          `toml:"custom_kube_scheduler_flags"`
	CustomKubeProxyFlags             []string          `toml:"custom_kube_proxy_flags"`

	// kube-apiserver, controller-manager, scheduler, etcd.
	CipherSuitesForKubeAPIServer          string `toml:"cipher_suites_for_kube_api_server"`
	KubeAPIServerRequestTimeout           string `toml:"kube_api_server_request_timeout"`
	KubeAPIServerAuditing                 bool   `toml:"kube_api_server_auditing"`
	KubeAPIServerAuditLogMaxAge           int    `toml:"kube_api_server_audit_log_maxage"`
	KubeAPIServerAuditLogMaxBackup        int    `toml:"kube_api_server_audit_log_maxbackup"`
	KubeAPIServerAuditLogMaxSize          int    `toml:"kube_api_server_audit_log_maxsize"`
	KubeAPIServerEnableCustomAuditPolicy  bool   `toml:"kube_api_server_enable_custom_audit_policy"`
	KubeAPIServerCustomAuditPolicyYAML    string `toml:"kube_api_server_custom_audit_policy_yaml"`
	KubeAPIServerProfilingEnabled         bool   `toml:"kube_api_server_profiling_enabled"`
	KubeControllerManagerProfilingEnabled bool   `toml:"kube_controller_manager_profiling_enabled"`
	KubeSchedulerProfilingEnabled         bool   `toml:"kube_scheduler_profiling_enabled"`
	KubeSchedulerBindToAll                bool   `toml:"kube_scheduler_bind_to_all"`
	KubeManagerTerminatedPodGCThreshold   int    `toml:"kube_manager_terminated_pod_gc_threshold"`
	K8sAlwaysPullImagesACEnabled          bool   `toml:"k8s_always_pull_images_ac_enabled"`
	UnauthenticatedHTTP2DOSMitigation     bool   `toml:"unauthenticated_http2_dos_mitigation"`
	DisableHTTP2                          bool   `toml:"disable_http2"`
	KMSEnabled                            bool   `toml:"kms_enabled"`
	KMSName                               string `toml:"kms_name"`
	KMSEndpoint                           string `toml:"kms_endpoint"`
	KMSCacheSize                          int    `toml:"kms_cachesize"`
	EtcdStorageQuota                      string `toml:"etcd_storage_quota"`
	CipherSuitesForEtcdServer             string `toml:"cipher_suites_for_etcd_server"`
	ClusterName                           string `toml:"cluster_name"`
	CloudProvider                         string `toml:"cloud_provider"`
	PubkeyAuthCacheEnabled                bool   `toml:"pubkey_auth_cache_enabled"`
	AuthzCacheTimeout                     int    `toml:"authz_cache_timeout"`

	// MKE internals, Swarm, UI, metrics.
	KVTimeout                    int    `toml:"kv_timeout"`
	KVSnapshotCount              int    `toml:"kv_snapshot_count"`
	ProfilingEnabled             bool   `toml:"profiling_enabled"`
	SwarmPollingDisabled         bool   `toml:"swarm_polling_disabled"`
	SwarmOnly                    bool   `toml:"swarm_only"`
	HideSwarmUI                  bool   `toml:"hide_swarm_ui"`
	ImageScanAggregationEnabled  bool   `toml:"image_scan_aggregation_enabled"`
	ImageScanCVSSVersion         int    `toml:"image_scan_cvss_version"`
	ImagePruneSchedule           string `toml:"image_prune_schedule"`
	ExternalServiceLB            string `toml:"external_service_lb"`
	MetricsRetentionTime         string `toml:"metrics_retention_time"`
	MetricsScrapeInterval        string `toml:"metrics_scrape_interval"`
	MetricsDiskUsageInterval     string `toml:"metrics_disk_usage_interval"`
	PrometheusMemoryLimit        string `toml:"prometheus_memory_limit"`
	PrometheusMemoryRequest      string `toml:"prometheus_memory_request"`
	RethinkDBCacheSize           string `toml:"rethinkdb_cache_size"`
	CPUUsageBannerThreshold      int    `toml:"cpu_usage_banner_threshold"`
	CPUUsageBannerScrapeInterval string `toml:"cpu_usage_banner_scrape_interval"`
	PreLogonMessage              string `toml:"pre_logon_message"`
	OIDCClientID                 string `toml:"oidc_client_id"`

	// Sub-tables.
	IngressController     IngressController     `toml:"ingress_controller"`
	GatewayController     GatewayController     `toml:"gateway_controller"`
	PolicyEnforcement     PolicyEnforcement     `toml:"policy_enforcement"`
	CoreDNSLameduckConfig CoreDNSLameduckConfig `toml:"core_dns_lameduck_config"`
	MetalLBConfig         MetalLBConfig         `toml:"metallb_config"`
	K8sEventRateLimit     K8sEventRateLimit     `toml:"k8s_event_rate_limit"`
	ImagePruneWhitelist   []ImagePruneFilter    `toml:"image_prune_whitelist"`
}

// IngressController is [cluster_config.ingress_controller].
type IngressController struct {
	Enabled                 bool              `toml:"enabled"`
	IngressNumReplicas      int               `toml:"ingress_num_replicas"`
	IngressExternalIPs      []string          `toml:"ingress_external_ips"`
	IngressEnableLB         bool              `toml:"ingress_enable_lb"`
	IngressPreserveClientIP bool              `toml:"ingress_preserve_client_ip"`
	IngressExposedPorts     []IngressPort     `toml:"ingress_exposed_ports"`
	IngressNodeToleration   []Toleration      `toml:"ingress_node_toleration"`
	IngressNodeAffinity     map[string]any    `toml:"ingress_node_affinity"`
	IngressConfigMap        map[string]string `toml:"ingress_config_map"`
	IngressTCPServices      map[string]string `toml:"ingress_tcp_services"`
	IngressUDPServices      map[string]string `toml:"ingress_udp_services"`
	IngressExtraArgs        IngressExtraArgs  `toml:"ingress_extra_args"`
}

// GatewayController is [cluster_config.gateway_controller], MKE 3.9's Envoy
// Gateway controller (docs.mirantis.com/mke/3.9, "Configure Envoy Gateway
// Controller": enabled, gateway_num_replicas (default 1) and
// gateway_node_toleration).
type GatewayController struct {
	Enabled               bool         `toml:"enabled"`
	GatewayNumReplicas    int          `toml:"gateway_num_replicas"`
	GatewayNodeToleration []Toleration `toml:"gateway_node_toleration"`
}

// IngressPort is one [[…ingress_exposed_ports]] entry.
type IngressPort struct {
	Name       string `toml:"name"`
	Port       int    `toml:"port"`
	TargetPort int    `toml:"target_port"`
	NodePort   int    `toml:"node_port"`
	Protocol   string `toml:"protocol"`
}

// Toleration is one [[…ingress_node_toleration]] entry.
type Toleration struct {
	Key      string `toml:"key"`
	Value    string `toml:"value"`
	Operator string `toml:"operator"`
	Effect   string `toml:"effect"`
}

// IngressExtraArgs is [cluster_config.ingress_controller.ingress_extra_args].
type IngressExtraArgs struct {
	HTTPPort              int    `toml:"http_port"`
	HTTPSPort             int    `toml:"https_port"`
	EnableSSLPassthrough  bool   `toml:"enable_ssl_passthrough"`
	DefaultSSLCertificate string `toml:"default_ssl_certificate"`
	DefaultBackendService string `toml:"default_backend_service"`
}

// PolicyEnforcement is [cluster_config.policy_enforcement].
type PolicyEnforcement struct {
	PodSecurityPolicy bool `toml:"pod_security_policy"`
	Gatekeeper        struct {
		Enabled            bool     `toml:"enabled"`
		ExcludedNamespaces []string `toml:"excluded_namespaces"`
	} `toml:"gatekeeper"`
}

// CoreDNSLameduckConfig is [cluster_config.core_dns_lameduck_config].
type CoreDNSLameduckConfig struct {
	Enabled  bool   `toml:"enabled"`
	Duration string `toml:"duration"`
}

// MetalLBConfig is [cluster_config.metallb_config].
type MetalLBConfig struct {
	Enabled           bool              `toml:"enabled"`
	MetalLBIPAddrPool []MetalLBAddrPool `toml:"metallb_ip_addr_pool"`
}

// MetalLBAddrPool is one [[…metallb_ip_addr_pool]] entry.
type MetalLBAddrPool struct {
	Name       string   `toml:"name"`
	ExternalIP []string `toml:"external_ip"`
}

// K8sEventRateLimit is [cluster_config.k8s_event_rate_limit].
type K8sEventRateLimit struct {
	EventRateLimitACEnabled bool `toml:"event_rate_limit_ac_enabled"`
}

// ImagePruneFilter is one [[cluster_config.image_prune_whitelist]] entry.
type ImagePruneFilter struct {
	Key   string `toml:"key"`
	Value string `toml:"value"`
}
