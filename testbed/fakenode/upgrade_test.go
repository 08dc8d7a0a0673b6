package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// asManager turns newEnv's worker into the manager of cluster c1 with a
// running ucp-kv.
func asManager(t *testing.T, e *env) {
	t.Helper()
	n, err := e.node()
	if err != nil {
		t.Fatal(err)
	}
	n.Role, n.Swarm.ControlAvailable = "manager", true
	n.Volumes = []string{"ucp-kv", "ucp-node-certs"}
	n.Containers = append(n.Containers, fakestate.Container{ID: strings.Repeat("cd", 32), Name: "ucp-kv", Image: "mirantis/ucp-etcd:3.8.8", Running: true})
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		t.Fatal(err)
	}
}

// runAll runs argvs in order and returns the last one's result.
func runAll(t *testing.T, e *env, out, errb *bytes.Buffer, argvs [][]string) error {
	t.Helper()
	var err error
	for i, argv := range argvs {
		out.Reset()
		errb.Reset()
		err = e.run(argv[0], argv[1:])
		if i < len(argvs)-1 && err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
	}
	return err
}

func TestStopStart(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })
	for _, tc := range []struct {
		name    string
		argvs   [][]string
		advance time.Duration // before the last command
		code    int
		out     string
		errText string
		same    bool // digest as before the commands
	}{
		{"stop", [][]string{{"docker", "stop", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", false},
		{"stop with timeout", [][]string{{"docker", "container", "stop", "-t", "30", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", false},
		{"stop twice", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "stop", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", false},
		{"start running", [][]string{{"docker", "start", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", true},
		{"stop start", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "container", "start", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", true},
		{"restart", [][]string{{"docker", "restart", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", true},
		{"stop unknown", [][]string{{"docker", "stop", "nope"}}, 0, 1, "", "Error response from daemon: No such container: nope", true},
		{"stop some unknown", [][]string{{"docker", "stop", "nope", "ucp-proxy"}}, 0, 1, "ucp-proxy\n", "Error response from daemon: No such container: nope", false},
		{"start unknown", [][]string{{"docker", "start", "nope"}}, 0, 1, "", "Error: failed to start containers: nope", true},
		{"stop no args", [][]string{{"docker", "stop"}}, 0, 1, "", `"docker stop" requires at least 1 argument.`, true},
		{"ps hides stopped", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "ps", "--format", "{{.Names}}"}}, 0, 0, "", "", false},
		{"ps -a status", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}"}}, 3 * time.Second, 0, "ucp-proxy exited Exited (0) 3 seconds ago\n", "", false},
		{"status filter implies -a", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "ps", "--filter", "status=exited", "--format", "{{.Names}}"}}, 0, 0, "ucp-proxy\n", "", false},
		{"status filter running", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "ps", "-a", "--filter", "status=running", "--format", "{{.Names}}"}}, 0, 0, "", "", false},
		{"status filters or", [][]string{{"docker", "ps", "-f", "status=exited", "-f", "status=running", "--format", "{{.Names}}"}}, 0, 0, "ucp-proxy\n", "", true},
		{"bad status filter", [][]string{{"docker", "ps", "-f", "status=up"}}, 0, 1, "", "invalid filter 'status=up'", true},
		{"up since start", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "start", "ucp-proxy"}, {"docker", "ps", "--format", "{{.Status}}"}}, 3 * time.Hour, 0, "Up 3 hours\n", "", true},
		{"seeded status", [][]string{{"docker", "ps"}}, 0, 0, "CONTAINER ID   IMAGE                      COMMAND   CREATED        STATUS       PORTS     NAMES\nababababab" + "ab   mirantis/ucp-proxy:3.8.8   \"\"        2 months ago   Up 2 weeks             ucp-proxy\n", "", true},
		{"rm after stop", [][]string{{"docker", "stop", "ucp-proxy"}, {"docker", "rm", "ucp-proxy"}}, 0, 0, "ucp-proxy\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock = t0
			e, out, errb := newEnv(t)
			d0, err := digest(e.dir)
			if err != nil {
				t.Fatal(err)
			}
			last := len(tc.argvs) - 1
			if last > 0 {
				if err := runAll(t, e, out, errb, tc.argvs[:last]); err != nil {
					t.Fatal(err)
				}
			}
			clock = clock.Add(tc.advance)
			out.Reset()
			err = e.run(tc.argvs[last][0], tc.argvs[last][1:])
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if code(err) != tc.code || out.String() != tc.out || !strings.Contains(msg, tc.errText) {
				t.Errorf("code %d, stdout %q, err %q; want %d, %q, %q", code(err), out, msg, tc.code, tc.out, tc.errText)
			}
			d1, err := digest(e.dir)
			if err != nil {
				t.Fatal(err)
			}
			if (d1 == d0) != tc.same {
				t.Errorf("digest unchanged: %t, want %t", d1 == d0, tc.same)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "Less than a second"},
		{time.Second, "1 second"},
		{59 * time.Second, "59 seconds"},
		{90 * time.Second, "About a minute"},
		{59 * time.Minute, "59 minutes"},
		{80 * time.Minute, "About an hour"},
		{3 * time.Hour, "3 hours"},
		{47 * time.Hour, "47 hours"},
		{72 * time.Hour, "3 days"},
		{15 * 24 * time.Hour, "2 weeks"},
		{90 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestBackup(t *testing.T) {
	host := t.TempDir()
	run := func(extra ...string) []string {
		return append([]string{"docker", "run", "--rm", "-i", "--name", "ucp", "--log-driver", "none",
			"-v", "/var/run/docker.sock:/var/run/docker.sock", "mirantis/ucp:3.8.8", "backup"}, extra...)
	}
	for _, tc := range []struct {
		name    string
		worker  bool
		prep    [][]string
		argv    []string
		code    int
		tar     bool // stdout is the archive
		stderr  string
		hostOut string // file expected on the host
	}{
		{"no passphrase", false, nil, run("--id", "c1", "--no-passphrase"), 0, true, `level=info msg="Backup completed successfully"`, ""},
		{"passphrase", false, nil, run("--id", "c1", "--passphrase", "secret12chars"), 0, true, "Your MKE version is 3.8.8", ""},
		{"wrong id", false, nil, run("--id", "c2", "--no-passphrase"), 1, false, "level=fatal", ""},
		{"neither passphrase flag", false, nil, run("--id", "c1"), 1, false, "use --passphrase, or --no-passphrase", ""},
		{"both passphrase flags", false, nil, run("--id", "c1", "--no-passphrase", "--passphrase", "secret12chars"), 1, false, "mutually exclusive", ""},
		{"short passphrase", false, nil, run("--id", "c1", "--passphrase", "short"), 1, false, "at least 12 characters", ""},
		{"unknown flag", false, nil, run("--id", "c1", "--no-passphrase", "--encrypt"), 1, false, "flag provided but not defined: --encrypt", ""},
		{"no id", false, nil, run("--no-passphrase"), 1, false, "level=fatal", ""},
		{"worker", true, nil, run("--id", "c1", "--no-passphrase"), 1, false, `level=fatal msg="this command must be run on a manager node"`, ""},
		{"ucp-kv stopped", false, [][]string{{"docker", "stop", "ucp-kv"}}, run("--id", "c1", "--no-passphrase"), 1, false, "ucp-kv", ""},
		{"file through a bind mount", false, nil, []string{"docker", "container", "run", "--rm", "--log-driver", "none", "--name", "ucp",
			"--volume", "/var/run/docker.sock:/var/run/docker.sock", "--volume", host + ":/backup", "mirantis/ucp:3.8.8", "backup",
			"--id", "c1", "--file", "mybackup.tar", "--passphrase", "secret12chars", "--include-logs=false"}, 0, false, "Backup completed successfully", filepath.Join(host, "mybackup.tar")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := newEnv(t)
			if !tc.worker {
				asManager(t, e)
			}
			if len(tc.prep) > 0 {
				if err := runAll(t, e, out, errb, tc.prep); err != nil {
					t.Fatal(err)
				}
			}
			d0, _ := digest(e.dir)
			out.Reset()
			errb.Reset()
			err := e.run(tc.argv[0], tc.argv[1:])
			if code(err) != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("code %d (%v), stderr %q; want %d, %q", code(err), err, errb, tc.code, tc.stderr)
			}
			if d, _ := digest(e.dir); d != d0 {
				t.Error("backup changed the digest")
			}
			archive := out.Bytes()
			if tc.hostOut != "" {
				if out.Len() != 0 {
					t.Errorf("stdout with --file: %d bytes", out.Len())
				}
				archive, err = os.ReadFile(tc.hostOut)
				if err != nil {
					t.Fatal(err)
				}
			} else if !tc.tar {
				if out.Len() != 0 {
					t.Errorf("stdout %q", out)
				}
				return
			}
			names := map[string]bool{}
			tr := tar.NewReader(bytes.NewReader(archive))
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names[h.Name] = true
			}
			if !names["backup.json"] || !names["ucp-kv/snapshot.db"] || !names["ucp-node-certs/"] {
				t.Errorf("archive entries %v", names)
			}
		})
	}
	// the same state gives the same archive
	e, out, _ := newEnv(t)
	asManager(t, e)
	var got [2]string
	for i := range got {
		out.Reset()
		if err := e.run("docker", run("--id", "c1", "--no-passphrase")[1:]); err != nil {
			t.Fatal(err)
		}
		got[i] = out.String()
	}
	if got[0] != got[1] {
		t.Error("two backups of one state differ")
	}
}

func TestK0sUpgradeCommands(t *testing.T) {
	// the fake runs in this process: the caller's kubeconfig is not the node's
	t.Setenv("KUBECONFIG", "")
	install := [][]string{{"k0s", "install", "controller", "--enable-worker"}, {"k0s", "start"}}
	// a controller knows its own Node only: no other host joins it
	self := hostname(t)
	for _, tc := range []struct {
		name   string
		prep   [][]string
		argv   []string
		code   int
		out    string
		errOut string // in the error or on stderr
	}{
		{"admin kubeconfig", install, []string{"k0s", "kubeconfig", "admin"}, 0, "server: https://10.0.0.5:6443", ""},
		{"admin kubeconfig after stop", append(install, []string{"k0s", "stop"}), []string{"k0s", "kubeconfig", "admin"}, 0, "current-context: Default", ""},
		{"admin kubeconfig before start", install[:1], []string{"k0s", "kubeconfig", "admin"}, 1, "", "check if the control plane is initialized on this node"},
		{"admin kubeconfig without k0s", nil, []string{"k0s", "kubeconfig", "admin"}, 1, "", `admin config "/var/lib/k0s/pki/admin.conf" not found`},
		{"cordon", install, []string{"k0s", "kubectl", "cordon", self}, 0, "node/" + self + " cordoned\n", ""},
		{"cordon twice", append(install, []string{"k0s", "kubectl", "cordon", self}), []string{"k0s", "kubectl", "cordon", self}, 0, "node/" + self + " already cordoned\n", ""},
		{"uncordon", append(install, []string{"k0s", "kubectl", "cordon", self}), []string{"k0s", "kubectl", "uncordon", self}, 0, "node/" + self + " uncordoned\n", ""},
		{"uncordon not cordoned", install, []string{"k0s", "kubectl", "uncordon", self}, 0, "node/" + self + " already uncordoned\n", ""},
		{"cordon bad name", install, []string{"k0s", "kubectl", "cordon", "Worker_1"}, 1, "", `Error from server (NotFound): nodes "Worker_1" not found`},
		{"cordon no name", install, []string{"k0s", "kubectl", "cordon"}, 1, "", "error: USAGE: cordon NODE [flags]"},
		{"drain", install, []string{"k0s", "kubectl", "drain", self, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=5m"}, 0, "node/" + self + " cordoned\nnode/" + self + " drained\n", "Warning: ignoring DaemonSet-managed Pods: kube-system/konnectivity-agent-"},
		{"drain without ignoring daemonsets", install, []string{"k0s", "kubectl", "drain", self}, 1, "node/" + self + " cordoned\n", "There are pending nodes to be drained:\n " + self + "\n"},
		{"drain cordoned", append(install, []string{"k0s", "kubectl", "cordon", self}), []string{"k0s", "kubectl", "drain", "--ignore-daemonsets", "--timeout", "60s", self}, 0, "node/" + self + " already cordoned\nnode/" + self + " drained\n", ""},
		{"get nodes -o name", append(install, []string{"k0s", "kubectl", "cordon", self}), []string{"k0s", "kubectl", "get", "nodes", "-o", "name"}, 0, "node/" + self + "\n", ""},
		{"get cordoned node", append(install, []string{"k0s", "kubectl", "cordon", self}), []string{"k0s", "kubectl", "get", "node", self}, 0, "Ready,SchedulingDisabled   control-plane", ""},
		{"kubectl stopped", append(install, []string{"k0s", "stop"}), []string{"k0s", "kubectl", "cordon", "worker-1"}, 1, "", "The connection to the server localhost:6443 was refused"},
		{"kubectl on a worker", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "drain", "worker-1"}, 1, "", "The connection to the server localhost:6443 was refused"},
		// F1: real kubectl answers NotFound for a node that has not joined
		{"drain a node that did not join", install, []string{"k0s", "kubectl", "drain", "worker-1", "--ignore-daemonsets"}, 1, "", `Error from server (NotFound): nodes "worker-1" not found`},
		{"cordon on a controller without workloads", [][]string{{"k0s", "install", "controller"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "cordon", self}, 1, "", "not found"},
		// a worker reads its own Node with its kubelet kubeconfig (k0sctl pkg/node/statusfunc.go)
		{"worker reads its Node", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", self, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`}, 0, "True", ""},
		{"worker reads another Node", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--kubeconfig=/var/lib/k0s/kubelet.conf", "get", "node", "worker-9", "-o", "json"}, 1, "", "Forbidden"},
		// k0s kubectl takes --data-dir (k0s pkg/config GetKubeCtlFlagSet),
		// as a flag with a value in either form
		{"worker reads its Node, --data-dir DIR", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--data-dir", "/srv/k0s", "--kubeconfig", "/srv/k0s/kubelet.conf", "get", "node", self, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`}, 0, "True", ""},
		{"worker reads its Node, --data-dir=DIR", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--data-dir=/srv/k0s/", "--kubeconfig", "/srv/k0s/kubelet.conf", "get", "node", self, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`}, 0, "True", ""},
		{"worker's kubelet.conf outside --data-dir", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--data-dir", "/srv/k0s", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", self}, 1, "", "no such file or directory"},
		// a plain controller runs no kubelet: its kubelet.conf is no file,
		// never the admin's
		{"controller without workloads reads a kubelet.conf", [][]string{{"k0s", "install", "controller"}, {"k0s", "start"}}, []string{"k0s", "kubectl", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", self, "-o", "json"}, 1, "", "no such file or directory"},
		{"stopped worker reads its Node", [][]string{{"k0s", "install", "worker"}}, []string{"k0s", "kubectl", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", self, "-o", "json"}, 1, "", "refused"},
		// k0s runs a controller+worker's kubelet inside the controller
		// (cmd/controller/controller.go startWorker), with its own
		// kubelet.conf; a plain controller runs none
		{"controller+worker reads its Node", install, []string{"k0s", "kubectl", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", self, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`}, 0, "True", ""},
		{"controller+worker reads another Node", install, []string{"k0s", "kubectl", "--kubeconfig", "/var/lib/k0s/kubelet.conf", "get", "node", "worker-9", "-o", "json"}, 1, "", "Forbidden"},
		{"install with missing config", nil, []string{"k0s", "install", "controller", "-c", "/nonexistent/k0s.yaml"}, 1, "", "no such file or directory"},
		{"version", nil, []string{"k0s", "version"}, 0, k0sVersion + "\n", ""},
		// k0s v1.31.2 cmd/token: create parses --expiry with
		// time.ParseDuration; invalidate needs at least one ID and
		// ignores unknown ones; all need the controller's API
		{"token create bad expiry", install, []string{"k0s", "token", "create", "--role", "worker", "--expiry", "2 hours"}, 1, "", `time: unknown unit " hours"`},
		{"token create unknown flag", install, []string{"k0s", "token", "create", "--ttl", "1h"}, 1, "", "unknown flag: --ttl"},
		{"token create stopped", append(install, []string{"k0s", "stop"}), []string{"k0s", "token", "create", "--role", "worker", "--expiry", "1h"}, 1, "", "Error: failed to get k0s status: "},
		// cobra.MinimumNArgs(1)
		{"token invalidate without id", install, []string{"k0s", "token", "invalidate"}, 1, "", "Error: requires at least 1 arg(s), only received 0"},
		{"token invalidate unknown id", install, []string{"k0s", "token", "invalidate", "abcdef"}, 0, "token abcdef deleted successfully\n", ""},
		{"token invalidate on a worker", [][]string{{"k0s", "install", "worker"}, {"k0s", "start"}}, []string{"k0s", "token", "invalidate", "abcdef"}, 1, "", "connection refused"},
		{"token list none", install, []string{"k0s", "token", "list"}, 0, "No k0s join tokens found\n", ""},
		{"token list", append(install, []string{"k0s", "token", "create", "--role", "controller", "--expiry", "30m"}), []string{"k0s", "token", "list", "--role", "controller"}, 0, "\tcontroller\t", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := newEnv(t)
			n, _ := e.node()
			n.Address = "10.0.0.5"
			if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
				t.Fatal(err)
			}
			if len(tc.prep) > 0 {
				if err := runAll(t, e, out, errb, tc.prep); err != nil {
					t.Fatal(err)
				}
			}
			out.Reset()
			errb.Reset()
			err := e.run(tc.argv[0], tc.argv[1:])
			msg := errb.String()
			if err != nil {
				msg += err.Error()
			}
			if code(err) != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(msg, tc.errOut) {
				t.Errorf("code %d, stdout %q, stderr+err %q; want %d, %q, %q", code(err), out, msg, tc.code, tc.out, tc.errOut)
			}
		})
	}
}

// A created token carries its ID as a bootstrap token "ID.secret" and is
// listed until invalidated by that ID.
func TestK0sTokenLifecycle(t *testing.T) {
	e, out, errb := newEnv(t)
	if err := runAll(t, e, out, errb, [][]string{{"k0s", "install", "controller"}, {"k0s", "start"}, {"k0s", "token", "create", "--role", "worker", "--expiry", "1h"}}); err != nil {
		t.Fatal(err)
	}
	k, err := e.k0sState()
	if err != nil || len(k.JoinTokens) != 1 {
		t.Fatalf("tokens %+v, %v", k, err)
	}
	id := k.JoinTokens[0].ID
	if len(id) != 6 || k.JoinTokens[0].Expires == "" {
		t.Fatalf("token %+v", k.JoinTokens[0])
	}
	if err := runAll(t, e, out, errb, [][]string{{"k0s", "token", "invalidate", id}, {"k0s", "token", "list"}}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "No k0s join tokens found\n" {
		t.Fatalf("after invalidate: %q", out)
	}
}

func sortedLines(l ...string) string {
	slices.Sort(l)
	return strings.Join(l, "\n") + "\n"
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// An install, start, cordon, uncordon, stop and reset leave no trace; a
// cordon undone leaves the controller as it was.
func TestK0sRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name  string
		argvs [][]string
		same  bool
	}{
		{"install start stop reset", [][]string{{"k0s", "install", "controller", "--enable-worker"}, {"k0s", "start"},
			{"k0s", "kubectl", "drain", "--ignore-daemonsets", hostname(t)}, {"k0s", "stop"}, {"k0s", "reset"}}, true},
		{"install with token file", [][]string{{"k0s", "install", "worker", "--token-file", "TOKEN"}, {"k0s", "start"}, {"k0s", "stop"}, {"k0s", "reset"}}, true},
		{"install only", [][]string{{"k0s", "install", "controller", "-c", "CONFIG"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := newEnv(t)
			tok, cfg := "/etc/k0s/token", "/etc/k0s/k0s.yaml"
			if err := os.MkdirAll(e.hostPath("/etc/k0s"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.hostPath(tok), []byte("t"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.hostPath(cfg), []byte("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			d0, _ := digest(e.dir)
			for _, argv := range tc.argvs {
				for i := range argv {
					if argv[i] == "TOKEN" {
						argv[i] = tok
					}
					if argv[i] == "CONFIG" {
						argv[i] = cfg
					}
				}
			}
			if err := runAll(t, e, out, errb, tc.argvs); err != nil {
				t.Fatal(err)
			}
			if d, _ := digest(e.dir); (d == d0) != tc.same {
				t.Errorf("digest unchanged: %t, want %t", d == d0, tc.same)
			}
		})
	}
	// cordon then uncordon restores the controller's digest
	e, out, errb := newEnv(t)
	if err := runAll(t, e, out, errb, [][]string{{"k0s", "install", "controller", "--enable-worker"}, {"k0s", "start"}}); err != nil {
		t.Fatal(err)
	}
	d0, _ := digest(e.dir)
	self := hostname(t)
	if err := runAll(t, e, out, errb, [][]string{{"k0s", "kubectl", "cordon", self}, {"k0s", "kubectl", "drain", "--ignore-daemonsets", self},
		{"k0s", "kubectl", "uncordon", self}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := digest(e.dir); d != d0 {
		t.Error("cordon, drain and uncordon changed the digest")
	}
}

func TestDigestPaths(t *testing.T) {
	e, _, _ := newEnv(t)
	other := t.TempDir()
	etc := filepath.Join(other, "etc")
	link := filepath.Join(other, "k0s")
	d := func() string {
		t.Helper()
		s, err := digest(e.dir, etc, link)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	absent := d()
	if plain, _ := digest(e.dir); plain == absent {
		t.Error("absent paths do not count")
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"folder", func() error { return os.Mkdir(etc, 0o755) }},
		{"file", func() error { return os.WriteFile(filepath.Join(etc, "k0s.yaml"), []byte("a"), 0o644) }},
		{"content", func() error { return os.WriteFile(filepath.Join(etc, "k0s.yaml"), []byte("b"), 0o644) }},
		{"mode", func() error { return os.Chmod(filepath.Join(etc, "k0s.yaml"), 0o600) }},
		{"symlink", func() error { return os.Symlink("fakenode", link) }},
		{"symlink replaced", func() error {
			if err := os.Remove(link); err != nil {
				return err
			}
			return os.WriteFile(link, []byte("fakenode"), 0o755)
		}},
	}
	seen := map[string]string{absent: "absent"}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		got := d()
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: digest as after %s", s.name, prev)
		}
		seen[got] = s.name
	}
	// an upload in progress is not state
	before := d()
	if err := os.WriteFile(filepath.Join(etc, ".mke-upload.x1"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d() != before {
		t.Error("an upload's temporary file changed the digest")
	}
	if err := os.RemoveAll(etc); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if d() != absent {
		t.Error("removing the paths did not restore the digest")
	}
}
