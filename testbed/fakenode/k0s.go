package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// k0sVersion is what the fake k0s reports.
const k0sVersion = "v1.31.2+k0s.0"

func (e *env) k0sState() (*fakestate.K0s, error) {
	var k fakestate.K0s
	ok, err := e.loadJSON(fakestate.K0sFile, &k)
	if err != nil || !ok {
		return nil, err
	}
	return &k, nil
}

func (e *env) k0s(args []string) error {
	if len(args) == 0 {
		return unsupported("k0s", args)
	}
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	units, err := e.units()
	if err != nil {
		return err
	}
	running := k != nil && units[k.Unit] != nil && units[k.Unit].Active
	switch args[0] {
	case "version":
		fmt.Fprintln(e.stdout, binaryK0sVersion())
		return nil
	case "kubeconfig":
		if len(args) >= 2 && args[1] == "admin" {
			return e.k0sKubeconfigAdmin(k)
		}
	case "install":
		if len(args) < 2 || (args[1] != "controller" && args[1] != "worker") {
			return unsupported("k0s", args)
		}
		if k != nil {
			return fail(1, "Error: failed to install k0s service: init already exists: /etc/systemd/system/%s", k.Unit)
		}
		vals, bools, _ := flags(args[2:], "--config", "-c", "--token-file", "--profile", "--data-dir", "--kubelet-extra-args", "--labels", "--taints", "--cri-socket")
		role, unit := "controller", "k0scontroller.service"
		if args[1] == "worker" {
			role, unit = "worker", "k0sworker.service"
		} else if bools["--enable-worker"] || bools["--single"] {
			role = "controller+worker"
		}
		nk := &fakestate.K0s{Role: role, Unit: unit, Args: args[1:], Config: first(vals, "--config", "-c"), TokenFile: first(vals, "--token-file")}
		if nk.Config != "" {
			if _, err := os.Stat(nk.Config); err != nil {
				return fail(1, "Error: failed to load node config: %v", err)
			}
		}
		if nk.TokenFile != "" {
			if _, err := os.Stat(nk.TokenFile); err != nil {
				return fail(1, "Error: failed to read token file: %v", err)
			}
		}
		units[unit] = &fakestate.Unit{Enabled: true, ExecStart: "/usr/local/bin/k0s " + joinArgs(args[1:])}
		if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
			return err
		}
		return e.saveJSON(fakestate.K0sFile, nk)
	case "start", "stop":
		if k == nil {
			return fail(1, "Error: failed to find installed k0s service")
		}
		units[k.Unit].Active = args[0] == "start"
		if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
			return err
		}
		if args[0] == "start" && k.Role != "worker" && !k.Initialized {
			// the first start of a controller creates its PKI
			k.Initialized = true
			return e.saveJSON(fakestate.K0sFile, k)
		}
		return nil
	case "status":
		if !running {
			return fail(1, "Error: status: can't get \"status\" via \"/run/k0s/status.sock\": Get \"http://localhost/status\": dial unix /run/k0s/status.sock: connect: no such file or directory")
		}
		workloads := k.Role != "controller"
		fmt.Fprintf(e.stdout, "Version: %s\nProcess ID: %d\nRole: %s\nWorkloads: %t\nSingleNode: false\nInit System: linux-systemd\nService file: /etc/systemd/system/%s\n",
			binaryK0sVersion(), 1000+len(k.Args), roleWord(k.Role), workloads, k.Unit)
		return nil
	case "reset":
		if running {
			return fail(1, "Error: k0s seems to be running! please stop k0s before reset.")
		}
		if k != nil {
			delete(units, k.Unit)
			if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
				return err
			}
		}
		if err := os.Remove(e.path(fakestate.K0sFile)); err != nil && !os.IsNotExist(err) {
			return err
		}
		// the CNI cleanup deletes Calico's files unconditionally, MKE 3's
		// own included (k0s pkg/cleanup/cni.go at v1.31.2+k0s.0)
		if e.dir == fakestate.Dir {
			for _, f := range []string{"/etc/cni/net.d/10-calico.conflist", "/etc/cni/net.d/calico-kubeconfig"} {
				if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
		}
		fmt.Fprintln(e.stderr, `time="2024-01-01 00:00:00" level=info msg="* remove k0s users step:"`)
		fmt.Fprintln(e.stderr, `time="2024-01-01 00:00:00" level=info msg="k0s cleanup operations done."`)
		fmt.Fprintln(e.stderr, `time="2024-01-01 00:00:00" level=warning msg="To ensure a full reset, a node reboot is recommended."`)
		return nil
	case "token":
		return e.k0sToken(k, running, args[1:])
	case "kubectl":
		return e.k0sKubectl(k, running, args[1:])
	case "etcd":
		if len(args) >= 2 && args[1] == "member-list" {
			if !running || k.Role == "worker" {
				return fail(1, "Error: can't list etcd cluster members: context deadline exceeded")
			}
			host, _ := os.Hostname()
			n, _ := e.node()
			addr := "127.0.0.1"
			if n != nil && n.Address != "" {
				addr = n.Address
			}
			fmt.Fprintf(e.stdout, "{\"members\":{%q:\"https://%s:2380\"}}\n", host, addr)
			return nil
		}
	}
	return unsupported("k0s", args)
}

func roleWord(r string) string {
	if r == "controller+worker" {
		return "controller"
	}
	return r
}

func joinArgs(a []string) string {
	var b bytes.Buffer
	for i, s := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// k0sToken is k0s token create, list and invalidate (k0s
// v1.31.2 cmd/token: create.go, list.go, invalidate.go; pkg/token/manager.go).
// They need the controller's API: on a stopped node or a worker they fail
// as the real ones do when the API does not answer.
func (e *env) k0sToken(k *fakestate.K0s, running bool, args []string) error {
	if len(args) == 0 {
		return unsupported("k0s token", args)
	}
	noAPI := func() error {
		return fail(1, "Error: Get \"https://localhost:6443/api/v1/namespaces/kube-system/secrets\": dial tcp 127.0.0.1:6443: connect: connection refused")
	}
	switch args[0] {
	case "create":
		vals, bools, pos := flags(args[1:], "--role", "--expiry", "--data-dir")
		if err := onlyFlags(vals, bools, "--role", "--expiry", "--data-dir", "--wait"); err != nil {
			return err
		}
		if len(pos) > 0 {
			return unsupported("k0s token create", args)
		}
		role := first(vals, "--role")
		if role == "" {
			role = "worker"
		}
		if role != "worker" && role != "controller" {
			return fail(1, "Error: unsupported role %q; supported roles are \"controller\" and \"worker\"", role)
		}
		// create.go: time.ParseDuration of --expiry (default "0s": no
		// expiry), before anything else
		exp := first(vals, "--expiry")
		if exp == "" {
			exp = "0s"
		}
		d, err := time.ParseDuration(exp)
		if err != nil {
			return fail(1, "Error: %v", err)
		}
		if !running || k.Role == "worker" {
			return fail(1, "Error: failed to create token: Get \"https://localhost:6443/api/v1/namespaces/kube-system/secrets\": dial tcp 127.0.0.1:6443: connect: connection refused")
		}
		id, tok, err := fakeToken(role)
		if err != nil {
			return err
		}
		jt := fakestate.JoinToken{ID: id, Role: role}
		if d != 0 {
			jt.Expires = now().Add(d).UTC().Format(time.RFC3339)
		}
		k.Tokens++
		k.JoinTokens = append(k.JoinTokens, jt)
		if err := e.saveJSON(fakestate.K0sFile, k); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, tok)
		return nil
	case "list":
		vals, bools, pos := flags(args[1:], "--role", "--data-dir")
		if err := onlyFlags(vals, bools, "--role", "--data-dir"); err != nil {
			return err
		}
		role := first(vals, "--role")
		if len(pos) > 0 {
			return unsupported("k0s token list", args)
		}
		if role != "" && role != "worker" && role != "controller" {
			return fail(1, "Error: unsupported role %q; supported roles are \"controller\" and \"worker\"", role)
		}
		if !running || k.Role == "worker" {
			return noAPI()
		}
		var rows []fakestate.JoinToken
		for _, t := range k.JoinTokens {
			if role == "" || t.Role == role {
				rows = append(rows, t)
			}
		}
		if len(rows) == 0 {
			fmt.Fprintln(e.stdout, "No k0s join tokens found")
			return nil
		}
		fmt.Fprintln(e.stdout, "ID\tROLE\tEXPIRES AT")
		for _, t := range rows {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", t.ID, t.Role, t.Expires)
		}
		return nil
	case "invalidate":
		vals, bools, ids := flags(args[1:], "--data-dir")
		if err := onlyFlags(vals, bools, "--data-dir"); err != nil {
			return err
		}
		if len(ids) < 1 {
			return fail(1, "Error: invalidate requires at least one token ID to invalidate")
		}
		if !running || k.Role == "worker" {
			return noAPI()
		}
		// manager.Remove deletes the secret bootstrap-token-<id>; one that
		// does not exist is not an error
		for _, id := range ids {
			k.JoinTokens = slices.DeleteFunc(k.JoinTokens, func(t fakestate.JoinToken) bool { return t.ID == id })
			if err := e.saveJSON(fakestate.K0sFile, k); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "token %s deleted successfully\n", id)
		}
		return nil
	}
	return unsupported("k0s token", args)
}

// onlyFlags fails on a flag the k0s command does not define, as cobra
// does; --debug (-d) is a persistent flag of every k0s command.
func onlyFlags(vals map[string][]string, bools map[string]bool, known ...string) error {
	known = append(known, "--debug", "-d")
	for f := range vals {
		if !slices.Contains(known, f) {
			return fail(1, "Error: unknown flag: %s", f)
		}
	}
	for f := range bools {
		if !slices.Contains(known, f) {
			return fail(1, "Error: unknown flag: %s", f)
		}
	}
	return nil
}

// fakeToken is shaped like a k0s join token: base64 of a gzipped
// kubeconfig whose user token is a bootstrap token "ID.secret", 6 and 16
// characters of [a-z0-9] (k0s pkg/token RandomBootstrapSecret).
func fakeToken(role string) (id, token string, err error) {
	r := make([]byte, 22)
	if _, err := rand.Read(r); err != nil {
		return "", "", err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range r {
		r[i] = alphabet[int(r[i])%len(alphabet)]
	}
	id, secret := string(r[:6]), string(r[6:])
	user := "kubelet-bootstrap"
	if role == "controller" {
		user = "controller-bootstrap"
	}
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:9443\n  name: k0s\nusers:\n- name: %s\n  user:\n    token: %s.%s\n", user, id, secret)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(kc)); err != nil {
		return "", "", err
	}
	if err := zw.Close(); err != nil {
		return "", "", err
	}
	return id, base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
