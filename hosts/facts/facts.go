// Package facts holds the facts mke-migrate learns about a node
// (hosts.Client.Facts gathers them over SSH). It is data only, with no
// dependency beyond the standard library, so that pure packages such as
// upgrade/preflight can take facts without pulling SSH (rig) in.
//
// Package hosts re-exports these types under their historical names
// (hosts.Facts, hosts.SwarmFacts, hosts.PortUse, hosts.OSRelease).
package facts

import "time"

// OSRelease identifies a host's operating system.
type OSRelease struct {
	ID      string   `json:"id"`      // "ubuntu"
	IDLike  []string `json:"idLike"`  // ["debian"]
	Version string   `json:"version"` // VERSION_ID: "22.04"
	Arch    string   `json:"arch"`    // GOARCH spelling: "amd64", "arm64"
}

// Swarm describes the node's Docker Swarm membership.
type Swarm struct {
	NodeID         string `json:"nodeID"`
	ClusterID      string `json:"clusterID"`
	Role           string `json:"role"` // "manager", "worker" or "" (not in a swarm)
	Leader         bool   `json:"leader"`
	LocalNodeState string `json:"localNodeState"`
}

// PortUse says whether a TCP port is listened on.
type PortUse struct {
	Port  int  `json:"port"`
	InUse bool `json:"inUse"`
}

// Node is what hosts.Client.Facts learns about a node, read-only. A fact
// whose tool is missing on the node is left empty.
type Node struct {
	Address         string        `json:"address"`
	OS              OSRelease     `json:"os"`
	Hostname        string        `json:"hostname"`
	MachineID       string        `json:"machineID"`
	Sudo            bool          `json:"sudo"`
	MCRVersion      string        `json:"mcrVersion"` // "" = no docker
	Swarm           Swarm         `json:"swarm"`
	MKEVersion      string        `json:"mkeVersion"` // tag of the ucp-proxy image
	MKEContainers   []string      `json:"mkeContainers"`
	FreeVarLibBytes uint64        `json:"freeVarLibBytes"`
	Ports           []PortUse     `json:"ports"`
	ClockSkew       time.Duration `json:"clockSkewNanoseconds"` // remote now - local now
	Windows         bool          `json:"windows"`
	CPUs            int           `json:"cpus"`
	MemoryBytes     uint64        `json:"memoryBytes"`
}
