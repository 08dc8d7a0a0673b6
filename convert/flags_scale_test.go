package convert

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/manyflags"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manyFlagsTOML is manyflags.Mixed: API server and kubelet flag lists of
// n elements together; n = 300 000 gives about 5 MB, the case of issue 14
// (F13).
func manyFlagsTOML(n int) []byte { return manyflags.Mixed(n) }

// F13 (issue 14): repeated list flags were joined one at a time and a list
// was parsed again after each bad element, both quadratic in the list's
// length. Allocated bytes, not time, so that a slow machine cannot fail
// it: 4x the flags must cost about 4x.
func TestFlagListsScaleLinearly(t *testing.T) {
	allocated := func(n int) uint64 {
		data := manyFlagsTOML(n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cfg, err := Parse("flags.toml", data)
		require.NoError(t, err)
		out, rep, err := Convert(cfg, Options{})
		require.NoError(t, err)
		runtime.ReadMemStats(&after)
		require.Contains(t, out.Spec.APIServer.ExtraArgs["feature-gates"], fmt.Sprintf("G%d=true", (n/2-1)/5*5))
		require.Greater(t, len(rep.Entries), n/2)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(4000), allocated(16000)
	ratio := float64(large) / float64(small)
	t.Logf("4000 flags: %d bytes, 16000: %d bytes (%.1fx)", small, large, ratio)
	assert.Less(t, ratio, 6.0, "4x the flags took %.1fx the memory: superlinear", ratio)
}

// BenchmarkConvertManyFlags is F13's case: 300 000 flags (about 6 MB)
// through Parse, Convert, mke4.Marshal and the JSON report, as `convert
// --report-format json` does. Compare with BenchmarkBaselineManyFlags.
func BenchmarkConvertManyFlags(b *testing.B) { benchConvertData(b, manyFlagsTOML(300_000), true) }

// BenchmarkLiveManyFlags reports the live heap (after a forced GC) of F13's
// case at the end of each flag list's conversion and when the report is
// built, the highest as peak-MB: what the garbage collector's pacing
// roughly doubles into the process's peak memory. The document (held by
// the caller throughout) is counted; the input bytes are not. Allocation
// and time do not matter here.
func BenchmarkLiveManyFlags(b *testing.B) { benchLive(b, manyFlagsTOML(300_000)) }

// BenchmarkLiveDistinctFlags is BenchmarkLiveManyFlags for 300 000
// distinct kubelet flags (manyflags.Distinct, about 5.7 MB): one extraArgs
// entry and one target each, the costliest kind.
func BenchmarkLiveDistinctFlags(b *testing.B) { benchLive(b, manyflags.Distinct(300_000)) }

func benchLive(b *testing.B, data []byte) {
	live := func() float64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept for one cycle
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	for b.Loop() {
		base := live()
		cfg, err := Parse("in.toml", data)
		if err != nil {
			b.Fatal(err)
		}
		peak := live() - base
		b.ReportMetric(peak, "parsed-MB")
		out := mke4.Default()
		c := &conv{in: cfg, out: &out, byKey: map[string][]Entry{}, args: map[string]string{},
			phase: func(string) { peak = max(peak, live()-base) }}
		c.planLongest()
		c.run()
		c.phase("run")
		rep := c.finish()
		c.phase("finish")
		runtime.KeepAlive(rep)
		b.ReportMetric(peak, "peak-MB")
	}
}

// BenchmarkBaselineManyFlags is the floor for the same input: go-toml
// decoding it into a generic map.
func BenchmarkBaselineManyFlags(b *testing.B) {
	data := manyFlagsTOML(300_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := toml.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// Report.JSON, written entry by entry, is byte for byte the indented JSON
// of the whole report.
func TestReportJSONIsIndentedJSON(t *testing.T) {
	for _, r := range []Report{
		{},
		{Entries: []Entry{}},
		{Entries: []Entry{{Key: "a", Status: StatusConverted, Target: "spec.x", Basis: Documented}}},
		{Entries: []Entry{{Key: "a<&>", Line: 3, Flag: "--f=\"x\"\u2028", Status: StatusDropped, Reason: "r"}, {Key: "b", Status: StatusUnknown}},
			MetalLBPools: []MetalLBPool{{Name: "p", Addresses: []string{"10.0.0.0/24"}}, {Name: "q", Addresses: []string{}}}},
		{MetalLBPools: []MetalLBPool{{Name: "p"}}},
	} {
		want := r
		if want.Entries == nil {
			want.Entries = []Entry{}
		}
		wantJSON, err := marshalJSON(want)
		require.NoError(t, err)
		got, err := r.JSON()
		require.NoError(t, err)
		assert.Equal(t, string(wantJSON), string(got))
	}
}
