package mke4

// Defaults of the MKE 4k 4.1 configuration used by Default.
const (
	// DefaultVersion is the MKE 4k version written by Default.
	DefaultVersion = "v4.1.0"

	DefaultImageRegistry = "registry.mirantis.com/mke"
	DefaultChartRegistry = "oci://registry.mirantis.com/mke"

	DefaultRequestTimeout     = "1m0s"
	DefaultEncryptionProvider = "/var/lib/k0s/encryption.cfg"
	DefaultAuditLogPath       = "/var/log/mke4/audit/audit.log"

	DefaultTerminatedPodGCThreshold = 12500

	DefaultKubeletRootDir = "/var/lib/kubelet"

	DefaultServiceCIDR   = "10.96.0.0/16"
	DefaultNodePortRange = "32768-35535"
	DefaultPodCIDRv4     = "192.168.0.0/16"

	DefaultLameduckDuration = "7s"

	DefaultIngressHTTPNodePort  = 33000
	DefaultIngressHTTPSNodePort = 33001
	DefaultIngressCertificate   = "mke/mke-ingress.tls"

	DefaultMetalLBChartVersion = "0.14.7"
)

// metalLBValues are the chart values of the default MetalLB add-on: the
// controller tolerates the master taint and the FRR speaker mode is off.
const metalLBValues = `controller:
  tolerations:
  - key: node-role.kubernetes.io/master
    operator: Exists
    effect: NoSchedule
speaker:
  frr:
    enabled: false
`

// Default returns the MKE 4k 4.1 default configuration, as mkectl init
// writes it for 4.1.0 with the documented 4.1 defaults filled in (see the
// package documentation for the sources). It has no hosts and no
// externalAddress. Every call returns fresh maps and slices.
func Default() MkeConfig {
	return MkeConfig{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata: Metadata{
			Name:      MetadataName,
			Namespace: MetadataNamespace,
		},
		Spec: Spec{
			Version: DefaultVersion,
			License: License{Token: ""},
			Airgap:  Airgap{Enabled: false},
			Registries: Registries{
				ImageRegistry: Registry{URL: DefaultImageRegistry},
				ChartRegistry: Registry{URL: DefaultChartRegistry},
			},
			APIServer: APIServer{
				RequestTimeout:     DefaultRequestTimeout,
				EncryptionProvider: DefaultEncryptionProvider,
				EventRateLimit:     EventRateLimit{Enabled: false},
				Audit: Audit{
					Enabled:   false,
					Level:     AuditLevelMetadata,
					LogPath:   DefaultAuditLogPath,
					MaxAge:    30,
					MaxBackup: 10,
					MaxSize:   10,
				},
			},
			ControllerManager: ControllerManager{
				TerminatedPodGCThreshold: DefaultTerminatedPodGCThreshold,
			},
			Scheduler: Scheduler{},
			Etcd:      Etcd{},
			Kubelet: Kubelet{
				EventRecordQPS:        50,
				KubeletRootDir:        DefaultKubeletRootDir,
				MaxPods:               110,
				PodPidsLimit:          -1,
				PodsPerCore:           0,
				ProtectKernelDefaults: false,
				SeccompDefault:        false,
				WorkerKubeReserved: map[string]string{
					"cpu":               "50m",
					"ephemeral-storage": "500Mi",
					"memory":            "300Mi",
				},
				ManagerKubeReserved: map[string]string{
					"cpu":               "250m",
					"ephemeral-storage": "4Gi",
					"memory":            "2Gi",
				},
			},
			Network: Network{
				ServiceCIDR:   DefaultServiceCIDR,
				NodePortRange: DefaultNodePortRange,
				KubeProxy: KubeProxy{
					Mode:               "iptables",
					MetricsBindAddress: "0.0.0.0:10249",
					IPTables:           &KubeProxyIPTables{MinSyncPeriod: "0s", SyncPeriod: "0s"},
					IPVS: &KubeProxyIPVS{
						MinSyncPeriod: "0s",
						SyncPeriod:    "0s",
						TCPFinTimeout: "0s",
						TCPTimeout:    "0s",
						UDPTimeout:    "0s",
					},
					NFTables: &KubeProxyNFTables{MinSyncPeriod: "0s", SyncPeriod: "0s"},
				},
				Multus: Multus{Enabled: false},
				CPLB:   &LoadBalancing{Disabled: true},
				NLLB:   &LoadBalancing{Disabled: true},
				Providers: []NetworkProvider{
					{
						Provider: ProviderCalico,
						Enabled:  true,
						ExtraConfig: map[string]string{
							"cidrV4":         DefaultPodCIDRv4,
							"linuxDataplane": "Iptables",
							"loglevel":       "Info",
						},
					},
					{Provider: ProviderCustom, Enabled: false},
					{
						Provider: ProviderKubeRouter,
						Enabled:  false,
						ExtraConfig: map[string]string{
							"cidrV4": DefaultPodCIDRv4,
							"v":      "5",
						},
					},
				},
			},
			DNS: DNS{Lameduck: Lameduck{Enabled: false, Duration: DefaultLameduckDuration}},
			IngressController: IngressController{
				Enabled:          true,
				ReplicaCount:     2,
				PreserveClientIP: false,
				ExtraArgs: IngressExtraArgs{
					HTTPPort:              80,
					HTTPSPort:             443,
					EnableSSLPassthrough:  false,
					DefaultSSLCertificate: DefaultIngressCertificate,
				},
				NodePorts: IngressNodePorts{HTTP: DefaultIngressHTTPNodePort, HTTPS: DefaultIngressHTTPSNodePort},
				Ports:     IngressPorts{HTTP: 80, HTTPS: 443},
			},
			Authentication: Authentication{
				LocalUsers: Ptr(true),
				OIDC:       OIDC{Enabled: false},
				SAML:       SAML{Enabled: false},
				LDAP:       LDAP{Enabled: false},
			},
			Backup: &Backup{
				Enabled:         true,
				ScheduledBackup: ScheduledBackup{Enabled: false},
				StorageProvider: StorageProvider{
					Type: BackupStorageInCluster,
					InClusterOptions: InClusterOptions{
						AdminCredentialsSecret: "minio-credentials",
						EnableUI:               true,
					},
				},
			},
			Monitoring: Monitoring{
				EnableGrafana:  Ptr(true),
				EnableOpscare:  false,
				EnableCAdvisor: false,
			},
			Tracking:      Tracking{Enabled: true},
			CloudProvider: CloudProvider{Enabled: false, Provider: CloudProviderAWS},
			DevicePlugins: DevicePlugins{NvidiaGPU: NvidiaGPU{Enabled: false}},
			PolicyController: PolicyController{
				OPAGatekeeper: OPAGatekeeper{Enabled: false},
			},
			Addons: []Addon{
				{
					Name:      "metallb",
					Kind:      "chart",
					Enabled:   false,
					Namespace: "metallb-system",
					Chart: &AddonChart{
						Name:    "metallb",
						Repo:    "https://metallb.github.io/metallb",
						Version: DefaultMetalLBChartVersion,
						Values:  metalLBValues,
					},
				},
			},
		},
	}
}
