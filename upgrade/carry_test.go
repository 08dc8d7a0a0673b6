package upgrade

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
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
				"if grep -q 'PRIVATE KEY' '/var/lib/mke-migrate/carry/archive/pki/sa.pub'; then echo 'ucp-kube-apiserver'\\''s --service-account-key-file holds a private key: k0s keeps sa.pub readable by all (0644); give the public keys'\\'' files in Options.Carry.SAPublicKeys' >&2; exit 1; fi\n" +
				"chmod 751 '/var/lib/mke-migrate/carry/archive/pki'\nchmod 640 '/var/lib/mke-migrate/carry/archive/pki/sa.key'\nchmod 644 '/var/lib/mke-migrate/carry/archive/pki/sa.pub'\n" +
				"SNAP '/var/lib/mke-migrate/carry/archive' >&2\n" +
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
		{"carry remove", carryRemoveCmd("/s/"), "rm -rf '/s/carry' || { echo 'the carry folder /s/carry (MKE 3'\\''s service-account keys and etcd data) could not be removed: remove it by hand' >&2; exit 1; }; rmdir '/s/' 2>/dev/null; true"},
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
	want := []string{"save-inputs", "mke3-backup@" + leader, "k0s-upload@" + leader, "k0s-upload@" + manager, "k0s-upload@" + worker, "swarm-drain@" + leader, "mke3-stop@" + leader, "mke3-stop@" + manager, "etcd-snapshot@" + leader,
		"k0s-binary@" + leader, "k0s-restore@" + leader, "k0s-controller@" + leader, "carry-cleanup@" + leader,
		"k0s-binary@" + manager, "k0s-controller@" + manager, "swarm-drain-workers-2@" + leader,
		"mke3-stop@" + worker, "k0s-binary@" + worker, "k0s-worker@" + worker,
		"mke3-uninstall@" + leader, "mke3-volumes@" + leader, "mke3-volumes@" + manager, "write-outputs"}
	if !slices.Equal(ids, want) {
		t.Fatalf("plan\n got %v\nwant %v", ids, want)
	}
	// the stop stage stops every manager at once: one lane each
	if st := p.Stages[3]; len(st.Lanes) != 2 || st.Phase != PhaseMigrate {
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
	// each controller runs a kubelet (--enable-worker) and waits for its Node
	installs := func(join bool) string {
		name := e.hostname(map[bool]string{false: leader, true: manager}[join])
		wait := nodeReadyScript(e.expand(e.Commands.NodeReady, nodeNames([]string{name})), name, e.Commands.NodeReadyTimeout)
		return shell.Sudo(installScript(installArgs("controller", "/etc/k0s", "/etc/k0s/join-token", join, ""), "/etc/k0s", "/etc/k0s/join-token", join, e.Commands.Ready, "", wait))
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

// The snapshot script, run by a real shell with stand-ins for the two
// docker commands, makes an archive that k0s restore can read: k0s's
// archive.Extract (internal/pkg/archive at v1.33.9+k0s.0) makes a
// directory entry with os.Mkdir and writes a file without making its
// parents, refuses names outside its folder, and its backup manager then
// reads k0s.yaml, etcd-snapshot.db and pki/ at the top.
func TestSnapshotScriptMakesAK0sArchive(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar")
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(keys, "sa.key"), "-----BEGIN RSA PRIVATE KEY-----\nk\n-----END RSA PRIVATE KEY-----\n")
	write(filepath.Join(keys, "a.pub"), "-----BEGIN PUBLIC KEY-----\na\n-----END PUBLIC KEY-----\n")
	write(filepath.Join(keys, "b.pub"), "-----BEGIN CERTIFICATE-----\nb\n-----END CERTIFICATE-----\n")
	c := &Carry{KVImage: "img", SASigningKey: filepath.Join(keys, "sa.key"), SAPublicKeys: []string{filepath.Join(keys, "a.pub"), filepath.Join(keys, "b.pub")}}
	state := filepath.Join(dir, "state")
	script := snapshotScript(state, c, "printf snapshot > {dir}/etcd-snapshot.db; echo Snapshot saved at {dir}", `echo '{"hash":1,"revision":2,"totalKey":3,"totalSize":8}'`)
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = strings.NewReader("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n")
	out, err := cmd.Output() // stdout only, as a remote command's output
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	st, sum, err := parseSnapshotOutput(string(out))
	if err != nil || st.TotalKey != 3 {
		t.Fatalf("%v %+v", err, st)
	}
	archive := carryArchive(state)
	fi, err := os.Stat(archive)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive %v %v", fi, err)
	}
	if fi, err := os.Stat(carryDir(state)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("carry folder %v %v", fi, err)
	}
	entries := readK0sArchive(t, archive, sum)
	want := map[string]string{
		"etcd-snapshot.db": "-rw------- snapshot",
		"pki":              "drwxr-x--x ",
		"pki/sa.key":       "-rw-r----- -----BEGIN RSA PRIVATE KEY-----\nk\n-----END RSA PRIVATE KEY-----\n",
		"pki/sa.pub":       "-rw-r--r-- -----BEGIN PUBLIC KEY-----\na\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nb\n-----END CERTIFICATE-----\n",
		"k0s.yaml":         "-rw------- apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n",
	}
	if len(entries) != len(want) {
		t.Fatalf("entries %v", entries)
	}
	for k, v := range want {
		if entries[k] != v {
			t.Errorf("%s: %q, want %q", k, entries[k], v)
		}
	}
	// only the archive and its sum stay
	left, _ := os.ReadDir(carryDir(state))
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"k0s-carry.tar.gz", "k0s-carry.tar.gz.sha256"}) {
		t.Errorf("left in the carry folder: %v", names)
	}
	// the restore's check of the archive passes, and fails once it changed
	check := exec.Command("sh", "-c", "sha256sum -c --status "+shell.Quote(archive)+".sha256")
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	write(archive, "changed")
	if err := exec.Command("sh", "-c", "sha256sum -c --status "+shell.Quote(archive)+".sha256").Run(); err == nil {
		t.Fatal("a changed archive passes the check")
	}

	// a private key named as a public one is refused
	write(filepath.Join(keys, "a.pub"), "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n")
	cmd = exec.Command("sh", "-c", script)
	cmd.Stdin = strings.NewReader("k0s")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "holds a private key") {
		t.Fatalf("%v %s", err, out)
	}
}

// readK0sArchive reads a gzipped tar as k0s restore extracts it, into
// "mode content" by name; sum is the archive's SHA-256.
func readK0sArchive(t *testing.T, p, sum string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		t.Fatalf("archive sum %x, printed %s", got, sum)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	dirs := map[string]bool{".": true}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if name == "." || name == "" || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
			t.Fatalf("k0s refuses the entry %q", h.Name)
		}
		if !dirs[path.Dir(name)] {
			t.Fatalf("%s comes before its folder: k0s does not make parents", name)
		}
		data, _ := io.ReadAll(tr)
		switch h.Typeflag {
		case tar.TypeDir:
			dirs[name] = true
		case tar.TypeReg:
		default:
			t.Fatalf("%s: type %c, which k0s skips", name, h.Typeflag)
		}
		out[name] = h.FileInfo().Mode().String() + " " + string(data)
	}
	return out
}
