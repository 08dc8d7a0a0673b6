package preflight_test

import (
	"fmt"

	"github.com/mke-migrate/mke-migrate/hosts/facts"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Run takes facts as hosts.Client.Facts gathers them; here they are
// written by hand, as a pipeline might from an inventory.
func ExampleRun() {
	node := func(addr, version string) facts.Node {
		return facts.Node{Address: addr, Hostname: "h-" + addr, MachineID: "m-" + addr, Sudo: true, MCRVersion: "25.0.8",
			MKEVersion: version, CPUs: 8, MemoryBytes: 32 << 30, FreeVarLibBytes: 100 << 30,
			Swarm: facts.Swarm{Role: "manager", LocalNodeState: "active"}}
	}
	leader := node("10.0.0.1", "3.8.2")
	leader.Swarm.Leader = true // hosts.yaml must hold the Swarm leader
	kdd := true
	for _, r := range preflight.Run(preflight.Input{
		Facts:         []facts.Node{leader, node("10.0.0.2", "3.8.2"), node("10.0.0.3", "3.7.9")},
		CalicoKDD:     &kdd,
		KubeProxyMode: "iptables",
	}) {
		fmt.Printf("%s %s: %s\n", r.Severity, r.ID, r.Message)
	}
	// Output:
	// blocker mke-version: MKE 3.7.9 on 10.0.0.3: MKE 3 before 3.7.15 cannot be upgraded
	// blocker mke-version-mismatch: nodes run different MKE versions: 3.7.9 on 10.0.0.3; 3.8.2 on 10.0.0.1, 10.0.0.2
	// skipped kubernetes-node-missing: Kubernetes nodes unknown: needs --mke3-host to read them through the client bundle
}
