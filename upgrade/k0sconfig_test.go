package upgrade

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	// k0s's own configuration types, in tests only: the package pulls in
	// helm and more, which the engine does not link (see
	// internal/importbudget and ../shared/reference/test-infra.md §C).
	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func ptr[T any](v T) *T { return &v }

// k0sConfigCases are mke4.yaml configurations and carries whose k0s
// configuration is kept as a golden file.
func k0sConfigCases() map[string]struct {
	cfg   mke4.MkeConfig
	carry *Carry
} {
	def := mke4.Default()
	def.Spec.APIServer.ExternalAddress = "mke.example.com"

	full := mke4.Default()
	s := &full.Spec
	s.APIServer.ExternalAddress = "mke.example.com"
	s.APIServer.SANs = []string{"mke.example.com", "10.0.0.10"}
	s.APIServer.ProfilingEnabled = ptr(false)
	s.APIServer.RequestTimeout = "2m0s"
	s.APIServer.ExtraArgs = map[string]string{"enable-garbage-collector": "false", "request-timeout": "90s"}
	s.ControllerManager.ExtraArgs = map[string]string{"node-monitor-grace-period": "50s"}
	s.Scheduler.ExtraArgs = map[string]string{"v": "2"}
	s.Network.ServiceCIDR = "10.96.0.0/16"
	s.Network.NodePortRange = "32768-35535"
	s.Network.KubeProxy = mke4.KubeProxy{Mode: "ipvs", MetricsBindAddress: "0.0.0.0:10249",
		IPVS: &mke4.KubeProxyIPVS{SyncPeriod: "30s", TCPTimeout: "900s"}, ExtraArgs: map[string]string{"v": "3"}}
	s.Network.Providers = []mke4.NetworkProvider{{Provider: "calico", Enabled: true, ExtraConfig: map[string]string{"cidrV4": "192.168.0.0/16"}}}
	s.Kubelet.MaxPods = 200
	s.Kubelet.WorkerKubeReserved = map[string]string{"cpu": "100m", "memory": "300Mi"}
	s.Kubelet.CustomProfiles = []mke4.KubeletCustomProfile{
		{Name: "high", Values: map[string]any{"maxPods": float64(250), "evictionHard": map[string]any{"memory.available": "200Mi"}}},
		{Name: "empty"},
	}
	// the settings k0s holds that MKE 4k's installer also applies: audit,
	// the EventRateLimit plugin, etcd's quota, the managers' reservation
	settings := mke4.Default()
	st := &settings.Spec
	st.APIServer.ExternalAddress = "mke.example.com"
	st.APIServer.Audit = mke4.Audit{Enabled: true, Level: "request", LogPath: mke4.DefaultAuditLogPath, MaxAge: 7, MaxBackup: 3, MaxSize: 100}
	st.APIServer.EventRateLimit.Enabled = true
	st.Etcd.StorageQuota = "4GB"
	st.Kubelet.ManagerKubeReserved = map[string]string{"cpu": "500m", "memory": "2Gi"}
	return map[string]struct {
		cfg   mke4.MkeConfig
		carry *Carry
	}{
		"settings":       {cfg: settings},
		"default":        {cfg: def},
		"default-carry":  {cfg: def, carry: &Carry{EtcdPrefix: DefaultEtcdPrefix, Issuer: k0sIssuer}},
		"full-carry":     {cfg: full, carry: &Carry{EtcdPrefix: "/ucp/registry", Issuer: "https://ucp.example.com"}},
		"minimal-no-api": {cfg: mke4.MkeConfig{}},
	}
}

// The k0s configuration the engine writes is what k0s itself reads: k0s's
// types decode it strictly (no field of ours unknown to k0s) and
// Validate() accepts it; the converted settings are where k0s reads them.
func TestK0sConfigIsK0ssOwn(t *testing.T) {
	for name, tc := range k0sConfigCases() {
		t.Run(name, func(t *testing.T) {
			b, err := k0sConfig(&tc.cfg, tc.carry)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "k0sconfig", name+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestK0sConfigIsK0ssOwn -update)", err)
			}
			if string(want) != string(b)+"\n" {
				t.Fatalf("%s differs (go test -update rewrites it):\n%s", golden, b)
			}
			k := requireK0sValid(t, b)
			spec := tc.cfg.Spec
			if k.Spec.Network.Provider != "custom" {
				t.Errorf("provider %q: MKE 4k installs the CNI", k.Spec.Network.Provider)
			}
			for _, p := range spec.Kubelet.CustomProfiles {
				if !slices.ContainsFunc(k.Spec.WorkerProfiles, func(w v1beta1.WorkerProfile) bool { return w.Name == p.Name }) {
					t.Errorf("no worker profile %q: a worker installed with --profile=%s would never be ready", p.Name, p.Name)
				}
			}
			for f, v := range spec.APIServer.ExtraArgs {
				if k.Spec.API.ExtraArgs[f] != v {
					t.Errorf("api.extraArgs[%s] = %q, want %q", f, k.Spec.API.ExtraArgs[f], v)
				}
			}
			for f, v := range spec.ControllerManager.ExtraArgs {
				if k.Spec.ControllerManager.ExtraArgs[f] != v {
					t.Errorf("controllerManager.extraArgs[%s] = %q, want %q", f, k.Spec.ControllerManager.ExtraArgs[f], v)
				}
			}
			for f, v := range spec.Scheduler.ExtraArgs {
				if k.Spec.Scheduler.ExtraArgs[f] != v {
					t.Errorf("scheduler.extraArgs[%s] = %q, want %q", f, k.Spec.Scheduler.ExtraArgs[f], v)
				}
			}
			if m := spec.Network.KubeProxy.Mode; m != "" && k.Spec.Network.KubeProxy.Mode != m {
				t.Errorf("kube-proxy mode %q, want %q", k.Spec.Network.KubeProxy.Mode, m)
			}
			if c := spec.Network.ServiceCIDR; c != "" && k.Spec.Network.ServiceCIDR != c {
				t.Errorf("service CIDR %q, want %q", k.Spec.Network.ServiceCIDR, c)
			}
			prefix := k.Spec.API.ExtraArgs["etcd-prefix"]
			switch {
			case tc.carry != nil && tc.carry.EtcdPrefix != DefaultEtcdPrefix && prefix != tc.carry.EtcdPrefix:
				t.Errorf("etcd-prefix %q, want MKE 3's %q", prefix, tc.carry.EtcdPrefix)
			case (tc.carry == nil || tc.carry.EtcdPrefix == DefaultEtcdPrefix) && prefix != "":
				t.Errorf("etcd-prefix %q set for the default", prefix)
			}
		})
	}
}

// requireK0sValid decodes b with k0s's types, strictly, and validates it.
func requireK0sValid(t *testing.T, b []byte) *v1beta1.ClusterConfig {
	t.Helper()
	if err := yaml.UnmarshalStrict(b, &v1beta1.ClusterConfig{}); err != nil {
		t.Fatalf("k0s's types refuse a field: %v\n%s", err, b)
	}
	k, err := v1beta1.ConfigFromBytes(b)
	if err != nil {
		t.Fatalf("k0s ConfigFromBytes: %v\n%s", err, b)
	}
	if errs := k.Validate(); len(errs) > 0 {
		t.Fatalf("k0s Validate: %v\n%s", errs, b)
	}
	return k
}

// A custom profile is the cluster-wide kubelet settings with its own
// values over them, as k0s builds every profile from its defaults.
func TestK0sWorkerProfiles(t *testing.T) {
	c := k0sConfigCases()["full-carry"]
	k := requireK0sValid(t, must(k0sConfig(&c.cfg, c.carry)))
	got := map[string]map[string]any{}
	for _, w := range k.Spec.WorkerProfiles {
		var v map[string]any
		if err := json.Unmarshal(w.Config.Raw, &v); err != nil {
			t.Fatal(err)
		}
		got[w.Name] = v
	}
	want := map[string]string{
		"default": `{"eventRecordQPS":50,"kubeReserved":{"cpu":"100m","memory":"300Mi"},"maxPods":200,"podPidsLimit":-1}`,
		"high":    `{"eventRecordQPS":50,"evictionHard":{"memory.available":"200Mi"},"kubeReserved":{"cpu":"100m","memory":"300Mi"},"maxPods":250,"podPidsLimit":-1}`,
		"empty":   `{"eventRecordQPS":50,"kubeReserved":{"cpu":"100m","memory":"300Mi"},"maxPods":200,"podPidsLimit":-1}`,
	}
	for name, w := range want {
		b, _ := json.Marshal(got[name])
		if string(b) != w {
			t.Errorf("profile %s: %s, want %s", name, b, w)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Audit, the EventRateLimit plugin, etcd's quota and the managers'
// reservation are where k0s 1.33 reads them (pkg/apis/k0s/v1beta1:
// api.extraArgs, storage.etcd.extraArgs, workerProfiles), and the files
// the API server's flags name are written to the k0s folder (another
// Commands.K0sDir moves them); a file mke4.yaml names itself is not.
func TestK0sConfigCarriesSettings(t *testing.T) {
	c := k0sConfigCases()["settings"]
	cluster := must(k0sConfig(&c.cfg, nil))
	k := requireK0sValid(t, cluster)
	a := k.Spec.API.ExtraArgs
	for f, want := range map[string]string{
		"audit-log-path": "/var/log/mke4/audit/audit.log", "audit-log-maxage": "7", "audit-log-maxbackup": "3", "audit-log-maxsize": "100",
		"audit-policy-file": "/etc/k0s/audit-policy.yaml", "enable-admission-plugins": "NodeRestriction,EventRateLimit",
		"admission-control-config-file": "/etc/k0s/admission-control.yaml",
	} {
		if a[f] != want {
			t.Errorf("api.extraArgs[%s] = %q, want %q", f, a[f], want)
		}
	}
	if q := k.Spec.Storage.Etcd.ExtraArgs["quota-backend-bytes"]; q != "4294967296" {
		t.Errorf("quota-backend-bytes %q, want 4 GiB", q)
	}
	var mgr map[string]any
	for _, w := range k.Spec.WorkerProfiles {
		if w.Name == managerProfile {
			if err := json.Unmarshal(w.Config.Raw, &mgr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if b, _ := json.Marshal(mgr["kubeReserved"]); string(b) != `{"cpu":"500m","memory":"2Gi"}` {
		t.Errorf("profile %s kubeReserved %s", managerProfile, b)
	}
	if mgr["maxPods"] != float64(110) {
		t.Errorf("profile %s lost the cluster-wide kubelet settings: %v", managerProfile, mgr)
	}

	for _, dir := range []string{"/etc/k0s", "/opt/k0s-etc"} {
		e := &Env{Cluster: &Shared{Config: &c.cfg, K0sConfig: cluster, Facts: map[string]hosts.Facts{}}, Commands: Commands{K0sDir: dir}}
		files, err := e.k0sNodeFilesFor("10.0.0.1:22")
		if err != nil {
			t.Fatal(err)
		}
		if got := string(files[dir+"/audit-policy.yaml"]); got != "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Request\n" {
			t.Errorf("%s: audit policy %q", dir, got)
		}
		if got := string(files[dir+"/admission-control.yaml"]); !strings.Contains(got, "name: EventRateLimit\n  path: "+dir+"/event-rate-limit.yaml") {
			t.Errorf("%s: admission configuration %q", dir, got)
		}
		if got := string(files[dir+"/event-rate-limit.yaml"]); !strings.Contains(got, "kind: Configuration") || !strings.Contains(got, "type: Namespace") {
			t.Errorf("%s: event rate limit %q", dir, got)
		}
		b, err := e.k0sConfigFor("10.0.0.1:22")
		if err != nil {
			t.Fatal(err)
		}
		kk := requireK0sValid(t, b)
		if kk.Spec.API.ExtraArgs["audit-policy-file"] != dir+"/audit-policy.yaml" || kk.Spec.API.ExtraArgs["admission-control-config-file"] != dir+"/admission-control.yaml" {
			t.Errorf("%s: the configuration names %q and %q", dir, kk.Spec.API.ExtraArgs["audit-policy-file"], kk.Spec.API.ExtraArgs["admission-control-config-file"])
		}
	}

	// mke4.yaml's own policy file and admission configuration: named, not written
	own := c.cfg
	own.Spec.APIServer.Audit.PolicyFile = "/srv/audit.yaml"
	own.Spec.APIServer.ExtraArgs = map[string]string{"admission-control-config-file": "/srv/admission.yaml", "enable-admission-plugins": "NodeRestriction,PodSecurity"}
	b := must(k0sConfig(&own, nil))
	kk := requireK0sValid(t, b)
	if kk.Spec.API.ExtraArgs["enable-admission-plugins"] != "NodeRestriction,PodSecurity,EventRateLimit" {
		t.Errorf("enable-admission-plugins %q: EventRateLimit must be added to mke4.yaml's", kk.Spec.API.ExtraArgs["enable-admission-plugins"])
	}
	e := &Env{Cluster: &Shared{Config: &own, K0sConfig: b, Facts: map[string]hosts.Facts{}}, Commands: Commands{K0sDir: "/etc/k0s"}}
	if files, err := e.k0sNodeFilesFor("h"); err != nil || len(files) != 0 {
		t.Errorf("files written over mke4.yaml's own: %v %v", files, err)
	}

	// the default configuration needs no file
	d := k0sConfigCases()["default"]
	e = &Env{Cluster: &Shared{Config: &d.cfg, K0sConfig: must(k0sConfig(&d.cfg, nil)), Facts: map[string]hosts.Facts{}}, Commands: Commands{K0sDir: "/etc/k0s"}}
	if files, err := e.k0sNodeFilesFor("h"); err != nil || len(files) != 0 {
		t.Errorf("default: files %v %v", files, err)
	}
}

func TestQuotaBytes(t *testing.T) {
	for in, want := range map[string]int64{"2GB": 2 << 30, "8GiB": 8 << 30, "4G": 4 << 30, "512MB": 512 << 20, "2147483648": 2 << 30, " 3 gb ": 3 << 30} {
		if got, err := quotaBytes(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1GB", "2TB", "2.5GB", "99999999999999999999GB", "0"} {
		if _, err := quotaBytes(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// A controller with a privateAddress in mke4.yaml gets it as its API and
// etcd peer address (k0sctl sets both from the host's private address);
// one without gets the cluster's configuration as it is.
func TestK0sConfigForHost(t *testing.T) {
	c := k0sConfigCases()["full-carry"]
	c.cfg.Spec.Hosts = []mke4.Host{{SSH: &mke4.SSH{Address: "10.0.0.1", Port: 22}, PrivateAddress: "172.16.0.1"}, {SSH: &mke4.SSH{Address: "10.0.0.2"}}}
	cluster := must(k0sConfig(&c.cfg, c.carry))
	e := &Env{Cluster: &Shared{Config: &c.cfg, K0sConfig: cluster, Facts: map[string]hosts.Facts{}}}
	b, err := e.k0sConfigFor("10.0.0.1:22")
	if err != nil {
		t.Fatal(err)
	}
	k := requireK0sValid(t, b)
	if k.Spec.API.Address != "172.16.0.1" || k.Spec.Storage.Etcd.PeerAddress != "172.16.0.1" {
		t.Fatalf("api.address %q, peerAddress %q", k.Spec.API.Address, k.Spec.Storage.Etcd.PeerAddress)
	}
	if k.Spec.API.ExtraArgs["etcd-prefix"] != "/ucp/registry" || len(k.Spec.WorkerProfiles) != 4 {
		t.Fatal("the host's configuration lost the cluster's")
	}
	b, err = e.k0sConfigFor("10.0.0.2:22")
	if err != nil || string(b) != string(cluster) {
		t.Fatalf("a host without privateAddress: %v\n%s", err, b)
	}
}

// quotaBytes never panics, and what it accepts is a positive size that
// fits etcd's int64 flag.
func FuzzQuotaBytes(f *testing.F) {
	for _, s := range []string{"2GB", "8GiB", "4G", "512MB", "2147483648", "", "-1GB", "2.5GB", "99999999999999999999GB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := quotaBytes(s)
		if err == nil && n <= 0 {
			t.Fatalf("%q: %d accepted", s, n)
		}
	})
}
