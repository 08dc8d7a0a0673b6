package upgrade

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/fromapi"
	"github.com/mke-migrate/mke-migrate/rollback"
	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/upgrade/hostlock"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Defaults of Options.
const (
	DefaultStepTimeout   = plan.DefaultStepTimeout
	DefaultWorkerBatch   = 100 // percent of the workers at once, at least 1
	DefaultTimeout       = 60 * time.Minute
	DefaultK0sBinaryPath = "/usr/local/bin/k0s"
)

// Options configure an upgrade. Hosts and OutputDir are required, and
// K0sBinary to change anything; the rest have documented defaults.
type Options struct {
	Hosts   []hosts.Host
	Connect hosts.ConnectOptions
	// MKE3 reads the configuration TOML and the RBAC export. Without it,
	// MKE3ConfigTOML (and RBACExport, for RBAC) must be given.
	MKE3           *mke3.Client
	MKE3ConfigTOML []byte
	RBACExport     *rbac.Model

	// ExternalAddress is the load balancer in front of the managers.
	ExternalAddress string
	// ImageRegistry, ChartRegistry and Airgapped go to mke4.yaml through
	// the conversion, whose report accounts for them.
	ImageRegistry, ChartRegistry string
	Airgapped                    bool
	// K0sBinary is the k0s executable to install on every node (read from
	// a local file by the caller). Delivery says how it gets there
	// (default: uploaded once, then copied from node to node); in url
	// mode the nodes download it and K0sBinary only gives its checksum
	// (Delivery.SHA256 may give it instead).
	K0sBinary []byte
	Delivery  Delivery

	// OutputDir receives the journal, the backups, mke3.toml, mke4.yaml and
	// the RBAC export. It is locked for the run.
	OutputDir string
	// KubeconfigPath is where the admin kubeconfig is written
	// (~/.mke/mke.kubeconf when empty); ConfigOut an extra copy of
	// mke4.yaml ("" for none).
	KubeconfigPath string
	ConfigOut      string

	// Concurrency bounds the hosts worked on at once (default 30), the
	// workers too. WorkerBatch is the share of workers upgraded in one
	// stage, in percent (default 100: all, at Concurrency; at least one
	// worker). The cluster is down until the last worker is back, so
	// smaller batches lengthen the outage; they only limit how many nodes
	// a failure touches before the rollback.
	Concurrency int
	WorkerBatch int
	// StepTimeout bounds each step (default 10 minutes; past the point of
	// no return, each try of it); Timeout the whole upgrade (default 60
	// minutes, like mkectl's --upgrade-timeout-minutes).
	StepTimeout, Timeout time.Duration
	// RollbackTimeout bounds the rollback that follows a failure, an
	// interrupt or the Timeout (default: Timeout).
	RollbackTimeout time.Duration
	// Retry bounds the tries of the steps past the point of no return
	// that fail transiently (a lost connection, a try past its timeout)
	// before the run stops for Resume (default: 3 tries, pauses of 2 s
	// then 4 s).
	Retry RetryOptions

	// Commands are the remote commands the steps run.
	Commands Commands
	// SkipConfigStore leaves out the step that stores mke4.yaml in the
	// new cluster (Secret mke/mke4-config) for MKE 4k's installer.
	SkipConfigStore bool
	// Carry changes how MKE 3's Kubernetes data is carried into k0s
	// (docs/carry.md); Carry.Skip starts k0s with an empty etcd.
	Carry CarryOptions
	// RBACOptions change the RBAC translation; SkipRBAC leaves RBAC out
	// of the upgrade (apply it later with mke-migrate rbac apply).
	RBACOptions rbac.Options
	SkipRBAC    bool
	// SwarmOptions change the Swarm export, which writes every Swarm
	// service as Kubernetes manifests into the output directory's swarm/
	// folder before anything changes (it needs MKE3); SkipSwarmExport
	// leaves it out.
	SwarmOptions    swarm.Options
	SkipSwarmExport bool
	// KubeClient makes the client for the new cluster from the admin
	// kubeconfig that k0s prints (default: client-go from that kubeconfig,
	// its server replaced by ExternalAddress). Tests point it elsewhere.
	KubeClient func(ctx context.Context, kubeconfig []byte) (kubernetes.Interface, error)
	// KubeletProfileLabel: see convert.Options.
	KubeletProfileLabel string
	// HostLockPath is the lock file on every host (hostlock.DefaultPath).
	HostLockPath string
	// BackupPassphrase encrypts MKE 3's backup archive on the leader
	// before it is written (Commands.Encrypt; at least 12 bytes, one
	// line); nil keeps it plain. It travels only on the remote command's
	// stdin and is never saved.
	BackupPassphrase []byte

	// ImageRegistryAuth and ChartRegistryAuth are the registries' pull
	// credentials (nil: anonymous), created as Secrets in the new cluster
	// and named in mke4.yaml; ImageRegistryCA and ChartRegistryCA their
	// PEM CA bundles (registries.*.caData). All are checked by New.
	// RegistrySecretNamespace and RegistrySecretPrefix: see
	// DefaultRegistrySecretNamespace.
	ImageRegistryAuth, ChartRegistryAuth          *RegistryAuth
	ImageRegistryCA, ChartRegistryCA              []byte
	RegistrySecretNamespace, RegistrySecretPrefix string

	// BackupPath is an existing MKE 3 backup archive to keep as the run's
	// way back instead of taking one; Discover verifies it (an MKE 3
	// backup of this cluster's ID and version, see BackupInfo), read by
	// BackupInfo (default ReadBackupInfo).
	BackupPath string
	BackupInfo func(io.Reader) (*BackupInfo, error)
	// DataDir is k0s's data directory on every node (DefaultDataDir when
	// empty; it must end in /k0s), given to every k0s command that takes
	// it. Discover checks on every node that a k0s folder can be made
	// there with DataDirMinFree bytes free (DefaultDataDirMinFree).
	DataDir        string
	DataDirMinFree int64
	// NoSupportBundle: a failed run writes no support bundle (by default
	// it writes one into OutputDir before and one after its rollback:
	// package support). MKE3Password, when set, is redacted from them
	// like the run's other secrets.
	NoSupportBundle bool
	MKE3Password    []byte
	// SkipVerify leaves out the plan's last step, verify, which checks
	// the new cluster against what the output folder recorded before the
	// upgrade (package verify: nodes, system pods, carried objects, RBAC,
	// the external address). Its failure comes past the point of no
	// return: nothing is rolled back, the error is a *VerifyError (with
	// ErrPastPointOfNoReturn), a support bundle is written, and resume
	// verifies again. SystemNamespaces replaces
	// verify.DefaultSystemNamespaces.
	SkipVerify       bool
	SystemNamespaces []string
	// MKE3KubeConfig is MKE 3's Kubernetes API, of which the
	// kube-inventory step lists every object before the carry (package
	// verify's TakeInventory; default: through MKE3's client bundle,
	// none without MKE3). When it cannot be listed, the run stops there,
	// before anything changed: fix the access or give SkipVerify.
	MKE3KubeConfig func(ctx context.Context) (*rest.Config, error)

	Logger *slog.Logger
	Events func(plan.Event)
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// BlockedError says why an upgrade did not start: the preflight blockers.
type BlockedError struct {
	Blockers []preflight.Result
}

func (e *BlockedError) Error() string {
	msg := fmt.Sprintf("%d preflight blocker(s), nothing was changed:", len(e.Blockers))
	for _, b := range e.Blockers {
		where := b.Host
		if where == "" {
			where = "cluster"
		}
		msg += fmt.Sprintf("\n  %s %s: %s (remedy: %s)", where, b.ID, b.Message, b.Remedy)
	}
	return msg
}

// Upgrade is the MKE 3 → MKE 4k upgrade of one cluster. Discover reads the
// cluster and checks it; Plan makes the steps; Apply runs them (rolling
// back on failure before the point of no return). Resume and Rollback
// continue a run from its journal after the tool died.
type Upgrade struct {
	o        Options
	shared   *Shared
	clients  *clientPool
	tokens   *joinTokens
	delivery *deliveryState
	// noK0s is errNoK0sBinary when New found no binary to deliver,
	// which only Apply and Resume need (resolved once: hashing a k0s
	// binary reads some 250 MB)
	noK0s error
}

// New checks the options; it does no I/O. Discover needs MKE3 or
// MKE3ConfigTOML, Apply and Resume K0sBinary (or, in url delivery,
// Delivery.SHA256); Restore and Rollback need neither.
func New(o Options) (*Upgrade, error) {
	if len(o.Hosts) > 0 && o.OutputDir == "" {
		return nil, errors.New("upgrade: no output directory")
	}
	return newUpgrade(o)
}

// newUpgrade is New without an output directory (Check writes nothing).
func newUpgrade(o Options) (*Upgrade, error) {
	if len(o.Hosts) == 0 {
		return nil, errors.New("upgrade: no hosts")
	}
	if o.WorkerBatch <= 0 || o.WorkerBatch > 100 {
		o.WorkerBatch = DefaultWorkerBatch
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.KubeconfigPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("upgrade: kubeconfig path: %w", err)
		}
		o.KubeconfigPath = filepath.Join(home, ".mke", "mke.kubeconf")
	}
	if p := o.BackupPassphrase; p != nil && (len(p) < 12 || bytes.ContainsAny(p, "\n\r\x00")) {
		return nil, errors.New("upgrade: the backup passphrase must be one line of at least 12 bytes")
	}
	if err := o.checkRegistries(); err != nil {
		return nil, err
	}
	if err := checkDataDir(o.DataDir); err != nil {
		return nil, err
	}
	// without a binary, a run that changes nothing (Discover, Plan,
	// Rollback) may go on; Apply and Resume say what is missing
	d, noK0s := o.Delivery.resolve(o.K0sBinary)
	if noK0s != nil && !errors.Is(noK0s, errNoK0sBinary) {
		return nil, noK0s
	}
	o.Delivery = d
	c := o.Commands
	o.Commands = o.Commands.withDefaults()
	// join tokens live at most as long as the run may
	o.Commands.TokenExpiry = o.Timeout.String()
	if c.TokenExpiry != "" {
		d, err := time.ParseDuration(c.TokenExpiry)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("upgrade: token expiry %q: want a positive duration such as 30m or 1h30m", c.TokenExpiry)
		}
		o.Commands.TokenExpiry = min(d, o.Timeout).String()
	}
	if o.HostLockPath == "" {
		o.HostLockPath = hostlock.DefaultPath
	}
	return &Upgrade{o: o, clients: newClientPool(o.Hosts, o.Connect), tokens: &joinTokens{}, delivery: newDeliveryState(o.Delivery), noK0s: noK0s}, nil
}

// Close closes the SSH connections.
func (u *Upgrade) Close() { u.clients.close() }

// Shared is what Discover learned and the steps share. Apply saves it in
// the output directory (discovery.json), and Restore reads it back: a
// resumed run must follow the plan of the run, made from the cluster as it
// was before the upgrade changed it.
type Shared struct {
	Facts    map[string]hosts.Facts `json:"facts"` // by host (address:port)
	Leader   string                 `json:"leader"`
	Managers []string               `json:"managers"` // leader first
	Workers  []string               `json:"workers"`
	// MKEVersion and ClusterID identify MKE 3 (from ucp-proxy and docker
	// info).
	MKEVersion string `json:"mkeVersion"`
	ClusterID  string `json:"clusterID"`

	MKE3TOML  []byte          `json:"mke3TOML"`
	Config    *mke4.MkeConfig `json:"config"`
	K0sConfig []byte          `json:"k0sConfig"`
	// Carry is what the data carry read on the leader; nil when the
	// carry is skipped.
	Carry *Carry `json:"carry,omitempty"`
	// Profiles are the kubelet profile of each host, if any.
	Profiles  map[string]string `json:"profiles,omitempty"`
	RBACModel *rbac.Model       `json:"rbacModel,omitempty"`
	// Labels are the node labels of each host the conversion saw (its
	// Kubernetes node's, hosts.yaml's over them), so that Restore makes
	// the same report again.
	Labels map[string]map[string]string `json:"labels,omitempty"`
	// BackupEncrypted: the run encrypts MKE 3's backup archive, so a
	// resume that has still to take it needs the passphrase again.
	BackupEncrypted bool `json:"backupEncrypted,omitempty"`
	// ConfigStore says the plan stores mke4.yaml in the new cluster.
	ConfigStore bool `json:"configStore,omitempty"`
	// SwarmExport says the plan exports the Swarm services (an MKE 3
	// client was given and Options.SkipSwarmExport was not).
	SwarmExport bool `json:"swarmExport,omitempty"`
	// KubeInventory says the plan lists MKE 3's Kubernetes objects before
	// the carry (kube-inventory.json), for verify: with the carry, an MKE 3
	// API to list them from, and verify on.
	KubeInventory bool `json:"kubeInventory,omitempty"`
	// SkipVerify: the plan has no verify step (Options.SkipVerify; a
	// resumed run follows its run's choice).
	SkipVerify bool `json:"skipVerify,omitempty"`
	// BackupPath is the operator's MKE 3 backup the run uses instead of
	// taking one (Options.BackupPath, verified).
	BackupPath string `json:"backupPath,omitempty"`
	// DataDir is k0s's data directory ("" for DefaultDataDir); NodeIPs
	// the kubelet's node IP by host, from hosts.yaml's privateAddress or
	// the address of its privateInterface.
	DataDir string            `json:"dataDir,omitempty"`
	NodeIPs map[string]string `json:"nodeIPs,omitempty"`
	// DeliveryTools are the tools of the k0s delivery each host has
	// (space-separated: curl, wget, openssl, sha256sum), from preflight.
	DeliveryTools map[string]string `json:"deliveryTools,omitempty"`
	// RegistrySecrets are the names of the pull-credential Secrets the
	// run creates, by registry (image, chart); never their contents.
	RegistrySecrets map[string]string `json:"registrySecrets,omitempty"`
	// Preflight are all the results of the pre-upgrade checks, blockers
	// or not (gather.Result.Checks: what mke-migrate preflight reports),
	// for the report.
	Preflight []preflight.Result `json:"preflight,omitempty"`

	// Made from the above, not saved.
	Report      *convert.Report `json:"-"`
	RBACObjects *rbac.Objects   `json:"-"`
	RBACReport  *rbac.Report    `json:"-"`

	// fromInventory: described by an Inventory, not discovered; such a
	// cluster is planned and printed, never changed.
	fromInventory bool
}

const discoveryFile = "discovery.json"

// Restore reads what Discover learned from the output directory of an
// earlier run, instead of discovering the cluster again, for Resume and
// Rollback.
func (u *Upgrade) Restore() (*Shared, error) {
	sh, err := readDiscovery(u.o.OutputDir)
	if err != nil {
		return nil, err
	}
	if err := u.checkHosts(sh); err != nil {
		return nil, err
	}
	// the conversion report (for the summary) is made again from the saved
	// TOML; the saved mke4.yaml stays the one the run used
	if cfg, err := convert.Parse("MKE 3 configuration", sh.MKE3TOML); err == nil {
		if _, rep, err := u.convert(cfg, sh.Managers, sh.Labels); err == nil {
			sh.Report = &rep
		}
	}
	if sh.RBACModel != nil {
		if sh.RBACObjects, sh.RBACReport, err = rbac.Translate(sh.RBACModel, u.o.RBACOptions); err != nil {
			return nil, fmt.Errorf("upgrade: restore: RBAC: %w", err)
		}
	}
	u.shared = sh
	return sh, nil
}

// checkHosts compares the hosts of the options (hosts.yaml) with the
// hosts the run discovered: a resume or rollback works on the run's hosts
// or not at all.
func (u *Upgrade) checkHosts(sh *Shared) error {
	given := map[string]bool{}
	for _, h := range u.o.Hosts {
		given[hostKey(h)] = true
	}
	e := &HostsMismatchError{Dir: u.o.OutputDir}
	for k := range sh.Facts {
		if !given[k] {
			e.Missing = append(e.Missing, k)
		}
	}
	for k := range given {
		if _, ok := sh.Facts[k]; !ok {
			e.Extra = append(e.Extra, k)
		}
	}
	if len(e.Missing) == 0 && len(e.Extra) == 0 {
		return nil
	}
	slices.Sort(e.Missing)
	slices.Sort(e.Extra)
	return e
}

// readDiscovery reads what the run in dir discovered.
func readDiscovery(dir string) (*Shared, error) {
	b, err := os.ReadFile(filepath.Join(dir, discoveryFile))
	if err != nil {
		return nil, fmt.Errorf("upgrade: restore: %w", err)
	}
	sh := &Shared{}
	if err := json.Unmarshal(b, sh); err != nil {
		return nil, fmt.Errorf("upgrade: restore %s: %w", filepath.Join(dir, discoveryFile), err)
	}
	return sh, nil
}

func (u *Upgrade) saveDiscovery() error {
	b, err := json.MarshalIndent(u.shared, "", "  ")
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(u.o.OutputDir, discoveryFile), b, 0o600)
}

// Discover gathers the cluster with gather.Cluster (the facts of every
// host, the MKE 3 configuration and LDAP settings, the Kubernetes nodes
// and kubelet profiles, the conversion and the preflight checks: what
// mke-migrate preflight checks), and reads the RBAC export. A blocker
// ends it with a *BlockedError before anything changes.
func (u *Upgrade) Discover(ctx context.Context) (*Shared, error) {
	o := &u.o
	if o.MKE3 == nil && len(o.MKE3ConfigTOML) == 0 {
		return nil, errors.New("upgrade: neither an MKE 3 client nor the MKE 3 configuration")
	}
	sh, res, err := u.check(ctx)
	if err != nil {
		return nil, err
	}
	out := res.MKE4
	if sh.K0sConfig, err = k0sConfig(out, sh.Carry); err != nil {
		return nil, err
	}
	o.withRegistries(sh)

	sh.SwarmExport = o.MKE3 != nil && !o.SkipSwarmExport
	sh.KubeInventory = o.kubeInventory(sh.Carry != nil)
	sh.SkipVerify = o.SkipVerify
	sh.ConfigStore = !o.SkipConfigStore

	switch {
	case o.SkipRBAC:
	case o.RBACExport != nil:
		sh.RBACModel = o.RBACExport
	case o.MKE3 != nil:
		if sh.RBACModel, err = fromapi.Read(ctx, o.MKE3, fromapi.Options{}); err != nil {
			return nil, fmt.Errorf("upgrade: read MKE 3 RBAC: %w", err)
		}
	}
	if sh.RBACModel != nil {
		if sh.RBACObjects, sh.RBACReport, err = rbac.Translate(sh.RBACModel, o.RBACOptions); err != nil {
			return nil, fmt.Errorf("upgrade: RBAC: %w", err)
		}
	}

	if bs := blockers(sh.Preflight); len(bs) > 0 {
		return sh, &BlockedError{Blockers: bs}
	}
	if err := o.checkBackupPath(sh); err != nil {
		return sh, err
	}
	u.shared = sh
	return sh, nil
}

// convertOptions are the options of the conversion: what the TOML does
// not hold (the hosts are added by who converts).
func (o *Options) convertOptions() convert.Options {
	return convert.Options{ExternalAddress: o.ExternalAddress, ImageRegistry: o.ImageRegistry, ChartRegistry: o.ChartRegistry,
		ImageRegistryCAData: string(o.ImageRegistryCA), ChartRegistryCAData: string(o.ChartRegistryCA),
		Airgapped: o.Airgapped, KubeletProfileLabel: o.KubeletProfileLabel}
}

// convert converts the MKE 3 configuration for these hosts (managers are
// controller+worker), as Discover did, for a restored run's report:
// labels are each host's labels by host key (hosts.yaml's when nil).
func (u *Upgrade) convert(cfg *convert.MKE3Config, managers []string, labels map[string]map[string]string) (mke4.MkeConfig, convert.Report, error) {
	co := u.o.convertOptions()
	for _, h := range u.o.Hosts {
		ch := toconvert.Host(h, slices.Contains(managers, hostKey(h)))
		if l, ok := labels[hostKey(h)]; ok {
			ch.Labels = l
		}
		co.Hosts = append(co.Hosts, ch)
	}
	out, rep, err := convert.Convert(cfg, co)
	if err != nil {
		return out, rep, fmt.Errorf("upgrade: convert: %w", err)
	}
	return out, rep, nil
}

// newRunID is a random run ID for the journal and the host locks.
func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Result is what Apply, Resume and Rollback report.
type Result struct {
	Run        string
	RolledBack bool
	Took       time.Duration
	Shared     *Shared
	// Commands are the remote commands (SSH sessions) run on each host by
	// this process, facts and locks included.
	Commands map[string]int
	// BytesSent are the bytes this process sent to each host over SSH
	// (command lines and standard input, such as an uploaded k0s binary;
	// see Delivery).
	BytesSent map[string]int64
	// SupportBundles are the support bundles a failed run wrote.
	SupportBundles []string
}

// Apply runs the plan in a new run (journal in OutputDir). On a failure,
// an interrupt (ctx cancelled) or the overall timeout before the point of
// no return, it rolls back every started step and returns a
// *RollbackError; past it, the error wraps ErrPastPointOfNoReturn.
func (u *Upgrade) Apply(ctx context.Context, p *plan.Plan) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// an inventory plan is never applied, whatever else is missing
	if u.shared != nil && u.shared.fromInventory {
		return nil, errInventory
	}
	if err := u.noK0s; err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(u.o.OutputDir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(u.o.OutputDir, 0o700); err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	run := newRunID()
	release, err := journal.LockDir(u.o.OutputDir, run)
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	defer func() { _ = release() }()
	// The host locks come before the journal: a run that loses them to
	// another one leaves no journal behind that a later run would have
	// to resume or roll back, and no folder it made itself.
	hl, err := u.lockHosts(ctx, run, false)
	if err != nil {
		_ = release()
		if created {
			_ = os.Remove(filepath.Join(u.o.OutputDir, journal.LockFileName))
			_ = os.Remove(u.o.OutputDir)
		}
		return nil, err
	}
	defer hl.release()
	j, err := journal.Create(u.o.OutputDir, run, journal.Options{Logger: u.o.Logger})
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	defer j.Close()
	u.shared.BackupEncrypted = len(u.o.BackupPassphrase) > 0
	if err := u.saveDiscovery(); err != nil {
		return nil, err
	}
	return u.execute(hl.ctx, p, j, false)
}

// Resume continues the run journaled in OutputDir after the tool died: a
// run that was rolling back goes on rolling back; otherwise the steps not
// done are run (with the same rollback rules as Apply).
func (u *Upgrade) Resume(ctx context.Context, p *plan.Plan) (*Result, error) {
	if err := u.noK0s; err != nil {
		return nil, err
	}
	release, j, err := u.reopen(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	defer j.Close()
	st := journal.Replay(j.Records())
	if ev, ok := st.RunEnded(); ok && ev == journal.RunDone {
		return &Result{Run: j.Run(), Shared: u.shared}, nil
	}
	// the nodes the dead process delivered k0s to serve the others
	u.delivery.resume(st, append(slices.Clone(u.shared.Managers), u.shared.Workers...))
	// a backup the run encrypted is never taken again in plain text
	if u.shared.BackupEncrypted && len(u.o.BackupPassphrase) == 0 && !st.Done("mke3-backup", u.shared.Leader) {
		return nil, errors.New("upgrade: the run encrypts MKE 3's backup, which it has still to take: give the backup passphrase again")
	}
	hl, err := u.lockHosts(ctx, j.Run(), false)
	if err != nil {
		return nil, err
	}
	defer hl.release()
	ctx = hl.ctx
	rolling := false
	for _, r := range j.Records() {
		switch r.Event {
		case journal.RollbackStart, journal.RollbackFailed:
			rolling = true
		case journal.RollbackDone:
			rolling = false
		}
	}
	return u.execute(ctx, p, j, rolling)
}

// Rollback undoes the run journaled in OutputDir (what it started, newest
// first), for example after the tool died before the point of no return.
func (u *Upgrade) Rollback(ctx context.Context, p *plan.Plan) (*Result, error) {
	release, j, err := u.reopen(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = release() }()
	defer j.Close()
	// A host locked by another live run stops the rollback: it would undo
	// steps under that run. An unreachable host does not.
	hl, err := u.lockHosts(ctx, j.Run(), true)
	if err != nil {
		return nil, err
	}
	defer hl.release()
	return u.execute(hl.ctx, p, j, true)
}

func (u *Upgrade) reopen(p *plan.Plan) (func() error, *journal.Journal, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if u.shared != nil && u.shared.fromInventory {
		return nil, nil, errInventory
	}
	rs, err := journal.Read(u.o.OutputDir)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil, fmt.Errorf("upgrade: %s has no journal to continue", u.o.OutputDir)
	}
	release, err := journal.LockDir(u.o.OutputDir, rs[0].Run)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: %w", err)
	}
	j, err := journal.Open(u.o.OutputDir, journal.Options{Logger: u.o.Logger})
	if err != nil {
		_ = release()
		return nil, nil, fmt.Errorf("upgrade: %w", err)
	}
	return release, j, nil
}

// execute runs (or, with rollbackOnly, undoes) the plan on journal j,
// under the host locks, whose loss ends ctx.
func (u *Upgrade) execute(ctx context.Context, p *plan.Plan, j *journal.Journal, rollbackOnly bool) (*Result, error) {
	start := time.Now()
	res := &Result{Run: j.Run(), Shared: u.shared}
	defer func() { res.Commands, res.BytesSent = u.clients.commands(), u.clients.bytesSent() }()
	log := u.o.logger()
	po := plan.Options{Nodes: u.clients, StepTimeout: u.o.StepTimeout, Concurrency: u.o.Concurrency, Logger: log, Events: u.o.Events}
	// past the point of no return, transient failures are tried again
	x := plan.NewExecutor(withRetries(p, u.o.Retry, u.o.StepTimeout, u.clients), j, po)
	// the rollback undoes the steps the journal shows started, newest
	// first, as helm's upgrade runs its rollback action on failure
	undo := func(ctx context.Context) error {
		return rollback.Run(ctx, p, rollback.Options{Journal: j, Options: po})
	}
	// The rollback must run after an interrupt or the overall timeout,
	// so it gets a context of its own.
	rbctx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), u.o.rollbackTimeout())
	}
	if rollbackOnly {
		c, cancel := rbctx()
		defer cancel()
		// the tokens the dead run made (the journal names them) end
		// before the rollback resets the controller that knows them
		u.invalidateTokens(c, p, j.Records())
		err := undo(c)
		res.RolledBack, res.Took = err == nil, time.Since(start)
		return res, err
	}
	runCtx, cancel := context.WithTimeoutCause(ctx, u.o.Timeout, fmt.Errorf("the upgrade took longer than %v", u.o.Timeout))
	err := x.Apply(runCtx)
	if err == nil && runCtx.Err() != nil {
		err = context.Cause(runCtx)
	}
	cancel()
	// the join tokens served this run only: invalidated before a
	// rollback resets the controller that knows them
	u.invalidateTokens(ctx, p, j.Records())
	res.Took = time.Since(start)
	if err == nil {
		_, jerr := j.Append(journal.Record{Event: journal.RunDone})
		log.Info("upgrade done", "took", res.Took.Round(time.Millisecond))
		return res, jerr
	}
	_, _ = j.Append(journal.Record{Event: journal.RunFailed, Error: err.Error()})
	if x.PastPointOfNoReturn() {
		u.failureBundle(ctx, res, "failed")
		return res, fmt.Errorf("%w: %w", ErrPastPointOfNoReturn, err)
	}
	log.Warn("upgrade failed; rolling back", "err", err)
	u.failureBundle(ctx, res, "before-rollback")
	c, rcancel := rbctx()
	defer rcancel()
	rerr := undo(c)
	u.failureBundle(ctx, res, "after-rollback")
	res.RolledBack = rerr == nil
	res.Took = time.Since(start)
	return res, &RollbackError{Cause: err, Rollback: rerr}
}
