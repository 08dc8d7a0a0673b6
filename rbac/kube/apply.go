package kube

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/rbac"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// FieldManager is the server-side apply field manager of mke-migrate.
const FieldManager = "mke-migrate"

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// DryRun sends every request with dryRun=All: the server validates and
	// admits the objects, and stores nothing.
	DryRun bool
	// Adopt lets Apply take over objects of the same name that mke-migrate
	// did not create. Without it such an object is an *ApplyError wrapping
	// ErrNotOwned, because a rollback would then delete something that was
	// there before.
	Adopt bool
	// Concurrency bounds the requests in flight (default 8).
	Concurrency int
	// Logger gets one line per object written; nil is silent.
	Logger *slog.Logger
}

// ApplyResult says what Apply did to each object. Created is what a
// rollback removes (Delete(ctx, client, result.CreatedObjects(objs))).
type ApplyResult struct {
	Created   []rbac.Ref `json:"created"`
	Updated   []rbac.Ref `json:"updated"`
	Unchanged []rbac.Ref `json:"unchanged"`
	DryRun    bool       `json:"dryRun"`
}

// ErrNotOwned says an object exists that mke-migrate did not create.
var ErrNotOwned = errors.New("exists and is not managed by mke-migrate")

// ApplyError is the failure of one object.
type ApplyError struct {
	Ref rbac.Ref
	Op  string // "apply", "delete", "list"
	Err error
}

func (e *ApplyError) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Op, e.Ref, e.Err)
	switch {
	case errors.Is(e.Err, ErrNotOwned):
		msg += " (rename or remove it, or apply with adoption if it may be replaced)"
	case e.Ref.Namespace != "" && apierrors.IsNotFound(e.Err):
		msg += fmt.Sprintf(" (create namespace %q first, or drop the MKE 3 grant on it)", e.Ref.Namespace)
	}
	return msg
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Apply writes the objects with server-side apply (field manager
// mke-migrate, forced: the objects are ours): ClusterRoles first, then the
// bindings. Applying the same objects again changes nothing, so
// resourceVersions stay. The fields of aggregated roles that the
// aggregation controller owns (rules) are never sent.
//
// Every object is attempted; the failures are joined *ApplyErrors, and the
// result lists what did succeed, so a caller can roll it back.
func Apply(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, o ApplyOptions) (*ApplyResult, error) {
	log := quietLogger(o.Logger)
	res := &ApplyResult{DryRun: o.DryRun}
	existing, err := listExisting(ctx, cs, objs)
	if err != nil {
		return res, err
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	record := func(r rbac.Ref, state string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, &ApplyError{Ref: r, Op: "apply", Err: err})
			return
		}
		switch state {
		case "created":
			res.Created = append(res.Created, r)
		case "updated":
			res.Updated = append(res.Updated, r)
		default:
			res.Unchanged = append(res.Unchanged, r)
		}
		log.Debug("applied", "object", r.String(), "result", state, "dryRun", o.DryRun)
	}
	for _, phase := range applyPhases(objs) {
		forEachBounded(ctx, o.Concurrency, len(phase), func(i int) {
			it := phase[i]
			before, found := existing[it.ref]
			if found && !owned(before.labels) && !o.Adopt {
				record(it.ref, "", ErrNotOwned)
				return
			}
			after, err := it.apply(ctx, cs, o.DryRun)
			if err != nil {
				record(it.ref, "", err)
				return
			}
			switch {
			case !found:
				record(it.ref, "created", nil)
			case before.resourceVersion == after.resourceVersion && !o.DryRun,
				o.DryRun && reflect.DeepEqual(before.content, after.content):
				record(it.ref, "unchanged", nil)
			default:
				record(it.ref, "updated", nil)
			}
		})
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("apply stopped: %w", err))
	}
	sortRefs(res.Created)
	sortRefs(res.Updated)
	sortRefs(res.Unchanged)
	return res, errors.Join(errs...)
}

// DeleteResult says what Delete did.
type DeleteResult struct {
	Deleted []rbac.Ref `json:"deleted"`
	// Missing were already gone; NotOwned exist without mke-migrate's
	// label and were left alone.
	Missing  []rbac.Ref `json:"missing"`
	NotOwned []rbac.Ref `json:"notOwned"`
}

// DeleteOptions configure Delete.
type DeleteOptions struct {
	DryRun      bool
	Concurrency int
	Logger      *slog.Logger
}

// Delete removes the given objects, bindings first, but only those that
// carry mke-migrate's ownership label; each delete is conditional on the
// UID read just before, so an object replaced in the meantime survives.
// Use it with the objects Apply created to undo an apply.
func Delete(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, o DeleteOptions) (*DeleteResult, error) {
	log := quietLogger(o.Logger)
	res := &DeleteResult{}
	var (
		mu   sync.Mutex
		errs []error
	)
	for _, phase := range deletePhases(objs) {
		forEachBounded(ctx, o.Concurrency, len(phase), func(j int) {
			it := phase[j]
			state, err := it.remove(ctx, cs, o.DryRun)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, &ApplyError{Ref: it.ref, Op: "delete", Err: err})
			case state == "missing":
				res.Missing = append(res.Missing, it.ref)
			case state == "not-owned":
				res.NotOwned = append(res.NotOwned, it.ref)
			default:
				res.Deleted = append(res.Deleted, it.ref)
				log.Debug("deleted", "object", it.ref.String(), "dryRun", o.DryRun)
			}
		})
	}
	if err := sweepGhosts(ctx, cs, objs, o.DryRun); err != nil {
		errs = append(errs, err)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("delete stopped: %w", err))
	}
	sortRefs(res.Deleted)
	sortRefs(res.Missing)
	sortRefs(res.NotOwned)
	return res, errors.Join(errs...)
}

// deletePhases orders a delete: bindings, then aggregated roles, then the
// roles they select. The aggregation controller writes an aggregated role
// with server-side apply, which creates it if it is gone; deleting it
// before its parts keeps the parts' deletion from triggering that.
func deletePhases(objs *rbac.Objects) [][]item {
	var bindings, aggregated, plain []item
	for i := range objs.ClusterRoleBindings {
		bindings = append(bindings, clusterRoleBindingItem(&objs.ClusterRoleBindings[i]))
	}
	for i := range objs.RoleBindings {
		bindings = append(bindings, roleBindingItem(&objs.RoleBindings[i]))
	}
	for i := range objs.ClusterRoles {
		if objs.ClusterRoles[i].AggregationRule != nil {
			aggregated = append(aggregated, clusterRoleItem(&objs.ClusterRoles[i]))
		} else {
			plain = append(plain, clusterRoleItem(&objs.ClusterRoles[i]))
		}
	}
	return [][]item{bindings, aggregated, plain}
}

// aggregationManager is the field manager of the aggregation controller.
const aggregationManager = "clusterrole-aggregation-controller"

// ghostSettle is how long sweepGhosts lets the aggregation controller's
// queued work land before it looks.
const ghostSettle = 200 * time.Millisecond

// sweepGhosts deletes the aggregated roles that the aggregation controller
// re-created after Delete removed them (a sync already queued when the
// role went): objects of those names with no labels of ours, no
// aggregation rule, and no writer but the controller.
func sweepGhosts(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects, dryRun bool) error {
	if dryRun {
		return nil
	}
	var names []string
	for _, r := range objs.ClusterRoles {
		if r.AggregationRule != nil {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return nil // reported by the caller
	case <-time.After(ghostSettle):
	}
	var errs []error
	for _, name := range names {
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, &ApplyError{Ref: rbac.Ref{Kind: "ClusterRole", Name: name}, Op: "delete", Err: err})
			}
			continue
		}
		if !isGhost(got) {
			continue
		}
		if err := ignoreNotFound(cs.RbacV1().ClusterRoles().Delete(ctx, name, deleteOpts(got.UID, false))); err != nil {
			errs = append(errs, &ApplyError{Ref: rbac.Ref{Kind: "ClusterRole", Name: name}, Op: "delete", Err: err})
		}
	}
	return errors.Join(errs...)
}

func isGhost(r *rbacv1.ClusterRole) bool {
	if r.AggregationRule != nil || len(r.Labels) > 0 || len(r.ManagedFields) == 0 {
		return false
	}
	for _, mf := range r.ManagedFields {
		if mf.Manager != aggregationManager {
			return false
		}
	}
	return true
}

// state is what Apply compares: the resourceVersion, the labels (for
// ownership), and the content mke-migrate sets (for dry runs, where the
// resourceVersion does not move).
type state struct {
	resourceVersion string
	labels          map[string]string
	content         any
}

type item struct {
	ref    rbac.Ref
	apply  func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (state, error)
	remove func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (string, error)
}

func owned(labels map[string]string) bool { return labels[rbac.LabelManagedBy] == rbac.ManagedByValue }

// applyPhases orders an apply: roles, then bindings.
func applyPhases(objs *rbac.Objects) [][]item {
	var roles, bindings []item
	for i := range objs.ClusterRoles {
		roles = append(roles, clusterRoleItem(&objs.ClusterRoles[i]))
	}
	for i := range objs.ClusterRoleBindings {
		bindings = append(bindings, clusterRoleBindingItem(&objs.ClusterRoleBindings[i]))
	}
	for i := range objs.RoleBindings {
		bindings = append(bindings, roleBindingItem(&objs.RoleBindings[i]))
	}
	return [][]item{roles, bindings}
}

func applyOpts(dryRun bool) metav1.PatchOptions {
	force := true
	o := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if dryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	return o
}

func deleteOpts(uid types.UID, dryRun bool) metav1.DeleteOptions {
	o := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
	if dryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	return o
}

// applyMeta is the metadata mke-migrate sets: nothing the server fills.
func applyMeta(m metav1.ObjectMeta) map[string]any {
	out := map[string]any{"name": m.Name}
	if m.Namespace != "" {
		out["namespace"] = m.Namespace
	}
	if len(m.Labels) > 0 {
		out["labels"] = m.Labels
	}
	if len(m.Annotations) > 0 {
		out["annotations"] = m.Annotations
	}
	return out
}

// clusterRoleBody is the apply body of a ClusterRole: rules only when the
// role is not aggregated, because the aggregation controller owns them.
func clusterRoleBody(r *rbacv1.ClusterRole) map[string]any {
	body := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": applyMeta(r.ObjectMeta)}
	if r.AggregationRule != nil {
		body["aggregationRule"] = r.AggregationRule
	} else if len(r.Rules) > 0 {
		body["rules"] = r.Rules
	}
	return body
}

func clusterRoleContent(r *rbacv1.ClusterRole) any {
	c := struct {
		Labels, Annotations map[string]string
		Agg                 *rbacv1.AggregationRule
		Rules               []rbacv1.PolicyRule
	}{r.Labels, r.Annotations, r.AggregationRule, nil}
	if r.AggregationRule == nil {
		c.Rules = r.Rules
	}
	return c
}

func bindingContent(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) any {
	return struct {
		Labels, Annotations map[string]string
		Ref                 rbacv1.RoleRef
		Subjects            []rbacv1.Subject
	}{m.Labels, m.Annotations, ref, subjects}
}

func clusterRoleItem(r *rbacv1.ClusterRole) item {
	ref := rbac.Ref{Kind: "ClusterRole", Name: r.Name}
	return item{
		ref: ref,
		apply: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (state, error) {
			body, err := json.Marshal(clusterRoleBody(r))
			if err != nil {
				return state{}, err
			}
			got, err := cs.RbacV1().ClusterRoles().Patch(ctx, r.Name, types.ApplyPatchType, body, applyOpts(dryRun))
			if err != nil {
				return state{}, err
			}
			return state{got.ResourceVersion, got.Labels, clusterRoleContent(got)}, nil
		},
		remove: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (string, error) {
			got, err := cs.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
			if st, done, err := checkOwned(got.GetObjectMeta(), err); done {
				return st, err
			}
			return "deleted", ignoreNotFound(cs.RbacV1().ClusterRoles().Delete(ctx, r.Name, deleteOpts(got.UID, dryRun)))
		},
	}
}

func clusterRoleBindingItem(b *rbacv1.ClusterRoleBinding) item {
	ref := rbac.Ref{Kind: "ClusterRoleBinding", Name: b.Name}
	return item{
		ref: ref,
		apply: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (state, error) {
			body, err := json.Marshal(bindingBody("ClusterRoleBinding", b.ObjectMeta, b.RoleRef, b.Subjects))
			if err != nil {
				return state{}, err
			}
			got, err := cs.RbacV1().ClusterRoleBindings().Patch(ctx, b.Name, types.ApplyPatchType, body, applyOpts(dryRun))
			if err != nil {
				return state{}, err
			}
			return state{got.ResourceVersion, got.Labels, bindingContent(got.ObjectMeta, got.RoleRef, got.Subjects)}, nil
		},
		remove: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (string, error) {
			got, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
			if st, done, err := checkOwned(got.GetObjectMeta(), err); done {
				return st, err
			}
			return "deleted", ignoreNotFound(cs.RbacV1().ClusterRoleBindings().Delete(ctx, b.Name, deleteOpts(got.UID, dryRun)))
		},
	}
}

func roleBindingItem(b *rbacv1.RoleBinding) item {
	ref := rbac.Ref{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name}
	return item{
		ref: ref,
		apply: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (state, error) {
			body, err := json.Marshal(bindingBody("RoleBinding", b.ObjectMeta, b.RoleRef, b.Subjects))
			if err != nil {
				return state{}, err
			}
			got, err := cs.RbacV1().RoleBindings(b.Namespace).Patch(ctx, b.Name, types.ApplyPatchType, body, applyOpts(dryRun))
			if err != nil {
				return state{}, err
			}
			return state{got.ResourceVersion, got.Labels, bindingContent(got.ObjectMeta, got.RoleRef, got.Subjects)}, nil
		},
		remove: func(ctx context.Context, cs kubernetes.Interface, dryRun bool) (string, error) {
			got, err := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
			if st, done, err := checkOwned(got.GetObjectMeta(), err); done {
				return st, err
			}
			return "deleted", ignoreNotFound(cs.RbacV1().RoleBindings(b.Namespace).Delete(ctx, b.Name, deleteOpts(got.UID, dryRun)))
		},
	}
}

func bindingBody(kind string, m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) map[string]any {
	body := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": applyMeta(m), "roleRef": ref}
	if len(subjects) > 0 {
		body["subjects"] = subjects
	}
	return body
}

// checkOwned decides a delete from the object read: done with "missing" or
// "not-owned", or go on.
func checkOwned(m metav1.Object, err error) (string, bool, error) {
	if apierrors.IsNotFound(err) {
		return "missing", true, nil
	}
	if err != nil {
		return "", true, err
	}
	if !owned(m.GetLabels()) {
		return "not-owned", true, nil
	}
	return "", false, nil
}

// ignoreNotFound: an object deleted by someone else between the read and
// the delete is gone, which is what was wanted.
func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// listExisting reads, in three lists, the objects of the kinds Apply
// writes, keyed by Ref; only names objs uses are kept.
func listExisting(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects) (map[rbac.Ref]state, error) {
	out := make(map[rbac.Ref]state)
	want := make(map[rbac.Ref]bool, objs.Len())
	for _, p := range applyPhases(objs) {
		for _, it := range p {
			want[it.ref] = true
		}
	}
	keep := func(r rbac.Ref, rv string, labels map[string]string, content any) {
		if want[r] {
			out[r] = state{rv, labels, content}
		}
	}
	if len(objs.ClusterRoles) > 0 {
		l, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, &ApplyError{Ref: rbac.Ref{Kind: "ClusterRole"}, Op: "list", Err: err}
		}
		for i := range l.Items {
			o := &l.Items[i]
			keep(rbac.Ref{Kind: "ClusterRole", Name: o.Name}, o.ResourceVersion, o.Labels, clusterRoleContent(o))
		}
	}
	if len(objs.ClusterRoleBindings) > 0 {
		l, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, &ApplyError{Ref: rbac.Ref{Kind: "ClusterRoleBinding"}, Op: "list", Err: err}
		}
		for _, o := range l.Items {
			keep(rbac.Ref{Kind: "ClusterRoleBinding", Name: o.Name}, o.ResourceVersion, o.Labels, bindingContent(o.ObjectMeta, o.RoleRef, o.Subjects))
		}
	}
	if len(objs.RoleBindings) > 0 {
		l, err := cs.RbacV1().RoleBindings(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, &ApplyError{Ref: rbac.Ref{Kind: "RoleBinding"}, Op: "list", Err: err}
		}
		for _, o := range l.Items {
			keep(rbac.Ref{Kind: "RoleBinding", Namespace: o.Namespace, Name: o.Name}, o.ResourceVersion, o.Labels, bindingContent(o.ObjectMeta, o.RoleRef, o.Subjects))
		}
	}
	return out, nil
}

// forEachBounded runs f(0..n-1) with at most limit at once (8 when limit <= 0),
// and starts no more once ctx is done.
func forEachBounded(ctx context.Context, limit, n int, f func(int)) {
	if limit <= 0 {
		limit = 8
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

func sortRefs(rs []rbac.Ref) {
	slices.SortFunc(rs, func(a, b rbac.Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

func quietLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
