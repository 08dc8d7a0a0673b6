package mke3api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits from docs/mke3-api.md.
const (
	// MaxLimit is the largest limit a list request may ask for.
	MaxLimit = 65536
	// DefaultPageSize is eNZi's page size when a request has no limit.
	DefaultPageSize = 10
	// DefaultTokenTTL is MKE's default session lifetime
	// (auth.sessions.lifetime_minutes = 60).
	DefaultTokenTTL = 60 * time.Minute
	// DefaultBundleKubeAPI is the API server written into client bundles.
	DefaultBundleKubeAPI = "https://127.0.0.1:6443"
)

// Error codes of the envelope (docs/mke3-api.md), plus two for routing
// errors the document does not name.
const (
	codeUnauthorized     = "UNAUTHORIZED"
	codeNotAuthorized    = "NOT_AUTHORIZED"
	codeNoSuchAccount    = "NO_SUCH_ACCOUNT"
	codeNoSuchTeam       = "NO_SUCH_TEAM"
	codeInvalidConfig    = "INVALID_CONFIG"
	codeInvalidInput     = "INVALID_INPUT"
	codeNotFound         = "NOT_FOUND"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	codeInternal         = "INTERNAL_ERROR"
)

// Options configure a Server. The zero value serves the default seed.
type Options struct {
	// Seed is the cluster content.
	Seed Seed
	// PageSize is how many items a list answers when the request has no
	// limit; default DefaultPageSize. At most MaxLimit.
	PageSize int
	// TokenTTL is how long a login token stays valid; default DefaultTokenTTL.
	TokenTTL time.Duration
	// Now is the clock for token expiry; default time.Now. Tests advance it
	// to expire tokens without sleeping. Certificates use the wall clock,
	// because TLS peers verify them against it.
	Now func() time.Time
	// Logger receives one debug record per request and info records for
	// failed logins; default silent. Passwords, tokens and keys are never
	// logged.
	Logger *slog.Logger
	// BundleKubeAPI is the server URL in client bundles' kube.yml; default
	// DefaultBundleKubeAPI.
	BundleKubeAPI string
	// CA signs client bundle certificates (and, with Start, the server
	// certificate); default a fresh CA.
	CA *CA
	// BundleAdminGroups are the groups (the certificate's Organization,
	// which the Kubernetes API server reads as groups) of client bundles
	// issued to admins; default none. MKE 3 gives its admins full access
	// to Kubernetes through its own authorizer, which a plain API server
	// does not have: a test bed names a group it authorizes fully
	// (system:masters) instead of seeding a binding MKE 3 does not store.
	BundleAdminGroups []string
}

// Server is a simulated MKE 3 manager. It implements http.Handler and is
// safe for concurrent use. The seeded content is read-only; only the
// configuration TOML, the tokens, the faults and the statistics change.
type Server struct {
	m        *model
	routes   []routeDef
	ca       *CA
	log      *slog.Logger
	now      func() time.Time
	pageSize int
	ttl      time.Duration
	kubeAPI  *url.URL
	admins   []string // BundleAdminGroups
	version  string
	closing  chan struct{}
	closeMu  sync.Once

	tokMu  sync.Mutex
	tokens map[string]session
	issued []string // every token ever issued, for leak checks in tests

	cfgMu      sync.Mutex
	configTOML string
	kdd        bool

	faultMu sync.Mutex
	faults  []*faultEntry

	statMu sync.Mutex
	stats  Stats

	// swarm holds the Engine API lists, encoded once.
	swarm map[string][]byte
}

type session struct {
	user    *account
	expires time.Time
}

// Stats counts what a Server has seen since New.
type Stats struct {
	// Requests counts every request, faulted and rejected ones included,
	// by "METHOD /path" (the path without the query).
	Requests map[string]int
	// Total is the sum of Requests.
	Total int
	// Logins and FailedLogins count POST /auth/login outcomes.
	Logins, FailedLogins int
	// Unauthorized counts requests refused for a missing, unknown or
	// expired token.
	Unauthorized int
	// Faults counts requests a fault was applied to.
	Faults int
}

// New builds a Server from opts. It fails on an inconsistent seed (errors
// are *SeedError values joined) or on invalid options.
func New(opts Options) (*Server, error) {
	seed := opts.Seed
	if issues := validateSeed(&seed); len(issues) > 0 {
		errs := make([]error, len(issues))
		for i, is := range issues {
			errs[i] = &SeedError{Path: is.pathString(), Msg: is.msg}
		}
		return nil, fmt.Errorf("mke3api: invalid seed: %w", errors.Join(errs...))
	}
	s := &Server{
		version:  cmp.Or(seed.Version, DefaultVersion),
		pageSize: cmp.Or(opts.PageSize, DefaultPageSize),
		ttl:      cmp.Or(opts.TokenTTL, DefaultTokenTTL),
		now:      opts.Now,
		log:      opts.Logger,
		ca:       opts.CA,
		tokens:   map[string]session{},
		closing:  make(chan struct{}),
		stats:    Stats{Requests: map[string]int{}},
	}
	if s.pageSize < 1 || s.pageSize > MaxLimit {
		return nil, fmt.Errorf("mke3api: PageSize %d is outside 1..%d", opts.PageSize, MaxLimit)
	}
	if s.ttl < 0 {
		return nil, fmt.Errorf("mke3api: negative TokenTTL %v", opts.TokenTTL)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(cmp.Or(opts.BundleKubeAPI, DefaultBundleKubeAPI))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("mke3api: BundleKubeAPI %q is not an https:// URL", opts.BundleKubeAPI)
	}
	s.kubeAPI = u
	s.admins = slices.Clone(opts.BundleAdminGroups)
	if s.ca == nil {
		if s.ca, err = NewCA(); err != nil {
			return nil, fmt.Errorf("mke3api: %w", err)
		}
	}
	s.configTOML = cmp.Or(seed.ConfigTOML, DefaultConfigTOML)
	if s.kdd, err = parseConfigTOML(s.configTOML); err != nil {
		return nil, fmt.Errorf("mke3api: seed configTOML: %w", err)
	}
	s.m = buildModel(&seed)
	sw := seed.Swarm
	if sw == nil {
		d := DefaultSwarm()
		sw = &d
	}
	if s.swarm, err = encodeSwarm(sw); err != nil {
		return nil, fmt.Errorf("mke3api: seed %w", err)
	}
	s.routes = routes()
	return s, nil
}

// CA returns the CA that signs client bundles (Options.CA, or the one New
// generated).
func (s *Server) CA() *CA { return s.ca }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(s.stats.Requests)
	return st
}

// ExpireTokens invalidates every token issued so far, as if all sessions
// had timed out; clients must log in again.
func (s *Server) ExpireTokens() {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	clear(s.tokens)
}

// IssuedTokens returns every token the server has issued, expired ones
// included, so that tests can check that none leaks into errors or logs.
func (s *Server) IssuedTokens() []string {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	return append([]string(nil), s.issued...)
}

// shutdown releases requests waiting in a Latency fault.
func (s *Server) shutdown() { s.closeMu.Do(func() { close(s.closing) }) }

// call is one request being served.
type call struct {
	r      *http.Request
	params []string // path parameters, unescaped
	user   *account // nil on public endpoints
	// repeatStart is the RepeatStart fault: list answers repeat the start.
	repeatStart bool
}

// ServeHTTP serves the MKE 3 API subset of docs/mke3-api.md.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	s.count(func(st *Stats) {
		st.Requests[r.Method+" "+r.URL.Path]++
		st.Total++
	})
	sw := &statusWriter{ResponseWriter: w}
	c := &call{r: r}
	defer func() {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(began)))
	}()

	if f := s.takeFault(r.Method, r.URL.Path); f != nil {
		s.count(func(st *Stats) { st.Faults++ })
		if !s.applyFault(sw, c, f) {
			return
		}
	}
	if !engineVersion(sw, r) {
		return
	}
	s.serve(sw, c)
}

// serve routes and authorizes a request, then runs its handler.
func (s *Server) serve(w http.ResponseWriter, c *call) {
	rt, params, found := s.route(c.r.URL)
	if !found {
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no such endpoint: %s", c.r.URL.Path))
		return
	}
	h, ok := rt.methods[c.r.Method]
	if !ok {
		allowed := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", c.r.Method, c.r.URL.Path))
		return
	}
	c.params = params
	if rt.access != public {
		user := s.authenticate(c.r)
		if user == nil {
			s.count(func(st *Stats) { st.Unauthorized++ })
			w.Header().Set("WWW-Authenticate", `Bearer realm="mke"`)
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "a valid session token is required: log in at /auth/login")
			return
		}
		if rt.access == adminOnly && !user.json.IsAdmin {
			writeError(w, http.StatusForbidden, codeNotAuthorized, "only administrators may use this endpoint")
			return
		}
		c.user = user
	}
	h(s, w, c)
}

// authenticate returns the user of the request's bearer token, or nil.
func (s *Server) authenticate(r *http.Request) *account {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil
	}
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	sess, ok := s.tokens[token]
	if !ok {
		return nil
	}
	if !s.now().Before(sess.expires) {
		delete(s.tokens, token)
		return nil
	}
	return sess.user
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, c *call) {
	var req loginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, c.r.Body, 64<<10))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidInput, "the body must be JSON {\"username\": ..., \"password\": ...}")
		return
	}
	a := s.m.byName[req.Username]
	// Compare digests in constant time, and do it for unknown users too,
	// so that timing does not reveal which accounts exist.
	want := sha256.Sum256([]byte("\x00no account\x00"))
	if a != nil && a.password != "" {
		want = sha256.Sum256([]byte(a.password))
	}
	got := sha256.Sum256([]byte(req.Password))
	if a == nil || a.password == "" || !a.json.IsActive || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		s.count(func(st *Stats) { st.FailedLogins++ })
		s.log.LogAttrs(c.r.Context(), slog.LevelInfo, "login failed", slog.String("username", req.Username))
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "invalid username or password")
		return
	}
	token, err := randomString(32)
	if err != nil {
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot issue a token")
		return
	}
	tokenID, err := randomString(16)
	if err != nil {
		writeError(w, http.StatusInternalServerError, codeInternal, "cannot issue a token")
		return
	}
	now := s.now()
	s.tokMu.Lock()
	// Drop expired sessions so that long benchmark runs do not grow the map.
	for t, sess := range s.tokens {
		if !now.Before(sess.expires) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = session{user: a, expires: now.Add(s.ttl)}
	s.issued = append(s.issued, token)
	s.tokMu.Unlock()
	s.count(func(st *Stats) { st.Logins++ })
	writeJSON(w, http.StatusOK, map[string]string{"auth_token": token, "token_id": tokenID})
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mke3api: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Server) count(f func(*Stats)) {
	s.statMu.Lock()
	f(&s.stats)
	s.statMu.Unlock()
}

// wait sleeps for d unless the client goes away or the server closes;
// it reports whether the full delay elapsed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

type errorEnvelope struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorEnvelope{Errors: []errorItem{{Code: code, Message: msg}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only reachable through a programming error in a wire type.
		status = http.StatusInternalServerError
		body = []byte(`{"errors":[{"code":"INTERNAL_ERROR","message":"cannot encode the answer"}]}`)
	}
	writeRawJSON(w, status, append(body, '\n'))
}

// writeRawJSON writes an already encoded JSON answer.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Drop faults).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
