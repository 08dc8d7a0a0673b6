package mke3api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is misbehaviour injected into matching requests. Kinds combine:
// Latency is applied first, then the first of Drop, Status, Malformed;
// RepeatStart applies to a normally served list.
type Fault struct {
	// Status, when non-zero (200..599), answers with this status and Body
	// instead of serving the request; an empty Body becomes an error
	// envelope with code FAULT_INJECTED.
	Status int
	Body   string
	// Latency delays the answer. The wait ends early when the client goes
	// away (its context is cancelled) or the server is closed.
	Latency time.Duration
	// Malformed serves the request, then answers 200 with the body cut in
	// half and garbage appended, so that JSON, TOML and zip decoding fail.
	Malformed bool
	// Drop closes the connection without answering (HTTP/1: hijack and
	// close; HTTP/2: reset the stream). Note that net/http clients retry an
	// idempotent request once, silently, when a reused connection closes
	// before answering: to make such a client see a drop, use Times >= 2
	// or 0, or a fresh connection.
	Drop bool
	// RepeatStart makes list answers give the current start as the next
	// start: the request's start, or on a first page (which has none) the
	// key of its first item. A client that follows it asks for the same
	// page again.
	RepeatStart bool
	// Times limits the fault to the first n matching requests; 0 means
	// every matching request.
	Times int
}

type faultEntry struct {
	method  string
	pattern string
	fault   Fault
	left    int // remaining applications when fault.Times > 0
}

// matches tells whether the entry applies to a request. Patterns follow
// http.ServeMux: one ending in "/" matches every path under it, any other
// pattern only that exact path.
func (e *faultEntry) matches(method, path string) bool {
	if e.method != "" && e.method != "*" && !strings.EqualFold(e.method, method) {
		return false
	}
	if strings.HasSuffix(e.pattern, "/") {
		return strings.HasPrefix(path, e.pattern)
	}
	return path == e.pattern
}

// SetFault injects f into requests whose method is method ("" or "*" for
// any) and whose path matches pathPattern: an exact path like
// "/enzi/v0/accounts", or a prefix ending in "/" like "/enzi/" ("/" matches
// everything). Setting a fault for the same method and pattern replaces
// it. When several match, the longest pattern wins. SetFault panics on an
// invalid fault (Status outside 200..599, negative Latency or Times):
// that is a mistake in the test, not a condition to simulate.
func (s *Server) SetFault(method, pathPattern string, f Fault) {
	if f.Status != 0 && (f.Status < 200 || f.Status > 599) {
		panic(fmt.Sprintf("mke3api: SetFault: Status %d is outside 200..599", f.Status))
	}
	if f.Latency < 0 || f.Times < 0 {
		panic("mke3api: SetFault: negative Latency or Times")
	}
	if !strings.HasPrefix(pathPattern, "/") {
		panic(fmt.Sprintf("mke3api: SetFault: pattern %q does not start with /", pathPattern))
	}
	e := &faultEntry{method: method, pattern: pathPattern, fault: f, left: f.Times}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, old := range s.faults {
		if old.method == method && old.pattern == pathPattern {
			s.faults[i] = e
			return
		}
	}
	s.faults = append(s.faults, e)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// takeFault returns the fault for a request, consuming one of its Times.
func (s *Server) takeFault(method, path string) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var best *faultEntry
	for _, e := range s.faults {
		if e.matches(method, path) && (best == nil || len(e.pattern) > len(best.pattern)) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	f := best.fault
	if f.Times > 0 {
		best.left--
		if best.left == 0 {
			for i, e := range s.faults {
				if e == best {
					s.faults = append(s.faults[:i], s.faults[i+1:]...)
					break
				}
			}
		}
	}
	return &f
}

// applyFault acts out f; it reports whether the request should still be
// served normally.
func (s *Server) applyFault(w http.ResponseWriter, c *call, f *Fault) bool {
	if f.Latency > 0 && !s.wait(c.r.Context(), f.Latency) {
		// The client gave up or the server is closing: end the exchange
		// without an answer rather than let net/http send an empty 200.
		drop(w)
		return false
	}
	switch {
	case f.Drop:
		drop(w)
		return false
	case f.Status != 0:
		body := f.Body
		ctype := "text/plain; charset=utf-8"
		if body == "" {
			b, _ := json.Marshal(errorEnvelope{Errors: []errorItem{{Code: "FAULT_INJECTED",
				Message: fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status))}}})
			body = string(b)
		}
		if json.Valid([]byte(body)) {
			ctype = "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(body))
		return false
	case f.Malformed:
		cw := &captureWriter{header: http.Header{}}
		c.repeatStart = f.RepeatStart
		s.serve(cw, c)
		body := cw.body.Bytes()
		garbled := append(append([]byte{}, body[:len(body)/2]...), "\x00\xff{\"garbled"...)
		for k, v := range cw.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(garbled)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(garbled)
		return false
	}
	c.repeatStart = f.RepeatStart
	return true
}

// drop ends the exchange without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	// HTTP/2 cannot hijack; aborting the handler resets the stream, and
	// net/http does not log this sentinel.
	panic(http.ErrAbortHandler)
}

// captureWriter records an answer so that a Malformed fault can garble it.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
