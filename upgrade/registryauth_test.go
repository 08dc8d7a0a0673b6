package upgrade

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCAPEM is a fresh self-signed CA certificate in PEM.
func testCAPEM(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registry CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCheckRegistries(t *testing.T) {
	const secret = "canary-Zq7-password"
	ca := testCAPEM(t)
	ok := &RegistryAuth{Username: "puller", Password: []byte(secret)}
	tests := map[string]struct {
		o    Options
		want string // "" for valid
	}{
		"none":                   {Options{}, ""},
		"both, with CAs":         {Options{ImageRegistryAuth: ok, ChartRegistryAuth: ok, ImageRegistryCA: ca, ChartRegistryCA: append(append([]byte{}, ca...), ca...)}, ""},
		"empty username":         {Options{ImageRegistryAuth: &RegistryAuth{Password: []byte(secret)}}, "image registry username"},
		"username with colon":    {Options{ChartRegistryAuth: &RegistryAuth{Username: "a:b", Password: []byte(secret)}}, "chart registry username"},
		"empty password":         {Options{ImageRegistryAuth: &RegistryAuth{Username: "u"}}, "image registry password: empty"},
		"two-line password":      {Options{ImageRegistryAuth: &RegistryAuth{Username: "u", Password: []byte(secret + "\nx")}}, "one line"},
		"plain http registry":    {Options{ImageRegistry: "http://r.example.com/mke", ImageRegistryAuth: ok}, "HTTPS"},
		"CA not PEM":             {Options{ImageRegistryCA: []byte("hello")}, "image registry CA: not a PEM"},
		"CA is a key":            {Options{ChartRegistryCA: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})}, "certificates only"},
		"CA with trailing junk":  {Options{ChartRegistryCA: append(append([]byte{}, ca...), "junk"...)}, "not a PEM"},
		"CA certificate corrupt": {Options{ImageRegistryCA: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}})}, "certificate 1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := tt.o.checkRegistries()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			var re *RegistryError
			if !errors.As(err, &re) {
				t.Fatalf("%T is not a *RegistryError", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatal("the password is in the error")
			}
			// New refuses the same options before anything else
			tt.o.Hosts, tt.o.OutputDir, tt.o.KubeconfigPath = inventoryHosts(), "out", "kc"
			if _, err := New(tt.o); err == nil {
				t.Fatal("New accepted them")
			}
		})
	}
}

func TestDockerConfigJSON(t *testing.T) {
	for url, host := range map[string]string{"oci://r.example.com:8443/mke": "r.example.com:8443", "r.example.com/a/b": "r.example.com", "https://r.example.com": "r.example.com"} {
		if got := registryHost(url); got != host {
			t.Errorf("registryHost(%q) = %q, want %q", url, got, host)
		}
	}
	b, err := dockerConfigJSON("r.example.com", &RegistryAuth{Username: "u", Password: []byte("p:w")})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Auths["r.example.com"]
	if a.Username != "u" || a.Password != "p:w" || a.Auth != base64.StdEncoding.EncodeToString([]byte("u:p:w")) {
		t.Fatalf("%s", b)
	}
}
