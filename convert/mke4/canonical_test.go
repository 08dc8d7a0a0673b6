package mke4

import (
	"reflect"
	"testing"
)

func TestCanonical(t *testing.T) {
	cfg := Default()
	cfg.Spec.APIServer.ExtraArgs = map[string]string{}
	cfg.Spec.Kubelet.ExtraArgs = map[string]string{"a": "b"}
	cfg.Spec.Kubelet.CustomProfiles = []KubeletCustomProfile{
		{Name: "empty", Values: map[string]any{}},
		{Name: "high", Values: map[string]any{
			"maxPods":      int64(250),
			"clusterDNS":   []string{"10.0.0.10"},
			"kubeReserved": map[string]string{"cpu": "200m"},
			"featureGates": map[string]bool{"X": true},
			"nested":       map[string]any{"n": int32(1), "l": []any{int64(2), "s"}, "e": map[string]any{}},
			"ratio":        0.5,
			"none":         nil,
		}},
	}
	cfg.Spec.IngressController.Tolerations = []Toleration{}
	before := Canonical(cfg)
	y, err := Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(y)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, back) {
		t.Fatalf("Canonical differs from the round trip\ncanonical: %#v\nread back: %#v", before, back)
	}
	if !reflect.DeepEqual(Canonical(before), before) {
		t.Fatal("Canonical is not idempotent")
	}
	// The argument is not changed.
	if cfg.Spec.APIServer.ExtraArgs == nil || cfg.Spec.Kubelet.CustomProfiles[1].Values["maxPods"] != int64(250) {
		t.Fatal("Canonical changed its argument")
	}
	// And the shapes are the documented ones.
	v := before.Spec.Kubelet.CustomProfiles[1].Values
	if v["maxPods"] != float64(250) || !reflect.DeepEqual(v["clusterDNS"], []any{"10.0.0.10"}) || before.Spec.APIServer.ExtraArgs != nil || before.Spec.Kubelet.CustomProfiles[0].Values != nil {
		t.Fatalf("unexpected canonical shapes: %#v", before.Spec)
	}
}
