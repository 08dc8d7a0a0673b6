//go:build !fakenodelight

package main

// "k0s worker": the process of the k0sworker service. It does what k0s
// v1.33.9+k0s.0 does before and instead of running kubelet and containerd:
// bootstrap the kubelet's client certificate from the join token
// (cmd/worker/worker.go, pkg/component/worker/utils.go, and kubelet's
// pkg/kubelet/certificate/bootstrap/bootstrap.go), load the worker profile
// (pkg/component/worker/config/loader.go), write the kubelet configuration
// (pkg/component/worker/kubelet.go), then act as the kubelet: hold its port,
// register the Node and keep it Ready (k0s_worker_node.go).

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	retrygo "github.com/avast/retry-go"
	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/certificate"
	"k8s.io/client-go/util/certificate/csr"
	"k8s.io/client-go/util/keyutil"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"
)

// Timings of the real components.
const (
	// systemd restarts k0s RestartSec=10 after it exits
	// (pkg/install/linux_systemd.go).
	restartDelay = 10 * time.Second
	// k0s's supervisor respawns kubelet after TimeoutRespawn
	// (pkg/supervisor/supervisor.go).
	respawnDelay = 5 * time.Second
)

// signalContext ends with SIGTERM or SIGINT, as k0s worker's does.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

// worker is one run of k0s worker.
type worker struct {
	o        workerOptions
	e        *env
	tokenArg string
	log      *slog.Logger
	root     string // envRoot

	// kubeletStarted, when set, runs once kubelet has been started
	kubeletStarted func(context.Context)
	// bootstrapKubeconfig is a controller's admin kubeconfig, the embedded
	// worker's bootstrap credentials instead of a join token
	bootstrapKubeconfig string

	nodeName  string
	extraArgs map[string]string
	// the paths of config.NewCfgVars (pkg/config/cfgvars.go) for root
	dataDir, kubeletRootDir, runDir, kubeletConf, certDir string
}

func (w *worker) init() error {
	var err error
	if w.dataDir, err = filepath.Abs(w.o.dataDir); err != nil {
		return fmt.Errorf("invalid datadir: %w", err)
	}
	w.kubeletRootDir = w.o.kubeletRootDir
	if w.kubeletRootDir == "" {
		w.kubeletRootDir = filepath.Join(w.dataDir, "kubelet")
	}
	// RunDir is /run/k0s for root; a non-root k0s uses <data-dir>/run
	w.runDir = w.hostPath("/run/k0s")
	if os.Geteuid() != 0 {
		w.runDir = filepath.Join(w.dataDir, "run")
	}
	w.kubeletConf = filepath.Join(w.dataDir, "kubelet.conf")
	// BootstrapKubeletClientConfig passes <kubelet root>/pki as cert dir
	w.certDir = filepath.Join(w.kubeletRootDir, "pki")
	// GetNodeName (cmd/worker/worker.go, pkg/node): --hostname-override in
	// the kubelet extra args, else the lower-cased host name
	w.extraArgs = splitFlags(w.o.kubeletExtraArgs)
	w.nodeName = w.extraArgs["--hostname-override"]
	if w.nodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("failed to determine node name: %w", err)
		}
		w.nodeName = strings.ToLower(h)
	}
	for _, d := range []string{w.dataDir, w.runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// splitFlags is flags.Split (internal/pkg/flags): white-space separated
// --name=value or --name words.
func splitFlags(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func (w *worker) runOnce(ctx context.Context) error {
	if err := w.bootstrap(ctx); err != nil {
		return fmt.Errorf("failed to bootstrap kubelet client configuration: %w", err)
	}
	profile, err := w.loadProfile(ctx)
	if err != nil {
		return err
	}
	return w.runKubelet(ctx, profile)
}

// bootstrap is worker.BootstrapKubeletClientConfig
// (pkg/component/worker/utils.go): nothing to do once kubelet.conf exists;
// else the bootstrap kubeconfig file or the join token authenticate
// kubelet's certificate request, retried with retry-go's back-off.
func (w *worker) bootstrap(ctx context.Context) error {
	if fileExists(w.kubeletConf) {
		return nil
	}
	var boot *rest.Config
	bootPath := filepath.Join(w.dataDir, "kubelet-bootstrap.conf")
	switch {
	case fileExists(bootPath):
		c, err := clientcmd.BuildConfigFromFlags("", bootPath)
		if err != nil {
			return err
		}
		boot = c
	case w.bootstrapKubeconfig != "":
		c, err := clientcmd.BuildConfigFromFlags("", w.bootstrapKubeconfig)
		if err != nil {
			return fmt.Errorf("failed to get bootstrap kubeconfig: %w", err)
		}
		boot = c
	case w.tokenArg != "" || w.o.tokenFile != "":
		c, err := w.joinConfig()
		if err != nil {
			return fmt.Errorf("failed to get bootstrap kubeconfig: %w", err)
		}
		boot = c
	default:
		return errors.New("neither regular nor bootstrap kubeconfig files exist and no join token given; dunno how to make kubelet authenticate to API server")
	}
	w.log.Info("Bootstrapping client configuration", "component", "bootstrap-kubelet", "node_name", w.nodeName, "server", boot.Host)
	err := retrygo.Do(func() error { return w.loadClientCert(ctx, boot) },
		retrygo.Context(ctx), retrygo.LastErrorOnly(true), retrygo.Delay(time.Second),
		retrygo.OnRetry(func(n uint, err error) {
			w.log.Info("Failed to bootstrap client configuration, retrying after backoff", "component", "bootstrap-kubelet", "attempt", n+1, "error", err)
		}))
	if err != nil {
		return fmt.Errorf("failed to bootstrap client configuration: %w", err)
	}
	w.log.Info("Successfully bootstrapped client configuration", "component", "bootstrap-kubelet")
	return nil
}

// joinConfig is kubeconfigGetterFromJoinToken's getter
// (cmd/worker/worker.go): the token from the argument or the file, decoded
// (pkg/token/joindecode.go, decodeJoinToken), of type kubelet-bootstrap, as
// the client configuration of its kubeconfig. Like k0s, it does not trim
// the token: a token file ending in a newline fails to decode.
func (w *worker) joinConfig() (*rest.Config, error) {
	tok := w.tokenArg
	if tok == "" {
		b, err := os.ReadFile(w.o.tokenFile)
		problem := ""
		switch {
		case errors.Is(err, os.ErrNotExist):
			problem = "not found"
		case err != nil:
			return nil, fmt.Errorf("failed to read token file: %w", err)
		case len(b) == 0:
			problem = "is empty"
		}
		if problem != "" {
			return nil, fmt.Errorf("token file %q %s"+
				`: obtain a new token via "k0s token create ..." and store it in the file`+
				` or reinstall this node via "k0s install --force ..." or "k0sctl apply --force ..."`, w.o.tokenFile, problem)
		}
		tok = string(b)
	}
	jt, err := decodeJoinToken(tok)
	if err != nil {
		return nil, fmt.Errorf("failed to decode join token: %w", err)
	}
	if jt.User != workerTokenUser {
		return nil, fmt.Errorf("wrong token type %s, expected type: %s", jt.User, workerTokenUser)
	}
	return &rest.Config{Host: jt.Server, BearerToken: jt.Token, TLSClientConfig: rest.TLSClientConfig{CAData: jt.CA}}, nil
}

// loadClientCert is kubelet's bootstrap.LoadClientCert
// (pkg/kubelet/certificate/bootstrap/bootstrap.go at Kubernetes 1.33):
// reuse or generate the key, wait up to a minute for /healthz, request a
// client certificate for system:node:<name> and wait for it to be signed,
// store it (kubelet-client-current.pem) and write kubelet.conf using it.
func (w *worker) loadClientCert(ctx context.Context, boot *rest.Config) error {
	if err := os.MkdirAll(w.certDir, 0o755); err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(boot)
	if err != nil {
		return fmt.Errorf("unable to create certificates signing request client: %v", err)
	}
	store, err := certificate.NewFileStore("kubelet-client", w.certDir, w.certDir, "", "")
	if err != nil {
		return fmt.Errorf("unable to build bootstrap cert store")
	}
	var keyData []byte
	if cert, err := store.Current(); err == nil && cert.PrivateKey != nil {
		keyData, _ = keyutil.MarshalPrivateKeyToPEM(cert.PrivateKey)
	}
	privKeyPath := filepath.Join(w.certDir, "kubelet-client.key.tmp")
	if _, err := keyutil.ParsePrivateKeyPEM(keyData); len(keyData) == 0 || err != nil {
		if keyData, _, err = keyutil.LoadOrGenerateKeyFile(privKeyPath); err != nil {
			return err
		}
	}
	if err := waitForServer(ctx, w.log, client, time.Minute); err != nil {
		w.log.Info("Error waiting for apiserver to come up", "error", err)
	}
	certData, err := requestNodeCertificate(ctx, client, keyData, w.nodeName)
	if err != nil {
		return err
	}
	if _, err := store.Update(certData, keyData); err != nil {
		return err
	}
	_ = os.Remove(privKeyPath)
	caFile, caData := boot.CAFile, []byte(nil)
	if caFile == "" {
		caData = boot.CAData
	}
	pem := store.CurrentPath()
	return clientcmd.WriteToFile(clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{"default-cluster": {Server: boot.Host, InsecureSkipTLSVerify: boot.Insecure,
			CertificateAuthority: caFile, CertificateAuthorityData: caData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"default-auth": {ClientCertificate: pem, ClientKey: pem}},
		Contexts:       map[string]*clientcmdapi.Context{"default-context": {Cluster: "default-cluster", AuthInfo: "default-auth", Namespace: "default"}},
		CurrentContext: "default-context",
	}, w.kubeletConf)
}

// waitForServer is bootstrap.go's: GET /healthz every 2 s (20 % jitter)
// until it answers or the deadline passes.
func waitForServer(ctx context.Context, log *slog.Logger, client kubernetes.Interface, deadline time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	connected := false
	wait.JitterUntil(func() {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		defer rcancel()
		if _, err := client.Discovery().RESTClient().Get().AbsPath("/healthz").Do(rctx).Raw(); err != nil {
			log.Info("Failed to connect to apiserver", "component", "kubelet", "error", err)
			return
		}
		connected = true
		cancel()
	}, 2*time.Second, 0.2, true, ctx.Done())
	if !connected {
		return errors.New("timed out waiting to connect to apiserver")
	}
	return nil
}

// requestNodeCertificate is bootstrap.go's: a CSR for CN
// system:node:<name>, O system:nodes, signer
// kubernetes.io/kube-apiserver-client-kubelet, named by digestedName, and
// the wait (up to an hour) for its certificate.
func requestNodeCertificate(ctx context.Context, client kubernetes.Interface, keyData []byte, nodeName string) ([]byte, error) {
	subject := &pkix.Name{Organization: []string{"system:nodes"}, CommonName: "system:node:" + nodeName}
	key, err := keyutil.ParsePrivateKeyPEM(keyData)
	if err != nil {
		return nil, fmt.Errorf("invalid private key for certificate request: %v", err)
	}
	csrData, err := certutil.MakeCSR(key, subject, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("unable to generate certificate request: %v", err)
	}
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	if _, ok := key.(*rsa.PrivateKey); ok {
		usages = append(usages, certificatesv1.UsageKeyEncipherment)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key does not implement crypto.Signer")
	}
	name, err := digestedName(signer.Public(), subject, usages)
	if err != nil {
		return nil, err
	}
	reqName, reqUID, err := csr.RequestCertificateWithContext(ctx, client, csrData, name, certificatesv1.KubeAPIServerClientKubeletSignerName, nil, usages, key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	return csr.WaitForCertificate(ctx, client, reqName, reqUID)
}

// digestedName is bootstrap.go's CSR name: node-csr-<base64url of a
// SHA-512/256 over the public key, subject and usages>.
func digestedName(pub any, subject *pkix.Name, usages []certificatesv1.KeyUsage) (string, error) {
	h := sha512.New512_256()
	enc := base64.RawURLEncoding.EncodeToString
	write := func(b []byte) {
		h.Write([]byte(enc(b)))
		h.Write([]byte{'|'})
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	write(der)
	write([]byte(subject.CommonName))
	for _, o := range subject.Organization {
		write([]byte(o))
	}
	for _, u := range usages {
		write([]byte(u))
	}
	return "node-csr-" + enc(h.Sum(nil)), nil
}

// workerConfigMapName is configMapNameForProfile
// (pkg/component/worker/config/loader.go).
func workerConfigMapName(profile string) string {
	return "worker-config-" + profile + "-" + kubeMinor()
}

// workerProfile is the part of a worker profile ConfigMap the fake uses
// (pkg/component/worker/config/config.go FromConfigMapData).
type workerProfile struct {
	Name    string
	Data    map[string]string
	Kubelet kubeletv1beta1.KubeletConfiguration
}

// loadProfile is workerconfig.LoadProfile: GET the profile's ConfigMap in
// kube-system with the kubelet's credentials, retried with retry-go's
// defaults (10 attempts) from 500 ms, then cached in
// <data-dir>/worker-profile.yaml. Without the ConfigMap it fails after
// the retries and k0s worker exits (systemd restarts it): kubelet never
// starts and the Node never registers.
func (w *worker) loadProfile(ctx context.Context) (*workerProfile, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", w.kubeletConf)
	if err != nil {
		return nil, fmt.Errorf("failed to create Kubernetes client config: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	name := workerConfigMapName(w.o.profile)
	var data map[string]string
	err = retrygo.Do(func() error {
		cm, err := client.CoreV1().ConfigMaps("kube-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		data = cm.Data
		return nil
	}, retrygo.Context(ctx), retrygo.LastErrorOnly(true), retrygo.Delay(500*time.Millisecond),
		retrygo.OnRetry(func(n uint, err error) {
			// k0s logs this at debug level
			w.log.Info(fmt.Sprintf("Failed to load configuration for worker profile in attempt #%d, retrying after backoff", n+1),
				"profile", w.o.profile, "configMap", name, "error", err)
		}))
	if err != nil {
		if apierrors.IsUnauthorized(err) {
			err = fmt.Errorf("the k0s worker node credentials are invalid, the node needs to be rejoined into the cluster with a fresh bootstrap token: %w", err)
		}
		return nil, err
	}
	p := &workerProfile{Name: w.o.profile, Data: data}
	if s, ok := data["kubeletConfiguration"]; ok {
		if err := yaml.Unmarshal([]byte(s), &p.Kubelet); err != nil {
			return nil, fmt.Errorf("kubeletConfiguration: %w", err)
		}
	}
	b, err := yaml.Marshal(struct {
		Name string            `json:"name"`
		Data map[string]string `json:"data"`
	}{p.Name, p.Data})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(w.dataDir, "worker-profile.yaml"), b, 0o644); err != nil {
		return nil, err
	}
	w.log.Info("Loaded worker profile", "profile", p.Name, "configMap", name)
	return p, nil
}

// writeFileAtomic is file.WriteContentAtomically (internal/pkg/file).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(mode), f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
