package mke3api

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// CA is a throw-away certificate authority (ECDSA P-256) for the simulator:
// it signs the HTTPS server certificate and client bundle certificates.
// It is immutable after NewCA and safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// NewCAFrom uses an existing CA certificate and its key: a test bed whose
// cluster has its own CA gives it to the simulator, so that client
// bundles are signed by the CA the cluster's API server trusts, and their
// ca.pem verifies that API server (as a real MKE 3 bundle's ca.pem and
// kube.yml name the cluster's CA).
func NewCAFrom(cert *x509.Certificate, key crypto.Signer) (*CA, error) {
	if cert == nil || key == nil || !cert.IsCA {
		return nil, errors.New("mke3api: NewCAFrom needs a CA certificate and its key")
	}
	return &CA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}, nil
}

// NewCA generates a CA valid from an hour ago (to tolerate clock skew) for
// ten years.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mke3api: CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "MKE 3 simulator CA", Organization: []string{"mke3api"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("mke3api: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("mke3api: CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("mke3api: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // serial numbers must be positive
}

// CertPEM returns the CA certificate in PEM form (a copy).
func (ca *CA) CertPEM() []byte { return slices.Clone(ca.certPEM) }

// Fingerprint is the hex SHA-256 of the CA certificate's DER.
func (ca *CA) Fingerprint() string { return fingerprint(ca.cert.Raw) }

// Pool returns a certificate pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ServerCertificate issues a TLS server certificate for hosts (IP
// addresses or DNS names; default 127.0.0.1, ::1 and localhost).
func (ca *CA) ServerCertificate(hosts ...string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0], Organization: []string{"mke3api"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, key, err := ca.issue(tmpl)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("mke3api: server certificate: %w", err)
	}
	// The chain carries the CA too, as servers with a private CA commonly
	// send it: that is what lets a client pin the CA's fingerprint.
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// clientCertificate issues a client-auth certificate for a user, as in an
// MKE client bundle.
func (ca *CA) clientCertificate(user string, groups []string) (der []byte, key *ecdsa.PrivateKey, err error) {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups, OrganizationalUnit: []string{"client"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// issue signs tmpl with a fresh P-256 key, valid for a year (the wall clock,
// not Options.Now, since peers verify against theirs).
func (ca *CA) issue(tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mke3api: key: %w", err)
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("mke3api: sign certificate: %w", err)
	}
	return der, key, nil
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Running is a Server listening on HTTPS on a loopback port.
type Running struct {
	*Server
	// URL is the base URL, like https://127.0.0.1:41234.
	URL string
	// CAPEM is the CA that signed the server certificate (and bundles).
	CAPEM []byte
	// Fingerprint is the hex SHA-256 of the server's leaf certificate,
	// CAFingerprint that of the CA certificate: for clients that pin.
	Fingerprint   string
	CAFingerprint string

	hs        *http.Server
	done      chan error
	closeOnce sync.Once
	closeErr  error
}

// Start serves a new Server over TLS on 127.0.0.1 with an ephemeral port,
// with a certificate for 127.0.0.1, ::1 and localhost signed by opts.CA
// (a fresh CA when nil). Both HTTP/1.1 and HTTP/2 are offered. Close it
// when done.
func Start(opts Options) (*Running, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	cert, err := s.ca.ServerCertificate()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mke3api: listen: %w", err)
	}
	hs := &http.Server{
		Handler:           s,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		// Handshake failures from clients that do not trust the CA are
		// expected in tests; send them to the (silent by default) logger.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	r := &Running{
		Server:        s,
		URL:           "https://" + ln.Addr().String(),
		CAPEM:         s.ca.CertPEM(),
		Fingerprint:   fingerprint(cert.Certificate[0]),
		CAFingerprint: s.ca.Fingerprint(),
		hs:            hs,
		done:          make(chan error, 1),
	}
	go func() { r.done <- hs.ServeTLS(ln, "", "") }()
	return r, nil
}

// Client returns an HTTP client that trusts the simulator's CA (and only
// it). Each call returns a new client with its own connection pool.
func (r *Running) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: r.ca.Pool(), MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}
}

// Close stops the server, cutting open connections, and waits until it
// has stopped serving. Later calls return the first call's result.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		r.shutdown()
		err := r.hs.Close()
		if serveErr := <-r.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		if err != nil {
			r.closeErr = fmt.Errorf("mke3api: close: %w", err)
		}
	})
	return r.closeErr
}
