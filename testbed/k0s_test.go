package testbed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// realK0s makes the fake k0s of every host of c run a real control plane,
// skipping the test without the binaries.
func realK0s(t *testing.T, c *Cluster) {
	t.Helper()
	if err := c.RealK0s(t.Context()); errors.Is(err, kubetest.ErrNoBinaries) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, c *Cluster, h *Host, cmd string) string {
	t.Helper()
	out, err := c.Exec(t.Context(), h, cmd)
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	return out
}

// k0sConfig is a k0s.yaml for a controller at addr.
func k0sConfig(addr, extra string) string {
	return fmt.Sprintf("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  api:\n    address: %s\n  storage:\n    etcd:\n      peerAddress: %s\n%s", addr, addr, extra)
}

// startController installs and starts a k0s controller on h as the
// engine does and waits for k0s status; it returns the time to ready.
func startController(t *testing.T, c *Cluster, h *Host, config, extraArgs string) time.Duration {
	t.Helper()
	mustExec(t, c, h, "mkdir -p /etc/k0s && cat > /etc/k0s/k0s.yaml <<'EOF'\n"+config+"EOF\nk0s install controller -c /etc/k0s/k0s.yaml"+extraArgs)
	start := time.Now()
	_, err := c.Exec(t.Context(), h, "k0s start && i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done")
	if err != nil {
		logs, _ := c.Exec(context.Background(), h, "tail -n 20 /var/log/fakenode/*.log")
		t.Fatalf("%s: k0s not ready: %v\n%s", h.Name, err, logs)
	}
	return time.Since(start)
}

// rss is the resident memory (KiB) of the k0s controller daemon and its
// children on h.
func rss(t *testing.T, c *Cluster, h *Host) int {
	t.Helper()
	out := mustExec(t, c, h, "p=$(cat "+fakestate.Dir+"/"+fakestate.PidsDir+"/k0scontroller.service.pid); "+
		"for q in $p $(cat /proc/$p/task/*/children); do awk '/^VmRSS/{print $2}' /proc/$q/status; done")
	sum := 0
	for _, f := range strings.Fields(out) {
		n, _ := strconv.Atoi(f)
		sum += n
	}
	return sum
}

// A k0s controller on the test bed runs a real control plane; a second
// controller restored from a k0s backup archive of the first serves the
// objects of its snapshot (same UIDs), and the strict CLI refuses what k0s
// refuses on a real host too.
func TestK0sControllerRestore(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 2})
	realK0s(t, c)
	a, b := c.Managers[0], c.Managers[1]

	// a bad flag fails as k0s does, before anything is installed
	if _, err := c.Exec(t.Context(), a, "k0s install controller --frobnicate"); err == nil || !strings.Contains(err.Error(), "Error: unknown flag: --frobnicate") {
		t.Errorf("bad flag: %v", err)
	}

	ready := startController(t, c, a, k0sConfig(a.Address, "  workerProfiles:\n  - name: p1\n    values:\n      maxPods: 50\n"), " --enable-worker")
	mem := rss(t, c, a)
	t.Logf("k0s controller ready in %v, RSS %d MiB (daemon + etcd + kube-apiserver + kube-controller-manager)", ready, mem/1024)

	// worker-config ConfigMaps as k0s names them
	cms := mustExec(t, c, a, "k0s kubectl get cm -n kube-system -o name")
	for _, want := range []string{"worker-config-default-", "worker-config-p1-"} {
		if !strings.Contains(cms, want) {
			t.Errorf("no ConfigMap %s*: %s", want, cms)
		}
	}
	// finding 1: real kubectl, a node that does not exist
	if _, err := c.Exec(t.Context(), a, "k0s kubectl drain worker-9 --ignore-daemonsets"); err == nil || !strings.Contains(err.Error(), `nodes "worker-9" not found`) {
		t.Errorf("drain of a missing node: %v", err)
	}
	// tokens are bootstrap-token Secrets; invalidate deletes them
	tok := mustExec(t, c, a, "k0s token create --role controller --expiry 1h")
	id := mustExec(t, c, a, "echo "+tok+" | base64 -d | gunzip | awk '/token:/{print $2}' | cut -d. -f1")
	if got := mustExec(t, c, a, "k0s kubectl -n kube-system get secret bootstrap-token-"+id+" -o jsonpath='{.data.usage-bootstrap-controller-join}'"); got != base64.StdEncoding.EncodeToString([]byte("true")) {
		t.Errorf("token secret usage: %q", got)
	}
	// the join API answers the token, and refuses it once invalidated
	caURL := "curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " + tokenOf(t, c, a, tok) + "' https://" + a.Address + ":9443/v1beta1/ca"
	if got := mustExec(t, c, a, caURL); got != "200" {
		t.Errorf("join API with the token: %s", got)
	}
	if got := mustExec(t, c, a, "k0s token invalidate "+id); got != "token "+id+" deleted successfully" {
		t.Errorf("invalidate: %q", got)
	}
	if _, err := c.Exec(t.Context(), a, "k0s kubectl -n kube-system get secret bootstrap-token-"+id); err == nil {
		t.Error("the invalidated token's Secret still exists")
	}
	if got := mustExec(t, c, a, caURL); got != "401" {
		t.Errorf("join API with an invalidated token: %s", got)
	}
	if got := mustExec(t, c, a, "k0s kubeconfig admin | grep server:"); got != "server: https://"+a.Address+":6443" {
		t.Errorf("admin kubeconfig: %q", got)
	}

	// objects to carry, then a k0s backup archive of a's etcd, pki and a
	// config for b
	mustExec(t, c, a, "k0s kubectl create namespace carried && k0s kubectl -n carried create configmap c1 --from-literal=k=v")
	uid := mustExec(t, c, a, "k0s kubectl -n carried get configmap c1 -o jsonpath='{.metadata.uid}'")
	const pki = "/var/lib/k0s/pki"
	mustExec(t, c, a, "mkdir -p /root/bk && cp -a "+pki+" /root/bk/ && "+
		"ETCDCTL_API=3 $(cat "+fakestate.Dir+"/"+fakestate.KubeAssetsFile+")/etcdctl --endpoints https://127.0.0.1:2379 --cacert "+pki+"/etcd/ca.crt "+
		"--cert "+pki+"/apiserver-etcd-client.crt --key "+pki+"/apiserver-etcd-client.key snapshot save /root/bk/etcd-snapshot.db >/dev/null")
	cfgB := k0sConfig(b.Address, "")
	mustExec(t, c, a, "cat > /root/bk/k0s.yaml <<'EOF'\n"+cfgB+"EOF\ntar -czf /root/backup.tar.gz -C /root/bk etcd-snapshot.db pki k0s.yaml")
	// restore refuses while k0s runs
	if _, err := c.Exec(t.Context(), a, "k0s restore /root/backup.tar.gz"); err == nil || !strings.Contains(err.Error(), "k0s seems to be running! k0s must be down during the restore operation.") {
		t.Errorf("restore while running: %v", err)
	}
	archive := mustExec(t, c, a, "base64 -w0 /root/backup.tar.gz")
	mustExec(t, c, b, "echo "+archive+" | base64 -d > /root/backup.tar.gz && k0s restore --config-out /etc/k0s/k0s.yaml /root/backup.tar.gz 2>/dev/null")
	if got := mustExec(t, c, b, "cat /etc/k0s/k0s.yaml"); got+"\n" != cfgB {
		t.Errorf("restored config: %q", got)
	}
	mustExec(t, c, b, "k0s install controller -c /etc/k0s/k0s.yaml")
	start := time.Now()
	if _, err := c.Exec(t.Context(), b, "k0s start && i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done"); err != nil {
		logs, _ := c.Exec(context.Background(), b, "tail -n 20 /var/log/fakenode/*.log")
		t.Fatalf("restored controller: %v\n%s", err, logs)
	}
	t.Logf("restored controller ready in %v", time.Since(start))
	if got := mustExec(t, c, b, "k0s kubectl -n carried get configmap c1 -o jsonpath='{.metadata.uid}'"); got != uid {
		t.Errorf("restored UID %q, want %q", got, uid)
	}
	sums := "sha256sum " + pki + "/ca.crt " + pki + "/ca.key " + pki + "/sa.key " + pki + "/sa.pub"
	if got, want := mustExec(t, c, b, sums), mustExec(t, c, a, sums); got != want {
		t.Errorf("restored CA and SA keys differ: %q, want %q", got, want)
	}
	// reset refuses while running, then removes k0s and MKE's Calico files
	// (finding 3), and the daemon's processes
	mustExec(t, c, b, "mkdir -p /etc/cni/net.d && echo mke > /etc/cni/net.d/10-calico.conflist && echo mke > /etc/cni/net.d/calico-kubeconfig")
	if _, err := c.Exec(t.Context(), b, "k0s reset"); err == nil || !strings.Contains(err.Error(), "k0s seems to be running, please stop k0s before reset") {
		t.Errorf("reset while running: %v", err)
	}
	mustExec(t, c, b, "k0s stop && k0s reset 2>/dev/null")
	if got := mustExec(t, c, b, "ls /var/lib/k0s /etc/cni/net.d 2>&1; pgrep -c 'etcd|kube-apiserver' || true"); !strings.Contains(got, "No such file") || strings.Contains(got, "calico") || !strings.HasSuffix(got, "0") {
		t.Errorf("after reset: %q", got)
	}
}

// Two controllers form one etcd cluster: the second joins with a
// controller token through the first's join API on 9443. A token that
// points at a load balancer without 9443 (finding 5) fails the join as
// k0s's does.
func TestK0sControllersJoin(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 2})
	realK0s(t, c)
	a, b := c.Managers[0], c.Managers[1]
	if _, err := c.Exec(t.Context(), b, "timeout 2 bash -c 'echo > /dev/tcp/"+a.Address+"/22'"); err != nil {
		t.Skipf("hosts do not reach each other (test bed networking): %v", err)
	}
	startController(t, c, a, strings.Replace(k0sConfig(a.Address, ""), "    address: "+a.Address+"\n", "    address: "+a.Address+"\n    externalAddress: "+c.LB+"\n", 1), "")
	tok := mustExec(t, c, a, "k0s token create --role controller --expiry 1h")
	if got := mustExec(t, c, a, "echo "+tok+" | base64 -d | gunzip | awk '/server:/{print $2}'"); got != "https://"+c.LB+":9443" {
		t.Fatalf("controller token server %q", got)
	}

	// finding 5: the load balancer forwards 443 and 6443 only
	mustExec(t, c, b, "echo "+tok+" > /etc/k0s-token && mkdir -p /etc/k0s && cat > /etc/k0s/k0s.yaml <<'EOF'\n"+k0sConfig(b.Address, "")+"EOF\n"+
		"k0s install controller -c /etc/k0s/k0s.yaml --token-file /etc/k0s-token && k0s start && "+
		"p=$(cat "+fakestate.Dir+"/"+fakestate.PidsDir+"/k0scontroller.service.pid); while [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status; do sleep 0.2; done")
	if _, err := c.Exec(t.Context(), b, "k0s status"); err == nil {
		t.Error("k0s status answers on a controller that could not join")
	}
	want := "failed to join controller: failed to join existing cluster via https://" + c.LB + ":9443: "
	if got := mustExec(t, c, b, "cat /var/log/fakenode/k0scontroller.service.log"); !strings.Contains(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
	mustExec(t, c, b, "k0s stop; k0s reset 2>/dev/null")

	// the same token pointed at the first controller joins
	direct := mustExec(t, c, b, "echo "+tok+" | base64 -d | gunzip | sed 's#https://"+c.LB+":9443#https://"+a.Address+":9443#' | gzip | base64 -w0")
	mustExec(t, c, b, "echo "+direct+" > /etc/k0s-token")
	ready := startController(t, c, b, k0sConfig(b.Address, ""), " --force --token-file /etc/k0s-token")
	t.Logf("joined controller ready in %v", ready)
	members := mustExec(t, c, a, "k0s etcd member-list")
	for _, h := range []*Host{a, b} {
		if !strings.Contains(members, `"`+h.Name+`":"https://`+h.Address+`:2380"`) {
			t.Errorf("members %s: no %s", members, h.Name)
		}
	}
	mustExec(t, c, a, "k0s kubectl create namespace from-a")
	if got := mustExec(t, c, b, "k0s kubectl get namespace from-a -o name"); got != "namespace/from-a" {
		t.Errorf("b serves %q", got)
	}
	// both controllers share the CA and service-account keys
	sums := "sha256sum /var/lib/k0s/pki/ca.crt /var/lib/k0s/pki/sa.pub /var/lib/k0s/pki/etcd/ca.crt"
	if ga, gb := mustExec(t, c, a, sums), mustExec(t, c, b, sums); ga != gb {
		t.Errorf("keys differ:\n%s\n%s", ga, gb)
	}
}

// TestK0sControllerFootprint measures a k0s controller of the test bed
// (start to k0s status answering; RSS of its daemon and children) against
// the baseline of the same binaries started bare by kubetest (etcd,
// kube-apiserver, kube-controller-manager) in the same run, and checks
// that a port held by another process makes the controller fail and k0s
// status fail. docs/benchmarks.md has the figures.
func TestK0sControllerFootprint(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 1})
	realK0s(t, c)
	h := c.Managers[0]

	start := time.Now()
	plane, err := kubetest.Start(t.Context(), kubetest.Options{ControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Since(start)
	baseRSS := 0
	for _, pid := range plane.PIDs() {
		b, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "VmRSS:" {
				n, _ := strconv.Atoi(f[1])
				baseRSS += n
			}
		}
	}
	if err := plane.Stop(); err != nil {
		t.Fatal(err)
	}

	ready := startController(t, c, h, k0sConfig(h.Address, ""), "")
	mem := rss(t, c, h)
	t.Logf("baseline (kubetest plane, same binaries): ready in %v, RSS %d MiB", base.Round(time.Millisecond), baseRSS/1024)
	t.Logf("k0s controller: ready in %v (%.2fx), RSS %d MiB (%.2fx)", ready.Round(time.Millisecond), float64(ready)/float64(base),
		mem/1024, float64(mem)/float64(baseRSS))

	// a port held by another process: kube-apiserver cannot bind 6443,
	// the daemon ends, k0s status never answers
	mustExec(t, c, h, "k0s stop")
	mustExec(t, c, h, "setsid /usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", 6443)); s.listen(); time.sleep(600)' >/dev/null 2>&1 < /dev/null & echo $! > /root/holder.pid; "+
		"i=0; until grep -q ':192B ' /proc/net/tcp; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done")
	mustExec(t, c, h, "k0s start")
	// the daemon exits once kube-apiserver has failed (no timing involved)
	mustExec(t, c, h, "p=$(cat "+fakestate.Dir+"/"+fakestate.PidsDir+"/k0scontroller.service.pid); while [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status; do sleep 0.1; done")
	if _, err := c.Exec(t.Context(), h, "k0s status"); err == nil || !strings.Contains(err.Error(), "status.sock") {
		t.Errorf("k0s status with 6443 held: %v", err)
	}
	if got := mustExec(t, c, h, "cat /var/log/fakenode/kube-apiserver.log"); !strings.Contains(got, "address already in use") {
		t.Errorf("kube-apiserver log: %s", got)
	}
	mustExec(t, c, h, "kill $(cat /root/holder.pid)")
}

// tokenOf is the bootstrap token inside a join token.
func tokenOf(t *testing.T, c *Cluster, h *Host, joinToken string) string {
	t.Helper()
	return mustExec(t, c, h, "echo "+joinToken+" | base64 -d | gunzip | awk '/token:/{print $2}'")
}
