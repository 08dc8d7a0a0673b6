package mke3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failing answers status n times, then calls ok.
func failing(n int32, fail, ok http.HandlerFunc) (http.HandlerFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			fail(w, r)
			return
		}
		ok(w, r)
	}, &calls
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, code, "", http.StatusText(code))
	}
}

func TestRetry5xxThenSuccess(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504} {
		f := newFake(t)
		h, calls := failing(2, status(code), versionHandler("ucp/3.8.8"))
		f.handle("GET /version", h)
		c, logs := f.client()
		v, err := c.Version(testCtx(t))
		require.NoError(t, err, code)
		assert.Equal(t, "3.8.8", v)
		assert.EqualValues(t, 3, calls.Load())
		assert.Contains(t, logs.String(), "mke3 retrying")
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	f := newFake(t)
	h, calls := failing(100, status(503), versionHandler("x"))
	f.handle("GET /version", h)
	c, _ := f.client(func(o *Options) { o.Retry.Attempts = 3 })
	_, err := c.Version(testCtx(t))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.Status)
	assert.EqualValues(t, 3, calls.Load())

	c1, _ := f.client(func(o *Options) { o.Retry.Attempts = 1 })
	calls.Store(0)
	_, err = c1.Version(testCtx(t))
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load(), "Attempts 1 disables retries")
}

func TestNoRetryOn4xx(t *testing.T) {
	f := newFake(t)
	h, calls := failing(100, status(403), versionHandler("x"))
	f.handle("GET /version", h)
	c, _ := f.client()
	_, err := c.Version(testCtx(t))
	require.ErrorIs(t, err, ErrForbidden)
	assert.EqualValues(t, 1, calls.Load())
}

func TestRetryAfter(t *testing.T) {
	f := newFake(t)
	h, calls := failing(1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeEnvelope(w, http.StatusTooManyRequests, "", "slow down")
	}, versionHandler("ucp/3.8.8"))
	f.handle("GET /version", h)
	c, _ := f.client(func(o *Options) { o.Retry = Retry{Base: time.Millisecond, Max: 2 * time.Second} })
	ctx := testCtx(t)
	require.NoError(t, c.Login(ctx))
	start := time.Now()
	_, err := c.Version(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "Retry-After: 1 is honoured")
	assert.EqualValues(t, 2, calls.Load())
}

func TestRetryAfterLongerThanMax(t *testing.T) {
	f := newFake(t)
	h, calls := failing(100, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		writeEnvelope(w, http.StatusServiceUnavailable, "", "maintenance")
	}, versionHandler("x"))
	f.handle("GET /version", h)
	c, _ := f.client()
	start := time.Now()
	_, err := c.Version(testCtx(t))
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.EqualValues(t, 1, calls.Load())
	assert.Contains(t, err.Error(), "retry after 2m0s")
	var apiErr *APIError
	assert.ErrorAs(t, err, &apiErr)
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, 3*time.Second, retryAfter("3", now))
	assert.Equal(t, time.Duration(0), retryAfter("-1", now))
	assert.Equal(t, time.Duration(0), retryAfter("soon", now))
	assert.Equal(t, 24*time.Hour, retryAfter("99999999999", now))
	assert.Equal(t, 10*time.Second, retryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), retryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
}

func TestRetryTransportError(t *testing.T) {
	f := newFake(t)
	h, calls := failing(2, func(w http.ResponseWriter, r *http.Request) { hangUp(w) }, versionHandler("ucp/3.8.8"))
	f.handle("GET /version", h)
	c, _ := f.client()
	ctx := testCtx(t)
	require.NoError(t, c.Login(ctx))
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "3.8.8", v)
	// net/http may itself resend an idempotent request once on a reused
	// connection that died; the client's own retries come on top.
	assert.GreaterOrEqual(t, calls.Load(), int32(3))
}

func TestPutNotRetriedOnceSent(t *testing.T) {
	for name, fail := range map[string]http.HandlerFunc{
		"503":       status(503),
		"429":       status(429),
		"hang up":   func(w http.ResponseWriter, r *http.Request) { drain(r); hangUp(w) },
		"half read": func(w http.ResponseWriter, r *http.Request) { hangUp(w) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			h, calls := failing(100, fail, nil)
			f.handle("PUT /api/ucp/config-toml", h)
			c, _ := f.client()
			ctx := testCtx(t)
			require.NoError(t, c.Login(ctx))
			_, err := c.PutConfigTOML(ctx, []byte("[cluster_config]\n"))
			require.Error(t, err)
			assert.EqualValues(t, 1, calls.Load(), "a PUT that reached the server is not sent again")
		})
	}
}

func TestPutRetriedWhenNeverSent(t *testing.T) {
	f := newFake(t)
	f.handle("PUT /api/ucp/config-toml", func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		writeJSON(w, http.StatusOK, map[string]string{"message": "ok"})
	})
	var dials atomic.Int32
	var d net.Dialer
	base := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if n := dials.Add(1); n == 2 || n == 3 { // the login dials first
				return nil, errors.New("dial refused (test)")
			}
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}
	c, _ := f.client(func(o *Options) { o.HTTPClient = &http.Client{Transport: base} })
	ctx := testCtx(t)
	require.NoError(t, c.Login(ctx))
	msg, err := c.PutConfigTOML(ctx, []byte("[cluster_config]\n"))
	require.NoError(t, err)
	assert.Equal(t, "ok", msg)
	assert.Equal(t, 1, f.count("PUT /api/ucp/config-toml"))
	assert.EqualValues(t, 4, dials.Load())
}

func TestContextCancelStopsRetries(t *testing.T) {
	f := newFake(t)
	h, calls := failing(100, status(503), versionHandler("x"))
	f.handle("GET /version", h)
	c, _ := f.client(func(o *Options) { o.Retry = Retry{Attempts: 10, Base: time.Second, Max: time.Second} })
	require.NoError(t, c.Login(testCtx(t)))

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Version(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "the last failure is kept")
	assert.Equal(t, 503, apiErr.Status)
	assert.EqualValues(t, 1, calls.Load())
	assert.Contains(t, err.Error(), "mke3: GET /version: context canceled; last error: mke3: GET /version: 503")
}

func TestContextAlreadyDone(t *testing.T) {
	f := newFake(t)
	f.handle("GET /version", versionHandler("x"))
	c, _ := f.client()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Version(ctx)
	require.ErrorIs(t, err, context.Canceled)
	_, err = c.ListAccounts(ctx, "")
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, f.count("POST /auth/login"))
}

func TestContextDeadlineDuringRequest(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.handle("GET /version", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c, _ := f.client()
	require.NoError(t, c.Login(testCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Version(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "mke3: GET /version: context deadline exceeded", err.Error())
	assert.Equal(t, 1, f.count("GET /version"))

	cctx, cancel2 := context.WithCancelCause(context.Background())
	cancel2(errors.New("operator pressed ^C"))
	_, err = c.Version(cctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "mke3: GET /version: context canceled: operator pressed ^C", err.Error())
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{retry: Retry{Attempts: 10, Base: 100 * time.Millisecond, Max: time.Second}}
	for attempt := 1; attempt <= 10; attempt++ {
		d := c.backoff(attempt)
		assert.LessOrEqual(t, d, time.Second)
		assert.GreaterOrEqual(t, d, 50*time.Millisecond)
	}
	assert.LessOrEqual(t, c.backoff(1), 100*time.Millisecond)
	assert.GreaterOrEqual(t, c.backoff(8), 500*time.Millisecond)
}

func TestCertificateErrorNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = quietServerLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := New(Options{Host: srv.URL, Retry: Retry{Base: time.Millisecond, Max: time.Millisecond}}) // system pool: untrusted
	require.NoError(t, err)
	err = c.Ping(testCtx(t))
	var certErr *CertificateError
	require.ErrorAs(t, err, &certErr)
	assert.EqualValues(t, 1, conns.Load())
}
