package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/manyflags"
)

// BenchmarkConvertCLI runs the built binary as operators do (`convert
// --config-out F --report-out F`) on issue 14's F13 cases and reports
// each process's peak resident memory (peak-MiB, GNU time's maximum
// resident set) and CPU time (cpu-s), with ratios against a baseline of
// the same shape at 1/100 the size (about 50 KB, larger than any real
// export) measured in the same run, so that the machine's load cancels
// out. It asserts nothing: the figures go to docs/benchmarks.md.
// MKE_MIGRATE_CONVERT_INPUTS names a folder where the generated inputs
// (baseline.toml, mixed.toml, distinct.toml) are written and kept, for
// timing the CLI by hand as docs/benchmarks.md does.
//
//	go test ./cmd/mke-migrate -run '^$' -bench ConvertCLI -benchtime 3x
func BenchmarkConvertCLI(b *testing.B) {
	// GNU time runs each process: Go starts a child with vfork, and Linux
	// counts the parent's resident memory at the child's exec in the
	// child's maximum (this benchmark's own 80 MB), while time forks.
	timeBin, err := exec.LookPath("time")
	if _, serr := os.Stat("/usr/bin/time"); serr == nil {
		timeBin, err = "/usr/bin/time", nil
	}
	if err != nil {
		b.Skip("needs GNU time (/usr/bin/time) to measure a process's peak memory")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "mke-migrate")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatal(err)
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"baseline", manyflags.Mixed(3_000)},
		{"mixed", manyflags.Mixed(300_000)},
		{"distinct", manyflags.Distinct(300_000)},
	}
	inDir := dir
	if d := os.Getenv("MKE_MIGRATE_CONVERT_INPUTS"); d != "" {
		inDir = d
	}
	for _, in := range inputs {
		if err := os.WriteFile(filepath.Join(inDir, in.name+".toml"), in.data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	// One process: its peak RSS, CPU and wall time.
	run := func(name string) (peakMB, cpu, wall float64) {
		stats := filepath.Join(dir, name+".time")
		cmd := exec.Command(timeBin, "-o", stats, "-f", "%M %U %S", bin, "convert", "--mke3-config", filepath.Join(inDir, name+".toml"),
			"--config-out", filepath.Join(dir, name+".yaml"), "--report-out", filepath.Join(dir, name+".txt"))
		start := time.Now()
		err := cmd.Run()
		wall = time.Since(start).Seconds()
		// exit 3: the generated lists hold elements that block
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != exitBlocking) {
			b.Fatalf("%s: %v", name, err)
		}
		out, err := os.ReadFile(stats)
		if err != nil {
			b.Fatal(err)
		}
		var kb, user, sys float64
		// the last line: time writes "Command exited with non-zero status 3" first
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%f %f %f", &kb, &user, &sys); err != nil {
			b.Fatalf("%s: %q: %v", stats, out, err)
		}
		return kb / 1024, user + sys, wall // %M is in KiB
	}
	sum := map[string][3]float64{}
	for b.Loop() {
		for _, in := range inputs {
			p, c, w := run(in.name)
			s := sum[in.name]
			sum[in.name] = [3]float64{max(s[0], p), s[1] + c, s[2] + w}
		}
	}
	n := float64(b.N)
	base := sum["baseline"]
	b.ReportMetric(base[0], "baseline-peak-MiB")
	b.ReportMetric(base[1]/n, "baseline-cpu-s")
	for _, name := range []string{"mixed", "distinct"} {
		s := sum[name]
		b.ReportMetric(s[0], name+"-peak-MiB")
		b.ReportMetric(s[1]/n, name+"-cpu-s")
		b.ReportMetric(s[2]/n, name+"-wall-s")
		b.ReportMetric(s[0]/base[0], name+"-peak-x")
		b.ReportMetric(s[1]/base[1], name+"-cpu-x")
	}
}
