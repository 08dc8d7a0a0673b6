package kubetest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Main starts a plane for a test package, runs its tests, and stops the
// plane; use it from TestMain and pass the result to os.Exit:
//
//	var plane *kubetest.Plane
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, kubetest.Options{}, &plane)) }
//
// Without the binaries *p stays nil and Need skips the tests that want it.
// One plane per package, because each costs ~0.4 GB and a few seconds.
func Main(m *testing.M, o Options, p **Plane) int {
	if _, err := Assets(); err == nil && !fuzzing() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		plane, err := Start(ctx, o)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		*p = plane
		defer func() {
			if err := plane.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "kubetest: stop:", err)
			}
		}()
	}
	return m.Run()
}

// fuzzing reports whether the binary runs a fuzzer (or is one of its
// workers, which the coordinator kills at the end): fuzz targets need no
// control plane, and a worker's would leave its folder behind.
func fuzzing() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzz=") || strings.HasPrefix(a, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

// Need returns p, or skips the test when the plane could not be started
// for want of binaries (a failure under CI=true).
func Need(tb testing.TB, p *Plane) *Plane {
	tb.Helper()
	if p != nil {
		return p
	}
	_, err := Assets()
	if err == nil {
		err = fmt.Errorf("kubetest: no plane: start it with kubetest.Main in TestMain")
	}
	skipOrFail(tb, err)
	return nil
}

// skipOrFail skips a test that cannot have its plane, except under
// CI=true: CI must not pass by skipping the tests that matter most.
func skipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true but %v", err)
	}
	tb.Skip(err)
}

// StartT starts a plane for one test and stops it when the test ends; it
// skips (fails under CI=true) like Need when the binaries are absent. For
// tests that need a plane configured their own way; the others share one
// through Main.
func StartT(tb testing.TB, o Options) *Plane {
	tb.Helper()
	if _, err := Assets(); err != nil {
		skipOrFail(tb, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := Start(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Stop() })
	return p
}
