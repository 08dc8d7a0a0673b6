package convert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// largestExport is the biggest real MKE 3 export: the shared 3.8 fixture
// when present, else the project's own all-keys fixture.
func largestExport(b *testing.B) []byte {
	for _, p := range []string{
		filepath.Join("..", "..", "shared", "fixtures", "mke3", "mke3.8-terraform-mke.toml"),
		filepath.Join("testdata", "mke3-all-keys.toml"),
	} {
		if data, err := os.ReadFile(p); err == nil {
			b.Logf("input: %s (%d bytes)", p, len(data))
			return data
		}
	}
	b.Fatal("no input")
	return nil
}

// BenchmarkConvert is the counterpart of BenchmarkBaseline: parse the TOML
// (typed model and every leaf), convert, and marshal mke4.yaml.
func BenchmarkConvert(b *testing.B) { benchConvert(b, false) }

// BenchmarkConvertWithReport adds the JSON report, as `convert
// --report-format json` writes it.
func BenchmarkConvertWithReport(b *testing.B) { benchConvert(b, true) }

func benchConvert(b *testing.B, withReport bool) { benchConvertData(b, largestExport(b), withReport) }

// benchConvertData runs Parse, Convert, mke4.Marshal and, withReport, the
// JSON report on data.
func benchConvertData(b *testing.B, data []byte, withReport bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Parse("in.toml", data)
		if err != nil {
			b.Fatal(err)
		}
		out, rep, err := Convert(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mke4.Marshal(out); err != nil {
			b.Fatal(err)
		}
		if withReport {
			if _, err := rep.JSON(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBaseline is the floor: decode the same TOML with go-toml into a
// generic map and encode it as YAML, with no model, rules or report.
func BenchmarkBaseline(b *testing.B) {
	data := largestExport(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := toml.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := yaml.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}
