package upgrade

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// Commands are the remote commands and paths of the upgrade. Where MKE and
// k0s document nothing precise, these are our defaults; every one can be
// replaced. Placeholders: {image} (UCPImage:MKE version), {cluster} (the
// Swarm cluster ID), {node} (the hostnames of the nodes, space-separated).
type Commands struct {
	// UCPImage is the MKE 3 bootstrapper image without its tag.
	UCPImage string
	// Backup writes MKE 3's backup archive to stdout (run on the leader).
	Backup string
	// Uninstall removes MKE 3 (run on the leader); Leave is the fallback on
	// every node when the uninstaller times out (non-leaders first).
	Uninstall, Leave string
	// UninstallTimeoutText in the uninstaller's output means it timed out.
	UninstallTimeoutText string
	// StopContainers are the MKE 3 containers (name prefixes) stopped on a
	// node before k0s takes it over, in this order (the agent first, or it
	// would restart the others); they are started again on rollback.
	StopContainers []string
	// CleanupVolumes are removed from managers after the uninstall.
	CleanupVolumes []string
	// K0sPath is where the k0s binary goes; K0sDir holds its
	// configuration and join token; StateDir the tool's own files on the
	// node (backups, saved binaries).
	K0sPath, K0sDir, StateDir string
	// Drain and Uncordon run on the first controller, once per worker batch
	// with all its nodes.
	Drain, Uncordon string
	// Ready is how long to wait for k0s status after start.
	Ready time.Duration
	// TokenExpiry is the lifetime of the run's join tokens (k0s duration
	// syntax), one per role for all nodes.
	TokenExpiry string
}

func (c Commands) withDefaults() Commands {
	d := Commands{
		UCPImage:             "mirantis/ucp",
		Backup:               "docker run --rm -i --name ucp-backup -v /var/run/docker.sock:/var/run/docker.sock {image} backup --id {cluster} --no-passphrase",
		Uninstall:            "docker run --rm -i --name ucp-uninstall -v /var/run/docker.sock:/var/run/docker.sock {image} uninstall-ucp --id {cluster} --purge-config",
		Leave:                "docker swarm leave --force",
		UninstallTimeoutText: "Uninstalling UCP took too long",
		StopContainers: []string{"ucp-worker-agent", "ucp-kubelet", "ucp-kube-proxy", "ucp-kube-apiserver",
			"ucp-kube-controller-manager", "ucp-kube-scheduler", "ucp-calico-node"},
		CleanupVolumes: []string{"ucp-controller-server-certs"},
		K0sPath:        DefaultK0sBinaryPath,
		K0sDir:         "/etc/k0s",
		StateDir:       "/var/lib/mke-migrate",
		Drain:          "k0s kubectl drain {node} --ignore-daemonsets --delete-emptydir-data --force --timeout=5m",
		Uncordon:       "k0s kubectl uncordon {node}",
		Ready:          2 * time.Minute,
		TokenExpiry:    "2h",
	}
	if c.UCPImage != "" {
		d.UCPImage = c.UCPImage
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&d.Backup, c.Backup)
	set(&d.Uninstall, c.Uninstall)
	set(&d.Leave, c.Leave)
	set(&d.UninstallTimeoutText, c.UninstallTimeoutText)
	set(&d.K0sPath, c.K0sPath)
	set(&d.K0sDir, c.K0sDir)
	set(&d.StateDir, c.StateDir)
	set(&d.Drain, c.Drain)
	set(&d.Uncordon, c.Uncordon)
	set(&d.TokenExpiry, c.TokenExpiry)
	if c.StopContainers != nil {
		d.StopContainers = c.StopContainers
	}
	if c.CleanupVolumes != nil {
		d.CleanupVolumes = c.CleanupVolumes
	}
	if c.Ready > 0 {
		d.Ready = c.Ready
	}
	return d
}

// expand fills the placeholders.
func (sh *Shared) expand(cmd, node string) string {
	return strings.NewReplacer("{image}", sh.opts.Commands.UCPImage+":"+sh.MKEVersion, "{cluster}", sh.ClusterID, "{node}", node).Replace(cmd)
}

// shellWord quotes s for a shell unless it is plainly safe, which keeps
// commands in logs and errors readable.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@") == "" {
		return s
	}
	return sq(s)
}

// sq quotes s for a POSIX shell.
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// sudo runs cmd as root through sh, so redirections are root's too.
func sudo(ctx context.Context, c *hosts.Client, cmd string) (string, error) {
	return c.Exec(ctx, "sh -c "+sq(cmd), hosts.WithSudo())
}

// Plan makes the steps of the upgrade of the cluster Discover found.
func (u *Upgrade) Plan() (*Plan, error) {
	sh := u.shared
	if sh == nil {
		return nil, errors.New("upgrade: Plan before Discover")
	}
	o := &u.o
	p := &Plan{}
	add := func(name string, phase Phase, lanes ...[]*Step) {
		p.Stages = append(p.Stages, &Stage{Name: name, Phase: phase, Lanes: lanes})
	}
	add("Backup", PhaseBackup, []*Step{u.saveInputs(), u.backup()})
	for i, m := range sh.Managers {
		steps := append(u.takeOver(m), u.controller(m, i == 0))
		add(fmt.Sprintf("Manager %d of %d: %s", i+1, len(sh.Managers), m), PhaseManagers, steps)
	}
	for i, batch := range batches(sh.Workers, o.WorkerBatch) {
		// the batch is drained and uncordoned with one command each on the
		// first controller: per worker, those commands queued on the one
		// connection to it
		var lanes [][]*Step
		for _, w := range batch {
			lanes = append(lanes, append(u.takeOver(w), u.worker(w)))
		}
		name := fmt.Sprintf("Workers, batch %d: %d node(s)", i+1, len(batch))
		add(name+": drain", PhaseWorkers, []*Step{u.drain(i+1, batch)})
		add(name, PhaseWorkers, lanes...)
		add(name+": uncordon", PhaseWorkers, []*Step{u.uncordon(i+1, batch)})
	}
	if sh.RBACObjects != nil {
		add("RBAC", PhaseRBAC, []*Step{u.rbacApply()})
	}
	cleanup := [][]*Step{{u.uninstall()}}
	add("MKE 3 cleanup", PhaseCleanup, cleanup...)
	var vols [][]*Step
	for _, m := range sh.Managers {
		vols = append(vols, []*Step{u.volumes(m)})
	}
	add("MKE 3 volumes", PhaseCleanup, vols...)
	add("Output", PhaseOutput, []*Step{u.outputs()})
	return p, p.Validate()
}

// batches cuts workers into groups of pct percent (at least one).
func batches(ws []string, pct int) [][]string {
	n := len(ws) * pct / 100
	if n < 1 {
		n = 1
	}
	var out [][]string
	for len(ws) > 0 {
		k := min(n, len(ws))
		out = append(out, ws[:k])
		ws = ws[k:]
	}
	return out
}

func (u *Upgrade) node(host string) string { return u.shared.Facts[host].Hostname }

// saveInputs keeps what the upgrade starts from in the output directory.
func (u *Upgrade) saveInputs() *Step {
	sh := u.shared
	return &Step{Name: "save-inputs", Phase: PhaseBackup, Changes: "writes mke3.toml, mke4.yaml (preview) and the RBAC export to the output directory",
		Do: func(ctx context.Context, r *Run) error {
			files := map[string][]byte{"mke3.toml": sh.MKE3TOML}
			y, err := mke4.Marshal(*sh.Config)
			if err != nil {
				return err
			}
			files["mke4.yaml"] = y
			if sh.RBACModel != nil {
				if files["rbac-export.json"], err = rbac.EncodeExport(sh.RBACModel); err != nil {
					return err
				}
			}
			for name, b := range files {
				if err := atomicfile.WriteFile(filepath.Join(u.o.OutputDir, name), b, 0o600); err != nil {
					return err
				}
			}
			return nil
		}}
}

// backup copies MKE 3's own backup archive to the output directory,
// checked against its SHA-256 on the node.
func (u *Upgrade) backup() *Step {
	sh := u.shared
	remote := strings.TrimRight(u.o.Commands.StateDir, "/") + "/mke3-backup.tar"
	q := sq(remote)
	return &Step{Name: "mke3-backup", Host: sh.Leader, Phase: PhaseBackup,
		Changes: "takes MKE 3's backup archive on the leader and copies it to the output directory",
		Do: func(ctx context.Context, r *Run) error {
			cmd := fmt.Sprintf("mkdir -p %s && %s > %s.part && mv %s.part %s && sha256sum %s",
				sq(u.o.Commands.StateDir), sh.expand(u.o.Commands.Backup, ""), q, q, q, q)
			out, err := sudo(ctx, r.Client, cmd)
			if err != nil {
				return err
			}
			want, _, _ := strings.Cut(out, " ")
			data, err := r.Client.ReadFile(ctx, remote, true)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != want {
				return fmt.Errorf("backup copy is corrupt: SHA-256 %s on the node, %s here", want, got)
			}
			local := filepath.Join(u.o.OutputDir, "mke3-backup.tar")
			if err := atomicfile.WriteFile(local, data, 0o600); err != nil {
				return err
			}
			r.Set("sha256", want)
			r.Set("file", local)
			return nil
		},
		// the local copy stays: it is the way back if all else fails
		Undo: func(ctx context.Context, r *Run) error {
			_, err := sudo(ctx, r.Client, fmt.Sprintf("rm -f %s %s.part; rmdir %s 2>/dev/null; true", q, q, sq(u.o.Commands.StateDir)))
			return err
		}}
}

func path(dir, name string) string { return sq(strings.TrimRight(dir, "/") + "/" + name) }

// takeOver are the steps that give a node to k0s: stop MKE 3's
// Kubernetes, install the k0s binary and (managers) its configuration.
func (u *Upgrade) takeOver(host string) []*Step {
	c := u.o.Commands
	steps := []*Step{{
		Name: "mke3-stop", Host: host, Phase: PhaseManagers,
		Changes: "stops MKE 3's agent, kubelet, kube-proxy, Kubernetes control plane and calico-node containers",
		Do: func(ctx context.Context, r *Run) error {
			out, err := sudo(ctx, r.Client, "docker ps --filter name=ucp- --format '{{.Names}}'")
			if err != nil {
				return err
			}
			running := strings.Fields(out)
			var stop []string
			for _, prefix := range c.StopContainers {
				for _, n := range running {
					if strings.HasPrefix(n, prefix) && !slices.Contains(stop, n) {
						stop = append(stop, n)
					}
				}
			}
			// merge with an earlier, interrupted try: those are stopped already
			if prev := r.Get("stopped"); prev != "" {
				for _, n := range strings.Split(prev, ",") {
					if !slices.Contains(stop, n) {
						stop = append(stop, n)
					}
				}
			}
			r.Set("stopped", strings.Join(stop, ","))
			if len(stop) == 0 {
				return nil
			}
			_, err = sudo(ctx, r.Client, "docker stop "+strings.Join(stop, " "))
			return err
		},
		Undo: func(ctx context.Context, r *Run) error {
			names := strings.Split(r.Get("stopped"), ",")
			if r.Get("stopped") == "" {
				return nil
			}
			slices.Reverse(names)
			if _, err := sudo(ctx, r.Client, "docker start "+strings.Join(names, " ")); err != nil {
				return err
			}
			// MKE 3 is back when its containers run again
			var missing []string
			err := waitFor(ctx, c.Ready, func() bool {
				out, err := sudo(ctx, r.Client, "docker ps --filter status=running --format '{{.Names}}'")
				if err != nil {
					return false
				}
				running := strings.Fields(out)
				missing = missing[:0]
				for _, n := range names {
					if !slices.Contains(running, n) {
						missing = append(missing, n)
					}
				}
				return len(missing) == 0
			})
			if err != nil {
				return fmt.Errorf("MKE 3 containers not running again (%s): %w", strings.Join(missing, ", "), err)
			}
			return nil
		},
	}, {
		Name: "k0s-binary", Host: host, Phase: PhaseManagers,
		Changes: "installs the k0s binary at " + c.K0sPath + " (an existing file is saved)",
		Do: func(ctx context.Context, r *Run) error {
			saved := path(c.StateDir, "k0s.orig")
			if r.Get("saved") == "" {
				out, err := sudo(ctx, r.Client, fmt.Sprintf("mkdir -p %s; if [ -e %s ] || [ -L %s ]; then [ -e %s ] || [ -L %s ] || cp -P %s %s; echo saved; else echo none; fi",
					sq(c.StateDir), sq(c.K0sPath), sq(c.K0sPath), saved, saved, sq(c.K0sPath), saved))
				if err != nil {
					return err
				}
				r.Set("saved", out)
			}
			return r.Client.Upload(ctx, u.o.K0sBinary, c.K0sPath, 0o755, true)
		},
		// A saved original goes back. Without one, the binary is removed
		// only when Do recorded that there was none: a Do cut off before
		// it looked must not cost the node its k0s.
		Undo: func(ctx context.Context, r *Run) error {
			saved := path(c.StateDir, "k0s.orig")
			cmd := fmt.Sprintf("if [ -e %s ] || [ -L %s ]; then rm -f %s && mv %s %s", saved, saved, sq(c.K0sPath), saved, sq(c.K0sPath))
			if r.Get("saved") == "none" {
				cmd += "; else rm -f " + sq(c.K0sPath)
			}
			_, err := sudo(ctx, r.Client, cmd+"; fi; rmdir "+sq(c.StateDir)+" 2>/dev/null; true")
			return err
		},
	}}
	return steps
}

// k0sInstalled is a shell test: k0s installed its service (enabled or
// not). systemctl is-enabled prints enabled or disabled for a unit that
// exists and fails for one that does not.
const k0sInstalled = "{ systemctl is-enabled k0scontroller.service 2>/dev/null; systemctl is-enabled k0sworker.service 2>/dev/null; } | grep -q abled"

// joinToken returns the run's join token for role, made on the leader the
// first time it is needed. k0s join tokens are not single-use, so one per
// role serves every node of the run; it expires with TokenExpiry. It
// travels only in memory and over stdin, never in argv, logs or the
// journal, and exists on a node only while k0s install reads it.
func (u *Upgrade) joinToken(ctx context.Context, role string) ([]byte, error) {
	u.tokenMu.Lock()
	defer u.tokenMu.Unlock()
	if tok := u.tokens[role]; tok != nil {
		return tok, nil
	}
	leader, err := u.clients.get(ctx, u.shared.Leader)
	if err != nil {
		return nil, err
	}
	tok, err := sudo(ctx, leader, fmt.Sprintf("k0s token create --role %s --expiry %s", role, u.o.Commands.TokenExpiry))
	if err != nil {
		return nil, fmt.Errorf("create a %s join token on the leader: %w", role, err)
	}
	if u.tokens == nil {
		u.tokens = map[string][]byte{}
	}
	u.tokens[role] = []byte(tok + "\n")
	return u.tokens[role], nil
}

// install installs and starts k0s unless it runs already, and waits for
// k0s status, in one remote command: the join token (made on the leader)
// arrives on stdin, lives in a 0600 file only while k0s install reads it,
// and is removed on every exit.
func (u *Upgrade) install(ctx context.Context, r *Run, role string, first bool) error {
	c := u.o.Commands
	tokenFile := c.K0sDir + "/join-token"
	args := []string{"k0s", "install", role}
	if role == "controller" {
		args = append(args, "-c", c.K0sDir+"/k0s.yaml", "--enable-worker")
	}
	var tok []byte
	if !first {
		var err error
		if tok, err = u.joinToken(ctx, role); err != nil {
			return err
		}
		args = append(args, "--token-file", tokenFile)
	}
	if p := u.shared.Profiles[r.Step.Host]; p != "" {
		args = append(args, "--profile="+p)
	}
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, shellWord(a))
	}
	tries := int(c.Ready/(200*time.Millisecond)) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nT=%s\ntrap 'rm -f \"$T\"' EXIT\n", sq(tokenFile))
	b.WriteString("if k0s status >/dev/null 2>&1; then exit 0; fi\n")
	fmt.Fprintf(&b, "mkdir -p %s\n", sq(c.K0sDir))
	if tok != nil {
		b.WriteString("(umask 077; cat > \"$T\")\n")
	}
	// an install that fails because k0s is installed was done by an
	// interrupted earlier try
	fmt.Fprintf(&b, "%s || %s\n", strings.Join(quoted, " "), k0sInstalled)
	b.WriteString("k0s start\n")
	fmt.Fprintf(&b, "i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge %d ]; then echo 'k0s did not become ready after %v' >&2; exit 1; fi; sleep 0.2; done\n", tries, c.Ready)
	opts := []hosts.ExecOption{hosts.WithSudo()}
	if tok != nil {
		opts = append(opts, hosts.WithStdin(bytes.NewReader(tok)))
	}
	_, err := r.Client.Exec(ctx, "sh -c "+sq(b.String()), opts...)
	return err
}

func waitFor(ctx context.Context, limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// resetK0s is the undo of a k0s install: stop, reset, remove its files.
func (u *Upgrade) resetK0s(ctx context.Context, r *Run, removeConfig bool) error {
	c := u.o.Commands
	cmd := "if command -v k0s >/dev/null 2>&1 && " + k0sInstalled + "; then k0s stop >/dev/null 2>&1; k0s reset; fi; rm -f " + sq(c.K0sDir+"/join-token")
	if removeConfig {
		cmd += " " + sq(c.K0sDir+"/k0s.yaml")
	}
	cmd += "; rmdir " + sq(c.K0sDir) + " 2>/dev/null; true"
	_, err := sudo(ctx, r.Client, cmd)
	return err
}

func (u *Upgrade) controller(host string, first bool) *Step {
	c := u.o.Commands
	what := "joins the k0s controllers (token from the first)"
	if first {
		what = "installs and starts the first k0s controller"
	}
	return &Step{Name: "k0s-controller", Host: host, Phase: PhaseManagers, Changes: "writes " + c.K0sDir + "/k0s.yaml, " + what,
		Do: func(ctx context.Context, r *Run) error {
			if _, err := sudo(ctx, r.Client, "mkdir -p "+sq(c.K0sDir)); err != nil {
				return err
			}
			if err := r.Client.Upload(ctx, u.shared.K0sConfig, c.K0sDir+"/k0s.yaml", 0o600, true); err != nil {
				return err
			}
			return u.install(ctx, r, "controller", first)
		},
		Undo: func(ctx context.Context, r *Run) error { return u.resetK0s(ctx, r, true) }}
}

func (u *Upgrade) worker(host string) *Step {
	return &Step{Name: "k0s-worker", Host: host, Phase: PhaseWorkers, Changes: "joins the node as a k0s worker (token from the first controller)",
		Do:   func(ctx context.Context, r *Run) error { return u.install(ctx, r, "worker", false) },
		Undo: func(ctx context.Context, r *Run) error { return u.resetK0s(ctx, r, false) }}
}

// onLeader runs a command on the first controller.
func (u *Upgrade) onLeader(ctx context.Context, cmd string) error {
	c, err := u.clients.get(ctx, u.shared.Leader)
	if err != nil {
		return err
	}
	_, err = sudo(ctx, c, cmd)
	return err
}

// nodes are the Kubernetes node names of hosts, for one kubectl call.
func (u *Upgrade) nodes(hs []string) string {
	var ns []string
	for _, h := range hs {
		ns = append(ns, shellWord(u.node(h)))
	}
	return strings.Join(ns, " ")
}

func (u *Upgrade) drain(batch int, hs []string) *Step {
	nodes := u.nodes(hs)
	return &Step{Name: fmt.Sprintf("drain-batch-%d", batch), Phase: PhaseWorkers, Changes: "cordons and drains " + nodes + " (on the first controller)",
		Do: func(ctx context.Context, r *Run) error {
			return u.onLeader(ctx, u.shared.expand(u.o.Commands.Drain, nodes))
		},
		Undo: func(ctx context.Context, r *Run) error {
			return u.onLeader(ctx, u.shared.expand(u.o.Commands.Uncordon, nodes))
		}}
}

func (u *Upgrade) uncordon(batch int, hs []string) *Step {
	nodes := u.nodes(hs)
	return &Step{Name: fmt.Sprintf("uncordon-batch-%d", batch), Phase: PhaseWorkers, Changes: "uncordons " + nodes + " (on the first controller)",
		Do: func(ctx context.Context, r *Run) error {
			return u.onLeader(ctx, u.shared.expand(u.o.Commands.Uncordon, nodes))
		}}
}

// adminKubeconfig reads the admin kubeconfig from the first controller,
// pointed at the external address.
func (u *Upgrade) adminKubeconfig(ctx context.Context) ([]byte, error) {
	c, err := u.clients.get(ctx, u.shared.Leader)
	if err != nil {
		return nil, err
	}
	out, err := sudo(ctx, c, "k0s kubeconfig admin")
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.Load([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("k0s kubeconfig admin: not a kubeconfig")
	}
	if a := u.o.ExternalAddress; a != "" {
		for _, cl := range cfg.Clusters {
			cl.Server = "https://" + a + ":6443"
		}
	}
	return clientcmd.Write(*cfg)
}

func (u *Upgrade) kubeClient(ctx context.Context) (kubernetes.Interface, error) {
	kc, err := u.adminKubeconfig(ctx)
	if err != nil {
		return nil, err
	}
	if u.o.KubeClient != nil {
		return u.o.KubeClient(ctx, kc)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

func (u *Upgrade) rbacApply() *Step {
	objs := u.shared.RBACObjects
	return &Step{Name: "rbac-apply", Phase: PhaseRBAC,
		Changes: fmt.Sprintf("applies %d RBAC objects (orgs, teams, memberships, grants) to the new cluster", objs.Len()),
		Do: func(ctx context.Context, r *Run) error {
			cs, err := u.kubeClient(ctx)
			if err != nil {
				return err
			}
			res, err := kube.Apply(ctx, cs, objs, kube.ApplyOptions{Logger: r.Logger})
			// what was created, even on failure, so that Undo removes it
			created := res.Created
			if prev := r.Get("created"); prev != "" {
				var old []rbac.Ref
				if json.Unmarshal([]byte(prev), &old) == nil {
					created = append(old, created...)
				}
			}
			b, _ := json.Marshal(created)
			r.Set("created", string(b))
			return err
		},
		Undo: func(ctx context.Context, r *Run) error {
			var created []rbac.Ref
			if s := r.Get("created"); s != "" {
				if err := json.Unmarshal([]byte(s), &created); err != nil {
					return fmt.Errorf("journal: created objects: %w", err)
				}
			}
			if len(created) == 0 {
				return nil
			}
			cs, err := u.kubeClient(ctx)
			if err != nil {
				return err
			}
			_, err = kube.Delete(ctx, cs, rbac.Select(objs, created), kube.DeleteOptions{Logger: r.Logger})
			return err
		}}
}

// uninstall removes MKE 3: the point of no return.
func (u *Upgrade) uninstall() *Step {
	sh := u.shared
	c := u.o.Commands
	return &Step{Name: "mke3-uninstall", Host: sh.Leader, Phase: PhaseCleanup, PointOfNoReturn: true,
		Changes: "uninstalls MKE " + sh.MKEVersion + " (uninstall-ucp; on timeout, every node leaves the Swarm)",
		Do: func(ctx context.Context, r *Run) error {
			// the output is needed whatever the exit status: the timeout
			// is told only there
			out, err := sudo(ctx, r.Client, sh.expand(c.Uninstall, "")+` 2>&1; echo "mke-migrate-exit=$?"`)
			if err != nil {
				return err
			}
			body, status, _ := strings.Cut(out, "mke-migrate-exit=")
			if strings.Contains(body, c.UninstallTimeoutText) {
				r.Logger.Warn("uninstall-ucp timed out; every node leaves the Swarm instead")
			} else if strings.TrimSpace(status) != "0" {
				return fmt.Errorf("uninstall-ucp failed (exit %s): %s", strings.TrimSpace(status), lastLines(body, 5))
			} else {
				return nil
			}
			var errs []error
			for _, h := range append(slices.Clone(sh.Workers), sh.Managers[1:]...) {
				hc, err := u.clients.get(ctx, h)
				if err == nil {
					_, err = sudo(ctx, hc, c.Leave)
				}
				if err != nil {
					r.Logger.Warn("swarm leave", "host", h, "err", err)
				}
			}
			if _, err := sudo(ctx, r.Client, c.Leave); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}}
}

// lastLines is the end of a command's output, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (u *Upgrade) volumes(host string) *Step {
	c := u.o.Commands
	return &Step{Name: "mke3-volumes", Host: host, Phase: PhaseCleanup, Changes: "removes MKE 3 volumes " + strings.Join(c.CleanupVolumes, ", "),
		Do: func(ctx context.Context, r *Run) error {
			if len(c.CleanupVolumes) == 0 {
				return nil
			}
			_, err := sudo(ctx, r.Client, "docker volume rm --force "+strings.Join(c.CleanupVolumes, " "))
			return err
		}}
}

// outputs writes mke4.yaml and the admin kubeconfig.
func (u *Upgrade) outputs() *Step {
	return &Step{Name: "write-outputs", Phase: PhaseOutput, Changes: "writes mke4.yaml and the admin kubeconfig (" + u.o.KubeconfigPath + ")",
		Do: func(ctx context.Context, r *Run) error {
			y, err := mke4.Marshal(*u.shared.Config)
			if err != nil {
				return err
			}
			for _, p := range []string{filepath.Join(u.o.OutputDir, "mke4.yaml"), u.o.ConfigOut} {
				if p == "" {
					continue
				}
				if err := atomicfile.WriteFile(p, y, 0o600); err != nil {
					return err
				}
			}
			kc, err := u.adminKubeconfig(ctx)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(u.o.KubeconfigPath), 0o700); err != nil {
				return err
			}
			return atomicfile.WriteFile(u.o.KubeconfigPath, kc, 0o600)
		}}
}

// k0sConfig derives the k0s ClusterConfig of the controllers from
// mke4.yaml: what k0s itself reads (API address and SANs, networking).
// The rest of mke4.yaml is MKE 4k's, applied by its operator.
func k0sConfig(c *mke4.MkeConfig) ([]byte, error) {
	spec := map[string]any{}
	api := map[string]any{}
	if a := c.Spec.APIServer.ExternalAddress; a != "" {
		api["externalAddress"] = a
	}
	if len(c.Spec.APIServer.SANs) > 0 {
		api["sans"] = c.Spec.APIServer.SANs
	}
	if len(api) > 0 {
		spec["api"] = api
	}
	network := map[string]any{"provider": "custom"} // MKE 4k installs Calico itself
	if c.Spec.Network.ServiceCIDR != "" {
		network["serviceCIDR"] = c.Spec.Network.ServiceCIDR
	}
	for _, p := range c.Spec.Network.Providers {
		if p.Enabled {
			if cidr, ok := p.ExtraConfig["cidrV4"]; ok {
				network["podCIDR"] = cidr
			}
		}
	}
	if m := c.Spec.Network.KubeProxy.Mode; m != "" {
		network["kubeProxy"] = map[string]any{"mode": m}
	}
	spec["network"] = network
	doc := map[string]any{"apiVersion": "k0s.k0sproject.io/v1beta1", "kind": "ClusterConfig",
		"metadata": map[string]any{"name": "k0s"}, "spec": spec}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("upgrade: k0s configuration: %w", err)
	}
	return bytes.TrimSpace(b), nil
}
