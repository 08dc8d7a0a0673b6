// Package kube writes the RBAC objects of a translation (rbac.Translate)
// to a Kubernetes cluster with client-go, and removes them again.
//
// Apply uses server-side apply with the field manager FieldManager, in
// dependency order (roles before the bindings that name them), with dry
// run (ApplyOptions.DryRun) and an ownership check: an object of the same
// name that mke-migrate did not create (no rbac.LabelManagedBy =
// rbac.ManagedByValue) is an *ApplyError wrapping ErrNotOwned unless
// ApplyOptions.Adopt. ApplyResult.Created is what a rollback removes:
//
//	res, err := kube.Apply(ctx, clientset, objs, kube.ApplyOptions{})
//	if err != nil {
//		_, _ = kube.Delete(ctx, clientset, rbac.Select(objs, res.Created), kube.DeleteOptions{})
//	}
//
// Delete removes only objects that carry the ownership label. This is the
// one RBAC package that needs client-go; package rbac stays pure.
package kube
