package flagparse

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retryLenient is the definition ParseListLenient must meet: parse, drop
// the element of the first error, parse the rest again.
func retryLenient(elems []string, isBool func(string) bool) ([]Flag, []string) {
	rest := append([]string(nil), elems...)
	var bad []string
	for {
		flags, err := ParseListBools(rest, isBool)
		if err == nil {
			return flags, bad
		}
		var pe *Error
		if !errors.As(err, &pe) {
			panic(err)
		}
		bad = append(bad, rest[pe.Index])
		rest = append(rest[:pe.Index], rest[pe.Index+1:]...)
	}
}

func boolNames(name string) bool { return name == "profiling" || name == "v-bool" }

func checkLenient(t *testing.T, elems []string) {
	t.Helper()
	flags, errs := ParseListLenient(elems, boolNames)
	wantFlags, wantBad := retryLenient(elems, boolNames)
	if len(wantFlags) == 0 {
		wantFlags = []Flag{}
	}
	if flags == nil {
		flags = []Flag{}
	}
	require.Equal(t, wantFlags, flags, "%q", elems)
	var bad []string
	for _, e := range errs {
		require.GreaterOrEqual(t, e.Index, 0)
		require.Less(t, e.Index, len(elems))
		assert.Equal(t, elems[e.Index], e.Input)
		bad = append(bad, elems[e.Index])
	}
	// the same elements left out (the retry finds split errors first,
	// ParseListLenient reports in list order)
	assert.ElementsMatch(t, wantBad, bad, "%q", elems)
}

func TestParseListLenientIsParseListWithoutTheBadElements(t *testing.T) {
	for _, elems := range [][]string{
		nil,
		{"--a=1", "--b", "2"},
		{"--a", "bad value", "x"},         // the second word of the element is stray: the whole element goes, --a keeps no value
		{"--a", "v1 --b=2", "stray"},      // an element feeding a pending flag, then a stray one
		{"oops", "--a", "1"},              // first element bad
		{"--a", "'unterminated", "v"},     // split error: v becomes --a's value
		{"--profiling", "false", "--x=1"}, // a boolean flag takes no separate value
		{"--a", "", "1"},                  // empty element
		{"-", "--", "---x", "--=v", "-5", "--n", "-5"},
		{"--a", "-1.5e3", "--b v", "c"},
	} {
		checkLenient(t, elems)
	}
}

func FuzzParseListLenient(f *testing.F) {
	f.Add("--a=1\x00--b\x002\x00oops\x00--c\x00'x")
	f.Add("--profiling\x00false\x00--v\x00-3")
	f.Add("--a\x00v1 --b=2\x00stray\x00\x00--")
	f.Fuzz(func(t *testing.T, s string) {
		elems := strings.Split(s, "\x00")
		if len(elems) > 64 {
			elems = elems[:64] // the reference is quadratic
		}
		checkLenient(t, elems)
	})
}

// F13 (issue 14): a list with many bad elements was parsed again after
// each one, quadratic in the list's length. Allocated bytes, not time, so
// that a slow machine cannot fail it: 4x the elements must cost about 4x.
func TestParseListLenientIsLinear(t *testing.T) {
	list := func(n int) []string {
		elems := make([]string, n)
		for i := range elems {
			if i%2 == 0 {
				elems[i] = fmt.Sprintf("--flag-%d=v", i)
			} else {
				elems[i] = fmt.Sprintf("stray-%d", i)
			}
		}
		return elems
	}
	allocated := func(elems []string) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, errs := ParseListLenient(elems, nil)
		runtime.ReadMemStats(&after)
		require.Len(t, errs, len(elems)/2)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(list(2000)), allocated(list(8000))
	t.Logf("2000 elements: %d bytes, 8000: %d bytes (%.1fx)", small, large, float64(large)/float64(small))
	assert.Less(t, float64(large)/float64(small), 6.0, "4x the elements took %.1fx the memory", float64(large)/float64(small))
}
