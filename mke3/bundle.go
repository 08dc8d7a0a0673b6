package mke3

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Bundle is an MKE 3 client bundle, held in memory. KeyPEM is a secret: the
// String, GoString and LogValue methods leave it (and the kubeconfig) out.
type Bundle struct {
	CAPEM      []byte // ca.pem: the MKE CA
	CertPEM    []byte // cert.pem: the client certificate
	KeyPEM     []byte // key.pem: its private key
	Kubeconfig []byte // kube.yml; empty when the bundle has none
	// Server is the Kubernetes API address RESTConfig uses when Kubeconfig
	// is empty. ClientBundle sets it to https://<MKE host>:6443, the MKE 3
	// default; change it when the cluster uses another port.
	Server string
}

// Limits on a client bundle, which is read in memory.
const (
	maxBundleZip     = 16 << 20 // the download
	maxBundleEntries = 256      // entries in the zip
	maxBundleFile    = 1 << 20  // each file read (PEMs, kube.yml)
	maxBundleTotal   = 4 << 20  // all files read
)

// DefaultKubeAPIPort is the MKE 3 Kubernetes API port ClientBundle uses for
// Bundle.Server.
const DefaultKubeAPIPort = "6443"

const pathClientBundle = "/api/clientbundle"

// ClientBundle creates a client bundle for the logged-in user (POST
// /api/clientbundle) and reads it in memory, with size limits and entry-name
// checks. Every call creates a new key pair in MKE; the POST is retried like
// a read, because a repeated one only leaves one more unused key.
func (c *Client) ClientBundle(ctx context.Context) (*Bundle, error) {
	resp, err := c.do(ctx, &request{
		method:     http.MethodPost,
		path:       pathClientBundle,
		accept:     "application/zip",
		auth:       true,
		replayable: true,
		limit:      maxBundleZip,
	})
	if err != nil {
		return nil, err
	}
	b, err := readBundle(resp.body)
	if err != nil {
		return nil, &opError{method: http.MethodPost, path: pathClientBundle, err: err}
	}
	b.Server = "https://" + net.JoinHostPort(c.hostname, DefaultKubeAPIPort)
	c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 client bundle", slog.Bool("kubeconfig", len(b.Kubeconfig) > 0))
	return b, nil
}

// errBundle is wrapped by every error about the content of a bundle.
var errBundle = errors.New("invalid client bundle")

func bundleError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBundle}, args...)...)
}

// readBundle reads a client bundle zip. Every entry name must be a plain
// relative path; ca.pem, cert.pem and key.pem must be present at the top
// level as regular files, once, and the certificate must match the key.
// Only those and kube.yml are decompressed, each through a size limit.
func readBundle(data []byte) (*Bundle, error) {
	if len(data) > maxBundleZip {
		return nil, bundleError("larger than %d MiB", maxBundleZip>>20)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, bundleError("not a zip archive: %w", err)
	}
	if len(zr.File) > maxBundleEntries {
		return nil, bundleError("%d entries, more than %d", len(zr.File), maxBundleEntries)
	}
	wanted := map[string]*[]byte{}
	b := &Bundle{}
	wanted["ca.pem"], wanted["cert.pem"], wanted["key.pem"], wanted["kube.yml"] = &b.CAPEM, &b.CertPEM, &b.KeyPEM, &b.Kubeconfig
	found := map[string]bool{}
	total := 0
	for i, f := range zr.File {
		if !safeEntryName(f.Name) {
			// The name is not quoted: it is the server's text.
			return nil, bundleError("entry %d has an unsafe name (absolute, with \"..\", a backslash, a drive letter or a control character)", i+1)
		}
		dst, ok := wanted[f.Name]
		if !ok {
			continue
		}
		if found[f.Name] {
			return nil, bundleError("%s appears twice", f.Name)
		}
		found[f.Name] = true
		if !f.Mode().IsRegular() {
			return nil, bundleError("%s is not a regular file", f.Name)
		}
		if f.UncompressedSize64 > maxBundleFile {
			return nil, bundleError("%s is larger than %d KiB", f.Name, maxBundleFile>>10)
		}
		content, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		total += len(content)
		if total > maxBundleTotal {
			return nil, bundleError("the files read exceed %d MiB", maxBundleTotal>>20)
		}
		*dst = content
	}
	for _, name := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if !found[name] {
			return nil, bundleError("no %s", name)
		}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b.CAPEM) {
		return nil, bundleError("ca.pem holds no PEM certificate")
	}
	if _, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM); err != nil {
		// The tls errors name PEM block types, never key material.
		return nil, bundleError("cert.pem and key.pem are not a usable key pair: %w", err)
	}
	return b, nil
}

// readEntry decompresses one entry, refusing more than maxBundleFile bytes
// whatever its header claims.
func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, bundleError("%s: %w", f.Name, err)
	}
	defer rc.Close()
	content, err := io.ReadAll(io.LimitReader(rc, maxBundleFile+1))
	if err != nil {
		return nil, bundleError("%s: %w", f.Name, err)
	}
	if len(content) > maxBundleFile {
		return nil, bundleError("%s is larger than %d KiB", f.Name, maxBundleFile>>10)
	}
	return content, nil
}

// safeEntryName accepts relative slash-separated names without ".."
// elements, drive letters, backslashes or control characters. The bundle is
// never written to disk, but a name that would escape a folder marks a
// hostile or broken server, and the whole bundle is refused.
func safeEntryName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, `\:`) {
		return false
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return false
		}
	}
	return true
}

// printable bounds a name for an error message.
func printable(s string) string {
	const limit = 80
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// String describes the bundle without its key or kubeconfig.
func (b Bundle) String() string {
	return fmt.Sprintf("mke3.Bundle{CAPEM: %d bytes, CertPEM: %d bytes, KeyPEM: <redacted>, Kubeconfig: %d bytes, Server: %q}",
		len(b.CAPEM), len(b.CertPEM), len(b.Kubeconfig), b.Server)
}

// GoString is String, so that %#v does not print the key either.
func (b Bundle) GoString() string { return b.String() }

// LogValue keeps the key out of structured logs.
func (b Bundle) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("ca_pem_bytes", len(b.CAPEM)),
		slog.Int("cert_pem_bytes", len(b.CertPEM)),
		slog.String("key_pem", "<redacted>"),
		slog.Int("kubeconfig_bytes", len(b.Kubeconfig)),
		slog.String("server", b.Server),
	)
}

// RESTConfig returns a client-go configuration for the MKE 3 Kubernetes
// API. With kube.yml it follows its current context (the only context when
// none is current); references in it to ca.pem, cert.pem and key.pem are
// served from the bundle. Because kube.yml comes from the server, it may not
// run commands (exec, auth-provider) nor name other local files. Without
// kube.yml the configuration is built from Server and the PEMs.
func (b *Bundle) RESTConfig() (*rest.Config, error) {
	if b == nil {
		return nil, errors.New("mke3: nil bundle")
	}
	if len(bytes.TrimSpace(b.Kubeconfig)) == 0 {
		return b.restConfigFromPEMs()
	}
	cfg, err := clientcmd.Load(b.Kubeconfig)
	if err != nil {
		// YAML errors may quote values, and kube.yml may hold the key.
		return nil, &quiet{msg: "mke3: client bundle: kube.yml is not a valid kubeconfig", err: err}
	}
	name := cfg.CurrentContext
	if name == "" && len(cfg.Contexts) == 1 {
		for n := range cfg.Contexts {
			name = n
		}
	}
	kctx, ok := cfg.Contexts[name]
	if name == "" || !ok || kctx == nil {
		return nil, errors.New("mke3: client bundle: kube.yml has no current context")
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok || cluster == nil {
		return nil, fmt.Errorf("mke3: client bundle: kube.yml: context %q names no cluster", name)
	}
	user, ok := cfg.AuthInfos[kctx.AuthInfo]
	if !ok || user == nil {
		return nil, fmt.Errorf("mke3: client bundle: kube.yml: context %q names no user", name)
	}
	if err := b.inlineFiles(cluster, user); err != nil {
		return nil, err
	}
	// Only the selected context, so that nothing else is consulted.
	only := clientcmdapi.NewConfig()
	only.Clusters[kctx.Cluster] = cluster
	only.AuthInfos[kctx.AuthInfo] = user
	only.Contexts[name] = kctx
	only.CurrentContext = name
	rc, err := clientcmd.NewNonInteractiveClientConfig(*only, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, &quiet{msg: "mke3: client bundle: kube.yml is not usable: " + printable(kubeconfigProblem(err)), err: err}
	}
	return rc, nil
}

// kubeconfigProblem keeps the first line of a clientcmd validation error;
// those name fields and contexts, not their values.
func kubeconfigProblem(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// inlineFiles replaces references to the bundle's own files by their
// content and refuses everything that would read other files or run
// commands.
func (b *Bundle) inlineFiles(cluster *clientcmdapi.Cluster, user *clientcmdapi.AuthInfo) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("mke3: client bundle: kube.yml: "+format, args...)
	}
	ref := func(field, value, want string, data []byte) ([]byte, error) {
		if path.Clean(strings.TrimPrefix(value, "./")) != want {
			// The path is the server's text: not quoted.
			return nil, fail("%s refers to a file other than the bundle's %s", field, want)
		}
		return data, nil
	}
	if cluster.CertificateAuthority != "" {
		if len(cluster.CertificateAuthorityData) == 0 {
			d, err := ref("certificate-authority", cluster.CertificateAuthority, "ca.pem", b.CAPEM)
			if err != nil {
				return err
			}
			cluster.CertificateAuthorityData = d
		}
		cluster.CertificateAuthority = ""
	}
	if user.ClientCertificate != "" {
		if len(user.ClientCertificateData) == 0 {
			d, err := ref("client-certificate", user.ClientCertificate, "cert.pem", b.CertPEM)
			if err != nil {
				return err
			}
			user.ClientCertificateData = d
		}
		user.ClientCertificate = ""
	}
	if user.ClientKey != "" {
		if len(user.ClientKeyData) == 0 {
			d, err := ref("client-key", user.ClientKey, "key.pem", b.KeyPEM)
			if err != nil {
				return err
			}
			user.ClientKeyData = d
		}
		user.ClientKey = ""
	}
	switch {
	case user.Exec != nil:
		return fail("the user runs a command (exec), which a client bundle must not do")
	case user.AuthProvider != nil:
		return fail("the user has an auth-provider, which a client bundle must not have")
	case user.TokenFile != "":
		return fail("the user reads a token file, which a client bundle must not do")
	}
	return nil
}

func (b *Bundle) restConfigFromPEMs() (*rest.Config, error) {
	if b.Server == "" {
		return nil, errors.New("mke3: client bundle: no kube.yml and no Server to build a configuration from")
	}
	return &rest.Config{
		Host: b.Server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   bytes.Clone(b.CAPEM),
			CertData: bytes.Clone(b.CertPEM),
			KeyData:  bytes.Clone(b.KeyPEM),
		},
	}, nil
}
