// Package toconvert maps the hosts of hosts.yaml to the hosts of a
// conversion (convert.Options.Hosts, which become spec.hosts): the one
// mapping that mke-migrate convert, gather (and so preflight and the
// upgrade) and pipelines share. It is its own package so that the step
// model (package plan), which imports hosts, stays free of convert.
package toconvert

import (
	"errors"
	"fmt"
	"maps"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
)

// Host is h as a host of the MKE 4k configuration: its SSH address, port,
// user, key and bastion (with hosts.DefaultPort and hosts.DefaultUser
// where unset), its private address or interface, and its labels (which
// select its kubelet profile). An MKE 3 manager becomes a
// controller+worker, any other node a worker, as MKE 4k upgrades them.
func Host(h hosts.Host, manager bool) convert.Host {
	h = h.WithDefaults()
	role := mke4.RoleWorker
	if manager {
		role = mke4.RoleControllerWorker
	}
	mh := mke4.Host{
		Role:             role,
		PrivateAddress:   h.PrivateAddress,
		PrivateInterface: h.PrivateInterface,
		SSH:              &mke4.SSH{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath},
	}
	if b := h.Bastion; b != nil {
		mh.SSH.Bastion = &mke4.SSH{Address: b.Address, Port: b.Port, User: b.User, KeyPath: b.KeyPath}
	}
	return convert.Host{Host: mh, Labels: maps.Clone(h.Labels)}
}

// Hosts maps the hosts of the hosts.yaml file name by the role each
// declares, for a conversion without a cluster (a pipeline, mke-migrate
// convert). Only a live cluster tells managers from workers (its Swarm),
// so a host without a role is an error: a *hosts.ConfigError naming its
// line,
// all of them joined.
func Hosts(name string, hs []hosts.Host) ([]convert.Host, error) {
	out := make([]convert.Host, 0, len(hs))
	var errs []error
	for i, h := range hs {
		switch h.Role {
		case hosts.RoleManager, hosts.RoleWorker:
			out = append(out, Host(h, h.Role == hosts.RoleManager))
		default:
			errs = append(errs, &hosts.ConfigError{File: name, Line: h.Line, Field: fmt.Sprintf("hosts[%d].role", i),
				Msg: fmt.Sprintf("%s has no role: a conversion without the cluster cannot detect it; add role: manager or role: worker", h.Address)})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
