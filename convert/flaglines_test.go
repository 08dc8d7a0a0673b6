package convert

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A malformed element of a flag list written over several lines is
// reported at its own line, found by its index in the list: matching
// entries to elements by their (shortened) text took time quadratic in the
// list's length (issue 14, F13) and named the line of an earlier element
// with the same first 77 bytes.
func TestFlagListElementLineByIndex(t *testing.T) {
	long := "--node-labels " + strings.Repeat("a", 80)
	doc := "[cluster_config]\n  custom_kubelet_flags = [\n    \"" + long + "\",\n    \"" + long + ` \"x` + "\",\n    \"stray\",\n  ]\n"
	cfg, err := Parse("lines.toml", []byte(doc))
	require.NoError(t, err)
	_, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	lines := map[string]int{}
	for _, e := range rep.Entries {
		if e.Key == "cluster_config.custom_kubelet_flags" && e.Status == StatusUnconvertible {
			lines[e.Flag] = int(e.Line)
		}
	}
	assert.Equal(t, map[string]int{short(long + ` "x`): 4, "stray": 5}, lines)
}
