//go:build !fakenodelight

package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The controller's PKI in k0s's layout (cmd/controller/certificates.go,
// pkg/component/controller/etcd.go setupCerts at v1.33.9+k0s.0), made
// when missing: an existing ca.* or sa.key/sa.pub (restored from a backup,
// synced from the join API) is kept, so objects signed by them stay valid.

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeSecure(p string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ca is a loaded certificate authority.
type ca struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// ensureCA loads dir/name.crt and .key, creating a self-signed CA when
// either is missing.
func ensureCA(dir, name, cn string) (*ca, error) {
	crt, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if !fileExists(crt) || !fileExists(keyPath) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := writeSecure(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
			return nil, err
		}
		if err := writeSecure(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return nil, err
		}
	}
	return loadCA(crt, keyPath)
}

func loadCA(crt, keyPath string) (*ca, error) {
	cb, err := os.ReadFile(crt)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(cb)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", crt)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", crt, err)
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(kb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return &ca{cert: cert, certPEM: cb, key: key}, nil
}

// parseKey reads a PKCS#1, SEC 1 or PKCS#8 private key.
func parseKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	return s, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// certReq describes a leaf certificate.
type certReq struct {
	name   string // file name without extension, relative to the PKI dir
	cn     string
	orgs   []string
	server bool
	client bool
	hosts  []string // DNS names and IP addresses
}

// issue writes req.name.crt and .key signed by c unless both exist, and
// returns their PEM.
func (c *ca) issue(dir string, r certReq) (certPEM, keyPEM []byte, err error) {
	crt, keyPath := filepath.Join(dir, r.name+".crt"), filepath.Join(dir, r.name+".key")
	if fileExists(crt) && fileExists(keyPath) {
		cb, err := os.ReadFile(crt)
		if err != nil {
			return nil, nil, err
		}
		kb, err := os.ReadFile(keyPath)
		return cb, kb, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: r.cn, Organization: r.orgs},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	if r.server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if r.client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, h := range r.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := writeSecure(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, writeSecure(crt, certPEM, 0o644)
}

// ensureSAKeys makes sa.key (RSA 2048, PKCS#1) and sa.pub (PKIX) unless
// both exist.
func ensureSAKeys(dir string) error {
	k, p := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if fileExists(k) && fileExists(p) {
		return nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := writeSecure(k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	return writeSecure(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

// writeKubeconfig writes a client-certificate kubeconfig.
func writeKubeconfig(path, server string, caPEM, certPEM, keyPEM []byte) error {
	b, err := clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"local": {Server: server, CertificateAuthorityData: caPEM}},
		Contexts:       map[string]*clientcmdapi.Context{"Default": {Cluster: "local", AuthInfo: "user", Namespace: "default"}},
		CurrentContext: "Default",
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"user": {ClientCertificateData: certPEM, ClientKeyData: keyPEM}},
	})
	if err != nil {
		return err
	}
	return writeSecure(path, b, 0o600)
}
