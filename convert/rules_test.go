package convert

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

const kdd = "[cluster_config]\ncalico_kdd = true\n"

func calicoOf(t *testing.T, s mke4.Spec) mke4.NetworkProvider {
	t.Helper()
	for _, p := range s.Network.Providers {
		if p.Provider == mke4.ProviderCalico {
			return p
		}
	}
	t.Fatal("no calico provider")
	return mke4.NetworkProvider{}
}

// One row per mapping rule: the TOML below [cluster_config] (or a whole
// document when it starts with "["), what the spec must hold, and the
// status of one key.
func TestMappingRows(t *testing.T) {
	type row struct {
		name   string
		toml   string
		opts   Options
		key    string
		status Status
		check  func(t *testing.T, s mke4.Spec, rep Report)
	}
	rows := []row{
		{name: "kubelet max pods", toml: "kubelet_max_pods = 180", key: cc + "kubelet_max_pods", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.Equal(t, 180, s.Kubelet.MaxPods) }},
		{name: "reserved resources map", toml: `worker_kube_reserved_resources = "cpu=100m, memory=1Gi"`, key: cc + "worker_kube_reserved_resources", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, map[string]string{"cpu": "100m", "memory": "1Gi"}, s.Kubelet.WorkerKubeReserved)
			}},
		{name: "reserved resources malformed", toml: `manager_kube_reserved_resources = "cpu"`, key: cc + "manager_kube_reserved_resources", status: StatusUnconvertible},
		{name: "seccomp default inverted", toml: "disable_seccomp_default = false", key: cc + "disable_seccomp_default", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.True(t, s.Kubelet.SeccompDefault) }},
		{name: "kdd false blocks with mkectl text", toml: "[cluster_config]\ncalico_kdd = false", key: cc + "calico_kdd", status: StatusBlocking,
			check: func(t *testing.T, _ mke4.Spec, rep Report) {
				assert.Contains(t, rep.Blocking()[0].Reason, KDDRequiredMessage)
			}},
		{name: "ebpf blocks", toml: "calico_ebpf_enabled = true", key: cc + "calico_ebpf_enabled", status: StatusBlocking},
		{name: "ipvs blocks", toml: `kube_proxy_mode = "ipvs"`, key: cc + "kube_proxy_mode", status: StatusBlocking},
		{name: "kube-proxy disabled blocks", toml: `kube_proxy_mode = "disabled"`, key: cc + "kube_proxy_mode", status: StatusBlocking},
		{name: "unmanaged cni switches provider", toml: "unmanaged_cni = true", key: cc + "unmanaged_cni", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				enabled := map[string]bool{}
				for _, p := range s.Network.Providers {
					enabled[p.Provider] = p.Enabled
				}
				assert.False(t, enabled["calico"])
				assert.True(t, enabled["custom"])
			}},
		{name: "pod cidr to calico", toml: `pod_cidr = "10.0.0.0/16"`, key: cc + "pod_cidr", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, "10.0.0.0/16", calicoOf(t, s).ExtraConfig["cidrV4"])
			}},
		{name: "pod cidr malformed", toml: `pod_cidr = "10.0.0.0"`, key: cc + "pod_cidr", status: StatusUnconvertible},
		{name: "values.yaml first line is the plugin path", toml: "kubelet_data_root = \"/data/k\"\ncalico_mtu = \"1400\"\ncalico_vxlan = false", key: cc + "calico_mtu", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				v := calicoOf(t, s).ExtraConfig["values.yaml"]
				assert.True(t, strings.HasPrefix(v, "kubeletVolumePluginPath: /data/k\n"), v)
				assert.Contains(t, v, "mtu: 1400")
				assert.Contains(t, v, "bgp: Enabled")
			}},
		{name: "mtu not a number", toml: `calico_mtu = "big"`, key: cc + "calico_mtu", status: StatusUnconvertible},
		{name: "ip autodetection cidr", toml: `calico_ip_auto_method = "cidr=10.0.0.0/8,192.168.0.0/16"`, key: cc + "calico_ip_auto_method", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Contains(t, calicoOf(t, s).ExtraConfig["values.yaml"], "- 192.168.0.0/16")
			}},
		{name: "ip autodetection unknown", toml: `calico_ip_auto_method = "magic"`, key: cc + "calico_ip_auto_method", status: StatusUnconvertible},
		{name: "lameduck", toml: "[cluster_config.core_dns_lameduck_config]\nenabled = true\nduration = \"9s\"", key: cc + "core_dns_lameduck_config.duration", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, mke4.Lameduck{Enabled: true, Duration: "9s"}, s.DNS.Lameduck)
			}},
		{name: "lameduck bad duration", toml: "[cluster_config.core_dns_lameduck_config]\nduration = \"0s\"", key: cc + "core_dns_lameduck_config.duration", status: StatusUnconvertible},
		{name: "gatekeeper", toml: "[cluster_config.policy_enforcement.gatekeeper]\nenabled = true\nexcluded_namespaces = [\"a\"]", key: cc + "policy_enforcement.gatekeeper.excluded_namespaces", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, mke4.OPAGatekeeper{Enabled: true, ExemptNamespaces: []string{"a"}}, s.PolicyController.OPAGatekeeper)
			}},
		{name: "metallb on, pools reported", toml: "[cluster_config.metallb_config]\nenabled = true\n[[cluster_config.metallb_config.metallb_ip_addr_pool]]\nname = \"p\"\nexternal_ip = [\"192.0.2.0/28\"]", key: cc + "metallb_config.metallb_ip_addr_pool[0].name", status: StatusDropped,
			check: func(t *testing.T, s mke4.Spec, rep Report) {
				assert.Equal(t, []MetalLBPool{{Name: "p", Addresses: []string{"192.0.2.0/28"}}}, rep.MetalLBPools)
				for _, a := range s.Addons {
					if a.Name == "metallb" {
						assert.True(t, a.Enabled)
					}
				}
			}},
		{name: "ingress on keeps node ports", toml: "nodeport_range = \"32768-35535\"\n[cluster_config.ingress_controller]\nenabled = true\n[[cluster_config.ingress_controller.ingress_exposed_ports]]\nname = \"http2\"\nport = 80\ntarget_port = 80\nnode_port = 34000\n[[cluster_config.ingress_controller.ingress_exposed_ports]]\nname = \"https\"\nport = 443\ntarget_port = 443\nnode_port = 34001",
			key: cc + "ingress_controller.ingress_exposed_ports[1].node_port", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, 34000, s.IngressController.NodePorts.HTTP)
				assert.Equal(t, 34001, s.IngressController.NodePorts.HTTPS)
				assert.True(t, s.IngressController.Enabled)
			}},
		{name: "ingress off, default range", toml: "nodeport_range = \"32768-35535\"\n[cluster_config.ingress_controller]\nenabled = false\n[[cluster_config.ingress_controller.ingress_exposed_ports]]\nname = \"http2\"\nport = 80\nnode_port = 34000",
			key: cc + "ingress_controller.ingress_exposed_ports[0].node_port", status: StatusDefault,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, 33000, s.IngressController.NodePorts.HTTP)
				assert.Equal(t, 33001, s.IngressController.NodePorts.HTTPS)
				assert.True(t, s.IngressController.Enabled, "MKE 4k always runs its ingress")
			}},
		{name: "ingress off, custom range", toml: "nodeport_range = \"30000-32767\"\n[cluster_config.ingress_controller]\nenabled = false",
			key: cc + "ingress_controller.enabled", status: StatusDefault,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, 30000, s.IngressController.NodePorts.HTTP)
				assert.Equal(t, 30001, s.IngressController.NodePorts.HTTPS)
			}},
		{name: "ingress extra tcp port dropped", toml: "[cluster_config.ingress_controller]\nenabled = true\n[[cluster_config.ingress_controller.ingress_exposed_ports]]\nname = \"tcp\"\nport = 31400\nnode_port = 33002",
			key: cc + "ingress_controller.ingress_exposed_ports[0].node_port", status: StatusDropped},
		{name: "ingress map keys", toml: "[cluster_config.ingress_controller.ingress_config_map]\nuse-gzip = \"true\"", key: cc + "ingress_controller.ingress_config_map.use-gzip", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, "true", s.IngressController.ConfigMap["use-gzip"])
			}},
		{name: "affinity kind checked", toml: "[cluster_config.ingress_controller.ingress_node_affinity]\nbogus = \"x\"", key: cc + "ingress_controller.ingress_node_affinity.bogus", status: StatusUnconvertible},
		{name: "oidc issuer from discovery url", toml: "[auth.external_identity_provider]\nwellKnownConfigUrl = \"https://id.example.com/.well-known/openid-configuration\"\nclientId = \"c\"\nissuer = \"\"\n" + kdd,
			key: "auth.external_identity_provider.wellKnownConfigUrl", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, mke4.OIDC{Enabled: true, Issuer: "https://id.example.com", ClientID: "c"}, s.Authentication.OIDC)
			}},
		{name: "local users inverted", toml: "[auth]\nmanagedPasswordDisabled = true\n" + kdd, key: "auth.managedPasswordDisabled", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.False(t, *s.Authentication.LocalUsers) }},
		{name: "session lifetime", toml: "[auth.sessions]\nlifetime_minutes = 90\n" + kdd, key: "auth.sessions.lifetime_minutes", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, "1h30m0s", s.Authentication.Expiry.IDTokens)
			}},
		{name: "ldap backend without settings", toml: "[auth]\nbackend = \"ldap\"\n" + kdd, key: "auth.backend", status: StatusUnconvertible},
		{name: "ldap backend with eNZi settings", toml: "[auth]\nbackend = \"ldap\"\n" + kdd,
			opts: Options{LDAP: &LDAPSettings{ServerURL: "ldaps://ldap.example.com", ReaderDN: "cn=r", ReaderPassword: "pw", JITUserProvisioning: true,
				UserSearchConfigs: []LDAPUserSearch{{BaseDN: "ou=people", UsernameAttr: "uid", Filter: "objectClass=person"}}}},
			key: "auth.backend", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, rep Report) {
				l := s.Authentication.LDAP
				assert.True(t, l.Enabled)
				assert.Equal(t, "ldap.example.com:636", l.Host)
				assert.Equal(t, "pw", l.BindPW)
				assert.Equal(t, "(objectClass=person)", l.UserSearch.Filter)
				assert.Equal(t, StatusDropped, statusOf(t, rep, "enzi.ldap.jitUserProvisioning"))
				for _, e := range rep.Entries {
					assert.NotContains(t, e.Reason, "pw")
				}
			}},
		{name: "audit level request enables audit", toml: "[audit_log_configuration]\nlevel = \"request\"\n" + kdd, key: "audit_log_configuration.level", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.True(t, s.APIServer.Audit.Enabled)
				assert.Equal(t, mke4.AuditLevelRequest, s.APIServer.Audit.Level)
			}},
		{name: "custom audit policy ignored while off", toml: "kube_api_server_enable_custom_audit_policy = false\nkube_api_server_custom_audit_policy_yaml = \"rules: []\"", key: cc + "kube_api_server_custom_audit_policy_yaml", status: StatusDropped},
		{name: "request timeout normalised", toml: `kube_api_server_request_timeout = "90s"`, key: cc + "kube_api_server_request_timeout", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.Equal(t, "1m30s", s.APIServer.RequestTimeout) }},
		{name: "request timeout bad", toml: `kube_api_server_request_timeout = "soon"`, key: cc + "kube_api_server_request_timeout", status: StatusUnconvertible},
		{name: "cloud provider aws", toml: `cloud_provider = "aws"`, key: cc + "cloud_provider", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, mke4.CloudProvider{Enabled: true, Provider: "aws"}, s.CloudProvider)
			}},
		{name: "cloud provider azure", toml: `cloud_provider = "azure"`, key: cc + "cloud_provider", status: StatusUnconvertible},
		{name: "kms on needs hand work", toml: "kms_enabled = true", key: cc + "kms_enabled", status: StatusUnconvertible},
		{name: "nvidia", toml: "nvidia_device_plugin = true", key: cc + "nvidia_device_plugin", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.True(t, s.DevicePlugins.NvidiaGPU.Enabled) }},
		{name: "pid limit from hardening", toml: "[hardening_configuration]\nhardening_enabled = true\npids_limit_k8s = 1000\npids_limit_unspecified_k8s = false\n" + kdd,
			key: "hardening_configuration.pids_limit_k8s", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.Equal(t, 1000, s.Kubelet.PodPidsLimit) }},
		{name: "pid limit unspecified", toml: "[hardening_configuration]\nhardening_enabled = true\npids_limit_k8s = 1000\npids_limit_unspecified_k8s = true\n" + kdd,
			key: "hardening_configuration.pids_limit_k8s", status: StatusDefault,
			check: func(t *testing.T, s mke4.Spec, _ Report) { assert.Equal(t, -1, s.Kubelet.PodPidsLimit) }},
		{name: "cluster name", toml: `cluster_name = "prod"`, key: cc + "cluster_name", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, "prod", s.ControllerManager.ExtraArgs["cluster-name"])
			}},
		{name: "always pull images joins flags", toml: "k8s_always_pull_images_ac_enabled = true\ncustom_kube_api_server_flags = [\"--enable-admission-plugins=NodeRestriction\"]", key: cc + "k8s_always_pull_images_ac_enabled", status: StatusConverted,
			check: func(t *testing.T, s mke4.Spec, _ Report) {
				assert.Equal(t, "NodeRestriction,AlwaysPullImages", s.APIServer.ExtraArgs["enable-admission-plugins"])
			}},
		{name: "default value of a dropped key", toml: "swarm_port = 2376", key: cc + "swarm_port", status: StatusDefault},
		{name: "non-default value of a dropped key", toml: "swarm_port = 2400", key: cc + "swarm_port", status: StatusDropped},
		{name: "unknown key", toml: "no_such_key = 1", key: cc + "no_such_key", status: StatusUnknown},
		{name: "legacy key hint", toml: "min_tls_version = \"tlsv1.2\"", key: cc + "min_tls_version", status: StatusUnknown,
			check: func(t *testing.T, _ mke4.Spec, rep Report) {
				assert.Contains(t, entriesFor(rep, cc+"min_tls_version")[0].Reason, "UCP 3.1")
			}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			doc := r.toml
			if !strings.HasPrefix(doc, "[") {
				doc = kdd + doc + "\n"
			}
			cfg := mustParse(t, doc)
			out, rep, err := Convert(cfg, r.opts)
			require.NoError(t, err)
			assert.Equal(t, r.status, statusOf(t, rep, r.key), "%+v", entriesFor(rep, r.key))
			if r.check != nil {
				r.check(t, out.Spec, rep)
			}
		})
	}
}

func TestFlagListsToExtraArgs(t *testing.T) {
	cfg := mustParse(t, kdd+`custom_kube_api_server_flags = ["--feature-gates=A=true", "--feature-gates=B=false", "--event-ttl 2h", "--allow-privileged", "--audit-log-maxage 45", "--profiling", "--v=2", "--v=4", "--etcd-servers=https://x:2379", "--oidc-groups-claim=a=b,c"]
custom_kubelet_flags = ["--event-burst=100"]
custom_kube_proxy_flags = ["--conntrack-max-per-core=0"]
custom_kube_scheduler_flags = []
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	args := out.Spec.APIServer.ExtraArgs
	assert.Equal(t, "A=true,B=false", args["feature-gates"], "repeated list flags accumulate")
	assert.Equal(t, "2h", args["event-ttl"], "--k v form")
	assert.Equal(t, "true", args["allow-privileged"], "bare boolean")
	assert.Equal(t, 45, out.Spec.APIServer.Audit.MaxAge, "a flag with a structured field goes there")
	assert.NotContains(t, args, "audit-log-maxage")
	assert.Equal(t, true, *out.Spec.APIServer.ProfilingEnabled, "bare boolean with a structured field")
	assert.Equal(t, "4", args["v"], "last value wins")
	assert.Equal(t, "a=b,c", args["oidc-groups-claim"], "values keep = and ,")
	assert.NotContains(t, args, "etcd-servers", "k0s owns etcd-servers")
	assert.Equal(t, "0", out.Spec.Network.KubeProxy.ExtraArgs["conntrack-max-per-core"])
	assert.Equal(t, "100", out.Spec.Kubelet.ExtraArgs["event-burst"])

	byFlag := map[string]Entry{}
	for _, e := range entriesFor(rep, cc+"custom_kube_api_server_flags") {
		byFlag[e.Flag] = e
	}
	assert.Equal(t, StatusDropped, byFlag["--v=2"].Status)
	assert.Contains(t, byFlag["--v=2"].Reason, "overridden")
	assert.Equal(t, StatusConverted, byFlag["--v=4"].Status)
	assert.Equal(t, "spec.apiServer.extraArgs.v", byFlag["--v=4"].Target)
	assert.Equal(t, StatusUnconvertible, byFlag["--etcd-servers=https://x:2379"].Status)
	assert.Equal(t, StatusDefault, statusOf(t, rep, cc+"custom_kube_scheduler_flags"))
	assert.Contains(t, entriesFor(rep, cc+"custom_kubelet_flags")[0].Reason, "eventBurst")

	bad := mustParse(t, kdd+`custom_kube_api_server_flags = ["positional"]`)
	_, rep, err = Convert(bad, Options{})
	require.NoError(t, err)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"custom_kube_api_server_flags"))
}

func TestKubeletProfilesAndHostLabels(t *testing.T) {
	cfg := mustParse(t, kdd+`[cluster_config.custom_kubelet_flags_profiles]
high = "--max-pods=250 --kube-reserved=cpu=1,memory=2Gi --node-ip=10.0.0.1"
empty = ""
broken = "--a='unterminated"
`)
	hostsIn := []Host{
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.1"}}, Labels: map[string]string{"my.label": "high"}},
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.2"}}, Labels: map[string]string{"my.label": "nope"}},
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.3"}}},
	}
	out, rep, err := Convert(cfg, Options{Hosts: hostsIn, KubeletProfileLabel: "my.label"})
	require.NoError(t, err)
	profiles := map[string]map[string]any{}
	for _, p := range out.Spec.Kubelet.CustomProfiles {
		profiles[p.Name] = p.Values
	}
	require.Len(t, profiles, 3, "every profile is kept, even empty or broken ones")
	assert.EqualValues(t, 250, profiles["high"]["maxPods"])
	assert.Equal(t, []string{"--profile=high"}, out.Spec.Hosts[0].InstallFlags)
	assert.Empty(t, out.Spec.Hosts[1].InstallFlags)
	assert.Empty(t, out.Spec.Hosts[2].InstallFlags)

	var high []Entry = entriesFor(rep, cc+"custom_kubelet_flags_profiles.high")
	require.Len(t, high, 3)
	assert.Equal(t, "spec.kubelet.customProfiles[name=high].values.maxPods", high[0].Target)
	assert.Equal(t, StatusUnconvertible, high[2].Status)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"custom_kubelet_flags_profiles.broken"))
	assert.Equal(t, StatusDefault, statusOf(t, rep, cc+"custom_kubelet_flags_profiles.empty"))
	assert.Equal(t, StatusConverted, statusOf(t, rep, "hosts[0].labels.my.label"))
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, "hosts[1].labels.my.label"))
	require.NoError(t, out.Validate())
}

func TestAbsentKDDBlocks(t *testing.T) {
	_, rep, err := Convert(mustParse(t, "[cluster_config]\nkubelet_max_pods = 110\n"), Options{})
	require.NoError(t, err)
	require.True(t, rep.HasBlocking())
	assert.Equal(t, cc+"calico_kdd", rep.Blocking()[0].Key)
	assert.Zero(t, rep.Blocking()[0].Line)

	_, rep, err = Convert(mustParse(t, "[cluster_config]\nunmanaged_cni = true\n"), Options{})
	require.NoError(t, err)
	assert.False(t, rep.HasBlocking(), "an unmanaged CNI does not need KDD")
}

func TestInvalidResultBlocks(t *testing.T) {
	// MKE 3 ingress node ports outside the node port range make an invalid
	// MKE 4k configuration: the report must say so rather than emit it silently.
	cfg := mustParse(t, kdd+`nodeport_range = "30000-32767"
[cluster_config.ingress_controller]
enabled = true
[[cluster_config.ingress_controller.ingress_exposed_ports]]
name = "http2"
port = 80
node_port = 33000
`)
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	require.True(t, rep.HasBlocking())
	assert.Equal(t, "mke4.yaml", rep.Blocking()[0].Key)
}

func TestRepeatedProfileFlagIsDropped(t *testing.T) {
	cfg := mustParse(t, kdd+"[cluster_config.custom_kubelet_flags_profiles]\np = \"--max-pods=100 --max-pods=250\"\n")
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	es := entriesFor(rep, cc+"custom_kubelet_flags_profiles.p")
	require.Len(t, es, 2)
	assert.Equal(t, StatusDropped, es[0].Status)
	assert.Contains(t, es[0].Reason, "overridden by a later --max-pods")
	assert.Equal(t, StatusConverted, es[1].Status)
	assert.EqualValues(t, 250, out.Spec.Kubelet.CustomProfiles[0].Values["maxPods"])
}

func TestProfileNamesBecomeDNSLabels(t *testing.T) {
	cfg := mustParse(t, kdd+"[cluster_config.custom_kubelet_flags_profiles]\n\"High Perf\" = \"--max-pods=200\"\nhigh-perf = \"--max-pods=100\"\n")
	out, rep, err := Convert(cfg, Options{Hosts: []Host{
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.1"}}, Labels: map[string]string{DefaultKubeletProfileLabel: "High Perf"}},
		{Host: mke4.Host{Role: mke4.RoleWorker, SSH: &mke4.SSH{Address: "10.0.0.2"}}, Labels: map[string]string{DefaultKubeletProfileLabel: "high-perf"}},
	}})
	require.NoError(t, err)
	names := []string{out.Spec.Kubelet.CustomProfiles[0].Name, out.Spec.Kubelet.CustomProfiles[1].Name}
	assert.Equal(t, []string{"high-perf-2", "high-perf"}, names, "a valid name is kept; the rewritten one yields")
	assert.Equal(t, []string{"--profile=high-perf-2"}, out.Spec.Hosts[0].InstallFlags)
	assert.Equal(t, []string{"--profile=high-perf"}, out.Spec.Hosts[1].InstallFlags)
	assert.Contains(t, entriesFor(rep, cc+`custom_kubelet_flags_profiles."High Perf"`)[0].Reason, `renamed to "high-perf-2"`)
	require.NoError(t, out.Validate())
}

func TestIntegerBounds(t *testing.T) {
	_, rep, err := Convert(mustParse(t, kdd+"kubelet_max_pods = 0\nkubelet_event_record_qps = -1\nkube_api_server_audit_log_maxage = -3\n"), Options{})
	require.NoError(t, err)
	for _, k := range []string{"kubelet_max_pods", "kubelet_event_record_qps", "kube_api_server_audit_log_maxage"} {
		assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+k), k)
	}
}

func TestByteOrderMarkIsAccepted(t *testing.T) {
	cfg, err := Parse("bom.toml", []byte("\xef\xbb\xbf[cluster_config]\ncalico_kdd = true\n"))
	require.NoError(t, err)
	assert.True(t, cfg.ClusterConfig.CalicoKDD)
}

// Keys that end up as YAML map keys are validated where they come in: a bad
// one is reported and left out, and the rest of the configuration is kept.
func TestUserKeysAreValidated(t *testing.T) {
	long := strings.Repeat("&", 1100)
	cfg := mustParse(t, kdd+`manager_kube_reserved_resources = "`+long+`=1"
worker_kube_reserved_resources = "cpu=100m,gpu=1"
custom_kube_api_server_flags = ["--`+long+`=1", "--v=2"]
[cluster_config.ingress_controller.ingress_config_map]
ok-key = "1"
"bad key" = "2"
[cluster_config.ingress_controller.ingress_tcp_services]
9000 = "ns/svc:9000"
http = "ns/svc:80"
[cluster_config.ingress_controller.ingress_node_affinity.nodeAffinity]
requiredDuringSchedulingIgnoredDuringExecution = {nodeSelectorTermz = []}
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"manager_kube_reserved_resources"))
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"worker_kube_reserved_resources"))
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"custom_kube_api_server_flags"))
	assert.Equal(t, map[string]string{"v": "2"}, out.Spec.APIServer.ExtraArgs)
	assert.Equal(t, map[string]string{"ok-key": "1"}, out.Spec.IngressController.ConfigMap)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+`ingress_controller.ingress_config_map."bad key"`))
	assert.Equal(t, map[string]string{"9000": "ns/svc:9000"}, out.Spec.IngressController.TCPServices)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"ingress_controller.ingress_tcp_services.http"))
	assert.Nil(t, out.Spec.IngressController.Affinity)
	assert.Equal(t, StatusUnconvertible, statusOf(t, rep, cc+"ingress_controller.ingress_node_affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTermz"))
	_, err = mke4.Marshal(out)
	require.NoError(t, err)
}
