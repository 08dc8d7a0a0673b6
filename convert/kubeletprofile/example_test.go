package kubeletprofile_test

import (
	"encoding/json"
	"fmt"

	"github.com/mke-migrate/mke-migrate/convert/kubeletprofile"
)

func ExampleMapString() {
	// The "high" profile of an MKE 3 custom_kubelet_flags_profiles table.
	res, err := kubeletprofile.MapString(`--kube-reserved=cpu=200m,memory=512Mi --kube-reserved-cgroup=/high ` +
		`--eviction-hard=memory.available<100Mi,nodefs.available<10% --minimum-image-ttl-duration=2m ` +
		`--max-pods=110 --max-pods 250 --node-labels "tier=high"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	values, _ := json.Marshal(res.Values) // json sorts map keys: stable output
	fmt.Println(string(values))
	for _, f := range res.Flags {
		fmt.Printf("%s: %s", f.Flag, f.Status)
		if f.Field != "" {
			fmt.Printf(" -> %s", f.Field)
		}
		if f.Reason != "" {
			fmt.Printf(" (%s)", f.Reason)
		}
		fmt.Println()
	}
	// Output:
	// {"evictionHard":{"memory.available":"100Mi","nodefs.available":"10%"},"imageMinimumGCAge":"2m0s","kubeReserved":{"cpu":"200m","memory":"512Mi"},"kubeReservedCgroup":"/high","maxPods":250}
	// --kube-reserved=cpu=200m,memory=512Mi: converted -> kubeReserved
	// --kube-reserved-cgroup=/high: converted -> kubeReservedCgroup
	// --eviction-hard=memory.available<100Mi,nodefs.available<10%: converted -> evictionHard
	// --minimum-image-ttl-duration=2m: converted -> imageMinimumGCAge
	// --max-pods=110: overridden -> maxPods (overridden by a later --max-pods in the same profile)
	// --max-pods 250: converted -> maxPods (overrides an earlier --max-pods)
	// --node-labels "tier=high": unconvertible (not a KubeletConfiguration field: per-node flag, set it in kubelet extraArgs or hosts[].installFlags)
}

func ExampleMapList() {
	// custom_kubelet_flags as MKE 3 stores it: one flag per element.
	res, err := kubeletprofile.MapList([]string{"--feature-gates=A=true,B=false", "--oom-score-adj", "-999", "--fail-swap-on"})
	if err != nil {
		fmt.Println(err)
		return
	}
	values, _ := json.Marshal(res.Values)
	fmt.Println(string(values))
	// Output:
	// {"failSwapOn":true,"featureGates":{"A":true,"B":false},"oomScoreAdj":-999}
}

func ExampleLookup() {
	for _, name := range []string{"rotate-server-certificates", "anonymous-auth", "node-ip"} {
		field, ok := kubeletprofile.Lookup(name)
		fmt.Printf("%s -> %q %t\n", name, field, ok)
	}
	// Output:
	// rotate-server-certificates -> "serverTLSBootstrap" true
	// anonymous-auth -> "authentication.anonymous.enabled" true
	// node-ip -> "" false
}
