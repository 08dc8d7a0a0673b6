package convert

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// FuzzConvert feeds arbitrary bytes through Parse and Convert. Invariants:
// no panic; a parsed document has every leaf in the report; the produced
// configuration marshals and reads back.
func FuzzConvert(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "mke3", "*.toml"))
	for _, p := range append(seeds, shared...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[cluster_config]\ncalico_kdd = true\ncustom_kube_api_server_flags = [\"--a=b\", \"--c d\", \"--e\"]\n"))
	f.Add([]byte("[cluster_config.custom_kubelet_flags_profiles]\nx = \"--max-pods=10 --eviction-hard=memory.available<1Gi\"\n"))
	f.Add([]byte("[[cluster_config.ingress_controller.ingress_exposed_ports]]\nname = \"https\"\nnode_port = 1\n"))
	f.Add([]byte("a = {b = [{c = 1}, {d = 2}]}\n"))
	f.Add([]byte("[hyperkube]\n[cluster_config]\ncalico_kdd = true\n[cluster_config.ingress_controller]\ningress_udp_services = {}\n[[registries]]\n"))
	f.Add([]byte("[cluster_config]\nkubelet_max_pods = 100\nnodeport_range = \"32768-35535\"\ncustom_kubelet_flags = [\"--max-pods\", \"50\", \"--fail-swap-on\", \"false\"]\ncustom_kube_api_server_flags = [\"--service-node-port-range=30000-32767\", \"--profiling\", \"false\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data)
		if err != nil {
			return
		}
		out, rep, err := Convert(cfg, Options{})
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		reported := map[string]bool{}
		for _, e := range rep.Entries {
			reported[e.Key] = true
		}
		for _, l := range cfg.Leaves {
			if !reported[l.Key] {
				t.Fatalf("leaf %s missing from the report", l.Key)
			}
		}
		y, err := mke4.Marshal(out)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := mke4.Unmarshal(y)
		if err != nil {
			t.Fatalf("Unmarshal of our own output: %v\n%s", err, y)
		}
		if !reflect.DeepEqual(back, out) {
			t.Fatalf("Convert's output differs after Marshal and Unmarshal\nbefore: %#v\nafter:  %#v", out, back)
		}
		if _, err := rep.JSON(); err != nil {
			t.Fatalf("report JSON: %v", err)
		}
		if _, err := Check(cfg, Options{}); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})
}
