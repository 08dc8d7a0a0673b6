package mke4

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marshalWhole is Marshal without the chunked path: the reference output.
func marshalWhole(t *testing.T, cfg MkeConfig) []byte {
	t.Helper()
	out, err := marshalJSONYAML(cfg)
	require.NoError(t, err)
	return out
}

// hardKey is a key whose order or form the YAML encoder treats specially:
// a number (compared as such), letters against punctuation, words YAML
// reads as booleans or null, long keys. Digits only at the end: where a
// digit run is followed by more ("x-10a", "x-99", "x-100") the encoder's
// order is not transitive, so even its whole-document output depends on
// map iteration order and no byte-exact reference exists.
func hardKey(r *rand.Rand, i int) string {
	parts := []string{"a", "A", "b", "-", "_", ".", "z", "true", "null", "y", "é"}
	var b strings.Builder
	for range 1 + r.IntN(5) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	if r.IntN(50) == 0 {
		b.WriteString(strings.Repeat("k", 130))
	}
	fmt.Fprintf(&b, "%d", r.IntN(3)*i%1000)
	return b.String()
}

func hardValue(r *rand.Rand, i int) string {
	switch r.IntN(8) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("word ", 40) // folded when long
	case 2:
		return "line\nbreak\t\"q\" 'p' \x7f\u2028"
	case 3:
		return "true"
	case 4:
		return fmt.Sprintf("%d", i)
	case 5:
		return "G1=true,G2=false," + strings.Repeat("Gate=true,", 50)
	case 6:
		return ": - ? [ ] { } # & * ! | > % @ `"
	}
	return "v"
}

// Huge maps are written in chunks, byte for byte as the whole document.
func TestMarshalBigMapsLikeWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	big := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[hardKey(r, i)] = hardValue(r, i)
		}
		return m
	}
	cfg := Default()
	cfg.Spec.APIServer.ExtraArgs = big(3 * bigMapChunk)
	cfg.Spec.Kubelet.ExtraArgs = big(bigMapKeys + 7)
	cfg.Spec.Scheduler.ExtraArgs = map[string]string{"v": "2"} // small: as is
	before := cfg.Spec.APIServer.ExtraArgs

	_, ok, err := marshalChunked(cfg)
	require.NoError(t, err)
	require.True(t, ok, "the chunked path must apply")
	got, err := Marshal(cfg)
	require.NoError(t, err)
	assert.Equal(t, string(marshalWhole(t, cfg)), string(got))
	assert.True(t, reflect.ValueOf(before).Pointer() == reflect.ValueOf(cfg.Spec.APIServer.ExtraArgs).Pointer() && len(before) == len(cfg.Spec.APIServer.ExtraArgs), "the caller's configuration is not changed")

	back, err := Unmarshal(got)
	require.NoError(t, err)
	assert.Equal(t, cfg.Spec.APIServer.ExtraArgs, back.Spec.APIServer.ExtraArgs)
}

// yamlKeyCompare is the YAML encoder's key order: for pairs of keys, the
// encoder writes first the one yamlKeyCompare puts first.
func TestYAMLKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fixed := []string{"a2", "a10", "a02", "a002", "a0", "a00", "b", "B", "_", "-", "1", "01", "é", "e", "x9y", "x10y", "a1b", "a01b"}
	var keys []string
	keys = append(keys, fixed...)
	for i := range 300 {
		keys = append(keys, hardKey(r, i))
	}
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			if a == b {
				continue
			}
			y, err := marshalJSONYAML(map[string]string{a: "VALUE_A", b: "VALUE_B"})
			require.NoError(t, err)
			aFirst := strings.Index(string(y), "VALUE_A") < strings.Index(string(y), "VALUE_B")
			if aFirst != (yamlKeyCompare(a, b) < 0) {
				t.Errorf("keys %q and %q: the encoder writes %q first", a, b, map[bool]string{true: a, false: b}[aFirst])
			}
		}
	}
}

// Every entry simpleEntry accepts is written by writeSimpleLine byte for
// byte as the YAML library writes it: YAML's words, numbers with leading
// zeros, long values, key lengths around the limit, and random strings
// over an alphabet of YAML indicators.
func TestSimpleLinesLikeLibrary(t *testing.T) {
	var cands []string
	for w := range yamlWords {
		cands = append(cands, w, w+"1", "x"+w)
	}
	for n := 1; n <= 20; n++ {
		cands = append(cands, strings.Repeat("7", n), "0"+strings.Repeat("9", n-1), strings.Repeat("0", n))
	}
	cands = append(cands, "", "e1", "E", "x.y", "inf", "nan", "NaN", "Infinity", ".inf", "o", "t", "f", "a-", "a_", "a.",
		"G1=true,G2=false", "a=b=c", "a,b", "a/b", "path/to/x", "x:y", "x#y", "x y", "x\"y", "é", "a\u00e9",
		"v"+strings.Repeat("=true,G", 60000), strings.Repeat("k", 64), strings.Repeat("k", 65), strings.Repeat("k", 129))
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "aZy0-9_.=,/: #'\"nN"
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		cands = append(cands, b.String())
	}
	checked := 0
	for i, k := range cands {
		for _, v := range []string{cands[(i*7)%len(cands)], cands[(i*13+1)%len(cands)], k, "1", "true", ""} {
			if !simpleEntry(k, v) {
				continue
			}
			want, err := marshalJSONYAML(map[string]string{k: v})
			require.NoError(t, err)
			var got bytes.Buffer
			writeSimpleLine(&got, k, v)
			if got.String() != string(want) {
				t.Fatalf("%q: %q: written %q, the library writes %q", k, v, got.String(), want)
			}
			checked++
		}
	}
	assert.Greater(t, checked, 5000)
	assert.True(t, simpleEntry("x-1", "1") && simpleEntry("feature-gates", "G1=true,G2=false") && simpleEntry("v", "true"),
		"the common forms take the fast path")
}
