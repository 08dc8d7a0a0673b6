package convert

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// TestConvertOutputRoundTrips: what Convert returns equals what
// mke4.Unmarshal reads back from mke4.Marshal's output, for every test
// input (and the shared MKE 3 exports when present).
func TestConvertOutputRoundTrips(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "mke3", "*.toml"))
	for _, p := range append(files, shared...) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(p, data)
			if err != nil {
				t.Skipf("not parseable: %v", err)
			}
			out, _, err := Convert(cfg, Options{ExternalAddress: "mke.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			y, err := mke4.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			back, err := mke4.Unmarshal(y)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, back) {
				t.Fatalf("differs after Marshal and Unmarshal\nbefore: %#v\nafter:  %#v", out, back)
			}
		})
	}
}
