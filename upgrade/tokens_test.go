package upgrade

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// k0sToken is shaped like k0s's join token (pkg/token: base64 of a gzipped
// kubeconfig whose user token is the bootstrap token "ID.secret").
func k0sToken(t testing.TB, bootstrap string) string {
	t.Helper()
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: k0s\n" +
		"contexts:\n- context:\n    cluster: k0s\n    user: kubelet-bootstrap\n  name: k0s\ncurrent-context: k0s\n" +
		"users:\n- name: kubelet-bootstrap\n  user:\n    token: " + bootstrap + "\n"
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(kc)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestTokenID(t *testing.T) {
	id, err := tokenID(k0sToken(t, "abc123.0123456789abcdef"))
	if err != nil || id != "abc123" {
		t.Fatalf("tokenID = %q, %v", id, err)
	}
	for _, bad := range []string{"", "SECRET-TOKEN", base64.StdEncoding.EncodeToString([]byte("plain")),
		k0sToken(t, "no-dot-here"), k0sToken(t, "ABC123.0123456789abcdef"), k0sToken(t, "ab'c1;.x")} {
		if id, err := tokenID(bad); err == nil {
			t.Errorf("tokenID(%.30q) = %q, want an error", bad, id)
		}
	}
}

func FuzzTokenID(f *testing.F) {
	f.Add(k0sToken(f, "abc123.0123456789abcdef"))
	f.Add("H4sIAAAAAAAA/w==")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := tokenID(s)
		if err == nil && !bootstrapTokenID.MatchString(id) {
			t.Fatalf("tokenID(%q) = %q", s, id)
		}
	})
}

// F6: the run's join tokens are invalidated on the leader by ID, once;
// the secret half is never in a command line. Before the fix nothing
// invalidated them.
func TestJoinTokensInvalidated(t *testing.T) {
	fc := newFakeCluster(leader, manager, worker)
	e := testEnv(fc)
	wtok, ctok := k0sToken(t, "wwwwww.0123456789abcdef"), k0sToken(t, "cccccc.fedcba9876543210")
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("worker", e.Commands.TokenExpiry))] = wtok
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("controller", e.Commands.TokenExpiry))] = ctok
	if err := e.InvalidateTokens(t.Context()); err != nil || len(fc.log) != 0 {
		t.Fatalf("without tokens: %v, %v", err, fc.log)
	}
	r := run(t, fc, workerStep(e, worker), nil, do)
	if got := r.Get(tokenIDKey); got != "wwwwww" {
		t.Fatalf("journaled token ID %q", got)
	}
	run(t, fc, controllerStep(e, manager, false), nil, do)
	fc.log = nil
	if err := e.InvalidateTokens(t.Context()); err != nil {
		t.Fatal(err)
	}
	requireCmds(t, fc, leader+": "+shell.Sudo("k0s token invalidate wwwwww cccccc"))
	// a resumed run also invalidates the tokens the journal names (those
	// of the process that died), each once
	fc.log = nil
	if err := e.invalidateTokens(t.Context(), []string{"dead01", "dead01"}); err != nil {
		t.Fatal(err)
	}
	requireCmds(t, fc, leader+": "+shell.Sudo("k0s token invalidate dead01"))
	for _, c := range fc.log {
		if strings.Contains(c.cmd, "0123456789abcdef") || strings.Contains(c.cmd, wtok) {
			t.Fatalf("a token secret in a command line: %s", c.cmd)
		}
	}
	// forgotten: a second call does nothing, a new join makes a new token
	fc.log = nil
	if err := e.InvalidateTokens(t.Context()); err != nil || len(fc.log) != 0 {
		t.Fatalf("second call: %v, %v", err, fc.log)
	}
	// a token without a readable ID is reported, not silently kept
	fc.nodes[leader].reply[shell.Sudo(tokenCreateCmd("worker", e.Commands.TokenExpiry))] = "SECRET"
	run(t, fc, workerStep(e, worker), nil, do)
	if err := e.InvalidateTokens(t.Context()); err == nil || !strings.Contains(err.Error(), "expire after") {
		t.Fatalf("unreadable token: %v", err)
	}
}

// F6: the tokens' expiry is bounded by the run's timeout, which is also
// its default. Before the fix it was 2h whatever the timeout.
func TestTokenExpiryBoundedByTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		expiry  string
		want    string
	}{
		{0, "", DefaultTimeout.String()},
		{30 * time.Minute, "", "30m0s"},
		{30 * time.Minute, "2h", "30m0s"},
		{2 * time.Hour, "45m", "45m0s"},
	} {
		u, err := New(Options{Hosts: []hosts.Host{{Address: "10.0.0.1"}}, OutputDir: "x", KubeconfigPath: "kc",
			Timeout: tc.timeout, Commands: Commands{TokenExpiry: tc.expiry}})
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Options().Commands.TokenExpiry; got != tc.want {
			t.Errorf("timeout %v, expiry %q: got %s, want %s", tc.timeout, tc.expiry, got, tc.want)
		}
	}
	for _, bad := range []string{"2 hours", "-1h", "0s"} {
		if _, err := New(Options{Hosts: []hosts.Host{{Address: "10.0.0.1"}}, OutputDir: "x", KubeconfigPath: "kc",
			Commands: Commands{TokenExpiry: bad}}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("expiry %q: %v", bad, err)
		}
	}
}

// F5: the join check, run by a real shell with the default curl command,
// passes against a TLS server that answers 401 (an API without
// credentials, as k0s's join API and kube-apiserver do) and fails on a
// port nothing forwards, naming what to change.
func TestJoinCheckScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	check := Commands{}.withDefaults().JoinCheck
	out, err := exec.Command("sh", "-c", joinCheckScript(check, srv.URL, "controller")).CombinedOutput()
	if err != nil {
		t.Fatalf("an answering join API failed the check: %v: %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + l.Addr().String()
	_ = l.Close()
	for role, port := range map[string]string{"controller": "9443", "worker": "6443"} {
		out, err = exec.Command("sh", "-c", joinCheckScript(check, closed, role)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "forward port "+port+" on the load balancer") || !strings.Contains(string(out), closed) {
			t.Errorf("%s: a closed port passed the check or said nothing useful: %v: %s", role, err, out)
		}
	}
	for u, want := range map[string]bool{"https://127.0.0.1:9443": true, "https://localhost:6443": true, "https://[::1]:9443": true,
		"https://lb.example.com:9443": false, "https://10.0.0.1:9443": false} {
		if loopbackURL(u) != want {
			t.Errorf("loopbackURL(%q) = %v", u, !want)
		}
	}
	if (Commands{JoinCheck: "-"}).withDefaults().JoinCheck != "" {
		t.Error(`JoinCheck "-" does not turn the check off`)
	}
}

func TestTokenInfoServer(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://lb.example.com:9443\n  name: k0s\nusers:\n- name: controller-bootstrap\n  user:\n    token: abcdef.0123456789abcdef\n"))
	_ = zw.Close()
	id, server, err := tokenInfo(base64.StdEncoding.EncodeToString(b.Bytes()))
	if err != nil || id != "abcdef" || server != "https://lb.example.com:9443" {
		t.Fatalf("tokenInfo: %q %q %v", id, server, err)
	}
}
