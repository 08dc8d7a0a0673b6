package gather_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/hosts"
)

// Gathering a one-node cluster whose facts come from a function instead
// of SSH (as in a test), with the MKE 3 configuration given: the etcd
// datastore blocks, and the Kubernetes node checks are skipped (no MKE 3
// API to read the nodes through).
func ExampleCluster() {
	dir, _ := os.MkdirTemp("", "gather-example-")
	defer os.RemoveAll(dir)
	res, err := gather.Cluster(context.Background(), gather.Options{
		Hosts: []hosts.Host{{Address: "10.0.0.1", Role: hosts.RoleManager}},
		Facts: func(context.Context, hosts.Host) (hosts.Facts, error) {
			return hosts.Facts{Address: "10.0.0.1", Hostname: "manager-1", Sudo: true, MCRVersion: "25.0.8", MKEVersion: "3.8.8",
				Swarm: hosts.SwarmFacts{Role: "manager", Leader: true}}, nil
		},
		ConfigTOML:     []byte("[cluster_config]\ncalico_kdd = false\n"),
		KubeconfigPath: filepath.Join(dir, "mke.kubeconf"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("leader:", res.Leader, "spec.hosts:", len(res.MKE4.Spec.Hosts))
	for _, c := range res.Checks {
		fmt.Println(c.Severity, c.ID)
	}
	// Output:
	// leader: 10.0.0.1:22 spec.hosts: 1
	// blocker calico-kdd
	// skipped kubernetes-node-missing
}
