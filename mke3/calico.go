package mke3

import (
	"context"
	"errors"
	"fmt"

	"github.com/mke-migrate/mke-migrate/internal/tomledit"
	"github.com/mke-migrate/mke-migrate/internal/tomlwalk"
)

// Datastore is the Calico datastore of an MKE 3 cluster, as its
// configuration declares it.
type Datastore struct {
	// KDD is true when Calico uses the Kubernetes datastore.
	KDD bool
	// Declared is false when the configuration has no calico_kdd key; MKE 3
	// then uses its default, etcd.
	Declared bool
}

func (d Datastore) String() string {
	switch {
	case d.KDD:
		return "kdd"
	case !d.Declared:
		return "etcd (calico_kdd not set: the MKE 3 default)"
	}
	return "etcd"
}

// ErrSwitchNotApplied is returned when MKE 3 accepted the configuration
// but reading it back does not show calico_kdd = true.
var ErrSwitchNotApplied = errors.New("calico_kdd is still not true after the switch")

// SwitchResult is the outcome of SwitchCalicoKDD.
type SwitchResult struct {
	// Message is MKE 3's answer to the configuration PUT.
	Message string
	// AlreadyKDD is true when there was nothing to do.
	AlreadyKDD bool
}

// CalicoDatastore reads the configuration and reports the datastore.
func (c *Client) CalicoDatastore(ctx context.Context) (Datastore, error) {
	data, err := c.ConfigTOML(ctx)
	if err != nil {
		return Datastore{}, err
	}
	return datastoreOf(data)
}

func datastoreOf(data []byte) (Datastore, error) {
	leaves, err := tomlwalk.Leaves(data)
	if err != nil {
		return Datastore{}, fmt.Errorf("mke3: the configuration TOML does not parse: %w", err)
	}
	for _, l := range leaves {
		if l.Key() == "cluster_config.calico_kdd" {
			b, ok := l.Value.(bool)
			if !ok {
				return Datastore{}, fmt.Errorf("mke3: cluster_config.calico_kdd (line %d) is not a boolean", l.Line)
			}
			return Datastore{KDD: b, Declared: true}, nil
		}
	}
	return Datastore{}, nil
}

// SwitchCalicoKDD moves Calico from etcd to the Kubernetes datastore, the
// documented prerequisite of an MKE 4k upgrade. It sends MKE 3 its own
// configuration back with only cluster_config.calico_kdd changed (every
// other byte is kept, and the edit is verified before it is sent), then
// reads the configuration again to confirm. The switch is irreversible and
// pauses networking of new pods for about 20 seconds per node: callers ask
// the operator first.
func (c *Client) SwitchCalicoKDD(ctx context.Context) (SwitchResult, error) {
	data, err := c.ConfigTOML(ctx)
	if err != nil {
		return SwitchResult{}, err
	}
	ds, err := datastoreOf(data)
	if err != nil {
		return SwitchResult{}, err
	}
	if ds.KDD {
		return SwitchResult{AlreadyKDD: true, Message: "Calico already uses the Kubernetes datastore"}, nil
	}
	edited, err := tomledit.SetBool(data, "cluster_config", "calico_kdd", true)
	if err != nil {
		return SwitchResult{}, fmt.Errorf("mke3: prepare the KDD switch: %w", err)
	}
	msg, err := c.PutConfigTOML(ctx, edited)
	if err != nil {
		return SwitchResult{}, fmt.Errorf("mke3: KDD switch: %w", err)
	}
	after, err := c.CalicoDatastore(ctx)
	if err != nil {
		return SwitchResult{}, fmt.Errorf("mke3: verify the KDD switch: %w", err)
	}
	if !after.KDD {
		return SwitchResult{}, fmt.Errorf("mke3: %w (MKE 3 answered %q)", ErrSwitchNotApplied, msg)
	}
	return SwitchResult{Message: msg}, nil
}
