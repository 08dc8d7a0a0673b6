package mke3

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleTOML = "[cluster_config]\n  calico_kdd = true\n"

func TestConfigTOML(t *testing.T) {
	f := newFake(t)
	var accept string
	f.handle("GET /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/toml")
		_, _ = w.Write([]byte(sampleTOML))
	})
	c, logs := f.client()
	got, err := c.ConfigTOML(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, sampleTOML, string(got))
	assert.Equal(t, "application/toml", accept)
	assert.NotContains(t, logs.String(), "calico_kdd", "the configuration is not logged")
}

func TestPutConfigTOML(t *testing.T) {
	f := newFake(t)
	var body []byte
	var ctype string
	f.handle("PUT /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		ctype = r.Header.Get("Content-Type")
		if string(body) == "broken" {
			writeEnvelope(w, http.StatusBadRequest, "INVALID_CONFIG", "toml: line 1: expected '='")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": "Calico datastore upgrade from etcd to kdd successful"})
	})
	c, _ := f.client()
	ctx := testCtx(t)
	msg, err := c.PutConfigTOML(ctx, []byte(sampleTOML))
	require.NoError(t, err)
	assert.Equal(t, "Calico datastore upgrade from etcd to kdd successful", msg)
	assert.Equal(t, sampleTOML, string(body))
	assert.Equal(t, "application/toml", ctype)

	_, err = c.PutConfigTOML(ctx, []byte("broken"))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "INVALID_CONFIG", apiErr.Code)
	assert.Equal(t, "mke3: PUT /api/ucp/config-toml: 400 INVALID_CONFIG: toml: line 1: expected '='", err.Error())

	n := f.count("PUT /api/ucp/config-toml")
	_, err = c.PutConfigTOML(ctx, []byte(" \n\t"))
	require.ErrorIs(t, err, errEmptyConfig)
	assert.Equal(t, n, f.count("PUT /api/ucp/config-toml"), "an empty configuration is not sent")
}

func TestPutConfigTOMLAnswers(t *testing.T) {
	f := newFake(t)
	answer := ""
	f.handle("PUT /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		_, _ = w.Write([]byte(answer))
	})
	c, _ := f.client()
	ctx := testCtx(t)
	msg, err := c.PutConfigTOML(ctx, []byte(sampleTOML))
	require.NoError(t, err)
	assert.Empty(t, msg)

	answer = "<html>done</html>"
	_, err = c.PutConfigTOML(ctx, []byte(sampleTOML))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may have been applied")
	assert.NotContains(t, err.Error(), "done")
}

func TestPutConfigTOMLReloginResends(t *testing.T) {
	f := newFake(t)
	puts := 0
	f.handle("PUT /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		puts++
		writeJSON(w, http.StatusOK, map[string]string{"message": "ok"})
	})
	c, _ := f.client()
	ctx := testCtx(t)
	require.NoError(t, c.Login(ctx))
	f.expireAll()
	msg, err := c.PutConfigTOML(ctx, []byte(sampleTOML))
	require.NoError(t, err)
	assert.Equal(t, "ok", msg)
	assert.Equal(t, 1, puts, "the 401 was refused before the handler; it ran once")
	assert.Equal(t, 2, f.count("PUT /api/ucp/config-toml"))
}

func TestVersion(t *testing.T) {
	for in, want := range map[string]string{"ucp/3.8.8": "3.8.8", "3.7.12": "3.7.12", " ucp/3.8.0-rc1 ": "3.8.0-rc1"} {
		f := newFake(t)
		f.handle("GET /version", versionHandler(in))
		c, _ := f.client()
		got, err := c.Version(testCtx(t))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	f := newFake(t)
	f.handle("GET /version", versionHandler("ucp/"))
	c, _ := f.client()
	_, err := c.Version(testCtx(t))
	assert.ErrorContains(t, err, `mke3: GET /version: the answer has no "Version"`)
}

func TestPing(t *testing.T) {
	f := newFake(t)
	h, calls := failing(1, status(503), func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("OK")) })
	f.handleOpen("GET /_ping", h)
	c, _ := f.client()
	require.NoError(t, c.Ping(testCtx(t)))
	assert.EqualValues(t, 2, calls.Load())
	assert.Equal(t, 0, f.loginCount())
}
