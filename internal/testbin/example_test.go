package testbin_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mke-migrate/mke-migrate/internal/testbin"
)

// A program that runs kubectl builds it on first use, showing the build's
// progress, and says what to do when it may not build.
func Example() {
	dir, err := testbin.Ensure(context.Background(), testbin.Options{Progress: os.Stderr}, testbin.Kubectl)
	if errors.Is(err, testbin.ErrNoBinaries) {
		fmt.Println("skipped:", err) // MKE_MIGRATE_NO_TESTBIN_BUILD=1, or MKE_MIGRATE_KUBE_ASSETS without kubectl
		return
	}
	if err != nil {
		panic(err) // the build failed: its log is in the cache root
	}
	fmt.Println(filepath.Join(dir, testbin.Kubectl))
}

func ExampleMissingError() {
	var err error = &testbin.MissingError{
		Dir:     "/cache/kube-v" + testbin.KubeVersion + "-etcd-v" + testbin.EtcdVersion,
		Missing: []string{testbin.Etcdctl, testbin.Kubectl},
		Reason:  testbin.EnvNoBuild + " is set, so they are not built on first use",
	}
	fmt.Println(errors.Is(err, testbin.ErrNoBinaries))
	fmt.Println(err)
	// Output:
	// true
	// testbin: etcdctl, kubectl not found in /cache/kube-v1.37.2-etcd-v3.7.3 (MKE_MIGRATE_NO_TESTBIN_BUILD is set, so they are not built on first use); run hack/testbin/build.sh
}
