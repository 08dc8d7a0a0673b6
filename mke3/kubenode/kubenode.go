// Package kubenode holds the view of an MKE 3 Kubernetes node that the
// migration needs (name, addresses, labels) and the rule that matches a
// node to a host. It is data only, with no dependency beyond the standard
// library: package mke3 reads nodes with client-go (mke3.KubeNodes) and
// re-exports these as mke3.KubeNode and mke3.MatchNode, while pure
// packages such as upgrade/preflight import only this one.
package kubenode

import (
	"slices"
	"strings"
)

// Node is a node of the MKE 3 Kubernetes cluster as the Kubernetes API
// knows it: what the migration needs to match it to a host of hosts.yaml
// and to carry its labels (the kubelet profile label among them).
type Node struct {
	Name string `json:"name"`
	// Addresses are the node's status addresses (InternalIP, ExternalIP,
	// Hostname, ...), in the order the kubelet reported them.
	Addresses []string          `json:"addresses,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Match finds the node that is the host with the given hostname and
// addresses: a node whose name is the hostname (how kubelets register), or
// else one that reports one of the addresses. Empty keys never match.
func Match(nodes []Node, hostname string, addresses ...string) (Node, bool) {
	if hostname != "" {
		for _, n := range nodes {
			if strings.EqualFold(n.Name, hostname) {
				return n, true
			}
		}
	}
	for _, n := range nodes {
		for _, a := range addresses {
			if a != "" && slices.Contains(n.Addresses, a) {
				return n, true
			}
		}
	}
	return Node{}, false
}
