package mke4

import (
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
