package convert

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// TestFinishTakeOverLikeCopy checks that the report built by taking over
// the longest entry list is the one built by copying every list: keys
// before and after the list, a shorter list after it, entries pointing at
// elements' lines, entries of other keys written by the list's rules, and
// entries for options.
func TestFinishTakeOverLikeCopy(t *testing.T) {
	var b strings.Builder
	b.WriteString("[cluster_config]\n  controller_port = 443\n  unknown_key = 1\n  custom_kubelet_flags = [\n")
	for i := range 50 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "    \"--x-%d=1\",\n", i)
		case 1:
			b.WriteString("    \"--v=2\",\n") // repeated: earlier ones overridden
		case 2:
			fmt.Fprintf(&b, "    \"bad%d\",\n", i) // not a flag: its own line
		default:
			b.WriteString("    \"--max-pods=50\",\n") // shadows a key's field
		}
	}
	b.WriteString("  ]\n  custom_kube_api_server_flags = [\"--v=3\", \"oops\"]\n  kube_apiserver_port = 12388\n")
	opts := Options{ImageRegistry: "registry.example.com/mke", Airgapped: true}
	build := func(takeOver bool) Report {
		t.Helper()
		cfg, err := Parse("many.toml", []byte(b.String()))
		require.NoError(t, err)
		out := mke4.Default()
		c := &conv{in: cfg, out: &out, opts: opts, byKey: map[string][]Entry{}, args: map[string]string{}}
		if takeOver {
			c.planLongest()
		}
		c.run()
		es := c.byKey[c.longest]
		r := c.finish()
		if takeOver {
			require.Equal(t, "cluster_config.custom_kubelet_flags", c.longest)
			require.Same(t, &es[:1][0], &r.Entries[0], "the longest list was not taken over")
		}
		return r
	}
	copied, taken := build(false), build(true)
	require.Greater(t, len(copied.Entries), 50)
	assert.Equal(t, copied, taken)
	// and through the public API, the same report
	cfg, err := Parse("many.toml", []byte(b.String()))
	require.NoError(t, err)
	_, rep, err := Convert(cfg, opts)
	require.NoError(t, err)
	assert.Equal(t, copied, rep)
}
