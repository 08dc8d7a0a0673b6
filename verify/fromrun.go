package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// FromRun reads what an upgrade's output folder recorded before the
// upgrade changed anything: the nodes (discovery.json: each host's
// hostname, the Kubernetes node name, and the labels its node had), the
// Kubernetes inventory (InventoryFile: every object, and the nodes'
// taints) and the RBAC export (rbac-export.json, translated with opts as
// the run did; nil opts leave RBAC to the caller, who has it translated).
func FromRun(dir string, opts *rbac.Options) (Expect, error) {
	var exp Expect
	dp := filepath.Join(dir, "discovery.json")
	b, err := os.ReadFile(dp)
	if err != nil {
		return exp, fmt.Errorf("verify: %w (is %s an upgrade's output folder?)", err, dir)
	}
	var d struct {
		Facts map[string]struct {
			Hostname string `json:"hostname"`
		} `json:"facts"`
		Labels map[string]map[string]string `json:"labels"`
		Carry  json.RawMessage              `json:"carry"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return exp, fmt.Errorf("verify: %s: %w", dp, err)
	}
	ip := filepath.Join(dir, InventoryFile)
	switch ib, err := os.ReadFile(ip); {
	case err == nil:
		if exp.Inventory, err = DecodeInventory(ip, ib); err != nil {
			return exp, err
		}
	case !errors.Is(err, os.ErrNotExist):
		return exp, fmt.Errorf("verify: %w", err)
	case len(d.Carry) == 0 || string(d.Carry) == "null":
		exp.InventoryMissing = "the run did not carry MKE 3's Kubernetes objects (--no-carry): none to find"
	default:
		exp.InventoryMissing = "the output folder has no " + InventoryFile + ": the run did not list MKE 3's objects before the carry (it had no MKE 3 API client)"
	}
	taints := map[string]Node{}
	if exp.Inventory != nil {
		for _, n := range exp.Inventory.Nodes {
			taints[n.Name] = n
		}
	}
	for host, f := range d.Facts {
		if f.Hostname == "" {
			return exp, fmt.Errorf("verify: %s: host %s has no hostname", dp, host)
		}
		exp.Nodes = append(exp.Nodes, Node{Name: f.Hostname, Labels: d.Labels[host], Taints: taints[f.Hostname].Taints})
	}
	slices.SortFunc(exp.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	if opts == nil {
		return exp, nil
	}
	p := filepath.Join(dir, "rbac-export.json")
	rb, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return exp, nil // the run left RBAC out
	}
	if err != nil {
		return exp, fmt.Errorf("verify: %w", err)
	}
	m, err := rbac.DecodeExport(p, rb)
	if err != nil {
		return exp, fmt.Errorf("verify: %w", err)
	}
	if exp.RBAC, _, err = rbac.Translate(m, *opts); err != nil {
		return exp, fmt.Errorf("verify: %s: %w", p, err)
	}
	return exp, nil
}
