package mke4

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// accepts survives Marshal and a second Unmarshal unchanged.
func FuzzUnmarshal(f *testing.F) {
	if golden, err := os.ReadFile(goldenDefault); err == nil {
		f.Add(golden)
	}
	if full, err := Marshal(fullConfig()); err == nil {
		f.Add(full)
	}
	f.Add([]byte(generatedLike))
	for _, s := range []string{
		"",
		"null",
		"kind: MkeConfig\n",
		"spec:\n  hosts: []\n",
		"spec: {kubelet: {customProfiles: [{name: a, values: {x: 1.5, y: [1, {z: null}], w: {}}}]}}\n",
		"spec: {ingressController: {nodePorts: {tcp: {9000: 30011}}, tcpServices: {9000: default/x:9000}}}\n",
		"spec: {network: {providers: [{provider: calico, enabled: yes, extraConfig: {v: \"5\"}}]}}\n",
		"spec: {apiServer: {extraArgs: {a: null}}}\n",
		"a: &a [*a]\n",
		"spec: {kubelet: {maxPods: 9007199254740993}}\n",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Unmarshal(data)
		if err != nil {
			return
		}
		_ = cfg.Validate() // must not panic either
		out, err := Marshal(cfg)
		if err != nil {
			t.Fatalf("Marshal of an accepted document failed: %v", err)
		}
		again, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("re-Unmarshal failed: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("round trip changed the value\nfirst:  %#v\nsecond: %#v\nyaml:\n%s", cfg, again, out)
		}
	})
}

// FuzzSimpleLine checks Marshal's direct writing of a huge map's entries
// (issue 14, F13): every key and value simpleEntry accepts is written by
// writeSimpleLine byte for byte as the YAML library writes it.
func FuzzSimpleLine(f *testing.F) {
	for _, s := range [][2]string{{"feature-gates", "G1=true,G2=false"}, {"v", "2"}, {"x-1", "true"}, {"a", ""},
		{"max-pods", "0110"}, {"y", "n"}, {"k", "a/b,c=d"}, {"Null", "NULL"}, {"e", "1e3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		if !simpleEntry(k, v) {
			return
		}
		want, err := marshalJSONYAML(map[string]string{k: v})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeSimpleLine(&got, k, v)
		if got.String() != string(want) {
			t.Fatalf("%q: %q: written %q, the library writes %q", k, v, got.String(), want)
		}
	})
}
