package mke3

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is a CA that can issue server and client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key signed by ca; server certificates
// are valid for 127.0.0.1 and localhost.
func (ca *testCA) issue(t testing.TB, server bool) (certPEM, keyPEM []byte, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return certPEM, keyPEM, pair
}

// chainServer serves /_ping with the given chain (leaf first).
func chainServer(t *testing.T, pair tls.Certificate, extra ...*x509.Certificate) *httptest.Server {
	t.Helper()
	for _, c := range extra {
		pair.Certificate = append(pair.Certificate, c.Raw)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("OK"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.Config.ErrorLog = quietServerLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func sha(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

func TestUnknownCA(t *testing.T) {
	f := newFake(t)
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {})
	c, logs := f.client(func(o *Options) { o.CACertPEM = nil })
	err := c.Ping(testCtx(t))
	var certErr *CertificateError
	require.ErrorAs(t, err, &certErr)
	want := fingerprint(f.srv.Certificate().Raw)
	assert.Equal(t, want, certErr.Fingerprint)
	assert.Len(t, want, 95)
	assert.Equal(t, strings.ToUpper(sha(f.srv.Certificate().Raw)), strings.ReplaceAll(want, ":", ""))
	assert.Equal(t, strings.TrimPrefix(f.srv.URL, "https://"), certErr.Host)
	msg := err.Error()
	assert.Contains(t, msg, want)
	assert.Contains(t, msg, "--mke3-ca-cert FILE")
	assert.Contains(t, msg, "--mke3-ca-fingerprint "+want)
	assert.Contains(t, msg, "x509:")
	assert.NotContains(t, logs.String(), "retrying")
}

func TestCACertPEMTrust(t *testing.T) {
	ca := newTestCA(t, "MKE CA")
	_, _, pair := ca.issue(t, true)
	srv := chainServer(t, pair)
	c, err := New(Options{Host: srv.URL, CACertPEM: ca.pem})
	require.NoError(t, err)
	require.NoError(t, c.Ping(testCtx(t)))

	other := newTestCA(t, "other")
	c2, err := New(Options{Host: srv.URL, CACertPEM: other.pem})
	require.NoError(t, err)
	var certErr *CertificateError
	require.ErrorAs(t, c2.Ping(testCtx(t)), &certErr)

	_, err = New(Options{Host: srv.URL, CACertPEM: []byte("not pem")})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestCAChainPresentedGivesCAFingerprint(t *testing.T) {
	ca := newTestCA(t, "MKE CA")
	_, _, pair := ca.issue(t, true)
	srv := chainServer(t, pair, ca.cert)
	c, err := New(Options{Host: srv.URL})
	require.NoError(t, err)
	var certErr *CertificateError
	require.ErrorAs(t, c.Ping(testCtx(t)), &certErr)
	assert.Equal(t, fingerprint(ca.cert.Raw), certErr.CAFingerprint)
	assert.Contains(t, certErr.Error(), "--mke3-ca-fingerprint "+certErr.CAFingerprint)

	// And the suggestion works.
	c, err = New(Options{Host: srv.URL, CAFingerprint: certErr.CAFingerprint})
	require.NoError(t, err)
	require.NoError(t, c.Ping(testCtx(t)))
}

func TestPinnedLeaf(t *testing.T) {
	f := newFake(t)
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {})
	raw := f.srv.Certificate().Raw
	for _, pin := range []string{sha(raw), strings.ToUpper(sha(raw)), fingerprint(raw), "sha256:" + sha(raw), " SHA256:" + fingerprint(raw) + " "} {
		c, _ := f.client(func(o *Options) { o.CACertPEM, o.CAFingerprint = nil, pin })
		require.NoError(t, c.Ping(testCtx(t)), pin)
	}
}

func TestPinMismatch(t *testing.T) {
	f := newFake(t)
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {})
	wrong := strings.Repeat("ab", 32)
	c, _ := f.client(func(o *Options) { o.CACertPEM, o.CAFingerprint = nil, wrong })
	err := c.Ping(testCtx(t))
	var certErr *CertificateError
	require.ErrorAs(t, err, &certErr)
	assert.ErrorIs(t, err, errPinMismatch)
	assert.Equal(t, fingerprint(f.srv.Certificate().Raw), certErr.Fingerprint)
	assert.Contains(t, err.Error(), "the server sent only its own certificate")
	assert.Equal(t, 0, f.count("GET /_ping"))

	// A CA pin against a server that does not send its CA.
	ca := newTestCA(t, "MKE CA")
	_, _, pair := ca.issue(t, true)
	srv := chainServer(t, pair)
	c2, err := New(Options{Host: srv.URL, CAFingerprint: fingerprint(ca.cert.Raw)})
	require.NoError(t, err)
	require.ErrorIs(t, c2.Ping(testCtx(t)), errPinMismatch)
}

func TestPinnedCA(t *testing.T) {
	ca := newTestCA(t, "MKE CA")
	pin := fingerprint(ca.cert.Raw)

	t.Run("leaf signed by the pinned CA", func(t *testing.T) {
		_, _, pair := ca.issue(t, true)
		srv := chainServer(t, pair, ca.cert)
		c, err := New(Options{Host: srv.URL, CAFingerprint: pin})
		require.NoError(t, err)
		require.NoError(t, c.Ping(testCtx(t)))
	})
	t.Run("pinned CA appended to an unrelated chain", func(t *testing.T) {
		rogue := newTestCA(t, "rogue")
		_, _, pair := rogue.issue(t, true)
		srv := chainServer(t, pair, ca.cert)
		c, err := New(Options{Host: srv.URL, CAFingerprint: pin})
		require.NoError(t, err)
		var certErr *CertificateError
		require.ErrorAs(t, c.Ping(testCtx(t)), &certErr)
	})
	t.Run("host name not in the leaf", func(t *testing.T) {
		_, _, pair := ca.issue(t, true) // valid for 127.0.0.1 and localhost only
		err := verifyPinned([]*x509.Certificate{mustParse(t, pair.Certificate[0]), ca.cert}, mustPin(t, pin), "mke.example.com", "mke.example.com:443")
		var certErr *CertificateError
		require.ErrorAs(t, err, &certErr)
		var hostErr x509.HostnameError
		require.ErrorAs(t, err, &hostErr)
		assert.Contains(t, certErr.Error(), "--mke3-ca-fingerprint "+certErr.Fingerprint, "a host name failure suggests pinning the leaf")
	})
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func mustPin(t *testing.T, s string) []byte {
	t.Helper()
	p, err := parseFingerprint(s)
	require.NoError(t, err)
	return p
}

func TestInsecureWarns(t *testing.T) {
	f := newFake(t)
	f.handleOpen("GET /_ping", func(w http.ResponseWriter, r *http.Request) {})
	buf := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := New(Options{Host: f.srv.URL, Insecure: true, Logger: logger})
	require.NoError(t, err)
	require.NoError(t, c.Ping(testCtx(t)))
	assert.Contains(t, buf.String(), "level=WARN")
	assert.Contains(t, buf.String(), "TLS verification is disabled")

	buf2 := &lockedBuffer{}
	_, err = New(Options{Host: f.srv.URL, Logger: slog.New(slog.NewTextHandler(buf2, nil))})
	require.NoError(t, err)
	assert.Empty(t, buf2.String(), "no warning without Insecure")
}

func TestParseFingerprint(t *testing.T) {
	good := strings.Repeat("0f", 32)
	for _, s := range []string{good, strings.ToUpper(good), "sha256:" + good, "SHA256=" + good, "SHA256 Fingerprint=" + fingerprint(make([]byte, 3))} {
		_, err := parseFingerprint(s)
		assert.NoError(t, err, s)
	}
	for _, s := range []string{"", "zz", good[:62], good + "00", "md5:" + good} {
		_, err := parseFingerprint(s)
		assert.Error(t, err, s)
	}
}
