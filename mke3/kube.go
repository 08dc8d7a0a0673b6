package mke3

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/mke3/kubenode"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// KubeNode is a node of the MKE 3 Kubernetes cluster as the Kubernetes API
// knows it (see package mke3/kubenode, which pure packages import without
// client-go).
type KubeNode = kubenode.Node

// KubeNodes lists the Kubernetes nodes through the client bundle's
// credentials (see Bundle.RESTConfig), sorted by name. The bundle's user
// needs list on nodes, which MKE 3 admins have.
func KubeNodes(ctx context.Context, cfg *rest.Config) ([]KubeNode, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("mke3: kubernetes client: %w", err)
	}
	var out []KubeNode
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := cs.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("mke3: list kubernetes nodes: %w", err)
		}
		for _, n := range list.Items {
			out = append(out, kubeNode(n))
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	slices.SortFunc(out, func(a, b KubeNode) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func kubeNode(n corev1.Node) KubeNode {
	k := KubeNode{Name: n.Name, Labels: n.Labels}
	for _, a := range n.Status.Addresses {
		if a.Address != "" && !slices.Contains(k.Addresses, a.Address) {
			k.Addresses = append(k.Addresses, a.Address)
		}
	}
	return k
}

// MatchNode finds the node that is the host with the given hostname and
// addresses: a node whose name is the hostname (how kubelets register), or
// else one that reports one of the addresses. Empty keys never match. It is
// kubenode.Match.
func MatchNode(nodes []KubeNode, hostname string, addresses ...string) (KubeNode, bool) {
	return kubenode.Match(nodes, hostname, addresses...)
}
