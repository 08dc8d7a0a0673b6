package convert

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseFlagListsShareStrings checks that a typed flag list holds the
// walked leaf's strings, not a second decoded copy (issue 14, F13), and
// keeps its values.
func TestParseFlagListsShareStrings(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[cluster_config]\n  custom_kubelet_flags = [\"--v=2\", \"--max-pods=50\"]\n  custom_kube_proxy_flags = [\"--v=3\"]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"--v=2", "--max-pods=50"}, cfg.ClusterConfig.CustomKubeletFlags)
	assert.Equal(t, []string{"--v=3"}, cfg.ClusterConfig.CustomKubeProxyFlags)
	typed := map[string][]string{
		"cluster_config.custom_kubelet_flags":    cfg.ClusterConfig.CustomKubeletFlags,
		"cluster_config.custom_kube_proxy_flags": cfg.ClusterConfig.CustomKubeProxyFlags,
	}
	n := 0
	for _, l := range cfg.Leaves {
		list, ok := typed[l.Key]
		if !ok {
			continue
		}
		for i, v := range l.Value.([]any) {
			s := v.(string)
			assert.Same(t, unsafe.StringData(s), unsafe.StringData(list[i]), "%s[%d] is a second copy", l.Key, i)
			n++
		}
	}
	assert.Equal(t, 3, n)
}
