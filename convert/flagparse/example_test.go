package flagparse_test

import (
	"fmt"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
)

func ExampleParseList() {
	// custom_kube_api_server_flags as MKE 3 stores it.
	flags, err := flagparse.ParseList([]string{
		"--feature-gates=A=true,B=false",
		"--audit-log-maxage 30",
		"--profiling",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range flags {
		fmt.Printf("%s value=%q hasValue=%t raw=%q\n", f.Name, f.Value, f.HasValue, f.Raw)
	}
	// Output:
	// feature-gates value="A=true,B=false" hasValue=true raw="--feature-gates=A=true,B=false"
	// audit-log-maxage value="30" hasValue=true raw="--audit-log-maxage 30"
	// profiling value="" hasValue=false raw="--profiling"
}

func ExampleParseString() {
	// A kubelet profile from custom_kubelet_flags_profiles.
	flags, err := flagparse.ParseString(`--kube-reserved=cpu=200m,memory=512Mi --node-labels "a=b c" --oom-score-adj -999`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range flags {
		fmt.Printf("%s=%q\n", f.Name, f.Value)
	}
	// Output:
	// kube-reserved="cpu=200m,memory=512Mi"
	// node-labels="a=b c"
	// oom-score-adj="-999"
}

func ExampleParse_error() {
	_, err := flagparse.Parse([]string{"--max-pods=10", "20"})
	fmt.Println(err)
	// Output:
	// flagparse: word 1 "20": not a flag and not the value of a preceding flag; write flags as --name=value or --name value, and quote values that contain spaces
}
