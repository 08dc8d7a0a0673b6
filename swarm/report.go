package swarm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Outcome is what became of a Swarm field.
type Outcome string

// The outcomes of a field.
const (
	// Carried: the Kubernetes object does what Swarm did.
	Carried Outcome = "carried"
	// Approximated: the object does something close; Note says how.
	Approximated Outcome = "approximated"
	// NotCarried: nothing in the objects does it; Note says why.
	NotCarried Outcome = "not-carried"
)

// Entry accounts for one Swarm field (or a group of them under one path).
type Entry struct {
	// Field is the JSON path in the Engine API object, like
	// "Spec.TaskTemplate.ContainerSpec.Image"; it covers every field
	// under it.
	Field string `json:"field"`
	// Parts, when set, narrows the entry to these fields under Field
	// (like "Source" for "...Mounts[0]"); the element's other fields have
	// entries of their own.
	Parts   []string `json:"parts,omitempty"`
	Outcome Outcome  `json:"outcome"`
	// To is the Kubernetes object and field it went to, like
	// "Deployment web: spec.template.spec.containers[0].image".
	To string `json:"to,omitempty"`
	// Note says how it was approximated or why it was not carried.
	Note string `json:"note,omitempty"`
	// Attention is set when a person must act before the workload runs
	// as it did: fill in a secret, copy data, label nodes, pick a port.
	Attention bool `json:"attention,omitempty"`
}

// ServiceReport is the account of one Swarm service.
type ServiceReport struct {
	// Swarm is the service's Swarm name; ID its Swarm ID.
	Swarm string `json:"swarm"`
	ID    string `json:"id"`
	// Stack is the com.docker.stack.namespace label, if any.
	Stack string `json:"stack,omitempty"`
	// Namespace, Kind and Name say which workload it became; Kind is
	// empty when the service could not be translated.
	Namespace string `json:"namespace"`
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	// Running is the number of tasks the Swarm reported running.
	Running int     `json:"running"`
	Entries []Entry `json:"entries"`
}

// NeedsAttention reports whether any entry needs a person.
func (s *ServiceReport) NeedsAttention() bool {
	return slices.ContainsFunc(s.Entries, func(e Entry) bool { return e.Attention })
}

// SecretToFill is a Secret written without its value: the Engine API never
// returns secret data, so someone must fill Key from the source of the
// Swarm secret before the workloads using it can start.
type SecretToFill struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Key       string   `json:"key"`
	Swarm     string   `json:"swarm"`
	UsedBy    []string `json:"usedBy"`
}

// NetworkReport accounts for one overlay network a service uses.
type NetworkReport struct {
	Swarm    string   `json:"swarm"`
	Internal bool     `json:"internal,omitempty"`
	UsedBy   []string `json:"usedBy"`
	Note     string   `json:"note"`
}

// Report is the account of a translation.
type Report struct {
	APIVersion    string          `json:"apiVersion"`
	Kind          string          `json:"kind"`
	Services      []ServiceReport `json:"services"`
	Networks      []NetworkReport `json:"networks,omitempty"`
	SecretsToFill []SecretToFill  `json:"secretsToFill,omitempty"`
}

// Report identity, so that a saved report says what it is.
const (
	ReportAPIVersion = "swarm.mke-migrate.io/v1"
	ReportKind       = "SwarmExportReport"
)

// leaves lists the JSON paths of the scalars of a JSON value, like
// "Spec.Labels.a" and "Spec.Env[0]". Zero values (0, false, "", null,
// empty objects and arrays) are left out: the Engine API uses them for
// "not set", and the translation accounts for the zeros that matter
// (Replicas: 0) by name.
func leaves(raw json.RawMessage) []string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s[%d]", prefix, i), child)
			}
		case nil, bool, string, float64:
			if v != nil && v != false && v != "" && v != 0.0 {
				out = append(out, prefix)
			}
		}
	}
	walk("", v)
	slices.Sort(out)
	return out
}

// covers reports whether an entry for field accounts for the leaf path.
func covers(field, leaf string) bool {
	if field == leaf {
		return true
	}
	if !strings.HasPrefix(leaf, field) {
		return false
	}
	next := leaf[len(field)]
	return next == '.' || next == '['
}

// covers reports whether the entry accounts for the leaf path.
func (e *Entry) covers(leaf string) bool {
	if len(e.Parts) == 0 {
		return covers(e.Field, leaf)
	}
	return slices.ContainsFunc(e.Parts, func(p string) bool { return covers(e.Field+"."+p, leaf) })
}

// collapse drops the array indexes of an uncovered leaf, so that one entry
// accounts for a field in every element of a list.
func collapse(leaf string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(leaf, '[')
		if i < 0 {
			b.WriteString(leaf)
			return b.String()
		}
		b.WriteString(leaf[:i])
		j := strings.IndexByte(leaf[i:], ']')
		if j < 0 {
			return b.String()
		}
		leaf = leaf[i+j+1:]
	}
}

// account adds a not-carried entry for every leaf of raw that no entry
// covers: the fields this version does not translate, so none is lost
// without a word.
func account(raw json.RawMessage, entries []Entry) []Entry {
	var missing []string
	for _, leaf := range leaves(raw) {
		if slices.ContainsFunc(entries, func(e Entry) bool { return e.covers(leaf) }) {
			continue
		}
		f := collapse(leaf)
		if !slices.Contains(missing, f) {
			missing = append(missing, f)
		}
	}
	for _, f := range missing {
		note, attention := unknownField(f)
		entries = append(entries, Entry{Field: f, Outcome: NotCarried, Note: note, Attention: attention})
	}
	return entries
}

// knownNotCarried are Engine API fields with no Kubernetes counterpart
// this translation writes, and why; anything else unread is reported as a
// field this version does not translate.
var knownNotCarried = map[string]string{
	"Spec.TaskTemplate.ContainerSpec.Init":                         "Kubernetes runs no init process in the container; add tini to the image if the process relies on one",
	"Spec.TaskTemplate.ContainerSpec.Ulimits":                      "Kubernetes has no per-container ulimits; they come from the container runtime's defaults",
	"Spec.TaskTemplate.ContainerSpec.Isolation":                    "Windows isolation modes are not carried",
	"Spec.TaskTemplate.ContainerSpec.Privileges":                   "security options (SELinux, credential spec, seccomp, AppArmor) are not carried; set the pod's securityContext if needed",
	"Spec.TaskTemplate.ContainerSpec.StopSignal":                   "the stop signal is the image's; Kubernetes sends SIGTERM unless the image says otherwise",
	"Spec.TaskTemplate.ContainerSpec.Healthcheck.StartInterval":    "probes have one period; the start interval is not carried",
	"Spec.TaskTemplate.ContainerSpec.OomScoreAdj":                  "Kubernetes sets the OOM score from the pod's QoS class",
	"Spec.TaskTemplate.LogDriver":                                  "container logs go to the node's container runtime; ship them with a log collector",
	"Spec.TaskTemplate.ForceUpdate":                                "a Swarm counter that forces a redeploy; meaningless for new objects",
	"Spec.TaskTemplate.Resources.Limits.Pids":                      "Kubernetes limits PIDs per node (kubelet podPidsLimit), not per container",
	"Spec.TaskTemplate.Resources.Reservations.GenericResources":    "generic resources map to extended resources that the nodes must advertise",
	"Spec.TaskTemplate.Placement.Platforms":                        "the image's platforms; Kubernetes pulls the matching one",
	"Spec.TaskTemplate.PluginSpec":                                 "Swarm plugin tasks have no Kubernetes counterpart",
	"Spec.TaskTemplate.NetworkAttachmentSpec":                      "Swarm network attachment tasks have no Kubernetes counterpart",
	"Spec.TaskTemplate.RestartPolicy.Window":                       "Kubernetes restarts with its own back-off",
	"Spec.TaskTemplate.RestartPolicy.Delay":                        "Kubernetes restarts with its own back-off (10s doubling to 5 minutes)",
	"Spec.RollbackConfig":                                          "Kubernetes rolls back on request (kubectl rollout undo), with the rollout strategy",
	"Spec.UpdateConfig.FailureAction":                              "a Deployment stops progressing on failure (progressDeadlineSeconds) but neither pauses nor rolls back by itself",
	"Spec.UpdateConfig.Monitor":                                    "Kubernetes watches readiness instead of a monitor window",
	"Spec.UpdateConfig.MaxFailureRatio":                            "Kubernetes has no failure ratio for rollouts",
	"Spec.TaskTemplate.ContainerSpec.Mounts.VolumeOptions.NoCopy":  "Kubernetes never copies image content into a new volume",
	"Spec.TaskTemplate.ContainerSpec.Mounts.Consistency":           "a Docker Desktop option with no effect on Linux",
	"Spec.TaskTemplate.ContainerSpec.Mounts.BindOptions":           "bind propagation and recursion options are not carried",
	"Spec.TaskTemplate.ContainerSpec.Mounts.TmpfsOptions.Mode":     "emptyDir has no mode; the container sees the runtime's default",
	"Spec.TaskTemplate.ContainerSpec.Mounts.VolumeOptions.Labels":  "volume labels are reported, not carried",
	"Spec.TaskTemplate.ContainerSpec.Mounts.VolumeOptions.Subpath": "carry it as the volumeMount's subPath by hand",
	"Spec.TaskTemplate.ContainerSpec.Mounts.ClusterOptions":        "Swarm cluster (CSI) volumes need a CSI driver and StorageClass in Kubernetes",
	"Spec.TaskTemplate.ContainerSpec.Configs.Runtime":              "runtime configs (credential specs) are Windows only",
	"Spec.TaskTemplate.ContainerSpec.Configs.ConfigID":             "Kubernetes refers to ConfigMaps by name",
	"Spec.TaskTemplate.ContainerSpec.Secrets.SecretID":             "Kubernetes refers to Secrets by name",
	"Spec.TaskTemplate.ContainerSpec.Configs.File.UID":             "files of ConfigMap volumes belong to root; fsGroup sets the group",
	"Spec.TaskTemplate.ContainerSpec.Configs.File.GID":             "files of ConfigMap volumes belong to root; fsGroup sets the group",
	"Spec.TaskTemplate.ContainerSpec.Secrets.File.UID":             "files of Secret volumes belong to root; fsGroup sets the group",
	"Spec.TaskTemplate.ContainerSpec.Secrets.File.GID":             "files of Secret volumes belong to root; fsGroup sets the group",
	"Spec.TaskTemplate.Networks.DriverOpts":                        "network driver options have no Kubernetes counterpart",
	"Spec.TaskTemplate.Runtime":                                    "only container tasks exist in Kubernetes",
	"Spec.EndpointSpec.Ports.Name":                                 "port names are reported; Kubernetes needs DNS-label names",
}

// unknownField says why a field unread by the translation is not carried,
// and whether a person should look at it.
func unknownField(field string) (string, bool) {
	best := ""
	for p := range knownNotCarried {
		if covers(p, field) && len(p) > len(best) {
			best = p
		}
	}
	if best != "" {
		return knownNotCarried[best], false
	}
	return "this version of mke-migrate does not translate this field; carry it by hand if it matters", true
}
