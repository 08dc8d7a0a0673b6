package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/testbed"
)

func TestParseWorkerArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want workerOptions
		tok  string
		err  string
	}{
		// the service's command line as k0s install worker writes it
		{args: []string{"--data-dir=/d", "--kubelet-extra-args=--node-ip=10.0.0.5 --v=2", "--labels=a=1,b=2", "--profile=big", "--taints=x=y:NoSchedule", "--token-file=/t", "--debug=true"},
			want: workerOptions{dataDir: "/d", profile: "big", tokenFile: "/t", kubeletExtraArgs: "--node-ip=10.0.0.5 --v=2", labels: []string{"a=1", "b=2"}, taints: []string{"x=y:NoSchedule"}}},
		{args: []string{"TOKEN"}, want: workerOptions{dataDir: k0sDataDir, profile: "default"}, tok: "TOKEN"},
		{args: []string{"--token-file=/t", "TOKEN"}, err: "you can only pass one token argument"},
		{args: []string{"a", "b"}, err: "accepts at most 1 arg(s), received 2"},
		{args: []string{"--enable-worker"}, err: "unknown flag: --enable-worker"},
	} {
		o, tok, err := parseWorkerArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if tc.want.labels == nil {
			tc.want.labels, tc.want.taints = []string{}, []string{}
		}
		if err != nil || tok != tc.tok || fmt.Sprint(o) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %+v %q %v, want %+v %q", tc.args, o, tok, err, tc.want, tc.tok)
		}
	}
}

func TestParseTaintAndLabels(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"a=b:NoSchedule", ""}, {"a:NoExecute", ""}, {"a", ""}, {"a=b:Never", "invalid taint effect"},
		{"a=b=c:NoSchedule", "invalid taint spec"}, {"a:b:c", "invalid taint spec"}, {"-x:NoSchedule", "invalid taint spec"},
	} {
		_, err := parseTaint(tc.in)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parseTaint(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
	for _, tc := range []struct {
		labels []string
		err    string
	}{
		{[]string{"com.docker.ucp.access.label=/prod", "node.kubernetes.io/pool=a"}, "invalid node labels"},
		{[]string{"tier=db", "node.kubernetes.io/pool=a", "kubelet.kubernetes.io/x=1"}, ""},
		{[]string{"node-role.kubernetes.io/worker=true"}, "unknown 'kubernetes.io' or 'k8s.io' labels"},
	} {
		w := &worker{o: workerOptions{labels: tc.labels}}
		_, err := w.nodeLabels()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("nodeLabels(%q) = %v, want %q", tc.labels, err, tc.err)
		}
	}
}

// joinPlane is a control plane with what a k0s controller gives joining
// workers: bootstrap-token authentication, the Node authorizer and
// NodeRestriction (k0s's kube-apiserver flags), kube-controller-manager's
// csrsigning and csrapproving, and k0s's bootstrap RBAC
// (pkg/component/controller/systemrbac.yaml) and worker-config Role
// (pkg/component/controller/workerconfig/reconciler.go).
type joinPlane struct {
	*kubetest.Plane
	cs *kubernetes.Clientset
}

func startJoinPlane(t *testing.T) *joinPlane {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (the worker writes its files as root)")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "kubernetes-ca"}, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caPEM, err := certutil.EncodeCertificates(ca)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p := kubetest.StartT(t, kubetest.Options{
		ClientCAPEM:           caPEM,
		APIServerArgs:         []string{"--enable-bootstrap-token-auth", "--authorization-mode", "Node", "--enable-admission-plugins", "NodeRestriction"},
		ControllerManager:     true,
		Controllers:           []string{"csrsigning", "csrapproving"},
		ControllerManagerArgs: []string{"--cluster-signing-cert-file", caFile, "--cluster-signing-key-file", keyFile},
	})
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: n}
	}
	for name, role := range map[string]string{
		"kubelet-bootstrap":                     "system:node-bootstrapper",
		"node-autoapprove-bootstrap":            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
		"node-autoapprove-certificate-rotation": "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
	} {
		subj := group("system:bootstrappers")
		if name == "node-autoapprove-certificate-rotation" {
			subj = group("system:nodes")
		}
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{subj}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	return &joinPlane{Plane: p, cs: cs}
}

// profile creates the ConfigMap of a worker profile as k0s's worker-config
// reconciler does, with kubelet's port and maxPods set, and the Role that
// lets workers read it.
func (jp *joinPlane) profile(t *testing.T, name string, port int32, maxPods int32) {
	t.Helper()
	ctx := context.Background()
	kc := kubeletv1beta1.KubeletConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", Port: port, MaxPods: maxPods,
	}
	b, err := json.Marshal(kc)
	if err != nil {
		t.Fatal(err)
	}
	cmName := workerConfigMapName(name)
	_, err = jp.cs.CoreV1().ConfigMaps("kube-system").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cmName,
		Labels: map[string]string{"k0s.k0sproject.io/worker-profile": name}},
		Data: map[string]string{"kubeletConfiguration": string(b)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roleName := "system:bootstrappers:" + workerConfigMapName("")
	role, err := jp.cs.RbacV1().Roles("kube-system").Get(ctx, roleName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		role = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: "kube-system"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}}}
		if role, err = jp.cs.RbacV1().Roles("kube-system").Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = jp.cs.RbacV1().RoleBindings("kube-system").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: "kube-system"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:bootstrappers"},
				{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:nodes"}}}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	role.Rules[0].ResourceNames = append(role.Rules[0].ResourceNames, cmName)
	if _, err := jp.cs.RbacV1().Roles("kube-system").Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// token creates a worker join token as "k0s token create --role worker"
// does (pkg/token/manager.go, kubeconfig.go, joinencode.go) and returns its
// ID and the encoded token.
func (jp *joinPlane) token(t *testing.T) (string, string) {
	t.Helper()
	tok, err := randomToken()
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := strings.Cut(tok, ".")
	_, err = jp.cs.CoreV1().Secrets("kube-system").Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       corev1.SecretTypeBootstrapToken,
		StringData: map[string]string{"token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true",
			"description": "Worker bootstrap token generated by k0s"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"k0s": {Server: jp.Config.Host, CertificateAuthorityData: jp.Config.CAData}},
		Contexts:       map[string]*clientcmdapi.Context{"k0s": {Cluster: "k0s", AuthInfo: "kubelet-bootstrap"}},
		CurrentContext: "k0s",
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"kubelet-bootstrap": {Token: tok}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(kc)
	_ = zw.Close()
	return id, base64.StdEncoding.EncodeToString(b.Bytes())
}

func randomToken() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	r := make([]byte, 22)
	if _, err := rand.Read(r); err != nil {
		return "", err
	}
	for i := range r {
		r[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return string(r[:6]) + "." + string(r[6:]), nil
}

// runningWorker is a "k0s worker" process of the fakenode binary, run on
// the machine with its host paths under root.
type runningWorker struct {
	cmd             *exec.Cmd
	dir, root, log  string
	dataDir, name   string
	started, exited time.Time
	done            chan struct{}
}

// startWorker runs k0s worker as node name with the token and flags; cni
// puts a Calico CNI configuration where containerd would look for it.
func startWorker(t *testing.T, name, token string, cni bool, flags ...string) *runningWorker {
	t.Helper()
	bin, err := testbed.FakeNodeBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &runningWorker{dir: dir, root: filepath.Join(dir, "root"), log: filepath.Join(dir, "k0sworker.log"),
		dataDir: filepath.Join(dir, "k0s"), name: name, done: make(chan struct{})}
	if cni {
		writeCNI(t, w.root)
	}
	k0s := filepath.Join(dir, "k0s-bin", "k0s")
	if err := os.MkdirAll(filepath.Dir(k0s), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, k0s); err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(dir, "token")
	if err := os.WriteFile(tf, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(w.log)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	args := append([]string{"worker", "--data-dir=" + w.dataDir, "--token-file=" + tf,
		"--kubelet-extra-args=--hostname-override=" + name}, flags...)
	w.cmd = exec.Command(k0s, args...)
	w.cmd.Env = append(os.Environ(), "FAKENODE_DIR="+filepath.Join(dir, "state"), envRoot+"="+w.root)
	w.cmd.Stdout, w.cmd.Stderr = log, log
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	w.started = time.Now()
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); w.exited = time.Now(); close(w.done) }()
	t.Cleanup(func() { w.stop(t) })
	return w
}

func writeCNI(t *testing.T, root string) {
	t.Helper()
	p := filepath.Join(root, cniConfDir, "10-calico.conflist")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"calico"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stop ends the worker with SIGTERM, as systemctl stop does; it reports
// whether the worker exited by itself (exit status 0).
func (w *runningWorker) stop(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		if !w.cmd.ProcessState.Success() {
			t.Errorf("%s: k0s worker exited with %v after SIGTERM; log:\n%s", w.name, w.cmd.ProcessState, w.logText())
		}
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		t.Errorf("%s: k0s worker did not end on SIGTERM", w.name)
	}
}

func (w *runningWorker) logText() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}

// waitLog waits (at most a generous safety net) until the log holds all
// of the strings.
func (w *runningWorker) waitLog(t *testing.T, within time.Duration, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		text := w.logText()
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(text, s)
		}
		if ok {
			return
		}
		select {
		case <-w.done:
			t.Fatalf("%s: k0s worker exited (%v) before logging %q; log:\n%s", w.name, w.cmd.ProcessState, subs, text)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q in the log after %s; log:\n%s", w.name, subs, within, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitNode waits until the Node's Ready condition has status want and
// returns the Node.
func (jp *joinPlane) waitNode(t *testing.T, w *runningWorker, want corev1.ConditionStatus) *corev1.Node {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n, err := jp.cs.CoreV1().Nodes().Get(context.Background(), w.name, metav1.GetOptions{})
		if err == nil && readyStatus(n) == want {
			return n
		}
		select {
		case <-w.done:
			t.Fatalf("%s: k0s worker exited (%v); log:\n%s", w.name, w.cmd.ProcessState, w.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Node not Ready=%s (last error %v); log:\n%s", w.name, want, err, w.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ownTaints leaves out the node.kubernetes.io/not-ready taint the API
// server's TaintNodesByCondition admission adds to a new Node (no node
// lifecycle controller runs here to remove it).
func ownTaints(n *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range n.Spec.Taints {
		if t.Key != "node.kubernetes.io/not-ready" {
			out = append(out, t)
		}
	}
	return out
}

func (jp *joinPlane) noNode(t *testing.T, name string) {
	t.Helper()
	if _, err := jp.cs.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Node %s: %v, want NotFound", name, err)
	}
}

func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func healthz(port int32) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // kubelet's self-signed certificate
	resp, err := c.Get("https://127.0.0.1:" + strconv.Itoa(int(port)) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// TestWorkerJoin joins fake k0s workers to a real control plane configured
// as a k0s controller configures it; the cases share the plane.
func TestWorkerJoin(t *testing.T) {
	jp := startJoinPlane(t)
	ctx := context.Background()

	t.Run("new node", func(t *testing.T) {
		port := freePort(t)
		jp.profile(t, "join", port, 42)
		id, tok := jp.token(t)
		w := startWorker(t, "k0swrk-new", tok, true, "--profile=join", "--labels=tier=db,node.kubernetes.io/pool=a", "--taints=dedicated=db:NoSchedule")
		n := jp.waitNode(t, w, corev1.ConditionTrue)
		if n.Labels["tier"] != "db" || n.Labels["node.kubernetes.io/pool"] != "a" || n.Labels[corev1.LabelHostname] != "k0swrk-new" {
			t.Errorf("labels %v", n.Labels)
		}
		if ts := ownTaints(n); len(ts) != 1 || ts[0].Key != "dedicated" || ts[0].Effect != corev1.TaintEffectNoSchedule {
			t.Errorf("taints %v", n.Spec.Taints)
		}
		if got := n.Status.Capacity.Pods().Value(); got != 42 {
			t.Errorf("pods capacity %d, want the profile's maxPods 42", got)
		}
		// the CSR was made with the bootstrap token and approved by
		// kube-controller-manager
		csrs, err := jp.cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range csrs.Items {
			if c.Spec.Username == "system:bootstrap:"+id && strings.HasPrefix(c.Name, "node-csr-") && len(c.Status.Certificate) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("no signed node-csr-* requested by system:bootstrap:%s", id)
		}
		// the Lease is renewed by the node itself
		l, err := jp.cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, w.name, metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != w.name {
			t.Errorf("lease %v, %v", l, err)
		}
		// the kubelet configuration has the profile's values and the taints
		var kc kubeletv1beta1.KubeletConfiguration
		b, err := os.ReadFile(filepath.Join(w.root, "/run/k0s/kubelet/config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &kc); err != nil {
			t.Fatal(err)
		}
		if kc.MaxPods != 42 || kc.Port != port || kc.ClusterDomain != "cluster.local" || len(kc.RegisterWithTaints) != 1 {
			t.Errorf("kubelet config %s", b)
		}
		if err := healthz(port); err != nil {
			t.Errorf("kubelet port: %v", err)
		}
		for _, f := range []string{"kubelet.conf", "worker-profile.yaml", "kubelet/pki/kubelet-client-current.pem"} {
			if _, err := os.Stat(filepath.Join(w.dataDir, f)); err != nil {
				t.Error(err)
			}
		}
		w.stop(t)
		if err := healthz(port); err == nil {
			t.Error("the kubelet port still answers after k0s worker stopped")
		}
	})

	t.Run("existing node keeps labels and taints", func(t *testing.T) {
		port := freePort(t)
		jp.profile(t, "existing", port, 0)
		_, err := jp.cs.CoreV1().Nodes().Create(ctx, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "k0swrk-mke3", Labels: map[string]string{
				"com.docker.ucp.collection": "shared", "node-role.kubernetes.io/worker": "", corev1.LabelHostname: "k0swrk-mke3"}},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "com.docker.ucp.manager", Effect: corev1.TaintEffectNoSchedule}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, tok := jp.token(t)
		w := startWorker(t, "k0swrk-mke3", tok, true, "--profile=existing", "--labels=extra=1", "--taints=new=1:NoExecute")
		n := jp.waitNode(t, w, corev1.ConditionTrue)
		if n.Labels["com.docker.ucp.collection"] != "shared" || n.Labels[corev1.LabelOSStable] != "linux" {
			t.Errorf("labels %v", n.Labels)
		}
		// kubelet adds --node-labels and registerWithTaints only to a Node
		// it creates (tryRegisterWithAPIServer)
		if _, ok := n.Labels["extra"]; ok {
			t.Errorf("the install label was added to an existing Node: %v", n.Labels)
		}
		if ts := ownTaints(n); len(ts) != 1 || ts[0].Key != "com.docker.ucp.manager" {
			t.Errorf("taints %v", n.Spec.Taints)
		}
	})

	t.Run("no CNI configuration: NotReady until there is one", func(t *testing.T) {
		jp.profile(t, "nocni", freePort(t), 0)
		_, tok := jp.token(t)
		w := startWorker(t, "k0swrk-nocni", tok, false, "--profile=nocni")
		n := jp.waitNode(t, w, corev1.ConditionFalse)
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && !strings.Contains(c.Message, "cni plugin not initialized") {
				t.Errorf("Ready condition %+v", c)
			}
		}
		writeCNI(t, w.root)
		jp.waitNode(t, w, corev1.ConditionTrue)
	})

	t.Run("missing profile never registers", func(t *testing.T) {
		_, tok := jp.token(t)
		w := startWorker(t, "k0swrk-noprofile", tok, true, "--profile=absent")
		// k0s's worker-config Role names only the ConfigMaps that exist, so
		// the kubelet's credentials get Forbidden rather than NotFound
		w.waitLog(t, 3*time.Minute, "Failed to load configuration for worker profile in attempt #3", workerConfigMapName("absent"))
		jp.noNode(t, w.name)
		if _, err := os.Stat(filepath.Join(w.root, "/run/k0s/kubelet/config.yaml")); !os.IsNotExist(err) {
			t.Errorf("kubelet config written without a profile: %v", err)
		}
	})

	t.Run("invalidated token fails", func(t *testing.T) {
		id, tok := jp.token(t)
		// k0s token invalidate deletes the bootstrap token Secret
		if err := jp.cs.CoreV1().Secrets("kube-system").Delete(ctx, "bootstrap-token-"+id, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		w := startWorker(t, "k0swrk-invalid", tok, true)
		w.waitLog(t, 3*time.Minute, "Failed to connect to apiserver", "provide credentials")
		jp.noNode(t, w.name)
		if _, err := os.Stat(filepath.Join(w.dataDir, "kubelet.conf")); !os.IsNotExist(err) {
			t.Errorf("kubelet.conf with an invalidated token: %v", err)
		}
	})

	t.Run("taken kubelet port", func(t *testing.T) {
		port := freePort(t)
		jp.profile(t, "port", port, 0)
		l, err := net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(int(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, tok := jp.token(t)
		w := startWorker(t, "k0swrk-port", tok, true, "--profile=port")
		w.waitLog(t, 3*time.Minute, "address already in use", "respawning")
		jp.noNode(t, w.name)
		// kubelet is respawned and starts once the port is free
		_ = l.Close()
		jp.waitNode(t, w, corev1.ConditionTrue)
	})
}
