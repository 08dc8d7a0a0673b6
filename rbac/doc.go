// Package rbac carries the access model of an MKE 3 cluster (eNZi users,
// organizations and teams; Swarm roles, collections and grants) into
// Kubernetes RBAC objects in the shape MKE 4k uses: one aggregated
// ClusterRole per org and per team, bound to their members.
//
//	m, err := fromapi.Read(ctx, client, fromapi.Options{Source: host})
//	// or: m, err := rbac.DecodeExport("rbac.json", data)
//	objs, report, err := rbac.Translate(m, rbac.Options{})
//	yaml, err := rbac.Manifests(objs, rbac.FormatYAML)
//	res, err := kube.Apply(ctx, clientset, objs, kube.ApplyOptions{})
//
// This package is pure: the model, its export, Translate, the Report and
// Manifests, with neither client-go nor the MKE 3 client. Reading the
// model from the MKE 3 API is package rbac/fromapi; writing the objects to
// a cluster (server-side apply, dry run, ownership checks, Delete for a
// rollback) is package rbac/kube, the only one that needs client-go.
//
// # The export document
//
// A Model is also a JSON document (apiVersion "rbac.mke-migrate.io/v1",
// kind "MKE3RBACExport", fields in lowerCamelCase as in Model), written by
// EncodeExport in a canonical order and read strictly by DecodeExport: an
// unknown field, a repeated field, a value of the wrong type or trailing
// data is an *ExportError naming file, line and column. DecodeExport checks
// only shape; Translate judges content.
//
// # Translation contract
//
// Translate is pure and deterministic: the same model, in any order of its
// lists, gives byte-identical Manifests and the same Report. Problems with
// the input go into the Report; only a nil model and name collisions are
// errors. Every object has TypeMeta (rbac.authorization.k8s.io/v1), the
// labels LabelManagedBy=ManagedByValue and LabelKind, and AnnotationSource
// naming the MKE 3 object(s) it came from. Lists are sorted by name
// (RoleBindings by namespace, then name).
//
// Orgs and teams. Each org becomes the aggregated ClusterRole "<org>-org"
// and each team "<team>-team" (MKE 4k's documented naming), with no rules
// and an AggregationRule selecting two label sets: the role's own
// AggregateLabelPrefix+"<name>"="true", and LabelPlaceholder="true". When
// a team name occurs in more than one org, every team of that name is
// qualified as "<org>-<team>-team" (reported as info), so that no team
// receives another org's access.
//
// Placeholder. Whenever an org or team exists, the rule-less ClusterRole
// "none" (LabelPlaceholder, KindPlaceholder) is made, so that each
// aggregated role selects at least one role, as MKE 4k requires.
//
// Swarm roles. Every Swarm role in the model becomes a rule-less
// ClusterRole (KindSwarmRole) named after the role: MKE 4k keeps them for
// structure, without permissions, because Swarm operations mean nothing to
// Kubernetes. It carries the aggregation label of every org and team role
// whose org or team was granted it, on any object. A Swarm role whose name
// is a Kubernetes built-in (admin, edit, view, cluster-admin, system:*),
// the placeholder "none" (MKE 3's built-in None role among them), or an
// org or team role's name is prefixed "swarm-" (reported as info).
//
// Membership. Each team role is bound by a ClusterRoleBinding of the same
// name to the team's members, each org role to the org's members: its
// direct members and the members of all its teams. Subjects are Kubernetes
// users named exactly as the MKE 3 login name (user names are not
// sanitised), sorted and distinct. An org or team with no members keeps
// its role but gets no binding (info). Users inactive in MKE 3 are left
// out of every binding (warning), unless Options.IncludeInactiveUsers.
//
// Permissions. MKE 4k's own upgrade drops the Kubernetes access MKE 3
// grants gave; Translate carries it unless Options.StructureOnly. A grant's
// Swarm role is mapped to a Kubernetes ClusterRole by Options.Permissions
// (default DefaultPermissions: viewonly and scheduler to view,
// restrictedcontrol to edit, fullcontrol to admin, none to nothing). A
// custom role has no equivalent: no binding, a warning per grant. The
// grant's subject users are the user itself, or the members of the team
// or org (as for membership). By object:
//
//   - a namespace: a RoleBinding in that namespace named
//     "<subject role>:<ClusterRole>", where the subject role is the org or
//     team role name, or "user-<sanitised user name>" for a user;
//   - all namespaces: a ClusterRoleBinding of the same naming (membership
//     bindings have no colon, so the two cannot collide);
//   - a Swarm collection: no permission by default (info), or with
//     Options.CollectionGrants = CollectionGrantsClusterWide a
//     ClusterRoleBinding as for all namespaces (a warning: this widens
//     access). A grant on a collection not in the model is skipped.
//
// Grants that give the same binding merge their subjects. Users who are
// MKE 3 admins are bound to cluster-admin by the ClusterRoleBinding
// "mke3-admins", unless Options.SkipAdmins.
//
// Names. SanitizeName lowercases ASCII letters, turns every run of other
// characters outside [a-z0-9-] into one '-' (no transliteration), trims
// '-' and gives "unnamed" for nothing. A role name longer than MaxNameLen
// (63) is cut and given '-' and 8 hex digits of the SHA-256 of the uncut
// name. If two distinct MKE 3 inputs would get one ClusterRole name,
// Translate returns a *CollisionError naming both; Options.Rename
// ("org:<id>", "team:<id>", "role:<id>" → base name) is the way out.
//
// Bad input. Entries without an ID are left out (error). An ID used by two
// different users, orgs or teams (they share MKE 3's account ID space), or
// by two different roles or collections, leaves all of them out (error):
// keeping one would depend on input order. Identical repeats are kept
// once (warning). A team whose org is missing is left out (error); an org
// or team without a name is named after its ID (warning); a user without a
// name is left out (error). Members that are not known users, and grants
// whose subject, role, namespace name or object type is unknown or
// invalid, are skipped with a warning. Two accounts with one user name
// become one Kubernetes user (warning).
//
// # Aggregation labels
//
// MKE 4k does not publish the labels of its aggregated roles; the keys
// here (objects.go) are mke-migrate's own. Check them against a live MKE 4k
// cluster before relying on MKE 4k tools to manage the translated roles.
package rbac
