package convert

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseFlagListsShareStrings checks that a flag list is held once
// (issue 14, F13): the leaf's Value is the typed field's very slice, with
// its values, and the walk's []any is not kept.
func TestParseFlagListsShareStrings(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[cluster_config]\n  custom_kubelet_flags = [\"--v=2\", \"--max-pods=50\"]\n  custom_kube_proxy_flags = [\"--v=3\"]\n  custom_kube_scheduler_flags = []\n  dns = [\"10.0.0.2\"]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"--v=2", "--max-pods=50"}, cfg.ClusterConfig.CustomKubeletFlags)
	assert.Equal(t, []string{"--v=3"}, cfg.ClusterConfig.CustomKubeProxyFlags)
	typed := map[string][]string{
		"cluster_config.custom_kubelet_flags":    cfg.ClusterConfig.CustomKubeletFlags,
		"cluster_config.custom_kube_proxy_flags": cfg.ClusterConfig.CustomKubeProxyFlags,
	}
	n := 0
	for _, l := range cfg.Leaves {
		switch l.Key {
		case "cluster_config.dns":
			assert.Equal(t, []any{"10.0.0.2"}, l.Value, "other arrays stay []any")
			continue
		case "cluster_config.custom_kube_scheduler_flags":
			assert.Empty(t, l.Value)
			continue
		}
		list, ok := typed[l.Key]
		if !ok {
			continue
		}
		v, ok := l.Value.([]string)
		require.True(t, ok, "%s: Value is %T, not the typed []string", l.Key, l.Value)
		require.Equal(t, list, v)
		assert.Same(t, unsafe.SliceData(list), unsafe.SliceData(v), "%s is held twice", l.Key)
		n += len(v)
	}
	assert.Equal(t, 3, n)
}

// TestFlagListReasonsShared checks that bad elements with the same reason,
// and entries overridden by the same element, share one reason string
// (issue 14, F13) with the text they had.
func TestFlagListReasonsShared(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[cluster_config]\n  custom_kubelet_flags = [\"bad1\", \"bad2\", \"--v=1\", \"--v=2\", \"--v=2\"]\n"))
	require.NoError(t, err)
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	var bad, over []string
	for _, e := range rep.Entries {
		switch e.Status {
		case StatusUnconvertible:
			bad = append(bad, e.Reason)
		case StatusDropped:
			if e.Key == "cluster_config.custom_kubelet_flags" {
				over = append(over, e.Reason)
			}
		}
	}
	require.Len(t, bad, 2)
	require.Len(t, over, 2)
	assert.Contains(t, bad[0], "; the element was left out")
	assert.Equal(t, "overridden by the later --v=2 in the same list", over[0])
	assert.Same(t, unsafe.StringData(bad[0]), unsafe.StringData(bad[1]))
	assert.Same(t, unsafe.StringData(over[0]), unsafe.StringData(over[1]))
}
