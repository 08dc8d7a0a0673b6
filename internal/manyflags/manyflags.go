// Package manyflags generates MKE 3 configurations with very long flag
// lists, the inputs of the memory and time benchmarks of issue 14 (F13):
// converting 300 000 flags (about 5 to 6 MB of TOML) within 2 s and
// 150 MB. Only tests and benchmarks use it.
package manyflags

import (
	"fmt"
	"strings"
)

// Mixed is an MKE 3 configuration whose API server and kubelet flag lists
// hold n elements together, mixing what each costs: repeated list flags
// (joined), repeated flags (overridden), distinct flags, flags with a
// separate value, and elements that are not flags (left out and
// reported). n = 300 000 gives about 5 MB.
func Mixed(n int) []byte {
	var b strings.Builder
	b.WriteString("[cluster_config]\n")
	for _, key := range []string{"custom_kube_api_server_flags", "custom_kubelet_flags"} {
		fmt.Fprintf(&b, "  %s = [", key)
		for i := range n / 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, `"--feature-gates=G%d=true"`, i)
			case 1:
				fmt.Fprintf(&b, `"--v=%d"`, i%10)
			case 2:
				fmt.Fprintf(&b, `"--x-%d=1"`, i)
			case 3:
				fmt.Fprintf(&b, `"--y-%d 2"`, i)
			default:
				fmt.Fprintf(&b, `"bad%d"`, i)
			}
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

// Distinct is an MKE 3 configuration whose kubelet flag list holds n
// distinct flags with values, the costliest kind (one extraArgs entry and
// one target each). n = 300 000 gives about 5.7 MB.
func Distinct(n int) []byte {
	var b strings.Builder
	b.WriteString("[cluster_config]\n  custom_kubelet_flags = [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"--f%06d=%05d"`, i, i%100000)
	}
	b.WriteString("]\n")
	return []byte(b.String())
}
