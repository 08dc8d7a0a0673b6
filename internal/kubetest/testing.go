package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/testbin"
)

// Main starts a plane for a test package, runs its tests, and stops the
// plane; use it from TestMain and pass the result to os.Exit:
//
//	var plane *kubetest.Plane
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, kubetest.Options{}, &plane)) }
//
// Missing binaries are built first (internal/testbin.Ensure: minutes, once
// per machine; a failed build fails the package). Only when that build is
// turned off (MKE_MIGRATE_NO_TESTBIN_BUILD=1) does *p stay nil, and Need
// skip the tests that want it.
// One plane per package, because each costs ~0.4 GB and a few seconds.
func Main(m *testing.M, o Options, p **Plane) int {
	if fuzzing() {
		return m.Run()
	}
	if _, err := ensure(testbin.ControlPlane()...); err == nil {
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
	} else if !errors.Is(err, ErrNoBinaries) {
		// a build that failed fails the package: never a silent skip
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// ensure builds the named binaries if they are missing (one build for
// every test package running at once), showing its progress on the
// terminal: go test holds back a package's output until it ends, and the
// first build takes minutes. Without a terminal (CI), on stderr.
func ensure(names ...string) (string, error) {
	var progress io.Writer = os.Stderr
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		progress = tty
	}
	return testbin.Ensure(context.Background(), testbin.Options{Progress: progress}, names...)
}

// NeedBinary returns the path of one of the binaries hack/testbin/build.sh
// builds (etcdctl, etcdutl, kubectl, or a control-plane one), building the
// missing ones first; it skips the test (fails it under CI=true) when the
// build on first use is turned off, and fails it when the build fails.
func NeedBinary(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := Binary(name); err == nil {
		return p
	} else if !errors.Is(err, ErrNoBinaries) {
		tb.Fatal(err)
	}
	if _, err := ensure(name); err != nil {
		if errors.Is(err, ErrNoBinaries) {
			skipOrFail(tb, err)
		}
		tb.Fatal(err)
	}
	p, err := Binary(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
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
	var miss *testbin.MissingError
	switch {
	case err == nil:
		err = fmt.Errorf("kubetest: no plane: start it with kubetest.Main in TestMain")
	case errors.As(err, &miss) && testbin.BuildDisabled():
		miss.Reason = testbin.EnvNoBuild + " is set, so they are not built on first use"
	case errors.As(err, &miss) && os.Getenv(EnvAssets) != "":
		miss.Reason = EnvAssets + " names this folder, so it is not built into"
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
// builds missing binaries like Main, and skips (fails under CI=true) like
// Need when that build is turned off. For
// tests that need a plane configured their own way; the others share one
// through Main.
func StartT(tb testing.TB, o Options) *Plane {
	tb.Helper()
	if _, err := ensure(testbin.ControlPlane()...); errors.Is(err, ErrNoBinaries) {
		skipOrFail(tb, err)
	} else if err != nil {
		tb.Fatal(err)
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
