package testbed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// Ports of MKE 3 on managers (MKE 3.8 "Open ports to incoming traffic":
// 443 MKE web UI and API, 6443 Kubernetes API server endpoint, 12379 etcd
// Control API, 12380 etcd Peer API, 12388 the Kubernetes API server's
// internal port).
const (
	ControllerPort   = 443
	KubeAPIPort      = 6443
	EtcdClientPort   = 12379
	EtcdPeerPort     = 12380
	KubeAPIInnerPort = 12388
)

// DefaultEtcdPrefix is ClusterOptions.EtcdPrefix's default: the API
// server's own default. MKE 3's real prefix is not documented.
const DefaultEtcdPrefix = "/registry"

// Where the fake's MKE 3 containers see their volumes. MKE 3 does not
// document these paths; the engine is meant to read them from docker
// inspect (Mounts), so any choice serves.
const (
	etcdDataDir   = "/data"               // ucp-kv
	etcdCertDir   = "/etc/docker/ssl"     // ucp-kv-certs in ucp-kv
	nodeCertDir   = "/etc/docker/ssl"     // ucp-node-certs in the kube components
	kvCertDir     = "/etc/docker/kv-ssl"  // ucp-kv-certs in ucp-kube-apiserver
	serverCertDir = "/etc/ucp/server-ssl" // ucp-controller-server-certs in ucp-controller
)

// realPlane is what a realistic cluster shares across its nodes.
type realPlane struct {
	testbin string
	prefix  string
	pki     *pki
	// admin is a system:masters client certificate for the test bed.
	adminCert, adminKey []byte
}

func (c *Cluster) newRealPlane(o ClusterOptions) error {
	assets, err := kubetest.Assets()
	if err != nil {
		return fmt.Errorf("testbed: a realistic cluster needs the control-plane binaries: %w", err)
	}
	if assets, err = hostVisible(assets); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	p, err := newPKI()
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	r := &realPlane{testbin: assets, prefix: o.EtcdPrefix, pki: p}
	if r.prefix == "" {
		r.prefix = DefaultEtcdPrefix
	}
	if r.adminCert, r.adminKey, err = p.issue("admin", []string{"system:masters"}, nil, nil); err != nil {
		return err
	}
	c.real = r
	return nil
}

// EtcdPrefix is the --etcd-prefix of the cluster's API servers ("" for a
// cluster without real processes).
func (c *Cluster) EtcdPrefix() string {
	if c.real == nil {
		return ""
	}
	return c.real.prefix
}

// CACert is the PEM of the CA that signed every certificate of a realistic
// cluster (nil otherwise).
func (c *Cluster) CACert() []byte {
	if c.real == nil {
		return nil
	}
	return c.real.pki.CAPEM
}

// KubeConfig is an admin (system:masters) client configuration for the
// Kubernetes API of a realistic cluster on manager h (the first manager
// when h is nil), through MKE's port 6443.
func (c *Cluster) KubeConfig(h *Host) (*rest.Config, error) {
	if c.real == nil {
		return nil, errors.New("testbed: the cluster runs no real control plane (ClusterOptions.Real)")
	}
	if h == nil {
		h = c.Managers[0]
	}
	return &rest.Config{Host: "https://" + net.JoinHostPort(h.Address, strconv.Itoa(KubeAPIPort)),
		TLSClientConfig: rest.TLSClientConfig{CAData: c.real.pki.CAPEM, CertData: c.real.adminCert, KeyData: c.real.adminKey},
		QPS:             -1}, nil
}

// bundleOptions makes the simulator's client bundles those of this
// cluster, as a real MKE 3's are: signed by the cluster's CA (MKE 3's
// cluster CA signs the client bundles: docs/carry.md, "which CA k0s
// starts with"), which the API servers trust for clients and which signed
// their serving certificates; and kube.yml naming the API where an
// operator reaches MKE, on 6443 (the port table above: 6443, the
// Kubernetes API server endpoint, external), as the mke3 client assumes
// without kube.yml (mke3.Bundle.Server: https://<MKE host>:6443). MKE 3's
// install --san puts the load balancer's address in the certificates (see
// realContainers), so the load balancer when it forwards 6443, else the
// first manager. Where reality is unknown (the exact host a real
// kube.yml names), the bed's choice is the one a client outside the
// cluster can use; the upgrade keeps Options.MKE3KubeConfig as the
// override. The admins' bundles carry system:masters
// (mke3api.Options.BundleAdminGroups says why).
func (c *Cluster) bundleOptions(ao *mke3api.Options, o ClusterOptions) error {
	ca, err := mke3api.NewCAFrom(c.real.pki.caCert, c.real.pki.caKey)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	host := c.Managers[0].Address
	ports := o.LBPorts
	if ports == nil {
		ports = DefaultLBPorts()
	}
	if c.LB != "" && slices.Contains(ports, KubeAPIPort) {
		host = c.LB
	}
	ao.CA = ca
	ao.BundleKubeAPI = "https://" + net.JoinHostPort(host, strconv.Itoa(KubeAPIPort))
	ao.BundleAdminGroups = []string{"system:masters"}
	return nil
}

func mkeImage(repo, version string) string { return "mirantis/" + repo + ":" + version }

// realContainers are the containers of a realistic node and the files of
// its volumes, following the MKE 3.8 "Manager nodes" and "Worker nodes"
// component pages: the agents are tasks of global Swarm services
// (ucp-manager-agent on managers, ucp-worker-agent-x on workers; task
// containers are <service>.<node ID>.<task ID>, as Swarm names them),
// the rest are plain ucp-* containers the agent deploys, and Calico runs
// as pods of the calico-node DaemonSet (k8s_<container>_<pod>_<namespace>_
// <pod UID>_<attempt>, the kubelet's dockershim/cri-dockerd naming).
func (c *Cluster) realContainers(h *Host, manager bool) ([]fakestate.Container, []fakestate.Service, map[string][]byte, error) {
	r := c.real
	v := c.MKEVersion
	labels := func(extra ...string) map[string]string {
		l := map[string]string{"com.docker.ucp.version": v, "com.docker.ucp.InstanceID": c.ClusterID}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	vol := func(name, dst string, rw bool) fakestate.Mount {
		return fakestate.Mount{Type: "volume", Name: name, Source: path.Join(fakestate.VolumesDir, name, "_data"), Destination: dst, RW: rw}
	}
	ctr := func(name, image string) fakestate.Container {
		return fakestate.Container{ID: randomHex(32), Name: name, Image: image, Running: true, Labels: labels()}
	}
	files := map[string][]byte{}
	volFile := func(volume, name string, b []byte) { files[path.Join(fakestate.VolumesDir, volume, "_data", name)] = b }

	var cs []fakestate.Container
	var svcs []fakestate.Service
	taskID := swarmID()
	agentSvc := "ucp-worker-agent-x"
	if manager {
		agentSvc = "ucp-manager-agent"
	}
	svcs = append(svcs, fakestate.Service{Name: agentSvc, Image: mkeImage("ucp-agent", v)})
	agent := ctr(agentSvc+"."+c.NodeIDs[h.Name]+"."+taskID, mkeImage("ucp-agent", v))
	agent.Path, agent.Args = "/bin/ucp-agent", []string{"agent"}
	agent.Labels = labels("com.docker.swarm.service.name", agentSvc, "com.docker.swarm.task.id", taskID,
		"com.docker.swarm.node.id", c.NodeIDs[h.Name], "com.docker.swarm.task.name", agentSvc+"."+c.NodeIDs[h.Name]+"."+taskID)
	agent.Mounts = []fakestate.Mount{{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true}}
	cs = append(cs, agent)

	ip := net.ParseIP(h.Address)
	sans := []string{h.Name, "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	ips := []net.IP{ip, net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}
	if lb := net.ParseIP(c.LB); lb != nil {
		// MKE's certificates carry the load balancer's address (install
		// --san); clients reach 443 and 6443 through it
		ips = append(ips, lb)
	}
	nodeCert, nodeKey, err := r.pki.issue("system:node:"+h.Name, []string{"system:nodes"}, sans, ips)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, f := range []struct{ name string }{{"ca.pem"}} {
		volFile("ucp-node-certs", f.name, r.pki.CAPEM)
	}
	volFile("ucp-node-certs", "cert.pem", nodeCert)
	volFile("ucp-node-certs", "key.pem", nodeKey)

	if manager {
		kvCert, kvKey, err := r.pki.issue("ucp-kv", nil, []string{h.Name, "localhost"}, []net.IP{ip, net.ParseIP("127.0.0.1")})
		if err != nil {
			return nil, nil, nil, err
		}
		volFile("ucp-kv-certs", "ca.pem", r.pki.CAPEM)
		volFile("ucp-kv-certs", "cert.pem", kvCert)
		volFile("ucp-kv-certs", "key.pem", kvKey)
		volFile("ucp-controller-server-certs", "ca.pem", r.pki.CAPEM)
		volFile("ucp-controller-server-certs", "cert.pem", nodeCert)
		volFile("ucp-controller-server-certs", "key.pem", nodeKey)
		volFile("ucp-node-certs", "service-account.key", r.pki.SAKeyPEM)
		volFile("ucp-node-certs", "service-account.pub", r.pki.SAPubPEM)
		cmCert, cmKey, err := r.pki.issue("system:kube-controller-manager", nil, nil, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		volFile("ucp-node-certs", "kube-controller-manager.kubeconfig", kubeconfig("https://127.0.0.1:"+strconv.Itoa(KubeAPIInnerPort), r.pki.CAPEM, cmCert, cmKey))

		var initial []string
		for _, m := range c.Managers {
			initial = append(initial, m.Name+"=https://"+net.JoinHostPort(m.Address, strconv.Itoa(EtcdPeerPort)))
		}
		kv := ctr("ucp-kv", mkeImage("ucp-etcd", v))
		kv.Path = "/bin/etcd"
		kv.Args = []string{"--name=" + h.Name, "--data-dir=" + etcdDataDir,
			"--listen-client-urls=https://0.0.0.0:" + strconv.Itoa(EtcdClientPort),
			"--advertise-client-urls=https://" + net.JoinHostPort(h.Address, strconv.Itoa(EtcdClientPort)),
			"--listen-peer-urls=https://0.0.0.0:" + strconv.Itoa(EtcdPeerPort),
			"--initial-advertise-peer-urls=https://" + net.JoinHostPort(h.Address, strconv.Itoa(EtcdPeerPort)),
			"--initial-cluster=" + strings.Join(initial, ","), "--initial-cluster-token=" + c.ClusterID, "--initial-cluster-state=new",
			"--client-cert-auth", "--trusted-ca-file=" + etcdCertDir + "/ca.pem",
			"--cert-file=" + etcdCertDir + "/cert.pem", "--key-file=" + etcdCertDir + "/key.pem",
			"--peer-client-cert-auth", "--peer-trusted-ca-file=" + etcdCertDir + "/ca.pem",
			"--peer-cert-file=" + etcdCertDir + "/cert.pem", "--peer-key-file=" + etcdCertDir + "/key.pem",
			// a test bed needs no durability; fsync would make every
			// write wait on a loaded machine's disk
			"--unsafe-no-fsync", "--log-level=warn"}
		kv.Mounts = []fakestate.Mount{vol("ucp-kv", etcdDataDir, true), vol("ucp-kv-certs", etcdCertDir, false)}
		kv.Exec, kv.Ports = []string{path.Join(r.testbin, "etcd")}, []int{EtcdClientPort, EtcdPeerPort}

		api := ctr("ucp-kube-apiserver", mkeImage("ucp-hyperkube", v))
		api.Path = "/bin/kube-apiserver"
		api.Args = []string{"--etcd-servers=https://127.0.0.1:" + strconv.Itoa(EtcdClientPort), "--etcd-prefix=" + r.prefix,
			"--etcd-cafile=" + kvCertDir + "/ca.pem", "--etcd-certfile=" + kvCertDir + "/cert.pem", "--etcd-keyfile=" + kvCertDir + "/key.pem",
			"--bind-address=0.0.0.0", "--advertise-address=" + h.Address, "--secure-port=" + strconv.Itoa(KubeAPIInnerPort),
			"--tls-cert-file=" + nodeCertDir + "/cert.pem", "--tls-private-key-file=" + nodeCertDir + "/key.pem",
			"--client-ca-file=" + nodeCertDir + "/ca.pem", "--authorization-mode=Node,RBAC", "--allow-privileged=true",
			"--service-cluster-ip-range=10.96.0.0/16",
			"--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file=" + nodeCertDir + "/service-account.pub",
			"--service-account-signing-key-file=" + nodeCertDir + "/service-account.key"}
		api.Mounts = []fakestate.Mount{vol("ucp-node-certs", nodeCertDir, false), vol("ucp-kv-certs", kvCertDir, false)}
		api.Exec, api.Ports = []string{path.Join(r.testbin, "kube-apiserver")}, []int{KubeAPIInnerPort}

		cm := ctr("ucp-kube-controller-manager", mkeImage("ucp-hyperkube", v))
		cm.Path = "/bin/kube-controller-manager"
		cm.Args = []string{"--kubeconfig=" + nodeCertDir + "/kube-controller-manager.kubeconfig",
			"--service-account-private-key-file=" + nodeCertDir + "/service-account.key",
			"--root-ca-file=" + nodeCertDir + "/ca.pem", "--leader-elect=true",
			"--controllers=serviceaccount-token-controller,serviceaccount-controller,namespace-controller,garbage-collector-controller,clusterrole-aggregation-controller",
			"--bind-address=127.0.0.1", "--secure-port=0"}
		cm.Mounts = []fakestate.Mount{vol("ucp-node-certs", nodeCertDir, false)}
		cm.Exec = []string{path.Join(r.testbin, "kube-controller-manager")}

		ctl := ctr("ucp-controller", mkeImage("ucp-controller", v))
		ctl.Path = "/bin/controller"
		ctl.Args = []string{"--controller-port=" + strconv.Itoa(ControllerPort), "--kube-apiserver-port=" + strconv.Itoa(KubeAPIPort),
			"--kube-apiserver-backend=127.0.0.1:" + strconv.Itoa(KubeAPIInnerPort), "--tls-dir=" + serverCertDir}
		ctl.Mounts = []fakestate.Mount{vol("ucp-controller-server-certs", serverCertDir, false)}
		ctl.Exec, ctl.Ports = []string{FakeNodePath, "serve"}, []int{ControllerPort, KubeAPIPort}

		cs = append(cs, kv, api, cm, ctl)
		for _, n := range []struct{ name, repo string }{
			{"ucp-kube-scheduler", "ucp-hyperkube"}, {"ucp-auth-api", "ucp-auth"}, {"ucp-auth-worker", "ucp-auth"},
			{"ucp-auth-store", "ucp-auth-store"}, {"ucp-client-root-ca", "ucp-cfssl"}, {"ucp-cluster-root-ca", "ucp-cfssl"},
			{"ucp-swarm-manager", "ucp-swarm"}, {"ucp-hardware-info", "ucp-hardware-info"},
		} {
			cs = append(cs, ctr(n.name, mkeImage(n.repo, v)))
		}
		if h == c.Managers[0] {
			// "Runs on only one manager node"
			cs = append(cs, ctr("ucp-cluster-agent", mkeImage("ucp-agent", v)))
		}
	}
	for _, n := range []struct{ name, repo string }{
		{"ucp-proxy", "ucp-agent"}, {"ucp-kubelet", "ucp-hyperkube"}, {"ucp-kube-proxy", "ucp-hyperkube"},
		{"ucp-cri-dockerd", "ucp-cri-dockerd"},
	} {
		cs = append(cs, ctr(n.name, mkeImage(n.repo, v)))
	}
	// the calico-node DaemonSet's pod on this node
	pod := "calico-node-" + strings.ToLower(randomHex(3)[:5])
	uid := newUID()
	for _, p := range []struct {
		ctr, repo string
		running   bool
	}{{"POD", "ucp-pause", true}, {"install-cni", "ucp-calico-cni", false}, {"calico-node", "ucp-calico-node", true}} {
		k := ctr("k8s_"+p.ctr+"_"+pod+"_kube-system_"+uid+"_0", mkeImage(p.repo, v))
		k.Running = p.running // install-cni is an init container: it ran and exited
		if p.ctr == "calico-node" {
			k.Path, k.Args = "start_runit", []string{}
			k.Exec, k.Ports = []string{FakeNodePath, "serve", "--health-port=9099"}, []int{9099}
		}
		k.Labels = map[string]string{"io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": "kube-system",
			"io.kubernetes.pod.uid": uid, "io.kubernetes.container.name": p.ctr}
		cs = append(cs, k)
	}
	if !manager {
		// a user pod: it keeps running under dockerd when the kubelet stops
		upod := "web-6d4cf56db6-" + strings.ToLower(randomHex(3)[:5])
		uuid := newUID()
		for _, p := range []struct{ ctr, image string }{{"POD", mkeImage("ucp-pause", v)}, {"web", "nginx:1.27"}} {
			k := ctr("k8s_"+p.ctr+"_"+upod+"_default_"+uuid+"_0", p.image)
			k.Labels = map[string]string{"io.kubernetes.pod.name": upod, "io.kubernetes.pod.namespace": "default",
				"io.kubernetes.pod.uid": uuid, "io.kubernetes.container.name": p.ctr}
			cs = append(cs, k)
		}
	}
	// MKE's Calico CNI files (install-cni writes them on every node)
	files["/etc/cni/net.d/10-calico.conflist"] = []byte(`{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "calico", "datastore_type": "kubernetes", "nodename": "` + h.Name + `", "mtu": 1440,
     "ipam": {"type": "calico-ipam"}, "policy": {"type": "k8s"},
     "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}
`)
	files["/etc/cni/net.d/calico-kubeconfig"] = []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: https://10.96.0.1:443\n    certificate-authority-data: " +
		base64.StdEncoding.EncodeToString(r.pki.CAPEM) + "\nusers:\n- name: calico\n  user:\n    token: " + randomHex(24) +
		"\ncontexts:\n- name: calico-context\n  context:\n    cluster: local\n    user: calico\ncurrent-context: calico-context\n")
	return cs, svcs, files, nil
}

func newUID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// kubeconfig is a client-certificate kubeconfig (JSON, which is YAML).
func kubeconfig(server string, ca, cert, key []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, `{"apiVersion":"v1","kind":"Config",
"clusters":[{"name":"ucp","cluster":{"server":%q,"certificate-authority-data":%q}}],
"users":[{"name":"ucp","user":{"client-certificate-data":%q,"client-key-data":%q}}],
"contexts":[{"name":"ucp","context":{"cluster":"ucp","user":"ucp"}}],
"current-context":"ucp"}
`, server, b64(ca), b64(cert), b64(key))
}

// realFilesScript writes files (absolute paths; 0600 under volumes, 0644
// elsewhere) in a shell script.
func realFilesScript(files map[string][]byte) string {
	var b strings.Builder
	for p, data := range files {
		if strings.HasSuffix(p, "/") {
			fmt.Fprintf(&b, "mkdir -p '%s'\n", p)
			continue
		}
		mode := "0644"
		if strings.HasPrefix(p, fakestate.VolumesDir) {
			mode = "0600"
		}
		fmt.Fprintf(&b, "mkdir -p '%s' && base64 -d > '%s' <<'FAKENODE_EOF'\n%s\nFAKENODE_EOF\nchmod %s '%s'\n",
			path.Dir(p), p, base64.StdEncoding.EncodeToString(data), mode, p)
	}
	return b.String()
}

// bootReal starts the processes of a realistic cluster as dockerd would
// at boot: every manager's ucp-kv first (an etcd member waits for its
// peers), then the rest, and waits until etcd is healthy and every
// manager's API server answers ready on 6443.
func (c *Cluster) bootReal(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.Hosts))
	for i, h := range c.Managers {
		wg.Go(func() {
			if _, err := c.Exec(ctx, h, FakeNodePath+" boot ucp-kv"); err != nil {
				errs[i] = err
				return
			}
			errs[i] = c.waitHTTPS(ctx, h, "ucp-kv", "https://"+net.JoinHostPort(h.Address, strconv.Itoa(EtcdClientPort))+"/health", `"health":"true"`)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, h := range c.Hosts {
		wg.Go(func() { _, errs[i] = c.Exec(ctx, h, FakeNodePath+" boot") })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, h := range c.Managers {
		wg.Go(func() {
			errs[i] = c.waitHTTPS(ctx, h, "ucp-kube-apiserver", "https://"+net.JoinHostPort(h.Address, strconv.Itoa(KubeAPIPort))+"/readyz", "ok")
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitHTTPS polls url with the admin certificate until it answers 200
// with a body containing want; when container's process has ended or on
// a timeout, the error carries the last answer and the tail of the logs.
func (c *Cluster) waitHTTPS(ctx context.Context, h *Host, container, url, want string) error {
	cert, err := tls.X509KeyPair(c.real.adminCert, c.real.adminKey)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.real.pki.CAPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	defer hc.CloseIdleConnections()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 3*time.Minute) // a safety net only
		defer cancel()
	}
	var last string
	for i := 1; ; i++ {
		if i%10 == 0 {
			out, err := c.Exec(ctx, h, FakeNodePath+" running "+container)
			if err == nil && out != "true" {
				return fmt.Errorf("testbed: %s: %s exited: %s", h.Name, container, c.logTail(h, container))
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), want) {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, b)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbed: %s: %s not ready (%s): %w; %s", h.Name, url, last, ctx.Err(), c.logTail(h, container))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// realNodeState is the seed of a realistic node and the files to write.
func (c *Cluster) realNodeState(h *Host, manager bool) (fakestate.Node, map[string][]byte, error) {
	n := c.nodeState(h, manager)
	cs, svcs, files, err := c.realContainers(h, manager)
	if err != nil {
		return n, nil, err
	}
	n.Containers = cs
	n.Real = &fakestate.Real{Testbin: c.real.testbin, Services: svcs, Reconcile: true}
	n.Images = nil
	seen := map[string]bool{}
	for _, img := range append(containerImages(cs), mkeImage("ucp", c.MKEVersion)) {
		if seen[img] {
			continue
		}
		seen[img] = true
		repo, tag, _ := strings.Cut(img, ":")
		n.Images = append(n.Images, fakestate.Image{Repository: repo, Tag: tag, ID: randomHex(32)})
	}
	for _, v := range n.Volumes {
		d := path.Join(fakestate.VolumesDir, v, "_data")
		files[d+"/"] = nil // a folder

	}
	return n, files, nil
}

func containerImages(cs []fakestate.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Image)
	}
	return out
}

// logTail is the end of a container process's log on h.
func (c *Cluster) logTail(h *Host, container string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := c.Exec(ctx, h, "tail -n 20 "+fakestate.LogDir+"/"+container+".log 2>&1")
	return container + " log:\n" + out
}

// realSwarm makes the cluster-wide Swarm state folder (every node binds
// it at fakestate.SwarmDir): all nodes active, MKE's agent services.
func (c *Cluster) realSwarm(opts []HostOptions) error {
	dir, err := filepath.Abs(filepath.Join(c.workdir, "swarm"))
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	st := fakestate.SwarmState{Availability: map[string]string{},
		Services: []string{"ucp-manager-agent", "ucp-worker-agent-x", "ucp-worker-agent-y"}}
	for id := range c.NodeIDs {
		st.Availability[c.NodeIDs[id]] = "active"
	}
	if err := fakestate.WriteJSON(filepath.Join(dir, fakestate.SwarmFile), st); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	for i := range opts {
		opts[i].SharedDirs = map[string]string{fakestate.SwarmDir: dir}
	}
	return nil
}

// ProcessMemory returns the resident memory (VmRSS, bytes) of each
// container process running on h, by container name: what a realistic
// node costs the machine.
func (c *Cluster) ProcessMemory(ctx context.Context, h *Host) (map[string]int64, error) {
	out, err := c.Exec(ctx, h, FakeNodePath+" memory")
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, l := range strings.Split(out, "\n") {
		name, v, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("testbed: memory of %s: %q", name, l)
		}
		m[name] = n
	}
	return m, nil
}
