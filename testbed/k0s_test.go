package testbed

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// realK0s makes the fake k0s of every host of c run a real control plane
// with the binaries of kubetest.Assets (made visible to the hosts).
func realK0s(t *testing.T, c *Cluster) string {
	t.Helper()
	assets, err := kubetest.Assets()
	if err != nil {
		t.Skip(err)
	}
	for _, b := range []string{"etcdutl", "etcdctl", "kubectl"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			t.Skipf("no %s in %s (hack/testbin/build.sh builds it)", b, assets)
		}
	}
	vis, err := hostVisible(assets)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Hosts {
		mustExec(t, c, h, "echo "+vis+" > "+fakestate.Dir+"/"+fakestate.KubeAssetsFile)
	}
	return vis
}

// hostVisible links the files of dir into a folder the hosts see (a host
// mounts fresh /root, /tmp and /run over the machine's).
func hostVisible(dir string) (string, error) {
	for _, m := range []string{"/root/", "/tmp/", "/run/"} {
		if strings.HasPrefix(dir+"/", m) {
			dst := filepath.Join("/var/tmp/mke-migrate-testbin", filepath.Base(dir))
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				return "", err
			}
			for _, e := range ents {
				to := filepath.Join(dst, e.Name())
				if _, err := os.Stat(to); err == nil || !e.Type().IsRegular() {
					continue
				}
				if err := os.Link(filepath.Join(dir, e.Name()), to); err != nil {
					return "", err
				}
			}
			return dst, nil
		}
	}
	return dir, nil
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
	if got := mustExec(t, c, a, "k0s token invalidate "+id); got != "token "+id+" deleted successfully" {
		t.Errorf("invalidate: %q", got)
	}
	if _, err := c.Exec(t.Context(), a, "k0s kubectl -n kube-system get secret bootstrap-token-"+id); err == nil {
		t.Error("the invalidated token's Secret still exists")
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
// controller token through the first's join API on 9443. Without 9443
// between the hosts the join fails as k0s's does.
func TestK0sControllersJoin(t *testing.T) {
	c := startCluster(t, ClusterOptions{Managers: 2})
	realK0s(t, c)
	a, b := c.Managers[0], c.Managers[1]
	if _, err := c.Exec(t.Context(), b, "timeout 2 bash -c 'echo > /dev/tcp/"+a.Address+"/22'"); err != nil {
		t.Skipf("hosts do not reach each other (test bed networking): %v", err)
	}
	startController(t, c, a, k0sConfig(a.Address, ""), "")
	tok := mustExec(t, c, a, "k0s token create --role controller --expiry 1h")
	mustExec(t, c, b, "echo "+tok+" > /etc/k0s-token")
	ready := startController(t, c, b, k0sConfig(b.Address, ""), " --token-file /etc/k0s-token")
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
}
