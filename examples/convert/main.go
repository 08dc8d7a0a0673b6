// Command convert shows the convert package used as a library: parse an
// MKE 3 configuration, convert it, and act on the report the way a CI
// pipeline would (fail on blocking settings, list what is not carried).
//
//	go run ./examples/convert examples/mke3-config.toml
package main

import (
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func main() {
	path := "examples/mke3-config.toml"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := run(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cfg, err := convert.Parse(path, data)
	if err != nil {
		return err // names the file, line, column and key
	}
	out, report, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	if err != nil {
		return err
	}

	// A pipeline's own policy on top of the report.
	for _, e := range report.NotCarried() {
		fmt.Printf("%-13s %s %s: %s\n", e.Status, e.Key, e.Flag, e.Reason)
	}
	counts := report.Counts()
	fmt.Printf("\n%d converted, %d default, %d need attention\n",
		counts[convert.StatusConverted], counts[convert.StatusDefault], len(report.NotCarried()))
	if report.HasBlocking() {
		return fmt.Errorf("%d blocking setting(s): fix them before upgrading", len(report.Blocking()))
	}

	y, err := mke4.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Printf("mke4.yaml is %d bytes; maxPods=%d, kubelet profiles=%d\n", len(y), out.Spec.Kubelet.MaxPods, len(out.Spec.Kubelet.CustomProfiles))
	return nil
}
