package mke4

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	withProfiles := func(c *MkeConfig, names ...string) {
		for _, n := range names {
			c.Spec.Kubelet.CustomProfiles = append(c.Spec.Kubelet.CustomProfiles,
				KubeletCustomProfile{Name: n, Values: map[string]any{"maxPods": 200}})
		}
	}
	host := func(role string, flags ...string) Host {
		return Host{SSH: &SSH{Address: "10.0.0.1", User: "ubuntu", Port: 22}, Role: role, InstallFlags: flags}
	}

	tests := []struct {
		name string
		edit func(*MkeConfig)
		want []string // FieldError texts, in order; nil = valid
	}{
		{name: "default", edit: func(*MkeConfig) {}},
		{
			name: "empty externalAddress is allowed",
			edit: func(c *MkeConfig) { c.Spec.APIServer.ExternalAddress = "" },
		},
		{
			name: "identity",
			edit: func(c *MkeConfig) {
				c.APIVersion = "v1"
				c.Kind = "Config"
				c.Metadata.Namespace = "kube-system"
			},
			want: []string{
				`apiVersion: "v1", want "mke.mirantis.com/v1alpha1"`,
				`kind: "Config", want "MkeConfig"`,
				`metadata.namespace: "kube-system", want "mke"`,
			},
		},
		{
			name: "two providers enabled",
			edit: func(c *MkeConfig) { c.Spec.Network.Providers[2].Enabled = true },
			want: []string{`spec.network.providers: 2 providers are enabled ("calico", "kuberouter"); exactly one must be enabled`},
		},
		{
			name: "no provider enabled",
			edit: func(c *MkeConfig) { c.Spec.Network.Providers[0].Enabled = false },
			want: []string{`spec.network.providers: no provider is enabled; exactly one must be enabled`},
		},
		{
			name: "no providers at all",
			edit: func(c *MkeConfig) { c.Spec.Network.Providers = nil },
			want: []string{`spec.network.providers: no provider is enabled; exactly one must be enabled`},
		},
		{
			name: "custom provider alone is fine",
			edit: func(c *MkeConfig) {
				c.Spec.Network.Providers[0].Enabled = false
				c.Spec.Network.Providers[1].Enabled = true
			},
		},
		{
			name: "duplicate and empty provider names",
			edit: func(c *MkeConfig) {
				c.Spec.Network.Providers = append(c.Spec.Network.Providers,
					NetworkProvider{Provider: "custom"}, NetworkProvider{})
			},
			want: []string{
				`spec.network.providers[3].provider: duplicate "custom"`,
				`spec.network.providers[4].provider: must not be empty`,
			},
		},
		{
			name: "profiles unique and referenced",
			edit: func(c *MkeConfig) {
				withProfiles(c, "high", "low")
				c.Spec.Hosts = []Host{
					host(RoleControllerWorker, "--debug", "--profile=high"),
					host(RoleWorker, "--profile", "low"),
				}
			},
		},
		{
			name: "duplicate profile name",
			edit: func(c *MkeConfig) { withProfiles(c, "high", "high", "") },
			want: []string{
				`spec.kubelet.customProfiles[1].name: duplicate "high"`,
				`spec.kubelet.customProfiles[2].name: must not be empty`,
			},
		},
		{
			name: "install flag names a missing profile",
			edit: func(c *MkeConfig) {
				withProfiles(c, "high")
				c.Spec.Hosts = []Host{
					host(RoleWorker, "--profile=high"),
					host(RoleWorker, "--debug", "--profile=medium"),
					host(RoleWorker, "--profile", "low"),
					host(RoleWorker, "--profile="),
					host(RoleWorker, "--profile"),
				}
			},
			want: []string{
				`spec.hosts[1].installFlags[1]: profile "medium" is not defined in spec.kubelet.customProfiles`,
				`spec.hosts[2].installFlags[0]: profile "low" is not defined in spec.kubelet.customProfiles`,
				`spec.hosts[3].installFlags[0]: --profile needs a profile name`,
				`spec.hosts[4].installFlags[0]: --profile needs a profile name`,
			},
		},
		{
			name: "host roles",
			edit: func(c *MkeConfig) {
				c.Spec.Hosts = []Host{host(RoleSingle), host(RoleController), host("manager"), host("")}
			},
			want: []string{
				`spec.hosts[2].role: "manager" is not one of controller+worker, worker, single, controller`,
				`spec.hosts[3].role: "" is not one of controller+worker, worker, single, controller`,
			},
		},
		{
			name: "ingress node ports outside the range",
			edit: func(c *MkeConfig) {
				c.Spec.Network.NodePortRange = "30000-32767"
				c.Spec.IngressController.NodePorts.TCP = map[string]int{"9000": 30011, "9001": 40000}
				c.Spec.IngressController.NodePorts.UDP = map[string]int{"5005": 70000}
			},
			want: []string{
				`spec.ingressController.nodePorts.http: 33000 is outside spec.network.nodePortRange 30000-32767`,
				`spec.ingressController.nodePorts.https: 33001 is outside spec.network.nodePortRange 30000-32767`,
				`spec.ingressController.nodePorts.tcp["9001"]: 40000 is outside spec.network.nodePortRange 30000-32767`,
				`spec.ingressController.nodePorts.udp["5005"]: 70000 is not a port number (1-65535)`,
			},
		},
		{
			name: "conformance style ports inside a custom range",
			edit: func(c *MkeConfig) {
				c.Spec.Network.NodePortRange = "30000-32767"
				c.Spec.IngressController.NodePorts.HTTP = 30000
				c.Spec.IngressController.NodePorts.HTTPS = 30001
			},
		},
		{
			name: "unset node ports and range are not checked",
			edit: func(c *MkeConfig) {
				c.Spec.Network.NodePortRange = ""
				c.Spec.IngressController.NodePorts = IngressNodePorts{}
			},
		},
		{
			name: "bad node port range",
			edit: func(c *MkeConfig) { c.Spec.Network.NodePortRange = "35535-32768" },
			want: []string{`spec.network.nodePortRange: "35535-32768" is not an ascending range of port numbers`},
		},
		{
			name: "gateway node ports",
			edit: func(c *MkeConfig) {
				c.Spec.GatewayMKEIngress = &GatewayMKEIngress{
					NodePorts: IngressPorts{HTTP: 33000, HTTPS: 30001},
					Ports:     IngressPorts{HTTP: 80, HTTPS: 0},
				}
			},
			want: []string{`spec.gatewayMKEIngress.nodePorts.https: 30001 is outside spec.network.nodePortRange 32768-35535`},
		},
		{
			name: "ingress ports",
			edit: func(c *MkeConfig) {
				c.Spec.IngressController.Ports = IngressPorts{HTTP: -1, HTTPS: 65536}
				c.Spec.IngressController.ExtraArgs.HTTPPort = 0
				c.Spec.IngressController.ExtraArgs.HTTPSPort = 100000
			},
			want: []string{
				`spec.ingressController.ports.http: -1 is not a port number (1-65535)`,
				`spec.ingressController.ports.https: 65536 is not a port number (1-65535)`,
				`spec.ingressController.extraArgs.httpsPort: 100000 is not a port number (1-65535)`,
			},
		},
		{
			name: "extraArgs with dashes",
			edit: func(c *MkeConfig) {
				c.Spec.Kubelet.ExtraArgs = map[string]string{"--max-pods": "200", "event-qps": "5", "-v": "2", "": "x"}
				c.Spec.APIServer.ExtraArgs = map[string]string{"--anonymous-auth": "false"}
				c.Spec.Network.KubeProxy.ExtraArgs = map[string]string{"--v": "2"}
			},
			want: []string{
				`spec.apiServer.extraArgs["--anonymous-auth"]: flag name must be given without leading dashes ("anonymous-auth")`,
				`spec.kubelet.extraArgs[""]: flag name must not be empty`,
				`spec.kubelet.extraArgs["--max-pods"]: flag name must be given without leading dashes ("max-pods")`,
				`spec.kubelet.extraArgs["-v"]: flag name must be given without leading dashes ("v")`,
				`spec.network.kubeProxy.extraArgs["--v"]: flag name must be given without leading dashes ("v")`,
			},
		},
		{
			name: "audit level and durations",
			edit: func(c *MkeConfig) {
				c.Spec.APIServer.Audit.Level = "metadata" // lower case is documented too
				c.Spec.APIServer.RequestTimeout = "60"
				c.Spec.DNS.Lameduck.Duration = "seven seconds"
				c.Spec.APIServer.Port = 70000
			},
			want: []string{
				`spec.apiServer.requestTimeout: "60" is not a duration such as 7s or 1m0s`,
				`spec.apiServer.port: 70000 is not a port number (1-65535)`,
				`spec.dns.lameduck.duration: "seven seconds" is not a duration such as 7s or 1m0s`,
			},
		},
		{
			name: "bad audit level",
			edit: func(c *MkeConfig) { c.Spec.APIServer.Audit.Level = "RequestResponse" },
			want: []string{`spec.apiServer.audit.level: "RequestResponse" is not one of None, Metadata, Request`},
		},
		{
			name: "cloud provider and backup type",
			edit: func(c *MkeConfig) {
				c.Spec.CloudProvider = CloudProvider{Enabled: true, Provider: "gcp"}
				c.Spec.Backup.StorageProvider.Type = "NFS"
			},
			want: []string{
				`spec.backup.storage_provider.type: "NFS" is not InCluster or External`,
				`spec.cloudProvider.provider: "gcp" is not aws or external (required when enabled)`,
			},
		},
		{
			name: "disabled cloud provider is not checked",
			edit: func(c *MkeConfig) { c.Spec.CloudProvider = CloudProvider{Provider: "gcp"} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var got []string
			for _, e := range flatten(err) {
				var fe *FieldError
				require.True(t, errors.As(e, &fe), "%T is not a *FieldError", e)
				got = append(got, fe.Error())
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseNodePortRange(t *testing.T) {
	first, last, err := ParseNodePortRange("32768-35535")
	require.NoError(t, err)
	require.Equal(t, [2]int{32768, 35535}, [2]int{first, last})

	for _, bad := range []string{"", "30000", "a-b", "30000-", "0-10", "1-65536", "200-100"} {
		_, _, err := ParseNodePortRange(bad)
		require.Error(t, err, bad)
	}
}
