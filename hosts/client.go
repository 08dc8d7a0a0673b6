package hosts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	rig "github.com/k0sproject/rig/v2"
	rigcmd "github.com/k0sproject/rig/v2/cmd"
	"github.com/k0sproject/rig/v2/protocol"
	rigssh "github.com/k0sproject/rig/v2/protocol/ssh"
	"github.com/k0sproject/rig/v2/protocol/ssh/hostkey"
	"github.com/mke-migrate/mke-migrate/hosts/facts"
	xssh "golang.org/x/crypto/ssh"

	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// Errors a connection attempt stops at immediately (no retry). They are
// wrapped in a *HostError; test with errors.Is.
var (
	// ErrAuth: the host refused every key offered (or no key could be used).
	ErrAuth = errors.New("ssh authentication failed")
	// ErrHostKey: the host key is not in known_hosts, differs from the
	// one recorded there, or known_hosts cannot be read.
	ErrHostKey = errors.New("ssh host key not trusted")
	// ErrChecksum: an uploaded file does not have the SHA-256 of the data sent.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrConnectionLost: the SSH connection broke (the host went down, was
	// rebooted or became unreachable, or sshd was killed). The Client is
	// unusable afterwards: Connect again.
	ErrConnectionLost = errors.New("ssh connection lost (host down or unreachable); connect again")
)

// HostError is a failure on one host. Host is "address:port"; Op names what
// failed, such as `connect` or `exec "docker version"`.
type HostError struct {
	Host string
	Op   string
	Err  error
}

func (e *HostError) Error() string { return e.Host + ": " + e.Op + ": " + e.Err.Error() }
func (e *HostError) Unwrap() error { return e.Err }

// CommandError is a remote command that ran and failed. Stderr is what it
// wrote to standard error (trimmed, at most 4 KiB); standard input is never
// part of an error.
type CommandError struct {
	ExitCode int // -1 when the command ended without an exit status (signal, lost connection)
	Stderr   string
	Err      error
}

func (e *CommandError) Error() string {
	msg := "exit status " + fmt.Sprint(e.ExitCode)
	if e.ExitCode < 0 {
		msg = e.Err.Error()
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}
func (e *CommandError) Unwrap() error { return e.Err }

const maxStderr = 4 << 10

// Retry says how often and how fast Connect retries transient failures
// (refused or timed-out dials, resets). Zero fields take the defaults.
type Retry struct {
	Attempts int           // total attempts; default 3
	Base     time.Duration // first wait; doubles each time; default 500ms
	Max      time.Duration // longest wait; default 5s
}

// ConnectOptions configures Connect. The zero value is usable.
type ConnectOptions struct {
	// KnownHostsPath is the known_hosts file host keys are checked against
	// (default <Home>/.ssh/known_hosts). Checking is strict: a host missing
	// from the file, or with a different key, fails with ErrHostKey and the
	// file is never written. The SSH_KNOWN_HOSTS environment variable,
	// which rig would let override this, is ignored (Connect warns).
	KnownHostsPath string
	// InsecureIgnoreHostKey accepts any host key. For tests and labs only.
	InsecureIgnoreHostKey bool
	// Home expands "~" in key paths and locates the default known_hosts
	// (default: the user's home directory).
	Home string
	// Timeout bounds each connection attempt (default 10s).
	Timeout time.Duration
	Retry   Retry
	// KeepAlive is how often the Client checks that the host still answers
	// (default 5s; negative disables). Three intervals without an answer
	// close the connection, so that a running Exec ends with
	// ErrConnectionLost instead of waiting for TCP to give up (many minutes
	// when the host vanished without closing the connection).
	KeepAlive time.Duration
	// MaxSessions bounds the commands one Client runs at once (default
	// DefaultMaxSessions). Each is an SSH session on the one connection,
	// and OpenSSH refuses more than MaxSessions (10 by default) per
	// connection; the others wait for a free session.
	MaxSessions int
	// Logger receives debug logs from this package and rig; default silent.
	Logger *slog.Logger
}

// Client is a connection to one host. It is safe for concurrent use; each
// Exec opens its own SSH session.
type Client struct {
	host   Host
	rig    *rig.Client
	conn   *rigssh.Connection
	log    *slog.Logger
	closeO sync.Once
	stop   chan struct{} // closed by Close
	lost   atomic.Bool
	// commands counts remote commands (SSH sessions) started; sent the
	// bytes written to them (command lines and standard input).
	commands atomic.Int64
	sent     atomic.Int64
	// sessions holds a token per running command (MaxSessions).
	sessions chan struct{}
}

// Host returns the host the client is connected to.
func (c *Client) Host() Host { return c.host }

// DefaultMaxSessions is ConnectOptions.MaxSessions when unset: well below
// OpenSSH's default limit of 10 sessions per connection, because sshd
// frees a finished session a little after the client sees it end, later
// still on a loaded host, and rig answers a refused session by
// reconnecting, which ends the other sessions of the connection. With 8
// at once sessions were refused in tests, with 6 on 200 busy hosts too.
const DefaultMaxSessions = 4

// aliveTimeout is how long a failed command waits for the host to answer
// a keepalive before the connection is given up for lost: long enough
// for a host (or this machine) under load.
const aliveTimeout = 10 * time.Second

// Commands is the number of remote commands (each one SSH session) this
// client has run: Exec, ReadFile, and two per Upload.
func (c *Client) Commands() int { return int(c.commands.Load()) }

// BytesSent is what this client sent to its host: the command lines and
// the standard input its commands read (the payload, without SSH's own
// framing and encryption).
func (c *Client) BytesSent() int64 { return c.sent.Load() }

// countingReader counts the bytes read from r into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r countingReader) Read(p []byte) (int, error) {
	k, err := r.r.Read(p)
	r.n.Add(int64(k))
	return k, err
}

// Err is ErrConnectionLost once the connection broke (every later call
// fails with it: connect again), nil while it is usable.
func (c *Client) Err() error {
	if c.lost.Load() {
		return ErrConnectionLost
	}
	return nil
}

// Connect opens an SSH connection to h with rig, authenticating with the
// key h.KeyFile(home) (or, without keyPath, the identities of ~/.ssh/config
// and the SSH agent), through h.Bastion when set. Transient failures are
// retried with exponential backoff; authentication and host key failures
// are returned at once (ErrAuth, ErrHostKey), as is ctx ending. Errors are
// *HostError.
func Connect(ctx context.Context, h Host, o ConnectOptions) (*Client, error) {
	h = h.WithDefaults()
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("host", h.String())
	fail := func(err error) (*Client, error) {
		return nil, &HostError{Host: h.String(), Op: "connect", Err: err}
	}
	if h.Address == "" {
		return fail(errors.New("no address"))
	}
	home := o.Home
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil && !o.InsecureIgnoreHostKey && o.KnownHostsPath == "" {
			return fail(&HostKeyError{Problem: HostKeyNoFile, KnownHosts: "~/.ssh/known_hosts", Err: fmt.Errorf("no home directory: %w", err)})
		}
	}
	khPath := o.KnownHostsPath
	if khPath == "" && home != "" {
		khPath = filepath.Join(home, ".ssh", "known_hosts")
	}
	if !o.InsecureIgnoreHostKey {
		// rig skips a missing file and fails with "no known_hosts file
		// found"; say which file and what to do.
		if st, err := os.Stat(khPath); err != nil || !st.Mode().IsRegular() {
			if err == nil {
				err = errors.New("not a regular file")
			}
			return fail(&HostKeyError{Problem: HostKeyNoFile, KnownHosts: khPath, Err: err})
		}
	}
	if _, ok := os.LookupEnv("SSH_KNOWN_HOSTS"); ok {
		// see hostkey.go: rig would trust any key, or unknown hosts on first use
		logger.Warn("SSH_KNOWN_HOSTS is ignored: host keys are checked only against the known_hosts file, read-only, never trusted on first use", "known_hosts", khPath)
	}

	cfg := rigssh.Config{
		Address:          h.Address,
		Port:             h.Port,
		User:             h.User,
		SSHConfigOptions: sshOptions(khPath, o.InsecureIgnoreHostKey, h.KeyPath != ""),
	}
	if kp := h.KeyFile(home); kp != "" {
		cfg.KeyPath = &kp
	}
	if b := h.Bastion; b != nil {
		bc := &rigssh.Config{
			Address:          b.Address,
			Port:             b.Port,
			User:             b.User,
			SSHConfigOptions: sshOptions(khPath, o.InsecureIgnoreHostKey, b.KeyPath != ""),
		}
		if kp := b.KeyFile(home); kp != "" {
			bc.KeyPath = &kp
		}
		cfg.Bastion = bc
	}
	conn, err := rigssh.NewConnection(cfg, rigssh.WithLogger(logger))
	if err != nil {
		return fail(err)
	}

	attempts, wait, maxWait := o.Retry.Attempts, o.Retry.Base, o.Retry.Max
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = conn.Connect(actx)
		cancel()
		if err == nil {
			break
		}
		if hk := hostKeyError(err, khPath); hk != nil && !o.InsecureIgnoreHostKey {
			return fail(hk)
		}
		err = classify(err)
		logger.Debug("ssh connect failed", "attempt", attempt, "error", err)
		if errors.Is(err, ErrAuth) || errors.Is(err, ErrHostKey) {
			return fail(err)
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("%w (after %d attempts: %w)", ctx.Err(), attempt, err))
		}
		if errors.Is(err, protocol.ErrNonRetryable) || attempt >= attempts {
			return fail(fmt.Errorf("after %d attempts: %w%s", attempt, err, dialHint(err, h.Port)))
		}
		select {
		case <-ctx.Done():
			return fail(fmt.Errorf("%w (after %d attempts: %w)", ctx.Err(), attempt, err))
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}

	rc, err := rig.NewClient(rig.WithConnection(conn), rig.WithLogger(logger))
	if err != nil {
		conn.Disconnect()
		return fail(err)
	}
	logger.Debug("connected")
	ms := o.MaxSessions
	if ms <= 0 {
		ms = DefaultMaxSessions
	}
	c := &Client{host: h, rig: rc, conn: conn, log: logger, stop: make(chan struct{}), sessions: make(chan struct{}, ms)}
	if ka := o.KeepAlive; ka >= 0 {
		if ka == 0 {
			ka = 5 * time.Second
		}
		go c.watch(ka)
	}
	return c, nil
}

// watch checks every interval that the host answers a keepalive request
// and marks the connection lost after three intervals without an answer.
// rig's own keepalive only stops when a request fails; it never times one
// out, so a vanished host would not be noticed.
func (c *Client) watch(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if !c.alive(3 * interval) {
			c.markLost()
			return
		}
	}
}

// alive reports whether the host answers a keepalive request within timeout.
func (c *Client) alive(timeout time.Duration) bool {
	ch := make(chan bool, 1)
	go func() { ch <- c.conn.IsConnected() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ok := <-ch:
		return ok
	case <-c.stop:
		return true
	case <-t.C:
		return false
	}
}

// markLost closes the connection, which ends running sessions.
func (c *Client) markLost() {
	if c.lost.CompareAndSwap(false, true) {
		c.log.Debug("ssh connection lost")
		c.conn.Disconnect()
	}
}

// sshOptions are the ssh_config settings rig gets. Host keys are checked
// only against khPath, read-only: rig's GlobalKnownHostsFile handling
// rejects unknown hosts, where its UserKnownHostsFile handling would add
// them (trust on first use). /dev/null as GlobalKnownHostsFile makes rig
// accept any host key.
func sshOptions(khPath string, insecure, haveKey bool) map[string]any {
	opts := map[string]any{
		"UserKnownHostsFile":    "none",
		"GlobalKnownHostsFile":  khPath,
		"StrictHostKeyChecking": true,
		"BatchMode":             true, // never prompt for a passphrase
	}
	if insecure {
		opts["GlobalKnownHostsFile"] = "/dev/null"
	}
	if haveKey {
		// the configured key only, not every key of the agent
		opts["IdentitiesOnly"] = true
	}
	return opts
}

// dialHint says what to check for a connection that failed below SSH.
func dialHint(err error, port int) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf(" (nothing listens on port %d: check that sshd runs there and the port in hosts.yaml)", port)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return " (no answer: check the address, that the host is up, and firewalls, VPN or bastion on the way)"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf(" (closed before the SSH handshake: check that port %d is sshd's and that no proxy or firewall cuts it)", port)
	}
	return ""
}

// classify marks auth and host key failures with ErrAuth / ErrHostKey.
func classify(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, hostkey.ErrHostKeyMismatch), errors.Is(err, hostkey.ErrCheckHostKey),
		strings.Contains(msg, "known_hosts"):
		return fmt.Errorf("%w: %w", ErrHostKey, err)
	case strings.Contains(msg, "unable to authenticate"),
		strings.Contains(msg, "no usable authentication method"),
		strings.Contains(msg, "no supported methods remain"):
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// ExecOption modifies Exec.
type ExecOption func(*execOptions)

type execOptions struct {
	sudo  bool
	stdin io.Reader
}

// WithSudo runs the command as root (sudo, or doas, as rig detects; not
// needed when logged in as root).
func WithSudo() ExecOption { return func(o *execOptions) { o.sudo = true } }

// WithStdin feeds r to the command's standard input. Its content never
// appears in errors or logs.
func WithStdin(r io.Reader) ExecOption { return func(o *execOptions) { o.stdin = r } }

// Exec runs cmd through the login shell and returns its standard output
// with surrounding white space trimmed. A failure is a *HostError whose Err
// is a *CommandError carrying the exit code and stderr. Cancelling ctx ends
// the remote session.
func (c *Client) Exec(ctx context.Context, cmd string, opts ...ExecOption) (string, error) {
	out, err := c.exec(ctx, cmd, "exec "+quoteOp(cmd), opts...)
	return strings.TrimSpace(string(out)), err
}

func quoteOp(cmd string) string {
	if len(cmd) > 200 {
		cmd = cmd[:197] + "..."
	}
	return fmt.Sprintf("%q", cmd)
}

func (c *Client) exec(ctx context.Context, cmd, op string, opts ...ExecOption) ([]byte, error) {
	select {
	case c.sessions <- struct{}{}:
		defer func() { <-c.sessions }()
	case <-ctx.Done():
		return nil, &HostError{Host: c.host.String(), Op: op, Err: ctx.Err()}
	}
	c.commands.Add(1)
	c.sent.Add(int64(len(cmd)))
	var o execOptions
	for _, f := range opts {
		f(&o)
	}
	fail := func(err error) ([]byte, error) {
		return nil, &HostError{Host: c.host.String(), Op: op, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if c.lost.Load() {
		return fail(ErrConnectionLost)
	}
	runner := c.rig
	if o.sudo {
		runner = c.rig.Sudo()
	}
	var stdout, stderr bytes.Buffer
	ropts := []rigcmd.ExecOption{rigcmd.Stdout(&stdout), rigcmd.Stderr(&stderr), rigcmd.HideOutput()}
	if o.stdin != nil {
		ropts = append(ropts, rigcmd.Stdin(countingReader{r: o.stdin, n: &c.sent}))
	}
	proc, err := runner.Start(ctx, cmd, ropts...)
	if err != nil {
		if !c.alive(aliveTimeout) {
			c.markLost()
			return fail(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		}
		return fail(err)
	}
	if err := proc.Wait(); err != nil {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("%w: %w", ctx.Err(), err))
		}
		ce := &CommandError{ExitCode: -1, Err: err}
		var xe *xssh.ExitError
		if errors.As(err, &xe) {
			ce.ExitCode, ce.Err = xe.ExitStatus(), xe
		} else if c.lost.Load() || !c.alive(aliveTimeout) {
			// no exit status: the session ended with the connection
			c.markLost()
			ce.Err = fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}
		se := bytes.TrimSpace(stderr.Bytes())
		if len(se) > maxStderr {
			se = append(se[:maxStderr:maxStderr], "..."...)
		}
		ce.Stderr = string(se)
		return fail(ce)
	}
	return stdout.Bytes(), nil
}

// Upload writes data to dst with mode perm (as root when sudo is true):
// into a temporary file next to dst first, which is checked against the
// SHA-256 of data and then renamed over dst. dst is read back afterwards and
// its checksum compared again; a difference is ErrChecksum.
func (c *Client) Upload(ctx context.Context, data []byte, dst string, perm fs.FileMode, sudo bool) error {
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	q := shell.Quote(dst)
	script := fmt.Sprintf(`set -e
t=$(mktemp "$(dirname -- %[1]s)/.mke-upload.XXXXXX")
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod %[2]s "$t"
sum=$(sha256sum -- "$t"); sum=${sum%%%% *}
if [ "$sum" != %[3]s ]; then echo "checksum mismatch: sent %[3]s, wrote $sum" >&2; exit 3; fi
mv -f -- "$t" %[1]s
trap - EXIT
`, q, fmt.Sprintf("%04o", uint32(perm.Perm())), want)
	op := "upload " + quoteOp(dst)
	opts := []ExecOption{WithStdin(bytes.NewReader(data))}
	if sudo {
		opts = append(opts, WithSudo())
	}
	if _, err := c.exec(ctx, "sh -c "+shell.Quote(script), op, opts...); err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && ce.ExitCode == 3 {
			return &HostError{Host: c.host.String(), Op: op, Err: fmt.Errorf("%w: %s", ErrChecksum, ce.Stderr)}
		}
		return err
	}
	var vo []ExecOption
	if sudo {
		vo = append(vo, WithSudo())
	}
	got, err := c.exec(ctx, "sha256sum -- "+q, op, vo...)
	if err != nil {
		return err
	}
	if f := strings.Fields(string(got)); len(f) == 0 || f[0] != want {
		return &HostError{Host: c.host.String(), Op: op, Err: fmt.Errorf("%w: sent %s, %s has %s", ErrChecksum, want, dst, strings.TrimSpace(string(got)))}
	}
	c.log.Debug("uploaded", "path", dst, "bytes", len(data), "sha256", want)
	return nil
}

// ReadFile returns the content of the remote file path (as root when sudo
// is true).
func (c *Client) ReadFile(ctx context.Context, path string, sudo bool) ([]byte, error) {
	var opts []ExecOption
	if sudo {
		opts = append(opts, WithSudo())
	}
	out, err := c.exec(ctx, "cat -- "+shell.Quote(path), "read "+quoteOp(path), opts...)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}

// OSRelease identifies a host's operating system.
type OSRelease = facts.OSRelease

// OS reads /etc/os-release (through rig) and the CPU architecture.
func (c *Client) OS(ctx context.Context) (OSRelease, error) {
	fail := func(err error) (OSRelease, error) {
		return OSRelease{}, &HostError{Host: c.host.String(), Op: "detect OS", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	rel, err := c.rig.OS()
	if err != nil {
		return fail(err)
	}
	r := OSRelease{ID: rel.ID, IDLike: rel.IDLike, Version: rel.Version}
	if arch, err := rel.Arch(); err == nil {
		r.Arch = arch
	} else {
		m, err := c.Exec(ctx, "uname -m")
		if err != nil {
			return OSRelease{}, err
		}
		r.Arch = goarch(m)
	}
	return r, nil
}

func goarch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "s390x":
		return "s390x"
	case "ppc64le":
		return "ppc64le"
	}
	return m
}

// Close ends the connection. It is idempotent.
func (c *Client) Close() error {
	c.closeO.Do(func() {
		close(c.stop)
		c.rig.Disconnect()
	})
	return nil
}
