package swarm

import (
	"context"
	"fmt"
)

// Source is where the Engine API lists come from: *mke3.Client satisfies
// it (its EngineList), and tests can serve fixed answers.
type Source interface {
	// EngineList returns the raw JSON body of GET /<list> for list one of
	// services, tasks, configs, secrets, networks, volumes, nodes.
	EngineList(ctx context.Context, list string) ([]byte, error)
}

// Inventory is everything the translation reads: the services and what
// they reference.
type Inventory struct {
	Services []Service
	Tasks    []Task
	Configs  []Config
	Secrets  []Secret
	Networks []Network
	Volumes  []Volume
	Nodes    []Node
}

// ReadError says which list could not be read or decoded.
type ReadError struct {
	List string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("swarm: read %s: %v", e.List, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// Read fetches and decodes the seven lists from src.
func Read(ctx context.Context, src Source) (*Inventory, error) {
	inv := &Inventory{}
	steps := []struct {
		list   string
		decode func([]byte) error
	}{
		{"services", func(b []byte) (err error) { inv.Services, err = DecodeServices(b); return }},
		{"tasks", func(b []byte) (err error) { inv.Tasks, err = DecodeTasks(b); return }},
		{"configs", func(b []byte) (err error) { inv.Configs, err = DecodeConfigs(b); return }},
		{"secrets", func(b []byte) (err error) { inv.Secrets, err = DecodeSecrets(b); return }},
		{"networks", func(b []byte) (err error) { inv.Networks, err = DecodeNetworks(b); return }},
		{"volumes", func(b []byte) (err error) { inv.Volumes, err = DecodeVolumes(b); return }},
		{"nodes", func(b []byte) (err error) { inv.Nodes, err = DecodeNodes(b); return }},
	}
	for _, s := range steps {
		body, err := src.EngineList(ctx, s.list)
		if err != nil {
			return nil, &ReadError{List: s.list, Err: err}
		}
		if err := s.decode(body); err != nil {
			return nil, &ReadError{List: s.list, Err: err}
		}
	}
	return inv, nil
}

// Export reads the Swarm services of src and translates them: Read, then
// Translate.
func Export(ctx context.Context, src Source, opts Options) (*Result, error) {
	inv, err := Read(ctx, src)
	if err != nil {
		return nil, err
	}
	return Translate(inv, opts)
}
