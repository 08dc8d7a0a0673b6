package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

func TestParseRun(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		want  runFlags
		code  int
		cmdOf []string
	}{
		{args: []string{"--rm", "--network", "host", "--log-driver", "none", "-v", "ucp-kv-certs:/etc/docker/ssl:ro", "-v", "/s:/backup",
			"--entrypoint", "etcdctl", "mirantis/ucp-etcd:3.8.8", "snapshot", "save", "/backup/x"},
			want: runFlags{rm: true, network: "host", logDriver: "none", entry: "etcdctl", volumes: []string{"ucp-kv-certs:/etc/docker/ssl:ro", "/s:/backup"},
				image: "mirantis/ucp-etcd:3.8.8"}, cmdOf: []string{"snapshot", "save", "/backup/x"}},
		{args: []string{"--rm", "-i", "--name=ucp", "--log-driver=json-file", "mirantis/ucp:3.8.8", "backup", "--id", "x"},
			want: runFlags{rm: true, interactive: true, name: "ucp", logDriver: "json-file", image: "mirantis/ucp:3.8.8"}, cmdOf: []string{"backup", "--id", "x"}},
		{args: []string{"--rm", "--name"}, code: 125},
		{args: []string{"--rm"}, code: 125},
	} {
		got, err := parseRun(tc.args)
		if code(err) != tc.code {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, code(err), err, tc.code)
			continue
		}
		if err != nil {
			continue
		}
		if got.rm != tc.want.rm || got.interactive != tc.want.interactive || got.name != tc.want.name || got.network != tc.want.network ||
			got.logDriver != tc.want.logDriver || got.entry != tc.want.entry || !slices.Equal(got.volumes, tc.want.volumes) ||
			got.image != tc.want.image || !slices.Equal(got.cmd, tc.cmdOf) {
			t.Errorf("%v: got %+v", tc.args, got)
		}
	}
}

func FuzzParseRun(f *testing.F) {
	f.Add("--rm --network host -v a:/b:ro --entrypoint etcdctl img x y")
	f.Add("--name")
	f.Add("-v=:: img")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		r, err := parseRun(args)
		if err != nil {
			return
		}
		// the image is the first word that is not a flag or a flag's value
		if r.image == "" || strings.HasPrefix(r.image, "-") {
			t.Fatalf("%q: image %q", s, r.image)
		}
		if len(r.raw)+1+len(r.cmd) != len(args) {
			t.Fatalf("%q: %d flag words + image + %d args != %d", s, len(r.raw), len(r.cmd), len(args))
		}
	})
}

func TestRunMounts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FAKENODE_VOLUMES_DIR", filepath.Join(dir, "volumes"))
	n := &fakestate.Node{Volumes: []string{"ucp-kv-certs"}}
	for _, tc := range []struct {
		vol  string
		code int
	}{{"ucp-kv-certs:/etc/docker/ssl:ro", 0}, {dir + "/state:/backup", 0}, {"x", 125}, {"a:b", 125}, {"a:/b:rx", 125}} {
		_, _, err := runMounts(n, []string{tc.vol})
		if code(err) != tc.code {
			t.Errorf("%s: exit %d (%v), want %d", tc.vol, code(err), err, tc.code)
		}
	}
	ms, _, err := runMounts(n, []string{"ucp-kv-certs:/etc/docker/ssl:ro", dir + "/state:/backup"})
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Type != "volume" || ms[0].Source != filepath.Join(dir, "volumes/ucp-kv-certs/_data") || ms[0].RW || ms[1].Type != "bind" || !ms[1].RW {
		t.Errorf("mounts: %+v", ms)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err != nil {
		t.Errorf("-v did not make the host folder: %v", err)
	}
}

func TestVolumeInUse(t *testing.T) {
	e, out, errb := newEnv(t)
	n, err := e.node()
	if err != nil {
		t.Fatal(err)
	}
	n.Volumes = []string{"ucp-controller-server-certs", "free"}
	n.Containers[0].Mounts = []fakestate.Mount{{Type: "volume", Name: "ucp-controller-server-certs", Source: "/x", Destination: "/y"}}
	n.Containers[0].Running = false // stopped containers count too
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		t.Fatal(err)
	}
	err = e.run("docker", []string{"volume", "rm", "--force", "ucp-controller-server-certs", "free"})
	want := "Error response from daemon: remove ucp-controller-server-certs: volume is in use - [" + n.Containers[0].ID + "]"
	if code(err) != 1 || err.Error() != want {
		t.Errorf("volume rm: %v\nwant %s", err, want)
	}
	if out.String() != "free\n" {
		t.Errorf("stdout %q, stderr %q", out, errb)
	}
}

func TestNodeUpdateAndReconcile(t *testing.T) {
	e, out, _ := newEnv(t)
	t.Setenv("FAKENODE_SWARM_DIR", t.TempDir())
	n, err := e.node()
	if err != nil {
		t.Fatal(err)
	}
	n.Role, n.Swarm.ControlAvailable = "manager", true
	n.Nodes = []fakestate.SwarmNode{{ID: "n1", Hostname: "worker-1", Availability: "Active"}}
	n.Real = &fakestate.Real{Services: []fakestate.Service{{Name: "ucp-manager-agent"}}, Reconcile: true}
	n.Containers = append(n.Containers, fakestate.Container{ID: strings.Repeat("ef", 32), Name: "ucp-manager-agent.n1.t1", Running: true,
		Labels: map[string]string{"com.docker.swarm.service.name": "ucp-manager-agent"}})
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		t.Fatal(err)
	}
	ps := func() []string {
		out.Reset()
		if err := e.run("docker", []string{"ps", "--format", "{{.Names}}"}); err != nil {
			t.Fatal(err)
		}
		return strings.Fields(out.String())
	}
	if err := e.run("docker", []string{"stop", "ucp-proxy"}); err != nil {
		t.Fatal(err)
	}
	if got := ps(); !slices.Contains(got, "ucp-proxy") {
		t.Errorf("the agent did not start ucp-proxy again: %v", got)
	}
	if err := e.run("docker", []string{"stop", "ucp-manager-agent.n1.t1"}); err != nil {
		t.Fatal(err)
	}
	got := ps()
	if slices.Contains(got, "ucp-manager-agent.n1.t1") || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "ucp-manager-agent.n1.") }) {
		t.Errorf("Swarm did not replace the task: %v", got)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"node", "update", "--availability", "sideways", "n1"}, 125},
		{[]string{"node", "update", "--availability", "drain", "nope"}, 1},
		{[]string{"node", "update", "--availability", "drain", "worker-1"}, 0},
	} {
		if err := e.run("docker", tc.args); code(err) != tc.code {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, code(err), err, tc.code)
		}
	}
	if got := ps(); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "ucp-manager-agent") }) {
		t.Errorf("a drained node runs its agent: %v", got)
	}
	if err := e.run("docker", []string{"stop", "ucp-proxy"}); err != nil {
		t.Fatal(err)
	}
	if got := ps(); slices.Contains(got, "ucp-proxy") {
		t.Errorf("ucp-proxy started again without an agent: %v", got)
	}
}
