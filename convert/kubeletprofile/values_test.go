package kubeletprofile

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseQuantityBoundsExponent(t *testing.T) {
	for s, ok := range map[string]bool{
		"1Ei": true, "1E": true, "5e3": true, "2.5E-2": true, "1e100": true, "100Mi": true, "-1e-100": true,
		"1e101": false, "9e-999999999": false, "1e99999999999999999999": false, "1Gi9": false, "": false,
	} {
		_, err := parseQuantity(s)
		assert.Equal(t, ok, err == nil, "%q: %v", s, err)
	}
}

// TestHugeExponentIsFast is the regression test for a fuzzer finding:
// resource.ParseQuantity needs minutes for "9e-999999999".
func TestHugeExponentIsFast(t *testing.T) {
	start := time.Now()
	r := mapOne(t, "--kube-reserved=cpu=9e-999999999")
	assert.Equal(t, Unconvertible, r.Flags[0].Status)
	assert.Contains(t, r.Flags[0].Reason, "non-negative quantity")
	assert.Less(t, time.Since(start), 5*time.Second)
}
