package swarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The types below are the subset of the Docker Engine API v1.41 shapes
// (moby api/types/swarm, api/types/mount, api/types/container.HealthConfig,
// api/types/network.Inspect, api/types/volume) that the translation reads.
// Durations are int64 nanoseconds and file modes decimal uint32, as the
// Engine API encodes time.Duration and os.FileMode. Fields not named here
// are still seen: the raw spec is flattened into the report (see
// Report), so a field this version does not know is reported as not
// carried rather than dropped silently.

// Service is one element of GET /services.
type Service struct {
	ID   string      `json:"ID"`
	Spec ServiceSpec `json:"Spec"`
	// raw is the element as sent, for the field accounting.
	raw json.RawMessage
}

// ServiceSpec is a service's desired state.
type ServiceSpec struct {
	Name           string             `json:"Name"`
	Labels         map[string]string  `json:"Labels,omitempty"`
	TaskTemplate   TaskSpec           `json:"TaskTemplate"`
	Mode           ServiceMode        `json:"Mode"`
	UpdateConfig   *UpdateConfig      `json:"UpdateConfig,omitempty"`
	RollbackConfig *UpdateConfig      `json:"RollbackConfig,omitempty"`
	Networks       []NetworkAttachRef `json:"Networks,omitempty"` // deprecated place, still read
	EndpointSpec   *EndpointSpec      `json:"EndpointSpec,omitempty"`
}

// TaskSpec is the template of a service's tasks.
type TaskSpec struct {
	ContainerSpec *ContainerSpec     `json:"ContainerSpec,omitempty"`
	Resources     *Resources         `json:"Resources,omitempty"`
	RestartPolicy *RestartPolicy     `json:"RestartPolicy,omitempty"`
	Placement     *Placement         `json:"Placement,omitempty"`
	Networks      []NetworkAttachRef `json:"Networks,omitempty"`
	Runtime       string             `json:"Runtime,omitempty"`
}

// ContainerSpec is the container of a task.
type ContainerSpec struct {
	Image           string            `json:"Image"`
	Labels          map[string]string `json:"Labels,omitempty"`
	Command         []string          `json:"Command,omitempty"`
	Args            []string          `json:"Args,omitempty"`
	Hostname        string            `json:"Hostname,omitempty"`
	Env             []string          `json:"Env,omitempty"`
	Dir             string            `json:"Dir,omitempty"`
	User            string            `json:"User,omitempty"`
	Groups          []string          `json:"Groups,omitempty"`
	StopSignal      string            `json:"StopSignal,omitempty"`
	TTY             bool              `json:"TTY,omitempty"`
	OpenStdin       bool              `json:"OpenStdin,omitempty"`
	ReadOnly        bool              `json:"ReadOnly,omitempty"`
	Mounts          []Mount           `json:"Mounts,omitempty"`
	StopGracePeriod *int64            `json:"StopGracePeriod,omitempty"`
	Healthcheck     *Healthcheck      `json:"Healthcheck,omitempty"`
	Hosts           []string          `json:"Hosts,omitempty"`
	DNSConfig       *DNSConfig        `json:"DNSConfig,omitempty"`
	Secrets         []FileRef         `json:"Secrets,omitempty"`
	Configs         []FileRef         `json:"Configs,omitempty"`
	Sysctls         map[string]string `json:"Sysctls,omitempty"`
	CapabilityAdd   []string          `json:"CapabilityAdd,omitempty"`
	CapabilityDrop  []string          `json:"CapabilityDrop,omitempty"`
}

// Mount is a mount of a container (api/types/mount.Mount).
type Mount struct {
	Type          string         `json:"Type"`
	Source        string         `json:"Source,omitempty"`
	Target        string         `json:"Target"`
	ReadOnly      bool           `json:"ReadOnly,omitempty"`
	VolumeOptions *VolumeOptions `json:"VolumeOptions,omitempty"`
	TmpfsOptions  *TmpfsOptions  `json:"TmpfsOptions,omitempty"`
}

// VolumeOptions are the options of a volume mount.
type VolumeOptions struct {
	NoCopy       bool              `json:"NoCopy,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
	DriverConfig *Driver           `json:"DriverConfig,omitempty"`
}

// TmpfsOptions are the options of a tmpfs mount.
type TmpfsOptions struct {
	SizeBytes int64  `json:"SizeBytes,omitempty"`
	Mode      uint32 `json:"Mode,omitempty"`
}

// Driver names a driver and its options.
type Driver struct {
	Name    string            `json:"Name,omitempty"`
	Options map[string]string `json:"Options,omitempty"`
}

// Healthcheck is api/types/container.HealthConfig.
type Healthcheck struct {
	Test          []string `json:"Test,omitempty"`
	Interval      int64    `json:"Interval,omitempty"`
	Timeout       int64    `json:"Timeout,omitempty"`
	StartPeriod   int64    `json:"StartPeriod,omitempty"`
	StartInterval int64    `json:"StartInterval,omitempty"`
	Retries       int      `json:"Retries,omitempty"`
}

// DNSConfig is the resolv.conf of a container.
type DNSConfig struct {
	Nameservers []string `json:"Nameservers,omitempty"`
	Search      []string `json:"Search,omitempty"`
	Options     []string `json:"Options,omitempty"`
}

// FileRef is a SecretReference or ConfigReference.
type FileRef struct {
	File       *FileTarget `json:"File,omitempty"`
	SecretID   string      `json:"SecretID,omitempty"`
	SecretName string      `json:"SecretName,omitempty"`
	ConfigID   string      `json:"ConfigID,omitempty"`
	ConfigName string      `json:"ConfigName,omitempty"`
}

// FileTarget says where and how a secret or config appears in a container.
type FileTarget struct {
	Name string `json:"Name"`
	UID  string `json:"UID,omitempty"`
	GID  string `json:"GID,omitempty"`
	Mode uint32 `json:"Mode,omitempty"`
}

// Resources are a task's limits and reservations.
type Resources struct {
	Limits       *Limit `json:"Limits,omitempty"`
	Reservations *Limit `json:"Reservations,omitempty"`
}

// Limit is one side of Resources.
type Limit struct {
	NanoCPUs    int64 `json:"NanoCPUs,omitempty"`
	MemoryBytes int64 `json:"MemoryBytes,omitempty"`
	Pids        int64 `json:"Pids,omitempty"`
}

// RestartPolicy says when Swarm restarts a task.
type RestartPolicy struct {
	Condition   string  `json:"Condition,omitempty"`
	Delay       *int64  `json:"Delay,omitempty"`
	MaxAttempts *uint64 `json:"MaxAttempts,omitempty"`
	Window      *int64  `json:"Window,omitempty"`
}

// Placement are a service's scheduling rules.
type Placement struct {
	Constraints []string     `json:"Constraints,omitempty"`
	Preferences []Preference `json:"Preferences,omitempty"`
	MaxReplicas uint64       `json:"MaxReplicas,omitempty"`
}

// Preference is a placement preference; only spread exists.
type Preference struct {
	Spread *struct {
		SpreadDescriptor string `json:"SpreadDescriptor"`
	} `json:"Spread,omitempty"`
}

// NetworkAttachRef attaches a service to a network (by ID or name).
type NetworkAttachRef struct {
	Target  string   `json:"Target"`
	Aliases []string `json:"Aliases,omitempty"`
}

// ServiceMode is exactly one of its fields.
type ServiceMode struct {
	Replicated *struct {
		Replicas *uint64 `json:"Replicas,omitempty"`
	} `json:"Replicated,omitempty"`
	Global        *struct{} `json:"Global,omitempty"`
	ReplicatedJob *struct {
		MaxConcurrent    *uint64 `json:"MaxConcurrent,omitempty"`
		TotalCompletions *uint64 `json:"TotalCompletions,omitempty"`
	} `json:"ReplicatedJob,omitempty"`
	GlobalJob *struct{} `json:"GlobalJob,omitempty"`
}

// UpdateConfig is a service's update (or rollback) policy.
type UpdateConfig struct {
	Parallelism     uint64  `json:"Parallelism"`
	Delay           int64   `json:"Delay,omitempty"`
	FailureAction   string  `json:"FailureAction,omitempty"`
	Monitor         int64   `json:"Monitor,omitempty"`
	MaxFailureRatio float64 `json:"MaxFailureRatio,omitempty"`
	Order           string  `json:"Order,omitempty"`
}

// EndpointSpec is how a service is reached.
type EndpointSpec struct {
	Mode  string       `json:"Mode,omitempty"`
	Ports []PortConfig `json:"Ports,omitempty"`
}

// PortConfig is one published port.
type PortConfig struct {
	Name          string `json:"Name,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	TargetPort    uint32 `json:"TargetPort"`
	PublishedPort uint32 `json:"PublishedPort,omitempty"`
	PublishMode   string `json:"PublishMode,omitempty"`
}

// Task is one element of GET /tasks: what runs where.
type Task struct {
	ID           string `json:"ID"`
	ServiceID    string `json:"ServiceID"`
	NodeID       string `json:"NodeID,omitempty"`
	DesiredState string `json:"DesiredState,omitempty"`
	Status       struct {
		State string `json:"State,omitempty"`
	} `json:"Status"`
}

// Config is one element of GET /configs; Data is its content.
type Config struct {
	ID   string `json:"ID"`
	Spec struct {
		Name       string            `json:"Name"`
		Labels     map[string]string `json:"Labels,omitempty"`
		Data       []byte            `json:"Data,omitempty"`
		Templating *Driver           `json:"Templating,omitempty"`
	} `json:"Spec"`
}

// Secret is one element of GET /secrets. The Engine API never returns a
// secret's data.
type Secret struct {
	ID   string `json:"ID"`
	Spec struct {
		Name       string            `json:"Name"`
		Labels     map[string]string `json:"Labels,omitempty"`
		Driver     *Driver           `json:"Driver,omitempty"`
		Templating *Driver           `json:"Templating,omitempty"`
	} `json:"Spec"`
}

// Network is one element of GET /networks.
type Network struct {
	ID       string            `json:"Id"`
	Name     string            `json:"Name"`
	Driver   string            `json:"Driver,omitempty"`
	Scope    string            `json:"Scope,omitempty"`
	Internal bool              `json:"Internal,omitempty"`
	Ingress  bool              `json:"Ingress,omitempty"`
	Labels   map[string]string `json:"Labels,omitempty"`
}

// Volume is one element of GET /volumes' "Volumes".
type Volume struct {
	Name    string            `json:"Name"`
	Driver  string            `json:"Driver"`
	Scope   string            `json:"Scope,omitempty"`
	Labels  map[string]string `json:"Labels,omitempty"`
	Options map[string]string `json:"Options,omitempty"`
}

// Node is one element of GET /nodes.
type Node struct {
	ID   string `json:"ID"`
	Spec struct {
		Labels map[string]string `json:"Labels,omitempty"`
		Role   string            `json:"Role,omitempty"`
	} `json:"Spec"`
	Description struct {
		Hostname string `json:"Hostname,omitempty"`
	} `json:"Description"`
}

// DecodeError says what is wrong with an Engine API answer: which list,
// which element and field, and what was expected. It never quotes values.
type DecodeError struct {
	// List is the Engine API list: "services", "tasks", ...
	List string
	// Index is the element, -1 for the answer as a whole.
	Index int
	// Field is the JSON path of the problem inside the element, if known.
	Field string
	Msg   string
	Err   error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("swarm: GET /" + e.List)
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": element %d", e.Index)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// decodeArray decodes a JSON array answer element by element, so that an
// error names the element; a trailing second value is refused.
func decodeArray(list string, data []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var items []json.RawMessage
	if err := dec.Decode(&items); err != nil {
		return nil, &DecodeError{List: list, Index: -1, Msg: "expected a JSON array: " + describe(err), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{List: list, Index: -1, Msg: "expected one JSON array, found more after it"}
	}
	if items == nil && !bytes.Equal(bytes.TrimSpace(data), []byte("[]")) {
		// Docker answers [] for an empty list; null is not a list.
		return nil, &DecodeError{List: list, Index: -1, Msg: "expected a JSON array, got null"}
	}
	return items, nil
}

// describe turns a json error into a message without the input's values.
func describe(err error) string {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		kind, _, _ := strings.Cut(typ.Value, " ")
		at := typ.Field
		if at == "" {
			at = "the top level"
		}
		return fmt.Sprintf("got a JSON %s at %s, expected %s", kind, at, typ.Type)
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (error at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the answer ends early"
	}
	return "cannot be decoded"
}

// decodeList decodes each element into a T and checks it with valid.
func decodeList[T any](list string, data []byte, valid func(*T) (field, msg string)) ([]T, []json.RawMessage, error) {
	raws, err := decodeArray(list, data)
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, nil, &DecodeError{List: list, Index: i, Msg: describe(err), Err: err}
		}
		if field, msg := valid(&out[i]); msg != "" {
			return nil, nil, &DecodeError{List: list, Index: i, Field: field, Msg: msg}
		}
	}
	return out, raws, nil
}

// DecodeServices decodes GET /services. Each service needs an ID and a
// name, IDs are unique, and the mode is at most one of the four (none
// means replicated with one replica, as Docker defaults it).
func DecodeServices(data []byte) ([]Service, error) {
	out, raws, err := decodeList("services", data, func(s *Service) (string, string) {
		switch {
		case s.ID == "":
			return "ID", "missing"
		case s.Spec.Name == "":
			return "Spec.Name", "missing"
		}
		m := s.Spec.Mode
		n := 0
		for _, set := range []bool{m.Replicated != nil, m.Global != nil, m.ReplicatedJob != nil, m.GlobalJob != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return "Spec.Mode", "more than one of Replicated, Global, ReplicatedJob, GlobalJob"
		}
		if e := s.Spec.EndpointSpec; e != nil {
			for i, p := range e.Ports {
				if p.TargetPort == 0 || p.TargetPort > 65535 || p.PublishedPort > 65535 {
					return fmt.Sprintf("Spec.EndpointSpec.Ports[%d]", i), "port outside 1..65535"
				}
			}
		}
		return "", ""
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i := range out {
		if seen[out[i].ID] {
			return nil, &DecodeError{List: "services", Index: i, Field: "ID", Msg: "duplicate ID"}
		}
		seen[out[i].ID] = true
		out[i].raw = raws[i]
	}
	return out, nil
}

// DecodeTasks decodes GET /tasks.
func DecodeTasks(data []byte) ([]Task, error) {
	out, _, err := decodeList("tasks", data, func(t *Task) (string, string) {
		if t.ID == "" {
			return "ID", "missing"
		}
		return "", ""
	})
	return out, err
}

// DecodeConfigs decodes GET /configs.
func DecodeConfigs(data []byte) ([]Config, error) {
	out, _, err := decodeList("configs", data, func(c *Config) (string, string) {
		switch {
		case c.ID == "":
			return "ID", "missing"
		case c.Spec.Name == "":
			return "Spec.Name", "missing"
		}
		return "", ""
	})
	return out, err
}

// DecodeSecrets decodes GET /secrets. An answer that carries a secret's
// Data is refused: the Engine API never sends it, so such an answer is not
// from one, and the value must not travel further.
func DecodeSecrets(data []byte) ([]Secret, error) {
	raws, err := decodeArray("secrets", data)
	if err != nil {
		return nil, err
	}
	for i, raw := range raws {
		var probe struct {
			Spec struct {
				Data json.RawMessage `json:"Data"`
			} `json:"Spec"`
		}
		if json.Unmarshal(raw, &probe) == nil && len(probe.Spec.Data) > 0 && string(probe.Spec.Data) != "null" {
			return nil, &DecodeError{List: "secrets", Index: i, Field: "Spec.Data", Msg: "the answer carries a secret value, which the Engine API never sends; refusing it"}
		}
	}
	out, _, err := decodeList("secrets", data, func(s *Secret) (string, string) {
		switch {
		case s.ID == "":
			return "ID", "missing"
		case s.Spec.Name == "":
			return "Spec.Name", "missing"
		}
		return "", ""
	})
	return out, err
}

// DecodeNetworks decodes GET /networks.
func DecodeNetworks(data []byte) ([]Network, error) {
	out, _, err := decodeList("networks", data, func(n *Network) (string, string) {
		switch {
		case n.ID == "":
			return "Id", "missing"
		case n.Name == "":
			return "Name", "missing"
		}
		return "", ""
	})
	return out, err
}

// DecodeVolumes decodes GET /volumes: {"Volumes": [...], "Warnings": [...]}.
func DecodeVolumes(data []byte) ([]Volume, error) {
	var body struct {
		Volumes json.RawMessage `json:"Volumes"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, &DecodeError{List: "volumes", Index: -1, Msg: `expected a JSON object with "Volumes": ` + describe(err), Err: err}
	}
	if len(body.Volumes) == 0 || string(body.Volumes) == "null" {
		return nil, nil // Docker sends "Volumes": null when there are none
	}
	out, _, err := decodeList("volumes", body.Volumes, func(v *Volume) (string, string) {
		if v.Name == "" {
			return "Name", "missing"
		}
		return "", ""
	})
	return out, err
}

// DecodeNodes decodes GET /nodes.
func DecodeNodes(data []byte) ([]Node, error) {
	out, _, err := decodeList("nodes", data, func(n *Node) (string, string) {
		if n.ID == "" {
			return "ID", "missing"
		}
		return "", ""
	})
	return out, err
}
