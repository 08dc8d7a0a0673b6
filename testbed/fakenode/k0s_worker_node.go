//go:build !fakenodelight

package main

// The kubelet part of the fake k0s worker: the configuration file k0s
// writes for it (pkg/component/worker/kubelet.go), then what kubelet does
// with it (Kubernetes 1.33, pkg/kubelet): refuse bad --node-labels, hold
// its port, register the Node (kubelet_node_status.go) and keep it Ready
// by renewing its Lease (nodelease) and posting its status (nodestatus).
//
// Why not KWOK: KWOK keeps simulated Nodes Ready from one controller in the
// cluster, independently of the nodes' own processes. Here the heartbeat
// must come from the worker's process, so that a stopped k0s, a killed
// host or a taken port shows as it would (the Lease stops being renewed),
// and one small loop per worker costs less memory than a KWOK process.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletapis "k8s.io/kubelet/pkg/apis"
	"sigs.k8s.io/yaml"
)

// kubeletConfigPath is where k0s writes the kubelet's configuration:
// <RunDir>/kubelet/config.yaml (Kubelet.Init in
// pkg/component/worker/kubelet.go; RunDir is /run/k0s for root).
func (w *worker) kubeletConfigPath() string { return filepath.Join(w.runDir, "kubelet", "config.yaml") }

// runKubelet is the Kubelet component: it writes the configuration, then
// runs kubelet, which k0s's supervisor respawns when it exits.
func (w *worker) runKubelet(ctx context.Context, p *workerProfile) error {
	cfg, err := w.writeKubeletConfig(p)
	if err != nil {
		return fmt.Errorf("failed to start worker components: %w", err)
	}
	if w.kubeletStarted != nil {
		w.kubeletStarted(ctx)
	}
	for {
		err := w.kubelet(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		w.log.Error("kubelet exited; respawning", "component", "kubelet", "error", err, "after", respawnDelay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(respawnDelay):
		}
	}
}

// writeKubeletConfig is Kubelet.writeKubeletConfig: the profile's
// kubeletConfiguration (the controller merged the profile's values over
// k0s's defaults), plus the client CA of kubelet.conf, resolv.conf, the
// containerd endpoint and --taints as registerWithTaints, written 0600.
func (w *worker) writeKubeletConfig(p *workerProfile) (*kubeletv1beta1.KubeletConfiguration, error) {
	cfg := p.Kubelet.DeepCopy()
	kc, err := clientcmd.BuildConfigFromFlags("", w.kubeletConf)
	if err != nil {
		return nil, fmt.Errorf("failed to load kubelet kubeconfig: %w", err)
	}
	caPath := kc.CAFile
	if len(kc.CAData) > 0 {
		caPath = filepath.Join(w.runDir, "kubelet", "ca.crt")
		if err := writeFileAtomic(caPath, kc.CAData, 0o644); err != nil {
			return nil, fmt.Errorf("failed to write kubelet CA file: %w", err)
		}
	}
	cfg.Authentication.X509.ClientCAFile = caPath
	if cfg.ResolverConfig == nil {
		resolv := "/etc/resolv.conf"
		cfg.ResolverConfig = &resolv
	}
	cfg.StaticPodURL = ""
	// GetContainerRuntimeEndpoint: k0s's own containerd without --cri-socket
	cfg.ContainerRuntimeEndpoint = "unix://" + filepath.Join(w.runDir, "containerd.sock")
	if s := w.o.criSocket; s != "" {
		_, path, _ := strings.Cut(s, ":")
		cfg.ContainerRuntimeEndpoint = "unix://" + path
	}
	if len(w.o.taints) > 0 {
		cfg.RegisterWithTaints = nil
		for _, t := range w.o.taints {
			taint, err := parseTaint(t)
			if err != nil {
				return nil, fmt.Errorf("can't parse taints for profile config map: %w", err)
			}
			cfg.RegisterWithTaints = append(cfg.RegisterWithTaints, taint)
		}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("can't marshal kubelet config: %w", err)
	}
	if err := writeFileAtomic(w.kubeletConfigPath(), b, 0o600); err != nil {
		return nil, fmt.Errorf("failed to write kubelet config: %w", err)
	}
	return cfg, nil
}

// parseTaint is pkg/component/worker/kubelet.go's: key[=value][:effect].
func parseTaint(st string) (corev1.Taint, error) {
	var t corev1.Taint
	parts := strings.Split(st, ":")
	switch len(parts) {
	case 1:
		t.Key = parts[0]
	case 2:
		t.Effect = corev1.TaintEffect(parts[1])
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectPreferNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			return t, fmt.Errorf("invalid taint effect: %s, unsupported taint effect", t.Effect)
		}
		kv := strings.Split(parts[0], "=")
		if len(kv) > 2 {
			return t, fmt.Errorf("invalid taint spec: %s", st)
		}
		t.Key = kv[0]
		if len(kv) == 2 {
			t.Value = kv[1]
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				return t, fmt.Errorf("invalid taint spec: %s, %s", st, strings.Join(errs, "; "))
			}
		}
	default:
		return t, fmt.Errorf("invalid taint spec: %s", st)
	}
	if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
		return t, fmt.Errorf("invalid taint spec: %s, %s", st, strings.Join(errs, "; "))
	}
	return t, nil
}

// nodeLabels are k0s's --labels as kubelet's --node-labels
// (Kubelet.Start), checked as ValidateKubeletFlags does
// (cmd/kubelet/app/options/options.go): kubelet refuses to start with a
// label in the kubernetes.io or k8s.io namespaces that a kubelet may not
// set (node-role.kubernetes.io/… for one).
func (w *worker) nodeLabels() (map[string]string, error) {
	labels := map[string]string{}
	var unknown, invalid []string
	for _, l := range w.o.labels {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
		ns, _, _ := strings.Cut(k, "/")
		if !strings.Contains(k, "/") {
			ns = ""
		}
		isK8s := ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") || ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")
		if isK8s && !kubeletapis.IsKubeletLabel(k) {
			unknown = append(unknown, k)
		}
		for _, e := range validation.IsQualifiedName(k) {
			invalid = append(invalid, fmt.Sprintf("'%s' - %s", k, e))
		}
		for _, e := range validation.IsValidLabelValue(v) {
			invalid = append(invalid, fmt.Sprintf("'%s' - %s", v, e))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: %v\n--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (%s) or be in the specifically allowed set (%s)",
			unknown, strings.Join(kubeletapis.KubeletLabelNamespaces(), ", "), strings.Join(kubeletapis.KubeletLabels(), ", "))
	}
	if len(invalid) > 0 {
		return nil, fmt.Errorf("invalid node labels: %s", strings.Join(invalid, "; "))
	}
	return labels, nil
}

// kubeletDefaults are SetDefaults_KubeletConfiguration's values
// (pkg/kubelet/apis/config/v1beta1/defaults.go) for the fields the fake
// kubelet uses.
func kubeletDefaults(c *kubeletv1beta1.KubeletConfiguration) {
	if c.Port == 0 {
		c.Port = 10250 // ports.KubeletPort
	}
	if c.Address == "" {
		c.Address = "0.0.0.0"
	}
	if c.NodeStatusUpdateFrequency.Duration == 0 {
		c.NodeStatusUpdateFrequency.Duration = 10 * time.Second
	}
	if c.NodeStatusReportFrequency.Duration == 0 {
		c.NodeStatusReportFrequency.Duration = 5 * time.Minute
	}
	if c.NodeLeaseDurationSeconds == 0 {
		c.NodeLeaseDurationSeconds = 40
	}
	if c.MaxPods == 0 {
		c.MaxPods = 110
	}
}

// kubelet is one run of the kubelet process: it ends only with ctx or on
// an error kubelet exits on.
func (w *worker) kubelet(ctx context.Context, conf *kubeletv1beta1.KubeletConfiguration) error {
	cfg := conf.DeepCopy()
	// kubelet's command-line flags win over its configuration file; k0s
	// passes --kubelet-extra-args to it
	if p, err := strconv.Atoi(w.extraArgs["--port"]); err == nil {
		cfg.Port = int32(p)
	}
	kubeletDefaults(cfg)
	labels, err := w.nodeLabels()
	if err != nil {
		return fmt.Errorf("failed to validate kubelet flags: %w", err)
	}
	// the kubelet's server (pkg/kubelet/server): a real listener, so that a
	// taken port fails as "bind: address already in use"
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Address, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		return fmt.Errorf("failed to listen and serve: %w", err)
	}
	tlsCert, err := w.servingCert()
	if err != nil {
		_ = ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()
	w.log.Info("kubelet listening", "component", "kubelet", "address", ln.Addr().String())

	rc, err := clientcmd.BuildConfigFromFlags("", w.kubeletConf)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	n := &nodeAgent{w: w, client: client, cfg: cfg, labels: labels}
	if err := n.register(ctx); err != nil {
		return err
	}
	n.heartbeat(ctx)
	return nil
}

// servingCert is the self-signed serving certificate kubelet makes when it
// is given none (<cert-dir>/kubelet.crt and kubelet.key). The fake does
// not request a serving certificate by CSR (serverTLSBootstrap), and its
// key is ECDSA P-256 rather than kubelet's two RSA-2048 keys: generating
// those took seconds per worker when many start at once.
func (w *worker) servingCert() (tls.Certificate, error) {
	crt, key := filepath.Join(w.certDir, "kubelet.crt"), filepath.Join(w.certDir, "kubelet.key")
	if c, err := tls.LoadX509KeyPair(crt, key); err == nil {
		return c, nil
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()),
		Subject:   pkix.Name{CommonName: w.nodeName + "@" + strconv.FormatInt(now.Unix(), 10)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{w.nodeName}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, err
	}
	kder, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return tls.Certificate{}, err
	}
	cb := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := writeFileAtomic(crt, cb, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(key, kb, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cb, kb)
}

// nodeAgent registers the Node and keeps it alive.
type nodeAgent struct {
	w      *worker
	client kubernetes.Interface
	cfg    *kubeletv1beta1.KubeletConfiguration
	labels map[string]string
	uid    types.UID
	// the last status posted and when
	lastReady    corev1.ConditionStatus
	lastReported time.Time
}

// cmadAnnotation is the controller-managed attach-detach annotation
// kubelet sets (volumeutil.ControllerManagedAttachAnnotation).
const cmadAnnotation = "volumes.kubernetes.io/controller-managed-attach-detach"

// initialNode is kubelet's initialNode: the default labels, the node
// labels, registerWithTaints and the first status.
func (n *nodeAgent) initialNode() *corev1.Node {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.w.nodeName, Labels: n.defaultLabels(),
		Annotations: map[string]string{cmadAnnotation: "true"}}}
	for k, v := range n.labels {
		node.Labels[k] = v
	}
	node.Spec.Taints = append(node.Spec.Taints, n.cfg.RegisterWithTaints...)
	n.setStatus(node, time.Now())
	return node
}

func (n *nodeAgent) defaultLabels() map[string]string {
	return map[string]string{
		corev1.LabelHostname: n.w.nodeName,
		corev1.LabelOSStable: runtime.GOOS, corev1.LabelArchStable: runtime.GOARCH,
		"beta.kubernetes.io/os": runtime.GOOS, "beta.kubernetes.io/arch": runtime.GOARCH,
	}
}

// register is registerWithAPIServer/tryRegisterWithAPIServer
// (pkg/kubelet/kubelet_node_status.go): create the Node; when it exists
// already (a Node carried from MKE 3), keep it (its labels, taints and
// spec) and only reconcile the default labels and the attach-detach
// annotation: kubelet adds --node-labels and registerWithTaints to a Node
// it creates, never to an existing one. Retried with kubelet's back-off
// (100 ms doubling to 7 s).
func (n *nodeAgent) register(ctx context.Context) error {
	step := 100 * time.Millisecond
	for {
		err := n.tryRegister(ctx)
		if err == nil {
			n.w.log.Info("Successfully registered node", "component", "kubelet", "node", n.w.nodeName)
			return nil
		}
		n.w.log.Error("Unable to register node with API server", "component", "kubelet", "node", n.w.nodeName, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
		step = min(2*step, 7*time.Second)
	}
}

func (n *nodeAgent) tryRegister(ctx context.Context) error {
	node := n.initialNode()
	created, err := n.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		n.uid = created.UID
		n.lastReady, n.lastReported = readyStatus(created), time.Now()
		return nil
	}
	if !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) {
		return err
	}
	existing, err := n.client.CoreV1().Nodes().Get(ctx, n.w.nodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("error getting existing node: %w", err)
	}
	n.uid = existing.UID
	n.w.log.Info("Node was previously registered", "component", "kubelet", "node", n.w.nodeName)
	updated := existing.DeepCopy()
	changed := false
	if updated.Annotations[cmadAnnotation] != "true" {
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		updated.Annotations[cmadAnnotation] = "true"
		changed = true
	}
	// updateDefaultLabels: only the default labels, and only to the
	// kubelet's value
	for k, v := range n.defaultLabels() {
		if updated.Labels[k] != v {
			if updated.Labels == nil {
				updated.Labels = map[string]string{}
			}
			updated.Labels[k] = v
			changed = true
		}
	}
	if changed {
		if err := n.patchStatus(ctx, existing, updated); err != nil {
			return fmt.Errorf("error updating node: %w", err)
		}
	}
	// the first syncNodeStatus follows at once
	return n.postStatus(ctx)
}

// patchStatus is nodeutil.PatchNodeStatus: a two-way strategic merge patch
// of the status subresource (metadata included).
func (n *nodeAgent) patchStatus(ctx context.Context, oldNode, newNode *corev1.Node) error {
	ob, err := json.Marshal(oldNode)
	if err != nil {
		return err
	}
	nb, err := json.Marshal(newNode)
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(ob, nb, corev1.Node{})
	if err != nil {
		return err
	}
	_, err = n.client.CoreV1().Nodes().Patch(ctx, n.w.nodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// postStatus is one updateNodeStatus: the Node's status as the setters
// make it, patched.
func (n *nodeAgent) postStatus(ctx context.Context) error {
	node, err := n.client.CoreV1().Nodes().Get(ctx, n.w.nodeName, metav1.GetOptions{ResourceVersion: "0"})
	if err != nil {
		return fmt.Errorf("error getting node %q: %w", n.w.nodeName, err)
	}
	updated := node.DeepCopy()
	now := time.Now()
	n.setStatus(updated, now)
	if err := n.patchStatus(ctx, node, updated); err != nil {
		return err
	}
	n.lastReady, n.lastReported = readyStatus(updated), now
	return nil
}

func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

// cniConfDir is where k0s's containerd looks for CNI configurations
// (containerd's CRI plugin conf_dir; k0s keeps the default /etc/cni/net.d).
const cniConfDir = "/etc/cni/net.d"

// networkError is the container runtime's network condition as kubelet
// reports it (updateRuntimeUp in pkg/kubelet/kubelet.go): containerd's CRI
// is NetworkReady only once a CNI configuration (.conf, .conflist or .json,
// libcni's ConfFiles) is in its conf_dir. No container runtime runs here,
// so that is the one runtime condition the fake checks: a node whose CNI
// files are gone (k0s reset removes Calico's) stays NotReady.
func (n *nodeAgent) networkError() error {
	entries, err := os.ReadDir(n.w.hostPath(cniConfDir))
	if err == nil {
		for _, e := range entries {
			switch filepath.Ext(e.Name()) {
			case ".conf", ".conflist", ".json":
				if !e.IsDir() {
					return nil
				}
			}
		}
	}
	return errors.New("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
}

// setStatus applies the node status setters (pkg/kubelet/nodestatus):
// addresses, capacity, node info, daemon endpoints and the conditions,
// Ready last.
func (n *nodeAgent) setStatus(node *corev1.Node, now time.Time) {
	st := &node.Status
	st.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: n.w.nodeName}}
	if ip := n.nodeIP(); ip != "" {
		st.Addresses = append([]corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}, st.Addresses...)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memTotal(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(n.cfg.MaxPods), resource.DecimalSI),
	}
	st.Capacity, st.Allocatable = capacity, capacity.DeepCopy()
	st.DaemonEndpoints.KubeletEndpoint.Port = n.cfg.Port
	st.NodeInfo = corev1.NodeSystemInfo{
		MachineID: readTrim("/etc/machine-id"), BootID: readTrim("/proc/sys/kernel/random/boot_id"),
		KernelVersion: readTrim("/proc/sys/kernel/osrelease"), OSImage: osImage(),
		// k0s v1.33.9+k0s.0 ships containerd 1.7.30 (embedded-bins/Makefile.variables)
		ContainerRuntimeVersion: "containerd://1.7.30", KubeletVersion: kubeVersion(),
		OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status"}
	if err := n.networkError(); err != nil {
		ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: err.Error()}
	}
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		ready,
	}
	var conds []corev1.NodeCondition
	for _, c := range st.Conditions {
		switch c.Type {
		case corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeReady:
		default:
			conds = append(conds, c) // conditions of others (NetworkUnavailable) stay
		}
	}
	t := metav1.NewTime(now)
	for _, c := range want {
		c.LastHeartbeatTime, c.LastTransitionTime = t, t
		for _, old := range st.Conditions {
			if old.Type == c.Type && old.Status == c.Status && !old.LastTransitionTime.IsZero() {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		conds = append(conds, c)
	}
	st.Conditions = conds
}

// nodeIP is kubelet's node IP: --node-ip from the extra args, else the
// first non-loopback address the node name resolves to, else the fake
// node's address.
func (n *nodeAgent) nodeIP() string {
	if ip := n.w.extraArgs["--node-ip"]; ip != "" {
		ip, _, _ = strings.Cut(ip, ",")
		return ip
	}
	if ips, err := net.LookupIP(n.w.nodeName); err == nil {
		for _, ip := range ips {
			if !ip.IsLoopback() && ip.To4() != nil {
				return ip.String()
			}
		}
	}
	if fn, err := n.w.e.node(); err == nil && fn.Address != "" {
		return fn.Address
	}
	return ""
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func osImage() string {
	b, _ := os.ReadFile("/etc/os-release")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

func memTotal() int64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// heartbeat renews the node Lease every quarter of its duration
// (nodelease: renewInterval = 0.25 × nodeLeaseDurationSeconds) and posts
// the status every nodeStatusUpdateFrequency when Ready changed, else every
// nodeStatusReportFrequency (kubelet_node_status.go), until ctx ends.
func (n *nodeAgent) heartbeat(ctx context.Context) {
	renew := time.Duration(n.cfg.NodeLeaseDurationSeconds) * time.Second / 4
	leaseTick := time.NewTicker(renew)
	defer leaseTick.Stop()
	statusTick := time.NewTicker(n.cfg.NodeStatusUpdateFrequency.Duration)
	defer statusTick.Stop()
	n.renewLease(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-leaseTick.C:
			n.renewLease(ctx)
		case <-statusTick.C:
			ready := corev1.ConditionTrue
			if n.networkError() != nil {
				ready = corev1.ConditionFalse
			}
			if ready == n.lastReady && time.Since(n.lastReported) < n.cfg.NodeStatusReportFrequency.Duration {
				continue
			}
			if err := n.postStatus(ctx); err != nil && ctx.Err() == nil {
				n.w.log.Error("Error updating node status, will retry", "component", "kubelet", "error", err)
			}
		}
	}
}

// renewLease is the nodelease controller's ensureLease/renew: the Lease
// kube-node-lease/<node>, held by the node, owned by its Node.
func (n *nodeAgent) renewLease(ctx context.Context) {
	leases := n.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, n.w.nodeName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		holder, dur := n.w.nodeName, n.cfg.NodeLeaseDurationSeconds
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.w.nodeName, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.w.nodeName, UID: n.uid}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
	case err == nil:
		l.Spec.RenewTime = &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil && ctx.Err() == nil {
		n.w.log.Error("Failed to update lease", "component", "kubelet", "error", err)
	}
}
