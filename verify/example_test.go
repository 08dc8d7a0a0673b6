package verify_test

import (
	"os"

	"github.com/mke-migrate/mke-migrate/verify"
)

// A report as verify.Run makes it, written as text: a count per check,
// then what failed, was skipped or has something to say.
func ExampleReport_WriteText() {
	rep := &verify.Report{Checks: []verify.Check{
		{ID: verify.CheckNodes, Subject: "manager-1", OK: true},
		{ID: verify.CheckNodes, Subject: "worker-1", Message: "not Ready"},
		{ID: verify.CheckSystemPods, Subject: "kube-system", OK: true, Message: "0 pods and 0 workloads: nothing runs there to check"},
		{ID: verify.CheckObjects, Subject: "configmaps", Message: "3 of 4 present; missing: shop/settings"},
	}}
	_ = rep.WriteText(os.Stdout)
	// Output:
	// nodes        1 of 2 passed
	// system-pods  1 of 1 passed
	// objects      0 of 1 passed
	// FAIL  nodes        worker-1     not Ready
	// note  system-pods  kube-system  0 pods and 0 workloads: nothing runs there to check
	// FAIL  objects      configmaps   3 of 4 present; missing: shop/settings
	// verify: 2 of 4 checks failed
}
