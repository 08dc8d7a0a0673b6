package main

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

func TestExampleRuns(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), &out)
	if errors.Is(err, errNoTestbed) {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"convert: ", "rbac: ", "upgrade: ", "MKE 3.8.8 was uninstalled from the cluster successfully."} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}
