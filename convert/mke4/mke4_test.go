package mke4

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/default.yaml from Marshal(Default())")

const goldenDefault = "testdata/default.yaml"

func TestDefaultGolden(t *testing.T) {
	got, err := Marshal(Default())
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(goldenDefault), 0o755))
		require.NoError(t, os.WriteFile(goldenDefault, got, 0o644))
	}
	want, err := os.ReadFile(goldenDefault)
	require.NoError(t, err, "run go test ./convert/mke4 -run TestDefaultGolden -update")
	require.Equal(t, string(want), string(got), "Marshal(Default()) differs from %s; rerun with -update if intended", goldenDefault)
}

func TestDefaultRoundTrip(t *testing.T) {
	data, err := Marshal(Default())
	require.NoError(t, err)
	got, err := Unmarshal(data)
	require.NoError(t, err)
	require.Equal(t, Default(), got)
}

func TestDefaultIsValid(t *testing.T) {
	require.NoError(t, Default().Validate())
}

func TestDefaultValues(t *testing.T) {
	d := Default()
	require.Equal(t, APIVersion, d.APIVersion)
	require.Equal(t, Kind, d.Kind)
	require.Equal(t, Metadata{Name: "mke", Namespace: "mke"}, d.Metadata)
	require.Equal(t, "v4.1.0", d.Spec.Version)

	calico := d.Spec.Network.Providers[0]
	require.Equal(t, ProviderCalico, calico.Provider)
	require.True(t, calico.Enabled)
	require.Equal(t, "192.168.0.0/16", calico.ExtraConfig["cidrV4"])
	require.Equal(t, "Iptables", calico.ExtraConfig["linuxDataplane"])
	for _, p := range d.Spec.Network.Providers[1:] {
		require.False(t, p.Enabled, p.Provider)
	}

	ic := d.Spec.IngressController
	require.True(t, ic.Enabled)
	require.Equal(t, 2, ic.ReplicaCount)
	require.Equal(t, IngressNodePorts{HTTP: 33000, HTTPS: 33001}, ic.NodePorts)
	require.Equal(t, IngressPorts{HTTP: 80, HTTPS: 443}, ic.Ports)
	require.Nil(t, ic.EnableLoadBalancer, "unset: mkectl derives it from externalAddress")

	a := d.Spec.APIServer.Audit
	require.Equal(t, Audit{Level: "Metadata", LogPath: "/var/log/mke4/audit/audit.log", MaxAge: 30, MaxBackup: 10, MaxSize: 10}, a)
	require.Equal(t, "1m0s", d.Spec.APIServer.RequestTimeout)
	require.Equal(t, Lameduck{Enabled: false, Duration: "7s"}, d.Spec.DNS.Lameduck)
	require.Equal(t, 12500, d.Spec.ControllerManager.TerminatedPodGCThreshold)
	require.Equal(t, Ptr(true), d.Spec.Authentication.LocalUsers)
	require.Len(t, d.Spec.Addons, 1)
	require.Equal(t, "metallb", d.Spec.Addons[0].Name)
	require.False(t, d.Spec.Addons[0].Enabled)

	k := d.Spec.Kubelet
	require.Equal(t, 50, k.EventRecordQPS)
	require.Equal(t, 110, k.MaxPods)
	require.Equal(t, -1, k.PodPidsLimit)
	require.Equal(t, "/var/lib/kubelet", k.KubeletRootDir)
}

func TestDefaultReturnsFreshCopies(t *testing.T) {
	a := Default()
	a.Spec.Kubelet.WorkerKubeReserved["cpu"] = "1"
	a.Spec.Network.Providers[0].ExtraConfig["cidrV4"] = "10.0.0.0/8"
	a.Spec.Network.Providers[0].Enabled = false
	a.Spec.Network.CPLB.Disabled = false
	a.Spec.Backup.Enabled = false
	*a.Spec.Authentication.LocalUsers = false
	a.Spec.Addons[0].Chart.Version = "x"

	require.Equal(t, Default(), Default())
	b := Default()
	require.Equal(t, "50m", b.Spec.Kubelet.WorkerKubeReserved["cpu"])
	require.Equal(t, "192.168.0.0/16", b.Spec.Network.Providers[0].ExtraConfig["cidrV4"])
	require.True(t, b.Spec.Network.Providers[0].Enabled)
	require.True(t, b.Spec.Network.CPLB.Disabled)
	require.True(t, b.Spec.Backup.Enabled)
	require.True(t, *b.Spec.Authentication.LocalUsers)
	require.Equal(t, DefaultMetalLBChartVersion, b.Spec.Addons[0].Chart.Version)
}

// TestMarshalFieldPresence pins the field-presence rule: meaningful scalars
// of always-present sections are written even when zero, unset optional
// fields are not.
func TestMarshalFieldPresence(t *testing.T) {
	data, err := Marshal(Default())
	require.NoError(t, err)
	doc := decodeGeneric(t, data)

	for _, path := range []string{
		"spec.kubelet.podsPerCore",
		"spec.kubelet.protectKernelDefaults",
		"spec.kubelet.seccompDefault",
		"spec.apiServer.audit.enabled",
		"spec.apiServer.eventRateLimit.enabled",
		"spec.ingressController.preserveClientIP",
		"spec.ingressController.extraArgs.enableSslPassthrough",
		"spec.license.token",
		"spec.monitoring.enableOpscare",
		"spec.network.multus.enabled",
	} {
		_, ok := lookup(doc, path)
		require.True(t, ok, "%s must be written", path)
	}
	for _, path := range []string{
		"spec.apiServer.profilingEnabled",
		"spec.scheduler.bindToAll",
		"spec.ingressController.enableLoadBalancer",
		"spec.ingressController.disableHttp",
		"spec.apiServer.externalAddress",
		"spec.hosts",
		"spec.nodeLocalDNS",
		"spec.certificates",
		"spec.k0rdent",
	} {
		_, ok := lookup(doc, path)
		require.False(t, ok, "%s must be omitted while unset", path)
	}

	// An explicit false on a pointer field is written.
	cfg := Default()
	cfg.Spec.APIServer.ProfilingEnabled = Ptr(false)
	cfg.Spec.Authentication.LocalUsers = Ptr(false)
	data, err = Marshal(cfg)
	require.NoError(t, err)
	doc = decodeGeneric(t, data)
	v, ok := lookup(doc, "spec.apiServer.profilingEnabled")
	require.True(t, ok)
	require.Equal(t, false, v)
	v, ok = lookup(doc, "spec.authentication.localUsers")
	require.True(t, ok)
	require.Equal(t, false, v)
}

func TestMarshalSortsKeys(t *testing.T) {
	data, err := Marshal(Default())
	require.NoError(t, err)
	var top []string
	for line := range strings.Lines(string(data)) {
		if line != "" && line[0] != ' ' && line[0] != '-' {
			top = append(top, strings.SplitN(line, ":", 2)[0])
		}
	}
	require.Equal(t, []string{"apiVersion", "kind", "metadata", "spec"}, top)
	require.True(t, sort.StringsAreSorted(top))
}

// fullConfig sets every field of the schema to a non-zero value.
func fullConfig() MkeConfig {
	c := Default()
	s := &c.Spec
	s.Version = "v4.1.2"
	s.License.Token = "token"
	s.Airgap.Enabled = true
	s.Registries.ImageRegistry.CAData = "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n"
	s.Registries.ChartRegistry.CAData = "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n"
	s.Registries.ImageRegistry.CredentialsSecretName = "image-pull"
	s.Registries.ChartRegistry.CredentialsSecretName = "chart-pull"
	s.Hosts = []Host{
		{
			SSH: &SSH{
				Address: "10.0.0.1", User: "ubuntu", Port: 22, KeyPath: "~/.ssh/id",
				Bastion: &SSH{Address: "1.2.3.4", User: "jump", Port: 2222, KeyPath: "~/.ssh/jump"},
			},
			Role: RoleControllerWorker, PrivateInterface: "eth0", PrivateAddress: "172.16.0.1",
			Hostname: "m1", NoTaints: true, InstallFlags: []string{"--debug", "--profile=high"},
		},
		{SSH: &SSH{Address: "10.0.0.2"}, Role: RoleWorker, InstallFlags: []string{"--profile", "low"}},
	}
	a := &s.APIServer
	a.ExternalAddress = "mke.example.com"
	a.SANs = []string{"mke.example.com", "10.0.0.10"}
	a.Port = 6443
	a.ProfilingEnabled = Ptr(false)
	a.EventRateLimit.Enabled = true
	a.Audit = Audit{
		Enabled: true, Level: "Request", LogPath: DefaultAuditLogPath, MaxAge: 7, MaxBackup: 3, MaxSize: 100,
		PolicyFile: "/etc/audit_policy.yaml", CustomPolicyYAML: "apiVersion: audit.k8s.io/v1\nkind: Policy\n",
		WebhookConfigPath: "/etc/webhook.yaml",
	}
	a.ExtraArgs = map[string]string{"tls-cipher-suites": "A,B", "anonymous-auth": "false"}
	s.ControllerManager.ProfilingEnabled = Ptr(true)
	s.ControllerManager.ExtraArgs = map[string]string{"node-monitor-period": "5s"}
	s.Scheduler = Scheduler{ProfilingEnabled: Ptr(false), BindToAll: Ptr(true), ExtraArgs: map[string]string{"v": "2"}}
	s.Etcd = Etcd{StorageQuota: "4GB", TLSCipherSuites: "TLS_AES_128_GCM_SHA256"}
	k := &s.Kubelet
	k.ProtectKernelDefaults = true
	k.SeccompDefault = true
	k.PodsPerCore = 10
	k.ExtraArgs = map[string]string{"event-burst": "100"}
	k.CustomProfiles = []KubeletCustomProfile{
		{Name: "high", Values: map[string]any{
			"maxPods":                     250,
			"imageGCHighThresholdPercent": int32(85),
			"cpuCFSQuota":                 false,
			"memoryThrottlingFactor":      0.9,
			"kubeReserved":                map[string]any{"cpu": "200m", "memory": "512Mi"},
			"evictionHard":                map[string]string{"memory.available": "100Mi"},
			"enforceNodeAllocatable":      []string{"pods", "kube-reserved"},
			"reservedMemory": []any{
				map[string]any{"numaNode": 0, "limits": map[string]any{"memory": "1Gi"}},
			},
			"featureGates": map[string]bool{"SomeGate": true},
		}},
		{Name: "low", Values: map[string]any{"podPidsLimit": int64(4096)}},
	}
	n := &s.Network
	n.ServiceCIDR = "10.97.0.0/16"
	n.NodePortRange = "30000-32767"
	n.KubeProxy.ExtraArgs = map[string]string{"conntrack-max-per-core": "0"}
	n.Multus.Enabled = true
	n.CPLB = &LoadBalancing{Disabled: false}
	n.Providers[0].ExtraConfig["values.yaml"] = "kubeletVolumePluginPath: /var/lib/kubelet\n"
	s.DNS.Lameduck = Lameduck{Enabled: true, Duration: "10s"}
	s.NodeLocalDNS = &NodeLocalDNS{
		Enabled: true, NodeLocalConfigPersist: true,
		Resources: &ResourceRequirements{Requests: map[string]string{"cpu": "25m"}, Limits: map[string]string{"memory": "64Mi"}},
	}
	ic := &s.IngressController
	ic.EnableLoadBalancer = Ptr(true)
	ic.PreserveClientIP = true
	ic.ExtraArgs.EnableSSLPassthrough = true
	ic.NodePorts = IngressNodePorts{HTTP: 30000, HTTPS: 30001, TCP: map[string]int{"9000": 30011}, UDP: map[string]int{"5005": 30012}}
	ic.Ports = IngressPorts{HTTP: 8080, HTTPS: 8443}
	ic.Affinity = &Affinity{
		NodeAffinity: map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
			map[string]any{"weight": 1, "preference": map[string]any{"matchExpressions": []any{}}},
		}},
		PodAffinity:     map[string]any{"x": "y"},
		PodAntiAffinity: map[string]any{"z": nil},
	}
	ic.Tolerations = []Toleration{{Key: "k", Operator: "Equal", Value: "v", Effect: "NoExecute", TolerationSeconds: Ptr(int64(30))}}
	ic.ConfigMap = map[string]string{"use-forwarded-headers": "true"}
	ic.TCPServices = map[string]string{"9000": "default/tcp-echo:9000"}
	ic.UDPServices = map[string]string{"5005": "default/udp:5005"}
	ic.ExternalIPs = []string{"192.0.2.10"}
	ic.DisableHTTP = true
	s.EnvoyGateway = &EnvoyGateway{ReplicaCount: 3, Tolerations: []Toleration{{Key: "node-role.kubernetes.io/master", Operator: "Equal", Value: "x", Effect: "NoSchedule", TolerationSeconds: Ptr(int64(5))}}}
	s.GatewayMKEIngress = &GatewayMKEIngress{NodePorts: IngressPorts{HTTP: 30000, HTTPS: 30001}, Ports: IngressPorts{HTTP: 80, HTTPS: 443}}
	au := &s.Authentication
	au.ReplicaCount = 3
	au.TopologySpreadConstraints = []map[string]any{{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname"}}
	au.Expiry = Expiry{
		IDTokens: "1h", AuthRequests: "10m", DeviceRequests: "5m", SigningKeys: "6h",
		RefreshTokens: &RefreshTokens{ValidIfNotUsedFor: "24h", AbsoluteLifetime: "720h", DisableRotation: true, ReuseInterval: "3s"},
	}
	au.OAuth2 = &OAuth2{ResponseTypes: []string{"code"}, SkipApprovalScreen: true, AlwaysShowLoginScreen: true}
	au.Clients = []OAuthClient{{ID: "example", Name: "Example", RedirectURIs: []string{"http://localhost:8080"}, Secret: "s", Public: true}}
	au.Audience = []string{"kubelogin"}
	au.OIDC = OIDC{Enabled: true, Issuer: "https://idp.example.com", ClientID: "id", ClientSecret: "secret"}
	au.SAML = SAML{
		Enabled: true, SSOMetadataURL: "https://idp/metadata", CA: "/etc/ca.pem", CAData: "PEM", SSOURL: "https://idp/sso",
		InsecureSkipSignatureValidation: true, UsernameAttr: "name", EmailAttr: "email", GroupsAttr: "groups",
		EntityIssuer: "mke", SSOIssuer: "idp", GroupsDelim: ",", NameIDPolicyFormat: "persistent",
	}
	au.LDAP = LDAP{
		Enabled: true, Host: "ldap.example.org:636", RootCA: "/etc/ldap-ca.pem", InsecureNoSSL: true,
		BindDN: "cn=admin,dc=example,dc=org", BindPW: "pw", UsernamePrompt: "Email",
		UserSearch: &LDAPUserSearch{
			BaseDN: "ou=People,dc=example,dc=org", Filter: "(objectClass=person)", Username: "mail",
			IDAttr: "DN", EmailAttr: "mail", NameAttr: "cn", PreferredUsernameAttr: "uid",
		},
		GroupSearch: &LDAPGroupSearch{
			BaseDN: "ou=Groups,dc=example,dc=org", Filter: "(objectClass=groupOfNames)",
			UserMatchers: []LDAPUserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn",
		},
	}
	s.Backup.ScheduledBackup.Enabled = true
	s.Backup.StorageProvider = StorageProvider{
		Type:             BackupStorageExternal,
		InClusterOptions: InClusterOptions{AdminCredentialsSecret: "minio", EnableUI: false, Distributed: true},
		ExternalOptions: ExternalOptions{
			Provider: "aws", Bucket: "b", Region: "us-west-2",
			CredentialsFilePath: "/creds", CredentialsFileProfile: "default",
		},
	}
	s.Monitoring = Monitoring{
		EnableGrafana: Ptr(false), EnableOpscare: true, EnableCAdvisor: true,
		Grafana:    Grafana{Ingress: GrafanaIngress{Enabled: true}},
		Prometheus: Prometheus{NodeSelector: map[string]string{"monitoring": "true"}},
	}
	s.Tracking = Tracking{Enabled: false, ClusterLabel: "prod"}
	s.CloudProvider = CloudProvider{Enabled: true, Provider: CloudProviderExternal}
	s.DevicePlugins.NvidiaGPU = NvidiaGPU{Enabled: true, MIG: map[string]any{"strategy": "mixed"}}
	s.PolicyController.OPAGatekeeper = OPAGatekeeper{Enabled: true, ExemptNamespaces: []string{"team-a"}}
	s.Certificates = &Certificates{Enabled: true, CA: "CA", Cert: "CERT", Key: "KEY"}
	s.Addons[0].Enabled = true
	s.Addons[0].DryRun = true
	s.K0rdent = &K0rdent{Enabled: true, Providers: []K0rdentProvider{
		{Name: "cluster-api-provider-aws", Config: map[string]any{"images": map[string]any{"x": map[string]any{"repo": "r"}}}},
		{Name: "cluster-api-provider-azure"},
	}}
	return c
}

func TestFullConfigRoundTrip(t *testing.T) {
	full := fullConfig()
	require.NoError(t, full.Validate())

	data, err := Marshal(full)
	require.NoError(t, err)
	got, err := Unmarshal(data)
	require.NoError(t, err)

	// Typed fields come back identical; free-form values come back with
	// encoding/json types (float64, []any, map[string]any).
	want := full
	want.Spec.Kubelet.CustomProfiles = nil
	for _, p := range full.Spec.Kubelet.CustomProfiles {
		want.Spec.Kubelet.CustomProfiles = append(want.Spec.Kubelet.CustomProfiles,
			KubeletCustomProfile{Name: p.Name, Values: jsonNormalize(t, p.Values)})
	}
	want.Spec.IngressController.Affinity = &Affinity{
		NodeAffinity:    jsonNormalize(t, full.Spec.IngressController.Affinity.NodeAffinity),
		PodAffinity:     jsonNormalize(t, full.Spec.IngressController.Affinity.PodAffinity),
		PodAntiAffinity: jsonNormalize(t, full.Spec.IngressController.Affinity.PodAntiAffinity),
	}
	want.Spec.Authentication.TopologySpreadConstraints = []map[string]any{
		jsonNormalize(t, full.Spec.Authentication.TopologySpreadConstraints[0]),
	}
	want.Spec.K0rdent = &K0rdent{Enabled: true, Providers: []K0rdentProvider{
		{Name: "cluster-api-provider-aws", Config: jsonNormalize(t, full.Spec.K0rdent.Providers[0].Config)},
		{Name: "cluster-api-provider-azure"},
	}}
	require.Equal(t, want, got)

	// Spot-check the documented number rule.
	require.Equal(t, float64(250), got.Spec.Kubelet.CustomProfiles[0].Values["maxPods"])
	require.Equal(t, 0.9, got.Spec.Kubelet.CustomProfiles[0].Values["memoryThrottlingFactor"])

	// Re-marshalling the decoded value yields the same bytes, and integers
	// are written as integers.
	again, err := Marshal(got)
	require.NoError(t, err)
	require.Equal(t, string(data), string(again))
	require.Contains(t, string(data), "maxPods: 250\n")
	require.Contains(t, string(data), "imageGCHighThresholdPercent: 85\n")
}

// TestFullConfigCoversSchema makes sure fullConfig exercises every field of
// the schema, so the round-trip and fuzz seeds cover the whole tree.
func TestFullConfigCoversSchema(t *testing.T) {
	data, err := Marshal(fullConfig())
	require.NoError(t, err)
	present := map[string]bool{}
	collectPaths(decodeGeneric(t, data), "", present)
	var missing []string
	for _, p := range schemaPaths(reflect.TypeFor[MkeConfig](), "") {
		if !present[p] {
			missing = append(missing, p)
		}
	}
	require.Empty(t, missing)
}

// TestCollectionFieldsAreOmitempty guards the invariant canonicalize relies
// on: every list or map field is omitempty.
func TestCollectionFieldsAreOmitempty(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t0 reflect.Type) {
		for t0.Kind() == reflect.Pointer || t0.Kind() == reflect.Slice {
			t0 = t0.Elem()
		}
		if t0.Kind() != reflect.Struct || seen[t0] {
			return
		}
		seen[t0] = true
		for i := range t0.NumField() {
			f := t0.Field(i)
			if f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map {
				require.Contains(t, f.Tag.Get("json"), ",omitempty", "%s.%s", t0.Name(), f.Name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[MkeConfig]())
}

func TestUnmarshalEmptyCollectionsCanonical(t *testing.T) {
	data, err := Marshal(Default())
	require.NoError(t, err)
	doc := string(data)
	for _, r := range [][2]string{
		{"  airgap:\n", "  hosts: []\n  airgap:\n"},
		{"    nodePorts:\n", "    tolerations: []\n    configMap: {}\n    nodePorts:\n      tcp: {}\n"},
		{"    nvidiaGPU:\n", "    nvidiaGPU:\n      mig: {}\n"},
	} {
		require.Contains(t, doc, r[0])
		doc = strings.Replace(doc, r[0], r[1], 1)
	}
	got, err := Unmarshal([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, Default(), got, "empty lists and maps decode as nil")
}

func TestUnmarshalUnknownFields(t *testing.T) {
	base, err := Marshal(Default())
	require.NoError(t, err)
	tests := []struct {
		name  string
		edit  func(string) string
		paths []string
	}{
		{
			name:  "top level",
			edit:  func(s string) string { return s + "status: {}\n" },
			paths: []string{"status"},
		},
		{
			name: "nested",
			edit: func(s string) string {
				return strings.Replace(s, "    requestTimeout: 1m0s\n", "    requestTimeout: 1m0s\n    extraArg: x\n", 1)
			},
			paths: []string{"spec.apiServer.extraArg"},
		},
		{
			name: "case mismatch is unknown",
			edit: func(s string) string {
				return strings.Replace(s, "  etcd: {}\n", "  etcd:\n    StorageQuota: 2GB\n", 1)
			},
			paths: []string{"spec.etcd.StorageQuota"},
		},
		{
			name: "in a list and several at once",
			edit: func(s string) string {
				s = strings.Replace(s, "    - enabled: false\n      provider: custom\n",
					"    - enabled: false\n      provider: custom\n      mtu: 1450\n", 1)
				return s + "extra: 1\n"
			},
			paths: []string{"extra", "spec.network.providers[1].mtu"},
		},
		{
			name: "inside hosts",
			edit: func(s string) string {
				return strings.Replace(s, "  kubelet:\n", "  hosts:\n  - role: worker\n    ssh:\n      address: 10.0.0.1\n      password: x\n  kubelet:\n", 1)
			},
			paths: []string{"spec.hosts[0].ssh.password"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.edit(string(base))
			require.NotEqual(t, string(base), doc, "edit did not apply")
			_, err := Unmarshal([]byte(doc))
			require.Error(t, err)
			var got []string
			for _, e := range flatten(err) {
				var u *UnknownFieldError
				if errors.As(e, &u) {
					got = append(got, u.Path)
				}
			}
			require.Equal(t, tc.paths, got)
			for _, p := range tc.paths {
				require.Contains(t, err.Error(), `unknown field "`+p+`"`)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := map[string]struct {
		doc  string
		want string
	}{
		"empty":         {"", "empty document"},
		"blank":         {"  \n\n", "empty document"},
		"null":          {"null\n", "empty document"},
		"comment only":  {"# nothing\n", "empty document"},
		"not a mapping": {"- a\n- b\n", "mke4: decode"},
		"syntax":        {"spec: [\n", "mke4: decode"},
		"wrong type":    {"apiVersion: mke.mirantis.com/v1alpha1\nspec:\n  kubelet:\n    maxPods: many\n", "maxPods"},
		"duplicate key": {"kind: MkeConfig\nkind: MkeConfig\n", "already set"},
		"extraArgs must be strings": {
			"spec:\n  kubelet:\n    extraArgs:\n      event-burst: [1]\n", "mke4: decode",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tc.doc))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "mke4: decode"), err.Error())
		})
	}
}

// generatedLike has the shape of files written by mkectl init for 4.1.0 and
// 4.1.3 (creationTimestamp null, empty placeholder objects, a cilium entry,
// the 4.1.3 gateway sections). It is hand-written test data.
const generatedLike = `apiVersion: mke.mirantis.com/v1alpha1
kind: MkeConfig
metadata:
  creationTimestamp: null
  name: mke
  namespace: mke
spec:
  apiServer:
    audit:
      enabled: false
      level: Metadata
      logPath: /var/log/k0s/audit/mke4_audit.log
      maxAge: 30
      maxBackup: 10
      maxSize: 10
      policyFile: /var/lib/k0s/mke4_audit_policy.yaml
    encryptionProvider: /var/lib/k0s/encryption.cfg
    eventRateLimit:
      enabled: false
    requestTimeout: 1m0s
  authentication:
    expiry:
      refreshTokens: {}
    ldap:
      enabled: false
    oidc:
      enabled: false
    replicaCount: 2
    saml:
      enabled: false
  devicePlugins:
    nvidiaGPU:
      enabled: false
      mig: {}
  dns:
    lameduck: {}
  envoyGateway:
    replicaCount: 2
    tolerations:
    - effect: NoSchedule
      key: node-role.kubernetes.io/master
      operator: Exists
      value: ""
  etcd: {}
  gatewayMKEIngress:
    nodePorts:
      http: 33000
      https: 33001
    ports:
      http: 80
      https: 443
  hosts:
  - ssh:
      address: 192.0.2.1
      bastion:
        address: 192.0.2.100
        keyPath: ./key.pem
        port: 22
        user: ubuntu
      keyPath: ./key.pem
      port: 22
      user: ubuntu
    role: controller+worker
    privateInterface: eth0
    noTaints: true
    installFlags:
    - --debug
  ingressController:
    affinity:
      nodeAffinity: {}
    enabled: false
    extraArgs:
      enableSslPassthrough: false
    nodePorts: {}
    ports: {}
  kubelet:
    eventRecordQPS: 50
    maxPods: 110
    podPidsLimit: -1
    podsPerCore: 0
    protectKernelDefaults: false
    seccompDefault: false
  license:
    token: ""
  monitoring:
    enableCAdvisor: false
    grafana:
      ingress: {}
    prometheus: {}
  network:
    kubeProxy:
      mode: iptables
    nodePortRange: 32768-35535
    providers:
    - enabled: true
      provider: calico
    - enabled: false
      extraConfig:
        ipam.operator.clusterPoolIPv4PodCIDRList: 192.168.0.0/16
      provider: cilium
    serviceCIDR: 10.96.0.0/16
  nodeLocalDNS:
    enabled: false
    nodeLocalConfigPersist: false
    resources:
      requests: {}
  policyController:
    opaGatekeeper:
      enabled: false
  registries:
    chartRegistry:
      url: oci://registry.mirantis.com/mke
    imageRegistry:
      url: registry.mirantis.com/mke
  scheduler: {}
  tracking:
    enabled: true
  version: v4.1.3
`

func TestUnmarshalGeneratedShape(t *testing.T) {
	cfg, err := Unmarshal([]byte(generatedLike))
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Nil(t, cfg.Metadata.CreationTimestamp)
	require.Nil(t, cfg.Spec.Backup, "absent backup section stays absent")
	require.Nil(t, cfg.Spec.Network.CPLB, "absent cplb stays absent")
	require.Nil(t, cfg.Spec.Authentication.LocalUsers)
	require.Nil(t, cfg.Spec.Monitoring.EnableGrafana)
	require.NotNil(t, cfg.Spec.Authentication.Expiry.RefreshTokens)
	require.Equal(t, "192.0.2.100", cfg.Spec.Hosts[0].SSH.Bastion.Address)
	require.Equal(t, 2, cfg.Spec.EnvoyGateway.ReplicaCount)

	// Re-marshalling neither invents values nor drops meaningful ones.
	out, err := Marshal(cfg)
	require.NoError(t, err)
	doc := decodeGeneric(t, out)
	for _, absent := range []string{"spec.backup", "spec.network.cplb", "spec.authentication.localUsers", "spec.monitoring.enableGrafana"} {
		_, ok := lookup(doc, absent)
		require.False(t, ok, absent)
	}
	again, err := Unmarshal(out)
	require.NoError(t, err)
	require.Equal(t, cfg, again)
}

func TestUnmarshalExample(t *testing.T) {
	// A custom profile selected by a host install flag.
	doc := `apiVersion: mke.mirantis.com/v1alpha1
kind: MkeConfig
metadata: {name: mke, namespace: mke}
spec:
  kubelet:
    customProfiles:
    - name: gpu_nodes
      values:
        imageGCHighThresholdPercent: 70
        evictionHard:
          memory.available: 250Mi
  hosts:
  - role: worker
    ssh: {address: 10.1.2.3, keyPath: ~/.ssh/mke, port: 22, user: core}
    installFlags: [--profile=gpu_nodes]
  network:
    providers:
    - {provider: calico, enabled: true}
`
	cfg, err := Unmarshal([]byte(doc))
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, map[string]any{
		"imageGCHighThresholdPercent": float64(70),
		"evictionHard":                map[string]any{"memory.available": "250Mi"},
	}, cfg.Spec.Kubelet.CustomProfiles[0].Values)
}

// helpers

func jsonNormalize(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func decodeGeneric(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(data, &m))
	return m
}

func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// collectPaths records the key paths of a generic document, list indices
// dropped, stopping at keys whose values are free-form in the schema.
func collectPaths(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := joinPath(path, k)
			out[p] = true
			collectPaths(e, p, out)
		}
	case []any:
		for _, e := range x {
			collectPaths(e, path, out)
		}
	}
}

// schemaPaths lists the json key paths of every struct field reachable from
// t (list indices dropped). A recursive type (ssh.bastion) is entered once.
func schemaPaths(t reflect.Type, path string, ancestors ...reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || slices.Contains(ancestors, t) {
		return nil
	}
	ancestors = append(ancestors, t)
	var out []string
	for name, ft := range jsonFields(t) {
		p := joinPath(path, name)
		if p == "metadata.creationTimestamp" {
			continue // accepted on input only
		}
		out = append(out, p)
		out = append(out, schemaPaths(ft, p, ancestors...)...)
	}
	sort.Strings(out)
	return out
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range x.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := x.Unwrap(); inner != nil {
			return flatten(inner)
		}
	}
	return []error{err}
}

// Characters that encoding/json leaves raw but the YAML reader refuses
// (found by fuzzing a kubelet flag value) are written escaped and read back
// unchanged.
func TestMarshalUnprintableCharacters(t *testing.T) {
	for _, s := range []string{"a\x7fb", "x\u0085y", "\u2028z\u2029", "c\u0086d\ufeffe", "\u009f", "plain"} {
		c := Default()
		c.Spec.APIServer.ExtraArgs = map[string]string{"x": s}
		y, err := Marshal(c)
		require.NoError(t, err, "%q", s)
		back, err := Unmarshal(y)
		require.NoError(t, err, "%q", s)
		require.Equal(t, s, back.Spec.APIServer.ExtraArgs["x"])
	}
}
