package flagparse

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func isBoolTest(name string) bool { return name == "profiling" || name == "allow-privileged" }

// Kubernetes' flag parser (pflag) gives boolean flags NoOptDefVal "true": a
// bare boolean flag never takes the next word as its value.
func TestParseListBools(t *testing.T) {
	for _, tc := range []struct {
		name  string
		elems []string
		want  []Flag
		stray int // index of the stray element, -1 for none
	}{
		{"bare bool then flag", []string{"--profiling", "--v=2"}, []Flag{{Name: "profiling", Raw: "--profiling"}, {Name: "v", Value: "2", HasValue: true, Raw: "--v=2"}}, -1},
		{"bool with =false", []string{"--profiling=false"}, []Flag{{Name: "profiling", Value: "false", HasValue: true, Raw: "--profiling=false"}}, -1},
		{"bool then separate false", []string{"--profiling", "false"}, nil, 1},
		{"bool then separate value in one element", []string{"--allow-privileged true"}, nil, 0},
		{"bool then negative number", []string{"--profiling", "-1"}, nil, 1},
		{"non-bool keeps its separate value", []string{"--audit-log-maxage", "30"}, []Flag{{Name: "audit-log-maxage", Value: "30", HasValue: true, Raw: "--audit-log-maxage 30"}}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListBools(tc.elems, isBoolTest)
			if tc.stray < 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var fe *Error
			require.True(t, errors.As(err, &fe), "%v", err)
			assert.Equal(t, tc.stray, fe.Index)
			assert.Contains(t, fe.Reason, "stray argument")
			assert.Contains(t, fe.Reason, "is a boolean flag and takes no separate value")
		})
	}
	// Without a boolean set the old reading holds (the caller knows no types).
	got, err := ParseList([]string{"--profiling", "false"})
	require.NoError(t, err)
	assert.Equal(t, "false", got[0].Value)
}

func TestParseStringBools(t *testing.T) {
	_, err := ParseStringBools("--profiling false --v=2", isBoolTest)
	var fe *Error
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, 1, fe.Index)
	assert.Contains(t, fe.Reason, "write --profiling=false")
	got, err := ParseStringBools("--profiling --v 2", isBoolTest)
	require.NoError(t, err)
	assert.Equal(t, []Flag{{Name: "profiling", Raw: "--profiling"}, {Name: "v", Value: "2", HasValue: true, Raw: "--v 2"}}, got)
}
