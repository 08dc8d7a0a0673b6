package upgrade

import (
	"path/filepath"
	"testing"

	"github.com/mke-migrate/mke-migrate/convert"
)

// The registries and air-gap of Options reach mke4.yaml through the
// conversion, so its report (and the summary) accounts for them, on every
// path that converts: here an inventory and a restored run.
func TestRegistriesGoThroughTheConversion(t *testing.T) {
	dir := t.TempDir()
	o := Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kc"), ExternalAddress: "mke.example.com",
		ImageRegistry: "reg.example.com/mke", ChartRegistry: "oci://reg.example.com/mke", Airgapped: true}
	u, err := New(o)
	require(t, err)
	sh, err := u.FromInventory(Inventory{MKEVersion: "3.7.16", MKE3TOML: []byte(inventoryTOML)})
	require(t, err)
	s := sh.Config.Spec
	if s.Registries.ImageRegistry.URL != o.ImageRegistry || s.Registries.ChartRegistry.URL != o.ChartRegistry || !s.Airgap.Enabled {
		t.Fatalf("registries %+v, airgap %v", s.Registries, s.Airgap)
	}
	want := map[string]bool{convert.OptionImageRegistry: true, convert.OptionChartRegistry: true, convert.OptionAirgapped: true}
	for _, e := range sh.Report.Entries {
		if want[e.Key] && e.Status == convert.StatusConverted {
			delete(want, e.Key)
		}
	}
	if len(want) > 0 {
		t.Fatalf("the report lacks %v", want)
	}

	// air-gapped without a chart registry: the inventory is refused
	o.ChartRegistry = ""
	u, err = New(o)
	require(t, err)
	if _, err := u.FromInventory(Inventory{MKEVersion: "3.7.16", MKE3TOML: []byte(inventoryTOML)}); err == nil {
		t.Fatal("air-gapped without a chart registry was accepted")
	}
}
