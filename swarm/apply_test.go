package swarm_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

var plane *kubetest.Plane

// apiServerRange is the node port range of the test API server
// (kube-apiserver's default), so that published ports keep their numbers.
var apiServerRange = swarm.Options{NodePortMin: 30000, NodePortMax: 32767}

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, kubetest.Options{}, &plane)) }

// resources maps the kinds the translation writes to their API resources.
var resources = map[string]schema.GroupVersionResource{
	"Namespace":             {Version: "v1", Resource: "namespaces"},
	"ConfigMap":             {Version: "v1", Resource: "configmaps"},
	"Secret":                {Version: "v1", Resource: "secrets"},
	"PersistentVolumeClaim": {Version: "v1", Resource: "persistentvolumeclaims"},
	"Service":               {Version: "v1", Resource: "services"},
	"Deployment":            {Group: "apps", Version: "v1", Resource: "deployments"},
	"DaemonSet":             {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"Job":                   {Group: "batch", Version: "v1", Resource: "jobs"},
}

// apply sends every object of res to the API server as kubectl apply
// --server-side --validate=strict [--dry-run=server] would: a server-side
// apply patch with fieldValidation=Strict (and dryRun=All), so that the API
// server runs its defaulting, validation and admission and refuses unknown
// or duplicate fields. Namespaces are created for real, because a dry run
// in a namespace that does not exist fails.
func apply(t *testing.T, dyn dynamic.Interface, res *swarm.Result, dryRun bool) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for _, ns := range res.Namespaces {
		for _, o := range ns.Objects {
			kind := o.GetObjectKind().GroupVersionKind().Kind
			gvr, ok := resources[kind]
			if !ok {
				t.Fatalf("no resource for kind %s", kind)
			}
			body, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			opts := metav1.PatchOptions{FieldManager: "mke-migrate-test", FieldValidation: "Strict", Force: new(true)}
			var ri dynamic.ResourceInterface = dyn.Resource(gvr)
			if kind != "Namespace" {
				if dryRun {
					opts.DryRun = []string{metav1.DryRunAll}
				}
				ri = dyn.Resource(gvr).Namespace(o.GetNamespace())
			}
			if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// The manifests of the simulator's default Swarm are accepted by a real
// API server, object by object.
func TestManifestsApplyToARealAPIServer(t *testing.T) {
	p := kubetest.Need(t, plane)
	dyn, err := dynamic.NewForConfig(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	// The test API server has kube-apiserver's default node port range.
	_, c := simulator(t, mke3api.Seed{})
	res, err := swarm.Export(context.Background(), c, apiServerRange)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ns := range res.Namespaces {
		n += len(ns.Objects)
	}
	if n < 15 {
		t.Fatalf("only %d objects; the default Swarm should give more", n)
	}
	for _, err := range apply(t, dyn, res, true) {
		t.Error(err)
	}
	// A dry run does not allocate node ports (the API server's dry-run
	// allocator checks neither range nor conflicts), so the objects are
	// also applied for real.
	for _, err := range apply(t, dyn, res, false) {
		t.Error(err)
	}
}

// The edge shapes of the golden tests (odd ports, names that collide or
// are too long, unknown fields, a reservation above its limit) give
// manifests the API server accepts too.
func TestEdgeShapesApplyToARealAPIServer(t *testing.T) {
	p := kubetest.Need(t, plane)
	dyn, err := dynamic.NewForConfig(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "shapes", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shapes: %v", err)
	}
	for _, path := range paths {
		res, err := swarm.Export(context.Background(), source(t, loadShape(t, path)), apiServerRange)
		if err != nil {
			t.Fatal(err)
		}
		for _, dry := range []bool{true, false} {
			for _, err := range apply(t, dyn, res, dry) {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
}

// The same check refuses what the API server refuses: a NodePort outside
// the server's range, which Options.NodePortMin/Max let through when set
// wrong. This proves the test above can fail; it applies for real, because
// a dry run would accept the port (see above).
func TestDryRunRefusesANodePortOutsideTheServerRange(t *testing.T) {
	p := kubetest.Need(t, plane)
	dyn, err := dynamic.NewForConfig(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, c := simulator(t, mke3api.Seed{})
	res, err := swarm.Export(context.Background(), c, swarm.Options{NodePortMin: 1, NodePortMax: 65535})
	if err != nil {
		t.Fatal(err)
	}
	errs := apply(t, dyn, res, false)
	if len(errs) == 0 {
		t.Fatal("the API server accepted nodePort 80")
	}
	for _, err := range errs {
		if !strings.Contains(err.Error(), "nodePort") {
			t.Errorf("unexpected refusal: %v", err)
		}
	}
}
