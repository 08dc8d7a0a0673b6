package upgrade

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// The operations steps in the plan: the verify step last (by default),
// the Kubernetes inventory right after the inputs are saved, the registry
// credentials before MKE 3's cleanup, and the given backup in place of
// the backup step.
func TestOpsStepsInPlan(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kc"), ExternalAddress: "mke.example.com",
		MKE3KubeConfig: func(context.Context) (*rest.Config, error) { return nil, errors.New("not reached") },
		ImageRegistry:  "r.example.com/mke", ImageRegistryAuth: &RegistryAuth{Username: "u", Password: []byte("p4ssw0rd")}})
	require(t, err)
	sh, err := u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML)})
	require(t, err)
	sh.BackupPath = "/backups/mke3.tar"
	p, err := u.Plan()
	require(t, err)
	var ids []string
	for _, s := range p.Steps() {
		ids = append(ids, s.ID())
	}
	if ids[len(ids)-1] != "verify" || ids[len(ids)-2] != "write-outputs" {
		t.Fatalf("verify is not last: %v", ids)
	}
	if i := slices.Index(ids, "kube-inventory"); i < 1 || ids[i-1] != "save-inputs" {
		t.Fatalf("kube-inventory is not right after save-inputs: %v", ids)
	}
	reg, uninstall := slices.Index(ids, "registry-credentials"), slices.Index(ids, "mke3-uninstall@"+sh.Leader)
	if reg < 0 || reg > uninstall {
		t.Fatalf("registry-credentials at %d, uninstall at %d: %v", reg, uninstall, ids)
	}
	s, ok := p.Find("mke3-backup@" + sh.Leader)
	if !ok || s.Changes == "" || !contains(s.Changes, "/backups/mke3.tar") {
		t.Fatalf("the backup step is not the given backup's: %+v", s)
	}
	if sh.Config.Spec.Registries.ImageRegistry.CredentialsSecretName != "mke-migrate-image-registry-credentials" {
		t.Fatalf("mke4.yaml does not name the Secret: %+v", sh.Config.Spec.Registries)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// --skip-verify leaves the verify step and the inventory out; --no-carry
// the inventory (no object is carried, none is looked for); without an
// MKE 3 API there is no inventory either.
func TestVerifyStepsOptOut(t *testing.T) {
	kc := func(context.Context) (*rest.Config, error) { return nil, errors.New("not reached") }
	for _, tc := range []struct {
		name              string
		o                 Options
		verify, inventory bool
	}{
		{"default", Options{MKE3KubeConfig: kc}, true, true},
		{"skip-verify", Options{MKE3KubeConfig: kc, SkipVerify: true}, false, false},
		{"no-carry", Options{MKE3KubeConfig: kc, Carry: CarryOptions{Skip: true}}, true, false},
		{"no MKE 3 API", Options{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := tc.o
			o.Hosts, o.OutputDir, o.KubeconfigPath, o.ExternalAddress = inventoryHosts(), dir, filepath.Join(dir, "kc"), "mke.example.com"
			u, err := New(o)
			require(t, err)
			_, err = u.FromInventory(Inventory{MKEVersion: "3.7.16", ClusterID: "c1", MKE3TOML: []byte(inventoryTOML)})
			require(t, err)
			p, err := u.Plan()
			require(t, err)
			_, v := p.Find("verify")
			_, inv := p.Find("kube-inventory")
			if v != tc.verify || inv != tc.inventory {
				t.Fatalf("verify step %v (want %v), kube-inventory step %v (want %v)", v, tc.verify, inv, tc.inventory)
			}
		})
	}
}
