package hosts_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/testbed"
)

// hangLimit bounds calls that must end on their own; far above what they
// take (well under a second to a few seconds), far below the 30 s sleeps
// they interrupt, so it catches hangs without timing anything.
const hangLimit = 15 * time.Second

// TestConnectFailures: network failures give a *HostError for the host
// and "connect", after the configured attempts, and never hang.
func TestConnectFailures(t *testing.T) {
	tests := []struct {
		name string
		// target returns the host to dial; it may stop b's host.
		target   func(t *testing.T, b *bed) hosts.Host
		retry    hosts.Retry
		timeout  time.Duration
		is       []error // errors.Is one of them (none: skip)
		contains string  // in the message
	}{
		{
			name: "closed port",
			target: func(t *testing.T, b *bed) hosts.Host {
				h := hostOf(b.tb[0])
				h.Port = 2222 // sshd listens on 22 only
				return h
			},
			retry:    hosts.Retry{Attempts: 3, Base: 20 * time.Millisecond},
			timeout:  5 * time.Second,
			is:       []error{syscall.ECONNREFUSED},
			contains: "connection refused (nothing listens on port 2222",
		},
		{
			// An address on the host's subnet that nobody answers ARP
			// for: the dial gets no answer at all and must end by the
			// connect timeout (the kernel would give up after ~3 s).
			name: "no host behind the address",
			target: func(t *testing.T, b *bed) hosts.Host {
				h := hostOf(b.tb[0])
				h.Address = b.tb[0].Network.Unassigned
				return h
			},
			retry:   hosts.Retry{Attempts: 2, Base: 20 * time.Millisecond},
			timeout: 300 * time.Millisecond,
			// the dialer's timeout or the attempt's context, whichever fires first
			is:       []error{os.ErrDeadlineExceeded, context.DeadlineExceeded},
			contains: "no answer: check the address",
		},
		{
			// The host and its network are gone, as after a power loss.
			name: "stopped host",
			target: func(t *testing.T, b *bed) hosts.Host {
				h := hostOf(b.tb[0])
				if err := b.tb[0].Stop(); err != nil {
					t.Fatal(err)
				}
				return h
			},
			retry: hosts.Retry{Attempts: 2, Base: 20 * time.Millisecond},
			// This sandbox routes the vanished subnet to a transparent
			// proxy that accepts and closes; elsewhere it is a timeout or
			// "no route to host". Either way it must end, with a hint.
			timeout:  time.Second,
			contains: "after 2 attempts",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := needBed(t, testbed.HostOptions{Name: "down-1"})
			h := tt.target(t, b)
			o := b.opts(t)
			o.Retry, o.Timeout = tt.retry, tt.timeout
			ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
			defer cancel()
			_, err := hosts.Connect(ctx, h, o)
			if ctx.Err() != nil {
				t.Fatalf("Connect hung until the test's limit: %v", err)
			}
			var he *hosts.HostError
			if !errors.As(err, &he) || he.Host != h.String() || he.Op != "connect" {
				t.Fatalf("err = %v; want a *HostError for %s, connect", err, h)
			}
			if errors.Is(err, hosts.ErrAuth) || errors.Is(err, hosts.ErrHostKey) {
				t.Errorf("network failure classified as auth/host key: %v", err)
			}
			if len(tt.is) > 0 && !slices.ContainsFunc(tt.is, func(e error) bool { return errors.Is(err, e) }) {
				t.Errorf("err = %v; want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.HasPrefix(err.Error(), h.String()+": connect: ") {
				t.Errorf("message %q; want the host, connect and %q", err, tt.contains)
			}
			t.Logf("%v", err)
		})
	}
}

// TestExecHostLost: a host that dies while a command runs ends the Exec
// with ErrConnectionLost at once, not when the command would have
// finished, and the Client refuses further commands with the same error.
func TestExecHostLost(t *testing.T) {
	tests := []struct {
		name string
		kill func(*testbed.Host) error
	}{
		// sshd and everything else killed: the kernel closes the connection.
		{"crash", (*testbed.Host).Crash},
		// network removed first: no packet ever comes back, only the
		// keepalive notices.
		{"vanish", (*testbed.Host).Stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := needBed(t, testbed.HostOptions{Name: "lost-1"})
			o := b.opts(t)
			o.KeepAlive = 500 * time.Millisecond // lost after 1.5 s without answers; generous under load
			c, err := hosts.Connect(t.Context(), hostOf(b.tb[0]), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.Exec(ctx, "touch /tmp/started; sleep 30")
				done <- err
			}()
			for {
				if out, err := c.Exec(ctx, "test -e /tmp/started && echo yes || true"); err != nil {
					t.Fatal(err)
				} else if out == "yes" {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := tt.kill(b.tb[0]); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if ctx.Err() != nil {
				t.Fatalf("Exec still running at the test's limit: %v", err)
			}
			checkLost(t, c, err, `exec "touch /tmp/started; sleep 30"`)
		})
	}

	t.Run("fault closes the connection", func(t *testing.T) {
		cl, hs, o := factsClusterN(t, 1, 0)
		if err := cl.SetFault(t.Context(), cl.Hosts[0], testbed.Fault{Match: "docker ps", CloseConnection: true}); err != nil {
			t.Fatal(err)
		}
		c, err := hosts.Connect(t.Context(), hs[0], o)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
		defer cancel()
		_, err = c.Exec(ctx, "docker ps", hosts.WithSudo())
		if ctx.Err() != nil {
			t.Fatalf("Exec still running at the test's limit: %v", err)
		}
		checkLost(t, c, err, `exec "docker ps"`)
	})
}

func checkLost(t *testing.T, c *hosts.Client, err error, op string) {
	t.Helper()
	var he *hosts.HostError
	if !errors.As(err, &he) || he.Host != c.Host().String() || he.Op != op {
		t.Fatalf("err = %v; want a *HostError for %s, %s", err, c.Host(), op)
	}
	if !errors.Is(err, hosts.ErrConnectionLost) {
		t.Errorf("err = %v; want ErrConnectionLost", err)
	}
	var ce *hosts.CommandError
	if !errors.As(err, &ce) || ce.ExitCode != -1 {
		t.Errorf("err = %v; want a *CommandError without exit status", err)
	}
	t.Logf("%v", err)
	begin := time.Now()
	_, err = c.Exec(t.Context(), "true")
	if !errors.Is(err, hosts.ErrConnectionLost) || !strings.Contains(err.Error(), "connect again") {
		t.Errorf("Exec on a lost connection: %v; want ErrConnectionLost saying to connect again", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Exec on a lost connection took %v", d)
	}
}
