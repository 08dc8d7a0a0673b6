package mke3

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type zipEntry struct {
	name string
	data []byte
	dir  bool
}

func buildZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.dir {
			h.SetMode(0o755 | 1<<31) // fs.ModeDir
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// bundleFiles is the content of a client bundle for tests.
type bundleFiles struct {
	ca, cert, key []byte
}

func newBundleFiles(t testing.TB) bundleFiles {
	ca := newTestCA(t, "MKE client CA")
	cert, key, _ := ca.issue(t, false)
	return bundleFiles{ca: ca.pem, cert: cert, key: key}
}

func kubeYAMLWithFiles(server string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ca.pem
    server: %[1]s
  name: ucp_mke
contexts:
- context:
    cluster: ucp_mke
    user: ucp_mke_admin
  name: ucp_mke
current-context: ucp_mke
users:
- name: ucp_mke_admin
  user:
    client-certificate: cert.pem
    client-key: key.pem
`, server)
}

func (b bundleFiles) zip(t testing.TB, kube string, extra ...zipEntry) []byte {
	entries := []zipEntry{
		{name: "ca.pem", data: b.ca},
		{name: "cert.pem", data: b.cert},
		{name: "key.pem", data: b.key},
		{name: "cert.pub", data: []byte("ecdsa-sha2-nistp256 AAAA")},
		{name: "env.sh", data: []byte("export DOCKER_HOST=tcp://mke:443\n")},
	}
	if kube != "" {
		entries = append(entries, zipEntry{name: "kube.yml", data: []byte(kube)})
	}
	return buildZip(t, append(entries, extra...)...)
}

func TestReadBundleAndRESTConfig(t *testing.T) {
	files := newBundleFiles(t)

	t.Run("kube.yml with file references", func(t *testing.T) {
		b, err := readBundle(files.zip(t, kubeYAMLWithFiles("https://mke.example.com:6443")))
		require.NoError(t, err)
		assert.Equal(t, files.ca, b.CAPEM)
		assert.Equal(t, files.key, b.KeyPEM)
		rc, err := b.RESTConfig()
		require.NoError(t, err)
		assert.Equal(t, "https://mke.example.com:6443", rc.Host)
		assert.Equal(t, files.ca, rc.CAData)
		assert.Equal(t, files.cert, rc.CertData)
		assert.Equal(t, files.key, rc.KeyData)
		assert.Empty(t, rc.CAFile)
		assert.Empty(t, rc.KeyFile)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", rc, rc, rc), string(files.key[40:80]))
	})

	t.Run("kube.yml with embedded data and no current context", func(t *testing.T) {
		kube := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: %s}
  name: c
contexts:
- context: {cluster: c, user: u}
  name: only
users:
- name: u
  user: {client-certificate-data: %s, client-key-data: %s}
`, base64.StdEncoding.EncodeToString(files.ca), base64.StdEncoding.EncodeToString(files.cert), base64.StdEncoding.EncodeToString(files.key))
		b, err := readBundle(files.zip(t, kube))
		require.NoError(t, err)
		rc, err := b.RESTConfig()
		require.NoError(t, err)
		assert.Equal(t, "https://10.0.0.1:6443", rc.Host)
		assert.Equal(t, files.key, rc.KeyData)
	})

	t.Run("no kube.yml", func(t *testing.T) {
		b, err := readBundle(files.zip(t, ""))
		require.NoError(t, err)
		assert.Empty(t, b.Kubeconfig)
		_, err = b.RESTConfig()
		require.ErrorContains(t, err, "no kube.yml and no Server")
		b.Server = "https://mke.example.com:6443"
		rc, err := b.RESTConfig()
		require.NoError(t, err)
		assert.Equal(t, "https://mke.example.com:6443", rc.Host)
		assert.Equal(t, files.cert, rc.CertData)
	})
}

func TestRESTConfigRefusesDangerousKubeconfig(t *testing.T) {
	files := newBundleFiles(t)
	base := kubeYAMLWithFiles("https://mke.example.com:6443")
	for name, kube := range map[string]string{
		"exec": strings.Replace(base, "    client-key: key.pem\n",
			"    client-key: key.pem\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n", 1),
		"auth provider": strings.Replace(base, "    client-key: key.pem\n",
			"    client-key: key.pem\n    auth-provider:\n      name: oidc\n", 1),
		"token file":     strings.Replace(base, "    client-key: key.pem\n", "    client-key: key.pem\n    tokenFile: /var/run/secrets/token\n", 1),
		"other key file": strings.Replace(base, "client-key: key.pem", "client-key: /etc/ssl/private/host.key", 1),
		"escaping path":  strings.Replace(base, "certificate-authority: ca.pem", "certificate-authority: ../ca.pem", 1),
		"no context":     strings.Replace(base, "current-context: ucp_mke", "current-context: missing", 1),
		"not yaml":       "apiVersion: v1\nclusters: [\n  client-key-data: SECRETKEYDATA",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := readBundle(files.zip(t, kube))
			require.NoError(t, err, "the bundle itself is readable")
			_, err = b.RESTConfig()
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "SECRETKEYDATA")
		})
	}
}

func TestReadBundleRefuses(t *testing.T) {
	files := newBundleFiles(t)
	other := newBundleFiles(t)
	kube := kubeYAMLWithFiles("https://mke:6443")
	big := bytes.Repeat([]byte("a"), maxBundleFile+1)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not a zip":           {[]byte("PK\x03\x04 nope"), "not a zip archive"},
		"empty":               {nil, "not a zip archive"},
		"dot-dot":             {files.zip(t, kube, zipEntry{name: "../evil.sh", data: []byte("x")}), "has an unsafe name"},
		"nested dot-dot":      {files.zip(t, kube, zipEntry{name: "a/../../evil", data: []byte("x")}), "has an unsafe name"},
		"absolute":            {files.zip(t, kube, zipEntry{name: "/etc/cron.d/x", data: []byte("x")}), "has an unsafe name"},
		"backslash":           {files.zip(t, kube, zipEntry{name: `..\evil.bat`, data: []byte("x")}), "has an unsafe name"},
		"drive letter":        {files.zip(t, kube, zipEntry{name: "C:/Windows/evil", data: []byte("x")}), "has an unsafe name"},
		"control character":   {files.zip(t, kube, zipEntry{name: "a\x1b[2Jb", data: []byte("x")}), "has an unsafe name"},
		"oversized kube.yml":  {files.zip(t, "", zipEntry{name: "kube.yml", data: big}), "larger than 1024 KiB"},
		"oversized key":       {buildZip(t, zipEntry{name: "ca.pem", data: files.ca}, zipEntry{name: "cert.pem", data: files.cert}, zipEntry{name: "key.pem", data: big}), "key.pem is larger"},
		"missing key":         {buildZip(t, zipEntry{name: "ca.pem", data: files.ca}, zipEntry{name: "cert.pem", data: files.cert}), "no key.pem"},
		"missing ca":          {buildZip(t, zipEntry{name: "cert.pem", data: files.cert}, zipEntry{name: "key.pem", data: files.key}), "no ca.pem"},
		"duplicate key":       {files.zip(t, kube, zipEntry{name: "key.pem", data: files.key}), "key.pem appears twice"},
		"key of another cert": {buildZip(t, zipEntry{name: "ca.pem", data: files.ca}, zipEntry{name: "cert.pem", data: files.cert}, zipEntry{name: "key.pem", data: other.key}), "not a usable key pair"},
		"key is a directory":  {buildZip(t, zipEntry{name: "ca.pem", data: files.ca}, zipEntry{name: "cert.pem", data: files.cert}, zipEntry{name: "key.pem", dir: true}), "not a regular file"},
		"nested files only":   {buildZip(t, zipEntry{name: "bundle/ca.pem", data: files.ca}, zipEntry{name: "bundle/cert.pem", data: files.cert}, zipEntry{name: "bundle/key.pem", data: files.key}), "no ca.pem"},
		"lying size header":   {lyingZip(t, files), "kube.yml"},
		"too many entries":    {manyEntries(t, files), "entries, more than"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readBundle(tc.data)
			require.Error(t, err)
			assert.ErrorIs(t, err, errBundle)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
	_, err := readBundle(make([]byte, maxBundleZip+1))
	assert.ErrorContains(t, err, "larger than 16 MiB")
}

// lyingZip holds a kube.yml whose header claims 10 bytes but which
// inflates to 2 MiB.
func lyingZip(t testing.TB, files bundleFiles) []byte {
	t.Helper()
	payload := bytes.Repeat([]byte("b"), 2<<20)
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(payload)
	require.NoError(t, err)
	require.NoError(t, fw.Close())

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []zipEntry{{"ca.pem", files.ca, false}, {"cert.pem", files.cert, false}, {"key.pem", files.key, false}} {
		w, err := zw.Create(e.name)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               "kube.yml",
		Method:             zip.Deflate,
		CRC32:              crc32.ChecksumIEEE(payload[:10]),
		CompressedSize64:   uint64(comp.Len()),
		UncompressedSize64: 10,
	})
	require.NoError(t, err)
	_, err = w.Write(comp.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func manyEntries(t testing.TB, files bundleFiles) []byte {
	entries := []zipEntry{{name: "ca.pem", data: files.ca}, {name: "cert.pem", data: files.cert}, {name: "key.pem", data: files.key}}
	for i := range maxBundleEntries {
		entries = append(entries, zipEntry{name: fmt.Sprintf("junk/%d", i)})
	}
	return buildZip(t, entries...)
}

func TestClientBundle(t *testing.T) {
	files := newBundleFiles(t)
	f := newFake(t)
	var accept string
	f.handle("POST /api/clientbundle", func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(files.zip(t, ""))
	})
	c, logs := f.client()
	b, err := c.ClientBundle(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "application/zip", accept)
	assert.Equal(t, "https://127.0.0.1:6443", b.Server)
	assert.Equal(t, files.key, b.KeyPEM)
	keyLine := strings.Split(string(files.key), "\n")[1]
	for _, s := range []string{logs.String(), b.String(), fmt.Sprintf("%v", b), fmt.Sprintf("%+v", *b), fmt.Sprintf("%#v", b)} {
		assert.NotContains(t, s, keyLine)
		assert.NotContains(t, s, "PRIVATE KEY")
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("bundle", "b", *b)
	assert.Contains(t, logBuf.String(), `"key_pem":"<redacted>"`)
	assert.NotContains(t, logBuf.String(), keyLine)
}

func TestClientBundleInvalid(t *testing.T) {
	f := newFake(t)
	f.handle("POST /api/clientbundle", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>not a zip</html>"))
	})
	c, _ := f.client()
	_, err := c.ClientBundle(testCtx(t))
	require.ErrorIs(t, err, errBundle)
	assert.True(t, strings.HasPrefix(err.Error(), "mke3: POST /api/clientbundle: invalid client bundle: not a zip archive"), err.Error())
	assert.NotContains(t, err.Error(), "<html>")
}
