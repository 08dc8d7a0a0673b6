package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// The data carry moves MKE 3's etcd v3 data (every Kubernetes object) into
// k0s: with MKE 3's API servers stopped on every manager, a snapshot of
// ucp-kv is taken on the leader, verified, and packed with MKE 3's
// service-account keys and the k0s configuration into an archive in k0s's
// backup format, which k0s restore turns into the first controller's etcd
// and PKI before k0s install controller. MKE 3's etcd is only read:
// a rollback needs no restore. docs/carry.md gives the choices.

// CarryOptions change the data carry.
type CarryOptions struct {
	// Skip installs k0s with an empty etcd: every Kubernetes object of
	// MKE 3 is lost. For clusters whose objects are recreated from
	// elsewhere (GitOps) and for test beds without ucp-kv.
	Skip bool
	// EtcdPrefix overrides the key prefix read from ucp-kube-apiserver's
	// --etcd-prefix (default /registry, as the kube-apiserver's).
	EtcdPrefix string
	// Issuer overrides the service-account issuer read from
	// ucp-kube-apiserver's --service-account-issuer.
	Issuer string
	// SAPublicKeys override the files (on the leader) of the
	// service-account public keys read from ucp-kube-apiserver's
	// --service-account-key-file: k0s's sa.pub is readable by all, so
	// these must hold public keys or certificates only.
	SAPublicKeys []string
}

// Carry is what Discover read from MKE 3's containers on the leader for
// the data carry; the paths are on the leader's file system.
type Carry struct {
	// KVImage is ucp-kv's image: the snapshot runs etcdctl and etcdutl
	// from it, so an air-gapped node has it already.
	KVImage string `json:"kvImage"`
	// EtcdPrefix is the apiserver's etcd key prefix.
	EtcdPrefix string `json:"etcdPrefix"`
	// Issuer is the apiserver's first --service-account-issuer, if set.
	Issuer string `json:"issuer,omitempty"`
	// SAPublicKeys are the files of the apiserver's
	// --service-account-key-file (one or more), SASigningKey the
	// controller manager's --service-account-private-key-file.
	SAPublicKeys []string `json:"saPublicKeys"`
	SASigningKey string   `json:"saSigningKey"`
}

// DefaultEtcdPrefix is the kube-apiserver's default --etcd-prefix, and
// the one k0s's API server uses.
const DefaultEtcdPrefix = "/registry"

// k0sIssuer is the service-account issuer k0s gives its API server (k0s
// pkg/component/controller/apiserver.go at v1.33.9+k0s.0).
const k0sIssuer = "https://kubernetes.default.svc"

// Names of MKE 3's containers the carry reads (MKE 3.8 manager
// components).
const (
	apiserverContainer = "ucp-kube-apiserver"
	kcmContainer       = "ucp-kube-controller-manager"
	kvContainer        = "ucp-kv"
)

// inspectedContainer is the part of docker inspect's output the carry
// reads (Docker Engine API ContainerInspect: Name, Args, Config.Image,
// Mounts with Source on the host and Destination in the container).
type inspectedContainer struct {
	Name   string   `json:"Name"`
	Path   string   `json:"Path"`
	Args   []string `json:"Args"`
	Config struct {
		Image string   `json:"Image"`
		Cmd   []string `json:"Cmd"`
	} `json:"Config"`
	Mounts []struct {
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
	} `json:"Mounts"`
}

// flagValues are the values of a --name flag in args, in order, written
// --name=value or --name value.
func flagValues(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			out = append(out, v)
		} else if a == "--"+name && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// hostPath is the path on the host of p in the container: through the
// bind or volume mount with the longest destination holding p.
func (c *inspectedContainer) hostPath(p string) (string, bool) {
	p = path.Clean(p)
	best, found := -1, ""
	for _, m := range c.Mounts {
		d := path.Clean(m.Destination)
		if m.Source == "" || (p != d && !strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/")) {
			continue
		}
		if len(d) > best {
			best, found = len(d), path.Join(m.Source, strings.TrimPrefix(p, d))
		}
	}
	return found, best >= 0
}

// CarryError says why MKE 3's data cannot be carried as it is.
type CarryError struct {
	Host   string
	Reason string
	Remedy string
}

func (e *CarryError) Error() string {
	return fmt.Sprintf("carry MKE 3's Kubernetes data (%s): %s", e.Host, e.Reason)
}

// parseCarry reads the carry's facts from the output of docker inspect of
// the apiserver, the controller manager and ucp-kv (a JSON array).
func parseCarry(out []byte, host string, o CarryOptions) (*Carry, error) {
	var cs []inspectedContainer
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, &CarryError{Host: host, Reason: "docker inspect: " + err.Error(), Remedy: "check that docker inspect " + apiserverContainer + " works on the leader"}
	}
	byName := map[string]*inspectedContainer{}
	for i := range cs {
		byName[strings.TrimPrefix(cs[i].Name, "/")] = &cs[i]
	}
	missing := func(n string) error {
		return &CarryError{Host: host, Reason: "no " + n + " container on the leader", Remedy: "run the upgrade from a healthy MKE 3 cluster (every manager runs " + n + ")"}
	}
	api, kcm, kv := byName[apiserverContainer], byName[kcmContainer], byName[kvContainer]
	switch {
	case api == nil:
		return nil, missing(apiserverContainer)
	case kcm == nil:
		return nil, missing(kcmContainer)
	case kv == nil:
		return nil, missing(kvContainer)
	}
	// the kube-apiserver's flags may follow the image's entrypoint in
	// Path and Args, or be the whole Cmd
	apiArgs := append(append([]string{api.Path}, api.Args...), api.Config.Cmd...)
	kcmArgs := append(append([]string{kcm.Path}, kcm.Args...), kcm.Config.Cmd...)
	if v := flagValues(apiArgs, "encryption-provider-config"); len(v) > 0 {
		return nil, &CarryError{Host: host,
			Reason: "ucp-kube-apiserver encrypts resources at rest (--encryption-provider-config): k0s would read ciphertext it has no key for",
			Remedy: "turn encryption at rest off in MKE 3 and rewrite the encrypted resources (kubectl get secrets -A -o json | kubectl replace -f -) before the upgrade, or upgrade with the carry skipped"}
	}
	c := &Carry{KVImage: kv.Config.Image, EtcdPrefix: DefaultEtcdPrefix}
	if v := flagValues(apiArgs, "etcd-prefix"); len(v) > 0 && v[len(v)-1] != "" {
		c.EtcdPrefix = v[len(v)-1]
	}
	if v := flagValues(apiArgs, "service-account-issuer"); len(v) > 0 {
		c.Issuer = v[0]
	}
	if o.EtcdPrefix != "" {
		c.EtcdPrefix = o.EtcdPrefix
	}
	if o.Issuer != "" {
		c.Issuer = o.Issuer
	}
	if c.KVImage == "" {
		return nil, &CarryError{Host: host, Reason: "ucp-kv has no image", Remedy: "check docker inspect ucp-kv on the leader"}
	}
	for _, p := range flagValues(apiArgs, "service-account-key-file") {
		hp, ok := api.hostPath(p)
		if !ok {
			return nil, &CarryError{Host: host, Reason: fmt.Sprintf("ucp-kube-apiserver's --service-account-key-file %s is in no mount of the container", p), Remedy: "check docker inspect ucp-kube-apiserver on the leader"}
		}
		c.SAPublicKeys = append(c.SAPublicKeys, hp)
	}
	if len(o.SAPublicKeys) > 0 {
		c.SAPublicKeys = o.SAPublicKeys
	}
	keys := flagValues(kcmArgs, "service-account-private-key-file")
	if len(c.SAPublicKeys) == 0 || len(keys) == 0 {
		return nil, &CarryError{Host: host,
			Reason: "MKE 3's service-account keys are not named by ucp-kube-apiserver (--service-account-key-file) and ucp-kube-controller-manager (--service-account-private-key-file)",
			Remedy: "check docker inspect of both on the leader; without MKE 3's keys the service-account tokens of the cluster would stop working"}
	}
	hp, ok := kcm.hostPath(keys[len(keys)-1])
	if !ok {
		return nil, &CarryError{Host: host, Reason: fmt.Sprintf("ucp-kube-controller-manager's --service-account-private-key-file %s is in no mount of the container", keys[len(keys)-1]), Remedy: "check docker inspect ucp-kube-controller-manager on the leader"}
	}
	c.SASigningKey = hp
	return c, nil
}

// discoverCarry reads the carry's facts on the leader; a cluster whose
// data cannot be carried gets a blocker.
func (u *Upgrade) discoverCarry(ctx context.Context, sh *Shared) (*preflight.Result, error) {
	c, err := u.clients.get(ctx, sh.Leader)
	if err != nil {
		return nil, fmt.Errorf("upgrade: carry: %w", err)
	}
	out, err := c.Exec(ctx, shell.Sudo(u.o.Commands.Inspect), hosts.WithSudo())
	if err != nil {
		return nil, fmt.Errorf("upgrade: carry: %s: %w", sh.Leader, err)
	}
	carry, err := parseCarry([]byte(out), sh.Leader, u.o.Carry)
	var ce *CarryError
	if errors.As(err, &ce) {
		return &preflight.Result{ID: "mke3-data-carry", Severity: preflight.Blocker, Host: ce.Host, Message: ce.Reason, Remedy: ce.Remedy}, nil
	}
	if err != nil {
		return nil, err
	}
	sh.Carry = carry
	return nil, nil
}

// carryDir is the leader's folder of the carry (0700): the snapshot and
// the archive hold every Secret of the cluster and MKE 3's signing key.
func carryDir(stateDir string) string { return strings.TrimRight(stateDir, "/") + "/carry" }

// carryArchive is the archive k0s restore reads.
func carryArchive(stateDir string) string { return carryDir(stateDir) + "/k0s-carry.tar.gz" }

// expandCarry fills {image} (ucp-kv's) and {dir} (the folder the
// snapshot is written to, mounted at /backup) of a carry command.
func expandCarry(cmd, image, dir string) string {
	return strings.NewReplacer("{image}", shell.Word(image), "{dir}", shell.Quote(dir)).Replace(cmd)
}

// snapshotScript takes the snapshot with snapshot (expanded), checks it
// with status (expanded), and packs it with the service-account keys and
// the k0s configuration (read from stdin) into the archive, in k0s's
// backup layout (k0s pkg/backup at v1.33.9+k0s.0: etcd-snapshot.db at
// the top, pki/ relative to the data directory, k0s.yaml at the top;
// a gzipped tar). The keys are copied by cat, never printed; everything is
// 0600 (umask 077) in a 0700 folder, but in the archive pki/ is 0751,
// sa.key 0640 and sa.pub 0644 as k0s makes them (pkg/constant,
// certificate.Manager.CreateKeyPair, which keeps an existing pair and only
// hands sa.key to the API server's user), so sa.pub must hold no private
// key. It prints the snapshot's status and
// then the archive's SHA-256 line, which it also keeps next to the
// archive for the restore to check.
func snapshotScript(stateDir string, c *Carry, snapshot, status string) string {
	d := carryDir(stateDir)
	a := d + "/archive"
	q := shell.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\numask 077\nmkdir -p %s\nchmod 700 %s\nrm -rf %s\nmkdir -p %s\nchmod 700 %s\n", q(stateDir), q(stateDir), q(d), q(a+"/pki"), q(d))
	fmt.Fprintf(&b, "cat > %s\n", q(a+"/k0s.yaml"))
	fmt.Fprintf(&b, "cat %s > %s\n", q(c.SASigningKey), q(a+"/pki/sa.key"))
	fmt.Fprintf(&b, "cat %s > %s\n", shell.Join(c.SAPublicKeys...), q(a+"/pki/sa.pub"))
	fmt.Fprintf(&b, "if grep -q 'PRIVATE KEY' %s; then echo %s >&2; exit 1; fi\n", q(a+"/pki/sa.pub"),
		q("ucp-kube-apiserver's --service-account-key-file holds a private key: k0s keeps sa.pub readable by all (0644); give the public keys' files in Options.Carry.SAPublicKeys"))
	fmt.Fprintf(&b, "chmod 751 %s\nchmod 640 %s\nchmod 644 %s\n", q(a+"/pki"), q(a+"/pki/sa.key"), q(a+"/pki/sa.pub"))
	// etcdctl reports "Snapshot saved at …" on stdout: to stderr, so that
	// stdout is the status and the sum
	fmt.Fprintf(&b, "%s >&2\n", expandCarry(snapshot, c.KVImage, a))
	fmt.Fprintf(&b, "%s > %s\n", expandCarry(status, c.KVImage, a), q(d+"/status.json"))
	fmt.Fprintf(&b, "tar -C %s -czf %s.part etcd-snapshot.db pki k0s.yaml\n", q(a), q(carryArchive(stateDir)))
	fmt.Fprintf(&b, "mv %s.part %s\nrm -rf %s\n", q(carryArchive(stateDir)), q(carryArchive(stateDir)), q(a))
	fmt.Fprintf(&b, "sha256sum %s > %s.sha256\n", q(carryArchive(stateDir)), q(carryArchive(stateDir)))
	fmt.Fprintf(&b, "cat %s %s.sha256\nrm -f %s", q(d+"/status.json"), q(carryArchive(stateDir)), q(d+"/status.json"))
	return b.String()
}

// carryRemoveCmd removes the carry's folder, and the state folder if
// nothing else is in it. A folder rm -rf cannot remove fails the command,
// naming it: it holds MKE 3's service-account keys and etcd data (GNU rm
// exits 1 when a file stays, -f or not: -f only ignores missing ones).
func carryRemoveCmd(stateDir string) string {
	d := carryDir(stateDir)
	return fmt.Sprintf("rm -rf %s || { echo %s >&2; exit 1; }; rmdir %s 2>/dev/null; true", shell.Quote(d),
		shell.Quote("the carry folder "+d+" (MKE 3's service-account keys and etcd data) could not be removed: remove it by hand"), shell.Quote(stateDir))
}

// snapshotStatus is etcdutl snapshot status -w json's output (etcdutl
// snapshot/v3_snapshot.go Status: hash, revision, totalKey, totalSize).
type snapshotStatus struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int    `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
}

// parseSnapshotOutput reads snapshotScript's output: the status JSON and
// the archive's SHA-256 line.
func parseSnapshotOutput(out string) (snapshotStatus, string, error) {
	var st snapshotStatus
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return st, "", fmt.Errorf("snapshot: unexpected output %q", out)
	}
	sum, _, _ := strings.Cut(lines[len(lines)-1], " ")
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return st, "", fmt.Errorf("snapshot: no SHA-256 of the archive in %q", lines[len(lines)-1])
	}
	js := strings.Join(lines[:len(lines)-1], "\n")
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		return st, "", fmt.Errorf("snapshot status: %w", err)
	}
	if st.TotalKey <= 0 || st.TotalSize <= 0 {
		return st, "", fmt.Errorf("snapshot status: the snapshot holds no keys (%d keys, %d bytes): refusing to start k0s from it", st.TotalKey, st.TotalSize)
	}
	return st, sum, nil
}

// restoreScript restores the archive into the first controller's data
// directory and writes its k0s.yaml to k0sDir, after checking the archive
// against the SHA-256 the snapshot step kept. Already installed: done by an
// earlier try. A restore cut off earlier left a partial data directory,
// which k0s restore refuses (etcdutl: "data-dir not empty"), so it is
// removed first: only what a restore writes (etcd and pki), on a node the
// preflight found without k0s.
func restoreScript(k0sDir, dataDir, archive string) string {
	q := shell.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nif %s; then exit 0; fi\n", k0sInstalled)
	fmt.Fprintf(&b, "sha256sum -c --status %s.sha256 || { echo 'the carry archive is damaged or missing: roll back and run the upgrade again' >&2; exit 1; }\n", q(archive))
	fmt.Fprintf(&b, "rm -rf %s %s\nmkdir -p %s\n", q(dataDir+"/etcd"), q(dataDir+"/pki"), q(k0sDir))
	fmt.Fprintf(&b, "k0s restore --config-out %s %s", q(k0sDir+"/k0s.yaml"), q(archive))
	return b.String()
}

// unrestoreCmd undoes a restore on a node where k0s was not installed
// (once installed, the controller step's k0s reset removed it all).
func unrestoreCmd(k0sDir, dataDir string) string {
	q := shell.Quote
	return fmt.Sprintf("if %s; then exit 0; fi; rm -rf %s %s; rm -f %s; rmdir %s %s 2>/dev/null; true",
		k0sInstalled, q(dataDir+"/etcd"), q(dataDir+"/pki"), q(k0sDir+"/k0s.yaml"), q(dataDir), q(k0sDir))
}

// carryStopStages stop MKE 3's Kubernetes on every manager at once (the
// API servers first of all: no write reaches ucp-kv after the snapshot),
// one lane per manager.
func carryStopStage(e *Env) *plan.Stage {
	var lanes [][]*plan.Step
	for _, m := range e.Cluster.Managers {
		s := stopStep(e, m)
		s.Phase = PhaseMigrate
		lanes = append(lanes, []*plan.Step{s})
	}
	return &plan.Stage{Name: "Carry: stop MKE 3's Kubernetes on every manager", Phase: PhaseMigrate, Lanes: lanes}
}

// snapshotStep takes the snapshot of ucp-kv on the leader and builds the
// archive k0s restore reads. It only reads MKE 3's data; its undo
// removes the archive.
func snapshotStep(e *Env) *plan.Step {
	c, ca := e.Commands, e.Cluster.Carry
	return &plan.Step{Name: "etcd-snapshot", Host: e.Cluster.Leader, Phase: PhaseMigrate,
		Changes: "snapshots ucp-kv (read only), checks it and packs it with MKE 3's service-account keys into a k0s backup archive in " + carryDir(c.StateDir),
		Do: func(ctx context.Context, r *plan.Run) error {
			cfg, err := e.k0sConfigFor(e.Cluster.Leader)
			if err != nil {
				return err
			}
			out, err := r.Node.Exec(ctx, shell.Sudo(snapshotScript(c.StateDir, ca, c.Snapshot, c.SnapshotStatus)),
				hosts.WithSudo(), hosts.WithStdin(strings.NewReader(string(cfg)+"\n")))
			if err != nil {
				return err
			}
			st, sum, err := parseSnapshotOutput(out)
			if err != nil {
				return err
			}
			r.Set("archive-sha256", sum)
			r.Set("keys", strconv.Itoa(st.TotalKey))
			r.Set("revision", strconv.FormatInt(st.Revision, 10))
			return nil
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, carryRemoveCmd(c.StateDir))
			return err
		}}
}

// restoreStep restores the archive on the first controller (k0s
// restore), before k0s install controller.
func restoreStep(e *Env) *plan.Step {
	c := e.Commands
	return &plan.Step{Name: "k0s-restore", Host: e.Cluster.Leader, Phase: PhaseManagers,
		Changes: "k0s restore of the carry archive: etcd and service-account keys into " + c.K0sDataDir + ", " + c.K0sDir + "/k0s.yaml",
		Do: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, restoreScript(c.K0sDir, c.K0sDataDir, carryArchive(c.StateDir)))
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, unrestoreCmd(c.K0sDir, c.K0sDataDir))
			return err
		}}
}

// carryCleanupStep removes the archive from the leader once the first
// controller runs on it.
func carryCleanupStep(e *Env) *plan.Step {
	c := e.Commands
	return &plan.Step{Name: "carry-cleanup", Host: e.Cluster.Leader, Phase: PhaseManagers,
		Changes: "removes the carry archive (MKE 3's keys and data) from the leader",
		Do: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, carryRemoveCmd(c.StateDir))
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, carryRemoveCmd(c.StateDir))
			return err
		}}
}

// carrySteps change a manager's stage for the carry: MKE 3 was stopped
// on it by the carry's first stage, and the first controller restores the
// archive before its install and removes it after.
func carrySteps(e *Env, steps []*plan.Step, first bool) []*plan.Step {
	out := slices.DeleteFunc(steps, func(s *plan.Step) bool { return s.Name == "mke3-stop" })
	if !first {
		return out
	}
	i := slices.IndexFunc(out, func(s *plan.Step) bool { return s.Name == "k0s-controller" })
	out = slices.Insert(out, i, restoreStep(e))
	return append(out, carryCleanupStep(e))
}
