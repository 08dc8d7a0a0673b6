package convert

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 13 (gap): a stray value after a boolean flag in a kubelet profile
// string is reported on its own; the profile keeps its other flags instead
// of being created empty.
func TestProfileStrayElementKeepsTheOtherFlags(t *testing.T) {
	cfg := mustParse(t, `[cluster_config]
calico_kdd = true
[cluster_config.custom_kubelet_flags_profiles]
high = "--fail-swap-on false --max-pods=50"
`)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	require.Len(t, out.Spec.Kubelet.CustomProfiles, 1)
	v := out.Spec.Kubelet.CustomProfiles[0].Values
	assert.EqualValues(t, 50, v["maxPods"])
	assert.Equal(t, true, v["failSwapOn"], "pflag reads a bare boolean flag as true")
	var stray, maxPods *Entry
	es := entriesFor(rep, cc+"custom_kubelet_flags_profiles.high")
	for i := range es {
		switch es[i].Flag {
		case "false":
			stray = &es[i]
		case "--max-pods=50":
			maxPods = &es[i]
		}
	}
	require.NotNil(t, stray, "the stray element has an entry of its own: %+v", es)
	assert.Equal(t, StatusUnconvertible, stray.Status)
	assert.Contains(t, stray.Reason, "--fail-swap-on=false")
	assert.NotZero(t, stray.Line)
	require.NotNil(t, maxPods)
	assert.Equal(t, StatusConverted, maxPods.Status)
}
