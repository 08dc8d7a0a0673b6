package upgrade

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/rbac"
)

// Inventory describes a cluster without reaching it: what Discover learns
// over SSH and from the MKE 3 API. The hosts and their roles are
// Options.Hosts, each with Role "manager" or "worker" (the role field of
// hosts.yaml).
type Inventory struct {
	// MKEVersion is the MKE 3 version, e.g. 3.7.16 (the tag of the
	// bootstrapper image in the backup and uninstall commands).
	MKEVersion string
	// ClusterID is the Swarm cluster ID (uninstall-ucp --id); "" prints
	// as ''.
	ClusterID string
	// MKE3TOML is the MKE 3 configuration (GET /api/ucp/config-toml).
	MKE3TOML []byte
	// Leader is the Swarm leader's host key (address:port); default: the
	// first manager.
	Leader string
	// Hostnames are the Kubernetes node names by host key (drain and
	// uncordon use them); default: the host's address.
	Hostnames map[string]string
	// RBAC is the MKE 3 RBAC export (default Options.RBACExport); nil, or
	// Options.SkipRBAC, leaves RBAC out of the plan.
	RBAC *rbac.Model
}

var errInventory = errors.New("upgrade: the cluster was described by an inventory, not discovered: a plan made from it is for printing and editing; Discover the cluster to apply one")

// FromInventory is Discover without the cluster: it builds what the steps
// share from inv and Options.Hosts, converts the MKE 3 configuration, and
// translates RBAC, with no SSH and no MKE 3 API. Plan then makes the
// same plan Discover would lead to, to print, edit or test; Apply refuses
// it, since neither the facts nor the preflight checks were seen.
func (u *Upgrade) FromInventory(inv Inventory) (*Shared, error) {
	o := &u.o
	sh := &Shared{Facts: map[string]hosts.Facts{}, Profiles: map[string]string{}, fromInventory: true,
		MKEVersion: inv.MKEVersion, ClusterID: inv.ClusterID, MKE3TOML: inv.MKE3TOML}
	leader := inv.Leader
	for i, h := range o.Hosts {
		key := hostKey(h)
		if h.Role != hosts.RoleManager && h.Role != hosts.RoleWorker {
			return nil, fmt.Errorf("upgrade: inventory: host %d (%s): role %q: want %s or %s", i+1, key, h.Role, hosts.RoleManager, hosts.RoleWorker)
		}
		if _, dup := sh.Facts[key]; dup {
			return nil, fmt.Errorf("upgrade: inventory: host %s appears twice", key)
		}
		if leader == "" && h.Role == hosts.RoleManager {
			leader = key
		}
		name := inv.Hostnames[key]
		if name == "" {
			name = h.Address
		}
		sh.Facts[key] = hosts.Facts{Address: h.Address, Hostname: name, MKEVersion: inv.MKEVersion,
			Swarm: hosts.SwarmFacts{Role: h.Role, ClusterID: inv.ClusterID}}
	}
	if f, ok := sh.Facts[leader]; !ok || f.Swarm.Role != hosts.RoleManager {
		return nil, fmt.Errorf("upgrade: inventory: leader %q is not a manager of the hosts", leader)
	}
	sh.Leader = leader
	f := sh.Facts[leader]
	f.Swarm.Leader = true
	sh.Facts[leader] = f
	sh.Managers = []string{leader}
	for _, h := range o.Hosts {
		switch key := hostKey(h); {
		case key == leader:
		case h.Role == hosts.RoleManager:
			sh.Managers = append(sh.Managers, key)
		default:
			sh.Workers = append(sh.Workers, key)
		}
	}
	cfg, err := convert.Parse("MKE 3 configuration", inv.MKE3TOML)
	if err != nil {
		return nil, fmt.Errorf("upgrade: inventory: %w", err)
	}
	// as Discover does from here
	out, rep, err := u.convert(cfg, sh.Managers, nil)
	if err != nil {
		return nil, err
	}
	sh.Config, sh.Report = &out, &rep
	for i, h := range out.Spec.Hosts {
		for _, fl := range h.InstallFlags {
			if p, ok := strings.CutPrefix(fl, "--profile="); ok && i < len(o.Hosts) {
				sh.Profiles[hostKey(o.Hosts[i])] = p
			}
		}
	}
	if sh.K0sConfig, err = k0sConfig(&out, nil); err != nil {
		return nil, err
	}
	o.withRegistries(sh)
	sh.ConfigStore = !o.SkipConfigStore
	if !o.Carry.Skip {
		// for the printed plan: Discover reads these on the leader
		sh.Carry = &Carry{EtcdPrefix: DefaultEtcdPrefix, KVImage: "<ucp-kv's image>"}
	}
	sh.KubeInventory = o.kubeInventory(sh.Carry != nil)
	sh.SkipVerify = o.SkipVerify
	sh.RBACModel = inv.RBAC
	if sh.RBACModel == nil {
		sh.RBACModel = o.RBACExport
	}
	if o.SkipRBAC {
		sh.RBACModel = nil
	}
	if sh.RBACModel != nil {
		if sh.RBACObjects, sh.RBACReport, err = rbac.Translate(sh.RBACModel, o.RBACOptions); err != nil {
			return nil, fmt.Errorf("upgrade: inventory: RBAC: %w", err)
		}
	}
	if rep.HasBlocking() {
		var keys []string
		for _, e := range rep.Blocking() {
			keys = append(keys, e.Key)
		}
		slices.Sort(keys)
		return sh, fmt.Errorf("upgrade: inventory: the MKE 3 configuration blocks the upgrade: %s (see mke-migrate convert)", strings.Join(keys, ", "))
	}
	u.shared = sh
	return sh, nil
}
