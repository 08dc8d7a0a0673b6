package convert

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func TestZZPhases(t *testing.T) {
	p := os.Getenv("F13_IN")
	if p == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(p)
	fmt.Fprintln(os.Stderr, "=== parse")
	cfg, err := Parse("x", data)
	if err != nil {
		t.Fatal(err)
	}
	data = nil
	fmt.Fprintln(os.Stderr, "=== convert")
	out, rep, err := Convert(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "=== marshal")
	y, err := mke4.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "=== report", len(y))
	rep.WriteText(io.Discard)
	fmt.Fprintln(os.Stderr, "=== end")
}

func TestZZLiveProfile(t *testing.T) {
	if os.Getenv("F13_PROF") == "" {
		t.Skip()
	}
	runtime.MemProfileRate = 512
	data := manyFlagsTOML(300_000)
	if p := os.Getenv("F13_IN"); p != "" {
		data, _ = os.ReadFile(p)
	}
	live := func() float64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	cfg, err := Parse("in.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	data = nil
	peak := 0.0
	out := mke4.Default()
	c := &conv{in: cfg, out: &out, byKey: map[string][]Entry{}, args: map[string]string{},
		phase: func(s string) {
			l := live()
			fmt.Fprintln(os.Stderr, s, l)
			if l > peak {
				peak = l
				f, _ := os.Create(os.Getenv("F13_PROF"))
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}}
	c.planLongest()
	c.run()
	c.phase("run")
	rep := c.finish()
	c.phase("finish")
	cfg = nil
	c = nil
	fmt.Fprintln(os.Stderr, "after convert, cfg dropped", live())
	runtime.KeepAlive(rep)
	runtime.KeepAlive(out)
}
