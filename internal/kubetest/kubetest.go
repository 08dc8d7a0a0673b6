// Package kubetest runs a real Kubernetes control plane for tests: etcd,
// kube-apiserver and, when asked, kube-controller-manager, built from the Go
// module proxy by hack/testbin/build.sh and started on 127.0.0.1.
//
// Every process is started with Pdeathsig, so a test binary that is killed
// (timeout, SIGKILL) takes its control plane with it; the working folder of
// a killed run is removed by the next Start. Main, StartT and NeedBinary
// build missing binaries on first use (internal/testbin.Ensure); tests skip
// only when that build is turned off (MKE_MIGRATE_NO_TESTBIN_BUILD=1) or
// $MKE_MIGRATE_KUBE_ASSETS names a folder without them, and under CI=true
// that is a failure too.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/testbin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Versions the binaries are built at (see internal/testbin).
const (
	KubeVersion = testbin.KubeVersion
	EtcdVersion = testbin.EtcdVersion
)

// EnvAssets names a folder that holds the binaries; it wins over the
// default cache folder, and is never built into.
const EnvAssets = testbin.EnvAssets

// ErrNoBinaries is what the error of Assets or Binary is when binaries are
// missing (errors.Is).
var ErrNoBinaries = testbin.ErrNoBinaries

// DefaultControllers are the controllers kube-controller-manager runs: the
// ones RBAC tests need. Node lifecycle is left out on purpose, because it
// taints test-created Nodes after a minute.
var DefaultControllers = []string{
	"clusterrole-aggregation-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"serviceaccount-controller",
}

// Assets returns the folder with the three control-plane binaries (etcd,
// kube-apiserver, kube-controller-manager): $MKE_MIGRATE_KUBE_ASSETS, else
// the version-keyed folder under the cache root that build.sh fills
// ($MKE_MIGRATE_TESTBIN, else the user cache folder + mke-migrate/testbin).
// It never builds; Main, StartT and NeedBinary build on first use.
func Assets() (string, error) {
	return testbin.Find(testbin.ControlPlane()...)
}

// Binary returns the path of one of the binaries build.sh builds (etcd,
// kube-apiserver, kube-controller-manager, etcdctl, etcdutl, kubectl), or
// an error that is ErrNoBinaries when it is not built. It never builds.
func Binary(name string) (string, error) {
	if !slices.Contains(testbin.All(), name) {
		return "", fmt.Errorf("kubetest: %q is not one of the test binaries %v", name, testbin.All())
	}
	dir, err := testbin.Find(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// Options configure Start.
type Options struct {
	// ControllerManager also starts kube-controller-manager with
	// Controllers (DefaultControllers when empty).
	ControllerManager bool
	Controllers       []string
	// Dir is where the working folder is made; os.TempDir when empty.
	Dir string

	// ServingCertPEM and ServingKeyPEM replace the API server's self-signed
	// certificate; ServingCAPEM is then the CA clients trust. Tests that
	// give the API server a certificate of another party's CA (an MKE 3
	// simulator's, say) set all three.
	ServingCertPEM, ServingKeyPEM, ServingCAPEM []byte
	// ClientCAPEM, when set, makes the API server accept client
	// certificates signed by it (user = CN, groups = O).
	ClientCAPEM []byte

	// APIServerArgs and ControllerManagerArgs are added after the flags
	// Start sets (a later flag wins; list flags accumulate), for tests of
	// components that need more of the control plane: bootstrap tokens,
	// the Node authorizer, CSR signing.
	APIServerArgs, ControllerManagerArgs []string
}

// Plane is a running control plane.
type Plane struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// Dir is the working folder; logs are Dir/<binary>.log.
	Dir string

	procs []*exec.Cmd // in start order
	done  map[*exec.Cmd]chan struct{}
}

// PIDs are the process IDs of the running binaries, in start order.
func (p *Plane) PIDs() []string {
	var out []string
	for _, c := range p.procs {
		out = append(out, strconv.Itoa(c.Process.Pid))
	}
	return out
}

// Client returns a clientset for the admin.
func (p *Plane) Client() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(p.Config)
}

// Start starts the plane and waits until the API server is ready. On error
// it stops whatever it started.
func Start(ctx context.Context, o Options) (p *Plane, err error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	base := o.Dir
	if base == "" {
		base = os.TempDir()
	}
	removeStale(base)
	dir, err := os.MkdirTemp(base, workPrefix)
	if err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	p = &Plane{Dir: dir}
	defer func() {
		if err != nil {
			_ = p.Stop()
		}
	}()

	token, err := p.writeSecrets()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := p.start(assets, "etcd",
		"--name", "kubetest", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "kubetest="+peerURL,
		// tests need no durability, and fast raft timers make etcd healthy
		// in tens of milliseconds instead of a second
		"--unsafe-no-fsync", "--heartbeat-interval=10", "--election-timeout=100",
		"--log-level", "warn"); err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, "etcd", etcdURL+"/health", nil, 30*time.Second); err != nil {
		return nil, err
	}

	apiPort := strconv.Itoa(ports[2])
	pki := filepath.Join(dir, "pki")
	tlsArgs, err := tlsFlags(pki, o)
	if err != nil {
		return nil, err
	}
	if err := p.start(assets, "kube-apiserver", append(append(tlsArgs,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", apiPort,
		"--cert-dir", pki,
		"--token-auth-file", filepath.Join(dir, "tokens.csv"), "--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range", "10.0.0.0/24", "--endpoint-reconciler-type", "none",
		"--allow-privileged=true"), o.APIServerArgs...)...); err != nil {
		return nil, err
	}
	host := "https://127.0.0.1:" + apiPort
	// The API server writes its self-signed serving certificate before it
	// listens; until then the readiness probe cannot verify it.
	ca := o.ServingCAPEM
	if len(o.ServingCertPEM) == 0 {
		ca, err = p.waitFile(ctx, "kube-apiserver", filepath.Join(pki, "apiserver.crt"), 60*time.Second)
		if err != nil {
			return nil, err
		}
	}
	p.Config = &rest.Config{
		Host:            host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             -1, // no client-side throttling in tests
	}
	hc, err := rest.HTTPClientFor(p.Config)
	if err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	if err := p.waitHTTP(ctx, "kube-apiserver", host+"/readyz", hc, 90*time.Second); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(pki, "ca.crt"), ca, 0o600); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	p.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := writeKubeconfig(p.Kubeconfig, host, ca, token); err != nil {
		return nil, err
	}

	if o.ControllerManager {
		ctrls := o.Controllers
		if len(ctrls) == 0 {
			ctrls = DefaultControllers
		}
		if err := p.start(assets, "kube-controller-manager", append([]string{
			"--kubeconfig", p.Kubeconfig,
			"--leader-elect=false", "--controllers", strings.Join(ctrls, ","),
			// no serving endpoint: nothing here probes it
			"--bind-address", "127.0.0.1", "--secure-port", "0",
			"--service-account-private-key-file", filepath.Join(pki, "sa.key"),
			"--root-ca-file", filepath.Join(pki, "ca.crt")}, o.ControllerManagerArgs...)...); err != nil {
			return nil, err
		}
		if slices.Contains(ctrls, "clusterrole-aggregation-controller") {
			// Ready means the bootstrap aggregated roles (admin, edit,
			// view) have their rules: until then they grant nothing.
			cs, err := p.Client()
			if err != nil {
				return nil, fmt.Errorf("kubetest: %w", err)
			}
			err = p.poll(ctx, "kube-controller-manager", 60*time.Second, func() bool {
				r, err := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
				return err == nil && len(r.Rules) > 0
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// tlsFlags writes the certificates Options give and returns the API
// server flags that use them; with none, the server makes its own
// self-signed certificate in pki.
func tlsFlags(pki string, o Options) ([]string, error) {
	var args []string
	write := func(name string, b []byte) (string, error) {
		path := filepath.Join(pki, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return "", fmt.Errorf("kubetest: %w", err)
		}
		return path, nil
	}
	if len(o.ServingCertPEM) > 0 {
		if len(o.ServingKeyPEM) == 0 || len(o.ServingCAPEM) == 0 {
			return nil, errors.New("kubetest: ServingCertPEM needs ServingKeyPEM and ServingCAPEM")
		}
		crt, err := write("serving.crt", o.ServingCertPEM)
		if err != nil {
			return nil, err
		}
		key, err := write("serving.key", o.ServingKeyPEM)
		if err != nil {
			return nil, err
		}
		args = append(args, "--tls-cert-file", crt, "--tls-private-key-file", key)
	}
	if len(o.ClientCAPEM) > 0 {
		ca, err := write("client-ca.crt", o.ClientCAPEM)
		if err != nil {
			return nil, err
		}
		args = append(args, "--client-ca-file", ca)
	}
	return args, nil
}

const workPrefix = "mke-migrate-kubetest-"

// removeStale deletes working folders left by killed test binaries: those
// whose owner process is gone.
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, workPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// writeSecrets writes the admin token file and the service-account key
// pair, and returns the token.
func (p *Plane) writeSecrets() (string, error) {
	pki := filepath.Join(p.Dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	token := hex.EncodeToString(raw)
	if err := os.WriteFile(filepath.Join(p.Dir, "tokens.csv"),
		[]byte(token+`,admin,admin-uid,"system:masters"`+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(pki, name), b, 0o600); err != nil {
			return "", fmt.Errorf("kubetest: %w", err)
		}
	}
	return token, nil
}

func (p *Plane) start(assets, name string, args ...string) error {
	log, err := os.Create(filepath.Join(p.Dir, name+".log"))
	if err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(filepath.Join(assets, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = p.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kubetest: start %s: %w", name, err)
	}
	p.procs = append(p.procs, cmd)
	done := make(chan struct{})
	if p.done == nil {
		p.done = map[*exec.Cmd]chan struct{}{}
	}
	p.done[cmd] = done
	go func() { _ = cmd.Wait(); close(done) }()
	return nil
}

// exited reports whether the named process has ended.
func (p *Plane) exited(name string) bool {
	for _, c := range p.procs {
		if filepath.Base(c.Path) == name {
			select {
			case <-p.done[c]:
				return true
			default:
				return false
			}
		}
	}
	return false
}

// failure makes an error from the tail of a process's log.
func (p *Plane) failure(name, what string) error {
	b, _ := os.ReadFile(filepath.Join(p.Dir, name+".log"))
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return fmt.Errorf("kubetest: %s %s; end of its log:\n%s", name, what, bytes.TrimSpace(b))
}

func (p *Plane) waitHTTP(ctx context.Context, name, url string, hc *http.Client, limit time.Duration) error {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Second}
	}
	return p.poll(ctx, name, limit, func() bool {
		resp, err := hc.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (p *Plane) waitFile(ctx context.Context, name, path string, limit time.Duration) ([]byte, error) {
	var b []byte
	err := p.poll(ctx, name, limit, func() bool {
		var err error
		b, err = os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return false
		}
		_, err = tls.X509KeyPair(b, mustRead(strings.TrimSuffix(path, ".crt")+".key"))
		return err == nil // both halves written
	})
	return b, err
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

func (p *Plane) poll(ctx context.Context, name string, limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if p.exited(name) {
			return p.failure(name, "exited during start-up")
		}
		if time.Now().After(deadline) {
			return p.failure(name, "was not ready after "+limit.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubetest: waiting for %s: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// Stop stops the processes in reverse order (SIGTERM, then SIGKILL after
// 5 s) and removes the working folder.
func (p *Plane) Stop() error {
	for i := len(p.procs) - 1; i >= 0; i-- {
		c := p.procs[i]
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done[c]:
			continue
		case <-time.After(5 * time.Second):
		}
		_ = c.Process.Kill()
		select {
		case <-p.done[c]:
		case <-time.After(5 * time.Second):
		}
	}
	p.procs = nil
	if p.Dir == "" {
		return nil
	}
	// a process that just exited may still have had files open
	var err error
	for range 3 {
		if err = os.RemoveAll(p.Dir); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kubetest: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func writeKubeconfig(path, host string, ca []byte, token string) error {
	// JSON is YAML: no YAML dependency needed for a fixed shape
	doc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Config",
"clusters":[{"name":"kubetest","cluster":{"server":%q,"certificate-authority-data":%q}}],
"users":[{"name":"admin","user":{"token":%q}}],
"contexts":[{"name":"kubetest","context":{"cluster":"kubetest","user":"admin"}}],
"current-context":"kubetest"}`, host, base64.StdEncoding.EncodeToString(ca), token)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	return nil
}
