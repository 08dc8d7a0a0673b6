// Package verify checks a cluster after an upgrade against what was there
// before: every node Ready with its labels, the system pods running, every
// carried RBAC object present and effective (a SubjectAccessReview per
// org and team group and the permission its role grants), and the API
// answering on the external address. It only reads (and creates
// SubjectAccessReviews, which the API server does not store).
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// Node is a node that must be there, with at least these labels.
type Node struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Expect is what the cluster had before the upgrade.
type Expect struct {
	Nodes []Node
	// RBAC are the carried RBAC objects (nil: none).
	RBAC *rbac.Objects
	// SystemNamespaces have their pods checked (default kube-system).
	SystemNamespaces []string
}

// Options of Run.
type Options struct {
	Client kubernetes.Interface
	// External is a client of the API through the external address (the
	// admin kubeconfig as written); nil skips that check.
	External kubernetes.Interface
	Expect   Expect
	Logger   *slog.Logger
}

// Check is one verdict.
type Check struct {
	ID      string `json:"id"`      // nodes, system-pods, rbac-object, rbac-access, external-api
	Subject string `json:"subject"` // what was checked
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
}

// Report is the result of Run.
type Report struct {
	Checks []Check `json:"checks"`
}

// OK says every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// WriteText lists the failed checks and a count.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	ok := 0
	for _, c := range r.Checks {
		if c.OK {
			ok++
			continue
		}
		fmt.Fprintf(tw, "FAIL\t%s\t%s\t%s\n", c.ID, c.Subject, c.Message)
	}
	fmt.Fprintf(tw, "%d of %d checks passed\n", ok, len(r.Checks))
	return tw.Flush()
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(struct {
		OK bool `json:"ok"`
		*Report
	}{r.OK(), r})
}

// Run checks the cluster. An error is returned only when the API cannot
// be read at all; every other problem is a failed Check.
func Run(ctx context.Context, o Options) (*Report, error) {
	cs := o.Client
	rep := &Report{}
	add := func(id, subj string, err error) {
		c := Check{ID: id, Subject: subj, OK: err == nil}
		if err != nil {
			c.Message = err.Error()
		}
		rep.Checks = append(rep.Checks, c)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("verify: list nodes: %w", err)
	}
	byName := map[string]*corev1.Node{}
	for i := range nodes.Items {
		byName[nodes.Items[i].Name] = &nodes.Items[i]
	}
	for _, want := range o.Expect.Nodes {
		add("nodes", want.Name, checkNode(byName[want.Name], want))
	}

	nss := o.Expect.SystemNamespaces
	if nss == nil {
		nss = []string{metav1.NamespaceSystem}
	}
	for _, ns := range nss {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			add("system-pods", ns, err)
			continue
		}
		var bad []string
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodSucceeded {
				bad = append(bad, p.Name+" "+string(p.Status.Phase))
			}
		}
		if len(bad) > 0 {
			add("system-pods", ns, fmt.Errorf("not running: %s", strings.Join(bad, ", ")))
		} else {
			add("system-pods", ns, nil)
		}
	}

	if objs := o.Expect.RBAC; objs != nil {
		checkRBAC(ctx, cs, objs, add)
	}

	if o.External != nil {
		v, err := o.External.Discovery().ServerVersion()
		if err == nil {
			add("external-api", "version "+v.GitVersion, nil)
		} else {
			add("external-api", "the external address", err)
		}
	}
	return rep, nil
}

func checkNode(n *corev1.Node, want Node) error {
	if n == nil {
		return fmt.Errorf("no such node")
	}
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	var problems []string
	if !ready {
		problems = append(problems, "not Ready")
	}
	var keys []string
	for k := range want.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if got, ok := n.Labels[k]; !ok || got != want.Labels[k] {
			problems = append(problems, fmt.Sprintf("label %s=%s missing (has %q)", k, want.Labels[k], got))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// checkRBAC checks that each carried object exists, and for each binding
// to a group (an org or a team) that a SubjectAccessReview of that group
// for the first permission of the bound role (as the API server resolves
// it, aggregation included) is allowed.
func checkRBAC(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, add func(id, subj string, err error)) {
	rb := cs.RbacV1()
	for _, r := range objs.ClusterRoles {
		_, err := rb.ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
		add("rbac-object", "ClusterRole "+r.Name, err)
	}
	for _, b := range objs.ClusterRoleBindings {
		_, err := rb.ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
		add("rbac-object", "ClusterRoleBinding "+b.Name, err)
		if err == nil {
			access(ctx, cs, b.RoleRef, "", b.Subjects, add)
		}
	}
	for _, b := range objs.RoleBindings {
		_, err := rb.RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
		add("rbac-object", "RoleBinding "+b.Namespace+"/"+b.Name, err)
		if err == nil {
			access(ctx, cs, b.RoleRef, b.Namespace, b.Subjects, add)
		}
	}
}

func access(ctx context.Context, cs kubernetes.Interface, ref rbacv1.RoleRef, ns string, subjects []rbacv1.Subject, add func(id, subj string, err error)) {
	var rules []rbacv1.PolicyRule
	switch ref.Kind {
	case "ClusterRole":
		r, err := cs.RbacV1().ClusterRoles().Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			add("rbac-access", ref.Kind+" "+ref.Name, err)
			return
		}
		rules = r.Rules
	case "Role":
		r, err := cs.RbacV1().Roles(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			add("rbac-access", ref.Kind+" "+ns+"/"+ref.Name, err)
			return
		}
		rules = r.Rules
	}
	attr := firstAttributes(rules, ns)
	if attr == nil {
		return // a role without permissions (MKE 4k's placeholder): nothing to grant
	}
	for _, s := range subjects {
		if s.Kind != rbacv1.GroupKind {
			continue
		}
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{Groups: []string{s.Name}, User: "mke-migrate-verify", ResourceAttributes: attr}}
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		subj := fmt.Sprintf("group %s may %s %s", s.Name, attr.Verb, attr.Resource)
		if ns != "" {
			subj += " in " + ns
		}
		switch {
		case err != nil:
			add("rbac-access", subj, err)
		case !res.Status.Allowed:
			add("rbac-access", subj, fmt.Errorf("denied: %s", res.Status.Reason))
		default:
			add("rbac-access", subj, nil)
		}
	}
}

// firstAttributes is the first concrete permission of rules ("*" stays:
// a SubjectAccessReview for verb "*" asks for every verb).
func firstAttributes(rules []rbacv1.PolicyRule, ns string) *authzv1.ResourceAttributes {
	for _, r := range rules {
		if len(r.Verbs) == 0 || len(r.Resources) == 0 {
			continue
		}
		g := ""
		if len(r.APIGroups) > 0 {
			g = r.APIGroups[0]
		}
		return &authzv1.ResourceAttributes{Namespace: ns, Verb: r.Verbs[0], Group: g, Resource: r.Resources[0]}
	}
	return nil
}
