package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
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

// needRealBed skips t without the test bed's hosts (fails it on CI) and
// without the real control-plane binaries the realistic bed runs.
func needRealBed(t *testing.T) {
	t.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "etcdctl", "etcdutl", "kubectl"} {
		kubetest.NeedBinary(t, b)
	}
}

// The whole upgrade on the realistic test bed: 3 managers and 2 workers
// of MKE 3.8 with a real ucp-kv and API server, seeded, and an MKE 3 API
// with orgs, teams and grants; the engine's plan as Discover makes it
// (Swarm drain, default stop list, volume removal), applied. After it:
//   - k0s's API serves every seeded object, the same object (UID) with the
//     same content (all but status, resourceVersion and what k0s's
//     controllers set, listed in comparable);
//   - every Node is Ready with its MKE 3 labels and taints;
//   - the worker with a kubelet profile runs with that profile's values,
//     the other with kubelet's defaults;
//   - the RBAC translated from MKE 3's orgs, teams and grants is in k0s's
//     API as translated, and k0s's authorizer allows what it grants;
//   - MKE 3's volume is gone from the managers (finding 6).
func TestRealBedUpgradeCarriesTheCluster(t *testing.T) {
	needRealBed(t)
	// the wall time of each phase is logged (a CI budget figure, never asserted)
	phase, phaseStart := "start and seed the bed", time.Now()
	nextPhase := func(name string) {
		t.Logf("%s: %s", phase, time.Since(phaseStart).Round(100*time.Millisecond))
		phase, phaseStart = name, time.Now()
	}
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // a safety net
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: 2, Real: true,
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
	toml := strings.Replace(mke3api.DefaultConfigTOML, "calico_kdd = false", "calico_kdd = true", 1) +
		"\n[cluster_config.custom_kubelet_flags_profiles]\n  high-pods = \"--max-pods=250\"\n"
	// MKE 3's access model: an org with two teams, and grants on one
	// namespace, on every namespace and on a collection (users and teams
	// as MKE 3's eNZi names them)
	api, err := mke3api.Start(mke3api.Options{Seed: mke3api.Seed{Version: c.MKEVersion, ConfigTOML: toml,
		Users: []mke3api.User{{Name: "alice"}, {Name: "bob"}, {Name: "carol"}},
		Orgs: []mke3api.Org{{Name: "dev", Teams: []mke3api.Team{
			{Name: "web", Members: []mke3api.TeamMember{{Name: "alice"}, {Name: "bob"}}},
			{Name: "ops", Members: []mke3api.TeamMember{{Name: "carol"}}}}}},
		Grants: []mke3api.Grant{
			{SubjectName: "dev/web", ObjectID: "shop", RoleID: "restrictedcontrol"},
			{SubjectName: "dev/ops", ObjectID: "kubernetesnamespaces", RoleID: "viewonly"},
			{SubjectName: "carol", ObjectID: "monitoring", RoleID: "fullcontrol"},
			{SubjectName: "dev/web", ObjectID: "shared", RoleID: "scheduler"},
		}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	mc, err := mke3.New(mke3.Options{Host: api.URL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: api.CAPEM})
	require.NoError(t, err)
	dir := t.TempDir()
	o := upgrade.Options{
		Hosts: hs, Connect: hosts.ConnectOptions{KnownHostsPath: kh}, MKE3: mc, MKE3ConfigTOML: []byte(toml),
		ExternalAddress: c.LB, K0sBinary: k0s, OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kubeconfig"),
		// the simulator's client bundles name 127.0.0.1:6443 and its own
		// CA, not this bed's API server: the inventory reads it directly
		MKE3KubeConfig: func(context.Context) (*rest.Config, error) { return c.KubeConfig(nil) },
		StepTimeout:    5 * time.Minute, // safety nets only
		Commands:       upgrade.Commands{Ready: 3 * time.Minute},
	}
	u, err := upgrade.New(o)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	nextPhase("discover and plan")
	sh, err := u.Discover(t.Context())
	require.NoError(t, err)
	require.NotNil(t, sh.Carry, "the carry was planned")
	p, err := u.Plan()
	require.NoError(t, err)
	var printed strings.Builder
	require.NoError(t, p.Print(&printed))
	t.Log("\n" + printed.String())
	volumes := func(h *testbed.Host) []string {
		out, err := c.Exec(t.Context(), h, "docker volume ls -q")
		require.NoError(t, err, h.Name)
		return strings.Fields(out)
	}
	for _, m := range c.Managers {
		require.Contains(t, volumes(m), "ucp-controller-server-certs", "%s before the upgrade", m.Name)
	}
	nextPhase("the upgrade")
	_, err = u.Apply(t.Context(), p)
	if err != nil {
		for _, h := range c.Hosts {
			out, _ := c.Exec(context.Background(), h, "tail -n 15 /var/log/fakenode/k0s*.log 2>/dev/null")
			t.Logf("%s logs:\n%s", h.Name, out)
		}
	}
	require.NoError(t, err)

	nextPhase("the checks")
	// finding 6: the engine removed MKE 3's leftover containers, then the
	// volume (which docker refuses while a container uses it)
	for _, m := range c.Managers {
		require.NotContains(t, volumes(m), "ucp-controller-server-certs", "%s after the upgrade", m.Name)
	}

	// the upgrade's own last step, verify, passed: its report says what it
	// checked (every carried kind among them)
	vt, err := os.ReadFile(filepath.Join(dir, upgrade.VerifyTextFile))
	require.NoError(t, err)
	t.Logf("verify:\n%s", vt)
	require.Contains(t, string(vt), "verify: all ")
	require.Regexp(t, `objects\s+[1-9][0-9]* of [1-9][0-9]* passed`, string(vt))

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
	require.Len(t, nodes.Items, len(c.Hosts), "every MKE 3 node is a Node of k0s")
	byName := map[string]corev1.Node{}
	for _, n := range nodes.Items {
		ready := false
		for _, cnd := range n.Status.Conditions {
			ready = ready || cnd.Type == corev1.NodeReady && cnd.Status == corev1.ConditionTrue
		}
		require.True(t, ready, "%s is not Ready", n.Name)
		byName[n.Name] = n
	}
	// worker-1 has MKE 3's kubelet profile high-pods (--max-pods=250): k0s
	// has it as a worker profile, and the worker's kubelet runs with it
	// (the effective kubelet configuration k0s 1.33 writes, and the pods
	// capacity the kubelet reports); worker-2 has none and keeps kubelet's
	// default of 110 (pkg/kubelet/apis/config/v1beta1/defaults.go)
	require.Equal(t, "high-pods", byName["worker-1"].Labels[testbed.KubeletProfileLabel])
	pods := func(name string) string { c := byName[name].Status.Capacity; return c.Pods().String() }
	require.Equal(t, "250", pods("worker-1"), "worker-1 runs without its profile's max-pods")
	require.Equal(t, "110", pods("worker-2"), "worker-2 has no profile")
	wc, err := kcs.CoreV1().ConfigMaps(metav1.NamespaceSystem).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	var profileCM string
	for _, cm := range wc.Items {
		if strings.HasPrefix(cm.Name, "worker-config-high-pods-") {
			profileCM = cm.Name
			var kc struct{ MaxPods int }
			require.NoError(t, json.Unmarshal([]byte(cm.Data["kubeletConfiguration"]), &kc), "ConfigMap %s", cm.Name)
			require.Equal(t, 250, kc.MaxPods, "ConfigMap %s", cm.Name)
		}
	}
	require.NotEmpty(t, profileCM, "k0s has no worker-config ConfigMap of profile high-pods")
	for name, want := range map[string]string{"worker-1": "maxPods: 250", "worker-2": "maxPods: 110"} {
		got, err := c.Exec(t.Context(), c.Host(name), "grep -E '^maxPods:' /run/k0s/kubelet/config.yaml")
		require.NoError(t, err, name)
		require.Equal(t, want, strings.TrimSpace(got), "%s's kubelet configuration", name)
	}

	// the RBAC of MKE 3's orgs and teams, applied for real: every object
	// is in k0s's API as translated, and k0s's authorizer grants what the
	// bindings say to the subjects they name
	rb := sh.RBACObjects
	require.Positive(t, len(rb.ClusterRoles), "the test bed's MKE 3 has no org or team")
	require.Positive(t, len(rb.ClusterRoleBindings)+len(rb.RoleBindings), "the test bed's MKE 3 has no grant")
	for _, r := range rb.ClusterRoles {
		got, err := kcs.RbacV1().ClusterRoles().Get(t.Context(), r.Name, metav1.GetOptions{})
		require.NoError(t, err, "ClusterRole %s", r.Name)
		require.Equal(t, r.AggregationRule, got.AggregationRule, "ClusterRole %s", r.Name)
		if r.AggregationRule == nil {
			require.Equal(t, r.Rules, got.Rules, "ClusterRole %s", r.Name)
		}
		for k, v := range r.Labels {
			require.Equal(t, v, got.Labels[k], "ClusterRole %s: label %s", r.Name, k)
		}
	}
	checked := 0
	// allowed asks k0s's authorizer, for every subject of a binding and
	// every resource rule of the role it binds (as k0s serves the role:
	// Kubernetes' view, edit and admin are aggregated by k0s's controller
	// manager), whether the subject may do the rule's first verb on its
	// first resource in ns; a user no grant names may not.
	allowed := func(ns string, subjects []rbacv1.Subject, ref rbacv1.RoleRef) {
		t.Helper()
		role, err := kcs.RbacV1().ClusterRoles().Get(t.Context(), ref.Name, metav1.GetOptions{})
		require.NoError(t, err, "ClusterRole %s", ref.Name)
		for _, sub := range subjects {
			require.Equal(t, rbacv1.UserKind, sub.Kind, "subject %+v", sub)
			for _, rule := range role.Rules {
				if len(rule.Verbs) == 0 || len(rule.Resources) == 0 {
					continue
				}
				group := ""
				if len(rule.APIGroups) > 0 {
					group = rule.APIGroups[0]
				}
				attrs := &authzv1.ResourceAttributes{Namespace: ns, Verb: rule.Verbs[0], Group: group, Resource: rule.Resources[0]}
				// the authorizer reads roles from the API server's informer
				// cache, which may be behind the GET above: the subject's
				// grant is waited for (a safety net, not a timing), then
				// the other user is denied
				for _, user := range []string{sub.Name, "nobody-of-mke3"} {
					sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs}}
					var got *authzv1.SubjectAccessReview
					err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
						var err error
						got, err = kcs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
						return err != nil || user != sub.Name || got.Status.Allowed, err
					})
					if !wait.Interrupted(err) { // past the safety net, got is the last answer
						require.NoError(t, err, "k0s's answer to %s for %+v", user, *attrs)
					}
					require.Equal(t, user == sub.Name, got.Status.Allowed, "k0s's answer to %s for %+v (granted to %s by %s): %s",
						user, *attrs, sub.Name, ref.Name, got.Status.Reason)
				}
				checked++
			}
		}
	}
	for _, b := range rb.ClusterRoleBindings {
		got, err := kcs.RbacV1().ClusterRoleBindings().Get(t.Context(), b.Name, metav1.GetOptions{})
		require.NoError(t, err, "ClusterRoleBinding %s", b.Name)
		require.Equal(t, b.Subjects, got.Subjects, "ClusterRoleBinding %s", b.Name)
		require.Equal(t, b.RoleRef, got.RoleRef, "ClusterRoleBinding %s", b.Name)
		allowed("", b.Subjects, b.RoleRef)
	}
	for _, b := range rb.RoleBindings {
		got, err := kcs.RbacV1().RoleBindings(b.Namespace).Get(t.Context(), b.Name, metav1.GetOptions{})
		require.NoError(t, err, "RoleBinding %s/%s", b.Namespace, b.Name)
		require.Equal(t, b.Subjects, got.Subjects, "RoleBinding %s/%s", b.Namespace, b.Name)
		require.Equal(t, b.RoleRef, got.RoleRef, "RoleBinding %s/%s", b.Namespace, b.Name)
		allowed(b.Namespace, b.Subjects, b.RoleRef)
	}
	require.Positive(t, checked, "no grant of MKE 3's was checked against k0s's authorizer")
	nextPhase("")
	t.Logf("RBAC applied: %d ClusterRoles, %d ClusterRoleBindings, %d RoleBindings; %d grants allowed by k0s's authorizer and denied to others",
		len(rb.ClusterRoles), len(rb.ClusterRoleBindings), len(rb.RoleBindings), checked)
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
		assert.Equal(t, comparable(k, b), comparable(k, a), "%s: changed by the carry", k)
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

// setByControllers are the annotations k0s's controller manager adds to
// an object MKE 3's had not synced yet: the Deployment's rolled-out
// revision (Kubernetes v1.37.2 pkg/controller/deployment/sync.go,
// SetDeploymentRevision) and the volume binder's marks (k8s.io/
// component-helpers storage/volume/pv_helpers.go, AnnBindCompleted and
// AnnBoundByController, set by the persistentvolume controller).
var setByControllers = map[string]bool{
	"deployment.kubernetes.io/revision":    true,
	"pv.kubernetes.io/bind-completed":      true,
	"pv.kubernetes.io/bound-by-controller": true,
}

// comparable is what must not change of a carried object: all of it
// (metadata, spec, data, rules, subjects…) but its status, its
// resourceVersion and managedFields (the API server's bookkeeping), and
// the fields k0s's controllers legitimately set since (listed here, each
// with its reason).
func comparable(key string, obj map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range obj {
		if k != "status" {
			c[k] = v
		}
	}
	md := map[string]any{}
	for k, v := range obj["metadata"].(map[string]any) {
		if k != "resourceVersion" && k != "managedFields" {
			md[k] = v
		}
	}
	if a, ok := md["annotations"].(map[string]any); ok {
		kept := map[string]any{}
		for k, v := range a {
			if !setByControllers[k] {
				kept[k] = v
			}
		}
		md["annotations"] = kept
		if len(kept) == 0 {
			delete(md, "annotations")
		}
	}
	c["metadata"] = md
	resource := key[:strings.Index(key, "/")]
	switch resource {
	case "secrets":
		// a token Secret's ca.crt is the cluster's CA, and k0s's CA is a
		// new one (docs/carry.md)
		d, _ := obj["data"].(map[string]any)
		data := map[string]any{}
		for k, v := range d {
			if k != "ca.crt" {
				data[k] = v
			}
		}
		c["data"] = data
	case "persistentvolumes", "persistentvolumeclaims":
		// the volume binder of k0s's controller manager binds them
		spec := map[string]any{}
		for k, v := range obj["spec"].(map[string]any) {
			if k != "claimRef" && k != "volumeName" {
				spec[k] = v
			}
		}
		c["spec"] = spec
	}
	return c
}
