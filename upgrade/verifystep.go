package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/verify"
)

// Files the verify step writes in the output folder.
const (
	VerifyTextFile = "verify.txt"
	VerifyJSONFile = "verify.json"
)

// VerifyError is the error of a verify step whose checks failed: the
// upgrade itself finished (past the point of no return), the new cluster
// is not what the output folder recorded before it. Report lists every
// check; the step also wrote it as verify.txt and verify.json.
type VerifyError struct {
	Report *verify.Report
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("the new cluster fails %d of %d verify checks (%s in the output folder)", e.Report.Failed(), len(e.Report.Checks), VerifyTextFile)
}

// mke3KubeConfig is Options.MKE3KubeConfig, by default MKE 3's
// Kubernetes API through the client bundle of the MKE 3 client (nil
// without one).
func (o *Options) mke3KubeConfig() func(ctx context.Context) (*rest.Config, error) {
	if o.MKE3KubeConfig != nil || o.MKE3 == nil {
		return o.MKE3KubeConfig
	}
	c := o.MKE3
	return func(ctx context.Context) (*rest.Config, error) {
		b, err := c.ClientBundle(ctx)
		if err != nil {
			return nil, err
		}
		return b.RESTConfig()
	}
}

// kubeInventoryStep lists every object MKE 3's Kubernetes API serves
// (kind, namespace, name, UID; metadata only, so no Secret's data) and
// the Nodes' labels and taints into the output folder, before anything
// changes: what the verify step then finds again in k0s. An API that
// cannot be listed stops the run there (nothing changed yet). A resumed
// run without MKE 3's API (resume takes no MKE 3 credentials) records
// nothing and says so; verify then skips the carried objects, saying why.
func kubeInventoryStep(e *Env) *plan.Step {
	return &plan.Step{Name: "kube-inventory", Phase: PhaseBackup,
		Changes: "writes " + verify.InventoryFile + " (every Kubernetes object of MKE 3 by kind, namespace, name and UID; no Secret data) to the output directory",
		Do: func(ctx context.Context, r *plan.Run) error {
			if e.MKE3KubeConfig == nil {
				r.Logger.Warn("no MKE 3 API to list the Kubernetes objects from: verify will not check the carried objects")
				return nil
			}
			cfg, err := e.MKE3KubeConfig(ctx)
			var inv *verify.Inventory
			if err == nil {
				inv, err = verify.TakeInventory(ctx, cfg, verify.InventoryOptions{})
			}
			if err == nil {
				return writeInventory(e, r, inv)
			}
			// nothing has changed yet: the run stops (and rolls back
			// nothing) rather than end with the carried objects unchecked
			return fmt.Errorf("listing MKE 3's Kubernetes objects for verify: %w (make MKE 3's Kubernetes API, the client bundle's server, reachable from here, or give --skip-verify)", err)
		}}
}

func writeInventory(e *Env, r *plan.Run, inv *verify.Inventory) error {
	b, err := inv.Encode()
	if err != nil {
		return err
	}
	r.Logger.Info("kubernetes inventory", "objects", inv.Count(), "kinds", len(inv.Kinds), "truncated", inv.Truncated, "errors", len(inv.Errors))
	return atomicfile.WriteFile(filepath.Join(e.OutputDir, verify.InventoryFile), b, 0o600)
}

// verifyStep checks the new cluster against what the output folder
// recorded before the upgrade (verify.FromRun; the run's own translated
// RBAC): the nodes Ready with their labels and taints, the system pods,
// the carried objects, the applied RBAC objects and their effect, the API
// on the external address (the admin kubeconfig points there). It changes
// nothing but verify.txt and verify.json. It comes after MKE 3's
// uninstall: a failure is reported, never rolled back (the way back is
// gone, and undoing a working upgrade because a check failed would lose
// more than it saves); resume runs the checks again.
func verifyStep(e *Env) *plan.Step {
	return &plan.Step{Name: "verify", Phase: PhaseOutput, Changes: "nothing: checks the new cluster against what the output folder recorded before the upgrade (mke-migrate verify); writes " + VerifyTextFile + " and " + VerifyJSONFile,
		Do: func(ctx context.Context, r *plan.Run) error {
			exp, err := verify.FromRun(e.OutputDir, nil)
			if err != nil {
				return err
			}
			exp.RBAC = e.Cluster.RBACObjects
			exp.SystemNamespaces = e.SystemNamespaces
			kc, err := e.adminKubeconfig(ctx)
			if err != nil {
				return err // the leader did not answer: not a verdict on the cluster
			}
			var rep *verify.Report
			if cs, err := e.clientFrom(ctx, kc); err != nil {
				// the admin kubeconfig k0s printed is unusable: no API
				// answers through it, a verdict on the new cluster
				rep = &verify.Report{Checks: []verify.Check{{ID: verify.CheckNodes, Subject: "the API",
					Message: "the admin kubeconfig makes no client: " + err.Error()}}}
			} else if rep, err = verify.Run(ctx, verify.Options{Client: cs, External: cs, ExternalAddress: e.ExternalAddress, Expect: exp, Logger: r.Logger}); err != nil {
				return err
			}
			var txt, js bytes.Buffer
			if err := errors.Join(rep.WriteText(&txt), rep.WriteJSON(&js)); err != nil {
				return err
			}
			for name, b := range map[string][]byte{VerifyTextFile: txt.Bytes(), VerifyJSONFile: js.Bytes()} {
				if err := atomicfile.WriteFile(filepath.Join(e.OutputDir, name), b, 0o600); err != nil {
					return err
				}
			}
			r.Logger.Info("verify", "checks", len(rep.Checks), "failed", rep.Failed(), "subjectAccessReviews", rep.SubjectAccessReviews,
				"report", strings.TrimSpace(txt.String()))
			if !rep.OK() {
				return &VerifyError{Report: rep}
			}
			return nil
		}}
}

// kubeInventory says whether the run takes the inventory of MKE 3's
// Kubernetes objects (for verify): only when the objects are carried,
// verify runs, and MKE 3's API is known.
func (o *Options) kubeInventory(carried bool) bool {
	return carried && !o.SkipVerify && (o.MKE3 != nil || o.MKE3KubeConfig != nil)
}
