package mke4

// Identity of the MKE 4k configuration object. mkectl refuses a configuration
// whose namespace is not MetadataNamespace.
const (
	// APIVersion is the apiVersion of an MKE 4k configuration file.
	APIVersion = "mke.mirantis.com/v1alpha1"
	// Kind is the kind of an MKE 4k configuration file.
	Kind = "MkeConfig"
	// MetadataName is the object name written by mkectl init.
	MetadataName = "mke"
	// MetadataNamespace is the namespace the configuration object lives in.
	MetadataNamespace = "mke"
)

// MkeConfig is the whole mke4.yaml document.
type MkeConfig struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata is the object metadata of the configuration.
type Metadata struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// CreationTimestamp is accepted because mkectl writes
	// "creationTimestamp: null"; it is never set by this package.
	CreationTimestamp *string `json:"creationTimestamp,omitempty"`
}

// Spec is the MKE 4k cluster configuration. Sections are listed in the order
// of the reference notes; the YAML output is nevertheless sorted by key (see
// the package documentation).
type Spec struct {
	Version           string            `json:"version,omitempty"`
	License           License           `json:"license"`
	Airgap            Airgap            `json:"airgap"`
	Registries        Registries        `json:"registries"`
	Hosts             []Host            `json:"hosts,omitempty"`
	APIServer         APIServer         `json:"apiServer"`
	ControllerManager ControllerManager `json:"controllerManager"`
	Scheduler         Scheduler         `json:"scheduler"`
	Etcd              Etcd              `json:"etcd"`
	Kubelet           Kubelet           `json:"kubelet"`
	Network           Network           `json:"network"`
	DNS               DNS               `json:"dns"`
	// NodeLocalDNS appears in generated 4.1.3 files only.
	NodeLocalDNS      *NodeLocalDNS     `json:"nodeLocalDNS,omitempty"`
	IngressController IngressController `json:"ingressController"`
	// EnvoyGateway and GatewayMKEIngress appear in generated 4.1.3 files
	// only; they are modelled so that such files decode strictly.
	EnvoyGateway      *EnvoyGateway      `json:"envoyGateway,omitempty"`
	GatewayMKEIngress *GatewayMKEIngress `json:"gatewayMKEIngress,omitempty"`
	Authentication    Authentication     `json:"authentication"`
	// Backup is a pointer because a generated 4.1.3 file has no backup
	// section, and an all-zero section would disable backups.
	Backup           *Backup          `json:"backup,omitempty"`
	Monitoring       Monitoring       `json:"monitoring"`
	Tracking         Tracking         `json:"tracking"`
	CloudProvider    CloudProvider    `json:"cloudProvider"`
	DevicePlugins    DevicePlugins    `json:"devicePlugins"`
	PolicyController PolicyController `json:"policyController"`
	Certificates     *Certificates    `json:"certificates,omitempty"`
	Addons           []Addon          `json:"addons,omitempty"`
	K0rdent          *K0rdent         `json:"k0rdent,omitempty"`
}

// License holds the MKE 4k license token. The token is always written, even
// when empty, as mkectl init does.
type License struct {
	Token string `json:"token"`
}

// Airgap marks an offline installation.
type Airgap struct {
	Enabled bool `json:"enabled"`
}

// Registries are the OCI registries MKE 4k pulls images and charts from.
type Registries struct {
	ImageRegistry Registry `json:"imageRegistry"`
	ChartRegistry Registry `json:"chartRegistry"`
}

// Registry is one registry: URL without a trailing slash (charts use the
// oci:// scheme), an optional PEM CA bundle and the name of the
// kubernetes.io/dockerconfigjson Secret holding its pull credentials
// (MKE 4 4.2's credentialsSecretName; empty: anonymous).
type Registry struct {
	URL                   string `json:"url,omitempty"`
	CAData                string `json:"caData,omitempty"`
	CredentialsSecretName string `json:"credentialsSecretName,omitempty"`
}

// Host is one entry of spec.hosts.
type Host struct {
	SSH              *SSH     `json:"ssh,omitempty"`
	Role             string   `json:"role,omitempty"`
	PrivateInterface string   `json:"privateInterface,omitempty"`
	PrivateAddress   string   `json:"privateAddress,omitempty"`
	Hostname         string   `json:"hostname,omitempty"`
	NoTaints         bool     `json:"noTaints,omitempty"`
	InstallFlags     []string `json:"installFlags,omitempty"`
}

// Host roles documented for spec.hosts[].role. RoleController is not in the
// role table but is used by Mirantis templates.
const (
	RoleControllerWorker = "controller+worker"
	RoleWorker           = "worker"
	RoleSingle           = "single"
	RoleController       = "controller"
)

// SSH is how mkectl reaches a host; Bastion has the same shape.
type SSH struct {
	Address string `json:"address,omitempty"`
	User    string `json:"user,omitempty"`
	Port    int    `json:"port,omitempty"`
	KeyPath string `json:"keyPath,omitempty"`
	Bastion *SSH   `json:"bastion,omitempty"`
}

// APIServer configures kube-apiserver.
type APIServer struct {
	ExternalAddress string   `json:"externalAddress,omitempty"`
	SANs            []string `json:"sans,omitempty"`
	Port            int      `json:"port,omitempty"`
	// ProfilingEnabled is nil when unset (mkectl's default applies).
	ProfilingEnabled   *bool             `json:"profilingEnabled,omitempty"`
	RequestTimeout     string            `json:"requestTimeout,omitempty"`
	EncryptionProvider string            `json:"encryptionProvider,omitempty"`
	EventRateLimit     EventRateLimit    `json:"eventRateLimit"`
	Audit              Audit             `json:"audit"`
	ExtraArgs          map[string]string `json:"extraArgs,omitempty"`
}

// EventRateLimit toggles the EventRateLimit admission plugin.
type EventRateLimit struct {
	Enabled bool `json:"enabled"`
}

// Audit configures API server audit logging.
type Audit struct {
	Enabled bool `json:"enabled"`
	// Level is None, Metadata or Request.
	Level             string `json:"level,omitempty"`
	LogPath           string `json:"logPath,omitempty"`
	MaxAge            int    `json:"maxAge"`
	MaxBackup         int    `json:"maxBackup"`
	MaxSize           int    `json:"maxSize"`
	PolicyFile        string `json:"policyFile,omitempty"`
	CustomPolicyYAML  string `json:"customPolicyYaml,omitempty"`
	WebhookConfigPath string `json:"webhookConfigPath,omitempty"`
}

// Audit levels accepted by spec.apiServer.audit.level (compared
// case-insensitively; the docs show both spellings).
const (
	AuditLevelNone     = "None"
	AuditLevelMetadata = "Metadata"
	AuditLevelRequest  = "Request"
)

// ControllerManager configures kube-controller-manager.
type ControllerManager struct {
	TerminatedPodGCThreshold int               `json:"terminatedPodGCThreshold"`
	ProfilingEnabled         *bool             `json:"profilingEnabled,omitempty"`
	ExtraArgs                map[string]string `json:"extraArgs,omitempty"`
}

// Scheduler configures kube-scheduler. mkectl init writes "scheduler: {}".
type Scheduler struct {
	ProfilingEnabled *bool             `json:"profilingEnabled,omitempty"`
	BindToAll        *bool             `json:"bindToAll,omitempty"`
	ExtraArgs        map[string]string `json:"extraArgs,omitempty"`
}

// Etcd configures the embedded etcd. mkectl init writes "etcd: {}"; the
// documented default quota is 2GB. No extraArgs field is documented.
type Etcd struct {
	StorageQuota string `json:"storageQuota,omitempty"`
	// TLSCipherSuites is a comma-separated list.
	TLSCipherSuites string `json:"tlsCipherSuites,omitempty"`
}

// Kubelet configures every kubelet in the cluster.
type Kubelet struct {
	EventRecordQPS        int                    `json:"eventRecordQPS"`
	KubeletRootDir        string                 `json:"kubeletRootDir,omitempty"`
	MaxPods               int                    `json:"maxPods"`
	PodPidsLimit          int                    `json:"podPidsLimit"`
	PodsPerCore           int                    `json:"podsPerCore"`
	ProtectKernelDefaults bool                   `json:"protectKernelDefaults"`
	SeccompDefault        bool                   `json:"seccompDefault"`
	WorkerKubeReserved    map[string]string      `json:"workerKubeReserved,omitempty"`
	ManagerKubeReserved   map[string]string      `json:"managerKubeReserved,omitempty"`
	ExtraArgs             map[string]string      `json:"extraArgs,omitempty"`
	CustomProfiles        []KubeletCustomProfile `json:"customProfiles,omitempty"`
}

// KubeletCustomProfile is a named set of KubeletConfiguration
// (kubelet.config.k8s.io/v1beta1) fields, selected per host with the install
// flag "--profile=<Name>".
//
// Values is free-form. After Unmarshal its numbers are float64 and its
// nested objects map[string]any (encoding/json rules); see the package
// documentation.
type KubeletCustomProfile struct {
	Name   string         `json:"name"`
	Values map[string]any `json:"values,omitempty"`
}

// Profile returns the custom kubelet profile of that name (the name a host
// selects with "--profile=<name>"); ok is false when there is none. Names
// are compared exactly, as mkectl does.
func (k Kubelet) Profile(name string) (p KubeletCustomProfile, ok bool) {
	for _, p := range k.CustomProfiles {
		if p.Name == name {
			return p, true
		}
	}
	return KubeletCustomProfile{}, false
}

// Network configures cluster networking.
type Network struct {
	ServiceCIDR string `json:"serviceCIDR,omitempty"`
	// NodePortRange is "<first>-<last>".
	NodePortRange string    `json:"nodePortRange,omitempty"`
	KubeProxy     KubeProxy `json:"kubeProxy"`
	Multus        Multus    `json:"multus"`
	// CPLB and NLLB are pointers: an absent section must not turn into
	// "disabled: false".
	CPLB      *LoadBalancing    `json:"cplb,omitempty"`
	NLLB      *LoadBalancing    `json:"nllb,omitempty"`
	Providers []NetworkProvider `json:"providers,omitempty"`
}

// KubeProxy configures kube-proxy. Only mode iptables is supported by MKE 4k.
type KubeProxy struct {
	Mode               string             `json:"mode,omitempty"`
	MetricsBindAddress string             `json:"metricsBindAddress,omitempty"`
	IPTables           *KubeProxyIPTables `json:"iptables,omitempty"`
	IPVS               *KubeProxyIPVS     `json:"ipvs,omitempty"`
	NFTables           *KubeProxyNFTables `json:"nftables,omitempty"`
	// ExtraArgs is not shown in any MKE 4k document or example; it is the
	// target for MKE 3 custom_kube_proxy_flags (k0s has the same field).
	ExtraArgs map[string]string `json:"extraArgs,omitempty"`
}

// KubeProxyIPTables holds the iptables mode durations.
type KubeProxyIPTables struct {
	MinSyncPeriod string `json:"minSyncPeriod,omitempty"`
	SyncPeriod    string `json:"syncPeriod,omitempty"`
}

// KubeProxyIPVS holds the IPVS mode durations (IPVS is not supported by
// MKE 4k, the block exists in generated files).
type KubeProxyIPVS struct {
	MinSyncPeriod string `json:"minSyncPeriod,omitempty"`
	SyncPeriod    string `json:"syncPeriod,omitempty"`
	TCPFinTimeout string `json:"tcpFinTimeout,omitempty"`
	TCPTimeout    string `json:"tcpTimeout,omitempty"`
	UDPTimeout    string `json:"udpTimeout,omitempty"`
}

// KubeProxyNFTables holds the nftables mode durations.
type KubeProxyNFTables struct {
	MinSyncPeriod string `json:"minSyncPeriod,omitempty"`
	SyncPeriod    string `json:"syncPeriod,omitempty"`
}

// Multus toggles the Multus meta CNI.
type Multus struct {
	Enabled bool `json:"enabled"`
}

// LoadBalancing is the shape of network.cplb and network.nllb.
type LoadBalancing struct {
	Disabled bool `json:"disabled"`
}

// NetworkProvider is one CNI provider entry; exactly one must be enabled.
type NetworkProvider struct {
	Provider    string            `json:"provider"`
	Enabled     bool              `json:"enabled"`
	ExtraConfig map[string]string `json:"extraConfig,omitempty"`
}

// Network provider names.
const (
	ProviderCalico     = "calico"
	ProviderCustom     = "custom"
	ProviderKubeRouter = "kuberouter"
)

// DNS configures CoreDNS.
type DNS struct {
	Lameduck Lameduck `json:"lameduck"`
}

// Lameduck configures the CoreDNS health plugin lameduck period.
type Lameduck struct {
	Enabled  bool   `json:"enabled"`
	Duration string `json:"duration,omitempty"`
}

// NodeLocalDNS configures the node-local DNS cache.
type NodeLocalDNS struct {
	Enabled                bool                  `json:"enabled"`
	NodeLocalConfigPersist bool                  `json:"nodeLocalConfigPersist"`
	Resources              *ResourceRequirements `json:"resources,omitempty"`
}

// ResourceRequirements is a reduced corev1.ResourceRequirements.
type ResourceRequirements struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

// IngressController configures the NGINX ingress controller (4.1.0-4.1.2).
type IngressController struct {
	Enabled      bool `json:"enabled"`
	ReplicaCount int  `json:"replicaCount,omitempty"`
	// EnableLoadBalancer is nil when unset: mkectl then enables it exactly
	// when spec.apiServer.externalAddress is set.
	EnableLoadBalancer *bool             `json:"enableLoadBalancer,omitempty"`
	PreserveClientIP   bool              `json:"preserveClientIP"`
	ExtraArgs          IngressExtraArgs  `json:"extraArgs"`
	NodePorts          IngressNodePorts  `json:"nodePorts"`
	Ports              IngressPorts      `json:"ports"`
	Affinity           *Affinity         `json:"affinity,omitempty"`
	Tolerations        []Toleration      `json:"tolerations,omitempty"`
	ConfigMap          map[string]string `json:"configMap,omitempty"`
	TCPServices        map[string]string `json:"tcpServices,omitempty"`
	UDPServices        map[string]string `json:"udpServices,omitempty"`
	ExternalIPs        []string          `json:"externalIPs,omitempty"`
	DisableHTTP        bool              `json:"disableHttp,omitempty"`
}

// IngressExtraArgs are the typed controller arguments of the ingress.
type IngressExtraArgs struct {
	HTTPPort             int  `json:"httpPort,omitempty"`
	HTTPSPort            int  `json:"httpsPort,omitempty"`
	EnableSSLPassthrough bool `json:"enableSslPassthrough"`
	// DefaultSSLCertificate is managed by MKE ("mke/mke-ingress.tls").
	DefaultSSLCertificate string `json:"defaultSslCertificate,omitempty"`
}

// IngressNodePorts are the NodePorts of the ingress service. TCP and UDP map
// an exposed service port (as a string key) to its NodePort.
type IngressNodePorts struct {
	HTTP  int            `json:"http,omitempty"`
	HTTPS int            `json:"https,omitempty"`
	TCP   map[string]int `json:"tcp,omitempty"`
	UDP   map[string]int `json:"udp,omitempty"`
}

// IngressPorts are the service ports of the ingress listeners.
type IngressPorts struct {
	HTTP  int `json:"http,omitempty"`
	HTTPS int `json:"https,omitempty"`
}

// Affinity is a corev1.Affinity kept free-form.
type Affinity struct {
	NodeAffinity    map[string]any `json:"nodeAffinity,omitempty"`
	PodAffinity     map[string]any `json:"podAffinity,omitempty"`
	PodAntiAffinity map[string]any `json:"podAntiAffinity,omitempty"`
}

// Toleration is a corev1.Toleration.
type Toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator,omitempty"`
	Value             string `json:"value,omitempty"`
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// EnvoyGateway configures the Envoy gateway of MKE 4k 4.1.3 and later.
type EnvoyGateway struct {
	ReplicaCount int          `json:"replicaCount,omitempty"`
	Tolerations  []Toleration `json:"tolerations,omitempty"`
}

// GatewayMKEIngress configures the ports of the 4.1.3+ MKE gateway.
type GatewayMKEIngress struct {
	NodePorts IngressPorts `json:"nodePorts"`
	Ports     IngressPorts `json:"ports"`
}

// Authentication configures Dex.
type Authentication struct {
	ReplicaCount              int              `json:"replicaCount,omitempty"`
	TopologySpreadConstraints []map[string]any `json:"topologySpreadConstraints,omitempty"`
	// LocalUsers is nil when unset; the documented default is true, and
	// false removes the admin user and user management.
	LocalUsers *bool         `json:"localUsers,omitempty"`
	Expiry     Expiry        `json:"expiry"`
	OAuth2     *OAuth2       `json:"oauth2,omitempty"`
	Clients    []OAuthClient `json:"clients,omitempty"`
	Audience   []string      `json:"audience,omitempty"`
	OIDC       OIDC          `json:"oidc"`
	SAML       SAML          `json:"saml"`
	LDAP       LDAP          `json:"ldap"`
}

// Expiry holds Dex token lifetimes as duration strings (e.g. "1h").
type Expiry struct {
	IDTokens       string         `json:"idTokens,omitempty"`
	AuthRequests   string         `json:"authRequests,omitempty"`
	DeviceRequests string         `json:"deviceRequests,omitempty"`
	SigningKeys    string         `json:"signingKeys,omitempty"`
	RefreshTokens  *RefreshTokens `json:"refreshTokens,omitempty"`
}

// RefreshTokens holds Dex refresh-token settings.
type RefreshTokens struct {
	ValidIfNotUsedFor string `json:"validIfNotUsedFor,omitempty"`
	AbsoluteLifetime  string `json:"absoluteLifetime,omitempty"`
	DisableRotation   bool   `json:"disableRotation,omitempty"`
	ReuseInterval     string `json:"reuseInterval,omitempty"`
}

// OAuth2 holds Dex oauth2 settings.
type OAuth2 struct {
	ResponseTypes         []string `json:"responseTypes,omitempty"`
	SkipApprovalScreen    bool     `json:"skipApprovalScreen"`
	AlwaysShowLoginScreen bool     `json:"alwaysShowLoginScreen"`
}

// OAuthClient is a third-party Dex client application.
type OAuthClient struct {
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	RedirectURIs []string `json:"redirectURIs,omitempty"`
	Secret       string   `json:"secret,omitempty"`
	Public       bool     `json:"public,omitempty"`
}

// OIDC configures an upstream OpenID Connect provider.
type OIDC struct {
	Enabled      bool   `json:"enabled"`
	Issuer       string `json:"issuer,omitempty"`
	ClientID     string `json:"clientID,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

// SAML configures an upstream SAML identity provider.
type SAML struct {
	Enabled                         bool   `json:"enabled"`
	SSOMetadataURL                  string `json:"ssoMetadataURL,omitempty"`
	CA                              string `json:"ca,omitempty"`
	CAData                          string `json:"caData,omitempty"`
	SSOURL                          string `json:"ssoURL,omitempty"`
	InsecureSkipSignatureValidation bool   `json:"insecureSkipSignatureValidation,omitempty"`
	UsernameAttr                    string `json:"usernameAttr,omitempty"`
	EmailAttr                       string `json:"emailAttr,omitempty"`
	GroupsAttr                      string `json:"groupsAttr,omitempty"`
	EntityIssuer                    string `json:"entityIssuer,omitempty"`
	SSOIssuer                       string `json:"ssoIssuer,omitempty"`
	GroupsDelim                     string `json:"groupsDelim,omitempty"`
	NameIDPolicyFormat              string `json:"nameIDPolicyFormat,omitempty"`
}

// LDAP configures an upstream LDAP directory.
type LDAP struct {
	Enabled        bool             `json:"enabled"`
	Host           string           `json:"host,omitempty"`
	RootCA         string           `json:"rootCA,omitempty"`
	InsecureNoSSL  bool             `json:"insecureNoSSL,omitempty"`
	BindDN         string           `json:"bindDN,omitempty"`
	BindPW         string           `json:"bindPW,omitempty"`
	UsernamePrompt string           `json:"usernamePrompt,omitempty"`
	UserSearch     *LDAPUserSearch  `json:"userSearch,omitempty"`
	GroupSearch    *LDAPGroupSearch `json:"groupSearch,omitempty"`
}

// LDAPUserSearch maps a login to an LDAP entry.
type LDAPUserSearch struct {
	BaseDN                string `json:"baseDN,omitempty"`
	Filter                string `json:"filter,omitempty"`
	Username              string `json:"username,omitempty"`
	IDAttr                string `json:"idAttr,omitempty"`
	EmailAttr             string `json:"emailAttr,omitempty"`
	NameAttr              string `json:"nameAttr,omitempty"`
	PreferredUsernameAttr string `json:"preferredUsernameAttr,omitempty"`
}

// LDAPGroupSearch finds the groups of a user entry.
type LDAPGroupSearch struct {
	BaseDN       string            `json:"baseDN,omitempty"`
	Filter       string            `json:"filter,omitempty"`
	UserMatchers []LDAPUserMatcher `json:"userMatchers,omitempty"`
	NameAttr     string            `json:"nameAttr,omitempty"`
}

// LDAPUserMatcher pairs a user attribute with a group attribute (Dex shape).
type LDAPUserMatcher struct {
	UserAttr  string `json:"userAttr"`
	GroupAttr string `json:"groupAttr"`
}

// Backup configures Velero based backups. The YAML keys of this section are
// snake_case in MKE 4k.
type Backup struct {
	Enabled         bool            `json:"enabled"`
	ScheduledBackup ScheduledBackup `json:"scheduled_backup"`
	StorageProvider StorageProvider `json:"storage_provider"`
}

// ScheduledBackup toggles scheduled backups.
type ScheduledBackup struct {
	Enabled bool `json:"enabled"`
}

// StorageProvider selects where backups are stored.
type StorageProvider struct {
	// Type is InCluster or External.
	Type             string           `json:"type,omitempty"`
	InClusterOptions InClusterOptions `json:"in_cluster_options"`
	ExternalOptions  ExternalOptions  `json:"external_options"`
}

// Backup storage types.
const (
	BackupStorageInCluster = "InCluster"
	BackupStorageExternal  = "External"
)

// InClusterOptions configures the in-cluster MinIO store.
type InClusterOptions struct {
	AdminCredentialsSecret string `json:"admin_credentials_secret,omitempty"`
	EnableUI               bool   `json:"enable_ui"`
	Distributed            bool   `json:"distributed,omitempty"`
}

// ExternalOptions configures an external (S3) store.
type ExternalOptions struct {
	Provider               string `json:"provider,omitempty"`
	Bucket                 string `json:"bucket,omitempty"`
	Region                 string `json:"region,omitempty"`
	CredentialsFilePath    string `json:"credentials_file_path,omitempty"`
	CredentialsFileProfile string `json:"credentials_file_profile,omitempty"`
}

// Monitoring configures the Prometheus/Grafana stack.
type Monitoring struct {
	// EnableGrafana is nil when unset; the documented default is true.
	EnableGrafana  *bool      `json:"enableGrafana,omitempty"`
	EnableOpscare  bool       `json:"enableOpscare"`
	EnableCAdvisor bool       `json:"enableCAdvisor"`
	Grafana        Grafana    `json:"grafana"`
	Prometheus     Prometheus `json:"prometheus"`
}

// Grafana configures Grafana exposure.
type Grafana struct {
	Ingress GrafanaIngress `json:"ingress"`
}

// GrafanaIngress toggles the /grafana ingress.
type GrafanaIngress struct {
	Enabled bool `json:"enabled"`
}

// Prometheus configures Prometheus scheduling.
type Prometheus struct {
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// Tracking configures telemetry.
type Tracking struct {
	Enabled      bool   `json:"enabled"`
	ClusterLabel string `json:"clusterLabel,omitempty"`
}

// CloudProvider configures the cloud provider integration.
type CloudProvider struct {
	Enabled bool `json:"enabled"`
	// Provider is aws or external.
	Provider string `json:"provider,omitempty"`
}

// Cloud provider names.
const (
	CloudProviderAWS      = "aws"
	CloudProviderExternal = "external"
)

// DevicePlugins configures device plugins.
type DevicePlugins struct {
	NvidiaGPU NvidiaGPU `json:"nvidiaGPU"`
}

// NvidiaGPU configures the NVIDIA GPU operator. MIG is free-form: generated
// files contain "mig: {}" and no document lists its fields.
type NvidiaGPU struct {
	Enabled bool           `json:"enabled"`
	MIG     map[string]any `json:"mig,omitempty"`
}

// PolicyController configures policy engines.
type PolicyController struct {
	OPAGatekeeper OPAGatekeeper `json:"opaGatekeeper"`
}

// OPAGatekeeper configures OPA Gatekeeper.
type OPAGatekeeper struct {
	Enabled          bool     `json:"enabled"`
	ExemptNamespaces []string `json:"exemptNamespaces,omitempty"`
}

// Certificates holds custom TLS material (PEM) for ingress and UI.
type Certificates struct {
	Enabled bool   `json:"enabled"`
	CA      string `json:"ca,omitempty"`
	Cert    string `json:"cert,omitempty"`
	Key     string `json:"key,omitempty"`
}

// Addon is one entry of spec.addons.
type Addon struct {
	Name      string      `json:"name"`
	Kind      string      `json:"kind,omitempty"`
	Enabled   bool        `json:"enabled"`
	DryRun    bool        `json:"dryRun,omitempty"`
	Namespace string      `json:"namespace,omitempty"`
	Chart     *AddonChart `json:"chart,omitempty"`
}

// AddonChart is the Helm chart of a chart add-on. Values is a YAML document.
type AddonChart struct {
	Name    string `json:"name,omitempty"`
	Repo    string `json:"repo,omitempty"`
	Version string `json:"version,omitempty"`
	Values  string `json:"values,omitempty"`
}

// K0rdent configures the k0rdent (technical preview) integration.
type K0rdent struct {
	Enabled   bool              `json:"enabled"`
	Providers []K0rdentProvider `json:"providers,omitempty"`
}

// K0rdentProvider enables one k0rdent CAPI provider; Config is free-form.
type K0rdentProvider struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config,omitempty"`
}

// Ptr returns a pointer to v, for the optional *bool fields.
func Ptr[T any](v T) *T { return &v }
