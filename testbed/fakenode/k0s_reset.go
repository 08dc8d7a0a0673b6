//go:build !fakenodelight

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// cniLeftovers are the files pkg/cleanup/cni_linux.go (v1.33.9+k0s.0)
// removes unconditionally: MKE 3's Calico files among them (finding 3).
var cniLeftovers = []string{
	"/etc/cni/net.d/10-calico.conflist",
	"/etc/cni/net.d/calico-kubeconfig",
	"/etc/cni/net.d/10-kuberouter.conflist",
}

// reset is cmd/reset/reset.go and pkg/cleanup: refuse while the status
// socket answers with a pid, then run the cleanup steps (containers,
// users, services, directories, cni), logging each as k0s does, and fail
// with all their errors joined.
func (e *env) reset(c *cobra.Command) error {
	if !e.isRoot() {
		return errNotRoot
	}
	if st, _ := e.running(); st != nil && st.Pid != 0 {
		return errors.New("k0s seems to be running, please stop k0s before reset")
	}
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	// reset reads its own --config (default /etc/k0s/k0s.yaml, the
	// defaults when that is missing), not the one k0s was installed with
	cfgPath, _ := c.Flags().GetString("config")
	if _, err := e.loadConfig(cfgPath); err != nil {
		return err
	}
	dataDir, _ := c.Flags().GetString("data-dir")
	kubeletDir, _ := c.Flags().GetString("kubelet-root-dir")
	if kubeletDir == "" {
		kubeletDir = filepath.Join(dataDir, "kubelet")
	}
	logStep := func(s string) {
		fmt.Fprintf(e.stderr, "time=%q level=info msg=\"* %s\"\n", now().UTC().Format(time.DateTime), s)
	}
	var errs []error
	logStep("containers steps")
	// processes of k0s left behind (a daemon whose status never came up)
	if k != nil {
		if err := e.stopDaemon(k.Unit, 5*time.Second); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	logStep("remove k0s users step:")
	logStep("uninstall service step")
	if k != nil {
		units, err := e.units()
		if err != nil {
			return err
		}
		delete(units, k.Unit)
		if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
			return err
		}
		if err := os.Remove(e.path(fakestate.K0sFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	logStep("remove directories step")
	for _, d := range []string{kubeletDir, dataDir, "/run/k0s"} {
		if err := removeDir(e.hostPath(d)); err != nil {
			errs = append(errs, fmt.Errorf("failed to delete %s: %w", d, err))
		}
	}
	logStep("CNI leftovers cleanup step")
	for _, f := range cniLeftovers {
		if err := os.Remove(e.hostPath(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	ts := now().UTC().Format(time.DateTime)
	fmt.Fprintf(e.stderr, "time=%q level=info msg=\"k0s cleanup operations done.\"\n", ts)
	fmt.Fprintf(e.stderr, "time=%q level=warning msg=\"To ensure a full reset, a node reboot is recommended.\"\n", ts)
	if len(errs) > 0 {
		return fmt.Errorf("errors occurred during clean-up: %w", errors.Join(errs...))
	}
	return nil
}

// removeDir removes a folder; one that is a mount point keeps existing
// with its contents removed (pkg/cleanup/directories.go dataDirMounted).
func removeDir(d string) error {
	entries, err := os.ReadDir(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, en := range entries {
		if err := os.RemoveAll(filepath.Join(d, en.Name())); err != nil {
			return err
		}
	}
	if err := os.Remove(d); err != nil && !errors.Is(err, syscall.EBUSY) {
		return err
	}
	return nil
}
