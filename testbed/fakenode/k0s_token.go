//go:build !fakenodelight

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Join tokens as k0s v1.33 makes them (pkg/token/kubeconfig.go,
// joinencode.go, joindecode.go, manager.go): a kubeconfig with one cluster
// and context named "k0s", a user named after the role holding the
// bootstrap token "<id>.<secret>", gzipped at best compression and encoded
// in standard base64. Shared by the controller and the worker sides.
const (
	roleController = "controller"
	roleWorker     = "worker"
	// ControllerTokenAuthName and WorkerTokenAuthName in pkg/token.
	controllerTokenUser = "controller-bootstrap"
	workerTokenUser     = "kubelet-bootstrap"
	tokenContext        = "k0s"
)

// joinToken is a decoded k0s join token.
type joinToken struct {
	Server string // https://<address>:9443 (controller) or :6443 (worker)
	CA     []byte // the cluster CA (pki/ca.crt), PEM
	User   string // controllerTokenUser or workerTokenUser
	Token  string // bootstrap token "<id>.<secret>"
}

// Role is the role the token joins, from its user name (pkg/token
// GetTokenType reads the first context's AuthInfo).
func (t *joinToken) Role() string {
	if t.User == controllerTokenUser {
		return roleController
	}
	return roleWorker
}

// ID is the bootstrap token's ID, the secret's name suffix.
func (t *joinToken) ID() string {
	id, _, _ := cutDot(t.Token)
	return id
}

func cutDot(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// encodeJoinToken is GenerateKubeconfig followed by JoinEncode.
func encodeJoinToken(t joinToken) (string, error) {
	kc, err := clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{tokenContext: {Server: t.Server, CertificateAuthorityData: t.CA}},
		Contexts:       map[string]*clientcmdapi.Context{tokenContext: {Cluster: tokenContext, AuthInfo: t.User}},
		CurrentContext: tokenContext,
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{t.User: {Token: t.Token}},
	})
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(kc); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// decodeJoinToken is DecodeJoinToken (base64, gunzip) then clientcmd.Load;
// its errors read as k0s's ("failed to decode token: …" is added by the
// callers that k0s adds it in).
func decodeJoinToken(s string) (*joinToken, error) {
	gz, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	kc, err := io.ReadAll(zr)
	if cerr := zr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		return nil, err
	}
	t := &joinToken{}
	// GetTokenType: the AuthInfo of the (only) context
	for _, c := range cfg.Contexts {
		t.User = c.AuthInfo
		if cl := cfg.Clusters[c.Cluster]; cl != nil {
			t.Server, t.CA = cl.Server, cl.CertificateAuthorityData
		}
		if ai := cfg.AuthInfos[c.AuthInfo]; ai != nil {
			t.Token = ai.Token
		}
		break
	}
	if t.User == "" || t.Server == "" {
		return nil, errors.New("invalid join token: no context, cluster or user")
	}
	return t, nil
}

// bootstrapTokenRE is a bootstrap token "<id>.<secret>"
// (k8s.io/cluster-bootstrap/token/api BootstrapTokenPattern).
var bootstrapTokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)

// randomBootstrapToken is tokenutil.GenerateBootstrapToken: 6 and 16
// characters of [a-z0-9].
func randomBootstrapToken() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	r := make([]byte, 22)
	if _, err := rand.Read(r); err != nil {
		return "", err
	}
	for i := range r {
		// 256 % 36 = 4: a negligible bias for a test token
		r[i] = alphabet[int(r[i])%len(alphabet)]
	}
	return string(r[:6]) + "." + string(r[6:]), nil
}

// bootstrapTokenSecret is pkg/token RandomBootstrapSecret through kubeadm's
// BootstrapTokenToSecret: Secret bootstrap-token-<id> of type
// bootstrap.kubernetes.io/token in kube-system; worker tokens have the
// usage "authentication", controller tokens "controller-join" (and its
// legacy key usage-controller-join); an expiry only when ttl > 0.
func bootstrapTokenSecret(token, role string, ttl time.Duration, now time.Time) (*corev1.Secret, error) {
	m := bootstrapTokenRE.FindStringSubmatch(token)
	if m == nil {
		return nil, fmt.Errorf("the bootstrap token %q was not of the form %q", token, bootstrapTokenRE.String())
	}
	data := map[string][]byte{"token-id": []byte(m[1]), "token-secret": []byte(m[2])}
	switch role {
	case roleWorker:
		data["description"] = []byte("Worker bootstrap token generated by k0s")
		data["usage-bootstrap-authentication"] = []byte("true")
	case roleController:
		data["description"] = []byte("Controller bootstrap token generated by k0s")
		data["usage-bootstrap-controller-join"] = []byte("true")
		data["usage-controller-join"] = []byte("true")
	default:
		return nil, fmt.Errorf("unsupported role %q", role)
	}
	if ttl > 0 {
		data["expiration"] = []byte(now.Add(ttl).UTC().Format(time.RFC3339))
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + m[1], Namespace: metav1.NamespaceSystem},
		Type:       corev1.SecretTypeBootstrapToken,
		Data:       data,
	}, nil
}

// tokenAllows is cmd/api isValidToken: the secret of the token's ID exists,
// is not expired, holds the same secret and has the usage (or its legacy
// key).
func tokenAllows(s *corev1.Secret, token, usage string, now time.Time) bool {
	m := bootstrapTokenRE.FindStringSubmatch(token)
	if m == nil || s == nil {
		return false
	}
	if string(s.Data["token-id"]) != m[1] || string(s.Data["token-secret"]) != m[2] {
		return false
	}
	if exp := string(s.Data["expiration"]); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || !now.Before(t) {
			return false
		}
	}
	return string(s.Data["usage-bootstrap-"+usage]) == "true" || string(s.Data["usage-"+usage]) == "true"
}
