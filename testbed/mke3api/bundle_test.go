package mke3api_test

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// kubeconfig is what a consumer needs from kube.yml.
type kubeconfig struct {
	APIVersion     string `json:"apiVersion"`
	Kind           string `json:"kind"`
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthorityData []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			ClientCertificateData []byte `json:"client-certificate-data"`
			ClientKeyData         []byte `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		files[f.Name] = b
	}
	return files
}

func TestClientBundle(t *testing.T) {
	const kubeAPI = "https://mke.example.com:6443"
	e := loadTestdata(t, func(o *mke3api.Options) { o.BundleKubeAPI = kubeAPI })
	tests := []struct {
		method, user, pass string
	}{
		{http.MethodPost, "admin", adminPass},
		{http.MethodGet, "admin", adminPass},
		{http.MethodPost, "alice", "alice-pass"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.user, func(t *testing.T) {
			r := e.do(tt.method, "/api/clientbundle?label=migration", e.login(tt.user, tt.pass), "")
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			assert.Equal(t, "application/zip", r.header.Get("Content-Type"))
			files := unzip(t, r.body)
			assert.Equal(t, []string{"ca.pem", "cert.pem", "cert.pub", "env.sh", "key.pem", "kube.yml"}, slices.Sorted(maps.Keys(files)))

			assert.Equal(t, e.sim.CAPEM, files["ca.pem"])
			pair, err := tls.X509KeyPair(files["cert.pem"], files["key.pem"])
			require.NoError(t, err, "key.pem matches cert.pem")
			cert, err := x509.ParseCertificate(pair.Certificate[0])
			require.NoError(t, err)
			assert.Equal(t, tt.user, cert.Subject.CommonName)
			pool := x509.NewCertPool()
			require.True(t, pool.AppendCertsFromPEM(files["ca.pem"]))
			_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			require.NoError(t, err, "a client certificate signed by the bundle's CA")
			_, isEC := cert.PublicKey.(*ecdsa.PublicKey)
			assert.True(t, isEC)

			block, _ := pem.Decode(files["cert.pub"])
			require.NotNil(t, block)
			assert.Equal(t, "PUBLIC KEY", block.Type)
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			require.NoError(t, err)
			assert.True(t, cert.PublicKey.(*ecdsa.PublicKey).Equal(pub))

			var kc kubeconfig
			require.NoError(t, yaml.UnmarshalStrict(files["kube.yml"], &kc))
			assert.Equal(t, "v1", kc.APIVersion)
			assert.Equal(t, "Config", kc.Kind)
			require.Len(t, kc.Clusters, 1)
			require.Len(t, kc.Users, 1)
			require.Len(t, kc.Contexts, 1)
			assert.Equal(t, kubeAPI, kc.Clusters[0].Cluster.Server)
			assert.Equal(t, files["ca.pem"], kc.Clusters[0].Cluster.CertificateAuthorityData)
			assert.Equal(t, files["cert.pem"], kc.Users[0].User.ClientCertificateData)
			assert.Equal(t, files["key.pem"], kc.Users[0].User.ClientKeyData)
			assert.Equal(t, kc.CurrentContext, kc.Contexts[0].Name)
			assert.Equal(t, kc.Clusters[0].Name, kc.Contexts[0].Context.Cluster)
			assert.Equal(t, kc.Users[0].Name, kc.Contexts[0].Context.User)
			assert.Contains(t, string(files["kube.yml"]), "certificate-authority-data: ", "embedded as base64 data")

			env := string(files["env.sh"])
			assert.Contains(t, env, "export DOCKER_HOST=tcp://"+strings.TrimPrefix(e.sim.URL, "https://")+"\n")
			assert.Contains(t, env, "export DOCKER_TLS_VERIFY=1\n")
			assert.Contains(t, env, `export KUBECONFIG="$PWD/kube.yml"`)
		})
	}
	t.Run("each bundle has its own key", func(t *testing.T) {
		token := e.admin()
		a := unzip(t, e.do("POST", "/api/clientbundle", token, "").body)
		b := unzip(t, e.do("POST", "/api/clientbundle", token, "").body)
		assert.NotEqual(t, a["key.pem"], b["key.pem"])
	})
	t.Run("default kube API", func(t *testing.T) {
		e := loadTestdata(t, nil)
		var kc kubeconfig
		files := unzip(t, e.do("GET", "/api/clientbundle", e.admin(), "").body)
		require.NoError(t, yaml.Unmarshal(files["kube.yml"], &kc))
		assert.Equal(t, mke3api.DefaultBundleKubeAPI, kc.Clusters[0].Cluster.Server)
	})
	t.Run("a hostile Host header does not reach env.sh", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, e.sim.URL+"/api/clientbundle", nil)
		require.NoError(t, err)
		req.Host = "evil;$(reboot)"
		req.Header.Set("Authorization", "Bearer "+e.admin())
		r := e.send(req)
		require.Equal(t, http.StatusOK, r.status)
		env := string(unzip(t, r.body)["env.sh"])
		assert.Contains(t, env, "DOCKER_HOST=tcp://127.0.0.1:443\n")
		assert.NotContains(t, env, "reboot")
	})
}

func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func TestTLS(t *testing.T) {
	e := loadTestdata(t, nil)
	res, err := e.c.Get(e.sim.URL + "/_ping")
	require.NoError(t, err)
	defer res.Body.Close()
	leaf := res.TLS.PeerCertificates[0]
	assert.Equal(t, e.sim.Fingerprint, fingerprintOf(leaf.Raw))
	assert.Len(t, e.sim.Fingerprint, 64)
	assert.Len(t, e.sim.CAFingerprint, 64)
	assert.NotEqual(t, e.sim.Fingerprint, e.sim.CAFingerprint)
	assert.ElementsMatch(t, []string{"localhost"}, leaf.DNSNames)
	assert.Len(t, leaf.IPAddresses, 2)
	_, isEC := leaf.PublicKey.(*ecdsa.PublicKey)
	assert.True(t, isEC)

	t.Run("untrusted clients fail", func(t *testing.T) {
		_, err := (&http.Client{}).Get(e.sim.URL + "/_ping")
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &unknown)
	})
	t.Run("CA reuse", func(t *testing.T) {
		ca, err := mke3api.NewCA()
		require.NoError(t, err)
		a, err := mke3api.Start(mke3api.Options{CA: ca})
		require.NoError(t, err)
		defer a.Close()
		assert.Equal(t, ca.CertPEM(), a.CAPEM)
		assert.Equal(t, ca.Fingerprint(), a.CAFingerprint)
		cert, err := ca.ServerCertificate("mke.example.com", "10.0.0.1")
		require.NoError(t, err)
		assert.Equal(t, []string{"mke.example.com"}, cert.Leaf.DNSNames)
		_, err = cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "mke.example.com"})
		assert.NoError(t, err)
	})
	t.Run("Close is idempotent", func(t *testing.T) {
		r, err := mke3api.Start(mke3api.Options{})
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.NoError(t, r.Close())
	})
}

// A cluster's own CA (RSA, as a test bed's) signs the bundles given it
// through NewCAFrom; an admin's certificate carries BundleAdminGroups as
// its groups (Organization), another user's none; NewCAFrom refuses what
// is not a CA.
func TestClientBundleClusterCA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cluster CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca, err := mke3api.NewCAFrom(caCert, key)
	require.NoError(t, err)
	e := loadTestdata(t, func(o *mke3api.Options) { o.CA, o.BundleAdminGroups = ca, []string{"system:masters"} })
	for _, tt := range []struct {
		user, pass string
		groups     []string
	}{{"admin", adminPass, []string{"system:masters"}}, {"alice", "alice-pass", nil}} {
		t.Run(tt.user, func(t *testing.T) {
			r := e.do(http.MethodPost, "/api/clientbundle", e.login(tt.user, tt.pass), "")
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			files := unzip(t, r.body)
			assert.Equal(t, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), files["ca.pem"])
			block, _ := pem.Decode(files["cert.pem"])
			require.NotNil(t, block)
			cert, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			pool := x509.NewCertPool()
			pool.AddCert(caCert)
			_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			require.NoError(t, err, "signed by the cluster's CA")
			assert.Equal(t, tt.user, cert.Subject.CommonName)
			assert.Equal(t, tt.groups, cert.Subject.Organization)
		})
	}
	leaf := *caCert
	leaf.IsCA = false
	_, err = mke3api.NewCAFrom(&leaf, key)
	assert.Error(t, err)
	_, err = mke3api.NewCAFrom(caCert, nil)
	assert.Error(t, err)
}
