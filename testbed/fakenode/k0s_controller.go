//go:build !fakenodelight

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"
)

// controllerOpts are the k0s controller flags the daemon uses, parsed from
// the unit's arguments (k0s install recorded them with cmdFlagsToArgs).
type controllerOpts struct {
	config, dataDir, tokenFile string
	cmExtraArgs                string
}

func parseControllerArgs(args []string) (controllerOpts, error) {
	fs := persistentFlagSet()
	fs.AddFlagSet(controllerFlags())
	fs.AddFlagSet(workerFlags())
	fs.AddFlagSet(fileInputFlag())
	debugFlags(fs)
	if err := fs.Parse(args); err != nil {
		return controllerOpts{}, err
	}
	var o controllerOpts
	o.config, _ = fs.GetString("config")
	o.dataDir, _ = fs.GetString("data-dir")
	o.tokenFile, _ = fs.GetString("token-file")
	o.cmExtraArgs, _ = fs.GetString("kube-controller-manager-extra-args")
	return o, nil
}

// controllerMain runs a k0s controller: join (when a token is given and
// etcd has no data yet), PKI, etcd, kube-apiserver, kube-controller-manager,
// the bootstrap RBAC and worker-config ConfigMaps, the join API on :9443,
// then the status socket (cmd/controller/controller.go at v1.33.9+k0s.0
// adds its components in this order and the component manager waits for
// each one's readiness).
func (d *daemon) controllerMain(ctx context.Context) error {
	if d.assets == "" {
		return errors.New("no control-plane binaries (fast mode)")
	}
	o, err := parseControllerArgs(d.k.Args[1:])
	if err != nil {
		return err
	}
	cfg, err := d.e.loadConfig(o.config)
	if err != nil {
		return fmt.Errorf("failed to load node config: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	api := cfg.Spec.API
	pki := filepath.Join(o.dataDir, "pki")
	etcdPKI := filepath.Join(pki, "etcd")
	etcdData := filepath.Join(o.dataDir, "etcd")
	for _, dir := range []string{pki, etcdPKI, filepath.Join(o.dataDir, "bin"), filepath.Join(o.dataDir, "manifests"), k0sLogDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(etcdPKI, 0o700); err != nil {
		return err
	}

	// cmd/controller needToJoin: the etcd database decides
	var jc *joinClient
	needJoin := !fileExists(filepath.Join(etcdData, "member", "snap", "db"))
	if o.tokenFile != "" && needJoin {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("read token file %q: %w", o.tokenFile, err)
		}
		if jc, err = d.joinController(ctx, strings.TrimSpace(string(data)), pki); err != nil {
			return fmt.Errorf("failed to join controller: %w", err)
		}
	}

	// etcd (pkg/component/controller/etcd.go)
	etcdName := host
	if n, ok := cfg.Spec.Storage.Etcd.ExtraArgs["name"]; ok {
		etcdName = n
	}
	peerURL := cfg.Spec.Storage.Etcd.GetPeerURL()
	etcdArgs := map[string]string{
		"--data-dir": etcdData, "--listen-client-urls": "https://127.0.0.1:2379", "--advertise-client-urls": "https://127.0.0.1:2379",
		"--client-cert-auth": "true", "--listen-peer-urls": peerURL, "--initial-advertise-peer-urls": peerURL, "--name": etcdName,
		"--tls-min-version": "TLS1.2", "--trusted-ca-file": filepath.Join(etcdPKI, "ca.crt"),
		"--cert-file": filepath.Join(etcdPKI, "server.crt"), "--key-file": filepath.Join(etcdPKI, "server.key"),
		"--peer-trusted-ca-file": filepath.Join(etcdPKI, "ca.crt"), "--peer-key-file": filepath.Join(etcdPKI, "peer.key"),
		"--peer-cert-file": filepath.Join(etcdPKI, "peer.crt"), "--log-level": "info", "--peer-client-cert-auth": "true",
		"--enable-pprof": "false",
	}
	if jc != nil {
		members, err := jc.joinEtcd(ctx, etcdName, peerURL, etcdPKI)
		if err != nil {
			return fmt.Errorf("failed to sync etcd config: %w", err)
		}
		etcdArgs["--initial-cluster"] = strings.Join(members, ",")
		etcdArgs["--initial-cluster-state"] = "existing"
	}
	for k, v := range cfg.Spec.Storage.Etcd.ExtraArgs {
		etcdArgs["--"+k] = v
	}

	// certificates (cmd/controller/certificates.go, etcd setupCerts)
	clusterCA, err := ensureCA(pki, "ca", "kubernetes-ca")
	if err != nil {
		return err
	}
	if err := ensureSAKeys(pki); err != nil {
		return err
	}
	etcdCA, err := ensureCA(etcdPKI, "ca", "etcd-ca")
	if err != nil {
		return err
	}
	frontCA, err := ensureCA(pki, "front-proxy-ca", "kubernetes-front-proxy-ca")
	if err != nil {
		return err
	}
	peerHost := cfg.Spec.Storage.Etcd.PeerAddress
	if _, _, err := etcdCA.issue(etcdPKI, certReq{name: "server", cn: "etcd-server", server: true, client: true,
		hosts: []string{"127.0.0.1", "localhost", host, peerHost}}); err != nil {
		return err
	}
	if _, _, err := etcdCA.issue(etcdPKI, certReq{name: "peer", cn: host, server: true, client: true, hosts: []string{peerHost, host, "localhost", "127.0.0.1"}}); err != nil {
		return err
	}
	etcdClientCert, etcdClientKey, err := etcdCA.issue(pki, certReq{name: "apiserver-etcd-client", cn: "apiserver-etcd-client", client: true})
	if err != nil {
		return err
	}
	serviceCIDR := cfg.Spec.Network.BuildServiceCIDR(api.APIAddress())
	sans := append(localAddresses(), api.Address, api.ExternalHost(), "127.0.0.1", "localhost", host, "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc."+cfg.Spec.Network.ClusterDomain)
	sans = append(sans, api.SANs...)
	if ip := firstServiceIP(serviceCIDR); ip != "" {
		sans = append(sans, ip)
	}
	for _, r := range []certReq{
		{name: "server", cn: "kubernetes", server: true, hosts: sans},
		{name: "k0s-api", cn: "k0s-api", server: true, hosts: sans},
		{name: "apiserver-kubelet-client", cn: "apiserver-kubelet-client", orgs: []string{"system:masters"}, client: true},
	} {
		if _, _, err := clusterCA.issue(pki, r); err != nil {
			return err
		}
	}
	if _, _, err := frontCA.issue(pki, certReq{name: "front-proxy-client", cn: "front-proxy-client", client: true}); err != nil {
		return err
	}
	adminCert, adminKey, err := clusterCA.issue(pki, certReq{name: "admin", cn: "kubernetes-admin", orgs: []string{"system:masters"}, client: true})
	if err != nil {
		return err
	}
	local := api.LocalURL().String()
	if err := writeKubeconfig(filepath.Join(pki, "admin.conf"), local, clusterCA.certPEM, adminCert, adminKey); err != nil {
		return err
	}
	ccmCert, ccmKey, err := clusterCA.issue(pki, certReq{name: "ccm", cn: "system:kube-controller-manager", client: true})
	if err != nil {
		return err
	}
	if err := writeKubeconfig(filepath.Join(pki, "ccm.conf"), local, clusterCA.certPEM, ccmCert, ccmKey); err != nil {
		return err
	}

	if _, err := d.spawn("etcd", flagList(etcdArgs)...); err != nil {
		return err
	}
	etcdTLS, err := clientTLS(etcdCA.certPEM, etcdClientCert, etcdClientKey)
	if err != nil {
		return err
	}
	if err := d.waitHTTP(ctx, "etcd", "https://127.0.0.1:2379/health", etcdTLS); err != nil {
		return err
	}

	// kube-apiserver (pkg/component/controller/apiserver.go)
	apiArgs := map[string]string{
		"advertise-address": api.Address, "secure-port": strconv.Itoa(api.Port), "authorization-mode": "Node,RBAC",
		"client-ca-file": filepath.Join(pki, "ca.crt"), "enable-bootstrap-token-auth": "true",
		"kubelet-client-certificate": filepath.Join(pki, "apiserver-kubelet-client.crt"), "kubelet-client-key": filepath.Join(pki, "apiserver-kubelet-client.key"),
		"kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
		"proxy-client-cert-file":          filepath.Join(pki, "front-proxy-client.crt"), "proxy-client-key-file": filepath.Join(pki, "front-proxy-client.key"),
		"requestheader-allowed-names": "front-proxy-client", "requestheader-client-ca-file": filepath.Join(pki, "front-proxy-ca.crt"),
		"service-account-key-file": filepath.Join(pki, "sa.pub"), "service-cluster-ip-range": serviceCIDR, "tls-min-version": "VersionTLS12",
		"tls-cert-file": filepath.Join(pki, "server.crt"), "tls-private-key-file": filepath.Join(pki, "server.key"),
		"service-account-signing-key-file": filepath.Join(pki, "sa.key"), "service-account-issuer": "https://kubernetes.default.svc",
		"service-account-jwks-uri": "https://kubernetes.default.svc/openid/v1/jwks", "profiling": "false",
		"kubelet-certificate-authority": filepath.Join(pki, "ca.crt"), "enable-admission-plugins": "NodeRestriction",
		"api-audiences": "https://kubernetes.default.svc",
		"etcd-servers":  "https://127.0.0.1:2379", "etcd-cafile": filepath.Join(etcdPKI, "ca.crt"),
		"etcd-certfile": filepath.Join(pki, "apiserver-etcd-client.crt"), "etcd-keyfile": filepath.Join(pki, "apiserver-etcd-client.key"),
	}
	if api.OnlyBindToAddress {
		apiArgs["bind-address"] = api.Address
	}
	for k, v := range api.ExtraArgs {
		apiArgs[k] = v
	}
	for k, v := range map[string]string{"allow-privileged": "true", "requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"requestheader-group-headers": "X-Remote-Group", "requestheader-username-headers": "X-Remote-User", "anonymous-auth": "false"} {
		if apiArgs[k] == "" {
			apiArgs[k] = v
		}
	}
	if _, err := d.spawn("kube-apiserver", dashed(apiArgs)...); err != nil {
		return err
	}
	adminTLS, err := clientTLS(clusterCA.certPEM, adminCert, adminKey)
	if err != nil {
		return err
	}
	if err := d.waitHTTP(ctx, "kube-apiserver", "https://127.0.0.1:"+strconv.Itoa(api.Port)+"/readyz", adminTLS); err != nil {
		return err
	}

	// kube-controller-manager (pkg/component/controller/controllermanager.go)
	ccm := filepath.Join(pki, "ccm.conf")
	cmArgs := map[string]string{
		"authentication-kubeconfig": ccm, "authorization-kubeconfig": ccm, "kubeconfig": ccm,
		"client-ca-file": filepath.Join(pki, "ca.crt"), "cluster-signing-cert-file": filepath.Join(pki, "ca.crt"),
		"cluster-signing-key-file": filepath.Join(pki, "ca.key"), "requestheader-client-ca-file": filepath.Join(pki, "front-proxy-ca.crt"),
		"root-ca-file": filepath.Join(pki, "ca.crt"), "service-account-private-key-file": filepath.Join(pki, "sa.key"),
		"cluster-cidr": cfg.Spec.Network.BuildPodCIDR(), "service-cluster-ip-range": serviceCIDR, "profiling": "false",
		"terminated-pod-gc-threshold": "12500", "node-cidr-mask-size": "24",
	}
	for _, f := range strings.Fields(strings.ReplaceAll(o.cmExtraArgs, "--", "")) {
		k, v, _ := strings.Cut(f, "=")
		cmArgs[k] = v
	}
	if cfg.Spec.ControllerManager != nil {
		for k, v := range cfg.Spec.ControllerManager.ExtraArgs {
			cmArgs[k] = v
		}
	}
	for k, v := range map[string]string{"allocate-node-cidrs": "true", "bind-address": "127.0.0.1", "cluster-name": "k0s",
		"controllers": "*,bootstrapsigner,tokencleaner", "leader-elect": "true", "use-service-account-credentials": "true"} {
		if cmArgs[k] == "" {
			cmArgs[k] = v
		}
	}
	if _, err := d.spawn("kube-controller-manager", dashed(cmArgs)...); err != nil {
		return err
	}

	client, err := adminClient()
	if err != nil {
		return err
	}
	if err := applyBootstrapRBAC(ctx, client); err != nil {
		return fmt.Errorf("system-rbac: %w", err)
	}
	if err := applyWorkerConfig(ctx, client, cfg); err != nil {
		return fmt.Errorf("worker-config: %w", err)
	}
	if err := d.serveJoinAPI(ctx, cfg, pki, etcdTLS, client); err != nil {
		return err
	}
	st := k0sStatus{Version: binaryK0sVersion(), Pid: os.Getpid(), PPid: os.Getppid(), Role: roleWord(d.k.Role),
		Workloads: d.k.Role != roleController, SysInit: "linux-systemd", StubFile: "/etc/systemd/system/" + d.k.Unit,
		Args: append([]string{"/usr/local/bin/k0s"}, d.k.Args...)}
	if err := d.serveStatus(ctx, st); err != nil {
		return err
	}
	d.logf("k0s controller ready")
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()

	if d.k.Role != roleController {
		go d.embeddedWorker(ctx, filepath.Join(pki, "admin.conf"))
	}
	select {
	case <-ctx.Done():
		return nil
	case name := <-d.diedCh():
		return fmt.Errorf("%s exited", name)
	}
}

func flagList(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}

func dashed(m map[string]string) []string {
	p := map[string]string{}
	for k, v := range m {
		p["--"+k] = v
	}
	return flagList(p)
}

func localAddresses() []string {
	var out []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

func firstServiceIP(cidr string) string {
	first, _, _ := strings.Cut(cidr, ",")
	_, n, err := net.ParseCIDR(first)
	if err != nil {
		return ""
	}
	ip := n.IP.To4()
	if ip == nil {
		return ""
	}
	ip = append(net.IP(nil), ip...)
	ip[3]++
	return ip.String()
}

func clientTLS(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, nil
}

// waitHTTP polls url until it answers 200, the child dies, or a generous
// safety net passes (the component manager's readiness wait).
func (d *daemon) waitHTTP(ctx context.Context, name, url string, tc *tls.Config) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	// a safety net only: on a loaded machine a joining API server takes
	// minutes
	deadline := time.Now().Add(5 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case n := <-d.diedCh():
			return fmt.Errorf("%s exited before %s was ready", n, name)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready: %w", name, last)
}

// upsert creates obj, or updates it when it exists.
func upsert[T any](ctx context.Context, create func(context.Context, T, metav1.CreateOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error), obj T) error {
	_, err := create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = update(ctx, obj, metav1.UpdateOptions{})
	}
	return err
}

// applyBootstrapRBAC is pkg/component/controller/systemrbac.yaml: the
// bootstrappers may create CSRs, their node-client CSRs and the nodes'
// renewals are approved automatically (by kube-controller-manager's
// csrapproving controller).
func applyBootstrapRBAC(ctx context.Context, c kubernetes.Interface) error {
	b := func(name, role, group string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}}}
	}
	crb := c.RbacV1().ClusterRoleBindings()
	for _, o := range []*rbacv1.ClusterRoleBinding{
		b("kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers"),
		b("node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"),
		b("node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"),
	} {
		if err := upsert(ctx, crb.Create, crb.Update, o); err != nil {
			return err
		}
	}
	return nil
}

// applyWorkerConfig is pkg/component/controller/workerconfig/reconciler.go:
// ConfigMaps worker-config-<profile>-<k8s minor> in kube-system for
// "default", "default-windows" and every spec.workerProfiles entry (its
// values decoded over the default KubeletConfiguration), and the Role and
// RoleBinding that let bootstrappers and nodes read them.
func applyWorkerConfig(ctx context.Context, c kubernetes.Interface, cfg *v1beta1.ClusterConfig) error {
	minor := kubeMinor()
	dns, err := cfg.Spec.Network.DNSAddress()
	if err != nil {
		return err
	}
	base := func() kubeletv1beta1.KubeletConfiguration {
		f := false
		qps := int32(0)
		return kubeletv1beta1.KubeletConfiguration{
			TypeMeta:   metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
			ClusterDNS: []string{dns}, ClusterDomain: cfg.Spec.Network.ClusterDomain,
			KubeReservedCgroup: "system.slice", KubeletCgroups: "/system.slice/containerd.service", TLSMinVersion: "VersionTLS12",
			FailSwapOn: &f, RotateCertificates: true, ServerTLSBootstrap: true, EventRecordQPS: &qps,
			VolumePluginDir: "/usr/libexec/k0s/kubelet-plugins/volume/exec"}
	}
	profiles := map[string]kubeletv1beta1.KubeletConfiguration{"default": base()}
	win := base()
	f := false
	win.CgroupsPerQOS, win.KubeReservedCgroup, win.KubeletCgroups = &f, "", ""
	profiles["default-windows"] = win
	for _, p := range cfg.Spec.WorkerProfiles {
		kc, ok := profiles[p.Name]
		if !ok {
			kc = base()
		}
		if p.Config != nil {
			if err := yaml.Unmarshal(p.Config.Raw, &kc); err != nil {
				return fmt.Errorf("failed to decode worker profile %q: %w", p.Name, err)
			}
		}
		profiles[p.Name] = kc
	}
	addr := net.JoinHostPort(cfg.Spec.API.Address, strconv.Itoa(cfg.Spec.API.Port))
	var names []string
	cms := c.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	for name, kc := range profiles {
		kcj, err := json.Marshal(kc)
		if err != nil {
			return err
		}
		cmName := "worker-config-" + name + "-" + minor
		names = append(names, cmName)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"app.kubernetes.io/name": "k0s", "app.kubernetes.io/component": "worker-config",
				"k0s.k0sproject.io/worker-profile": name}},
			Data: map[string]string{"kubeletConfiguration": string(kcj), "apiServerAddresses": `["` + addr + `"]`,
				"konnectivity": `{"enabled":true,"agentPort":` + strconv.Itoa(int(cfg.Spec.Konnectivity.AgentPort)) + `}`}}
		if err := upsert(ctx, cms.Create, cms.Update, cm); err != nil {
			return err
		}
	}
	sort.Strings(names)
	meta := metav1.ObjectMeta{Name: "system:bootstrappers:worker-config-" + minor, Namespace: metav1.NamespaceSystem}
	roles := c.RbacV1().Roles(metav1.NamespaceSystem)
	if err := upsert(ctx, roles.Create, roles.Update, &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}, ResourceNames: names}}}); err != nil {
		return err
	}
	rbs := c.RbacV1().RoleBindings(metav1.NamespaceSystem)
	return upsert(ctx, rbs.Create, rbs.Update, &rbacv1.RoleBinding{ObjectMeta: meta,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: meta.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:bootstrappers"},
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:nodes"}}})
}

// etcdJSON calls etcd's v3 JSON gateway with the client certificate.
func etcdJSON(ctx context.Context, tc *tls.Config, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://127.0.0.1:2379"+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, out)
}

type etcdMember struct {
	ID       string   `json:"ID"`
	Name     string   `json:"name"`
	PeerURLs []string `json:"peerURLs"`
}

// realEtcdMemberList is k0s etcd member-list: {"members":{name:peerURL}}.
func (e *env) realEtcdMemberList() error {
	pki := filepath.Join(k0sDataDir, "pki")
	tc, err := etcdClientTLS(pki)
	if err != nil {
		return err
	}
	var resp struct {
		Members []etcdMember `json:"members"`
	}
	if err := etcdJSON(context.Background(), tc, "/v3/cluster/member/list", map[string]any{}, &resp); err != nil {
		return fmt.Errorf("can't list etcd cluster members: %w", err)
	}
	m := map[string]string{}
	for _, mem := range resp.Members {
		if len(mem.PeerURLs) > 0 {
			m[mem.Name] = mem.PeerURLs[0]
		}
	}
	b, _ := json.Marshal(map[string]any{"members": m})
	fmt.Fprintln(e.stdout, string(b))
	return nil
}

func etcdClientTLS(pki string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(filepath.Join(pki, "etcd", "ca.crt"))
	if err != nil {
		return nil, err
	}
	cert, err := os.ReadFile(filepath.Join(pki, "apiserver-etcd-client.crt"))
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(pki, "apiserver-etcd-client.key"))
	if err != nil {
		return nil, err
	}
	return clientTLS(caPEM, cert, key)
}
