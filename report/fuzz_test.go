package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mke-migrate/mke-migrate/report"
)

// FuzzLoad feeds arbitrary journal, plan and Swarm export files to Load:
// it must not panic, and whatever it loads must render.
func FuzzLoad(f *testing.F) {
	j, err := os.ReadFile(filepath.Join("testdata", "rolled-back", report.FileJournal))
	if err != nil {
		f.Fatal(err)
	}
	p, err := os.ReadFile(filepath.Join("testdata", "rolled-back", report.FilePlan))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(j, p, []byte(`{"services":[{"swarm":"web","kind":"Deployment","namespace":"shop","name":"web","entries":[{"attention":true}]}],"networks":[{"swarm":"net"}],"secretsToFill":[{"namespace":"shop","name":"db","key":"password"}]}`))
	f.Add([]byte(`{"seq":1,"run":"r","event":"done","step":"x"}`+"\n"), []byte(`{"stages":[{"steps":[{"name":"a","lane":-3}]}]}`), []byte(`[]`))
	f.Add([]byte("\n\n{"), []byte("null"), []byte(`{"a":[1,2],"b":[{}]}`))
	f.Fuzz(func(t *testing.T, journal, plan, swarm []byte) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "swarm"), 0o700); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{report.FileJournal: journal, report.FilePlan: plan, "swarm/report.yaml": swarm} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		d, err := report.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.Render(&bytes.Buffer{}, d); err != nil {
			t.Fatal(err)
		}
	})
}
