package mke3

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// CertificateError is returned when the server's certificate is not trusted:
// unknown authority, wrong host name, expired, or not matching
// Options.CAFingerprint. Its message gives the fingerprints so that the user
// can check them out of band and trust the server.
type CertificateError struct {
	// Host is the host (and port, when given) that was contacted.
	Host string
	// Fingerprint is the SHA-256 of the server's leaf certificate, colon
	// separated upper-case hex. Empty when the server sent no certificate.
	Fingerprint string
	// CAFingerprint is the SHA-256 of the last certificate of the chain the
	// server presented when that certificate is a CA other than the leaf
	// (typically the MKE root CA); empty otherwise.
	CAFingerprint string
	// Err is the cause: an x509 error, or a pin mismatch.
	Err error
}

func (e *CertificateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mke3: the TLS certificate of %s is not trusted", e.Host)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Fingerprint == "" {
		return b.String()
	}
	fmt.Fprintf(&b, "; server certificate SHA-256 %s", e.Fingerprint)
	if e.CAFingerprint != "" {
		fmt.Fprintf(&b, ", issuing CA SHA-256 %s", e.CAFingerprint)
	}
	// A CA pin still checks the host name, so suggest the leaf when the
	// name is what failed.
	suggest := e.Fingerprint
	var hostErr x509.HostnameError
	if e.CAFingerprint != "" && !errors.As(e.Err, &hostErr) {
		suggest = e.CAFingerprint
	}
	fmt.Fprintf(&b, "; after checking it, trust the server with --mke3-ca-cert FILE (the MKE CA, e.g. from `docker run --rm mirantis/ucp dump-certs --ca`) or --mke3-ca-fingerprint %s", suggest)
	return b.String()
}

func (e *CertificateError) Unwrap() error { return e.Err }

// errPinMismatch is the cause of a CertificateError when no certificate of
// the chain has the pinned fingerprint.
var errPinMismatch = errors.New("no certificate of the chain matches the pinned SHA-256 fingerprint")

// parseFingerprint decodes a SHA-256 fingerprint given as hex, with or
// without colons (or spaces), optionally prefixed "sha256:" or "SHA256=".
func parseFingerprint(s string) ([]byte, error) {
	f := strings.TrimSpace(s)
	lower := strings.ToLower(f)
	for _, p := range []string{"sha256:", "sha256=", "sha256 fingerprint="} {
		if strings.HasPrefix(lower, p) {
			f = f[len(p):]
			break
		}
	}
	f = strings.NewReplacer(":", "", " ", "").Replace(f)
	sum, err := hex.DecodeString(f)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("want a SHA-256 fingerprint: %d hex digits, colons optional", 2*sha256.Size)
	}
	return sum, nil
}

// fingerprint formats the SHA-256 of a DER certificate as AB:CD:….
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 3*len(sum)-1)
	for i, b := range sum {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[b>>4], digits[b&0x0f])
	}
	return string(out)
}

// newCertificateError describes a chain the client did not trust.
func newCertificateError(host string, chain []*x509.Certificate, cause error) *CertificateError {
	e := &CertificateError{Host: host, Err: cause}
	if len(chain) == 0 {
		return e
	}
	e.Fingerprint = fingerprint(chain[0].Raw)
	if top := chain[len(chain)-1]; len(chain) > 1 && top.IsCA {
		e.CAFingerprint = fingerprint(top.Raw)
	}
	return e
}

// tlsSettings applies the trust options to cfg (a clone owned by the client).
func tlsSettings(cfg *tls.Config, o *Options, v *validated) error {
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	switch {
	case o.Insecure:
		cfg.InsecureSkipVerify = true
	case len(o.CACertPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(o.CACertPEM) {
			return optionsError("CACertPEM holds no PEM certificate")
		}
		cfg.RootCAs = pool
	case v.pin != nil:
		// The pin replaces chain verification, which Go only lets a
		// client do by skipping it and verifying the connection itself.
		cfg.InsecureSkipVerify = true
		pin, hostname, hostport := v.pin, v.hostname, v.base.Host
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyPinned(cs.PeerCertificates, pin, hostname, hostport)
		}
	}
	return nil
}

// verifyPinned accepts the chain when its leaf has the pinned fingerprint,
// or when a CA certificate of the chain has it and the leaf verifies up to
// that CA for hostname. A server cannot pass by appending the pinned CA to
// an unrelated chain: the signatures are checked.
func verifyPinned(chain []*x509.Certificate, pin []byte, hostname, hostport string) error {
	if len(chain) == 0 {
		return newCertificateError(hostport, nil, errors.New("the server sent no certificate"))
	}
	leaf := chain[0]
	if sum := sha256.Sum256(leaf.Raw); bytes.Equal(sum[:], pin) {
		return nil
	}
	for i, c := range chain[1:] {
		if sum := sha256.Sum256(c.Raw); !bytes.Equal(sum[:], pin) {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(c)
		inter := x509.NewCertPool()
		for j, other := range chain[1:] {
			if j != i {
				inter.AddCert(other)
			}
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: hostname, Roots: roots, Intermediates: inter})
		if err != nil {
			return newCertificateError(hostport, chain, err)
		}
		return nil
	}
	if len(chain) == 1 {
		return newCertificateError(hostport, chain, fmt.Errorf("%w (the server sent only its own certificate, so the fingerprint of a CA cannot match: pin that certificate, or trust the CA with its PEM)", errPinMismatch))
	}
	return newCertificateError(hostport, chain, errPinMismatch)
}
