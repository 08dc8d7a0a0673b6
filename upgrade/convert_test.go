package upgrade

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
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

// A restored run makes the conversion report again with the labels
// Discover saw (a Kubernetes node's label names a kubelet profile that
// hosts.yaml does not), so the summary of a resumed run is the same.
func TestRestoreConvertsWithTheSavedLabels(t *testing.T) {
	dir := t.TempDir()
	toml := inventoryTOML + "[cluster_config.custom_kubelet_flags_profiles]\nhigh = \"--max-pods=200\"\n"
	saved := Shared{Managers: []string{"10.0.0.1:22", "10.0.0.2:2222"}, Workers: []string{"10.0.0.3:22", "10.0.0.4:22"}, MKE3TOML: []byte(toml),
		Labels: map[string]map[string]string{"10.0.0.3:22": {convert.DefaultKubeletProfileLabel: "high"}}, Facts: map[string]hosts.Facts{}}
	for _, h := range inventoryHosts() { // the run's hosts, as Restore checks
		saved.Facts[hostKey(h)] = hosts.Facts{Address: h.Address}
	}
	b, err := json.Marshal(saved)
	require(t, err)
	require(t, os.WriteFile(filepath.Join(dir, discoveryFile), b, 0o600))
	u, err := New(Options{Hosts: inventoryHosts(), OutputDir: dir, KubeconfigPath: filepath.Join(dir, "kc")})
	require(t, err)
	sh, err := u.Restore()
	require(t, err)
	key := "hosts[2].labels." + convert.DefaultKubeletProfileLabel
	for _, e := range sh.Report.Entries {
		if e.Key == key {
			if e.Status != convert.StatusConverted {
				t.Fatalf("%s: %s (%s)", key, e.Status, e.Reason)
			}
			return
		}
	}
	t.Fatalf("the restored report has no %s: the saved labels were not used", key)
}
