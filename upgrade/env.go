package upgrade

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/swarm"
)

// Commands are the remote commands and paths of the upgrade. Where MKE and
// k0s document nothing precise, these are our defaults; every one can be
// replaced. Placeholders: {image} (UCPImage:MKE version), {cluster} (the
// Swarm cluster ID), {node} (the hostnames of the nodes, space-separated).
type Commands struct {
	// UCPImage is the MKE 3 bootstrapper image without its tag.
	UCPImage string
	// Backup writes MKE 3's backup archive to stdout (run on the leader).
	// It is run with --no-passphrase: mirantis/ucp backup takes a
	// passphrase only as a command-line value (--passphrase), which ps
	// and docker inspect show; Encrypt does it instead.
	Backup string
	// Encrypt reads the archive on stdin and writes it encrypted to
	// stdout, with the passphrase in the environment variable
	// MKE_MIGRATE_BACKUP_PASSPHRASE (used with Options.BackupPassphrase).
	// Decrypt with: openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000
	// -pass env:VAR -in mke3-backup.tar.enc.
	Encrypt string
	// Uninstall removes MKE 3 (run on the leader); Leave is the fallback on
	// every node when the uninstaller times out (non-leaders first).
	Uninstall, Leave string
	// UninstallTimeoutText in the uninstaller's output means it timed out.
	UninstallTimeoutText string
	// StopContainers are the MKE 3 containers (name prefixes) stopped on a
	// node before k0s takes it over, in this order: the agents first (or
	// they would start the others again), the kubelet (or it would start
	// the pods again), the other ucp-* components, then every k8s_*
	// container (Calico and user pods keep running under dockerd without
	// the kubelet, holding ports and memory). They are started again on
	// rollback, except Swarm task containers, which Swarm replaces once
	// the node's availability is back (see swarmDrainNodesStep).
	StopContainers []string
	// KeepRunning are containers StopContainers would stop that stay up
	// (exact names): MKE 3's etcd, ucp-kv, which the carry reads and
	// which holds no port k0s needs (12379, 12380).
	KeepRunning []string
	// CleanupVolumes are removed from managers after the uninstall.
	CleanupVolumes []string
	// KeepFiles are MKE 3's files that k0s reset deletes: kept on each
	// node before k0s is installed there and put back by a rollback
	// (default: Calico's CNI configuration, which k0s's CNI cleanup
	// removes unconditionally, pkg/cleanup/cni.go).
	KeepFiles []string
	// K0sPath is where the k0s binary goes; K0sDir holds its
	// configuration and join token; StateDir the tool's own files on the
	// node (backups, saved binaries, the list of the containers mke3-stop
	// stopped).
	K0sPath, K0sDir, StateDir string
	// JoinCheck prints the HTTP status of {url}, the address in a join
	// token, from the joining node before k0s is installed there; 200,
	// 401, 403 and 404 mean it answers (k0sctl accepts 200, 401, 404).
	// "-" skips the check.
	JoinCheck string
	// NodeReady runs on a node that runs a kubelet (a worker, a
	// controller+worker) once k0s started there and prints True when its
	// Node is Ready in the k0s cluster ({node}: its node name), as k0sctl
	// waits for each worker (phase/install_workers.go); with another
	// --data-dir, its kubelet.conf is there. A plain controller has no
	// Node (see runsKubelet). Workers are not drained: see drain.go.
	NodeReady string
	// Ready is how long to wait for k0s status after start;
	// NodeReadyTimeout how long for a node's Node to be Ready (default 5
	// minutes).
	Ready, NodeReadyTimeout time.Duration
	// Inspect prints docker inspect of MKE 3's apiserver, controller
	// manager and ucp-kv on the leader (Discover reads the etcd prefix,
	// the service-account keys and ucp-kv's image from it).
	Inspect string
	// Snapshot saves ucp-kv's snapshot as {dir}/etcd-snapshot.db (run on
	// the leader with MKE 3's API servers stopped; {image} is ucp-kv's
	// image, {dir} the carry folder, mounted at /backup);
	// SnapshotStatus prints etcdutl snapshot status -w json of it.
	Snapshot, SnapshotStatus string
	// K0sDataDir is k0s's data directory (k0s's default /var/lib/k0s),
	// where k0s restore writes etcd and pki.
	K0sDataDir string
	// TokenExpiry is the lifetime of the run's join tokens (Go duration
	// syntax, as k0s token create parses it), one per role for all nodes;
	// at most the run's Timeout, which is also the default. The run
	// invalidates them when it ends, success or failure.
	TokenExpiry string
}

func (c Commands) withDefaults() Commands {
	d := Commands{
		UCPImage:             "mirantis/ucp",
		Backup:               "docker run --rm -i --name ucp-backup --log-driver none -v /var/run/docker.sock:/var/run/docker.sock {image} backup --id {cluster} --no-passphrase",
		Uninstall:            "docker run --rm -i --name ucp-uninstall -v /var/run/docker.sock:/var/run/docker.sock {image} uninstall-ucp --id {cluster} --purge-config",
		Encrypt:              "openssl enc -aes-256-cbc -pbkdf2 -iter 600000 -salt -pass env:" + passphraseVar,
		Leave:                "docker swarm leave --force",
		UninstallTimeoutText: "Uninstalling UCP took too long",
		StopContainers:       []string{"ucp-manager-agent.", "ucp-worker-agent", "ucp-kubelet", "ucp-", "k8s_"},
		KeepRunning:          []string{"ucp-kv"},
		CleanupVolumes:       []string{"ucp-controller-server-certs"},
		KeepFiles:            []string{"/etc/cni/net.d/10-calico.conflist", "/etc/cni/net.d/calico-kubeconfig"},
		K0sPath:              DefaultK0sBinaryPath,
		K0sDir:               "/etc/k0s",
		StateDir:             "/var/lib/mke-migrate",
		JoinCheck:            "curl -ks -o /dev/null -w '%{http_code}' --connect-timeout 10 --max-time 30 {url}",
		NodeReady:            "env KUBECONFIG=" + kubeletKubeconfig + ` k0s kubectl get node {node} -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'`,
		Ready:                2 * time.Minute,
		NodeReadyTimeout:     5 * time.Minute,
		TokenExpiry:          DefaultTimeout.String(),
		Inspect:              "docker inspect " + apiserverContainer + " " + kcmContainer + " " + kvContainer,
		// the MKE 3 docs run their own backup with --log-driver none, so
		// that nothing of the data lands in a container log; the client
		// certificate is ucp-kv's own (volume ucp-kv-certs)
		Snapshot: "docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro -v {dir}:/backup --entrypoint etcdctl {image}" +
			" --endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem" +
			" snapshot save /backup/etcd-snapshot.db",
		SnapshotStatus: "docker run --rm --log-driver none -v {dir}:/backup --entrypoint etcdutl {image} snapshot status /backup/etcd-snapshot.db -w json",
		K0sDataDir:     "/var/lib/k0s",
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
	set(&d.Encrypt, c.Encrypt)
	set(&d.Uninstall, c.Uninstall)
	set(&d.Leave, c.Leave)
	set(&d.UninstallTimeoutText, c.UninstallTimeoutText)
	set(&d.K0sPath, c.K0sPath)
	set(&d.K0sDir, c.K0sDir)
	set(&d.StateDir, c.StateDir)
	set(&d.NodeReady, c.NodeReady)
	if c.JoinCheck == "-" { // documented: "-" turns the check off
		d.JoinCheck = ""
	} else {
		set(&d.JoinCheck, c.JoinCheck)
	}
	set(&d.TokenExpiry, c.TokenExpiry)
	set(&d.Inspect, c.Inspect)
	set(&d.Snapshot, c.Snapshot)
	set(&d.SnapshotStatus, c.SnapshotStatus)
	set(&d.K0sDataDir, c.K0sDataDir)
	if c.StopContainers != nil {
		d.StopContainers = c.StopContainers
	}
	if c.KeepRunning != nil {
		d.KeepRunning = c.KeepRunning
	}
	if c.CleanupVolumes != nil {
		d.CleanupVolumes = c.CleanupVolumes
	}
	if c.KeepFiles != nil {
		d.KeepFiles = c.KeepFiles
	}
	if c.Ready > 0 {
		d.Ready = c.Ready
	}
	if c.NodeReadyTimeout > 0 {
		d.NodeReadyTimeout = c.NodeReadyTimeout
	}
	return d
}

// Env is what the steps of an upgrade are made from, instead of the
// Upgrade itself: the cluster (as Discover found it, or as an Inventory
// describes it), the remote commands, the local paths, and the
// connections to hosts other than a step's own. Upgrade.Env returns the
// one its Plan uses, for custom steps.
type Env struct {
	// Cluster is what Discover learned (or FromInventory was told).
	Cluster  *Shared
	Commands Commands
	// K0sBinary is the k0s executable installed on every node (nil in
	// url mode with only a checksum); Delivery says how it gets there
	// (resolved: defaults and SHA256 filled in).
	K0sBinary []byte
	Delivery  Delivery
	// OutputDir receives the backups and the configurations;
	// KubeconfigPath the admin kubeconfig; ConfigOut an extra copy of
	// mke4.yaml ("" for none).
	OutputDir, KubeconfigPath, ConfigOut string
	// ExternalAddress is the load balancer the admin kubeconfig points at.
	ExternalAddress string
	// BackupPassphrase, when set, encrypts MKE 3's backup archive on the
	// leader (Commands.Encrypt); it reaches the leader only on stdin.
	BackupPassphrase []byte
	// ImageRegistryAuth and ChartRegistryAuth are the pull credentials of
	// Cluster.RegistrySecrets, created in RegistrySecretNamespace.
	ImageRegistryAuth, ChartRegistryAuth *RegistryAuth
	RegistrySecretNamespace              string
	// Verify: the plan ends with the verify step, which checks
	// SystemNamespaces (verify.DefaultSystemNamespaces when nil).
	Verify           bool
	SystemNamespaces []string
	// MKE3KubeConfig reaches MKE 3's Kubernetes API for the
	// kube-inventory step (nil: the step records nothing).
	MKE3KubeConfig func(ctx context.Context) (*rest.Config, error)
	// Retry bounds the tries of the steps past the point of no return
	// (Options.Retry); the volumes step follows it for a volume in use.
	Retry RetryOptions
	// BackupInfo reads Cluster.BackupPath (default ReadBackupInfo).
	BackupInfo func(io.Reader) (*BackupInfo, error)
	// Nodes reaches hosts other than a step's own (plan.Run.Node): the
	// leader makes the join tokens, drains the workers and prints the
	// admin kubeconfig; every node leaves the Swarm when uninstall-ucp
	// times out.
	Nodes plan.Nodes
	// KubeClient makes the client of the new cluster from the admin
	// kubeconfig (default: client-go).
	KubeClient func(ctx context.Context, kubeconfig []byte) (kubernetes.Interface, error)
	// Swarm is where the Swarm export reads the services (the MKE 3
	// client; nil after Open without one), SwarmOptions how it translates.
	Swarm        swarm.Source
	SwarmOptions swarm.Options

	tokens   *joinTokens
	delivery *deliveryState
}

// leader is the connection to the Swarm leader, the first k0s controller.
func (e *Env) leader(ctx context.Context) (hosts.Node, error) {
	return e.Nodes.Node(ctx, e.Cluster.Leader)
}

// expand fills the placeholders of a command of Commands.
func (e *Env) expand(cmd, nodes string) string {
	return expand(cmd, e.Commands.UCPImage+":"+e.Cluster.MKEVersion, e.Cluster.ClusterID, nodes)
}

// hostname is the Kubernetes node name of a host.
func (e *Env) hostname(host string) string { return e.Cluster.Facts[host].Hostname }

// expand fills the placeholders of cmd: {image} and {cluster} as single
// shell words, {node} as it is (a list of words made by nodeNames).
func expand(cmd, image, cluster, nodes string) string {
	return strings.NewReplacer("{image}", shell.Word(image), "{cluster}", shell.Word(cluster), "{node}", nodes).Replace(cmd)
}

// sudo runs cmd as root through sh, so redirections are root's too.
func sudo(ctx context.Context, n hosts.Node, cmd string) (string, error) {
	return n.Exec(ctx, shell.Sudo(cmd), hosts.WithSudo())
}

// onLeader runs a command on the first controller, as root.
func (e *Env) onLeader(ctx context.Context, cmd string) (string, error) {
	n, err := e.leader(ctx)
	if err != nil {
		return "", err
	}
	return sudo(ctx, n, cmd)
}

// joinTokens are the run's join tokens by role, this process only.
type joinTokens struct {
	mu  sync.Mutex
	m   map[string][]byte
	ids []string // token IDs, for k0s token invalidate
}
