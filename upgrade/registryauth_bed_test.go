package upgrade_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

func caPEM(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registry CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// requireCanaryNowhere checks that none of the canaries is in the debug
// log, in any file under the folders, or in any command line the fake
// CLIs of the bed's hosts were run with.
func (b *bed) requireCanaryNowhere(t *testing.T, log string, dirs []string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		require.NotContains(t, log, c, "a credential in the log")
	}
	for _, d := range dirs {
		n := 0
		require.NoError(t, filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			for _, c := range canaries {
				require.NotContains(t, string(data), c, "a credential in %s", p)
			}
			return nil
		}))
		require.NotZero(t, n, "no files in %s", d)
	}
	calls := 0
	for _, h := range b.c.Hosts {
		cs, err := b.c.Calls(t.Context(), h)
		require.NoError(t, err)
		for _, argv := range cs {
			calls++
			for _, c := range canaries {
				require.NotContains(t, strings.Join(argv, " "), c, "a credential in a command line on %s", h.Name)
			}
		}
	}
	require.NotZero(t, calls, "no command lines sampled")
}

// Registry credentials (issue 15 item 3): the upgrade creates a
// dockerconfigjson Secret per registry in the new cluster and names it in
// mke4.yaml with the CA bundle; the passwords are in no command line, log
// line or file of the output folder.
func TestRegistryCredentials(t *testing.T) {
	if plane == nil {
		t.Skip("needs the control-plane binaries")
	}
	b := startBed(t, 1)
	dir := t.TempDir()
	o := b.options(t, dir)
	const imgPass, chartPass = "canary-img-9f3Kq", "canary-chart-Xw27p"
	ca := caPEM(t)
	o.ImageRegistry, o.ChartRegistry = "registry.example.com:8443/mke", "oci://charts.example.com/mke"
	o.ImageRegistryAuth = &upgrade.RegistryAuth{Username: "img-puller", Password: []byte(imgPass)}
	o.ChartRegistryAuth = &upgrade.RegistryAuth{Username: "chart-puller", Password: []byte(chartPass)}
	o.ImageRegistryCA, o.ChartRegistryCA = ca, ca
	var log bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u, p := discoverAndPlan(t, o)
	_, ok := p.Find("registry-credentials")
	require.True(t, ok, "no registry-credentials step")
	_, err := u.Apply(t.Context(), p)
	require.NoError(t, err)

	cs, err := plane.Client()
	require.NoError(t, err)
	for name, want := range map[string]string{"mke-migrate-image-registry-credentials": "registry.example.com:8443",
		"mke-migrate-chart-registry-credentials": "charts.example.com"} {
		s, err := cs.CoreV1().Secrets(upgrade.DefaultRegistrySecretNamespace).Get(t.Context(), name, metav1.GetOptions{})
		require.NoError(t, err, name)
		require.Equal(t, "kubernetes.io/dockerconfigjson", string(s.Type))
		var doc struct {
			Auths map[string]struct{ Username, Password string } `json:"auths"`
		}
		require.NoError(t, json.Unmarshal(s.Data[".dockerconfigjson"], &doc))
		require.Contains(t, doc.Auths, want)
		t.Cleanup(func() {
			_ = cs.CoreV1().Secrets(upgrade.DefaultRegistrySecretNamespace).Delete(t.Context(), name, metav1.DeleteOptions{})
		})
	}
	y, err := os.ReadFile(filepath.Join(dir, "mke4.yaml"))
	require.NoError(t, err)
	cfg, err := mke4.Unmarshal(y)
	require.NoError(t, err)
	r := cfg.Spec.Registries
	require.Equal(t, "mke-migrate-image-registry-credentials", r.ImageRegistry.CredentialsSecretName)
	require.Equal(t, "mke-migrate-chart-registry-credentials", r.ChartRegistry.CredentialsSecretName)
	require.Equal(t, string(ca), r.ImageRegistry.CAData)
	require.Equal(t, string(ca), r.ChartRegistry.CAData)
	b.requireCanaryNowhere(t, log.String(), []string{dir, filepath.Dir(o.KubeconfigPath)}, imgPass, chartPass)
}
