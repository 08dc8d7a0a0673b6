package mke3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds a successful answer read into memory.
const maxBody = 64 << 20

// request describes one API call. path is the escaped path, without query;
// it is what errors and logs show.
type request struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	accept      string
	auth        bool  // send the session token, log in when needed
	replayable  bool  // may be sent again after the server received it
	limit       int64 // body limit; 0 means maxBody
}

// response is a 2xx answer, read whole.
type response struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

// opError is an error of a call that is not an answer from the server
// (transport, decoding, paging, limits): "mke3: GET /path: cause".
type opError struct {
	method, path string
	err          error
}

func (e *opError) Error() string { return fmt.Sprintf("mke3: %s %s: %v", e.method, e.path, e.err) }
func (e *opError) Unwrap() error { return e.err }

// errBodyTooLarge is the cause when an answer exceeds its limit.
var errBodyTooLarge = errors.New("the answer exceeds the size limit")

// do sends r, logging in first when r.auth, and retries as Options.Retry
// allows. It returns the answer when its status is 2xx, an *APIError for
// any other status, and an *opError or *CertificateError otherwise.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	relogged := false
	var last error
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil, c.ctxError(ctx, r, last)
		}
		var token string
		if r.auth {
			t, err := c.sessionToken(ctx)
			if err != nil {
				return nil, err
			}
			token = t
		}
		resp, retryAfter, sent, err := c.once(ctx, r, token, attempt)
		if err != nil && ctx.Err() != nil {
			// The attempt failed because the context ended: report the
			// context, with the failure before it if there was one.
			return nil, c.ctxError(ctx, r, last)
		}
		if err == nil {
			if resp.status >= 200 && resp.status < 300 {
				return resp, nil
			}
			err = decodeAPIError(r.method, r.path, resp.status, resp.body, c.redact)
			if resp.status == http.StatusUnauthorized && r.auth && !relogged {
				// The session expired or was revoked: log in once more
				// and send the call again, without using up an attempt.
				relogged = true
				c.dropToken(token)
				attempt--
				last = err
				continue
			}
		}
		last = err
		if ctx.Err() != nil {
			return nil, c.ctxError(ctx, r, last)
		}
		if attempt >= c.retry.Attempts || !retryable(r, resp, sent, err) {
			return nil, err
		}
		if retryAfter > c.retry.Max {
			c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 not retrying: Retry-After exceeds Retry.Max",
				slog.String("method", r.method), slog.String("path", r.path), slog.Duration("retry_after", retryAfter))
			return nil, fmt.Errorf("%w (the server asked to retry after %s, longer than Retry.Max %s)", err, retryAfter, c.retry.Max)
		}
		delay := max(c.backoff(attempt), retryAfter)
		c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 retrying",
			slog.String("method", r.method), slog.String("path", r.path),
			slog.Int("attempt", attempt), slog.Duration("delay", delay), slog.String("error", err.Error()))
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, c.ctxError(ctx, r, last)
		case <-timer.C:
		}
	}
}

// ctxError reports a call ended by its context, with the last failure.
func (c *Client) ctxError(ctx context.Context, r *request, last error) error {
	cause := ctxCause(ctx)
	if last == nil {
		return &opError{method: r.method, path: r.path, err: cause}
	}
	return &opError{method: r.method, path: r.path, err: fmt.Errorf("%w; last error: %w", cause, last)}
}

// ctxCause is ctx.Err(), with the cancellation cause when one was given.
func ctxCause(ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || cause == err {
		return err
	}
	return fmt.Errorf("%w: %w", err, cause)
}

// backoff is the delay after the given failed attempt: exponential from
// Base, capped at Max, with jitter over its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.Base
	for i := 1; i < attempt && d < c.retry.Max; i++ {
		d *= 2
	}
	d = min(d, c.retry.Max)
	if half := int64(d / 2); half > 0 {
		d = time.Duration(half + rand.Int64N(half+1))
	}
	return d
}

// retryable says whether a failed attempt may be repeated.
func retryable(r *request, resp *response, sent bool, err error) bool {
	if resp != nil {
		if !r.replayable {
			return false // the server received it
		}
		return resp.status == http.StatusTooManyRequests || resp.status >= 500
	}
	if !r.replayable && sent {
		return false
	}
	var certErr *CertificateError
	var hdrErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &certErr), errors.As(err, &hdrErr), errors.As(err, &unknownAuth),
		errors.As(err, &hostErr), errors.As(err, &invalid):
		return false
	case errors.Is(err, errBodyTooLarge):
		return false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false
	}
	return true
}

// once sends one attempt. It returns the answer (any status), the
// Retry-After delay it asked for, whether the request may have reached the
// server, or a transport error.
func (c *Client) once(ctx context.Context, r *request, token string, attempt int) (*response, time.Duration, bool, error) {
	u := *c.base
	u.RawPath = r.path
	p, err := url.PathUnescape(r.path)
	if err != nil {
		return nil, 0, false, &opError{method: r.method, path: r.path, err: errors.New("invalid path")}
	}
	u.Path = p
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}

	// Whether anything was written: a connection was asked for and no
	// header went out means the server cannot have seen the request. A
	// transport that does not report (not an *http.Transport) counts as
	// having sent it.
	var askedConn, wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		GetConn:          func(string) { askedConn.Store(true) },
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.method, u.String(), body)
	if err != nil {
		return nil, 0, false, &opError{method: r.method, path: r.path, err: errors.New("cannot build the request")}
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	start := time.Now()
	hr, err := c.httpc.Do(req)
	sent := func() bool { return !askedConn.Load() || wrote.Load() }
	if err != nil {
		err = c.transportError(r, err)
		c.logAttempt(ctx, r, attempt, 0, start, err)
		return nil, 0, sent(), err
	}
	defer hr.Body.Close()
	limit := r.limit
	if limit <= 0 {
		limit = maxBody
	}
	if hr.StatusCode < 200 || hr.StatusCode >= 300 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	if err != nil {
		err = c.transportError(r, err)
		c.logAttempt(ctx, r, attempt, hr.StatusCode, start, err)
		return nil, 0, true, err
	}
	if int64(len(data)) > limit {
		if hr.StatusCode >= 200 && hr.StatusCode < 300 {
			err = &opError{method: r.method, path: r.path, err: fmt.Errorf("%w (%d MiB)", errBodyTooLarge, limit>>20)}
			c.logAttempt(ctx, r, attempt, hr.StatusCode, start, err)
			return nil, 0, true, err
		}
		data = nil // an oversized error answer is not an envelope
	}
	c.logAttempt(ctx, r, attempt, hr.StatusCode, start, nil)
	resp := &response{method: r.method, path: r.path, status: hr.StatusCode, header: hr.Header, body: data}
	return resp, retryAfter(hr.Header.Get("Retry-After"), time.Now()), true, nil
}

func (c *Client) logAttempt(ctx context.Context, r *request, attempt, status int, start time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.Int("attempt", attempt),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 request", attrs...)
}

// transportError strips the URL (and so the query) from a transport error
// and turns TLS verification failures into *CertificateError.
func (c *Client) transportError(r *request, err error) error {
	var certErr *CertificateError
	if errors.As(err, &certErr) {
		return certErr
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return newCertificateError(c.base.Host, verr.UnverifiedCertificates, verr.Err)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &opError{method: r.method, path: r.path, err: err}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// jsonBody encodes a request body.
func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errors.New("cannot encode the request body")
	}
	return b, nil
}

// getJSON is an authenticated GET whose answer is decoded into a T;
// expected says what the answer should be, for the error.
func getJSON[T any](ctx context.Context, c *Client, path, expected string) (T, error) {
	var v T
	resp, err := c.get(ctx, path)
	if err != nil {
		return v, err
	}
	if err := decodeJSON(resp, &v, expected); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// decodeJSON decodes a 2xx answer into v. The error names the call and what
// was expected, never the body.
func decodeJSON(resp *response, v any, expected string) error {
	if err := json.Unmarshal(resp.body, v); err != nil {
		return &opError{method: resp.method, path: resp.path, err: decodeError(expected, err)}
	}
	return nil
}

// shapeError is a decoding problem this package found itself (a missing
// field); its text names fields, never values.
type shapeError struct{ msg string }

func (e *shapeError) Error() string { return e.msg }

// decodeError describes a JSON decoding failure by what was expected and
// where it failed. It does not reuse encoding/json's text, which can quote a
// number from the input; the json error stays reachable with errors.As.
func decodeError(expected string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var shape *shapeError
	detail := "the answer cannot be decoded"
	switch {
	case errors.As(err, &shape):
		detail = shape.msg
	case errors.As(err, &typ):
		kind, _, _ := strings.Cut(typ.Value, " ") // "number 1e99" -> "number"
		at := typ.Field
		if at == "" {
			at = "the top level"
		}
		detail = fmt.Sprintf("got a JSON %s at %s", kind, at)
	case errors.As(err, &syn):
		detail = fmt.Sprintf("the answer is not valid JSON (error at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		detail = "the answer ends early"
	}
	return &quiet{msg: fmt.Sprintf("decoding the answer: expected %s: %s", expected, detail), err: err}
}
