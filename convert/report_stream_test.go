package convert

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func streamReport() Report {
	return Report{
		Entries: []Entry{
			{Key: "a<&>", Line: 3, Flag: "--f=\"x\"\u2028", Status: StatusDropped, Reason: "r"},
			{Key: "b", Status: StatusUnknown},
			{Key: "c", Line: 12, Flag: "--v=2", Status: StatusConverted, Target: "spec.kubelet.extraArgs.v", Basis: Inferred},
			{Key: "d", Status: StatusBlocking, Reason: "why"},
		},
		MetalLBPools: []MetalLBPool{{Name: "p", Addresses: []string{"10.0.0.0/24", "10.1.0.0/24"}}},
	}
}

// WriteJSON streams exactly what JSON returns.
func TestReportWriteJSONIsJSON(t *testing.T) {
	for _, r := range []Report{{}, streamReport()} {
		want, err := r.JSON()
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, r.WriteJSON(&b))
		assert.Equal(t, string(want), b.String())
	}
}

// The text reports, written as they go, read as before (one line per
// entry, grouped by status, most urgent first).
func TestReportWriteTextStreams(t *testing.T) {
	r := streamReport()
	var full, short bytes.Buffer
	require.NoError(t, r.WriteText(&full))
	require.NoError(t, r.WriteShort(&short))
	assert.Equal(t, `4 keys accounted for: 1 blocking, 0 unconvertible, 1 unknown, 1 dropped, 1 converted, 0 default

BLOCKING (1):
  d: why

UNKNOWN (1):
  b

DROPPED (1):
  line 3: a<&> --f="x"`+"\u2028"+`: r

CONVERTED (1):
  line 12: c --v=2 -> spec.kubelet.extraArgs.v [inferred]

MetalLB IP address pools to recreate as IPAddressPool objects:
  p: 10.0.0.0/24, 10.1.0.0/24
`, full.String())
	assert.Equal(t, `4 keys accounted for: 1 blocking, 0 unconvertible, 1 unknown, 1 dropped, 1 converted, 0 default
  BLOCKING  d: why
  UNKNOWN  b
  DROPPED  line 3: a<&> --f="x"`+"\u2028"+`: r

MetalLB IP address pools to recreate as IPAddressPool objects:
  p: 10.0.0.0/24, 10.1.0.0/24
`, short.String())
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// A write error reaches the caller.
func TestReportWriteErrors(t *testing.T) {
	r := streamReport()
	assert.ErrorIs(t, r.WriteJSON(failingWriter{}), errWrite)
	assert.ErrorIs(t, r.WriteText(failingWriter{}), errWrite)
	assert.ErrorIs(t, r.WriteShort(failingWriter{}), errWrite)
}
