package testbed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
)

// startReal starts a realistic cluster for t (building missing test
// binaries first), skipping where test-bed hosts cannot run.
func startReal(t *testing.T, o ClusterOptions) *Cluster {
	t.Helper()
	need(t)
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "etcdctl", "etcdutl"} {
		kubetest.NeedBinary(t, b)
	}
	o.Real = true
	o.Workdir = t.TempDir()
	// built before the deadline: a cold go build cache takes minutes
	if _, err := FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // a safety net
	defer cancel()
	start := time.Now()
	c, err := StartCluster(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("realistic cluster of %d hosts started in %v", len(c.Hosts), time.Since(start))
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// rexec runs cmd as root on h and fails t on error.
func rexec(t *testing.T, c *Cluster, h *Host, cmd string) string {
	t.Helper()
	out, err := c.Exec(t.Context(), h, cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out
}

// runFail runs cmd expecting it to fail.
func runFail(t *testing.T, c *Cluster, h *Host, cmd string) *ExecError {
	t.Helper()
	out, err := c.Exec(t.Context(), h, cmd)
	var xe *ExecError
	if !errors.As(err, &xe) {
		t.Fatalf("%s: want a failure, got %q, %v", cmd, out, err)
	}
	return xe
}

// processRuns asks the fake (without a docker command, so nothing
// reconciles) whether a container's process runs.
func processRuns(t *testing.T, c *Cluster, h *Host, name string) bool {
	t.Helper()
	return rexec(t, c, h, FakeNodePath+" running "+name) == "true"
}

func names(t *testing.T, c *Cluster, h *Host, filter string) []string {
	t.Helper()
	return strings.Fields(rexec(t, c, h, "docker ps "+filter+" --format '{{.Names}}'"))
}

func agentTask(t *testing.T, c *Cluster, h *Host, svc string) string {
	t.Helper()
	for _, n := range names(t, c, h, "") {
		if strings.HasPrefix(n, svc+"."+c.NodeIDs[h.Name]+".") {
			return n
		}
	}
	t.Fatalf("%s: no running %s task", h.Name, svc)
	return ""
}

func TestRealCluster(t *testing.T) {
	c := startReal(t, ClusterOptions{Managers: 1, Workers: 1, EtcdPrefix: "/mke3-registry"})
	m, w := c.Managers[0], c.Workers[0]

	t.Run("kubernetes API on 6443 and MKE on 443", func(t *testing.T) {
		cfg, err := c.KubeConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Namespaces().Get(t.Context(), "kube-system", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(c.CACert())
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := hc.Get("https://" + net.JoinHostPort(m.Address, strconv.Itoa(ControllerPort)) + "/_ping")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/_ping: %s", resp.Status)
		}
		// the ports are really held: nothing else can listen there
		for _, p := range []int{ControllerPort, KubeAPIPort, EtcdClientPort, EtcdPeerPort, KubeAPIInnerPort} {
			xe := runFail(t, c, m, bindCmd(p)+" 2>&1 || exit 1")
			if xe.ExitCode != 1 {
				t.Errorf("port %d: %v", p, xe)
			}
		}
	})

	t.Run("seeded state", func(t *testing.T) {
		if err := c.SeedKubernetes(t.Context()); err != nil {
			t.Fatal(err)
		}
		cfg, err := c.KubeConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		before, err := KubeObjects(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		counts := CountKinds(before)
		t.Logf("seeded: %v", counts)
		for _, gvr := range SeededKinds {
			res := gvr.Resource
			if gvr.Group != "" {
				res += "." + gvr.Group
			}
			if counts[res] == 0 {
				t.Errorf("nothing seeded of %s", res)
			}
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		n, err := cs.CoreV1().Nodes().Get(t.Context(), c.Workers[0].Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Labels[KubeletProfileLabel] == "" {
			t.Errorf("worker labels: %v", n.Labels)
		}
		after, err := KubeObjects(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := DiffObjects(before, after); err != nil {
			t.Errorf("the seeded state changed by itself: %v", err)
		}
		// a change shows in the diff
		cm, err := cs.CoreV1().ConfigMaps("shop").Get(t.Context(), "web-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["LOG_LEVEL"] = "debug"
		if _, err := cs.CoreV1().ConfigMaps("shop").Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		after, err = KubeObjects(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := DiffObjects(before, after); err == nil || !strings.Contains(err.Error(), "configmaps//shop/web-config") && !strings.Contains(err.Error(), "configmaps/shop/web-config") {
			t.Errorf("diff after a change: %v", err)
		}
	})

	t.Run("inspect shows real args and mounts", func(t *testing.T) {
		var got []struct {
			Path   string
			Args   []string
			State  struct{ Pid int }
			Mounts []struct {
				Type, Name, Source, Destination string
				RW                              bool
			}
		}
		if err := json.Unmarshal([]byte(rexec(t, c, m, "docker inspect ucp-kube-apiserver ucp-kube-controller-manager ucp-kv")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("inspect: %d containers", len(got))
		}
		api, cm, kv := got[0], got[1], got[2]
		for _, want := range []string{"--etcd-prefix=/mke3-registry", "--etcd-servers=https://127.0.0.1:12379",
			"--service-account-key-file=/etc/docker/ssl/service-account.pub"} {
			if !slices.Contains(api.Args, want) {
				t.Errorf("ucp-kube-apiserver Args lack %s: %v", want, api.Args)
			}
		}
		if !slices.Contains(cm.Args, "--service-account-private-key-file=/etc/docker/ssl/service-account.key") {
			t.Errorf("ucp-kube-controller-manager Args: %v", cm.Args)
		}
		if api.State.Pid == 0 || kv.State.Pid == 0 {
			t.Errorf("Pids: %d %d", api.State.Pid, kv.State.Pid)
		}
		var found bool
		for _, mt := range kv.Mounts {
			if mt.Name == "ucp-kv-certs" {
				found = true
				if mt.Source != "/var/lib/docker/volumes/ucp-kv-certs/_data" || mt.Destination != "/etc/docker/ssl" || mt.RW {
					t.Errorf("ucp-kv-certs mount: %+v", mt)
				}
			}
		}
		if !found {
			t.Errorf("ucp-kv mounts: %+v", kv.Mounts)
		}
		// the key the API server reads is on the host where Mounts says
		rexec(t, c, m, "test -s /var/lib/docker/volumes/ucp-node-certs/_data/service-account.pub")
	})

	t.Run("etcd data under the configured prefix, snapshot as the engine takes it", func(t *testing.T) {
		etcdctl := "docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro -v /var/lib/mke-migrate:/backup " +
			"--entrypoint etcdctl mirantis/ucp-etcd:" + c.MKEVersion + " --endpoints https://127.0.0.1:12379 " +
			"--cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem "
		keys := rexec(t, c, m, etcdctl+"get --prefix --keys-only /mke3-registry/namespaces/")
		if !strings.Contains(keys, "/mke3-registry/namespaces/kube-system") {
			t.Errorf("keys under the prefix: %q", keys)
		}
		if other := rexec(t, c, m, etcdctl+"get --prefix --keys-only /registry/"); other != "" {
			t.Errorf("keys under /registry: %q", other)
		}
		rexec(t, c, m, etcdctl+"snapshot save /backup/ucp-kv.db")
		status := rexec(t, c, m, "docker run --rm --log-driver none -v /var/lib/mke-migrate:/backup --entrypoint etcdutl mirantis/ucp-etcd:"+
			c.MKEVersion+" snapshot status /backup/ucp-kv.db -w json")
		if !strings.Contains(status, `"totalKey"`) {
			t.Errorf("snapshot status: %s", status)
		}
		// the mount points docker run made are gone again
		rexec(t, c, m, "test ! -e /backup")
		// without --network host the container has its own loopback
		xe := runFail(t, c, m, "docker run --rm --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl mirantis/ucp-etcd:"+
			c.MKEVersion+" --endpoints https://127.0.0.1:12379 --dial-timeout 2s --command-timeout 3s --cacert /etc/docker/ssl/ca.pem"+
			" --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem endpoint health")
		if xe.ExitCode == 0 {
			t.Error("etcdctl reached the host's etcd without --network host")
		}
		// etcd refuses a client without a certificate
		xe = runFail(t, c, m, "docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl mirantis/ucp-etcd:"+
			c.MKEVersion+" --endpoints https://127.0.0.1:12379 --dial-timeout 2s --command-timeout 3s --cacert /etc/docker/ssl/ca.pem endpoint health")
		if xe.ExitCode == 0 {
			t.Error("etcd accepted a client without a certificate")
		}
	})

	t.Run("finding 2: the agent restarts stopped components, Swarm replaces its task", func(t *testing.T) {
		rexec(t, c, m, "docker stop ucp-kube-apiserver")
		if processRuns(t, c, m, "ucp-kube-apiserver") {
			t.Fatal("ucp-kube-apiserver still runs after docker stop")
		}
		// the next docker command sees what MKE's agent did meanwhile
		if !slices.Contains(names(t, c, m, ""), "ucp-kube-apiserver") || !processRuns(t, c, m, "ucp-kube-apiserver") {
			t.Fatal("the agent did not start ucp-kube-apiserver again")
		}
		old := agentTask(t, c, m, "ucp-manager-agent")
		rexec(t, c, m, "docker stop "+old)
		now := agentTask(t, c, m, "ucp-manager-agent")
		if now == old {
			t.Fatalf("Swarm did not replace task %s", old)
		}
		if all := names(t, c, m, "-a"); !slices.Contains(all, old) {
			t.Errorf("the replaced task's container is gone from docker ps -a: %v", all)
		}
		// drained, the node runs no agent: stopped components stay stopped
		rexec(t, c, m, "docker node update --availability drain "+w.Name)
		if got := names(t, c, w, "--filter name=ucp-worker-agent"); len(got) != 0 {
			t.Fatalf("drained worker still runs %v", got)
		}
		rexec(t, c, w, "docker stop ucp-kubelet")
		if slices.Contains(names(t, c, w, ""), "ucp-kubelet") {
			t.Fatal("ucp-kubelet started again on a drained node")
		}
		// pods keep running under dockerd without the kubelet, holding
		// their ports (calico-node's health check, host network)
		if got := names(t, c, w, "--filter name=k8s_"); len(got) != 4 {
			t.Errorf("pod containers running without the kubelet: %v", got)
		}
		if xe := runFail(t, c, w, bindCmd(9099)+" 2>/dev/null"); xe.ExitCode != 1 {
			t.Errorf("port 9099: %v", xe)
		}
		rexec(t, c, m, "docker node update --availability active "+w.Name)
		agentTask(t, c, w, "ucp-worker-agent-x")
		if !slices.Contains(names(t, c, w, ""), "ucp-kubelet") {
			t.Error("ucp-kubelet not started again once the node is active")
		}
		if slices.ContainsFunc(names(t, c, w, ""), func(s string) bool { return strings.HasPrefix(s, "ucp-calico") }) {
			t.Error("Calico runs as a ucp-calico-* container; MKE 3.8 runs it as pods")
		}
	})

	t.Run("finding 6: volume in use", func(t *testing.T) {
		xe := runFail(t, c, m, "docker volume rm --force ucp-controller-server-certs")
		if !strings.Contains(xe.Stderr, "Error response from daemon: remove ucp-controller-server-certs: volume is in use - [") {
			t.Errorf("stderr: %q", xe.Stderr)
		}
		rexec(t, c, m, "test -d /var/lib/docker/volumes/ucp-controller-server-certs/_data")
	})

	t.Run("finding 7: backup log and air gap", func(t *testing.T) {
		before := digest(t, c, m)
		rexec(t, c, m, "docker run --rm --log-driver none --name ucp -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:"+
			c.MKEVersion+" backup --id "+c.ClusterID+" --no-passphrase > /dev/null")
		if d := digest(t, c, m); d != before {
			t.Error("a backup with --log-driver none changed the node")
		}
		rexec(t, c, m, "docker run --rm --name ucp -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:"+
			c.MKEVersion+" backup --id "+c.ClusterID+" --no-passphrase > /dev/null")
		if d := digest(t, c, m); d == before {
			t.Error("a backup without --log-driver none left no log")
		}
		// the archive went to stdout, so into the log
		if n := rexec(t, c, m, "grep -c '\"stream\":\"stdout\"' "+FakeNodeDir+"/container-logs/ucp-json.log"); n == "0" {
			t.Errorf("no stdout lines in the container log")
		}
		xe := runFail(t, c, m, "docker run --rm --log-driver none mirantis/ucp:9.9.9 backup --id x --no-passphrase")
		if xe.ExitCode != 125 || !strings.Contains(xe.Stderr, "Unable to find image 'mirantis/ucp:9.9.9' locally") {
			t.Errorf("missing image: exit %d, %q", xe.ExitCode, xe.Stderr)
		}
	})

	t.Run("docker stop, start and rm and systemctl stop the processes", func(t *testing.T) {
		rexec(t, c, m, "docker node update --availability drain "+m.Name)
		rexec(t, c, m, "docker stop -t 1 ucp-kube-controller-manager")
		if processRuns(t, c, m, "ucp-kube-controller-manager") {
			t.Error("controller manager runs after docker stop")
		}
		rexec(t, c, m, "docker start ucp-kube-controller-manager")
		if !processRuns(t, c, m, "ucp-kube-controller-manager") {
			t.Error("controller manager does not run after docker start")
		}
		rexec(t, c, m, "systemctl stop docker")
		for _, n := range []string{"ucp-kv", "ucp-kube-apiserver", "ucp-controller"} {
			if processRuns(t, c, m, n) {
				t.Errorf("%s runs with docker stopped", n)
			}
		}
		rexec(t, c, m, "systemctl start docker")
		if !processRuns(t, c, m, "ucp-kv") {
			t.Error("ucp-kv not started with docker")
		}
		rexec(t, c, m, "docker rm -f ucp-controller")
		rexec(t, c, m, bindCmd(443))
	})

	t.Run("uninstall-ucp removes MKE from every node", func(t *testing.T) {
		rexec(t, c, m, "docker run --rm -i --name ucp-uninstall -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:"+
			c.MKEVersion+" uninstall-ucp --id "+c.ClusterID)
		for _, h := range c.Hosts {
			if got := names(t, c, h, "-a --filter name=ucp-"); len(got) != 0 {
				t.Errorf("%s: ucp containers after uninstall: %v", h.Name, got)
			}
			if got := names(t, c, h, "--filter name=k8s_calico-node"); len(got) != 1 {
				t.Errorf("%s: calico-node should still run: %v", h.Name, got)
			}
		}
		for _, p := range []int{KubeAPIPort, EtcdClientPort, KubeAPIInnerPort} {
			rexec(t, c, m, bindCmd(p))
		}
		rexec(t, c, m, "docker volume rm --force ucp-controller-server-certs")
	})
}

func TestRealClusterDefaultPrefix(t *testing.T) {
	c := startReal(t, ClusterOptions{Managers: 1})
	m := c.Managers[0]
	if c.EtcdPrefix() != "/registry" {
		t.Errorf("EtcdPrefix = %q", c.EtcdPrefix())
	}
	keys := rexec(t, c, m, "docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl mirantis/ucp-etcd:"+
		c.MKEVersion+" --endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem"+
		" --key /etc/docker/ssl/key.pem get --prefix --keys-only /registry/namespaces/default")
	if keys != "/registry/namespaces/default" {
		t.Errorf("keys: %q", keys)
	}
}

// Three managers run one etcd cluster and their API servers share it;
// the load balancer's 6443 reaches them.
func TestRealClusterThreeManagers(t *testing.T) {
	c := startReal(t, ClusterOptions{Managers: 3})
	out := rexec(t, c, c.Managers[1], "docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl mirantis/ucp-etcd:"+
		c.MKEVersion+" --endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem"+
		" --key /etc/docker/ssl/key.pem member list -w simple")
	if n := len(strings.Split(out, "\n")); n != 3 {
		t.Errorf("etcd members: %d\n%s", n, out)
	}
	if err := c.SeedKubernetes(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.KubeConfig(c.Managers[2])
	if err != nil {
		t.Fatal(err)
	}
	objs, err := KubeObjects(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = "https://" + net.JoinHostPort(c.LB, strconv.Itoa(KubeAPIPort))
	viaLB, err := KubeObjects(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := DiffObjects(objs, viaLB); err != nil || len(objs) == 0 {
		t.Errorf("%d objects; through the load balancer: %v", len(objs), err)
	}
}

// bindCmd tries to listen on port as a server would (SO_REUSEADDR, as Go
// listeners set it): it fails only while another process listens there.
func bindCmd(port int) string {
	return "python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", " +
		strconv.Itoa(port) + ")); s.listen()'"
}
