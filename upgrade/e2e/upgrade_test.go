package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// The whole upgrade on the realistic test bed: 3 managers and 2 workers
// of MKE 3.8 with a real ucp-kv and API server, seeded; the engine's plan
// as Discover makes it, applied. After it k0s's API serves every seeded
// object (same UID and spec), the Nodes are Ready with their MKE 3 labels
// and taints, the worker with a kubelet profile runs with that profile,
// and the RBAC translated from MKE 3's orgs and teams is in k0s's API.
func TestRealBedUpgradeCarriesTheCluster(t *testing.T) {
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "etcdctl", "etcdutl", "kubectl"} {
		kubetest.NeedBinary(t, b)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // a safety net
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: 2, Real: true, API: true, CalicoKDD: true,
		Workdir: t.TempDir(), LBPorts: []int{443, 6443, 9443}})
	cancel()
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SeedKubernetes(t.Context()))
	mcfg, err := c.KubeConfig(nil)
	require.NoError(t, err)
	before, err := testbed.KubeObjects(t.Context(), mcfg)
	require.NoError(t, err)
	beforeRaw := listSeeded(t, mcfg)

	kh := filepath.Join(t.TempDir(), "known_hosts")
	var hs []hosts.Host
	for i, h := range c.Hosts {
		_, err := c.Exec(t.Context(), h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1))
		require.NoError(t, err)
		require.NoError(t, h.KnownHostsFile(kh))
		hh := hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath}
		if h.Name == "worker-1" { // its Node has the profile label too; hosts.yaml says it here
			hh.Labels = map[string]string{testbed.KubeletProfileLabel: "high-pods"}
		}
		hs = append(hs, hh)
	}
	k0s, err := testbed.FakeK0sBinary("v1.33.4+k0s.0")
	require.NoError(t, err)
	mc, err := mke3.New(mke3.Options{Host: c.API.URL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: c.API.CAPEM})
	require.NoError(t, err)
	toml := strings.Replace(mke3api.DefaultConfigTOML, "calico_kdd = false", "calico_kdd = true", 1) +
		"\n[cluster_config.custom_kubelet_flags_profiles]\n  high-pods = \"--max-pods=250\"\n"
	dir := t.TempDir()
	o := upgrade.Options{
		Hosts: hs, Connect: hosts.ConnectOptions{KnownHostsPath: kh}, MKE3: mc, MKE3ConfigTOML: []byte(toml),
		ExternalAddress: c.LB, K0sBinary: k0s, OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kubeconfig"),
		StepTimeout: 5 * time.Minute, // safety nets only
		Commands:    upgrade.Commands{Ready: 3 * time.Minute},
	}
	u, err := upgrade.New(o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	sh, err := u.Discover(t.Context())
	require.NoError(t, err)
	require.NotNil(t, sh.Carry, "the carry was planned")
	p, err := u.Plan()
	require.NoError(t, err)
	var printed strings.Builder
	require.NoError(t, p.Print(&printed))
	t.Log("\n" + printed.String())
	_, err = u.Apply(t.Context(), p)
	if err != nil {
		for _, h := range c.Hosts {
			out, _ := c.Exec(context.Background(), h, "tail -n 15 /var/log/fakenode/k0s*.log 2>/dev/null")
			t.Logf("%s logs:\n%s", h.Name, out)
		}
	}
	require.NoError(t, err)

	kc, err := os.ReadFile(o.KubeconfigPath)
	require.NoError(t, err)
	kcfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	require.NoError(t, err)
	after, err := testbed.KubeObjects(t.Context(), kcfg)
	require.NoError(t, err)
	t.Logf("before (MKE 3): %v", testbed.CountKinds(before))
	t.Logf("after (k0s):    %v", testbed.CountKinds(after))
	// every seeded object is the same object (UID) with the same spec;
	// what k0s's controllers legitimately set since is left out (status,
	// resourceVersion, a PV's claimRef and a PVC's volumeName once bound,
	// a token Secret's ca.crt: k0s's CA is a new one, docs/carry.md)
	requireSameObjects(t, beforeRaw, listSeeded(t, kcfg))
	kcs, err := kubernetes.NewForConfig(kcfg)
	require.NoError(t, err)
	nodes, err := kcs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{LabelSelector: testbed.SeedLabel + "=true"})
	require.NoError(t, err)
	for _, n := range nodes.Items {
		ready := false
		for _, cnd := range n.Status.Conditions {
			ready = ready || cnd.Type == corev1.NodeReady && cnd.Status == corev1.ConditionTrue
		}
		require.True(t, ready, "%s is not Ready", n.Name)
		if n.Name == "worker-1" {
			require.Equal(t, "high-pods", n.Labels[testbed.KubeletProfileLabel])
			require.Equal(t, strconv.Itoa(250), n.Status.Capacity.Pods().String(), "worker-1 runs without its profile's max-pods")
		}
	}
	// the RBAC of MKE 3's orgs and teams, applied for real
	require.Positive(t, len(sh.RBACObjects.ClusterRoles), "the test bed's MKE 3 has no org or team")
	for _, r := range sh.RBACObjects.ClusterRoles {
		_, err := kcs.RbacV1().ClusterRoles().Get(t.Context(), r.Name, metav1.GetOptions{})
		require.NoError(t, err, "ClusterRole %s", r.Name)
	}
	for _, b := range sh.RBACObjects.ClusterRoleBindings {
		_, err := kcs.RbacV1().ClusterRoleBindings().Get(t.Context(), b.Name, metav1.GetOptions{})
		require.NoError(t, err, "ClusterRoleBinding %s", b.Name)
	}
	t.Logf("RBAC applied: %d ClusterRoles, %d ClusterRoleBindings, %d RoleBindings", len(sh.RBACObjects.ClusterRoles),
		len(sh.RBACObjects.ClusterRoleBindings), len(sh.RBACObjects.RoleBindings))
}

// requireSameObjects compares the seeded objects two API servers serve:
// same set, same UIDs, same specs (data for ConfigMaps and Secrets).
func requireSameObjects(t *testing.T, before, after map[string]map[string]any) {
	t.Helper()
	require.Len(t, after, len(before))
	for k, b := range before {
		a, ok := after[k]
		require.True(t, ok, "%s is missing on k0s", k)
		bm, am := b["metadata"].(map[string]any), a["metadata"].(map[string]any)
		require.Equal(t, bm["uid"], am["uid"], "%s: another object", k)
		if strings.HasPrefix(k, "nodes/") {
			// the kubelet that took the Node over adds its own labels and
			// keeps MKE 3's labels and taints
			al, _ := am["labels"].(map[string]any)
			for l, v := range bm["labels"].(map[string]any) {
				require.Equal(t, v, al[l], "%s: label %s", k, l)
			}
			bt, _ := b["spec"].(map[string]any)["taints"].([]any)
			at, _ := a["spec"].(map[string]any)["taints"].([]any)
			for _, taint := range bt {
				// node.kubernetes.io/* taints follow the Node's conditions
				// (the node lifecycle controller's), not the cluster's choice
				if key, _ := taint.(map[string]any)["key"].(string); strings.HasPrefix(key, "node.kubernetes.io/") {
					continue
				}
				require.Contains(t, at, taint, "%s: taint", k)
			}
			continue
		}
		bs, as := comparable(k, b), comparable(k, a)
		require.Equal(t, bs, as, "%s: spec changed", k)
	}
}

// listSeeded is every seeded object an API server serves, by
// resource/namespace/name.
func listSeeded(t *testing.T, cfg *rest.Config) map[string]map[string]any {
	t.Helper()
	dc, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for _, gvr := range testbed.SeededKinds {
		l, err := dc.Resource(gvr).List(t.Context(), metav1.ListOptions{LabelSelector: testbed.SeedLabel + "=true"})
		require.NoError(t, err, gvr.String())
		for _, u := range l.Items {
			out[gvr.Resource+"/"+u.GetNamespace()+"/"+u.GetName()] = u.Object
		}
	}
	return out
}

// comparable is what must not change of a carried object.
func comparable(key string, obj map[string]any) any {
	switch {
	case strings.HasPrefix(key, "secrets/"):
		d, _ := obj["data"].(map[string]any)
		c := map[string]any{}
		for k, v := range d {
			if k != "ca.crt" {
				c[k] = v
			}
		}
		return c
	case strings.HasPrefix(key, "configmaps/"):
		return obj["data"]
	}
	spec, _ := obj["spec"].(map[string]any)
	c := map[string]any{}
	for k, v := range spec {
		if key[:strings.Index(key, "/")] == "persistentvolumes" && k == "claimRef" ||
			key[:strings.Index(key, "/")] == "persistentvolumeclaims" && k == "volumeName" {
			continue
		}
		c[k] = v
	}
	return c
}
