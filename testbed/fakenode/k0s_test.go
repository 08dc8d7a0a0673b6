package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fake k0s accepts exactly the flags of k0s v1.33's cobra commands and
// fails on others with cobra's and k0s's own words.
func TestK0sStrictCLI(t *testing.T) {
	const valid = "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  api:\n    address: 10.0.0.5\n"
	for _, tc := range []struct {
		name   string
		config string // written to /etc/k0s/k0s.yaml when set
		prep   [][]string
		argv   []string
		code   int
		errOut string
	}{
		{"install controller as the engine does", valid, nil, []string{"k0s", "install", "controller", "-c", "/etc/k0s/k0s.yaml", "--enable-worker", "--profile=p1"}, 0, ""},
		{"install controller all flags", valid, nil, []string{"k0s", "install", "controller", "--config=/etc/k0s/k0s.yaml", "--no-taints", "--labels", "a=b,c=d",
			"--taints", "x=y:NoSchedule", "--kubelet-extra-args", "--v=2", "--data-dir", "/var/lib/k0s", "--disable-components", "konnectivity-server", "-d", "--force", "-e", "A=B"}, 0, ""},
		{"install server alias", valid, nil, []string{"k0s", "install", "server"}, 0, ""},
		{"install worker", "", nil, []string{"k0s", "install", "worker", "--profile", "p", "--labels=a=b", "--cri-socket", "remote:/run/x.sock"}, 0, ""},
		{"unknown flag", valid, nil, []string{"k0s", "install", "controller", "--frobnicate"}, 1, "Error: unknown flag: --frobnicate"},
		{"unknown shorthand", valid, nil, []string{"k0s", "install", "controller", "-x"}, 1, "Error: unknown shorthand flag: 'x' in -x"},
		{"controller flag on a worker", "", nil, []string{"k0s", "install", "worker", "--enable-worker"}, 1, "Error: unknown flag: --enable-worker"},
		{"flag needs a value", valid, nil, []string{"k0s", "install", "controller", "--token-file"}, 1, "Error: flag needs an argument: --token-file"},
		{"bad bool", valid, nil, []string{"k0s", "install", "controller", "--enable-worker=maybe"}, 1, `Error: invalid argument "maybe" for "--enable-worker" flag`},
		{"positional argument", valid, nil, []string{"k0s", "install", "controller", "extra"}, 1, `Error: unknown command "extra" for "k0s install controller"`},
		{"unknown component", valid, nil, []string{"k0s", "install", "controller", "--disable-components", "nope"}, 1, "Error: unknown component nope"},
		{"config from stdin", valid, nil, []string{"k0s", "install", "controller", "-c", "-"}, 1, "cannot read configuration from standard input when installing k0s"},
		{"missing config", "", nil, []string{"k0s", "install", "controller", "-c", "/etc/k0s/none.yaml"}, 1, "Error: failed to load node config: open "},
		{"installed twice", valid, [][]string{{"k0s", "install", "controller"}}, []string{"k0s", "install", "controller"}, 1,
			"Error: failed to install controller service: Init already exists: /etc/systemd/system/k0scontroller.service"},
		{"installed twice with force", valid, [][]string{{"k0s", "install", "controller"}}, []string{"k0s", "install", "controller", "--force"}, 0, ""},
		{"start not installed", "", nil, []string{"k0s", "start"}, 1, "Error: k0s has not been installed as a service"},
		{"start twice", valid, [][]string{{"k0s", "install", "controller"}, {"k0s", "start"}}, []string{"k0s", "start"}, 1, "Error: already running"},
		{"stop stopped", valid, [][]string{{"k0s", "install", "controller"}}, []string{"k0s", "stop"}, 1, "Error: already stopped"},
		{"status flag", "", nil, []string{"k0s", "status", "--wait"}, 1, "Error: unknown flag: --wait"},
		{"reset running", valid, [][]string{{"k0s", "install", "controller"}, {"k0s", "start"}}, []string{"k0s", "reset"}, 1, "Error: k0s seems to be running, please stop k0s before reset"},
		{"reset flag", "", nil, []string{"k0s", "reset", "--force"}, 1, "Error: unknown flag: --force"},
		{"token role", valid, nil, []string{"k0s", "token", "create", "--role", "admin"}, 1, `Error: unsupported role "admin"; supported roles are "controller" and "worker"`},
		{"token ttl", valid, nil, []string{"k0s", "token", "create", "--ttl", "1h"}, 1, "Error: unknown flag: --ttl"},
		{"restore args", "", nil, []string{"k0s", "restore"}, 1, "Error: accepts 1 arg(s), received 0"},
		{"restore missing", "", nil, []string{"k0s", "restore", "/tmp/none.tar.gz"}, 1, "Error: given file /tmp/none.tar.gz does not exist"},
		{"restore flag", "", nil, []string{"k0s", "restore", "--config", "x", "a.tar.gz"}, 1, "Error: unknown flag: --config"},
		{"kubeconfig admin flag", "", nil, []string{"k0s", "kubeconfig", "admin", "--context", "x"}, 1, "Error: unknown flag: --context"},
		{"kubeconfig deprecated flag", "", nil, []string{"k0s", "kubeconfig", "--status-socket", "x", "admin"}, 1, `admin config "/var/lib/k0s/pki/admin.conf" not found`},
		{"version flag", "", nil, []string{"k0s", "version", "--short"}, 1, "Error: unknown flag: --short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := newEnv(t)
			if tc.config != "" {
				p := e.hostPath("/etc/k0s/k0s.yaml")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, argv := range tc.prep {
				if err := e.run(argv[0], argv[1:]); err != nil {
					t.Fatalf("%v: %v", argv, err)
				}
			}
			out.Reset()
			errb.Reset()
			err := e.run(tc.argv[0], tc.argv[1:])
			msg := errb.String()
			if err != nil {
				msg += err.Error()
			}
			if code(err) != tc.code || !strings.Contains(msg, tc.errOut) {
				t.Errorf("code %d, stderr+err %q; want %d, %q", code(err), msg, tc.code, tc.errOut)
			}
		})
	}
}

// install validates the config with k0s's own v1beta1 types.
func TestK0sInstallValidatesConfig(t *testing.T) {
	head := "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n"
	for _, tc := range []struct {
		name, spec, err string
	}{
		{"valid", "  api:\n    address: 10.0.0.5\n    externalAddress: lb.example.com\n  network:\n    provider: custom\n", ""},
		{"bad provider", "  network:\n    provider: flannel\n", `invalid node config: spec: network: provider: Unsupported value: "flannel"`},
		{"pod cidr /33", "  network:\n    podCIDR: 10.244.0.0/33\n", "invalid node config: "},
		// the 1.33 types accept an externalAddress with a port
		{"external address with port", "  api:\n    address: 10.0.0.5\n    externalAddress: lb.example.com:6443\n", ""},
		{"address not an IP", "  api:\n    address: not-an-ip\n", "invalid node config: "},
		{"unknown field", "  frobnicate: true\n", "failed to load node config: "},
		{"not yaml", "  - [\n", "failed to load node config: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, errb := newEnv(t)
			p := e.hostPath("/etc/k0s/k0s.yaml")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(head+tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			err := e.run("k0s", []string{"install", "controller", "-c", "/etc/k0s/k0s.yaml"})
			msg := errb.String()
			if err != nil {
				msg += err.Error()
			}
			if tc.err == "" && err != nil || tc.err != "" && (code(err) != 1 || !strings.Contains(msg, "Error: "+tc.err)) {
				t.Errorf("got %v (%q), want %q", err, msg, tc.err)
			}
			if k, _ := e.k0sState(); (k != nil) != (tc.err == "") {
				t.Errorf("installed: %t", k != nil)
			}
		})
	}
}

// Tokens are k0s's format: base64 of gzip of a kubeconfig whose context
// names the role's user, with the join URL of the config.
func TestK0sTokenFormat(t *testing.T) {
	for _, tc := range []struct {
		role, spec, server, user string
	}{
		{"controller", "  api:\n    address: 10.0.0.5\n", "https://10.0.0.5:9443", "controller-bootstrap"},
		{"worker", "  api:\n    address: 10.0.0.5\n", "https://10.0.0.5:6443", "kubelet-bootstrap"},
		{"controller", "  api:\n    address: 10.0.0.5\n    externalAddress: lb.example.com\n", "https://lb.example.com:9443", "controller-bootstrap"},
		{"worker", "  api:\n    address: 10.0.0.5\n    externalAddress: lb.example.com\n", "https://lb.example.com:6443", "kubelet-bootstrap"},
	} {
		e, out, errb := newEnv(t)
		p := e.hostPath("/etc/k0s/k0s.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n"+tc.spec), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := runAll(t, e, out, errb, [][]string{{"k0s", "install", "controller", "-c", "/etc/k0s/k0s.yaml"}, {"k0s", "start"},
			{"k0s", "token", "create", "--role", tc.role, "--expiry", "1h"}}); err != nil {
			t.Fatal(err)
		}
		jt, err := decodeJoinToken(strings.TrimSpace(out.String()))
		if err != nil {
			t.Fatal(err)
		}
		if jt.Server != tc.server || jt.User != tc.user || jt.Role() != tc.role || !bootstrapTokenRE.MatchString(jt.Token) || len(jt.CA) == 0 {
			t.Errorf("%s %q: token %+v", tc.role, tc.spec, jt)
		}
		k, _ := e.k0sState()
		if len(k.JoinTokens) != 1 || k.JoinTokens[0].ID != jt.ID() {
			t.Errorf("state %+v, token ID %s", k.JoinTokens, jt.ID())
		}
	}
}

func TestBootstrapTokenSecret(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := "abcdef.0123456789abcdef"
	w, err := bootstrapTokenSecret(tok, roleWorker, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "bootstrap-token-abcdef" || w.Namespace != "kube-system" || string(w.Type) != "bootstrap.kubernetes.io/token" ||
		string(w.Data["usage-bootstrap-authentication"]) != "true" || string(w.Data["expiration"]) != "2026-01-01T01:00:00Z" {
		t.Errorf("worker secret %+v", w)
	}
	c, _ := bootstrapTokenSecret(tok, roleController, 0, t0)
	if _, ok := c.Data["expiration"]; ok || string(c.Data["usage-bootstrap-controller-join"]) != "true" || string(c.Data["usage-controller-join"]) != "true" {
		t.Errorf("controller secret %+v", c.Data)
	}
	for _, tc := range []struct {
		s     string
		token string
		usage string
		at    time.Time
		ok    bool
	}{
		{"w", tok, "authentication", t0, true},
		{"w", tok, "authentication", t0.Add(time.Hour), false},
		{"w", tok, "controller-join", t0, false},
		{"c", tok, "controller-join", t0.Add(1000 * time.Hour), true},
		{"c", "abcdef.0123456789abcdee", "controller-join", t0, false},
		{"c", "bad", "controller-join", t0, false},
	} {
		s := w
		if tc.s == "c" {
			s = c
		}
		if got := tokenAllows(s, tc.token, tc.usage, tc.at); got != tc.ok {
			t.Errorf("%s %s %s at %v: %t", tc.s, tc.token, tc.usage, tc.at, got)
		}
	}
	if _, err := bootstrapTokenSecret("ABCDEF.0123456789abcdef", roleWorker, 0, t0); err == nil {
		t.Error("upper-case token accepted")
	}
}

func FuzzDecodeJoinToken(f *testing.F) {
	good, err := encodeJoinToken(joinToken{Server: "https://10.0.0.5:9443", CA: []byte("ca"), User: controllerTokenUser, Token: "abcdef.0123456789abcdef"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("H4sIAAAAAAAC/wEAAP//AAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, s string) {
		jt, err := decodeJoinToken(s)
		if err == nil && (jt.User == "" || jt.Server == "") {
			t.Errorf("accepted %q as %+v", s, jt)
		}
	})
}
