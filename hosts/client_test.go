package hosts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/testbed"
)

// bed is a set of testbed hosts and a known_hosts file that trusts them.
type bed struct {
	tb         []*testbed.Host
	knownHosts string
}

func needBed(t *testing.T, opts ...testbed.HostOptions) *bed {
	t.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: needs testbed hosts: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	hs, err := testbed.StartHosts(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{tb: hs, knownHosts: filepath.Join(dir, "known_hosts")}
	for _, h := range hs {
		t.Cleanup(func() {
			if err := h.Stop(); err != nil {
				t.Error(err)
			}
		})
		if err := h.KnownHostsFile(b.knownHosts); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func hostOf(h *testbed.Host) hosts.Host {
	return hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath}
}

func (b *bed) opts(t *testing.T) hosts.ConnectOptions {
	return hosts.ConnectOptions{KnownHostsPath: b.knownHosts, Home: t.TempDir(), Timeout: 5 * time.Second}
}

func connect(t *testing.T, b *bed, i int) *hosts.Client {
	t.Helper()
	c, err := hosts.Connect(t.Context(), hostOf(b.tb[i]), b.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestClient(t *testing.T) {
	b := needBed(t, testbed.HostOptions{
		Name:      "client-1",
		OSRelease: "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n",
	})
	ctx := t.Context()
	begin := time.Now()
	c := connect(t, b, 0)
	t.Logf("connect took %v", time.Since(begin))
	if c.Host().Address != b.tb[0].Address {
		t.Errorf("Host() = %+v", c.Host())
	}

	if out, err := c.Exec(ctx, "hostname"); err != nil || out != "client-1" {
		t.Errorf("hostname = %q, %v", out, err)
	}
	if out, err := c.Exec(ctx, "id -u", hosts.WithSudo()); err != nil || out != "0" {
		t.Errorf("sudo id -u = %q, %v", out, err)
	}
	if out, err := c.Exec(ctx, "id -un"); err != nil || out != "mke" {
		t.Errorf("id -un = %q, %v", out, err)
	}
	const secret = "s3cr3t-token"
	if out, err := c.Exec(ctx, "wc -c", hosts.WithStdin(strings.NewReader("hello\n"))); err != nil || out != "6" {
		t.Errorf("stdin: %q, %v", out, err)
	}
	if out, err := c.Exec(ctx, "cat > /root/token && wc -c < /root/token", hosts.WithSudo(), hosts.WithStdin(strings.NewReader(secret))); err != nil || out != "12" {
		t.Errorf("sudo stdin: %q, %v", out, err)
	}

	// Failing command: *HostError with exit code and stderr, no stdin content.
	_, err := c.Exec(ctx, "echo oops >&2; cat >/dev/null; exit 7", hosts.WithStdin(strings.NewReader(secret)))
	var he *hosts.HostError
	var ce *hosts.CommandError
	if !errors.As(err, &he) || !errors.As(err, &ce) {
		t.Fatalf("error %T %v: want *HostError wrapping *CommandError", err, err)
	}
	if ce.ExitCode != 7 || ce.Stderr != "oops" {
		t.Errorf("CommandError = %+v", ce)
	}
	want := b.tb[0].Address + `:22: exec "echo oops >&2; cat >/dev/null; exit 7": exit status 7: oops`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks stdin: %v", err)
	}

	// Upload + checksum + read back, as mke and as root.
	data := make([]byte, 256<<10)
	_, _ = rand.Read(data)
	begin = time.Now()
	if err := c.Upload(ctx, data, "/home/mke/blob.bin", 0o640, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("upload of %d KiB took %v", len(data)>>10, time.Since(begin))
	if got, err := c.ReadFile(ctx, "/home/mke/blob.bin", false); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back: %d bytes, %v", len(got), err)
	}
	if out, err := c.Exec(ctx, "stat -c '%a %U' /home/mke/blob.bin"); err != nil || out != "640 mke" {
		t.Errorf("stat = %q, %v", out, err)
	}
	conf := []byte("key = \"it's quoted\"\n")
	if err := c.Upload(ctx, conf, "/etc/mke test.conf", 0o600, true); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Exec(ctx, "stat -c '%a %U' '/etc/mke test.conf'", hosts.WithSudo()); err != nil || out != "600 root" {
		t.Errorf("stat = %q, %v", out, err)
	}
	if got, err := c.ReadFile(ctx, "/etc/mke test.conf", true); err != nil || !bytes.Equal(got, conf) {
		t.Errorf("sudo read back: %q, %v", got, err)
	}
	if _, err := c.ReadFile(ctx, "/etc/mke test.conf", false); err == nil {
		t.Error("mke read a 0600 root file without sudo")
	}
	if err := c.Upload(ctx, conf, "/etc/denied.conf", 0o644, false); err == nil {
		t.Error("upload to /etc without sudo succeeded")
	}
	if out, err := c.Exec(ctx, "ls -A /etc | grep mke-upload || true"); err != nil || out != "" {
		t.Errorf("temporary upload files left: %q, %v", out, err)
	}

	rel, err := c.OS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rel.ID != "ubuntu" || rel.Version != "22.04" || len(rel.IDLike) != 1 || rel.IDLike[0] != "debian" || rel.Arch == "" {
		t.Errorf("OS = %+v", rel)
	}
	t.Logf("OS = %+v", rel)

	// Cancelled context ends a running command.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	begin = time.Now()
	if _, err := c.Exec(cctx, "sleep 30"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec after deadline: %v", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("cancelled Exec returned after %v", d)
	}

	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func TestConnectErrors(t *testing.T) {
	b := needBed(t, testbed.HostOptions{Name: "auth-1"})
	h := hostOf(b.tb[0])

	t.Run("wrong key", func(t *testing.T) {
		// a freshly generated key the host does not know
		other := needBed(t, testbed.HostOptions{Name: "other-key"})
		bad := h
		bad.KeyPath = other.tb[0].KeyPath
		o := b.opts(t)
		o.Retry = hosts.Retry{Attempts: 5, Base: time.Minute} // a retry would wait a minute
		begin := time.Now()
		_, err := hosts.Connect(t.Context(), bad, o)
		if !errors.Is(err, hosts.ErrAuth) {
			t.Fatalf("err = %v; want ErrAuth", err)
		}
		var he *hosts.HostError
		if !errors.As(err, &he) || he.Host != h.String() || he.Op != "connect" {
			t.Errorf("HostError = %+v", he)
		}
		if d := time.Since(begin); d > 30*time.Second {
			t.Errorf("ErrAuth took %v: retried?", d)
		}
	})

	t.Run("missing key file", func(t *testing.T) {
		bad := h
		bad.KeyPath = "~/.ssh/nope"
		_, err := hosts.Connect(t.Context(), bad, b.opts(t))
		if !errors.Is(err, hosts.ErrAuth) {
			t.Fatalf("err = %v; want ErrAuth", err)
		}
	})

	t.Run("unknown host key", func(t *testing.T) {
		o := b.opts(t)
		o.KnownHostsPath = filepath.Join(t.TempDir(), "known_hosts")
		other := needBed(t, testbed.HostOptions{Name: "stranger"})
		if err := other.tb[0].KnownHostsFile(o.KnownHostsPath); err != nil {
			t.Fatal(err)
		}
		o.Retry = hosts.Retry{Attempts: 5, Base: time.Minute} // a retry would wait a minute
		begin := time.Now()
		_, err := hosts.Connect(t.Context(), h, o)
		if !errors.Is(err, hosts.ErrHostKey) {
			t.Fatalf("err = %v; want ErrHostKey", err)
		}
		if d := time.Since(begin); d > 30*time.Second {
			t.Errorf("ErrHostKey took %v: retried?", d)
		}
		if kh, _ := os.ReadFile(o.KnownHostsPath); strings.Contains(string(kh), b.tb[0].Address) {
			t.Error("strict known_hosts was written to")
		}
	})

	t.Run("changed host key", func(t *testing.T) {
		o := b.opts(t)
		o.KnownHostsPath = filepath.Join(t.TempDir(), "known_hosts")
		other := needBed(t, testbed.HostOptions{Name: "imposter"})
		// the imposter's key recorded for our host's address
		line := b.tb[0].Address + " " + strings.SplitN(other.tb[0].HostKeyLine, " ", 2)[1] + "\n"
		if err := os.WriteFile(o.KnownHostsPath, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := hosts.Connect(t.Context(), h, o)
		if !errors.Is(err, hosts.ErrHostKey) {
			t.Fatalf("err = %v; want ErrHostKey", err)
		}
	})

	t.Run("no known_hosts file", func(t *testing.T) {
		o := b.opts(t) // Home is an empty temp dir
		o.KnownHostsPath = ""
		_, err := hosts.Connect(t.Context(), h, o)
		if !errors.Is(err, hosts.ErrHostKey) {
			t.Fatalf("err = %v; want ErrHostKey", err)
		}
		if _, err := os.Stat(filepath.Join(o.Home, ".ssh", "known_hosts")); err == nil {
			t.Error("default known_hosts was created")
		}
	})

	// F8 (issue 14): each host key failure is a *HostKeyError whose remedy
	// is to verify the key and add it to known_hosts, not to make the host
	// reachable.
	t.Run("host key failures are typed", func(t *testing.T) {
		other := needBed(t, testbed.HostOptions{Name: "imposter-2"})
		changed := filepath.Join(t.TempDir(), "known_hosts")
		line := b.tb[0].Address + " " + strings.SplitN(other.tb[0].HostKeyLine, " ", 2)[1] + "\n"
		if err := os.WriteFile(changed, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path string
			want hosts.HostKeyProblem
		}{
			{empty, hosts.HostKeyUnknown},
			{changed, hosts.HostKeyChanged},
			{filepath.Join(t.TempDir(), "missing"), hosts.HostKeyNoFile},
		} {
			o := b.opts(t)
			o.KnownHostsPath = tc.path
			_, err := hosts.Connect(t.Context(), h, o)
			var hk *hosts.HostKeyError
			if !errors.As(err, &hk) || !errors.Is(err, hosts.ErrHostKey) {
				t.Fatalf("%s: err = %v; want a *HostKeyError", tc.want, err)
			}
			if hk.Problem != tc.want || hk.KnownHosts != tc.path {
				t.Errorf("HostKeyError = %+v; want %s in %s", hk, tc.want, tc.path)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.path) || !strings.Contains(msg, "verify") && tc.want != hosts.HostKeyChanged || strings.Contains(msg, "reachable") {
				t.Errorf("%s: message %q does not say to verify the key in %s", tc.want, msg, tc.path)
			}
		}
	})

	// F2 (issue 14): rig let SSH_KNOWN_HOSTS replace the known_hosts file:
	// empty, any key was accepted; a path, unknown hosts were trusted on
	// first use and written there. It is ignored.
	t.Run("SSH_KNOWN_HOSTS is ignored", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		tofu := filepath.Join(t.TempDir(), "tofu_known_hosts")
		for _, env := range []string{"", tofu} {
			t.Setenv("SSH_KNOWN_HOSTS", env)
			var logs bytes.Buffer
			o := b.opts(t)
			o.KnownHostsPath = empty
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			c, err := hosts.Connect(t.Context(), h, o)
			if err == nil {
				c.Close()
				t.Fatalf("SSH_KNOWN_HOSTS=%q: connected to a host missing from known_hosts", env)
			}
			if !errors.Is(err, hosts.ErrHostKey) {
				t.Errorf("SSH_KNOWN_HOSTS=%q: err = %v; want ErrHostKey", env, err)
			}
			if !strings.Contains(logs.String(), "SSH_KNOWN_HOSTS is ignored") {
				t.Errorf("SSH_KNOWN_HOSTS=%q: the operator is not told: %s", env, logs.String())
			}
		}
		if _, err := os.Stat(tofu); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the SSH_KNOWN_HOSTS file was created or written: %v", err)
		}
		if kh, _ := os.ReadFile(empty); len(kh) != 0 {
			t.Errorf("known_hosts was written: %q", kh)
		}
	})

	t.Run("insecure ignore host key", func(t *testing.T) {
		o := b.opts(t)
		o.KnownHostsPath = filepath.Join(t.TempDir(), "empty")
		o.InsecureIgnoreHostKey = true
		c, err := hosts.Connect(t.Context(), h, o)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if out, err := c.Exec(t.Context(), "hostname"); err != nil || out != "auth-1" {
			t.Errorf("hostname = %q, %v", out, err)
		}
	})

	t.Run("transient failure retried", func(t *testing.T) {
		down := h
		down.Address = b.tb[0].Gateway // the machine side: nothing listens on :22
		o := b.opts(t)
		o.Retry = hosts.Retry{Attempts: 3, Base: 50 * time.Millisecond}
		begin := time.Now()
		_, err := hosts.Connect(t.Context(), down, o)
		if err == nil || errors.Is(err, hosts.ErrAuth) || errors.Is(err, hosts.ErrHostKey) {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("err = %v; want 3 attempts", err)
		}
		if d := time.Since(begin); d < 150*time.Millisecond {
			t.Errorf("3 attempts with 50+100 ms backoff took only %v", d)
		}
	})

	t.Run("context cancelled during retries", func(t *testing.T) {
		down := h
		down.Address = b.tb[0].Gateway
		o := b.opts(t)
		o.Retry = hosts.Retry{Attempts: 100, Base: time.Second}
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := hosts.Connect(ctx, down, o)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want DeadlineExceeded", err)
		}
	})
}

func TestRunOverHosts(t *testing.T) {
	b := needBed(t,
		testbed.HostOptions{Name: "run-1"},
		testbed.HostOptions{Name: "run-2"},
		testbed.HostOptions{Name: "run-3"},
	)
	var hs []hosts.Host
	for _, h := range b.tb {
		hs = append(hs, hostOf(h))
	}
	// run-2 has a key it does not accept.
	hs[1].KeyPath = b.tb[0].KeyPath
	var mu sync.Mutex
	names := map[string]string{}
	err := hosts.Run(t.Context(), hs, 0, func(ctx context.Context, h hosts.Host) error {
		c, err := hosts.Connect(ctx, h, b.opts(t))
		if err != nil {
			return err
		}
		defer c.Close()
		out, err := c.Exec(ctx, "hostname")
		mu.Lock()
		names[h.Address] = out
		mu.Unlock()
		return err
	})
	if err == nil {
		t.Fatal("Run succeeded with a failing host")
	}
	var he *hosts.HostError
	if !errors.As(err, &he) || he.Host != hs[1].String() || !errors.Is(err, hosts.ErrAuth) {
		t.Errorf("err = %v", err)
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 1 {
		t.Errorf("%d errors joined, want 1: %v", n, err)
	}
	if names[hs[0].Address] != "run-1" || names[hs[2].Address] != "run-3" {
		t.Errorf("hostnames = %v", names)
	}
}

func TestRunWrapsPlainErrors(t *testing.T) {
	hs := []hosts.Host{{Address: "10.0.0.1", Port: 22}, {Address: "10.0.0.2", Port: 22}, {Address: "10.0.0.3", Port: 22}}
	boom := errors.New("boom")
	err := hosts.Run(t.Context(), hs, 2, func(ctx context.Context, h hosts.Host) error {
		if h.Address == "10.0.0.1" {
			return nil
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != 2 || errs[0].Error() != "10.0.0.2:22: run: boom" || errs[1].Error() != "10.0.0.3:22: run: boom" {
		t.Errorf("errors = %q", errs)
	}
}

func TestRunConcurrencyBound(t *testing.T) {
	hs := make([]hosts.Host, 50)
	for i := range hs {
		hs[i] = hosts.Host{Address: "10.0.0." + string(rune('a'+i%26)), Port: 1000 + i}
	}
	for _, limit := range []int{1, 4, 0} {
		var cur, peak, calls atomic.Int32
		err := hosts.Run(t.Context(), hs, limit, func(ctx context.Context, h hosts.Host) error {
			calls.Add(1)
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			cur.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := int32(limit)
		if limit == 0 {
			want = hosts.DefaultConcurrency
		}
		if calls.Load() != 50 || peak.Load() > want || peak.Load() < min(want, 2) {
			t.Errorf("limit %d: calls %d, peak concurrency %d", limit, calls.Load(), peak.Load())
		}
	}
}

func TestRunContextCancel(t *testing.T) {
	hs := make([]hosts.Host, 10)
	for i := range hs {
		hs[i] = hosts.Host{Address: "10.0.1.1", Port: 1 + i}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	err := hosts.Run(ctx, hs, 2, func(ctx context.Context, h hosts.Host) error {
		if calls.Add(1) == 2 {
			cancel()
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("fn called %d times after cancel; want 2", n)
	}
	if !strings.Contains(err.Error(), "8 of 10 hosts not started") {
		t.Errorf("err = %v", err)
	}
}

func TestConnectViaBastion(t *testing.T) {
	b := needBed(t, testbed.HostOptions{Name: "jump-1"})
	tb := b.tb[0]
	// The bastion forwards to its own loopback: target 127.0.0.1 is the
	// same sshd, reached only through the bastion.
	line := "127.0.0.1 " + strings.SplitN(tb.HostKeyLine, " ", 2)[1] + "\n"
	f, err := os.OpenFile(b.knownHosts, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	h := hosts.Host{Address: "127.0.0.1", Port: 22, User: "root", KeyPath: tb.KeyPath,
		Bastion: &hosts.Bastion{Address: tb.Address, Port: 22, User: tb.User, KeyPath: tb.KeyPath}}
	c, err := hosts.Connect(t.Context(), h, b.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := c.Exec(t.Context(), "hostname; id -un"); err != nil || out != "jump-1\nroot" {
		t.Errorf("via bastion: %q, %v", out, err)
	}
	if out, err := c.Exec(t.Context(), "id -u", hosts.WithSudo()); err != nil || out != "0" {
		t.Errorf("sudo as root: %q, %v", out, err)
	}

	// The bastion's host key is checked too.
	o := b.opts(t)
	o.KnownHostsPath = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(o.KnownHostsPath, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := hosts.Connect(t.Context(), h, o); !errors.Is(err, hosts.ErrHostKey) {
		t.Errorf("unknown bastion key: err = %v; want ErrHostKey", err)
	}
}

// More commands at once than OpenSSH allows sessions per connection: the
// extra ones wait for a free session instead of failing.
func TestManyConcurrentCommandsOnOneConnection(t *testing.T) {
	b := needBed(t, testbed.HostOptions{Name: "sessions-1"})
	c := connect(t, b, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Go(func() {
			out, err := c.Exec(t.Context(), fmt.Sprintf("sleep 0.2; echo %d", i))
			if err == nil && out != fmt.Sprint(i) {
				err = fmt.Errorf("got %q", out)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Commands() != 30 {
		t.Errorf("Commands() = %d", c.Commands())
	}
}
