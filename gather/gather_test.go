package gather_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

const profileLabel = convert.DefaultKubeletProfileLabel

// toml is a cluster on KDD with one kubelet profile.
const toml = `[cluster_config]
calico_kdd = true
kube_proxy_mode = "iptables"

[cluster_config.custom_kubelet_flags_profiles]
high = "--kube-reserved=cpu=1"
`

// fakeCluster is four healthy nodes (manager-1 the leader, manager-2 and
// -3, worker-1 on SSH port 2222) whose facts come from a map, not SSH.
type fakeCluster struct {
	hosts []hosts.Host
	facts map[string]hosts.Facts
	down  map[string]error
}

func newFake() *fakeCluster {
	f := &fakeCluster{facts: map[string]hosts.Facts{}, down: map[string]error{}}
	for i, name := range []string{"manager-1", "manager-2", "manager-3", "worker-1"} {
		h := hosts.Host{Address: "10.0.0." + string(rune('1'+i))}
		if i == 3 {
			h.Port = 2222
		}
		role := "manager"
		if strings.HasPrefix(name, "worker") {
			role = "worker"
		}
		f.hosts = append(f.hosts, h)
		f.facts[h.String()] = hosts.Facts{Address: h.Address, Hostname: name, MachineID: name, Sudo: true, MCRVersion: "25.0.8",
			Swarm: hosts.SwarmFacts{ClusterID: "c1", Role: role, Leader: i == 0, LocalNodeState: "active"}, MKEVersion: "3.8.8",
			CPUs: 8, MemoryBytes: 32 << 30}
	}
	return f
}

func (f *fakeCluster) options(t *testing.T) gather.Options {
	return gather.Options{
		Hosts: f.hosts,
		Facts: func(_ context.Context, h hosts.Host) (hosts.Facts, error) {
			if err := f.down[h.String()]; err != nil {
				return hosts.Facts{}, err
			}
			return f.facts[h.String()], nil
		},
		KubeconfigPath: filepath.Join(t.TempDir(), "mke.kubeconf"),
	}
}

func nodes() []mke3.KubeNode {
	return []mke3.KubeNode{
		{Name: "manager-1", Addresses: []string{"10.0.0.1"}},
		{Name: "manager-2", Addresses: []string{"10.0.0.2"}, Labels: map[string]string{profileLabel: "high", "zone": "a"}},
		{Name: "manager-3", Addresses: []string{"10.0.0.3"}},
		{Name: "ip-10-0-0-4", Addresses: []string{"10.0.0.4"}}, // matched by address, not name
	}
}

func ids(rs []preflight.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Severity)+" "+r.ID+" "+r.Host)
	}
	return out
}

func TestCluster(t *testing.T) {
	f := newFake()
	o := f.options(t)
	o.ConfigTOML = []byte(toml)
	o.KubeNodes = func(context.Context) ([]mke3.KubeNode, error) { return nodes(), nil }
	o.Hosts[3].Labels = map[string]string{profileLabel: "high"} // hosts.yaml labels count too
	o.Convert = convert.Options{ExternalAddress: "mke.example.com", ImageRegistry: "reg.example.com/mke"}
	res, err := gather.Cluster(t.Context(), o)
	require.NoError(t, err)

	assert.Empty(t, res.Checks, "a healthy cluster has no findings")
	assert.Equal(t, "10.0.0.1:22", res.Leader)
	assert.Equal(t, []string{"10.0.0.1:22", "10.0.0.2:22", "10.0.0.3:22"}, res.Managers)
	assert.Equal(t, []string{"10.0.0.4:2222"}, res.Workers)
	assert.Equal(t, "3.8.8", res.MKEVersion)
	assert.Equal(t, "c1", res.ClusterID)

	require.Len(t, res.Hosts, 4)
	for i, h := range res.Hosts {
		require.NotNil(t, h.Facts, h.Address)
		require.NotNil(t, h.KubeNode, h.Address)
		assert.Equal(t, nodes()[i].Name, h.KubeNode.Name)
		assert.Equal(t, i < 3, h.Manager)
	}
	assert.Equal(t, "", res.Hosts[0].KubeletProfile)
	assert.Equal(t, "high", res.Hosts[1].KubeletProfile, "from the Kubernetes node label")
	assert.Equal(t, "high", res.Hosts[3].KubeletProfile, "from hosts.yaml")
	assert.Equal(t, "a", res.Hosts[1].Labels["zone"])

	// the conversion saw the hosts, their roles and profiles, and the options
	require.NotNil(t, res.MKE4)
	spec := res.MKE4.Spec
	require.Len(t, spec.Hosts, 4)
	assert.Equal(t, []string{"controller+worker", "controller+worker", "controller+worker", "worker"},
		[]string{spec.Hosts[0].Role, spec.Hosts[1].Role, spec.Hosts[2].Role, spec.Hosts[3].Role})
	assert.Equal(t, 2222, spec.Hosts[3].SSH.Port)
	assert.Empty(t, spec.Hosts[0].InstallFlags)
	assert.Equal(t, []string{"--profile=high"}, spec.Hosts[1].InstallFlags)
	assert.Equal(t, []string{"--profile=high"}, spec.Hosts[3].InstallFlags)
	assert.Equal(t, "reg.example.com/mke", spec.Registries.ImageRegistry.URL)
	assert.True(t, slices.ContainsFunc(res.Report.Entries, func(e convert.Entry) bool { return e.Key == convert.OptionImageRegistry }),
		"the report accounts for the registry")

	// the checks saw the nodes and profiles
	assert.Equal(t, nodes(), res.Input.KubeNodes)
	assert.Equal(t, []string{"high"}, res.Input.KubeletProfiles)
	assert.Equal(t, profileLabel, res.Input.KubeletProfileLabel)
}

// Every input the checks take reaches them: one row per way a gathered
// fact becomes a finding.
func TestClusterFindings(t *testing.T) {
	tests := []struct {
		name string
		mod  func(f *fakeCluster, o *gather.Options)
		want []string // severity, ID, host of every finding
	}{
		{"nothing but SSH", func(_ *fakeCluster, o *gather.Options) { o.ConfigTOML, o.KubeNodes = nil, nil },
			[]string{"skipped calico-kdd ", "skipped kubernetes-node-missing "}},
		{"a host down", func(f *fakeCluster, _ *gather.Options) { f.down["10.0.0.2:22"] = errors.New("connection refused") },
			[]string{"blocker host-unreachable 10.0.0.2", "warning manager-count "}},
		{"the Kubernetes API fails", func(_ *fakeCluster, o *gather.Options) {
			o.KubeNodes = func(context.Context) ([]mke3.KubeNode, error) { return nil, errors.New("x509: unknown authority") }
		}, []string{"warning kubernetes-api "}},
		{"a host is no node", func(_ *fakeCluster, o *gather.Options) {
			o.KubeNodes = func(context.Context) ([]mke3.KubeNode, error) { return nodes()[:3], nil }
		}, []string{"warning kubernetes-node-missing 10.0.0.4"}},
		{"an unknown kubelet profile", func(_ *fakeCluster, o *gather.Options) {
			o.KubeNodes = func(context.Context) ([]mke3.KubeNode, error) {
				ns := nodes()
				ns[0].Labels = map[string]string{profileLabel: "low"}
				return ns, nil
			}
		}, []string{"warning kubelet-profile-unknown 10.0.0.1"}},
		{"etcd datastore", func(_ *fakeCluster, o *gather.Options) {
			o.ConfigTOML = []byte(strings.Replace(toml, "calico_kdd = true", "calico_kdd = false", 1))
		}, []string{"blocker calico-kdd "}},
		{"an unsupported MKE version, reported once", func(f *fakeCluster, _ *gather.Options) {
			for k, fs := range f.facts {
				fs.MKEVersion = "3.7.9"
				f.facts[k] = fs
			}
		}, []string{"blocker mke-version "}},
		{"air-gapped without registries", func(_ *fakeCluster, o *gather.Options) { o.Convert.Airgapped = true },
			[]string{"blocker configuration ", "blocker configuration "}},
		{"no leader in hosts.yaml", func(f *fakeCluster, o *gather.Options) { o.Hosts = f.hosts[1:] },
			[]string{"blocker swarm-leader ", "warning manager-count "}},
		{"a stale kubeconfig", func(_ *fakeCluster, o *gather.Options) {
			require.NoError(t, os.WriteFile(o.KubeconfigPath, nil, 0o600))
		}, []string{"blocker mke-kubeconfig "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			o := f.options(t)
			o.ConfigTOML = []byte(toml)
			o.KubeNodes = func(context.Context) ([]mke3.KubeNode, error) { return nodes(), nil }
			tt.mod(f, &o)
			res, err := gather.Cluster(t.Context(), o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(res.Checks))
			assert.Equal(t, ids(res.Checks), ids(preflight.Run(res.Input)), "the checks are preflight.Run of the input")
		})
	}
}

// The version the nodes run reaches the conversion: a 3.9 source is
// converted for the MKE 4k release that upgrades it.
func TestClusterConvertsForTheNodesVersion(t *testing.T) {
	f := newFake()
	for k, fs := range f.facts {
		fs.MKEVersion = "3.9.1"
		f.facts[k] = fs
	}
	o := f.options(t)
	o.ConfigTOML = []byte(toml)
	res, err := gather.Cluster(t.Context(), o)
	require.NoError(t, err)
	assert.Equal(t, convert.MKE4VersionFor39, res.MKE4.Spec.Version)
}

func TestClusterUnreachableHost(t *testing.T) {
	f := newFake()
	f.down["10.0.0.4:2222"] = errors.New("no route to host")
	res, err := gather.Cluster(t.Context(), f.options(t))
	require.NoError(t, err)
	h := res.Hosts[3]
	assert.Nil(t, h.Facts)
	var he *hosts.HostError
	require.ErrorAs(t, h.Err, &he)
	assert.Equal(t, "10.0.0.4:2222", he.Host)
	assert.ErrorContains(t, h.Err, "no route to host")
	assert.Empty(t, res.Workers)
	require.Len(t, res.Input.Unreachable, 1)
	assert.Equal(t, "10.0.0.4", res.Input.Unreachable[0].Host)
	assert.Nil(t, res.MKE4, "no configuration, no conversion")
	assert.NotEmpty(t, res.Blockers())
}

func TestClusterErrors(t *testing.T) {
	f := newFake()
	o := f.options(t)
	o.ConfigTOML = []byte("[cluster_config\n")
	_, err := gather.Cluster(t.Context(), o)
	var ge *gather.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "configuration", ge.Step)

	o = f.options(t)
	o.ConfigTOML = []byte(toml)
	o.Convert.ChartRegistry = "reg.example.com/mke" // not oci://
	_, err = gather.Cluster(t.Context(), o)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "convert", ge.Step)
	assert.ErrorIs(t, err, convert.ErrInvalidOptions)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = gather.Cluster(ctx, f.options(t))
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "facts", ge.Step)
	assert.ErrorIs(t, err, context.Canceled)

	_, err = gather.Cluster(t.Context(), gather.Options{})
	require.ErrorAs(t, err, &ge)

	o = f.options(t)
	o.KubeconfigPath = t.TempDir() // a folder: unreadable as a file
	_, err = gather.Cluster(t.Context(), o)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "kubeconfig", ge.Step)
}

func TestLDAPSettings(t *testing.T) {
	s := gather.LDAPSettings(mke3.LDAPConfig{ServerURL: "ldaps://ldap.example.com", ReaderDN: "cn=r", StartTLS: true,
		AdditionalDomains: []mke3.LDAPDomain{{Domain: "b.example.com", ServerURL: "ldaps://b"}},
		UserSearchConfigs: []mke3.LDAPUserSearch{{BaseDN: "ou=people", UsernameAttr: "uid", Filter: "(objectClass=person)", ScopeSubtree: true}},
		AdminSyncOpts:     mke3.LDAPAdminSyncOpts{EnableSync: true}, SyncSchedule: "@hourly", JITUserProvisioning: true})
	assert.Equal(t, &convert.LDAPSettings{ServerURL: "ldaps://ldap.example.com", ReaderDN: "cn=r", StartTLS: true,
		AdditionalDomains: []map[string]any{{"domain": "b.example.com", "serverURL": "ldaps://b"}},
		UserSearchConfigs: []convert.LDAPUserSearch{{BaseDN: "ou=people", UsernameAttr: "uid", Filter: "(objectClass=person)", ScopeSubtree: true}},
		AdminSyncOpts:     convert.LDAPAdminSyncOpts{EnableSync: true}, SyncSchedule: "@hourly", JITUserProvisioning: true}, s)
}
