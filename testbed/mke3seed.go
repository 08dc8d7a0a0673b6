package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/convert"
)

// SeedLabel marks every object SeedKubernetes creates (value "true"), so
// KubeObjects finds them on any cluster they were carried to.
const SeedLabel = "testbed.mke-migrate.io/seeded"

// KubeletProfileLabel is the node label that selects an MKE 3 kubelet
// profile: the project's default, convert.DefaultKubeletProfileLabel
// (MKE 3 does not publish its name).
const KubeletProfileLabel = convert.DefaultKubeletProfileLabel

// SeededKinds are the resources SeedKubernetes fills and KubeObjects
// lists, in creation order.
var SeededKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "namespaces"},
	{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	{Version: "v1", Resource: "nodes"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "persistentvolumes"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	widgetsGVR, ipPoolsGVR, felixGVR,
}

var (
	widgetsGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	// Calico's Kubernetes-datastore (KDD) resources are CRDs of group
	// crd.projectcalico.org, version v1 (Calico's manifests,
	// libcalico-go/config/crd).
	ipPoolsGVR = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ippools"}
	felixGVR   = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "felixconfigurations"}
)

// Object is one seeded object as an API server serves it.
type Object struct {
	Resource        string // "deployments.apps", "nodes", …
	Namespace, Name string
	UID             string
	ResourceVersion string
	// SpecHash is the SHA-256 of everything but metadata and status, plus
	// the labels, annotations and owner references (what a carried object
	// must keep; server-set fields are left out).
	SpecHash string
}

// Key is resource/namespace/name.
func (o Object) Key() string { return o.Resource + "/" + o.Namespace + "/" + o.Name }

// SeedKubernetes creates a realistic Kubernetes state through the API of
// a realistic cluster: namespaces, Deployments, a StatefulSet with its
// claim and volume, a DaemonSet, Services, ConfigMaps, Secrets, a CRD and
// its objects, Calico's IPPool and FelixConfiguration (KDD CRDs and
// objects), Roles, ClusterRoles and bindings, ServiceAccounts with legacy
// token Secrets (filled by the controller manager), and a Node per host
// with MKE's labels (the kubelet profile label on the first worker) and
// taints. It returns when the token Secrets are filled. Every object has
// SeedLabel. Calling it twice fails (the objects exist).
func (c *Cluster) SeedKubernetes(ctx context.Context) error {
	cfg, err := c.KubeConfig(nil)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	s := seeder{ctx: ctx, cs: cs, dc: dc}
	s.all(c)
	if s.err != nil {
		return fmt.Errorf("testbed: seeding Kubernetes: %w", s.err)
	}
	return nil
}

type seeder struct {
	ctx context.Context
	cs  kubernetes.Interface
	dc  dynamic.Interface
	err error
}

func meta(ns, name string, labels ...string) metav1.ObjectMeta {
	l := map[string]string{SeedLabel: "true"}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}
}

// do runs f unless an earlier call failed.
func (s *seeder) do(what string, f func() error) {
	if s.err != nil {
		return
	}
	if err := f(); err != nil {
		s.err = fmt.Errorf("%s: %w", what, err)
	}
}

func (s *seeder) unstructured(gvr schema.GroupVersionResource, ns string, obj map[string]any) {
	s.do(gvr.Resource, func() error {
		u := &unstructured.Unstructured{Object: obj}
		var err error
		if ns == "" {
			_, err = s.dc.Resource(gvr).Create(s.ctx, u, metav1.CreateOptions{})
		} else {
			_, err = s.dc.Resource(gvr).Namespace(ns).Create(s.ctx, u, metav1.CreateOptions{})
		}
		return err
	})
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crd creates a CRD with an open schema and waits until it is established.
func (s *seeder) crd(group, kind, plural, scope string) {
	name := plural + "." + group
	s.unstructured(crdGVR, "", map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": name, "labels": map[string]any{SeedLabel: "true"}},
		"spec": map[string]any{"group": group, "scope": scope,
			"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}},
	})
	s.do("waiting for CRD "+name, func() error {
		return poll(s.ctx, func() (bool, error) {
			u, err := s.dc.Resource(crdGVR).Get(s.ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
	})
}

// poll calls f every 100 ms until it reports done, fails, or a minute
// passes (a safety net).
func poll(ctx context.Context, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *seeder) all(c *Cluster) {
	ctx, cs := s.ctx, s.cs
	for _, ns := range []string{"shop", "monitoring"} {
		s.do("namespace "+ns, func() error {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: meta("", ns, "team", ns)}, metav1.CreateOptions{})
			return err
		})
	}
	// Nodes as MKE 3 registers them: managers carry the master role label
	// and taint, the first worker a kubelet profile, the second a user taint
	for i, h := range c.Hosts {
		n := &corev1.Node{ObjectMeta: meta("", h.Name, "kubernetes.io/hostname", h.Name, "kubernetes.io/os", "linux",
			"kubernetes.io/arch", "amd64", "beta.kubernetes.io/os", "linux")}
		if i < len(c.Managers) {
			n.Labels["node-role.kubernetes.io/master"] = ""
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "node-role.kubernetes.io/master", Effect: corev1.TaintEffectNoSchedule})
		} else {
			switch i - len(c.Managers) {
			case 0:
				n.Labels[KubeletProfileLabel] = "high-pods"
			case 1:
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})
			}
		}
		n.Spec.PodCIDR = fmt.Sprintf("192.168.%d.0/24", i)
		s.do("node "+h.Name, func() error {
			_, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
			return err
		})
	}
	s.crd("example.com", "Widget", "widgets", "Namespaced")
	s.crd("crd.projectcalico.org", "IPPool", "ippools", "Cluster")
	s.crd("crd.projectcalico.org", "FelixConfiguration", "felixconfigurations", "Cluster")
	lbl := map[string]any{SeedLabel: "true"}
	s.unstructured(ipPoolsGVR, "", map[string]any{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
		"metadata": map[string]any{"name": "default-ipv4-ippool", "labels": lbl},
		"spec": map[string]any{"cidr": "192.168.0.0/16", "blockSize": int64(26), "ipipMode": "Always", "vxlanMode": "Never",
			"natOutgoing": true, "nodeSelector": "all()"}})
	s.unstructured(felixGVR, "", map[string]any{"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration",
		"metadata": map[string]any{"name": "default", "labels": lbl},
		"spec":     map[string]any{"logSeverityScreen": "Info", "reportingInterval": "0s", "bpfLogLevel": "", "ipipMTU": int64(1440)}})
	for _, w := range []string{"widget-a", "widget-b"} {
		s.unstructured(widgetsGVR, "shop", map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": w, "namespace": "shop", "labels": lbl},
			"spec":     map[string]any{"size": int64(len(w)), "color": "blue"}})
	}
	for _, sa := range []struct{ ns, name string }{{"shop", "web"}, {"shop", "db"}, {"monitoring", "grafana"}} {
		s.do("serviceaccount "+sa.name, func() error {
			_, err := cs.CoreV1().ServiceAccounts(sa.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta(sa.ns, sa.name)}, metav1.CreateOptions{})
			return err
		})
		// a legacy long-lived token, as clusters from before 1.24 have them
		sec := &corev1.Secret{ObjectMeta: meta(sa.ns, sa.name+"-token"), Type: corev1.SecretTypeServiceAccountToken}
		sec.Annotations = map[string]string{corev1.ServiceAccountNameKey: sa.name}
		s.do("token secret "+sa.name, func() error {
			_, err := cs.CoreV1().Secrets(sa.ns).Create(ctx, sec, metav1.CreateOptions{})
			return err
		})
	}
	s.do("secret", func() error {
		_, err := cs.CoreV1().Secrets("shop").Create(ctx, &corev1.Secret{ObjectMeta: meta("shop", "db-credentials"),
			Type: corev1.SecretTypeOpaque, StringData: map[string]string{"username": "shop", "password": "s3cr3t-test-only"}}, metav1.CreateOptions{})
		return err
	})
	s.do("configmap", func() error {
		_, err := cs.CoreV1().ConfigMaps("shop").Create(ctx, &corev1.ConfigMap{ObjectMeta: meta("shop", "web-config"),
			Data: map[string]string{"nginx.conf": "server { listen 80; }\n", "LOG_LEVEL": "info"}}, metav1.CreateOptions{})
		return err
	})
	for _, svc := range []*corev1.Service{
		{ObjectMeta: meta("shop", "web"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80)}}}},
		{ObjectMeta: meta("shop", "db"), Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "db"},
			Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}},
		{ObjectMeta: meta("monitoring", "grafana"), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "grafana"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 3000, NodePort: 32000}}}},
	} {
		s.do("service "+svc.Name, func() error {
			_, err := cs.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
			return err
		})
	}
	s.do("persistentvolume", func() error {
		pv := &corev1.PersistentVolume{ObjectMeta: meta("", "shop-db-0"), Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: "manual",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/shop-db-0"}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: "shop", Name: "data-db-0"}}}
		_, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
		return err
	})
	s.do("persistentvolumeclaim", func() error {
		sc := "manual"
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: meta("shop", "data-db-0", "app", "db"), Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: &sc, VolumeName: "shop-db-0",
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
		_, err := cs.CoreV1().PersistentVolumeClaims("shop").Create(ctx, pvc, metav1.CreateOptions{})
		return err
	})
	podSpec := func(app, image, sa string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: app, Image: image}}}}
	}
	two := int32(2)
	s.do("deployment web", func() error {
		_, err := cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{ObjectMeta: meta("shop", "web"), Spec: appsv1.DeploymentSpec{
			Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: podSpec("web", "nginx:1.27", "web")}},
			metav1.CreateOptions{})
		return err
	})
	s.do("deployment grafana", func() error {
		_, err := cs.AppsV1().Deployments("monitoring").Create(ctx, &appsv1.Deployment{ObjectMeta: meta("monitoring", "grafana"), Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "grafana"}}, Template: podSpec("grafana", "grafana/grafana:11.0.0", "grafana")}},
			metav1.CreateOptions{})
		return err
	})
	s.do("statefulset db", func() error {
		sc := "manual"
		_, err := cs.AppsV1().StatefulSets("shop").Create(ctx, &appsv1.StatefulSet{ObjectMeta: meta("shop", "db"), Spec: appsv1.StatefulSetSpec{
			ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, Template: podSpec("db", "postgres:16", "db"),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: &sc,
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}}},
			metav1.CreateOptions{})
		return err
	})
	s.do("daemonset", func() error {
		_, err := cs.AppsV1().DaemonSets("monitoring").Create(ctx, &appsv1.DaemonSet{ObjectMeta: meta("monitoring", "node-exporter"), Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "node-exporter"}}, Template: podSpec("node-exporter", "prom/node-exporter:v1.8.0", "")}},
			metav1.CreateOptions{})
		return err
	})
	s.do("role", func() error {
		_, err := cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{ObjectMeta: meta("shop", "pod-reader"),
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list", "watch"}}}}, metav1.CreateOptions{})
		return err
	})
	s.do("rolebinding", func() error {
		_, err := cs.RbacV1().RoleBindings("shop").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: meta("shop", "web-reads-pods"),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "web", Namespace: "shop"}, {Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}},
			metav1.CreateOptions{})
		return err
	})
	s.do("clusterrole", func() error {
		_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: meta("", "widget-viewer"),
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{"widgets"}, Verbs: []string{"get", "list"}}}}, metav1.CreateOptions{})
		return err
	})
	s.do("clusterrolebinding", func() error {
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "grafana-views-widgets"),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "widget-viewer"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "grafana", Namespace: "monitoring"}}}, metav1.CreateOptions{})
		return err
	})
	// the token controller fills the legacy token Secrets
	for _, sa := range []struct{ ns, name string }{{"shop", "web"}, {"shop", "db"}, {"monitoring", "grafana"}} {
		s.do("waiting for the token of "+sa.name, func() error {
			return poll(ctx, func() (bool, error) {
				sec, err := cs.CoreV1().Secrets(sa.ns).Get(ctx, sa.name+"-token", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				return len(sec.Data[corev1.ServiceAccountTokenKey]) > 0, nil
			})
		})
	}
}

// KubeObjects lists the seeded objects (SeedLabel) that the API server of
// cfg serves, sorted by Key: compare two lists to tell whether a cluster
// kept them (same UID, resourceVersion and SpecHash). A kind the server
// does not know lists nothing.
func KubeObjects(ctx context.Context, cfg *rest.Config) ([]Object, error) {
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	var out []Object
	for _, gvr := range SeededKinds {
		l, err := dc.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: SeedLabel + "=true"})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("testbed: listing %s: %w", gvr.Resource, err)
		}
		res := gvr.Resource
		if gvr.Group != "" {
			res += "." + gvr.Group
		}
		for _, u := range l.Items {
			h, err := specHash(u.Object)
			if err != nil {
				return nil, err
			}
			out = append(out, Object{Resource: res, Namespace: u.GetNamespace(), Name: u.GetName(), UID: string(u.GetUID()),
				ResourceVersion: u.GetResourceVersion(), SpecHash: h})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// specHash hashes an object without metadata and status, plus its labels,
// annotations and owner references.
func specHash(obj map[string]any) (string, error) {
	m := map[string]any{}
	for k, v := range obj {
		if k != "metadata" && k != "status" {
			m[k] = v
		}
	}
	u := unstructured.Unstructured{Object: obj}
	m["labels"], m["annotations"], m["ownerReferences"] = u.GetLabels(), u.GetAnnotations(), u.GetOwnerReferences()
	b, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		return "", fmt.Errorf("testbed: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CountKinds counts objects per resource, for before/after summaries.
func CountKinds(objs []Object) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		m[o.Resource]++
	}
	return m
}

// DiffObjects describes how after differs from before (missing, extra or
// changed objects by UID, resourceVersion or SpecHash); nil when equal.
func DiffObjects(before, after []Object) error {
	idx := map[string]Object{}
	for _, o := range after {
		idx[o.Key()] = o
	}
	var errs []error
	for _, b := range before {
		a, ok := idx[b.Key()]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: missing", b.Key()))
		case a != b:
			errs = append(errs, fmt.Errorf("%s: was %s@%s (%s), now %s@%s (%s)", b.Key(), b.UID, b.ResourceVersion, b.SpecHash[:12],
				a.UID, a.ResourceVersion, a.SpecHash[:12]))
		}
		delete(idx, b.Key())
	}
	extra := make([]string, 0, len(idx))
	for k := range idx {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		errs = append(errs, fmt.Errorf("%s: not there before", k))
	}
	return errors.Join(errs...)
}
