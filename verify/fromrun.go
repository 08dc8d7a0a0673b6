package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// FromRun reads what an upgrade's output folder recorded before the
// upgrade changed anything: the nodes (discovery.json: each host's
// hostname, the Kubernetes node name, and the labels its node had) and the
// RBAC export (rbac-export.json, translated with opts as the run did by
// default).
func FromRun(dir string, opts rbac.Options) (Expect, error) {
	var exp Expect
	b, err := os.ReadFile(filepath.Join(dir, "discovery.json"))
	if err != nil {
		return exp, fmt.Errorf("verify: %w (is %s an upgrade's output folder?)", err, dir)
	}
	var d struct {
		Facts map[string]struct {
			Hostname string `json:"hostname"`
		} `json:"facts"`
		Labels map[string]map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return exp, fmt.Errorf("verify: %s: %w", filepath.Join(dir, "discovery.json"), err)
	}
	for host, f := range d.Facts {
		if f.Hostname == "" {
			return exp, fmt.Errorf("verify: discovery.json: host %s has no hostname", host)
		}
		exp.Nodes = append(exp.Nodes, Node{Name: f.Hostname, Labels: d.Labels[host]})
	}
	slices.SortFunc(exp.Nodes, func(a, b Node) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
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
	if exp.RBAC, _, err = rbac.Translate(m, opts); err != nil {
		return exp, fmt.Errorf("verify: %s: %w", p, err)
	}
	return exp, nil
}
