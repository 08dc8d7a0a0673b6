package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

// Labels and annotations on every object Translate makes. The aggregation
// scheme is ours (MKE 4k does not publish its own; see doc.go).
const (
	// LabelManagedBy marks the objects mke-migrate owns; kube.Delete removes only
	// objects that carry it with ManagedByValue.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "mke-migrate"

	// LabelKind says what an object stands for: one of the Kind* values.
	LabelKind = "rbac.mke-migrate.io/kind"

	// AggregateLabelPrefix + the name of an aggregated ClusterRole (cut to 63
	// characters with a hash suffix when longer) is the label key, with the
	// value "true", that makes a ClusterRole part of that aggregated role.
	AggregateLabelPrefix = "aggregate-to.rbac.mke-migrate.io/"

	// LabelPlaceholder marks the rule-less "none" role that every aggregated
	// role also selects, so that none of them aggregates nothing.
	LabelPlaceholder = "rbac.mke-migrate.io/placeholder"

	// AnnotationSource records the MKE 3 object an object was made from
	// (kind, name and ID as MKE 3 had them), because names are sanitised.
	AnnotationSource = "rbac.mke-migrate.io/source"
)

// Values of LabelKind.
const (
	KindOrg         = "org"         // <org>-org aggregated ClusterRole
	KindTeam        = "team"        // <team>-team aggregated ClusterRole
	KindSwarmRole   = "swarm-role"  // rule-less ClusterRole kept for structure
	KindPlaceholder = "placeholder" // the rule-less "none" ClusterRole
	KindMembership  = "membership"  // binds users to their org or team role
	KindGrant       = "grant"       // binds a permission granted in MKE 3
)

// Objects are the Kubernetes RBAC objects a translation makes, each list in
// a deterministic order (by name, then namespace). Every object has its
// TypeMeta, LabelManagedBy and LabelKind set. Aggregated ClusterRoles have an
// AggregationRule and no Rules: the cluster's aggregation controller fills
// them.
type Objects struct {
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	RoleBindings        []rbacv1.RoleBinding
}

// Len is the number of objects.
func (o *Objects) Len() int {
	return len(o.ClusterRoles) + len(o.ClusterRoleBindings) + len(o.RoleBindings)
}

// Ref names one object.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r Ref) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Select returns the objects of objs that refs name, for example the
// Created list of an ApplyResult, to give to kube.Delete.
func Select(objs *Objects, refs []Ref) *Objects {
	want := make(map[Ref]bool, len(refs))
	for _, r := range refs {
		want[r] = true
	}
	out := &Objects{}
	for _, o := range objs.ClusterRoles {
		if want[Ref{Kind: "ClusterRole", Name: o.Name}] {
			out.ClusterRoles = append(out.ClusterRoles, o)
		}
	}
	for _, o := range objs.ClusterRoleBindings {
		if want[Ref{Kind: "ClusterRoleBinding", Name: o.Name}] {
			out.ClusterRoleBindings = append(out.ClusterRoleBindings, o)
		}
	}
	for _, o := range objs.RoleBindings {
		if want[Ref{Kind: "RoleBinding", Namespace: o.Namespace, Name: o.Name}] {
			out.RoleBindings = append(out.RoleBindings, o)
		}
	}
	return out
}
