package mke3

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. An *APIError matches the first three through errors.Is
// by its HTTP status (401, 403, 404).
var (
	ErrUnauthorized = errors.New("mke3: unauthorized")
	ErrForbidden    = errors.New("mke3: forbidden")
	ErrNotFound     = errors.New("mke3: not found")
	// ErrRepeatedPage is wrapped when a paged list does not advance: the
	// server sent a page start already used, or two empty pages in a row
	// that still point to a next page.
	ErrRepeatedPage = errors.New("mke3: paging does not advance")
)

// ErrorDetail is one element of the MKE error envelope
// {"errors": [{"code": "...", "message": "..."}]}.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError is an answer with a status outside 2xx.
type APIError struct {
	Method string
	// Path is the request path, without query string.
	Path   string
	Status int
	// Code and Message are those of the first error of the envelope; both
	// are empty when the server sent none. A Docker-style body
	// {"message": "..."} fills Message only.
	Code, Message string
	// Errors is the whole envelope.
	Errors []ErrorDetail
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mke3: %s %s: %d", e.Method, e.Path, e.Status)
	switch {
	case e.Code != "":
		b.WriteString(" " + e.Code)
	case e.Message == "":
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if n := len(e.Errors); n > 1 {
		fmt.Fprintf(&b, " (and %d more)", n-1)
	}
	return b.String()
}

// Is lets errors.Is match ErrUnauthorized, ErrForbidden and ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	}
	return false
}

// Bounds on what an error answer may contribute to an APIError.
const (
	maxErrorBody    = 1 << 20 // bytes read from an error answer
	maxErrorDetails = 16      // envelope elements kept
	maxErrorText    = 512     // bytes kept of a code or message
)

// decodeAPIError builds the APIError of an answer with status outside 2xx.
// The body is never copied into the error: only the envelope's codes and
// messages are kept, cleaned of control characters, shortened, and passed
// through redact (which removes the client's secrets should a server echo
// them).
func decodeAPIError(method, path string, status int, body []byte, redact func(string) string) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody] // cannot parse anyway; keeps work bounded
	}
	var env struct {
		Errors  json.RawMessage `json:"errors"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		return e
	}
	var details []ErrorDetail
	if len(env.Errors) > 0 && json.Unmarshal(env.Errors, &details) == nil {
		for _, d := range details {
			if len(e.Errors) == maxErrorDetails {
				break
			}
			d.Code, d.Message = cleanText(d.Code, redact), cleanText(d.Message, redact)
			if d.Code == "" && d.Message == "" {
				continue
			}
			e.Errors = append(e.Errors, d)
		}
	}
	if len(e.Errors) > 0 {
		e.Code, e.Message = e.Errors[0].Code, e.Errors[0].Message
		return e
	}
	var msg string
	if len(env.Message) > 0 && json.Unmarshal(env.Message, &msg) == nil {
		e.Message = cleanText(msg, redact)
	}
	return e
}

// cleanText makes server-provided text safe to print on one line: secrets
// removed, invalid UTF-8 and control characters replaced, length bounded.
func cleanText(s string, redact func(string) string) string {
	if redact != nil {
		s = redact(s) // before any cut, so that no part of a secret survives
	}
	if len(s) > 4*maxErrorText {
		s = s[:4*maxErrorText]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// quiet is an error whose message leaves out its cause (still reachable
// with errors.Unwrap), for causes that may quote secret input.
type quiet struct {
	msg string
	err error
}

func (e *quiet) Error() string { return e.msg }
func (e *quiet) Unwrap() error { return e.err }
