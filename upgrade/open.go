package upgrade

import "fmt"

// Open reopens the output folder of an earlier run, for Resume or
// Rollback. It reads what the run discovered (discovery.json), so neither
// the MKE 3 API nor its credentials are needed, and takes from it what the
// run was given: the MKE 3 configuration and the RBAC export, and the
// external address unless o has one. o.Hosts (hosts.yaml) is still needed
// to connect; o.OutputDir is dir.
func Open(dir string, o Options) (*Upgrade, error) {
	prev, err := readDiscovery(dir)
	if err != nil {
		return nil, fmt.Errorf("%w (is %s the output folder of an upgrade?)", err, dir)
	}
	o.OutputDir = dir
	// the run's plan is made from what the run saved, whatever o says
	o.MKE3ConfigTOML, o.RBACExport, o.SkipRBAC = prev.MKE3TOML, prev.RBACModel, prev.RBACModel == nil
	if o.ExternalAddress == "" && prev.Config != nil {
		o.ExternalAddress = prev.Config.Spec.APIServer.ExternalAddress
	}
	u, err := New(o)
	if err != nil {
		return nil, err
	}
	if _, err := u.Restore(); err != nil {
		return nil, err
	}
	return u, nil
}

// Options are the options of u, with their defaults filled in (for a
// caller of Open, those the run was given).
func (u *Upgrade) Options() Options { return u.o }

// Cluster is what Discover learned (or Restore, Open or FromInventory
// gave); nil before.
func (u *Upgrade) Cluster() *Shared { return u.shared }
