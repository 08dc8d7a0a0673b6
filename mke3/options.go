package mke3

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultPageSize     = 500
	MaxPageSize         = 65536
	DefaultAttempts     = 4
	DefaultRetryBase    = 200 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
	DefaultUserAgent    = "mke-migrate-mke3"
	maxUserAgentLength  = 256
	maxCredentialLength = 4096
)

// Options configure a Client. The zero value of every field but Host is
// usable.
type Options struct {
	// Host is the MKE 3 manager or load balancer: "https://mke.example.com",
	// "https://mke.example.com:8443", "mke.example.com" or "10.0.0.5:443"
	// (https is assumed). Plain http, user information, a path prefix, a
	// query and a fragment are refused.
	Host string

	// Username and Password are the credentials of an MKE 3 admin. They are
	// sent only in the body of POST /auth/login and never appear in errors
	// or logs. Calls that need a session fail when Username is empty.
	Username, Password string

	// CACertPEM holds the CA certificates to trust instead of the system
	// pool, e.g. the output of `docker run --rm mirantis/ucp dump-certs --ca`.
	CACertPEM []byte

	// CAFingerprint is the SHA-256 fingerprint of a certificate in the
	// server's chain, in hex with or without colons (an optional "sha256:"
	// prefix is accepted). When set, it replaces chain verification: a
	// server whose leaf certificate has this fingerprint is trusted as is; a
	// server whose chain holds a CA certificate with this fingerprint is
	// trusted when its leaf is signed (through the presented intermediates)
	// by that CA and is valid for Host. A CA fingerprint can only match
	// when the server sends the CA certificate in its chain.
	CAFingerprint string

	// Insecure skips TLS verification. A warning is logged when a client is
	// created with it. It cannot be combined with CACertPEM or CAFingerprint.
	Insecure bool

	// HTTPClient is an optional base client. When its Transport is an
	// *http.Transport (or nil, meaning http.DefaultTransport), the
	// transport is cloned and the TLS settings above are applied to the
	// clone. Any other http.RoundTripper is used as is, and then the TLS
	// options above must be left empty. Redirects are never followed
	// whatever the base client's CheckRedirect says.
	HTTPClient *http.Client

	// Logger receives debug records (method, path, status, duration, page
	// counts) and the Insecure warning. Nil means silent.
	Logger *slog.Logger

	// Retry bounds the retries of failed calls.
	Retry Retry

	// PageSize is the limit asked for on paged lists: default 500, at most
	// 65536.
	PageSize int

	// UserAgent is sent with every request; default "mke-migrate-mke3".
	UserAgent string
}

// Retry configures retries on 429, 5xx and transport errors. Delays grow
// exponentially from Base up to Max, with jitter; a Retry-After header
// replaces the computed delay when it is longer. A Retry-After longer than
// Max ends the retries: the client does not wait longer than Max between
// two attempts.
type Retry struct {
	// Attempts is the number of tries including the first (default 4;
	// 1 disables retries).
	Attempts int
	// Base is the first delay (default 200ms).
	Base time.Duration
	// Max caps each delay (default 5s).
	Max time.Duration
}

// validated is the result of checking Options: everything New needs.
type validated struct {
	base      *url.URL // scheme and host only
	hostname  string   // for certificate checks
	pin       []byte   // decoded CAFingerprint, nil when unset
	retry     Retry
	pageSize  int
	userAgent string
}

// ErrInvalidOptions is wrapped by every error New returns for bad Options.
var ErrInvalidOptions = errors.New("mke3: invalid options")

func optionsError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

func validateOptions(o *Options) (*validated, error) {
	v := &validated{}
	base, hostname, err := parseHost(o.Host)
	if err != nil {
		return nil, err
	}
	v.base, v.hostname = base, hostname

	if len(o.Username) > maxCredentialLength || len(o.Password) > maxCredentialLength {
		return nil, optionsError("Username and Password are limited to %d bytes", maxCredentialLength)
	}
	if o.Password != "" && o.Username == "" {
		return nil, optionsError("Password is set but Username is empty")
	}

	if o.Insecure && (len(o.CACertPEM) > 0 || o.CAFingerprint != "") {
		return nil, optionsError("Insecure cannot be combined with CACertPEM or CAFingerprint")
	}
	if len(o.CACertPEM) > 0 && o.CAFingerprint != "" {
		return nil, optionsError("CACertPEM and CAFingerprint are alternatives: set one")
	}
	if o.CAFingerprint != "" {
		pin, err := parseFingerprint(o.CAFingerprint)
		if err != nil {
			return nil, optionsError("CAFingerprint: %v", err)
		}
		v.pin = pin
	}

	r := o.Retry
	switch {
	case r.Attempts < 0:
		return nil, optionsError("Retry.Attempts is negative (%d)", r.Attempts)
	case r.Attempts == 0:
		r.Attempts = DefaultAttempts
	}
	if r.Base < 0 || r.Max < 0 {
		return nil, optionsError("Retry.Base and Retry.Max must not be negative")
	}
	if r.Base == 0 {
		r.Base = DefaultRetryBase
	}
	if r.Max == 0 {
		r.Max = max(DefaultRetryMax, r.Base)
	}
	if r.Base > r.Max {
		return nil, optionsError("Retry.Base (%s) is larger than Retry.Max (%s)", r.Base, r.Max)
	}
	v.retry = r

	switch {
	case o.PageSize < 0 || o.PageSize > MaxPageSize:
		return nil, optionsError("PageSize %d is outside 1..%d", o.PageSize, MaxPageSize)
	case o.PageSize == 0:
		v.pageSize = DefaultPageSize
	default:
		v.pageSize = o.PageSize
	}

	v.userAgent = o.UserAgent
	if v.userAgent == "" {
		v.userAgent = DefaultUserAgent
	}
	if len(v.userAgent) > maxUserAgentLength || strings.ContainsFunc(v.userAgent, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, optionsError("UserAgent must be printable and at most %d bytes", maxUserAgentLength)
	}
	return v, nil
}

// parseHost turns Options.Host into a base URL holding only scheme and host.
func parseHost(host string) (*url.URL, string, error) {
	h := strings.TrimSpace(host)
	if h == "" {
		return nil, "", optionsError("Host is empty")
	}
	raw := h
	if !strings.Contains(h, "://") {
		raw = "https://" + h
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input; the input is ours, but keep the
		// message short and free of anything a user may have pasted after
		// the host.
		return nil, "", optionsError("Host %q is not a URL or host[:port]", h)
	}
	switch {
	case !strings.EqualFold(u.Scheme, "https"):
		return nil, "", optionsError("Host %q: only https is supported", h)
	case u.User != nil:
		return nil, "", optionsError("Host must not contain user information; use Username and Password")
	case u.Path != "" && u.Path != "/":
		return nil, "", optionsError("Host %q has a path; MKE 3 is served at the root of its host", h)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, "", optionsError("Host %q has a query or fragment", h)
	case u.Opaque != "":
		return nil, "", optionsError("Host %q is not a URL or host[:port]", h)
	}
	hostname := u.Hostname()
	if hostname == "" {
		return nil, "", optionsError("Host %q has no host name", h)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, "", optionsError("Host %q: port %q is outside 1..65535", h, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, "", optionsError("Host %q: empty port", h)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, hostname, nil
}
