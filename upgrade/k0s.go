package upgrade

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// k0sInstalled is a shell test: k0s installed its service (enabled or
// not). systemctl is-enabled prints enabled or disabled for a unit that
// exists and fails for one that does not: under set -e (installScript)
// that failure would end the group before the second unit is asked, so a
// worker's k0s (k0sworker, the second) would never count as installed;
// "|| true" keeps both asked.
const k0sInstalled = "{ systemctl is-enabled k0scontroller.service 2>/dev/null || true; systemctl is-enabled k0sworker.service 2>/dev/null || true; } | grep -q abled"

// tokenCreateCmd makes a join token for role on a controller.
func tokenCreateCmd(role, expiry string) string {
	return "k0s token create --role " + shell.Word(role) + " --expiry " + shell.Word(expiry)
}

func mkdirCmd(dir string) string { return "mkdir -p " + shell.Quote(dir) }

// installArgs is the k0s install command line: a controller (with its
// configuration, and a worker too) or a worker; a joining node reads its
// token from tokenFile; profile is the node's kubelet profile, if any.
func installArgs(role, k0sDir, tokenFile string, join bool, profile string) []string {
	args := []string{"k0s", "install", role}
	if role == "controller" {
		args = append(args, "-c", k0sDir+"/k0s.yaml", "--enable-worker")
	}
	if join {
		args = append(args, "--token-file", tokenFile)
	}
	if profile != "" {
		args = append(args, "--profile="+profile)
	}
	return args
}

// installScript installs and starts k0s (after check, if any: that the
// address in the join token answers), and waits up to ready for k0s
// status, then runs after (if any: the wait for the worker's Node), in one
// remote command. With a token, the token arrives on stdin, lives in a
// 0600 file only while k0s install reads it, and is removed on every exit.
// A retry finds k0s installed, maybe running: k0s install then fails
// ("Init already exists", k0sInstalled says why) and so does k0s start
// ("already running": k0s cmd/start, pkg/install StartInstalledService),
// which k0s status answering makes good. No k0s status runs before the
// install: on a first try, the usual one, it would be one start of the
// k0s binary more on every node in the outage.
func installScript(args []string, k0sDir, tokenFile string, token bool, ready time.Duration, check, after string) string {
	tries := int(ready/(200*time.Millisecond)) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nT=%s\ntrap 'rm -f \"$T\"' EXIT\n", shell.Quote(tokenFile))
	if check != "" {
		b.WriteString(check + "\n")
	}
	fmt.Fprintf(&b, "mkdir -p %s\n", shell.Quote(k0sDir))
	if token {
		b.WriteString("(umask 077; cat > \"$T\")\n")
	}
	// an install that fails because k0s is installed was done by an
	// interrupted earlier try
	fmt.Fprintf(&b, "%s || %s\n", shell.Join(args...), k0sInstalled)
	b.WriteString("k0s start || k0s status >/dev/null 2>&1\n")
	fmt.Fprintf(&b, "i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge %d ]; then echo 'k0s did not become ready after %v' >&2; exit 1; fi; sleep 0.2; done\n", tries, ready)
	if after != "" {
		b.WriteString(after + "\n")
	}
	return b.String()
}

// resetCmd is the undo of a k0s install: stop, reset, remove its files
// (the configuration too, with removeConfig). The folder itself goes
// with the undo of the k0s binary, if the run made it.
func resetCmd(k0sDir string, removeConfig bool) string {
	cmd := "if command -v k0s >/dev/null 2>&1 && " + k0sInstalled + "; then k0s stop >/dev/null 2>&1; k0s reset; fi; rm -f " + shell.Quote(k0sDir+"/join-token")
	if removeConfig {
		cmd += " " + shell.Quote(k0sDir+"/k0s.yaml")
		for _, f := range []string{auditPolicyFile, admissionConfigFile, eventRateLimitConfig} {
			cmd += " " + shell.Quote(k0sDir+"/"+f)
		}
	}
	return cmd + "; true"
}

// joinToken returns the run's join token for role, made on the leader the
// first time it is needed. k0s join tokens are not single-use, so one per
// role serves every node of the run; it expires with TokenExpiry. It
// travels only in memory and over stdin, never in argv, logs or the
// journal, and exists on a node only while k0s install reads it.
func (e *Env) joinToken(ctx context.Context, role string) ([]byte, error) {
	t := e.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok := t.m[role]; tok != nil {
		return tok, nil
	}
	tok, err := e.onLeader(ctx, tokenCreateCmd(role, e.Commands.TokenExpiry)+e.dataDirFlag())
	if err != nil {
		return nil, fmt.Errorf("create a %s join token on the leader: %w", role, err)
	}
	if t.m == nil {
		t.m = map[string][]byte{}
	}
	if id, err := tokenID(tok); err == nil {
		t.ids = append(t.ids, id)
		if err := recordTokenID(e.OutputDir, id); err != nil {
			// not used: this process invalidates it when the run ends
			return nil, fmt.Errorf("record the ID of the %s join token: %w", role, err)
		}
	}
	t.m[role] = []byte(tok + "\n")
	return t.m[role], nil
}

// joinTokenIDsFile (in the output directory) lists the IDs of the join
// tokens the run made, one a line, each written and synced as soon as the
// token exists, before a node uses it: a step's data (tokenIDKey) is
// journaled only when the step ends, so a process killed in the middle
// of a join would leave its token unknown to the resume or rollback,
// valid until it expires. The ID is the public half of a bootstrap
// token; the secret never reaches a file.
const joinTokenIDsFile = "join-token-ids"

// recordTokenID appends id to dir's joinTokenIDsFile (nothing without a
// dir).
func recordTokenID(dir, id string) error {
	if dir == "" {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, joinTokenIDsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// recordedTokenIDs reads dir's joinTokenIDsFile: the well-formed IDs.
func recordedTokenIDs(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, joinTokenIDsFile))
	if err != nil {
		return nil
	}
	var ids []string
	for _, l := range strings.Split(string(b), "\n") {
		if bootstrapTokenID.MatchString(l) && !slices.Contains(ids, l) {
			ids = append(ids, l)
		}
	}
	return ids
}

// tokenIDKey is the step data (journaled) naming the join token a step
// used, so that a resumed run also invalidates the tokens of the process
// that died; the ID is the public half of a bootstrap token.
const tokenIDKey = "join-token-id"

// tokenCmdTimeout bounds k0s token invalidate.
const tokenCmdTimeout = time.Minute

// InvalidateTokens invalidates the join tokens this Env made (k0s token
// invalidate on the first controller, by token ID: the ID is the public
// half of a bootstrap token, the secret never leaves memory) and forgets
// them. It runs even after ctx ended, bounded by a minute of its own.
func (e *Env) InvalidateTokens(ctx context.Context) error { return e.invalidateTokens(ctx, nil) }

// invalidateTokens also invalidates the tokens of earlier IDs (those an
// earlier process of the run made, from the journal).
func (e *Env) invalidateTokens(ctx context.Context, earlier []string) error {
	var ids []string
	var unreadable error
	if t := e.tokens; t != nil {
		t.mu.Lock()
		if len(t.ids) < len(t.m) {
			unreadable = fmt.Errorf("%d join token(s) without a readable ID: they expire after %s", len(t.m)-len(t.ids), e.Commands.TokenExpiry)
		}
		ids = t.ids
		t.m, t.ids = nil, nil
		t.mu.Unlock()
	}
	for _, id := range earlier {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return unreadable
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenCmdTimeout)
	defer cancel()
	if _, err := e.onLeader(ctx, tokenInvalidateCmd(ids)+e.dataDirFlag()); err != nil {
		return errors.Join(unreadable, fmt.Errorf("invalidate the join tokens on the leader (they expire after %s): %w", e.Commands.TokenExpiry, err))
	}
	return unreadable
}

// invalidateTokens invalidates the run's join tokens, this process's and
// those the journal names; logged, not failed: a token left valid expires
// with the run's timeout.
func (u *Upgrade) invalidateTokens(ctx context.Context, p *plan.Plan, rs []journal.Record) {
	st := journal.Replay(rs)
	// every token the run made: those recorded when made (a process that
	// died mid-step journaled no step data), and the journal's
	earlier := recordedTokenIDs(u.o.OutputDir)
	for _, s := range p.Steps() {
		if id := st.Data(s.Name, s.Host)[tokenIDKey]; id != "" && bootstrapTokenID.MatchString(id) {
			if !slices.Contains(earlier, id) {
				earlier = append(earlier, id)
			}
		}
	}
	e, err := u.Env()
	if err == nil {
		err = e.invalidateTokens(ctx, earlier)
	}
	if err != nil {
		u.o.logger().Warn("join tokens not invalidated", "err", err)
	}
}

// tokenInvalidateCmd invalidates join tokens by ID (k0s
// cmd/token/invalidate.go: at least one ID, positional; an unknown ID is
// not an error).
func tokenInvalidateCmd(ids []string) string {
	args := append([]string{"k0s", "token", "invalidate"}, ids...)
	return shell.Join(args...)
}

// tokenID is the ID of a k0s join token: the token is base64 of a
// gzipped kubeconfig whose user token is a bootstrap token "ID.secret"
// (k0s pkg/token: RandomBootstrapSecret, GenerateKubeconfig).
func tokenID(tok string) (string, error) {
	id, _, err := tokenInfo(tok)
	return id, err
}

// tokenInfo is the ID of a k0s join token and the address it points at
// (its kubeconfig's cluster server: https://<externalAddress or first
// address>:9443 for a controller, :6443 for a worker, k0s
// cmd/token/create.go).
func tokenInfo(tok string) (id, server string, err error) {
	z, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil {
		return "", "", fmt.Errorf("join token: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return "", "", fmt.Errorf("join token: %w", err)
	}
	kc, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("join token: %w", err)
	}
	var cfg struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Token string `json:"token"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal(kc, &cfg); err != nil {
		return "", "", fmt.Errorf("join token: %w", err)
	}
	if len(cfg.Users) != 1 {
		return "", "", errors.New("join token: not one user")
	}
	id, _, ok := strings.Cut(cfg.Users[0].User.Token, ".")
	if !ok || !bootstrapTokenID.MatchString(id) {
		return "", "", errors.New("join token: no bootstrap token ID")
	}
	if len(cfg.Clusters) == 1 {
		server = cfg.Clusters[0].Cluster.Server
	}
	return id, server, nil
}

// bootstrapTokenID is the form of a Kubernetes bootstrap token ID.
var bootstrapTokenID = regexp.MustCompile(`^[a-z0-9]{6}$`)

// runsKubelet reports whether a k0s install command line makes a node
// that runs a kubelet, and so has a Node: a worker, or a controller with
// --enable-worker or --single. A plain controller runs none: k0s
// (cmd/controller/controller.go, v1.33) starts its embedded worker only
// when the controller mode enables workloads, so it never registers a
// Node, and k0s status is all there is to wait for.
func runsKubelet(args []string) bool {
	return len(args) > 2 && args[2] == "worker" || slices.Contains(args, "--enable-worker") || slices.Contains(args, "--single")
}

// install installs and starts k0s on the step's node; all but the first
// controller join with a token from the leader. A node that runs a
// kubelet (a worker, a controller+worker) is then waited for until its
// Node is Ready, as k0sctl waits for each worker: k0s status answers on
// a controller once its control plane is up, even when its embedded
// worker failed to start (k0s logs "Failed to start controller worker"
// and runs on).
func (e *Env) install(ctx context.Context, r *plan.Run, role string, first bool) error {
	c := e.Commands
	tokenFile := c.K0sDir + "/join-token"
	var tok []byte
	var check string
	if !first {
		var err error
		if tok, err = e.joinToken(ctx, role); err != nil {
			return err
		}
		id, server, err := tokenInfo(string(tok))
		if err == nil {
			r.Set(tokenIDKey, id)
		}
		// a loopback address names no load balancer nor any other node
		// (only the fast fake nodes' tokens have one): nothing to check
		if server != "" && c.JoinCheck != "" && !loopbackURL(server) {
			check = joinCheckScript(c.JoinCheck, server, role)
		}
	}
	profile := e.Cluster.Profiles[r.Step.Host]
	if profile == "" && role == "controller" {
		profile = managerProfileOf(e.Cluster.Config)
	}
	args := append(installArgs(role, c.K0sDir, tokenFile, !first, profile), e.nodeInstallArgs(r.Step.Host)...)
	after := ""
	if runsKubelet(args) {
		// the wait in the same remote command: one round trip less
		name := e.hostname(r.Step.Host)
		after = nodeReadyScript(e.expand(c.NodeReady, nodeNames([]string{name})), name, c.NodeReadyTimeout)
	}
	opts := []hosts.ExecOption{hosts.WithSudo()}
	if tok != nil {
		opts = append(opts, hosts.WithStdin(bytes.NewReader(tok)))
	}
	_, err := r.Node.Exec(ctx, shell.Sudo(installScript(args, c.K0sDir, tokenFile, tok != nil, c.Ready, check, after)), opts...)
	return err
}

func (e *Env) resetK0s(ctx context.Context, r *plan.Run, removeConfig bool) error {
	_, err := sudo(ctx, r.Node, strings.Replace(resetCmd(e.Commands.K0sDir, removeConfig), "k0s reset", "k0s reset"+e.dataDirFlag(), 1))
	return err
}

// controllerStep writes the k0s configuration and installs a controller:
// the first one starts the cluster, the others join it.
func controllerStep(e *Env, host string, first bool) *plan.Step {
	c := e.Commands
	what := "joins the k0s controllers (token from the first)"
	if first {
		what = "installs and starts the first k0s controller"
	}
	changes := "writes " + c.K0sDir + "/k0s.yaml, " + what
	if first && e.Cluster.Carry != nil {
		changes = what + " on the restored data"
	}
	return &plan.Step{Name: "k0s-controller", Host: host, Phase: PhaseManagers, Changes: changes,
		Do: func(ctx context.Context, r *plan.Run) error {
			// with the carry, k0s restore wrote the first controller's
			// k0s.yaml (from the archive, the same configuration)
			if !first || e.Cluster.Carry == nil {
				cfg, err := e.k0sConfigFor(host)
				if err != nil {
					return err
				}
				if _, err := sudo(ctx, r.Node, mkdirCmd(c.K0sDir)); err != nil {
					return err
				}
				if err := r.Node.Upload(ctx, cfg, c.K0sDir+"/k0s.yaml", 0o600, true); err != nil {
					return err
				}
			}
			// the audit policy and admission configuration the API
			// server's extraArgs name (k0sNodeFiles)
			files, err := e.k0sNodeFilesFor(host)
			if err != nil {
				return err
			}
			if len(files) > 0 {
				if _, err := sudo(ctx, r.Node, mkdirCmd(c.K0sDir)); err != nil {
					return err
				}
			}
			for _, p := range slices.Sorted(maps.Keys(files)) {
				if err := r.Node.Upload(ctx, files[p], p, 0o600, true); err != nil {
					return err
				}
			}
			return e.install(ctx, r, "controller", first)
		},
		Undo: func(ctx context.Context, r *plan.Run) error { return e.resetK0s(ctx, r, true) }}
}

// workerStep joins host as a k0s worker and waits until its Node is
// Ready in the k0s cluster.
func workerStep(e *Env, host string) *plan.Step {
	return &plan.Step{Name: "k0s-worker", Host: host, Phase: PhaseWorkers, Changes: "joins the node as a k0s worker (token from the first controller) and waits until its Node is Ready",
		Do:   func(ctx context.Context, r *plan.Run) error { return e.install(ctx, r, "worker", false) },
		Undo: func(ctx context.Context, r *plan.Run) error { return e.resetK0s(ctx, r, false) }}
}

// joinCheckScript runs check (Commands.JoinCheck, {url} filled in) on a
// joining node before it installs k0s, as k0sctl checks the join API from
// each controller before installing it (phase/install_controllers.go,
// HTTPStatusFunc: any of 200, 401, 404) and the API from each worker
// (phase/install_workers.go). It fails naming what to change: a load
// balancer made for MKE 3 forwards 443 and 6443, not k0s's 9443.
func joinCheckScript(check, url, role string) string {
	what, port := "the k0s join API "+url+" (controller join tokens point at it)", "9443"
	if role == "worker" {
		what, port = "the Kubernetes API "+url+" (worker join tokens point at it)", "6443"
	}
	msg := what + " does not answer from this node: forward port " + port +
		" on the load balancer to the managers, or set the external address (--external-address) to an address that forwards it"
	return "code=$(" + strings.ReplaceAll(check, "{url}", shell.Word(url)) + " 2>/dev/null) || true; case \"$code\" in 200|401|403|404) ;; *) echo " +
		shell.Quote(msg) + " \"(HTTP status: ${code:-none})\" >&2; exit 1;; esac"
}

// loopbackURL reports whether u's host is a loopback address or
// localhost.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
