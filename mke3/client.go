package mke3

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Client talks to one MKE 3 cluster. It is safe for concurrent use. The
// session token it obtains is kept in memory only.
type Client struct {
	base      *url.URL // https://host[:port]
	hostname  string
	httpc     *http.Client
	log       *slog.Logger
	retry     Retry
	pageSize  int
	userAgent string
	username  string
	password  string

	// loginSem serialises logins so that concurrent calls share one; a
	// channel rather than a mutex so that waiting honours the context.
	loginSem chan struct{}

	mu      sync.Mutex
	token   string   // current session token; empty before login
	secrets []string // password and the tokens seen, for redaction
}

// maxRememberedSecrets bounds the tokens kept for redaction.
const maxRememberedSecrets = 8

// New checks the options and returns a client. It does no I/O: the first
// call that needs a session logs in.
func New(opts Options) (*Client, error) {
	v, err := validateOptions(&opts)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	httpc, err := buildHTTPClient(&opts, v)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:      v.base,
		hostname:  v.hostname,
		httpc:     httpc,
		log:       logger,
		retry:     v.retry,
		pageSize:  v.pageSize,
		userAgent: v.userAgent,
		username:  opts.Username,
		password:  opts.Password,
		loginSem:  make(chan struct{}, 1),
	}
	if opts.Password != "" {
		c.secrets = append(c.secrets, opts.Password)
	}
	if opts.Insecure {
		logger.Warn("mke3: TLS verification is disabled (Insecure); anyone on the network path can impersonate MKE and capture the credentials",
			slog.String("host", v.base.Host))
	}
	return c, nil
}

// buildHTTPClient derives the client's own *http.Client from the options.
func buildHTTPClient(o *Options, v *validated) (*http.Client, error) {
	var c http.Client
	if o.HTTPClient != nil {
		c = *o.HTTPClient // Timeout, Jar
	}
	// MKE does not redirect its API; following one could carry the
	// session to another host or to plain http.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	base, ok := rt.(*http.Transport)
	if !ok {
		if o.Insecure || len(o.CACertPEM) > 0 || o.CAFingerprint != "" {
			return nil, optionsError("HTTPClient.Transport is a %T, not an *http.Transport: Insecure, CACertPEM and CAFingerprint cannot be applied to it; configure its TLS yourself", rt)
		}
		c.Transport = rt
		return &c, nil
	}
	t := base.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	if err := tlsSettings(t.TLSClientConfig, o, v); err != nil {
		return nil, err
	}
	c.Transport = t
	return &c, nil
}

// redact removes the password and the session tokens from s.
func (c *Client) redact(s string) string {
	c.mu.Lock()
	secrets := c.secrets
	c.mu.Unlock()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	return s
}

func (c *Client) rememberSecret(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Copy on write: redact iterates over its snapshot without the lock.
	next := make([]string, 0, len(c.secrets)+1)
	next = append(next, c.secrets...)
	next = append(next, s)
	if extra := len(next) - maxRememberedSecrets; extra > 0 {
		// Keep the password (first, when set) and the newest tokens.
		keep := 0
		if c.password != "" {
			keep = 1
		}
		next = append(next[:keep], next[keep+extra:]...)
	}
	c.secrets = next
}

// Login logs in with the configured credentials (POST /auth/login) and keeps
// the session token. Calls log in by themselves when needed, so calling
// Login is optional; it is a way to check the credentials early.
func (c *Client) Login(ctx context.Context) error {
	if err := c.acquireLogin(ctx); err != nil {
		return err
	}
	defer c.releaseLogin()
	_, err := c.login(ctx)
	return err
}

func (c *Client) acquireLogin(ctx context.Context) error {
	select {
	case c.loginSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return loginCtxError(ctx)
	}
}

func (c *Client) releaseLogin() { <-c.loginSem }

func loginCtxError(ctx context.Context) error {
	return &opError{method: http.MethodPost, path: pathLogin, err: ctxCause(ctx)}
}

// sessionToken returns the session token, logging in when there is none.
func (c *Client) sessionToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	t := c.token
	c.mu.Unlock()
	if t != "" {
		return t, nil
	}
	if err := c.acquireLogin(ctx); err != nil {
		return "", err
	}
	defer c.releaseLogin()
	c.mu.Lock()
	t = c.token
	c.mu.Unlock()
	if t != "" { // another call logged in while this one waited
		return t, nil
	}
	return c.login(ctx)
}

// dropToken forgets t when it is still the current token, so that the next
// call logs in again.
func (c *Client) dropToken(t string) {
	c.mu.Lock()
	if c.token == t {
		c.token = ""
	}
	c.mu.Unlock()
}

const pathLogin = "/auth/login"

// errNoCredentials is returned by calls that need a session when the client
// has no Username.
var errNoCredentials = errors.New("no credentials: set Options.Username and Options.Password")

// login must be called with loginSem held.
func (c *Client) login(ctx context.Context) (string, error) {
	if c.username == "" {
		return "", &opError{method: http.MethodPost, path: pathLogin, err: errNoCredentials}
	}
	body, err := jsonBody(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{c.username, c.password})
	if err != nil {
		return "", &opError{method: http.MethodPost, path: pathLogin, err: err}
	}
	resp, err := c.do(ctx, &request{
		method:      http.MethodPost,
		path:        pathLogin,
		body:        body,
		contentType: "application/json",
		accept:      "application/json",
		replayable:  true, // a login has no effect besides a new session
	})
	if err != nil {
		return "", err
	}
	var answer struct {
		AuthToken string `json:"auth_token"`
		TokenID   string `json:"token_id"`
	}
	if err := decodeJSON(resp, &answer, `a JSON object with "auth_token"`); err != nil {
		return "", err
	}
	if answer.AuthToken == "" {
		return "", &opError{method: http.MethodPost, path: pathLogin, err: errors.New(`the answer has no "auth_token"`)}
	}
	c.rememberSecret(answer.AuthToken)
	if answer.TokenID != "" {
		c.rememberSecret(answer.TokenID)
	}
	c.mu.Lock()
	c.token = answer.AuthToken
	c.mu.Unlock()
	c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 login", slog.String("user", c.username))
	return answer.AuthToken, nil
}
