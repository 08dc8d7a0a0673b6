// Package fakestate defines the on-disk state of a fake node (see
// testbed/fakenode): JSON files under Dir, shared by the fakenode program
// that reads and changes them and by testbed.StartCluster that seeds them.
package fakestate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir holds all state of a fake node.
const Dir = "/var/lib/fakenode"

// File names under Dir.
const (
	NodeFile   = "node.json"   // Node: docker engine, swarm and containers
	UnitsFile  = "units.json"  // Units: systemd units
	K0sFile    = "k0s.json"    // K0s: present only while k0s is installed
	FaultsFile = "faults.json" // []Fault; not part of the digest
	CallsFile  = "calls.log"   // one JSON argv per invocation; not part of the digest
	LockFile   = ".lock"       // flock(2) serialising invocations; not part of the digest
	// TimesFile maps container IDs to their last start and stop times: only
	// docker ps's STATUS texts read it, so it is left out of the digest
	// (stop then start restores a node's digest).
	TimesFile = "times.json"
	// ProcsFile maps container IDs to the real processes behind them
	// (Procs); pids change on every start, so it is left out of the digest.
	ProcsFile = "procs.json"
	// KubeAssetsFile holds the absolute path of a folder with the real
	// control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
	// etcdutl, kubectl) as the host sees it. When it exists, the fake k0s
	// runs a real control plane; without it k0s keeps JSON state only (the
	// fast mode of engine-logic tests). Not part of the digest.
	KubeAssetsFile = "kube-assets"
	// PidsDir holds one file per long-lived process a fake runs, named
	// after its unit ("k0sworker.service.pid"), holding its process ID;
	// like the logs under LogDir it is left out of the digest.
	PidsDir = "pids"
)

// LogDir holds the logs of the real processes a fake node starts, one file
// per unit or container; it is outside Dir, so no digest sees it.
const LogDir = "/var/log/fakenode"

// VolumesDir holds docker volumes, each as <name>/_data, as dockerd's
// local driver lays them out.
const VolumesDir = "/var/lib/docker/volumes"

// K0sVersionMarker starts the trailer that testbed.FakeK0sBinary appends to
// a copy of fakenode, followed by a version and a newline: the copy then
// reports that k0s version, so tests can tell an upgraded k0s binary from
// the old one. An ELF executable ignores bytes after its sections.
const K0sVersionMarker = "\nfakenode-k0s-version="

// Volatile reports whether name (relative to Dir) is left out of a node's
// digest: the fault list, the call log and the lock file change without the
// node's state changing.
func Volatile(name string) bool {
	return name == FaultsFile || name == CallsFile || name == LockFile || name == TimesFile || name == ProcsFile ||
		name == KubeAssetsFile || name == PidsDir || strings.HasPrefix(name, PidsDir+"/")
}

// Procs are the real processes behind containers, keyed by container ID.
type Procs map[string]Proc

// Proc is one detached process (its own session): PID and the start time
// field of /proc/PID/stat, so a reused PID is not mistaken for it.
type Proc struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
	// Created are mount points the fake made on the host for the
	// container's mounts; they are removed when the process is stopped.
	Created []string `json:"created,omitempty"`
}

// Times are the start and stop times of containers, keyed by ID; a
// container without an entry has run unchanged since before the test.
type Times map[string]ContainerTimes

// ContainerTimes is when a container last started and stopped.
type ContainerTimes struct {
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// Node is the docker engine of a node and its Swarm membership.
type Node struct {
	Hostname   string `json:"hostname"`
	Address    string `json:"address"`
	Role       string `json:"role"` // "manager" or "worker"
	MCRVersion string `json:"mcrVersion"`
	Swarm      Swarm  `json:"swarm"`
	// Nodes is the Swarm node list a manager reports (docker node ls).
	Nodes      []SwarmNode `json:"nodes,omitempty"`
	Containers []Container `json:"containers,omitempty"`
	Volumes    []string    `json:"volumes,omitempty"`
	Images     []Image     `json:"images,omitempty"`
	// Uninstalls records the argv of every "docker run … uninstall-ucp".
	Uninstalls [][]string `json:"uninstalls,omitempty"`
	// Real is set on the nodes of a realistic cluster: real processes
	// behind containers, Swarm tasks and MKE's reconciliation.
	Real *Real `json:"real,omitempty"`
}

// SwarmDir is where dockerd keeps its Swarm state; the test bed binds one
// machine folder there on every node of a realistic cluster, so what a
// manager changes (node availability, services) every node sees, as
// Swarm's replicated store would make it.
const SwarmDir = "/var/lib/docker/swarm"

// SwarmFile (under SwarmDir) holds SwarmState; SwarmLock serialises it.
const (
	SwarmFile = "fakenode-swarm.json"
	SwarmLock = ".fakenode-swarm.lock"
)

// SwarmState is the cluster-wide Swarm state of a realistic cluster.
type SwarmState struct {
	// Availability maps node IDs to "active", "pause" or "drain"
	// (missing: active).
	Availability map[string]string `json:"availability"`
	// Services are the names of the Swarm services that exist.
	Services []string `json:"services"`
}

// Real configures a realistic node.
type Real struct {
	// Testbin is the folder of etcd, kube-apiserver, etcdctl, … that
	// containers and docker run --entrypoint execute.
	Testbin string `json:"testbin"`
	// Services are the global Swarm services with a task on this node.
	Services []Service `json:"services,omitempty"`
	// Reconcile is whether the MKE agent on the node starts stopped ucp-*
	// containers again while its task runs.
	Reconcile bool `json:"reconcile"`
}

// Service is a global Swarm service with its task template.
type Service struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// Mount is a container mount as docker inspect shows it.
type Mount struct {
	Type        string `json:"type"`           // "volume" or "bind"
	Name        string `json:"name,omitempty"` // the volume
	Source      string `json:"source"`         // on the host
	Destination string `json:"destination"`    // in the container
	RW          bool   `json:"rw"`
}

// Swarm is the node's Swarm state; LocalNodeState "inactive" after a leave.
type Swarm struct {
	NodeID           string `json:"nodeID,omitempty"`
	NodeAddr         string `json:"nodeAddr,omitempty"`
	LocalNodeState   string `json:"localNodeState"`
	ControlAvailable bool   `json:"controlAvailable,omitempty"`
	ClusterID        string `json:"clusterID,omitempty"`
	Managers         int    `json:"managers,omitempty"`
	Nodes            int    `json:"nodes,omitempty"`
	// RemoteManagers are "nodeID addr:2377" pairs.
	RemoteManagers []RemoteManager `json:"remoteManagers,omitempty"`
}

// RemoteManager is one manager known to a Swarm node.
type RemoteManager struct {
	NodeID string `json:"nodeID"`
	Addr   string `json:"addr"`
}

// SwarmNode is one row of docker node ls.
type SwarmNode struct {
	ID            string `json:"id"`
	Hostname      string `json:"hostname"`
	Status        string `json:"status"`
	Availability  string `json:"availability"`
	ManagerStatus string `json:"managerStatus,omitempty"` // "Leader", "Reachable" or ""
	EngineVersion string `json:"engineVersion"`
}

// Container is a docker container.
type Container struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Image   string            `json:"image"`
	Command string            `json:"command,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Running is false after docker stop: docker ps without -a hides it.
	Running bool `json:"running"`
	// Path and Args are the container's entrypoint and arguments as
	// docker inspect shows them; Mounts its mounts.
	Path   string   `json:"path,omitempty"`
	Args   []string `json:"args,omitempty"`
	Mounts []Mount  `json:"mounts,omitempty"`
	// Exec is the host argv that replaces Path to run the container as a
	// real process ("" runs nothing): the process sees Mounts at their
	// destinations in its own mount namespace.
	Exec []string `json:"exec,omitempty"`
	// Ports are the host TCP ports it publishes (network host: it
	// listens on them itself).
	Ports []int `json:"ports,omitempty"`
}

// LogsDir (under Dir, so part of the digest) keeps what containers run
// without --log-driver none printed, one file per container in docker's
// json-file format: a log driver may ship it off the node even when the
// container is removed, so the fake never deletes it.
const LogsDir = "container-logs"

// Image is a docker image.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	ID         string `json:"id"`
}

// Unit is a systemd unit; the key in Units is its full name ("docker.service").
type Unit struct {
	Active    bool   `json:"active"`
	Enabled   bool   `json:"enabled"`
	ExecStart string `json:"execStart,omitempty"`
}

// Units maps unit names to units.
type Units map[string]*Unit

// K0s is an installed k0s.
type K0s struct {
	Role      string   `json:"role"` // "controller", "controller+worker", "worker"
	Unit      string   `json:"unit"` // "k0scontroller.service" or "k0sworker.service"
	Args      []string `json:"args"` // the k0s install arguments
	Config    string   `json:"config,omitempty"`
	TokenFile string   `json:"tokenFile,omitempty"`
	Tokens    int      `json:"tokens,omitempty"` // tokens created
	// JoinTokens are the join tokens not invalidated (bootstrap token
	// secrets in kube-system for the real k0s), expired ones included.
	JoinTokens []JoinToken `json:"joinTokens,omitempty"`
	// Initialized is set by the first start of a controller: its PKI and
	// admin kubeconfig exist from then until k0s reset.
	Initialized bool `json:"initialized,omitempty"`
	// Cordoned are the node names cordoned (or drained) through this
	// controller's kubectl, sorted; uncordon removes them, so a cordon
	// undone leaves the digest as it was.
	Cordoned []string `json:"cordoned,omitempty"`
}

// JoinToken is a k0s join token a controller knows: its ID, role and
// expiry (RFC 3339, "" for none), as k0s token list shows them.
type JoinToken struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Expires string `json:"expires,omitempty"`
}

// Fault makes matching invocations fail; see testbed.Fault.
type Fault struct {
	Match           string  `json:"match"`
	ExitCode        int     `json:"exitCode,omitempty"`
	Stdout          string  `json:"stdout,omitempty"`
	Stderr          string  `json:"stderr,omitempty"`
	HangSeconds     float64 `json:"hangSeconds,omitempty"`
	CloseConnection bool    `json:"closeConnection,omitempty"`
	Times           int     `json:"times,omitempty"`
	Used            int     `json:"used,omitempty"`
}

// WriteJSON writes v as indented JSON to path atomically (temporary file in
// the same folder, then rename).
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(path, append(b, '\n'))
}

// WriteFile writes data to path atomically with mode 0644.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
