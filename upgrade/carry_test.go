package upgrade

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// inspectJSON is docker inspect's output for MKE 3's three containers,
// shaped as the Docker Engine API's ContainerInspect (only what the
// carry reads, as the fake and a real daemon both print it).
func inspectJSON(t testing.TB, apiArgs, kcmArgs []string) []byte {
	t.Helper()
	type mount struct{ Type, Name, Source, Destination string }
	type c struct {
		Name   string
		Path   string
		Args   []string
		Config struct{ Image string }
		Mounts []mount
	}
	certs := mount{"volume", "ucp-controller-server-certs", "/var/lib/docker/volumes/ucp-controller-server-certs/_data", "/etc/docker/ssl"}
	api := c{Name: "/ucp-kube-apiserver", Path: "kube-apiserver", Args: apiArgs, Mounts: []mount{certs,
		{"bind", "", "/var/lib/docker/volumes/ucp-kube-sa/_data", "/etc/docker/ssl/sa"}}}
	kcm := c{Name: "/ucp-kube-controller-manager", Path: "kube-controller-manager", Args: kcmArgs, Mounts: []mount{certs}}
	kv := c{Name: "/ucp-kv", Path: "etcd"}
	kv.Config.Image = "mirantis/ucp-etcd:3.8.5"
	b, err := json.Marshal([]c{api, kcm, kv})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCarry(t *testing.T) {
	kcm := []string{"--service-account-private-key-file=/etc/docker/ssl/sa.key"}
	for _, tc := range []struct {
		name      string
		api, kcm  []string
		o         CarryOptions
		want      *Carry
		errReason string
	}{
		{name: "defaults, = form", api: []string{"--service-account-key-file=/etc/docker/ssl/sa/sa.pub"}, kcm: kcm,
			want: &Carry{KVImage: "mirantis/ucp-etcd:3.8.5", EtcdPrefix: "/registry", SAPublicKeys: []string{"/var/lib/docker/volumes/ucp-kube-sa/_data/sa.pub"},
				SASigningKey: "/var/lib/docker/volumes/ucp-controller-server-certs/_data/sa.key"}},
		{name: "prefix and issuer, space form, several public keys",
			api: []string{"--etcd-prefix", "/ucp/registry", "--service-account-issuer", "https://ucp.example", "--service-account-issuer=https://second",
				"--service-account-key-file", "/etc/docker/ssl/sa/sa.pub", "--service-account-key-file=/etc/docker/ssl/old.pub"}, kcm: kcm,
			want: &Carry{KVImage: "mirantis/ucp-etcd:3.8.5", EtcdPrefix: "/ucp/registry", Issuer: "https://ucp.example",
				SAPublicKeys: []string{"/var/lib/docker/volumes/ucp-kube-sa/_data/sa.pub", "/var/lib/docker/volumes/ucp-controller-server-certs/_data/old.pub"},
				SASigningKey: "/var/lib/docker/volumes/ucp-controller-server-certs/_data/sa.key"}},
		{name: "overrides", api: []string{"--etcd-prefix=/a", "--service-account-key-file=/etc/docker/ssl/sa.pub"}, kcm: kcm,
			o: CarryOptions{EtcdPrefix: "/b", Issuer: "https://c"},
			want: &Carry{KVImage: "mirantis/ucp-etcd:3.8.5", EtcdPrefix: "/b", Issuer: "https://c", SAPublicKeys: []string{"/var/lib/docker/volumes/ucp-controller-server-certs/_data/sa.pub"},
				SASigningKey: "/var/lib/docker/volumes/ucp-controller-server-certs/_data/sa.key"}},
		{name: "encryption at rest", api: []string{"--encryption-provider-config=/etc/docker/ssl/enc.yaml", "--service-account-key-file=/etc/docker/ssl/sa.pub"}, kcm: kcm,
			errReason: "encrypts resources at rest"},
		{name: "no public key", api: []string{"--etcd-prefix=/registry"}, kcm: kcm, errReason: "service-account keys are not named"},
		{name: "no signing key", api: []string{"--service-account-key-file=/etc/docker/ssl/sa.pub"}, errReason: "service-account keys are not named"},
		{name: "key outside the mounts", api: []string{"--service-account-key-file=/srv/sa.pub"}, kcm: kcm, errReason: "in no mount"},
		// a mount whose destination is a prefix of the path's name is not its folder
		{name: "prefix is not a folder", api: []string{"--service-account-key-file=/etc/docker/ssl2/sa.pub"}, kcm: kcm, errReason: "in no mount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCarry(inspectJSON(t, tc.api, tc.kcm), "10.0.0.1:22", tc.o)
			if tc.errReason != "" {
				var ce *CarryError
				if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tc.errReason) || ce.Remedy == "" || ce.Host != "10.0.0.1:22" {
					t.Fatalf("err = %v, want a CarryError about %q", err, tc.errReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tc.want)
			if string(g) != string(w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
	// a container missing from the output
	var cs []map[string]any
	if err := json.Unmarshal(inspectJSON(t, nil, nil), &cs); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cs[:2])
	var ce *CarryError
	if _, err := parseCarry(b, "h", CarryOptions{}); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "no ucp-kv") {
		t.Fatalf("err = %v", err)
	}
	if _, err := parseCarry([]byte("Error: No such object"), "h", CarryOptions{}); !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseCarry(f *testing.F) {
	f.Add(inspectJSON(f, []string{"--etcd-prefix=/x", "--service-account-key-file=/etc/docker/ssl/sa.pub"}, []string{"--service-account-private-key-file", "/etc/docker/ssl/sa.key"}))
	f.Add([]byte(`[{"Name":"/ucp-kv","Mounts":[{"Source":"","Destination":""}]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCarry(b, "h", CarryOptions{})
		if err == nil && (c.KVImage == "" || c.EtcdPrefix == "" || len(c.SAPublicKeys) == 0 || c.SASigningKey == "") {
			t.Fatalf("accepted an incomplete carry %+v", c)
		}
	})
}

func TestParseSnapshotOutput(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	st, got, err := parseSnapshotOutput(`{"hash":3583398085,"revision":23,"totalKey":12,"totalSize":24576,"version":"3.5.0"}` + "\n" + sum + "  /var/lib/mke-migrate/carry/k0s-carry.tar.gz\n")
	if err != nil || got != sum || st.TotalKey != 12 || st.Revision != 23 {
		t.Fatalf("%+v %q %v", st, got, err)
	}
	for _, bad := range []string{
		"",
		sum + "  /a",
		`{"totalKey":0,"totalSize":20480}` + "\n" + sum + "  /a",
		`{"totalKey":3,"totalSize":20480}` + "\nnot-a-sum  /a",
		"Error: snapshot file has no hash\n" + sum + "  /a",
	} {
		if _, _, err := parseSnapshotOutput(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseSnapshotOutput(f *testing.F) {
	f.Add(`{"hash":1,"revision":2,"totalKey":3,"totalSize":4}` + "\n" + strings.Repeat("0", 64) + "  /a")
	f.Fuzz(func(t *testing.T, s string) {
		st, sum, err := parseSnapshotOutput(s)
		if err == nil && (len(sum) != 64 || st.TotalKey <= 0) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestCarryCommands(t *testing.T) {
	d := Commands{}.withDefaults()
	c := &Carry{KVImage: "mirantis/ucp-etcd:3.8.5", SASigningKey: "/v/certs/sa.key", SAPublicKeys: []string{"/v/sa/sa.pub", "/v/it's.pub"}}
	for _, tc := range []struct{ name, got, want string }{
		{"inspect", d.Inspect, "docker inspect ucp-kube-apiserver ucp-kube-controller-manager ucp-kv"},
		{"snapshot", expandCarry(d.Snapshot, c.KVImage, "/var/lib/mke-migrate/carry/archive"),
			"docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro -v '/var/lib/mke-migrate/carry/archive':/backup --entrypoint etcdctl mirantis/ucp-etcd:3.8.5" +
				" --endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem snapshot save /backup/etcd-snapshot.db"},
		{"snapshot status", expandCarry(d.SnapshotStatus, "img;reboot", "/d"),
			"docker run --rm --log-driver none -v '/d':/backup --entrypoint etcdutl 'img;reboot' snapshot status /backup/etcd-snapshot.db -w json"},
		{"snapshot script", snapshotScript("/var/lib/mke-migrate", c, "SNAP {dir}", "STATUS {image}"),
			"set -e\numask 077\nmkdir -p '/var/lib/mke-migrate'\nchmod 700 '/var/lib/mke-migrate'\nrm -rf '/var/lib/mke-migrate/carry'\n" +
				"mkdir -p '/var/lib/mke-migrate/carry/archive/pki'\nchmod 700 '/var/lib/mke-migrate/carry'\n" +
				"cat > '/var/lib/mke-migrate/carry/archive/k0s.yaml'\n" +
				"cat '/v/certs/sa.key' > '/var/lib/mke-migrate/carry/archive/pki/sa.key'\n" +
				"cat /v/sa/sa.pub '/v/it'\\''s.pub' > '/var/lib/mke-migrate/carry/archive/pki/sa.pub'\n" +
				"SNAP '/var/lib/mke-migrate/carry/archive'\n" +
				"STATUS mirantis/ucp-etcd:3.8.5 > '/var/lib/mke-migrate/carry/status.json'\n" +
				"tar -C '/var/lib/mke-migrate/carry/archive' -czf '/var/lib/mke-migrate/carry/k0s-carry.tar.gz'.part etcd-snapshot.db pki k0s.yaml\n" +
				"mv '/var/lib/mke-migrate/carry/k0s-carry.tar.gz'.part '/var/lib/mke-migrate/carry/k0s-carry.tar.gz'\nrm -rf '/var/lib/mke-migrate/carry/archive'\n" +
				"sha256sum '/var/lib/mke-migrate/carry/k0s-carry.tar.gz' > '/var/lib/mke-migrate/carry/k0s-carry.tar.gz'.sha256\n" +
				"cat '/var/lib/mke-migrate/carry/status.json' '/var/lib/mke-migrate/carry/k0s-carry.tar.gz'.sha256\nrm -f '/var/lib/mke-migrate/carry/status.json'"},
		{"restore", restoreScript("/etc/k0s", "/var/lib/k0s", carryArchive("/s")),
			"set -e\nif " + k0sInstalled + "; then exit 0; fi\n" +
				"sha256sum -c --status '/s/carry/k0s-carry.tar.gz'.sha256 || { echo 'the carry archive is damaged or missing: roll back and run the upgrade again' >&2; exit 1; }\n" +
				"rm -rf '/var/lib/k0s/etcd' '/var/lib/k0s/pki'\nmkdir -p '/etc/k0s'\n" +
				"k0s restore --config-out '/etc/k0s/k0s.yaml' '/s/carry/k0s-carry.tar.gz'"},
		{"unrestore", unrestoreCmd("/etc/k0s", "/var/lib/k0s"),
			"if " + k0sInstalled + "; then exit 0; fi; rm -rf '/var/lib/k0s/etcd' '/var/lib/k0s/pki'; rm -f '/etc/k0s/k0s.yaml'; rmdir '/var/lib/k0s' '/etc/k0s' 2>/dev/null; true"},
		{"carry remove", carryRemoveCmd("/s/"), "rm -rf '/s/carry'; rmdir '/s/' 2>/dev/null; true"},
	} {
		t.Run(tc.name, func(t *testing.T) { assertCmd(t, tc.got, tc.want) })
	}
}

func carryEnv(fc *fakeCluster) *Env {
	e := testEnv(fc)
	e.Cluster.Carry = &Carry{KVImage: "ucp-etcd", EtcdPrefix: "/registry", SASigningKey: "/k/sa.key", SAPublicKeys: []string{"/k/sa.pub"}}
	return e
}

// The snapshot step sends the k0s configuration on stdin, records the
// archive's sum, and its undo removes the carry folder; no command names
// ucp-kv's data volume, let alone writes it.
func TestSnapshotStep(t *testing.T) {
	fc := newFakeCluster(leader)
	e := carryEnv(fc)
	script := shell.Sudo(snapshotScript(e.Commands.StateDir, e.Cluster.Carry, e.Commands.Snapshot, e.Commands.SnapshotStatus))
	sum := strings.Repeat("c", 64)
	fc.nodes[leader].reply[script] = `{"hash":1,"revision":9,"totalKey":40,"totalSize":81920}` + "\n" + sum + "  /var/lib/mke-migrate/carry/k0s-carry.tar.gz"
	s := snapshotStep(e)
	r := run(t, fc, s, nil, do)
	if r.Get("archive-sha256") != sum || r.Get("keys") != "40" || r.Get("revision") != "9" {
		t.Fatalf("recorded %v", r.Data())
	}
	if got := fc.log[0].stdin; got != "apiVersion: k0s\n" {
		t.Fatalf("stdin %q", got)
	}
	for _, c := range fc.log {
		if strings.Contains(c.cmd, "volumes/ucp-kv/") || strings.Contains(c.cmd, "-v ucp-kv:") {
			t.Errorf("a command touches ucp-kv's data: %s", c.cmd)
		}
	}
	requireCmds(t, fc, leader+": "+script)
	run(t, fc, s, r.Data(), undo)
	requireCmds(t, fc, leader+": "+shell.Sudo(carryRemoveCmd("/var/lib/mke-migrate")))

	// an empty snapshot stops the run
	fc.nodes[leader].reply[script] = `{"hash":1,"revision":1,"totalKey":0,"totalSize":20480}` + "\n" + sum + "  /a"
	if err := s.Do(t.Context(), newRun(s, fc)); err == nil || !strings.Contains(err.Error(), "no keys") {
		t.Fatalf("err = %v", err)
	}
}

// The first controller restores the archive before its install and gets
// its k0s.yaml from the restore; the others upload theirs.
func TestCarryPlan(t *testing.T) {
	fc := newFakeCluster(leader, manager, worker)
	e := carryEnv(fc)
	e.Cluster.Facts[leader] = hosts.Facts{Hostname: "m1"}
	p, err := Steps(e, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range p.Steps() {
		ids = append(ids, s.ID())
	}
	want := []string{"save-inputs", "mke3-backup@" + leader, "mke3-stop@" + leader, "mke3-stop@" + manager, "etcd-snapshot@" + leader,
		"k0s-binary@" + leader, "k0s-restore@" + leader, "k0s-controller@" + leader, "carry-cleanup@" + leader,
		"k0s-binary@" + manager, "k0s-controller@" + manager,
		"drain-batch-1", "mke3-stop@" + worker, "k0s-binary@" + worker, "k0s-worker@" + worker, "uncordon-batch-1",
		"mke3-uninstall@" + leader, "mke3-volumes@" + leader, "mke3-volumes@" + manager, "write-outputs"}
	if !slices.Equal(ids, want) {
		t.Fatalf("plan\n got %v\nwant %v", ids, want)
	}
	// the stop stage stops every manager at once: one lane each
	if st := p.Stages[1]; len(st.Lanes) != 2 || st.Phase != PhaseMigrate {
		t.Fatalf("stop stage %+v", st)
	}

	restore, _ := p.Find("k0s-restore@" + leader)
	r := run(t, fc, restore, nil, do)
	run(t, fc, restore, r.Data(), undo)
	first, _ := p.Find("k0s-controller@" + leader)
	run(t, fc, first, nil, do)
	cleanup, _ := p.Find("carry-cleanup@" + leader)
	run(t, fc, cleanup, nil, do)
	other, _ := p.Find("k0s-controller@" + manager)
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("controller", "1h0m0s"))] = "T"
	run(t, fc, other, nil, do)
	installs := func(join bool) string {
		return shell.Sudo(installScript(installArgs("controller", "/etc/k0s", "/etc/k0s/join-token", join, ""), "/etc/k0s", "/etc/k0s/join-token", join, e.Commands.Ready))
	}
	requireCmds(t, fc,
		leader+": "+shell.Sudo(restoreScript("/etc/k0s", "/var/lib/k0s", "/var/lib/mke-migrate/carry/k0s-carry.tar.gz")),
		leader+": "+shell.Sudo(unrestoreCmd("/etc/k0s", "/var/lib/k0s")),
		leader+": "+installs(false),
		leader+": "+shell.Sudo(carryRemoveCmd("/var/lib/mke-migrate")),
		manager+": "+shell.Sudo("mkdir -p '/etc/k0s'"),
		manager+": upload /etc/k0s/k0s.yaml -rw-------",
		leader+": "+shell.Sudo(tokenCreateCmd("controller", "1h0m0s")),
		manager+": "+installs(true),
	)

	// without the carry, the plan is the engine's before it
	e.Cluster.Carry = nil
	p, err = Steps(e, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps() {
		if slices.Contains([]string{"etcd-snapshot", "k0s-restore", "carry-cleanup"}, s.Name) {
			t.Errorf("%s without the carry", s.ID())
		}
	}
}

// newRun is a Run of s on its fake node, with no data.
func newRun(s *plan.Step, fc *fakeCluster) *plan.Run {
	return plan.NewRun(s, fc.nodes[s.Host], nil, nil)
}
