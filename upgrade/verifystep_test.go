package upgrade_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/verify"
)

// The kube-inventory step: a resumed run without MKE 3's API writes
// nothing and passes (verify then says why it skips the objects); an API
// that cannot be reached stops the run, names --skip-verify and leaves no
// file; a reachable one leaves an inventory verify can read.
func TestKubeInventoryStep(t *testing.T) {
	run := func(t *testing.T, kc func(context.Context) (*rest.Config, error)) (string, error) {
		dir := t.TempDir()
		s := upgrade.KubeInventoryStep(&upgrade.Env{OutputDir: dir, MKE3KubeConfig: kc})
		return filepath.Join(dir, verify.InventoryFile), s.Do(t.Context(), plan.NewRun(s, nil, nil, nil))
	}
	t.Run("no MKE 3 API", func(t *testing.T) {
		p, err := run(t, nil)
		require.NoError(t, err)
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s written without an API: %v", verify.InventoryFile, err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		p, err := run(t, func(context.Context) (*rest.Config, error) {
			return &rest.Config{Host: "https://127.0.0.1:1", Timeout: 5e9}, nil
		})
		if err == nil || !strings.Contains(err.Error(), "--skip-verify") {
			t.Fatalf("an unreachable API: %v", err)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s written after a failure: %v", verify.InventoryFile, err)
		}
	})
	t.Run("no client bundle", func(t *testing.T) {
		_, err := run(t, func(context.Context) (*rest.Config, error) { return nil, errors.New("bundle refused") })
		if err == nil || !strings.Contains(err.Error(), "bundle refused") {
			t.Fatalf("the bundle's error is lost: %v", err)
		}
	})
	t.Run("listed", func(t *testing.T) {
		if plane == nil {
			t.Skip("needs the stand-in control plane (internal/kubetest)")
		}
		p, err := run(t, func(context.Context) (*rest.Config, error) { return plane.Config, nil })
		require.NoError(t, err)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		inv, err := verify.DecodeInventory(p, b)
		require.NoError(t, err)
		if inv.Count() == 0 {
			t.Fatalf("an empty inventory of a running API server: %s", b)
		}
		fi, err := os.Stat(p)
		require.NoError(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", verify.InventoryFile, fi.Mode().Perm())
		}
	})
}
