package mke3

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the fakes: distinctive, so that a leak is easy to find.
const (
	testUser     = "admin"
	testPassword = "pw-Zq8vR2kT-secret"
	tokenPrefix  = "tok-Xw91-"
)

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fake is a small MKE 3 stand-in: it logs in testUser/testPassword, hands
// out tokens, checks them on the routes registered with handle, and counts.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mux    *http.ServeMux
	mu     sync.Mutex
	tokens map[string]bool // valid tokens
	next   int
	logins int
	hits   map[string]int // "METHOD /path" -> requests, login included
	urls   []string       // every request URI
	// loginHook, when set, answers POST /auth/login instead of the default.
	loginHook http.HandlerFunc
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, mux: http.NewServeMux(), tokens: map[string]bool{}, hits: map[string]int{}}
	f.mux.HandleFunc("POST /auth/login", f.login)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = quietServerLog()
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.Method+" "+r.URL.Path]++
	f.urls = append(f.urls, r.URL.RequestURI())
	f.mu.Unlock()
	f.mux.ServeHTTP(w, r)
}

func (f *fake) login(w http.ResponseWriter, r *http.Request) {
	if f.loginHook != nil {
		f.loginHook(w, r)
		return
	}
	var creds struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&creds); err != nil || r.Header.Get("Content-Type") != "application/json" {
		writeEnvelope(w, http.StatusBadRequest, "INVALID_INPUT", "bad login body")
		return
	}
	if creds.Username != testUser || creds.Password != testPassword {
		writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid credentials")
		return
	}
	f.mu.Lock()
	f.logins++
	f.next++
	tok := fmt.Sprintf("%s%d", tokenPrefix, f.next)
	f.tokens[tok] = true
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"auth_token": tok, "token_id": fmt.Sprintf("tid-%d", f.next)})
}

// handle registers an authenticated route.
func (f *fake) handle(pattern string, h http.HandlerFunc) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !f.valid(r) {
			writeEnvelope(w, http.StatusUnauthorized, "UNAUTHORIZED", "token missing or expired")
			return
		}
		h(w, r)
	})
}

// handleOpen registers a route that needs no token.
func (f *fake) handleOpen(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

func (f *fake) valid(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	return ok && f.tokens[tok]
}

// expireAll invalidates every token handed out so far.
func (f *fake) expireAll() {
	f.mu.Lock()
	f.tokens = map[string]bool{}
	f.mu.Unlock()
}

func (f *fake) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[key]
}

func (f *fake) loginCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

func (f *fake) requestURIs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.urls...)
}

// caPEM is the PEM of the fake's certificate (self-signed, valid for
// 127.0.0.1 and example.com).
func (f *fake) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
}

// client returns a client of the fake that trusts its certificate, retries
// fast, and logs at debug level into the returned buffer.
func (f *fake) client(mod ...func(*Options)) (*Client, *lockedBuffer) {
	f.t.Helper()
	buf := &lockedBuffer{}
	o := Options{
		Host:      f.srv.URL,
		Username:  testUser,
		Password:  testPassword,
		CACertPEM: f.caPEM(),
		Logger:    slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:     Retry{Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	for _, m := range mod {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c, buf
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeEnvelope(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// quietServerLog keeps expected handshake failures out of the test output.
func quietServerLog() *log.Logger { return log.New(io.Discard, "", 0) }

// drain discards a request body (handlers that do not read it).
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }
