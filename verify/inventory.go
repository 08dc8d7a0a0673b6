package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
)

// InventoryFile is the name of the Kubernetes inventory in an upgrade's
// output folder.
const InventoryFile = "kube-inventory.json"

// DefaultMaxObjects bounds an inventory: about 100 bytes each, 200 000
// objects make a 20 MB file. Past it the inventory is marked Truncated and
// verify says so.
const DefaultMaxObjects = 200_000

// maxInventoryBytes bounds the file DecodeInventory reads.
const maxInventoryBytes = 64 << 20

// Inventory is what a Kubernetes API served before the upgrade: every
// object of every listable kind by kind, namespace, name and UID (its
// metadata only: a Secret's data is never read), and the Nodes with their
// labels and taints.
type Inventory struct {
	// Taken is when the listing started.
	Taken time.Time `json:"taken"`
	// Nodes are the Kubernetes nodes with their labels and taints.
	Nodes []Node `json:"nodes"`
	// Kinds are the listed resources, sorted by group and resource.
	Kinds []Kind `json:"kinds"`
	// Truncated: MaxObjects was reached; the kinds after it are missing
	// or partial.
	Truncated bool `json:"truncated,omitempty"`
	// Errors are the groups and resources that could not be listed (an
	// aggregated API that is down, say).
	Errors []string `json:"errors,omitempty"`
}

// Kind is one resource and its objects.
type Kind struct {
	Group      string   `json:"group,omitempty"`
	Version    string   `json:"version"`
	Resource   string   `json:"resource"`
	Kind       string   `json:"kind"`
	Namespaced bool     `json:"namespaced,omitempty"`
	Objects    []Object `json:"objects"`
}

// GVR is the kind's group, version and resource.
func (k Kind) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: k.Group, Version: k.Version, Resource: k.Resource}
}

// Name is resource.group ("deployments.apps"; "pods" for the core group).
func (k Kind) Name() string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}

// Object is one object of a Kind.
type Object struct {
	Namespace string `json:"ns,omitempty"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
	// Controlled: the object has a controller owner reference (a Pod of a
	// ReplicaSet, say), which its controller may replace.
	Controlled bool `json:"ctl,omitempty"`
}

// Key is namespace/name (name for cluster-scoped objects).
func (o Object) Key() string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

// notRecorded are resources never recorded: events expire (the API
// server's --event-ttl, one hour by default) and are many; component
// statuses are computed on each read, not stored (they have no UID).
var notRecorded = map[string]bool{"events": true, "events.events.k8s.io": true, "componentstatuses": true}

// InventoryOptions change TakeInventory.
type InventoryOptions struct {
	// MaxObjects bounds the objects recorded (DefaultMaxObjects when 0).
	MaxObjects int
	// PageSize is the list page (500 when 0).
	PageSize int64
	// Now stamps Taken (time.Now when nil).
	Now func() time.Time
}

// TakeInventory lists, through cfg, every object of every resource the
// API server can list (events excepted), metadata only, and the Nodes.
// A resource that cannot be listed is recorded in Errors, not fatal;
// an API server that cannot be reached is.
func TakeInventory(ctx context.Context, cfg *rest.Config, o InventoryOptions) (*Inventory, error) {
	limit := o.MaxObjects
	if limit <= 0 {
		limit = DefaultMaxObjects
	}
	page := o.PageSize
	if page <= 0 {
		page = 500
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	cfg = rest.CopyConfig(cfg)
	// listing every kind includes deprecated ones (v1 Endpoints): not news
	cfg.WarningHandler = rest.NoWarnings{}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("verify: inventory: %w", err)
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("verify: inventory: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("verify: inventory: %w", err)
	}
	inv := &Inventory{Taken: now().UTC(), Nodes: []Node{}, Kinds: []Kind{}}
	nodes, err := listNodes(ctx, cs, page)
	if err != nil {
		return nil, fmt.Errorf("verify: inventory: %w", err)
	}
	inv.Nodes = nodes
	lists, err := dc.ServerPreferredResources()
	var gdf *discovery.ErrGroupDiscoveryFailed
	switch {
	case errors.As(err, &gdf):
		for gv, e := range gdf.Groups {
			inv.Errors = append(inv.Errors, fmt.Sprintf("%s: %v", gv, e))
		}
	case err != nil:
		return nil, fmt.Errorf("verify: inventory: discovery: %w", err)
	}
	n := 0
lists:
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			inv.Errors = append(inv.Errors, fmt.Sprintf("%s: %v", l.GroupVersion, err))
			continue
		}
		for _, r := range l.APIResources {
			k := Kind{Group: gv.Group, Version: gv.Version, Resource: r.Name, Kind: r.Kind, Namespaced: r.Namespaced, Objects: []Object{}}
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || notRecorded[k.Name()] {
				continue
			}
			opts := metav1.ListOptions{Limit: page}
			for {
				ml, err := mc.Resource(k.GVR()).List(ctx, opts)
				if err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("verify: inventory: %w", ctx.Err())
					}
					inv.Errors = append(inv.Errors, fmt.Sprintf("%s: %v", k.Name(), err))
					break
				}
				for _, it := range ml.Items {
					if it.UID == "" { // not a stored object
						continue
					}
					if n >= limit {
						inv.Truncated = true
						break
					}
					n++
					k.Objects = append(k.Objects, Object{Namespace: it.Namespace, Name: it.Name, UID: string(it.UID),
						Controlled: metav1.GetControllerOfNoCopy(&it) != nil})
				}
				if inv.Truncated || ml.Continue == "" {
					break
				}
				opts.Continue = ml.Continue
			}
			inv.Kinds = append(inv.Kinds, k)
			if inv.Truncated {
				break lists
			}
		}
	}
	slices.Sort(inv.Errors)
	slices.SortFunc(inv.Kinds, func(a, b Kind) int { return strings.Compare(a.Name(), b.Name()) })
	return inv, nil
}

func listNodes(ctx context.Context, cs kubernetes.Interface, page int64) ([]Node, error) {
	out := []Node{}
	opts := metav1.ListOptions{Limit: page}
	for {
		l, err := cs.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		for _, n := range l.Items {
			out = append(out, Node{Name: n.Name, Labels: n.Labels, Taints: carriedTaints(n.Spec.Taints)})
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// carriedTaints leaves out the node.kubernetes.io/ taints: the node
// lifecycle controller sets and removes them from the Node's conditions
// (not-ready, unreachable, disk-pressure...), so they say how the node was
// at that moment, not what the cluster chose. One of them is an
// operator's: node.kubernetes.io/out-of-service, which Kubernetes'
// documentation of well-known taints says a user sets by hand after a
// non-graceful shutdown; it goes uncompared too (a node shut down so is
// not expected to come back Ready through an upgrade).
func carriedTaints(ts []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range ts {
		if !strings.HasPrefix(t.Key, "node.kubernetes.io/") {
			out = append(out, corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
		}
	}
	return out
}

// Count is the number of objects recorded.
func (inv *Inventory) Count() int {
	n := 0
	for _, k := range inv.Kinds {
		n += len(k.Objects)
	}
	return n
}

// Encode writes the inventory as JSON (one line per object is not needed:
// the file is read whole, bounded by DecodeInventory).
func (inv *Inventory) Encode() ([]byte, error) {
	return json.Marshal(inv)
}

// DecodeInventory reads an inventory written by Encode; name is the file
// named in errors. It refuses more than 64 MiB, unknown fields, and
// entries without a resource, version, name or UID.
func DecodeInventory(name string, b []byte) (*Inventory, error) {
	if len(b) > maxInventoryBytes {
		return nil, fmt.Errorf("verify: %s: %d bytes, more than %d MiB", name, len(b), maxInventoryBytes>>20)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	inv := &Inventory{}
	if err := d.Decode(inv); err != nil {
		return nil, fmt.Errorf("verify: %s: %w", name, err)
	}
	if d.More() {
		return nil, fmt.Errorf("verify: %s: data after the inventory", name)
	}
	inv.Taken = inv.Taken.UTC()
	for i, n := range inv.Nodes {
		if n.Name == "" {
			return nil, fmt.Errorf("verify: %s: node %d has no name", name, i+1)
		}
		for j := range n.Taints {
			n.Taints[j].TimeAdded = nil // never recorded: not compared
		}
	}
	seen := map[string]bool{}
	for i, k := range inv.Kinds {
		if k.Resource == "" || k.Version == "" {
			return nil, fmt.Errorf("verify: %s: kind %d has no resource or version", name, i+1)
		}
		if seen[k.Name()] {
			return nil, fmt.Errorf("verify: %s: %s appears twice", name, k.Name())
		}
		seen[k.Name()] = true
		for j, o := range k.Objects {
			if o.Name == "" || o.UID == "" {
				return nil, fmt.Errorf("verify: %s: %s object %d has no name or UID", name, k.Name(), j+1)
			}
			if k.Namespaced != (o.Namespace != "") {
				return nil, fmt.Errorf("verify: %s: %s %s: a namespace on a cluster-scoped kind, or none on a namespaced one", name, k.Name(), o.Key())
			}
		}
	}
	return inv, nil
}
