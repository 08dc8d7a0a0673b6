package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// nodeListAPI serves GET /api/v1/nodes as a kube-apiserver does to a
// client bundle's user: TLS with a certificate of ca, the client's
// certificate required and verified against ca (MKE 3's API server trusts
// its own CA), and a v1 NodeList, encoded from the k8s.io/api types so
// that its shape is Kubernetes' own. Anything else is 404.
func nodeListAPI(t *testing.T, ca *mke3api.CA, nodes []corev1.Node) string {
	t.Helper()
	cert, err := ca.ServerCertificate()
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/nodes" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: nodes})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// The preflight command and the upgrade's Discover check the same things
// on the same simulated cluster: the same findings, the Kubernetes node
// checks among them (worker-2 is no Kubernetes node; worker-1's label
// names a kubelet profile the configuration lacks), and the data carry's
// (the fast bed's ucp-kube-apiserver names no service-account keys: a
// blocker of both; the preflight command did not read the carry before).
func TestPreflightAndDiscoverCheckTheSameThings(t *testing.T) {
	c, hy, kh := preflightCluster(t, false)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	ca, err := mke3api.NewCA()
	require.NoError(t, err)
	var nodes []corev1.Node
	for _, h := range c.Hosts {
		if h.Name == "worker-2" {
			continue
		}
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: h.Name, Labels: map[string]string{"kubernetes.io/hostname": h.Name}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: h.Address}}}}
		if h.Name == "worker-1" {
			n.Labels[convert.DefaultKubeletProfileLabel] = "gpu"
		}
		nodes = append(nodes, n)
	}
	sim, err := mke3api.Start(mke3api.Options{CA: ca, BundleKubeAPI: nodeListAPI(t, ca, nodes), Seed: mke3api.Seed{
		Version:    c.MKEVersion,
		ConfigTOML: strings.Replace(mke3api.DefaultConfigTOML, "calico_kdd = false", "calico_kdd = true", 1)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })

	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MKE_PASSWORD", mke3api.DefaultAdminPassword)
	caFile := writeFile(t, t.TempDir(), "ca.pem", string(sim.CAPEM))
	code, stdout, stderr := runCLI(t, "preflight", "--hosts-path", hy, "--known-hosts", kh, "-o", "json",
		"--mke3-host", strings.TrimPrefix(sim.URL, "https://"), "--mke3-admin-username", mke3api.DefaultAdminUsername, "--mke3-ca-cert", caFile)
	require.Equal(t, 3, code, stderr+stdout)
	var rep struct {
		Hosts []struct {
			Address        string
			KubernetesNode *mke3.KubeNode
			KubeletProfile string
		}
		Checks []preflight.Result
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)

	file, err := hosts.Load(hy)
	require.NoError(t, err)
	mc, err := mke3.New(mke3.Options{Host: sim.URL, Username: mke3api.DefaultAdminUsername, Password: mke3api.DefaultAdminPassword, CACertPEM: sim.CAPEM})
	require.NoError(t, err)
	u, err := upgrade.New(upgrade.Options{Hosts: file.Hosts, Connect: hosts.ConnectOptions{KnownHostsPath: kh}, MKE3: mc,
		ExternalAddress: "mke.example.com", OutputDir: t.TempDir(), KubeconfigPath: filepath.Join(home, ".mke", "mke.kubeconf"), SkipRBAC: true,
		// the fast bed forwards no 9443 (the probe has its own tests)
		Commands: upgrade.Commands{JoinCheck: "-"}})
	require.NoError(t, err)
	defer u.Close()
	sh, err := u.Discover(ctx)
	var be *upgrade.BlockedError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Blockers, 1, "%+v", be.Blockers)
	assert.Equal(t, "mke3-data-carry", be.Blockers[0].ID)
	assert.Contains(t, be.Blockers[0].Message, "service-account keys")

	assert.Equal(t, rep.Checks, sh.Preflight, "preflight and Discover found different things")
	byWorker := func(name string) string { return c.Host(name).Address }
	assert.Contains(t, sh.Preflight, preflight.Result{ID: preflight.IDKubeNode, Severity: preflight.Warning, Host: byWorker("worker-2"),
		Message: `no Kubernetes node has the name "worker-2" or the address ` + byWorker("worker-2"),
		Remedy:  "check that the host is an MKE 3 node and that its kubelet runs; its node labels and kubelet profile cannot be carried otherwise"})
	found := false
	for _, r := range sh.Preflight {
		found = found || r.ID == preflight.IDKubeletProfile && r.Host == byWorker("worker-1")
	}
	assert.True(t, found, "no %s for worker-1 in %+v", preflight.IDKubeletProfile, sh.Preflight)
	for _, r := range sh.Preflight {
		if r.ID != "mke3-data-carry" {
			assert.NotEqual(t, preflight.Blocker, r.Severity, "%+v", r)
		}
	}

	// the preflight command shows each host's node and profile, and the
	// upgrade carries that profile label into the conversion
	require.Len(t, rep.Hosts, len(c.Hosts))
	for i, h := range rep.Hosts {
		if c.Hosts[i].Name == "worker-2" {
			assert.Nil(t, h.KubernetesNode)
			continue
		}
		require.NotNil(t, h.KubernetesNode, h.Address)
		assert.Equal(t, c.Hosts[i].Name, h.KubernetesNode.Name)
	}
	assert.Equal(t, "gpu", rep.Hosts[3].KubeletProfile)
	unconvertible := false
	for _, e := range sh.Report.Entries {
		unconvertible = unconvertible || strings.HasSuffix(e.Key, ".labels."+convert.DefaultKubeletProfileLabel) && e.Status == convert.StatusUnconvertible
	}
	assert.True(t, unconvertible, "the conversion did not see worker-1's profile label")

	// A leftover kubeconfig: both block, on the same thing.
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".mke"), 0o700))
	writeFile(t, filepath.Join(home, ".mke"), "mke.kubeconf", "")
	code, stdout, _ = runCLI(t, "preflight", "--hosts-path", hy, "--known-hosts", kh, "-o", "json")
	assert.Equal(t, 3, code)
	_, err = u.Discover(ctx)
	require.ErrorAs(t, err, &be)
	var ids []string
	for _, b := range be.Blockers {
		ids = append(ids, b.ID)
		assert.Contains(t, stdout, `"id": "`+b.ID+`"`)
	}
	assert.ElementsMatch(t, []string{preflight.IDKubeconfig, "mke3-data-carry"}, ids)
	assert.Equal(t, len(be.Blockers), strings.Count(stdout, `"severity": "blocker"`), stdout)
}
