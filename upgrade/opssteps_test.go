package upgrade

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The operations steps in the plan: the verify step last, the registry
// credentials before MKE 3's cleanup, and the given backup in place of
// the backup step.
func TestOpsStepsInPlan(t *testing.T) {
	dir := t.TempDir()
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kc"), ExternalAddress: "mke.example.com",
		Verify: true, ImageRegistry: "r.example.com/mke", ImageRegistryAuth: &RegistryAuth{Username: "u", Password: []byte("p4ssw0rd")}})
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
