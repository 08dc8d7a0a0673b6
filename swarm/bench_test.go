package swarm_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// benchSwarm is the default Swarm's services copied n times under other
// stacks, names and IDs, with its configs, secrets, networks, volumes
// and nodes: the Engine API answers of a cluster of 6n services.
func benchSwarm(b *testing.B, n int) fixed {
	def := mke3api.DefaultSwarm()
	var svcs []mke3api.EngineObject
	for i := range n {
		for _, o := range def.Services {
			var c mke3api.EngineObject
			raw, _ := json.Marshal(o)
			_ = json.Unmarshal(raw, &c)
			c["ID"] = fmt.Sprintf("%s-%d", c["ID"], i)
			spec := c["Spec"].(map[string]any)
			spec["Name"] = fmt.Sprintf("%s-%d", spec["Name"], i)
			if l, ok := spec["Labels"].(map[string]any); ok && l["com.docker.stack.namespace"] != nil {
				l["com.docker.stack.namespace"] = fmt.Sprintf("shop%d", i%10)
			}
			svcs = append(svcs, c)
		}
	}
	def.Services = svcs
	def.Tasks = nil
	return source(b, def)
}

// BenchmarkBaseline is the floor: the services answer decoded into
// generic values and written as YAML, with no translation.
func BenchmarkBaseline(b *testing.B) {
	src := benchSwarm(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(src["services"], &v); err != nil {
			b.Fatal(err)
		}
		if _, err := yaml.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExport is Read (the seven lists decoded strictly), Translate
// (with the per-field report) and Files (YAML manifests and report) for
// 600 services.
func BenchmarkExport(b *testing.B) {
	src := benchSwarm(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		res, err := swarm.Export(b.Context(), src, swarm.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := swarm.Files(res, swarm.YAML); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranslate is Read and Translate alone (no encoding).
func BenchmarkTranslate(b *testing.B) {
	src := benchSwarm(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := swarm.Export(b.Context(), src, swarm.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
