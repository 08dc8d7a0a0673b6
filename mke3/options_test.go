package mke3

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://mke.example.com":       "https://mke.example.com",
		"https://mke.example.com/":      "https://mke.example.com",
		"HTTPS://mke.example.com:8443":  "https://mke.example.com:8443",
		"mke.example.com":               "https://mke.example.com",
		"mke.example.com:443":           "https://mke.example.com:443",
		"10.0.0.5":                      "https://10.0.0.5",
		"[fd00::1]:8443":                "https://[fd00::1]:8443",
		"  https://mke.example.com  ":   "https://mke.example.com",
		"https://mke.example.com:65535": "https://mke.example.com:65535",
	} {
		c, err := New(Options{Host: in})
		require.NoError(t, err, in)
		assert.Equal(t, want, c.base.String(), in)
	}
	for _, in := range []string{
		"",
		"http://mke.example.com",
		"ftp://mke.example.com",
		"https://mke.example.com/ucp",
		"mke.example.com/api",
		"https://admin:pw@mke.example.com",
		"https://mke.example.com?x=1",
		"https://mke.example.com#frag",
		"https://mke.example.com:0",
		"https://mke.example.com:70000",
		"https://mke.example.com:",
		"https://:443",
		"mke.example.com:port",
	} {
		_, err := New(Options{Host: in})
		require.ErrorIs(t, err, ErrInvalidOptions, in)
	}
	_, err := New(Options{Host: "https://admin:hunter2@mke"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestNewValidation(t *testing.T) {
	const host = "mke.example.com"
	for name, o := range map[string]Options{
		"insecure and CA":           {Insecure: true, CACertPEM: []byte("x")},
		"insecure and pin":          {Insecure: true, CAFingerprint: strings.Repeat("00", 32)},
		"CA and pin":                {CACertPEM: []byte("x"), CAFingerprint: strings.Repeat("00", 32)},
		"bad pin":                   {CAFingerprint: "abc"},
		"bad CA":                    {CACertPEM: []byte("-----BEGIN NOTHING-----")},
		"negative attempts":         {Retry: Retry{Attempts: -1}},
		"negative base":             {Retry: Retry{Base: -time.Second}},
		"base above max":            {Retry: Retry{Base: 2 * time.Second, Max: time.Second}},
		"page size too big":         {PageSize: MaxPageSize + 1},
		"negative page size":        {PageSize: -1},
		"password without user":     {Password: "x"},
		"user agent with newline":   {UserAgent: "a\nb"},
		"custom transport with CA":  {HTTPClient: &http.Client{Transport: roundTripFunc(nil)}, CACertPEM: []byte("x")},
		"custom transport insecure": {HTTPClient: &http.Client{Transport: roundTripFunc(nil)}, Insecure: true},
	} {
		o.Host = host
		_, err := New(o)
		require.ErrorIs(t, err, ErrInvalidOptions, name)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{Host: "mke.example.com"})
	require.NoError(t, err)
	assert.Equal(t, Retry{Attempts: 4, Base: 200 * time.Millisecond, Max: 5 * time.Second}, c.retry)
	assert.Equal(t, 500, c.pageSize)
	assert.Equal(t, DefaultUserAgent, c.userAgent)
	assert.NotNil(t, c.log)
	tr, ok := c.httpc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, http.DefaultTransport, tr, "the default transport is cloned, not modified")
	assert.Equal(t, uint16(tls.VersionTLS12), tr.TLSClientConfig.MinVersion)
	if dc := http.DefaultTransport.(*http.Transport).TLSClientConfig; dc != nil {
		assert.Zero(t, dc.MinVersion)
	}

	c, err = New(Options{Host: "mke.example.com", PageSize: MaxPageSize, Retry: Retry{Base: 10 * time.Second}})
	require.NoError(t, err)
	assert.Equal(t, MaxPageSize, c.pageSize)
	assert.Equal(t, 10*time.Second, c.retry.Max, "Max follows a larger Base")
}

func TestHTTPClientBase(t *testing.T) {
	base := &http.Transport{MaxIdleConns: 7}
	hc := &http.Client{Transport: base, Timeout: 42 * time.Second}
	c, err := New(Options{Host: "mke.example.com", HTTPClient: hc, Insecure: true})
	require.NoError(t, err)
	tr := c.httpc.Transport.(*http.Transport)
	assert.NotSame(t, base, tr)
	assert.Equal(t, 7, tr.MaxIdleConns)
	assert.True(t, tr.TLSClientConfig.InsecureSkipVerify)
	if base.TLSClientConfig != nil { // Clone sets up HTTP/2 on the original
		assert.False(t, base.TLSClientConfig.InsecureSkipVerify, "the caller's transport is not modified")
	}
	assert.Equal(t, 42*time.Second, c.httpc.Timeout)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is not modified")

	// Any other RoundTripper is used as is.
	var seen *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
	})
	c, err = New(Options{Host: "mke.example.com", HTTPClient: &http.Client{Transport: rt}})
	require.NoError(t, err)
	require.NoError(t, c.Ping(testCtx(t)))
	require.NotNil(t, seen)
	assert.Equal(t, "https://mke.example.com/_ping", seen.URL.String())
}
