package swarm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixed is a Source serving fixed Engine API answers.
type fixed map[string][]byte

func (f fixed) EngineList(_ context.Context, list string) ([]byte, error) {
	if b, ok := f[list]; ok {
		return b, nil
	}
	if list == "volumes" {
		return []byte(`{"Volumes":null,"Warnings":null}`), nil
	}
	return []byte("[]"), nil
}

// source encodes a Swarm seed as the Engine API would answer it, with only
// the services whose names are given (all when none).
func source(t testing.TB, s mke3api.Swarm, services ...string) fixed {
	t.Helper()
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var svcs []mke3api.EngineObject
	for _, o := range s.Services {
		name, _ := o["Spec"].(map[string]any)["Name"].(string)
		if len(services) == 0 || slices.Contains(services, name) {
			svcs = append(svcs, o)
		}
	}
	var secrets []mke3api.EngineObject
	for _, o := range s.Secrets {
		c := mke3api.EngineObject{}
		for k, v := range o {
			c[k] = v
		}
		spec := map[string]any{}
		for k, v := range o["Spec"].(map[string]any) {
			if k != "Data" {
				spec[k] = v
			}
		}
		c["Spec"] = spec
		secrets = append(secrets, c)
	}
	orEmpty := func(l []mke3api.EngineObject) []mke3api.EngineObject {
		if l == nil {
			return []mke3api.EngineObject{}
		}
		return l
	}
	return fixed{
		"services": enc(orEmpty(svcs)), "tasks": enc(orEmpty(s.Tasks)), "configs": enc(orEmpty(s.Configs)),
		"secrets": enc(orEmpty(secrets)), "networks": enc(orEmpty(s.Networks)), "nodes": enc(orEmpty(s.Nodes)),
		"volumes": enc(map[string]any{"Volumes": s.Volumes}),
	}
}

// render is what a golden file holds: the manifests and the report.
func render(t testing.TB, res *swarm.Result) []byte {
	t.Helper()
	files, err := swarm.Files(res, swarm.YAML)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if n == "report.yaml" {
			continue // report.txt says the same
		}
		fmt.Fprintf(&b, "### %s\n%s", n, files[n])
	}
	return b.Bytes()
}

// loadShape reads a Swarm seed (Engine API objects) from a JSON file.
func loadShape(t testing.TB, path string) mke3api.Swarm {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s mke3api.Swarm
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./swarm -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test ./swarm -update rewrites it); got:\n%s", name, p, got)
	}
}

// Each service of the simulator's realistic Swarm, alone, against its
// golden manifests and report: a replicated web tier (ingress ports, a
// config, a healthcheck, constraints), a worker (secrets, a numeric user,
// tmpfs), a database (named volume, dnsrr), a replicated job, a global
// agent (host port, bind mounts) and a global job.
func TestGoldenServiceShapes(t *testing.T) {
	def := mke3api.DefaultSwarm()
	for _, svc := range []string{"shop_web", "shop_worker", "shop_db", "shop_migrate", "monitoring-agent", "node-cleanup"} {
		t.Run(svc, func(t *testing.T) {
			res, err := swarm.Export(context.Background(), source(t, def, svc), swarm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Report.Services) != 1 {
				t.Fatalf("%d services reported", len(res.Report.Services))
			}
			golden(t, svc, render(t, res))
		})
	}
}

// Hand-written shapes in testdata/shapes (Engine API answers as a Swarm
// seed): edge cases the realistic set does not have.
func TestGoldenEdgeShapes(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "shapes", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shapes: %v", err)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		t.Run(name, func(t *testing.T) {
			res, err := swarm.Export(context.Background(), source(t, loadShape(t, p)), swarm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, render(t, res))
		})
	}
}

// The whole default Swarm through the simulator, twice: the output is the
// same bytes, and every service is exported.
func TestExportIsDeterministic(t *testing.T) {
	a, b := render(t, exportDefault(t)), render(t, exportDefault(t))
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of the same Swarm differ")
	}
	res := exportDefault(t)
	if res.Exported != 6 || len(res.Report.Services) != 6 {
		t.Fatalf("exported %d of %d services, want 6 of 6", res.Exported, len(res.Report.Services))
	}
}
