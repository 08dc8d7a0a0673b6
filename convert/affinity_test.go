package convert

import (
	"bytes"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// affinityCases are JSON documents for ingress_node_affinity: valid ones
// of every branch, unknown fields at every level, wrong types, overflow.
var affinityCases = []string{
	`{}`, `null`, `[]`, `"x"`, `1`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In","values":["a"]}]}]}}}`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n"]}]}]}}}`,
	`{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"k","operator":"Exists"}]}}]}}`,
	`{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":2147483648,"preference":{}}]}}`,
	`{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1.5,"preference":{}}]}}`,
	`{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":"1","preference":{}}]}}`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In","values":"a"}]}]}}}`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpression":[]}]}}}`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerm":[]}}}`,
	`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[]}}`,
	`{"nodeAffinity":{"required":{}}}`,
	`{"nodeaffinity":{}}`,
	`{"NodeAffinity":{"RequiredDuringSchedulingIgnoredDuringExecution":{"NodeSelectorTerms":[]}}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x"}},"topologyKey":"kubernetes.io/hostname"}]}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["x"]}]},"namespaces":["a"],"namespaceSelector":{},"matchLabelKeys":["k"],"mismatchLabelKeys":["m"],"topologyKey":"t"}]}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":1}},"topologyKey":"t"}]}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabel":{}},"topologyKey":"t"}]}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":1}]}}`,
	`{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topology":"t"}]}}`,
	`{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"topologyKey":"t"}}]}}`,
	`{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"topologyKey":"t","extra":1}}]}}`,
	`{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":-1,"podAffinityTerm":{"namespaceSelector":{"matchExpressions":[{"key":"k","operator":"NotIn","values":["v"],"x":1}]}}}]}}`,
	`{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":null,"topologyKey":"t"}]}}`,
	`{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{}}}`,
	`{"podAntiAffinity":{},"nodeAffinity":null,"podAffinity":{}}`,
	`{"nodeAffinity":{},"other":{}}`,
	`{"nodeAffinity":{}} {}`,
}

func decodeCoreV1Affinity(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(&corev1.Affinity{})
}

func compareAffinity(t *testing.T, doc string) {
	t.Helper()
	got, want := checkAffinity([]byte(doc)), decodeCoreV1Affinity([]byte(doc))
	if (got != nil) != (want != nil) {
		t.Fatalf("%s: checkAffinity error %v, corev1.Affinity error %v", doc, got, want)
	}
}

// TestAffinityMatchesCoreV1 holds the mirror types to the real
// corev1.Affinity under the same strict decoding. Only the test imports
// k8s.io/api.
func TestAffinityMatchesCoreV1(t *testing.T) {
	for _, doc := range affinityCases {
		compareAffinity(t, doc)
	}
}

func FuzzAffinity(f *testing.F) {
	for _, doc := range affinityCases {
		f.Add(doc)
	}
	f.Fuzz(compareAffinity)
}
