package upgrade

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

const inventoryTOML = "[cluster_config]\ncalico_kdd = true\n"

func inventoryHosts() []hosts.Host {
	return []hosts.Host{
		{Address: "10.0.0.1", Role: hosts.RoleManager},
		{Address: "10.0.0.2", Port: 2222, Role: hosts.RoleManager},
		{Address: "10.0.0.3", Role: hosts.RoleWorker},
		{Address: "10.0.0.4", Role: hosts.RoleWorker},
	}
}

func TestFromInventory(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kc"), ExternalAddress: "mke.example.com", WorkerBatch: 50})
	require(t, err)
	sh, err := u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML),
		Leader: "10.0.0.2:2222", Hostnames: map[string]string{"10.0.0.3:22": "worker-a"}})
	require(t, err)
	if sh.Leader != "10.0.0.2:2222" || !slices.Equal(sh.Managers, []string{"10.0.0.2:2222", "10.0.0.1:22"}) || !slices.Equal(sh.Workers, []string{"10.0.0.3:22", "10.0.0.4:22"}) {
		t.Fatalf("leader %s managers %v workers %v", sh.Leader, sh.Managers, sh.Workers)
	}
	p, err := u.Plan()
	require(t, err)
	var ids []string
	for _, s := range p.Steps() {
		ids = append(ids, s.ID())
	}
	// the Swarm drain of the managers, then the carry: MKE 3's Kubernetes
	// stops on every manager, the snapshot, then the first controller
	// restores it; the workers are drained beside the managers' stages
	want := []string{"save-inputs", "mke3-backup@10.0.0.2:2222",
		"k0s-upload@10.0.0.2:2222", "k0s-upload@10.0.0.1:22", "k0s-upload@10.0.0.3:22", "k0s-upload@10.0.0.4:22", "swarm-drain@10.0.0.2:2222",
		"mke3-stop@10.0.0.2:2222", "mke3-stop@10.0.0.1:22", "etcd-snapshot@10.0.0.2:2222",
		"k0s-binary@10.0.0.2:2222", "k0s-restore@10.0.0.2:2222", "k0s-controller@10.0.0.2:2222", "carry-cleanup@10.0.0.2:2222", "swarm-drain-workers-1@10.0.0.2:2222",
		"k0s-binary@10.0.0.1:22", "k0s-controller@10.0.0.1:22", "swarm-drain-workers-2@10.0.0.2:2222",
		"mke3-stop@10.0.0.3:22", "k0s-binary@10.0.0.3:22", "k0s-worker@10.0.0.3:22",
		"mke3-stop@10.0.0.4:22", "k0s-binary@10.0.0.4:22", "k0s-worker@10.0.0.4:22",
		"mke4-config", "mke3-uninstall@10.0.0.2:2222", "mke3-volumes@10.0.0.2:2222", "mke3-volumes@10.0.0.1:22", "write-outputs", "verify"}
	if !slices.Equal(ids, want) {
		t.Fatalf("plan\n got %v\nwant %v", ids, want)
	}
	for _, st := range p.Stages {
		for _, lane := range st.Lanes {
			for _, s := range lane {
				if s.Phase != st.Phase {
					t.Errorf("%s: phase %q in a stage of phase %q", s.ID(), s.Phase, st.Phase)
				}
			}
		}
	}
	// --worker-batch 50: two stages of one worker each
	var stages []string
	for _, st := range p.Stages {
		if st.Phase == PhaseWorkers {
			stages = append(stages, st.Name)
		}
	}
	if want := []string{"Workers, batch 1 of 2: 1 node(s)", "Workers, batch 2 of 2: 1 node(s)"}; !slices.Equal(stages, want) {
		t.Errorf("worker stages %q, want %q", stages, want)
	}
	if s, ok := p.PointOfNoReturn(); !ok || s.ID() != "mke3-uninstall@10.0.0.2:2222" {
		t.Errorf("point of no return %v", s)
	}
	// planned and printed, never applied (refused before the missing k0s
	// binary is)
	if _, err := u.Apply(t.Context(), p); !errors.Is(err, errInventory) {
		t.Fatalf("Apply of an inventory plan: %v", err)
	}
	if _, err := u.Rollback(t.Context(), p); !errors.Is(err, errInventory) {
		t.Fatalf("Rollback of an inventory plan: %v", err)
	}
}

func TestFromInventoryRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hosts []hosts.Host
		inv   Inventory
		want  string
	}{
		{"no role", []hosts.Host{{Address: "a"}}, Inventory{MKE3TOML: []byte(inventoryTOML)}, `host 1 (a:22): role ""`},
		{"no manager", []hosts.Host{{Address: "a", Role: "worker"}}, Inventory{MKE3TOML: []byte(inventoryTOML)}, `leader "" is not a manager`},
		{"leader a worker", []hosts.Host{{Address: "a", Role: "manager"}, {Address: "b", Role: "worker"}}, Inventory{Leader: "b:22", MKE3TOML: []byte(inventoryTOML)}, `leader "b:22" is not a manager`},
		{"twice", []hosts.Host{{Address: "a", Role: "manager"}, {Address: "a", Port: 22, Role: "worker"}}, Inventory{MKE3TOML: []byte(inventoryTOML)}, "a:22 appears twice"},
		{"bad TOML", []hosts.Host{{Address: "a", Role: "manager"}}, Inventory{MKE3TOML: []byte("[cluster_config\n")}, "inventory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := New(Options{Hosts: tc.hosts, OutputDir: t.TempDir(), KubeconfigPath: "/kc"})
			require(t, err)
			if _, err := u.FromInventory(tc.inv); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := u.Plan(); err == nil {
				t.Fatal("a plan of a refused inventory")
			}
		})
	}
}

// Open reads a run's folder: the plan is the run's, with the options the
// run had, and no MKE 3 source is needed.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: "/kc", ExternalAddress: "mke.example.com"})
	require(t, err)
	_, err = u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML)})
	require(t, err)
	require(t, u.saveDiscovery())
	before, err := u.Plan()
	require(t, err)

	o, err := Open(dir, Options{Hosts: inventoryHosts(), KubeconfigPath: "/kc"})
	require(t, err)
	if o.Options().ExternalAddress != "mke.example.com" || string(o.Options().MKE3ConfigTOML) != inventoryTOML || !o.Options().SkipRBAC {
		t.Fatalf("options %+v", o.Options())
	}
	if o.Cluster().fromInventory {
		t.Fatal("a restored cluster counts as an inventory")
	}
	after, err := o.Plan()
	require(t, err)
	if got, want := printed(t, after), printed(t, before); got != want {
		t.Fatalf("plan after Open\n%s\nwant\n%s", got, want)
	}
	if _, err := Open(t.TempDir(), Options{Hosts: inventoryHosts()}); err == nil || !strings.Contains(err.Error(), "output folder of an upgrade") {
		t.Fatalf("Open of an empty folder: %v", err)
	}
}

func printed(t *testing.T, p *plan.Plan) string {
	var b strings.Builder
	require(t, p.Print(&b))
	return b.String()
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// F12: another cluster's hosts.yaml is refused before resume or rollback,
// naming the hosts that differ. Before the fix Open accepted it, and the
// rollback reported success with nothing undone.
func TestOpenRefusesOtherHosts(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: "/kc", ExternalAddress: "mke.example.com"})
	require(t, err)
	_, err = u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML)})
	require(t, err)
	require(t, u.saveDiscovery())

	other := inventoryHosts()
	other[2].Address = "10.9.9.3"
	other = other[:3]
	_, err = Open(dir, Options{Hosts: other, KubeconfigPath: "/kc"})
	var me *HostsMismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Open with another cluster's hosts: %v", err)
	}
	if !slices.Equal(me.Missing, []string{"10.0.0.3:22", "10.0.0.4:22"}) || !slices.Equal(me.Extra, []string{"10.9.9.3:22"}) {
		t.Fatalf("missing %v, extra %v", me.Missing, me.Extra)
	}
	for _, want := range []string{"10.0.0.4:22", "10.9.9.3:22", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%q does not name %s", err, want)
		}
	}
	// the same hosts in another order are the same cluster
	same := inventoryHosts()
	slices.Reverse(same)
	_, err = Open(dir, Options{Hosts: same, KubeconfigPath: "/kc"})
	require(t, err)
}

// F3: a resume that has still to take the backup of a run that encrypts
// it refuses to go on without the passphrase, before it reaches a host,
// rather than take the archive in plain text.
func TestResumeNeedsThePassphrase(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: "/kc", ExternalAddress: "mke.example.com"})
	require(t, err)
	sh, err := u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML)})
	require(t, err)
	sh.BackupEncrypted = true
	require(t, u.saveDiscovery())
	j, err := journal.Create(dir, "20260101T000000Z-000000000000", journal.Options{})
	require(t, err)
	require(t, j.Close())

	o, err := Open(dir, Options{Hosts: inventoryHosts(), KubeconfigPath: "/kc", K0sBinary: []byte("k0s")})
	require(t, err)
	p, err := o.Plan()
	require(t, err)
	_, err = o.Resume(t.Context(), p)
	if err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("resume without the passphrase: %v", err)
	}
	if n := o.clients.commands(); len(n) != 0 {
		t.Fatalf("reached hosts: %v", n)
	}
}
