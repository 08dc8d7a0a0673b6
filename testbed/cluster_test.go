package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// startCluster starts a cluster for t and closes it when t ends.
func startCluster(t *testing.T, o ClusterOptions) *Cluster {
	t.Helper()
	need(t)
	// built before the deadline: a cold go build cache takes minutes
	if _, err := FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	o.Workdir = t.TempDir()
	start := time.Now()
	c, err := StartCluster(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster of %d hosts started in %v", len(c.Hosts), time.Since(start))
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// connect logs in to h as mke through package hosts.
func connect(t *testing.T, h *Host) *hosts.Client {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := h.KnownHostsFile(kh); err != nil {
		t.Fatal(err)
	}
	cl, err := hosts.Connect(t.Context(), hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath},
		hosts.ConnectOptions{KnownHostsPath: kh, Home: t.TempDir(), Timeout: 5 * time.Second, Retry: hosts.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func sudo(t *testing.T, cl *hosts.Client, cmd string) string {
	t.Helper()
	out, err := cl.Exec(t.Context(), cmd, hosts.WithSudo())
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out
}

// sudoFail runs cmd expecting it to fail and returns its CommandError.
func sudoFail(t *testing.T, cl *hosts.Client, cmd string) *hosts.CommandError {
	t.Helper()
	out, err := cl.Exec(t.Context(), cmd, hosts.WithSudo())
	var ce *hosts.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: want a CommandError, got output %q, error %v", cmd, out, err)
	}
	return ce
}

func digest(t *testing.T, c *Cluster, h *Host) string {
	t.Helper()
	d, err := c.Digest(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClusterMKE3Facts(t *testing.T) {
	need(t)
	start := time.Now()
	if _, err := FakeNodeBinary(); err != nil { // not timed: a cold go build cache is slow
		t.Fatal(err)
	}
	t.Logf("fakenode built or found in %v", time.Since(start))
	start = time.Now()
	c := startCluster(t, ClusterOptions{Managers: 3, Workers: 2})
	// timed in BenchmarkRealClusterStart, not here: a busy machine is slow
	t.Logf("5 hosts started in %v", time.Since(start))
	if len(c.Managers) != 3 || len(c.Workers) != 2 || c.Hosts[0].Name != "manager-1" || c.Hosts[4].Name != "worker-2" {
		t.Fatalf("hosts: %v", c.Hosts)
	}
	ids := map[string]bool{}
	clients := make([]*hosts.Client, len(c.Hosts))
	for i, h := range c.Hosts {
		clients[i] = connect(t, h)
	}
	for i, h := range c.Hosts {
		cl := clients[i]
		if got := sudo(t, cl, `docker version --format '{{.Server.Version}}'`); got != DefaultMCRVersion {
			t.Errorf("%s: MCR version %q", h.Name, got)
		}
		id := sudo(t, cl, `docker info --format '{{.Swarm.NodeID}}'`)
		if id != c.NodeIDs[h.Name] || ids[id] {
			t.Errorf("%s: node ID %q (want %q, distinct)", h.Name, id, c.NodeIDs[h.Name])
		}
		ids[id] = true
		if got := sudo(t, cl, `docker info --format '{{.Swarm.LocalNodeState}}'`); got != "active" {
			t.Errorf("%s: LocalNodeState %q", h.Name, got)
		}
		img := sudo(t, cl, `docker inspect --format '{{.Config.Image}}' ucp-proxy`)
		if img != "mirantis/ucp-proxy:"+DefaultMKEVersion {
			t.Errorf("%s: ucp-proxy image %q", h.Name, img)
		}
		names := sudo(t, cl, `docker ps -a --format '{{.Names}}' --filter name=ucp-kv`)
		manager := strings.HasPrefix(h.Name, "manager-")
		if manager != (names == "ucp-kv") {
			t.Errorf("%s: ucp-kv containers %q", h.Name, names)
		}
		if got := sudo(t, cl, `docker ps --format '{{.Names}}' --filter label=com.docker.ucp.version=`+DefaultMKEVersion+` --filter name=ucp-proxy`); got != "ucp-proxy" {
			t.Errorf("%s: label filter: %q", h.Name, got)
		}
		if manager {
			if got := sudo(t, cl, `docker info --format '{{.Swarm.Cluster.ID}}'`); got != c.ClusterID {
				t.Errorf("%s: cluster ID %q, want %q", h.Name, got, c.ClusterID)
			}
			if got := sudo(t, cl, `docker info --format '{{.Swarm.ControlAvailable}}'`); got != "true" {
				t.Errorf("%s: ControlAvailable %q", h.Name, got)
			}
			ls := sudo(t, cl, `docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'`)
			if !strings.Contains(ls, "manager-1 Leader") || !strings.Contains(ls, "manager-2 Reachable") || len(strings.Split(ls, "\n")) != 5 {
				t.Errorf("%s: node ls:\n%s", h.Name, ls)
			}
			table := sudo(t, cl, `docker node ls`)
			if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, c.NodeIDs[h.Name]+" *") {
				t.Errorf("%s: node ls table:\n%s", h.Name, table)
			}
		} else {
			ce := sudoFail(t, cl, `docker node ls`)
			if ce.ExitCode != 1 || !strings.Contains(ce.Stderr, "This node is not a swarm manager") {
				t.Errorf("%s: node ls on a worker: %v", h.Name, ce)
			}
			if got := sudo(t, cl, `docker info --format '{{json .Swarm}}'`); !strings.Contains(got, `"NodeID":"`+c.NodeIDs[h.Name]+`"`) || strings.Contains(got, `"Cluster"`) {
				t.Errorf("%s: worker Swarm JSON %s", h.Name, got)
			}
		}
		ce := sudoFail(t, cl, `docker inspect --format '{{.Config.Image}}' ucp-nothing`)
		if ce.ExitCode != 1 || ce.Stderr != "Error: No such object: ucp-nothing" {
			t.Errorf("%s: inspect of a missing container: %v", h.Name, ce)
		}
		ce = sudoFail(t, cl, `docker frobnicate`)
		if !strings.Contains(ce.Stderr, "fakenode: unsupported docker command") {
			t.Errorf("unsupported: %v", ce)
		}
	}
	js := sudo(t, clients[0], `docker info --format '{{json .Swarm}}'`)
	if !strings.Contains(js, `"Cluster":{"ID":"`+c.ClusterID+`"`) {
		t.Errorf("manager Swarm JSON %s", js)
	}
}

func TestClusterSystemctlAndK0s(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1, Workers: 1})
	m, w := c.Managers[0], c.Workers[0]
	cl := connect(t, m)
	if got := sudo(t, cl, "systemctl is-active docker"); got != "active" {
		t.Errorf("docker: %q", got)
	}
	// without sudo: docker is refused, systemctl reads work
	if _, err := cl.Exec(t.Context(), "docker ps"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("docker ps as mke: %v", err)
	}
	if out, err := cl.Exec(t.Context(), "systemctl is-active docker"); err != nil || out != "active" {
		t.Errorf("systemctl is-active as mke: %q %v", out, err)
	}
	if ce := sudoFail(t, cl, "systemctl is-active k0scontroller"); ce.ExitCode != 3 {
		t.Errorf("is-active of a missing unit: %v", ce)
	}
	if ce := sudoFail(t, cl, "systemctl start nothing"); ce.ExitCode != 5 {
		t.Errorf("start of a missing unit: %v", ce)
	}
	before := digest(t, c, m)
	for _, cmd := range []string{"docker ps", "docker info --format '{{json .Swarm}}'", "systemctl is-active docker", "k0s version", "docker image ls", "systemctl status docker"} {
		sudo(t, cl, cmd)
	}
	if after := digest(t, c, m); after != before {
		t.Errorf("read-only commands changed the digest")
	}
	// k0s reads a missing config as the defaults only at the default path
	if ce := sudoFail(t, cl, "k0s install controller --enable-worker --config /etc/k0s/other.yaml"); !strings.Contains(ce.Stderr, "no such file or directory") {
		t.Errorf("install without its config file: %v", ce)
	}
	sudo(t, cl, "mkdir -p /etc/k0s && touch /etc/k0s/k0s.yaml && k0s install controller --enable-worker --config /etc/k0s/k0s.yaml")
	if ce := sudoFail(t, cl, "systemctl is-active k0scontroller"); ce.ExitCode != 3 {
		t.Errorf("k0scontroller before start: %v", ce)
	}
	if ce := sudoFail(t, cl, "k0s status"); ce.ExitCode != 1 {
		t.Errorf("status before start: %v", ce)
	}
	sudo(t, cl, "k0s start")
	if got := sudo(t, cl, "systemctl is-active k0scontroller"); got != "active" {
		t.Errorf("k0scontroller: %q", got)
	}
	if st := sudo(t, cl, "k0s status"); !strings.Contains(st, "Role: controller") || !strings.Contains(st, "Workloads: true") {
		t.Errorf("status:\n%s", st)
	}
	if tok := sudo(t, cl, "k0s token create --role=worker"); !strings.HasPrefix(tok, "H4sI") {
		t.Errorf("token %q", tok)
	}
	if got := sudo(t, cl, "k0s kubectl get nodes"); !strings.Contains(got, m.Name) {
		t.Errorf("get nodes: %q", got)
	}
	if got := sudo(t, cl, "k0s etcd member-list"); !strings.Contains(got, m.Address) {
		t.Errorf("member-list: %q", got)
	}
	if ce := sudoFail(t, cl, "k0s reset"); !strings.Contains(ce.Stderr, "k0s seems to be running") {
		t.Errorf("reset while running: %v", ce)
	}
	if digest(t, c, m) == before {
		t.Error("installing k0s did not change the digest")
	}
	sudo(t, cl, "k0s stop")
	sudo(t, cl, "k0s reset")
	if after := digest(t, c, m); after != before {
		t.Error("k0s reset did not restore the digest")
	}
	// a worker: install with a token file, and swarm leave without --force
	wc := connect(t, w)
	wbefore := digest(t, c, w)
	if ce := sudoFail(t, wc, "k0s install worker --token-file /etc/k0s/none"); ce.ExitCode != 1 {
		t.Errorf("missing token file: %v", ce)
	}
	sudo(t, wc, "mkdir -p /etc/k0s && echo tok > /etc/k0s/worker-token && k0s install worker --token-file /etc/k0s/worker-token")
	if got := sudo(t, wc, "systemctl is-enabled k0sworker"); got != "enabled" {
		t.Errorf("k0sworker: %q", got)
	}
	if out := sudo(t, wc, "docker swarm leave"); out != "Node left the swarm." {
		t.Errorf("swarm leave: %q", out)
	}
	if got := sudo(t, wc, "docker info --format '{{.Swarm.LocalNodeState}}'"); got != "inactive" {
		t.Errorf("after leave: %q", got)
	}
	if digest(t, c, w) == wbefore {
		t.Error("leave did not change the digest")
	}
	// the manager refuses to leave without --force; uninstall-ucp removes ucp-*
	if ce := sudoFail(t, cl, "docker swarm leave"); !strings.Contains(ce.Stderr, "Use `--force`") {
		t.Errorf("manager leave: %v", ce)
	}
	sudo(t, cl, "docker run -i --rm -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:"+DefaultMKEVersion+" uninstall-ucp --id "+c.ClusterID+" --purge-config")
	if got := sudo(t, cl, "docker ps -a --format '{{.Names}}' --filter name=ucp-"); got != "" {
		t.Errorf("after uninstall-ucp: %q", got)
	}
	if ce := sudoFail(t, cl, "docker inspect --format '{{.Config.Image}}' ucp-proxy"); ce.ExitCode != 1 {
		t.Errorf("ucp-proxy after uninstall: %v", ce)
	}
	sudo(t, cl, "docker swarm leave --force")
	calls, err := c.Calls(t.Context(), m)
	if err != nil || len(calls) == 0 || calls[len(calls)-1][0] != "docker" {
		t.Errorf("calls: %v %v", calls, err)
	}
}

func TestClusterFaults(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1})
	h := c.Managers[0]
	ctx := t.Context()
	cl := connect(t, h)
	// exit code and stderr, twice
	if err := c.SetFault(ctx, h, Fault{Match: "docker swarm leave", ExitCode: 42, Stderr: "boom", Times: 2}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ce := sudoFail(t, cl, "docker swarm leave --force"); ce.ExitCode != 42 || ce.Stderr != "boom" {
			t.Errorf("fault: %v", ce)
		}
	}
	before := digest(t, c, h)
	sudo(t, cl, "docker swarm leave --force") // third time: the real thing
	if digest(t, c, h) == before {
		t.Error("leave after the fault was used up did not change the node")
	}
	// hang, cut by the context
	if err := c.SetFault(ctx, h, Fault{Match: "docker version", HangSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	// the context is cancelled once the hanging docker is seen, however
	// long a busy machine takes to start it; 20 s is a safety net only
	hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	start := time.Now()
	hung := make(chan string, 1)
	go func() {
		defer cancel()
		for {
			out, _ := c.Exec(ctx, h, "ps -eo comm= | grep -cx docker || true")
			if out == "1" || hctx.Err() != nil {
				hung <- out
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	_, err := cl.Exec(hctx, "docker version", hosts.WithSudo())
	cancel()
	if n := <-hung; n != "1" {
		t.Errorf("%s hanging docker processes, want 1", n)
	}
	if err == nil || !errors.Is(err, context.Canceled) || time.Since(start) > 25*time.Second { // well short of the 30 s hang
		t.Errorf("hang: %v after %v", err, time.Since(start))
	}
	// the hanging process notices that its session is gone and exits,
	// before its 30 s are up
	for deadline := start.Add(25 * time.Second); ; {
		out, _ := c.Exec(ctx, h, "ps -eo comm= | grep -cx docker || true")
		if out == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the hanging docker is still running (%s)", out)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// closeConnection
	if err := c.SetFault(ctx, h, Fault{Match: "systemctl is-active", CloseConnection: true}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.Exec(ctx, "systemctl is-active docker", hosts.WithSudo())
	var ce *hosts.CommandError
	if err == nil || (errors.As(err, &ce) && ce.ExitCode != -1) {
		t.Errorf("closeConnection: want a connection error, got %v", err)
	}
	// the root connection of the cluster was not the one killed
	if err := c.ClearFaults(ctx, h); err != nil {
		t.Fatal(err)
	}
	cl2 := connect(t, h)
	if got := sudo(t, cl2, "systemctl is-active docker"); got != "active" {
		t.Errorf("after ClearFaults: %q", got)
	}
	// an exec through the cluster survives its own connection being killed
	if err := c.SetFault(ctx, h, Fault{Match: "k0s version", CloseConnection: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, h, "k0s version"); err == nil {
		t.Error("closeConnection through Cluster.Exec: no error")
	}
	if out, err := c.Exec(ctx, h, "k0s version"); err != nil || !strings.HasPrefix(out, "v1.") {
		t.Errorf("after reconnect: %q %v", out, err)
	}
}

// A program the fake node does not simulate (sha256sum here) takes
// faults once intercepted, runs unchanged without one, through sudo's
// secure_path too, and is itself again once released.
func TestClusterInterceptProgram(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1})
	h := c.Managers[0]
	ctx := t.Context()
	cl := connect(t, h)
	want := sudo(t, cl, "echo hi | sha256sum")
	if err := c.SetFault(ctx, h, Fault{Match: "sha256sum", ExitCode: 7, Stderr: "boom", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if got := sudo(t, cl, "echo hi | sha256sum"); got != want {
		t.Errorf("a fault reached a program not intercepted: %q", got)
	}
	if err := c.InterceptProgram(ctx, h, "sha256sum"); err != nil {
		t.Fatal(err)
	}
	if ce := sudoFail(t, cl, "echo hi | sha256sum"); ce.ExitCode != 7 || ce.Stderr != "boom" {
		t.Errorf("intercepted, with a fault: %v", ce)
	}
	if got := sudo(t, cl, "echo hi | sha256sum"); got != want {
		t.Errorf("intercepted, the fault used up: %q, want %q", got, want)
	}
	if fs, err := c.Faults(ctx, h); err != nil || len(fs) != 1 || fs[0].Used != 1 {
		t.Errorf("faults: %+v %v", fs, err)
	}
	if err := c.ReleaseProgram(ctx, h, "sha256sum"); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Exec(ctx, h, "test -e /usr/local/bin/sha256sum && echo left || echo gone"); err != nil || out != "gone" {
		t.Errorf("after ReleaseProgram: %q %v", out, err)
	}
	if err := c.InterceptProgram(ctx, h, "sha256sum"); err != nil {
		t.Fatal(err)
	}
	if err := c.InterceptProgram(ctx, h, "sha256sum"); err != nil {
		t.Errorf("intercepting twice: %v", err)
	}
	if err := c.ReleaseProgram(ctx, h, "sha256sum"); err != nil {
		t.Fatal(err)
	}
	// nothing to run behind it, or a file of the host's own in the way
	if _, err := c.Exec(ctx, h, "printf '#!/bin/sh\\necho own\\n' > /usr/local/bin/md5sum && chmod +x /usr/local/bin/md5sum"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"no-such-program", "md5sum"} {
		if err := c.InterceptProgram(ctx, h, p); err == nil {
			t.Errorf("InterceptProgram(%q): no error", p)
		}
	}
	if out, err := c.Exec(ctx, h, "/usr/local/bin/md5sum; test -e /usr/local/bin/no-such-program || echo none"); err != nil || out != "own\nnone" {
		t.Errorf("after the refusals: %q %v", out, err)
	}
	for _, bad := range []string{"docker", "k0s", "../rm", "", "a b"} {
		if err := c.InterceptProgram(ctx, h, bad); err == nil {
			t.Errorf("InterceptProgram(%q): no error", bad)
		}
	}
}

func TestClusterAPI(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1, MKEVersion: "3.7.20", API: true, CalicoKDD: true})
	if c.API == nil {
		t.Fatal("no API")
	}
	hc := c.API.Client()
	login, err := hc.Post(c.API.URL+"/auth/login", "application/json",
		strings.NewReader(`{"username":"`+mke3api.DefaultAdminUsername+`","password":"`+mke3api.DefaultAdminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token string `json:"auth_token"`
	}
	err = json.NewDecoder(login.Body).Decode(&tok)
	_ = login.Body.Close()
	if err != nil || tok.Token == "" {
		t.Fatalf("login: %d %v", login.StatusCode, err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.API.URL+"/version", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "3.7.20") {
		t.Errorf("/version: %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(c.API.ConfigTOML(), "calico_kdd = true") {
		t.Errorf("config toml:\n%s", c.API.ConfigTOML())
	}
	out, err := c.Exec(t.Context(), c.Managers[0], `docker inspect --format '{{.Config.Image}}' ucp-proxy`)
	if err != nil || out != "mirantis/ucp-proxy:3.7.20" {
		t.Errorf("ucp-proxy: %q %v", out, err)
	}
}

// TestClusterUpgradeCommands walks through what an upgrade and its rollback
// run: a backup, containers stopped and started, a k0s binary and config
// uploaded, k0s installed and started, a worker drained, and everything
// undone, with the digest (including the uploaded paths) back where it was.
func TestClusterUpgradeCommands(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1, Workers: 1, DigestPaths: []string{"/etc/k0s", K0sBinaryPath}})
	m, w := c.Managers[0], c.Workers[0]
	ctx := t.Context()
	cl := connect(t, m)
	before := digest(t, c, m)
	plain, err := c.DigestPaths(ctx, m)
	if err != nil || plain == before {
		t.Errorf("digest without paths: %v (same as with paths: %t)", err, plain == before)
	}

	backup := "docker container run --rm -i --name ucp --log-driver none -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:" +
		c.MKEVersion + " backup --id " + c.ClusterID + " --no-passphrase"
	if got := sudo(t, cl, backup+" > /tmp/backup.tar && tar -tf /tmp/backup.tar"); !strings.Contains(got, "backup.json") || !strings.Contains(got, "ucp-kv/snapshot.db") {
		t.Errorf("backup archive: %q", got)
	}
	if ce := sudoFail(t, connect(t, w), backup+" > /dev/null"); !strings.Contains(ce.Stderr, "must be run on a manager node") {
		t.Errorf("backup on a worker: %v", ce)
	}
	if ce := sudoFail(t, cl, strings.Replace(backup, c.ClusterID, "wrong", 1)+" > /dev/null"); !strings.Contains(ce.Stderr, "level=fatal") {
		t.Errorf("backup with a wrong ID: %v", ce)
	}

	if got := sudo(t, cl, "docker stop -t 30 ucp-proxy ucp-kubelet"); got != "ucp-proxy\nucp-kubelet" {
		t.Errorf("stop: %q", got)
	}
	if got := sudo(t, cl, "docker ps --filter name=ucp-proxy --format '{{.Names}}'"); got != "" {
		t.Errorf("ps after stop: %q", got)
	}
	if got := sudo(t, cl, "docker ps -a --filter name=ucp-proxy --format '{{.Status}}'"); !strings.HasPrefix(got, "Exited (0) ") {
		t.Errorf("ps -a after stop: %q", got)
	}
	if ce := sudoFail(t, cl, "docker stop ucp-nothing"); ce.ExitCode != 1 || ce.Stderr != "Error response from daemon: No such container: ucp-nothing" {
		t.Errorf("stop of a missing container: %v", ce)
	}
	sudo(t, cl, "docker container start ucp-proxy ucp-kubelet")
	if digest(t, c, m) != before {
		t.Error("stop and start changed the digest")
	}

	bin, err := FakeK0sBinary("v1.32.0+k0s.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Upload(ctx, bin, K0sBinaryPath, 0o755, true); err != nil {
		t.Fatal(err)
	}
	sudo(t, cl, "mkdir -p /etc/k0s")
	if err := cl.Upload(ctx, []byte("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n"), "/etc/k0s/k0s.yaml", 0o600, true); err != nil {
		t.Fatal(err)
	}
	if got := sudo(t, cl, "k0s version && docker version --format '{{.Server.Version}}'"); got != "v1.32.0+k0s.0\n"+c.MCRVersion {
		t.Errorf("uploaded k0s and the untouched docker: %q", got)
	}
	if plain2, _ := c.DigestPaths(ctx, m); plain2 != plain || digest(t, c, m) == before {
		t.Error("the uploads are not seen by the digest with paths only")
	}
	sudo(t, cl, "k0s install controller --enable-worker -c /etc/k0s/k0s.yaml && k0s start")
	if got := sudo(t, cl, "k0s kubeconfig admin"); !strings.Contains(got, "server: https://"+m.Address+":6443") {
		t.Errorf("admin kubeconfig:\n%s", got)
	}
	if err := c.SetFault(ctx, m, Fault{Match: "k0s kubectl drain", ExitCode: 1, Stderr: "error: timed out", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if ce := sudoFail(t, cl, "k0s kubectl drain --ignore-daemonsets worker-1"); ce.Stderr != "error: timed out" {
		t.Errorf("drain fault: %v", ce)
	}
	// a worker that has not joined this controller's cluster is unknown to it (F1)
	if ce := sudoFail(t, cl, "k0s kubectl drain --ignore-daemonsets worker-1"); !strings.Contains(ce.Stderr, `nodes "worker-1" not found`) {
		t.Errorf("drain of a node that did not join: %v", ce)
	}
	if got := sudo(t, cl, "k0s kubectl drain --ignore-daemonsets --delete-emptydir-data --force --timeout=5m "+m.Name); got != "node/"+m.Name+" cordoned\nnode/"+m.Name+" drained" {
		t.Errorf("drain: %q", got)
	}
	if got := sudo(t, cl, "k0s kubectl get nodes -o name"); got != "node/"+m.Name {
		t.Errorf("get nodes: %q", got)
	}
	if got := sudo(t, cl, "k0s kubectl uncordon "+m.Name); got != "node/"+m.Name+" uncordoned" {
		t.Errorf("uncordon: %q", got)
	}
	// the rollback
	sudo(t, cl, "k0s stop && k0s reset 2>/dev/null && rm -rf /etc/k0s && ln -sf fakenode "+K0sBinaryPath)
	if digest(t, c, m) != before {
		t.Error("the rollback did not restore the digest")
	}
}
