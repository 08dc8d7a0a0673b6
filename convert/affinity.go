package convert

import (
	"bytes"
	"encoding/json"
)

// The types below mirror the JSON shape of Kubernetes' corev1.Affinity
// (k8s.io/api/core/v1, with metav1.LabelSelector) field for field, so that
// ingress_node_affinity is checked as strictly as the real type would check
// it without importing k8s.io/api, which pulls apimachinery's runtime and
// more than doubles the size of a program that only converts.
// TestAffinityMatchesCoreV1 and FuzzAffinity hold them to corev1.Affinity.
type (
	k8sAffinity struct {
		NodeAffinity    *k8sNodeAffinity `json:"nodeAffinity,omitempty"`
		PodAffinity     *k8sPodAffinity  `json:"podAffinity,omitempty"`
		PodAntiAffinity *k8sPodAffinity  `json:"podAntiAffinity,omitempty"`
	}
	k8sNodeAffinity struct {
		RequiredDuringSchedulingIgnoredDuringExecution  *k8sNodeSelector             `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
		PreferredDuringSchedulingIgnoredDuringExecution []k8sPreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
	}
	k8sNodeSelector struct {
		NodeSelectorTerms []k8sNodeSelectorTerm `json:"nodeSelectorTerms"`
	}
	k8sNodeSelectorTerm struct {
		MatchExpressions []k8sRequirement `json:"matchExpressions,omitempty"`
		MatchFields      []k8sRequirement `json:"matchFields,omitempty"`
	}
	// k8sRequirement is NodeSelectorRequirement and
	// LabelSelectorRequirement: the same three fields.
	k8sRequirement struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values,omitempty"`
	}
	k8sPreferredSchedulingTerm struct {
		Weight     int32               `json:"weight"`
		Preference k8sNodeSelectorTerm `json:"preference"`
	}
	// k8sPodAffinity is PodAffinity and PodAntiAffinity: the same fields.
	k8sPodAffinity struct {
		RequiredDuringSchedulingIgnoredDuringExecution  []k8sPodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
		PreferredDuringSchedulingIgnoredDuringExecution []k8sWeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
	}
	k8sPodAffinityTerm struct {
		LabelSelector     *k8sLabelSelector `json:"labelSelector,omitempty"`
		Namespaces        []string          `json:"namespaces,omitempty"`
		TopologyKey       string            `json:"topologyKey"`
		NamespaceSelector *k8sLabelSelector `json:"namespaceSelector,omitempty"`
		MatchLabelKeys    []string          `json:"matchLabelKeys,omitempty"`
		MismatchLabelKeys []string          `json:"mismatchLabelKeys,omitempty"`
	}
	k8sWeightedPodAffinityTerm struct {
		Weight          int32              `json:"weight"`
		PodAffinityTerm k8sPodAffinityTerm `json:"podAffinityTerm"`
	}
	k8sLabelSelector struct {
		MatchLabels      map[string]string `json:"matchLabels,omitempty"`
		MatchExpressions []k8sRequirement  `json:"matchExpressions,omitempty"`
	}
)

// checkAffinity decodes data strictly (unknown fields are errors) into the
// mirror of corev1.Affinity and returns the decoder's error.
func checkAffinity(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(&k8sAffinity{})
}
