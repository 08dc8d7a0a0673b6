package mke3api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// EngineObject is one Docker Engine API object exactly as the Engine API
// sends it (a service, task, config, secret, network, volume or node), as
// decoded from JSON or YAML.
type EngineObject = map[string]any

// Swarm is the Docker Swarm content of a simulated cluster, in Docker
// Engine API v1.41 shapes (moby api/types/swarm, api/types/network,
// api/types/volume): the simulator serves each list as it is, except that
// secrets lose Spec.Data, which the Engine API never returns. Seeds may
// give secrets a Data so that tests can check exactly that.
type Swarm struct {
	Services []EngineObject `json:"services,omitempty" yaml:"services,omitempty"`
	Tasks    []EngineObject `json:"tasks,omitempty" yaml:"tasks,omitempty"`
	Configs  []EngineObject `json:"configs,omitempty" yaml:"configs,omitempty"`
	Secrets  []EngineObject `json:"secrets,omitempty" yaml:"secrets,omitempty"`
	Networks []EngineObject `json:"networks,omitempty" yaml:"networks,omitempty"`
	Volumes  []EngineObject `json:"volumes,omitempty" yaml:"volumes,omitempty"`
	Nodes    []EngineObject `json:"nodes,omitempty" yaml:"nodes,omitempty"`
}

//go:embed swarm_default.json
var defaultSwarmJSON []byte

// DefaultSwarm returns the Swarm content a seed without one gets: three
// nodes (a manager and two labelled workers), a stack "shop" with web
// (three replicas, a config, a healthcheck, ports published in ingress
// mode, a placement constraint and preference), worker (secrets, a config,
// a numeric user, a tmpfs), db (a named volume, a secret, dnsrr, node
// constraints) and migrate (a replicated job); a global monitoring agent
// outside any stack (a host-mode port, bind mounts, capabilities, a user
// by name) and a global job; overlay networks (one internal), configs,
// secrets, volumes (one with NFS options) and the tasks that run them. A
// fresh copy each call.
func DefaultSwarm() Swarm {
	var s Swarm
	if err := json.Unmarshal(defaultSwarmJSON, &s); err != nil {
		panic("mke3api: the embedded default Swarm does not decode: " + err.Error()) // a build defect
	}
	return s
}

// engineLists maps the Engine API list names to the Swarm field.
func (s *Swarm) lists() map[string][]EngineObject {
	return map[string][]EngineObject{
		"services": s.Services, "tasks": s.Tasks, "configs": s.Configs, "secrets": s.Secrets,
		"networks": s.Networks, "volumes": s.Volumes, "nodes": s.Nodes,
	}
}

// idKey is the identifying field of each list: "Id" for networks and
// "Name" for volumes, as Docker spells them.
var idKey = map[string]string{"services": "ID", "tasks": "ID", "configs": "ID", "secrets": "ID", "networks": "Id", "volumes": "Name", "nodes": "ID"}

// field walks a decoded object along keys.
func field(o EngineObject, keys ...string) any {
	var v any = o
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// validateSwarm checks what a client relies on: identities present and
// unique, service names, and that services, tasks and references point at
// objects that exist.
func validateSwarm(s *Swarm) []issue {
	var out []issue
	add := func(msg string, path ...any) {
		out = append(out, issue{path: append([]any{"swarm"}, path...), msg: msg})
	}
	ids := map[string]map[string]bool{}
	names := map[string]map[string]bool{}
	for _, list := range []string{"services", "tasks", "configs", "secrets", "networks", "volumes", "nodes"} {
		ids[list], names[list] = map[string]bool{}, map[string]bool{}
		for i, o := range s.lists()[list] {
			id, _ := o[idKey[list]].(string)
			switch {
			case id == "":
				add(idKey[list]+" is required", list, i, idKey[list])
			case ids[list][id]:
				add(fmt.Sprintf("duplicate %s %q", idKey[list], id), list, i, idKey[list])
			}
			ids[list][id] = true
			var name any
			switch list {
			case "services", "configs", "secrets":
				name = field(o, "Spec", "Name")
				if n, _ := name.(string); n == "" {
					add("Spec.Name is required", list, i, "Spec")
				}
			case "networks", "volumes":
				name = o["Name"]
			}
			if n, ok := name.(string); ok && n != "" {
				names[list][n] = true
			}
		}
	}
	for list, objs := range s.lists() {
		for i, o := range objs {
			if _, err := json.Marshal(o); err != nil {
				add("cannot be served as JSON (keys must be strings, numbers finite): "+err.Error(), list, i)
			}
		}
	}
	known := func(list, ref string) bool { return ids[list][ref] || names[list][ref] }
	for i, svc := range s.Services {
		ctr, _ := field(svc, "Spec", "TaskTemplate", "ContainerSpec").(map[string]any)
		for _, ref := range []struct{ key, idField, list string }{{"Secrets", "SecretID", "secrets"}, {"Configs", "ConfigID", "configs"}} {
			refs, _ := ctr[ref.key].([]any)
			for j, r := range refs {
				m, _ := r.(map[string]any)
				id, _ := m[ref.idField].(string)
				if !known(ref.list, id) {
					add(fmt.Sprintf("%s %q is not in swarm.%s", ref.idField, id, ref.list), "services", i, "Spec", "TaskTemplate", "ContainerSpec", ref.key, j)
				}
			}
		}
		nets, _ := field(svc, "Spec", "TaskTemplate", "Networks").([]any)
		for j, n := range nets {
			m, _ := n.(map[string]any)
			target, _ := m["Target"].(string)
			if !known("networks", target) {
				add(fmt.Sprintf("network %q is not in swarm.networks", target), "services", i, "Spec", "TaskTemplate", "Networks", j)
			}
		}
	}
	for i, t := range s.Tasks {
		if sid, _ := t["ServiceID"].(string); !ids["services"][sid] {
			add(fmt.Sprintf("ServiceID %q is not in swarm.services", sid), "tasks", i, "ServiceID")
		}
		if nid, _ := t["NodeID"].(string); nid != "" && !ids["nodes"][nid] {
			add(fmt.Sprintf("NodeID %q is not in swarm.nodes", nid), "tasks", i, "NodeID")
		}
	}
	return out
}

// encodeSwarm pre-encodes each list as the Engine API answers it.
func encodeSwarm(s *Swarm) (map[string][]byte, error) {
	out := map[string][]byte{}
	for list, objs := range s.lists() {
		items := make([]any, 0, len(objs))
		for _, o := range objs {
			if list == "secrets" {
				o = withoutSecretData(o)
			}
			items = append(items, o)
		}
		var v any = items
		if list == "volumes" {
			// GET /volumes is {"Volumes": [...], "Warnings": [...]}
			// (api/types/volume.ListResponse); Docker sends null for none.
			var vols any = items
			if len(items) == 0 {
				vols = nil
			}
			v = map[string]any{"Volumes": vols, "Warnings": nil}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("swarm.%s: %w", list, err)
		}
		out[list] = append(b, '\n')
	}
	return out, nil
}

// withoutSecretData copies a secret without Spec.Data: dockerd's secret
// list never includes it (daemon/cluster/convert.SecretFromGRPC leaves the
// data out).
func withoutSecretData(o EngineObject) EngineObject {
	c := make(EngineObject, len(o))
	for k, v := range o {
		c[k] = v
	}
	if spec, ok := o["Spec"].(map[string]any); ok {
		sc := make(map[string]any, len(spec))
		for k, v := range spec {
			if k != "Data" {
				sc[k] = v
			}
		}
		c["Spec"] = sc
	}
	return c
}

// Engine API versions the simulator accepts in a /v<version>/ prefix:
// MKE 3's engine answers 1.41 at most (MCR 20.10) and, like dockerd, down
// to 1.12.
const (
	engineMaxVersion = "1.41"
	engineMinVersion = "1.12"
)

var versionPrefixRE = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// engineVersion strips a /v<version> prefix from an Engine API path. It
// answers like dockerd's version middleware (api/server/middleware/
// version.go) when the version is outside the supported range, in
// Docker's error shape {"message": ...}, and reports whether to go on.
func engineVersion(w http.ResponseWriter, r *http.Request) bool {
	m := versionPrefixRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return true
	}
	if _, ok := engineRoute(strings.TrimPrefix(m[2], "/")); !ok {
		return true // not an Engine API path: routing answers 404
	}
	v := m[1]
	switch {
	case compareVersions(v, engineMaxVersion) > 0:
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", v, engineMaxVersion)})
		return false
	case compareVersions(v, engineMinVersion) < 0:
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, engineMinVersion)})
		return false
	}
	r.URL.Path = m[2]
	r.URL.RawPath = ""
	return true
}

func engineRoute(p string) (string, bool) {
	_, ok := idKey[p]
	return p, ok
}

// compareVersions compares "major.minor" versions numerically.
func compareVersions(a, b string) int {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := range 2 {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// engineList serves one Engine API list. Query filters (filters=...) are
// not supported and refused rather than ignored, so that a client relying
// on them fails here instead of getting everything. The route is
// admin-only: MKE 3 shows a non-admin only the objects their grants allow,
// so a non-admin's list may silently miss services; refusing (403) is at
// least as strict, and the export is meant to run as an admin.
func engineList(list string) handler {
	return func(s *Server, w http.ResponseWriter, c *call) {
		if c.r.URL.Query().Has("filters") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "the simulator does not support filters"})
			return
		}
		writeRawJSON(w, http.StatusOK, s.swarm[list])
	}
}
