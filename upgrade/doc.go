// Package upgrade moves an MKE 3 cluster (Docker Swarm + hyperkube) to
// k0s-based MKE 4k, and puts it back when anything goes wrong before the
// point of no return.
//
// One Upgrade per cluster, in the manner of an action:
//
//	u, err := upgrade.New(upgrade.Options{Hosts: hs, MKE3: client, K0sBinary: k0s,
//		ExternalAddress: "mke.example.com", OutputDir: dir, Logger: log, Events: progress})
//	defer u.Close()
//	shared, err := u.Discover(ctx)  // facts, preflight, conversion, RBAC; *BlockedError stops here
//	p, err := u.Plan()              // a plan.Plan: printable (dry run), editable
//	result, err := u.Apply(ctx, p)
//
// The steps, stages and plan are package plan's, and so are the events
// and the executor; package rollback undoes a run. The host locks are
// package upgrade/hostlock's, the journal package upgrade/journal's.
//
// # Plans without a cluster
//
// FromInventory stands in for Discover when there is no cluster to reach:
// the hosts with their roles (Options.Hosts), the MKE version and the MKE 3
// configuration make the same plan, with no SSH and no MKE 3 API, to print,
// edit or test (Apply refuses it). See the example.
//
// # Steps
//
// Plan follows the documented order: backups (mke3.toml, mke4.yaml, the
// RBAC export and MKE 3's own backup archive, made 0600 in a 0700
// folder on the leader, optionally encrypted there, copied to OutputDir,
// checked by SHA-256 and then removed from the leader), then every node
// drained in Swarm (so that Swarm and MKE 3's agents start nothing
// again), then the managers one at a time (leader first: stop MKE 3's
// agent, kubelet, ucp-* components and k8s_* pod containers, install the k0s binary, write the k0s
// configuration, install and start the controller; the others join with a
// token made on the leader, passed over stdin and removed after use), then
// the workers, all in one stage at Options.Concurrency by default (the
// cluster is down until the last is back; Options.WorkerBatch percent
// per stage for a smaller blast radius): stop MKE 3, install k0s, join,
// wait until the Node is Ready. Workers are not drained: MKE 3's
// Kubernetes is down when they move, and a node is in the k0s cluster only
// once it joined (see drain.go). Then RBAC (package rbac,
// server-side apply), then the point of no return: MKE 3's uninstaller
// (with the Swarm-leave fallback when it times out) and its volumes, and
// last mke4.yaml and the admin kubeconfig (atomic, 0600).
//
// The k0s binary reaches each node as Options.Delivery says (delivery.go):
// by default uploaded once, to the first node, then copied by every other
// node from one that has it (a one-shot HTTPS port per copy, at most
// Delivery.PeerFanout per node at once); or uploaded to every node, at
// most Delivery.ConcurrentUploads at a time; or downloaded by every node
// from a URL or mirror. Each node checks its SHA-256 before the binary is
// renamed into place, and a node that has it already gets nothing.
// Result.BytesSent says what this machine sent to each host.
//
// Each family of steps has its file (backup, takeover, k0s, drain,
// rbacstep, uninstall, outputs) and is built from an Env, never from the
// Upgrade: the cluster, the Commands, the paths and the connections. The
// remote commands are Commands, documented defaults where MKE and k0s
// document nothing precise; every one can be replaced. The shell each step
// sends is made by pure functions, tested string for string.
//
// A custom step (see package plan on writing one) goes into the plan with
// plan.Plan.InsertBefore or InsertAfter, and takes the phase of the stage
// it joins. A step with a Host gets the connection to it as plan.Run.Node;
// a local step (Host "") gets none and may use Upgrade.Env for the
// cluster and the connections to its hosts.
//
// # Failure, interrupt, timeout
//
// Every step has Do (idempotent), an optional Verify, and Undo (tolerant
// of a partial Do). Each step's start and end is journaled, with fsync, in
// OutputDir before and after it runs, and OutputDir and every host are
// locked for the run: the host locks are taken one at a time in one order
// (sorted by host), before the journal exists, and released on every
// path, so that of two runs started together one wins and the other leaves
// nothing to resume. Resume and Rollback first check that Options.Hosts
// are the hosts the run discovered (*HostsMismatchError), and Rollback
// refuses a host another live run holds. The run's join tokens expire
// with Options.Timeout and are invalidated when it ends. When a step fails, the context is cancelled (SIGINT
// in the CLI) or Options.Timeout passes before the point of no return,
// Apply runs the rollback (package rollback), which undoes every step that
// started, newest first, and returns a *RollbackError holding both the
// cause and any rollback error. MKE 3's own data is never changed before
// the point of no return (its containers are only stopped), so undoing the
// steps restores it (MKE 3's Calico files in /etc/cni/net.d, which k0s
// reset deletes, are kept on each node before k0s is installed and put
// back after the reset: Commands.KeepFiles); the backup archive is kept for disaster recovery.
// Past the point of no return, a step that fails transiently (its SSH
// connection lost, a try past its timeout) is tried again a bounded number
// of times (Options.Retry); a failure that remains wraps
// ErrPastPointOfNoReturn and Resume finishes the run.
//
// Check runs, read-only, every check Discover runs (the preflight
// command): the facts', the configuration's, the data carry's, the nodes'
// and, before anything changes, that the load balancer forwards the join
// ports (9443, 6443) to the managers.
//
// After the tool itself died, Open reopens the run's output folder (what
// the run discovered and was given, without the MKE 3 API), Plan rebuilds
// the same plan, and Resume continues it (or goes on rolling back, if it
// was) or Rollback undoes it.
package upgrade
