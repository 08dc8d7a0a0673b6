package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// newEnv seeds a worker node in a temporary state folder.
func newEnv(t *testing.T) (*env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{dir: t.TempDir(), stdout: &out, stderr: &errb, stdin: strings.NewReader(""), asRoot: true, fsRoot: t.TempDir()}
	n := fakestate.Node{Hostname: "worker-1", Role: "worker", MCRVersion: "25.0.8",
		Swarm:      fakestate.Swarm{NodeID: "n1", LocalNodeState: "active", ClusterID: "c1"},
		Containers: []fakestate.Container{{ID: strings.Repeat("ab", 32), Name: "ucp-proxy", Image: "mirantis/ucp-proxy:3.8.8", Running: true}}}
	if err := fakestate.WriteJSON(filepath.Join(e.dir, fakestate.NodeFile), n); err != nil {
		t.Fatal(err)
	}
	if err := fakestate.WriteJSON(filepath.Join(e.dir, fakestate.UnitsFile), fakestate.Units{"docker.service": {Active: true, Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	return e, &out, &errb
}

func code(err error) int {
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestCommands(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		code int
		out  string
		err  string
	}{
		{[]string{"docker", "version", "--format", "{{.Server.Version}}"}, 0, "25.0.8\n", ""},
		{[]string{"docker", "info", "--format", "{{.Swarm.NodeID}}"}, 0, "n1\n", ""},
		{[]string{"docker", "info", "--format", "{{.Swarm.Cluster.ID}}"}, 1, "", "nil pointer"},
		{[]string{"docker", "inspect", "--format", "{{.Config.Image}}", "ucp-proxy"}, 0, "mirantis/ucp-proxy:3.8.8\n", ""},
		{[]string{"docker", "inspect", "-f", "{{.Config.Image}}", "nope"}, 1, "", "Error: No such object: nope"},
		{[]string{"docker", "ps", "--format", "{{.Names}}", "--filter", "name=proxy"}, 0, "ucp-proxy\n", ""},
		{[]string{"docker", "node", "ls"}, 1, "", "This node is not a swarm manager."},
		{[]string{"docker", "service", "ls"}, 1, "", "fakenode: unsupported docker command: docker service ls"},
		{[]string{"systemctl", "is-active", "docker"}, 0, "active\n", ""},
		{[]string{"systemctl", "is-active", "k0sworker"}, 3, "inactive\n", ""},
		{[]string{"systemctl", "is-enabled", "k0sworker"}, 1, "", "No such file or directory"},
		{[]string{"systemctl", "status", "k0sworker"}, 4, "", "could not be found"},
		{[]string{"k0s", "version"}, 0, k0sVersion + "\n", ""},
		{[]string{"k0s", "status"}, 1, "", "status.sock"},
		{[]string{"docker", "rm", "-f", "nope"}, 0, "", ""},
		{[]string{"docker", "rm", "nope"}, 1, "", "No such container: nope"},
		{[]string{"docker", "rm", "ucp-proxy"}, 1, "", "container is running"},
		{[]string{"docker", "rm", "-f", "ucp-proxy"}, 0, "ucp-proxy\n", ""},
		{[]string{"docker", "volume", "rm", "v"}, 1, "", "no such volume"},
		{[]string{"docker", "volume", "rm", "--force", "v"}, 0, "", ""},
		{[]string{"docker", "swarm", "leave"}, 0, "Node left the swarm.\n", ""},
		{[]string{"docker", "ps", "-q"}, 0, strings.Repeat("ab", 6) + "\n", ""},
		{[]string{"docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"}, 0, "", ""},
		{[]string{"docker", "run", "--rm", "alpine", "true"}, 1, "", "unsupported docker command"},
		{[]string{"systemctl", "daemon-reload"}, 0, "", ""},
		{[]string{"systemctl", "disable", "docker"}, 0, "", ""},
		{[]string{"systemctl", "enable", "k0sworker"}, 1, "", "Unit file k0sworker.service does not exist."},
		{[]string{"systemctl", "list-unit-files", "docker.service"}, 0, "UNIT FILE               STATE   PRESET\ndocker.service          enabled enabled\n\n1 unit files listed.\n", ""},
		// k0s v1.33 cmd/token/create.go asks the status socket first
		{[]string{"k0s", "token", "create", "--role=worker"}, 1, "", "Error: failed to get k0s status: status: can't get \"status\" via \"/run/k0s/status.sock\""},
		{[]string{"k0s", "frob"}, 1, "", "Error: unknown command \"frob\" for \"k0s\""},
		{[]string{"k0s", "airgap", "list-images"}, 1, "", "fakenode: unsupported k0s command"},
		{[]string{"systemctl", "frob"}, 1, "", "fakenode: unsupported systemctl command"},
	} {
		e, out, _ := newEnv(t)
		err := e.run(tc.argv[0], tc.argv[1:])
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if code(err) != tc.code || out.String() != tc.out || !strings.Contains(msg, tc.err) {
			t.Errorf("%v: code %d, stdout %q, err %q; want %d, %q, %q", tc.argv, code(err), out, msg, tc.code, tc.out, tc.err)
		}
	}
}

func TestFaultTimesAndDigest(t *testing.T) {
	e, _, _ := newEnv(t)
	d0, err := digest(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.stdin = strings.NewReader(`{"match":"docker swarm","exitCode":7,"stderr":"no","times":1}`)
	if err := e.run("fakenode", []string{"faults-add"}); err != nil {
		t.Fatal(err)
	}
	if err := e.run("docker", []string{"swarm", "leave"}); code(err) != 7 || err.Error() != "no" {
		t.Fatalf("fault: %v", err)
	}
	if d, _ := digest(e.dir); d != d0 {
		t.Error("faults and calls changed the digest")
	}
	if err := e.run("docker", []string{"swarm", "leave"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := digest(e.dir); d == d0 {
		t.Error("swarm leave did not change the digest")
	}
}

// The light program leaves to the full one every k0s command and every
// systemctl command on a k0s unit (which starts or stops k0s's daemon),
// and nothing else: docker, systemctl on other units and the helpers run
// light.
func TestNeedsFull(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want bool
	}{
		{"k0s", []string{"status"}, true},
		{"k0s", []string{"kubectl", "get", "node"}, true},
		{"k0s", nil, true},
		{"systemctl", []string{"start", "k0sworker"}, true},
		{"systemctl", []string{"stop", "k0scontroller.service"}, true},
		{"systemctl", []string{"is-enabled", "docker", "k0sworker.service"}, true},
		{"systemctl", []string{"is-active", "docker"}, false},
		{"systemctl", []string{"daemon-reload"}, false},
		{"docker", []string{"ps", "--filter", "name=k0s"}, false},
		{"fakenode", []string{"digest"}, false},
		{"sha256sum", []string{"/usr/local/bin/k0s"}, false},
	} {
		if got := needsFull(c.name, c.args); got != c.want {
			t.Errorf("needsFull(%s %v) = %v, want %v", c.name, c.args, got, c.want)
		}
	}
}
