package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExampleRuns(t *testing.T) {
	if err := run(filepath.Join("..", "mke3-config.toml")); err != nil {
		t.Fatal(err)
	}
}

func TestExampleFailsOnBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kdd-off.toml")
	writeFile(t, p, "[cluster_config]\ncalico_kdd = false\n")
	if err := run(p); err == nil {
		t.Fatal("a blocking setting must fail the pipeline")
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
