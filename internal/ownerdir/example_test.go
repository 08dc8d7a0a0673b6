package ownerdir_test

import (
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/internal/ownerdir"
)

// A program makes its working folder with Create and removes it when it
// ends; at its start, it removes the folders of earlier runs that were
// killed before they could.
func Example() {
	base, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(base)

	removed, err := ownerdir.RemoveStale(base, "my-tool-")
	fmt.Println(len(removed), err)

	dir, err := ownerdir.Create(base, "my-tool-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// this process owns it: it is not stale
	removed, _ = ownerdir.RemoveStale(base, "my-tool-")
	fmt.Println(len(removed))
	// Output:
	// 0 <nil>
	// 0
}
