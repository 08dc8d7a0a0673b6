// Package verify checks a cluster after an upgrade against what was there
// before: every node Ready with its labels and taints, the system pods
// running, every object the upgrade carried still there (the same UID),
// every carried RBAC object present and effective, and the API answering
// on the external address. It only reads (and creates
// SubjectAccessReviews, which the API server does not store).
//
// RBAC effective: Translate binds each org's and team's members as users
// (no groups), so for every grant binding of an org or team, verify asks
// the authorizer whether a member may do the first permission of the
// granted role as served (allowed wanted), and, as a negative control,
// something no translated binding of that member gives (denied wanted:
// deleting the granted resource, creating ClusterRoleBindings or deleting
// Nodes, the first the member's bindings do not cover). The member is the
// first, by name, that no other binding already allows the permission.
// An org or team with no active member, or with no grant that gives a
// Kubernetes permission (collection grants carry structure only), is a
// skipped check saying so ("not checked: ..."), never a silent pass; so
// is a negative control for a member who may do everything (an MKE 3
// admin). A granted role that is missing or gives nothing fails. Bindings
// to groups (objects written by hand) are asked for the group. The
// report counts the reviews (Report.SubjectAccessReviews).
//
// What was there before is recorded by the upgrade in its output folder
// before anything changes (FromRun reads it): discovery.json, the RBAC
// export, and the Kubernetes inventory (TakeInventory, InventoryFile).
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// Check IDs, in the order Run checks.
const (
	CheckNodes       = "nodes"
	CheckSystemPods  = "system-pods"
	CheckObjects     = "objects"
	CheckRBACObject  = "rbac-object"
	CheckRBACAccess  = "rbac-access"
	CheckExternalAPI = "external-api"
)

// DefaultSystemNamespaces are the namespaces whose pods and workloads
// must run: Kubernetes' own and MKE 4k's (mke, where mkectl installs its
// components and the upgrade stores mke4.yaml).
var DefaultSystemNamespaces = []string{metav1.NamespaceSystem, "mke"}

// Volatile are the resources whose objects controllers and the API
// server delete and make again as they please: leader-election leases,
// endpoints, the APIServices the API server registers for its own
// group versions (its autoregister controller removes those of versions
// the new release dropped) and API priority and fairness' suggested
// configuration (which its configuration producer keeps to its release's
// set). A missing one is counted, never a failure.
var Volatile = []string{"leases.coordination.k8s.io", "endpoints", "endpointslices.discovery.k8s.io",
	"apiservices.apiregistration.k8s.io", "flowschemas.flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io"}

// Node is a node that must be there, Ready, with at least these labels
// and taints.
type Node struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Taints []corev1.Taint    `json:"taints,omitempty"`
}

// Expect is what the cluster had before the upgrade.
type Expect struct {
	Nodes []Node
	// RBAC are the carried RBAC objects (nil: none).
	RBAC *rbac.Objects
	// Inventory are the Kubernetes objects the upgrade carried (nil: the
	// objects are not checked, and InventoryMissing says why).
	Inventory        *Inventory
	InventoryMissing string
	// SystemNamespaces have their pods and workloads checked
	// (DefaultSystemNamespaces when nil).
	SystemNamespaces []string
}

// Options of Run.
type Options struct {
	Client kubernetes.Interface
	// External is a client of the API through the external address (the
	// admin kubeconfig as written); nil skips that check.
	External kubernetes.Interface
	// ExternalAddress names the external address in the report.
	ExternalAddress string
	Expect          Expect
	Logger          *slog.Logger
	// SARWait bounds how long SubjectAccessReviews that should be
	// allowed are asked again while denied (the authorizer's cache may be
	// behind RBAC just applied), counted from the first review, for all
	// of them together: DefaultSARWait when 0, none when negative. A
	// safety net: an allowed review is never waited for.
	SARWait time.Duration
}

// Check is one verdict. A skipped check did not run, and says why.
type Check struct {
	ID      string `json:"id"`      // one of the Check* constants
	Subject string `json:"subject"` // what was checked
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Message string `json:"message,omitempty"`
}

// Report is the result of Run.
type Report struct {
	Checks []Check `json:"checks"`
	// SubjectAccessReviews counts the reviews asked (the rbac-access
	// checks; one asked again while denied counts once).
	SubjectAccessReviews int `json:"subjectAccessReviews"`
}

// OK says no check failed.
func (r *Report) OK() bool { return r.Failed() == 0 }

// Failed counts the failed checks.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// WriteText writes, per check ID, how many passed; then every failed or
// skipped check, and the passed ones with something to say (a namespace
// with no pods, volatile objects gone); then the verdict.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	var ids []string
	pass, total := map[string]int{}, map[string]int{}
	for _, c := range r.Checks {
		if total[c.ID] == 0 {
			ids = append(ids, c.ID)
		}
		total[c.ID]++
		if c.OK && !c.Skipped {
			pass[c.ID]++
		}
	}
	for _, id := range ids {
		fmt.Fprintf(tw, "%s\t%d of %d passed", id, pass[id], total[id])
		if id == CheckRBACAccess {
			fmt.Fprintf(tw, "; %d SubjectAccessReviews asked", r.SubjectAccessReviews)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, c := range r.Checks {
		var v string
		switch {
		case !c.OK:
			v = "FAIL"
		case c.Skipped:
			v = "SKIP"
		case c.Message != "":
			v = "note"
		default:
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v, c.ID, c.Subject, c.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := r.Failed(); n > 0 {
		_, err := fmt.Fprintf(w, "verify: %d of %d checks failed\n", n, len(r.Checks))
		return err
	}
	_, err := fmt.Fprintf(w, "verify: all %d checks passed\n", len(r.Checks))
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	return e.Encode(struct {
		OK                   bool    `json:"ok"`
		Failed               int     `json:"failed"`
		SubjectAccessReviews int     `json:"subjectAccessReviews"`
		Checks               []Check `json:"checks"`
	}{r.OK(), r.Failed(), r.SubjectAccessReviews, checks})
}

// Run checks the cluster. Every problem is a failed Check, an API that
// does not answer too (the nodes check then says so and the others are
// not tried); the error is for a caller's mistake (no Client).
func Run(ctx context.Context, o Options) (*Report, error) {
	cs := o.Client
	if cs == nil {
		return nil, errors.New("verify: no client")
	}
	rep := &Report{}
	add := func(id, subj string, err error) {
		var n *note
		c := Check{ID: id, Subject: subj, OK: err == nil || errors.As(err, &n)}
		if err != nil {
			c.Message = err.Error()
		}
		rep.Checks = append(rep.Checks, c)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		// nothing else can be read either: one failed check says why,
		// and the external address is tried on its own
		add(CheckNodes, "the API", fmt.Errorf("cannot list the nodes: %w", err))
		external(o, add)
		return rep, nil
	}
	byName := map[string]*corev1.Node{}
	for i := range nodes.Items {
		byName[nodes.Items[i].Name] = &nodes.Items[i]
	}
	for _, want := range o.Expect.Nodes {
		add(CheckNodes, want.Name, checkNode(byName[want.Name], want))
	}

	nss := o.Expect.SystemNamespaces
	if nss == nil {
		nss = DefaultSystemNamespaces
	}
	for _, ns := range nss {
		rep.Checks = append(rep.Checks, systemPods(ctx, cs, ns))
	}

	switch {
	case o.Expect.Inventory != nil:
		rep.Checks = append(rep.Checks, checkObjects(ctx, cs.Discovery(), o.Expect.Inventory)...)
	default:
		why := o.Expect.InventoryMissing
		if why == "" {
			why = "no inventory of the objects before the upgrade"
		}
		rep.Checks = append(rep.Checks, Check{ID: CheckObjects, Subject: "carried objects", OK: true, Skipped: true, Message: why})
	}

	if objs := o.Expect.RBAC; objs != nil {
		wait := o.SARWait
		if wait == 0 {
			wait = DefaultSARWait
		}
		rep.SubjectAccessReviews = checkRBAC(ctx, cs, objs, wait, add, func(c Check) { rep.Checks = append(rep.Checks, c) })
	}

	external(o, add)
	return rep, nil
}

// external asks the API's version through the external address.
func external(o Options, add func(id, subj string, err error)) {
	if o.External == nil {
		return
	}
	subj := "the external address"
	if o.ExternalAddress != "" {
		subj = o.ExternalAddress
	}
	v, err := o.External.Discovery().ServerVersion()
	if err == nil {
		err = &note{"answers: Kubernetes " + v.GitVersion}
	}
	add(CheckExternalAPI, subj, err)
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
	for _, t := range want.Taints {
		if !slices.ContainsFunc(n.Spec.Taints, func(h corev1.Taint) bool {
			return h.Key == t.Key && h.Value == t.Value && h.Effect == t.Effect
		}) {
			problems = append(problems, fmt.Sprintf("taint %s missing", t.ToString()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// systemPods checks one system namespace: every pod Succeeded, or Running
// with its Ready condition True (after a carry the node lifecycle
// controller sets Ready False on the pods of a node whose kubelet stopped
// reporting, so a Ready True was written by the new cluster's kubelet);
// and every Deployment, StatefulSet and DaemonSet with its controller's
// counts current (observedGeneration) and as many ready replicas as it
// wants. A namespace with nothing in it passes, and the check says so.
func systemPods(ctx context.Context, cs kubernetes.Interface, ns string) Check {
	c := Check{ID: CheckSystemPods, Subject: ns}
	fail := func(err error) Check { c.Message = err.Error(); return c }
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail(err)
	}
	var bad []string
	for _, p := range pods.Items {
		if !podRuns(&p) {
			bad = append(bad, fmt.Sprintf("pod %s %s", p.Name, podState(&p)))
		}
	}
	// each workload's controller counts: current (observedGeneration)
	// and as many ready as it wants
	type workload struct {
		kind, name    string
		gen, observed int64
		ready, want   int32
	}
	replicas := func(p *int32) int32 { // the API's default when unset
		if p == nil {
			return 1
		}
		return *p
	}
	var wl []workload
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail(err)
	}
	for _, d := range deps.Items {
		wl = append(wl, workload{"Deployment", d.Name, d.Generation, d.Status.ObservedGeneration, d.Status.ReadyReplicas, replicas(d.Spec.Replicas)})
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail(err)
	}
	for _, s := range sts.Items {
		wl = append(wl, workload{"StatefulSet", s.Name, s.Generation, s.Status.ObservedGeneration, s.Status.ReadyReplicas, replicas(s.Spec.Replicas)})
	}
	dss, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail(err)
	}
	for _, d := range dss.Items {
		wl = append(wl, workload{"DaemonSet", d.Name, d.Generation, d.Status.ObservedGeneration, d.Status.NumberReady, d.Status.DesiredNumberScheduled})
	}
	for _, w := range wl {
		if w.observed < w.gen || w.ready < w.want {
			bad = append(bad, fmt.Sprintf("%s %s %d of %d ready", w.kind, w.name, w.ready, w.want))
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Errorf("not running: %s", strings.Join(bad, ", ")))
	}
	c.OK = true
	if len(pods.Items) == 0 && len(wl) == 0 {
		c.Message = "0 pods and 0 workloads: nothing runs there to check"
	} else {
		c.Message = fmt.Sprintf("%d pods running, %d workloads ready", len(pods.Items), len(wl))
	}
	return c
}

func podRuns(p *corev1.Pod) bool {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return true
	case corev1.PodRunning:
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
	}
	return false
}

func podState(p *corev1.Pod) string {
	if p.Status.Phase == corev1.PodRunning {
		return "Running but not Ready"
	}
	if p.Status.Phase == "" {
		return "with no status"
	}
	return string(p.Status.Phase)
}

// notes: passed checks with something to say.
var (
	errNothingToAsk = &note{"its role grants no permission (an org or team without grants): nothing to ask"}
	errNoRBAC       = &note{"MKE 3 had no org or team to carry"}
)

// note is a passed check's message, given to add as an error.
type note struct{ msg string }

func (n *note) Error() string { return n.msg }

// maxNamed bounds the objects a check names; the rest are counted.
const maxNamed = 10

// checkObjects lists each recorded kind (metadata only) and compares: an
// object is present when an object of that kind, namespace and name has
// the recorded UID. A missing or replaced (another UID) object fails the
// kind's check, except for the Volatile kinds and for Pods with a
// controller (their ReplicaSet, Job or DaemonSet replaces them), which are
// counted only. A kind the server no longer serves fails.
func checkObjects(ctx context.Context, dc discovery.DiscoveryInterface, inv *Inventory) []Check {
	var out []Check
	if inv.Truncated {
		out = append(out, Check{ID: CheckObjects, Subject: "inventory", Message: fmt.Sprintf("the inventory stopped at %d objects: the others were not recorded, so not checked", inv.Count())})
	}
	for _, e := range inv.Errors {
		out = append(out, Check{ID: CheckObjects, Subject: "inventory", OK: true, Skipped: true, Message: "not recorded before the upgrade: " + e})
	}
	for _, k := range inv.Kinds {
		if len(k.Objects) == 0 {
			continue
		}
		out = append(out, checkKind(ctx, dc, k))
	}
	return out
}

func checkKind(ctx context.Context, dc discovery.DiscoveryInterface, k Kind) Check {
	c := Check{ID: CheckObjects, Subject: k.Name()}
	have := map[string]string{}
	opts := metav1.ListOptions{Limit: 500}
	gvr := k.GVR()
	for {
		l, err := listMetadata(ctx, dc.RESTClient(), gvr, opts)
		if apierrors.IsNotFound(err) && opts.Continue == "" && gvr.Version == k.Version {
			// a newer release may serve the kind at another version: the
			// objects (and their metadata) are the same
			if v := preferredVersion(dc, k.Group); v != "" && v != k.Version {
				gvr.Version = v
				continue
			}
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				err = fmt.Errorf("the API server does not serve %s (recorded at %s)", k.Name(), k.GVR().GroupVersion())
			}
			c.Message = fmt.Sprintf("%d objects not checked: %v", len(k.Objects), err)
			return c
		}
		for _, it := range l.Items {
			have[Object{Namespace: it.Namespace, Name: it.Name}.Key()] = string(it.UID)
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	volatile := slices.Contains(Volatile, k.Name())
	var missing, replaced []string
	soft := 0
	for _, o := range k.Objects {
		uid, ok := have[o.Key()]
		if ok && uid == o.UID {
			continue
		}
		if volatile || (k.Name() == "pods" && o.Controlled) {
			soft++
			continue
		}
		if ok {
			replaced = append(replaced, o.Key())
		} else {
			missing = append(missing, o.Key())
		}
	}
	present := len(k.Objects) - len(missing) - len(replaced) - soft
	msg := fmt.Sprintf("%d of %d present", present, len(k.Objects))
	if soft > 0 {
		why := "volatile kind"
		if !volatile {
			why = "replaced by their controllers"
		}
		msg += fmt.Sprintf("; %d gone or replaced (%s: not required)", soft, why)
	}
	if len(missing)+len(replaced) == 0 {
		c.OK = true
		if soft > 0 {
			c.Message = msg
		}
		return c
	}
	if len(missing) > 0 {
		msg += "; missing: " + named(missing)
	}
	if len(replaced) > 0 {
		msg += "; another object (UID) under the name: " + named(replaced)
	}
	c.Message = msg
	return c
}

// metadataAccept asks for the objects' metadata only, as client-go's
// metadata client does (a server that cannot answers with the full list,
// of which only the metadata is read).
const metadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

// listMetadata lists one page of gvr's objects, metadata only, through
// the client's own connection (any kubernetes.Interface made from a
// configuration: the upgrade's step is given a client, not a
// configuration).
func listMetadata(ctx context.Context, rc rest.Interface, gvr schema.GroupVersionResource, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	if rc == nil || reflect.ValueOf(rc).IsNil() {
		return nil, errors.New("the client has no REST connection to list with")
	}
	path := "/apis/" + gvr.Group + "/" + gvr.Version + "/" + gvr.Resource
	if gvr.Group == "" {
		path = "/api/" + gvr.Version + "/" + gvr.Resource
	}
	req := rc.Get().AbsPath(path).SetHeader("Accept", metadataAccept).
		// listing every kind includes deprecated ones (v1 Endpoints): not news
		WarningHandler(rest.NoWarnings{}).Param("limit", strconv.FormatInt(opts.Limit, 10))
	if opts.Continue != "" {
		req = req.Param("continue", opts.Continue)
	}
	b, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	l := &metav1.PartialObjectMetadataList{}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
	}
	return l, nil
}

// preferredVersion is the version the server prefers for group ("" when
// it does not serve the group).
func preferredVersion(dc discovery.DiscoveryInterface, group string) string {
	gl, err := dc.ServerGroups()
	if err != nil {
		return ""
	}
	for _, g := range gl.Groups {
		if g.Name == group {
			return g.PreferredVersion.Version
		}
	}
	return ""
}

func named(keys []string) string {
	if len(keys) <= maxNamed {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:maxNamed], ", "), len(keys)-maxNamed)
}

// checkRBAC checks that each carried object exists; that each org and
// team is effective (rbacAccess: a SubjectAccessReview of a member for
// each grant, and a negative control); and, for bindings to groups (not
// what Translate makes, which binds users; objects written by hand may),
// that a SubjectAccessReview of that group for the first permission of
// the bound role (as the API server resolves it, aggregation included)
// is allowed. It returns the number of reviews created.
func checkRBAC(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, wait time.Duration, add func(id, subj string, err error), addCheck func(Check)) int {
	if objs.Len() == 0 {
		add(CheckRBACObject, "RBAC", errNoRBAC)
		return 0
	}
	rb := cs.RbacV1()
	for _, r := range objs.ClusterRoles {
		_, err := rb.ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
		add(CheckRBACObject, "ClusterRole "+r.Name, err)
	}
	var groups []func() int
	groupChecked := false
	addGroup := func(id, subj string, err error) { groupChecked = true; add(id, subj, err) }
	for _, b := range objs.ClusterRoleBindings {
		_, err := rb.ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
		add(CheckRBACObject, "ClusterRoleBinding "+b.Name, err)
		if err == nil {
			groups = append(groups, func() int { return access(ctx, cs, b.RoleRef, "", b.Subjects, addGroup) })
		}
	}
	for _, b := range objs.RoleBindings {
		_, err := rb.RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
		add(CheckRBACObject, "RoleBinding "+b.Namespace+"/"+b.Name, err)
		if err == nil {
			groups = append(groups, func() int { return access(ctx, cs, b.RoleRef, b.Namespace, b.Subjects, addGroup) })
		}
	}
	checked := false
	n := rbacAccess(ctx, cs, objs, wait, func(c Check) { checked = true; addCheck(c) })
	for _, g := range groups {
		n += g()
	}
	if !checked && !groupChecked {
		// never a silent pass: say that nothing could be asked
		addCheck(Check{ID: CheckRBACAccess, Subject: "RBAC", OK: true, Skipped: true, Message: "not checked: no org or team role (as Translate labels them) and no binding to a group among the RBAC objects, so no one to ask for"})
	}
	return n
}

// access asks, for each group subject, whether the group may do the
// first permission of ref; it returns the number of reviews created.
func access(ctx context.Context, cs kubernetes.Interface, ref rbacv1.RoleRef, ns string, subjects []rbacv1.Subject, add func(id, subj string, err error)) int {
	if !slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool { return s.Kind == rbacv1.GroupKind }) {
		return 0
	}
	var rules []rbacv1.PolicyRule
	switch ref.Kind {
	case "ClusterRole":
		r, err := cs.RbacV1().ClusterRoles().Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			add(CheckRBACAccess, ref.Kind+" "+ref.Name, err)
			return 0
		}
		rules = r.Rules
	case "Role":
		r, err := cs.RbacV1().Roles(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			add(CheckRBACAccess, ref.Kind+" "+ns+"/"+ref.Name, err)
			return 0
		}
		rules = r.Rules
	}
	attr := firstAttributes(rules, ns)
	n := 0
	for _, s := range subjects {
		if s.Kind != rbacv1.GroupKind {
			continue
		}
		if attr == nil {
			// an org or team without grants: its role holds only the
			// placeholder rule, so there is nothing it may do to ask about
			add(CheckRBACAccess, "group "+s.Name, errNothingToAsk)
			continue
		}
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{Groups: []string{s.Name}, User: "mke-migrate-verify", ResourceAttributes: attr}}
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		n++
		subj := fmt.Sprintf("group %s may %s %s", s.Name, attr.Verb, attr.Resource)
		if ns != "" {
			subj += " in " + ns
		}
		switch {
		case err != nil:
			add(CheckRBACAccess, subj, err)
		case !res.Status.Allowed:
			add(CheckRBACAccess, subj, fmt.Errorf("denied: %s", res.Status.Reason))
		default:
			add(CheckRBACAccess, subj, nil)
		}
	}
	return n
}

// firstAttributes is the first concrete permission of rules ("*" stays:
// a SubjectAccessReview for verb "*" asks for every verb). Rules limited
// to resource names are passed over: a review without a name is denied
// by them.
func firstAttributes(rules []rbacv1.PolicyRule, ns string) *authzv1.ResourceAttributes {
	for _, r := range rules {
		if len(r.Verbs) == 0 || len(r.Resources) == 0 || len(r.ResourceNames) > 0 {
			continue
		}
		g := ""
		if len(r.APIGroups) > 0 {
			g = r.APIGroups[0]
		}
		res, sub := splitResource(r.Resources[0])
		return &authzv1.ResourceAttributes{Namespace: ns, Verb: r.Verbs[0], Group: g, Resource: res, Subresource: sub}
	}
	return nil
}
