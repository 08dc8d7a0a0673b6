package verify

import (
	"reflect"
	"testing"
)

// DecodeInventory never panics; what it accepts encodes and decodes to
// the same inventory, and every object it accepts has a name and a UID.
func FuzzDecodeInventory(f *testing.F) {
	f.Add([]byte(`{"taken":"2026-01-02T03:04:05Z","nodes":[{"name":"m","labels":{"a":"b"},"taints":[{"key":"k","value":"v","effect":"NoSchedule"}]}],
		"kinds":[{"group":"apps","version":"v1","resource":"deployments","kind":"Deployment","namespaced":true,"objects":[{"ns":"a","name":"b","uid":"u","ctl":true}]}],
		"truncated":true,"errors":["metrics.k8s.io/v1beta1: down"]}`))
	f.Add([]byte(`{"kinds":[{"version":"v1","resource":"nodes","objects":[{"name":"n","uid":"u"}]},{"version":"v1","resource":"nodes","objects":[]}]}`))
	f.Add([]byte(`{"kinds":[{"version":"v1","resource":"pods","namespaced":true,"objects":[{"name":"p","uid":""}]}]}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"nodes":[{"name":""}],"extra":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := DecodeInventory("fuzz.json", b)
		if err != nil {
			return
		}
		for _, k := range inv.Kinds {
			for _, o := range k.Objects {
				if o.Name == "" || o.UID == "" {
					t.Fatalf("accepted an object without a name or UID: %+v", o)
				}
			}
		}
		enc, err := inv.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeInventory("again.json", enc)
		if err != nil {
			t.Fatalf("its own encoding is refused: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(normal(inv), normal(back)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", inv, back)
		}
	})
}

// normal makes nil and empty slices and maps alike, and drops the
// monotonic clock reading, for comparison.
func normal(inv *Inventory) *Inventory {
	c := *inv
	c.Taken = c.Taken.Round(0).UTC()
	if len(c.Nodes) == 0 {
		c.Nodes = nil
	}
	if len(c.Kinds) == 0 {
		c.Kinds = nil
	}
	if len(c.Errors) == 0 {
		c.Errors = nil
	}
	var ns []Node
	for _, n := range c.Nodes {
		if len(n.Labels) == 0 {
			n.Labels = nil
		}
		if len(n.Taints) == 0 {
			n.Taints = nil
		}
		ns = append(ns, n)
	}
	c.Nodes = ns
	var ks []Kind
	for _, k := range c.Kinds {
		if len(k.Objects) == 0 {
			k.Objects = nil
		}
		ks = append(ks, k)
	}
	c.Kinds = ks
	return &c
}
