package convert

import (
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
	"github.com/mke-migrate/mke-migrate/convert/kubeletprofile"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// Shadowing: a custom flag and a structured key that set the same thing.
//
// MKE 3's precedence: MKE 3 starts each component with the flags it derives
// from its own keys and appends the custom_*_flags list after them, and
// Kubernetes' flag parser (pflag) keeps the last value of a scalar flag, so
// the custom flag wins. Docker EE's (UCP 3) page "Manage Kubernetes
// api-server flags" documents exactly that use: it changes the NodePort
// range, which nodeport_range otherwise sets, with
// custom_kube_api_server_flags = ["--service-node-port-range=30000-32767"];
// its PodSecurityPolicy page warns that custom flags must not conflict with
// the options UCP sets. List flags (pflag string slices such as
// --tls-cipher-suites) append instead: both values apply.
//
// The converter writes the winning value once, to the structured MKE 4k
// field, and reports the structured key "dropped" with a reason naming the
// flag. Flags that k0s owns but that have an MKE 4k field
// (--service-node-port-range, --service-cluster-ip-range of the API server)
// are carried to that field the same way, so that MKE 4k gets the range the
// MKE 3 API server really used, and the ingress NodePorts are checked
// against it.

// shadowPrecedence states MKE 3's precedence for docs/mapping.md (generated).
const shadowPrecedence = "MKE 3 starts each Kubernetes component with the flags it derives from its own keys and appends the " +
	"`custom_*_flags` list after them; Kubernetes' flag parser (pflag) keeps the last value of a scalar flag, so the " +
	"custom flag wins. Docker EE's (UCP 3) page \"Manage Kubernetes api-server flags\" uses exactly this to change the " +
	"NodePort range that `nodeport_range` sets (`custom_kube_api_server_flags = [\"--service-node-port-range=30000-32767\"]`). " +
	"The converter writes the winning value once, to the MKE 4k field, reports the flag `converted` there and the key " +
	"`dropped` with a reason naming the flag. A flag value the field cannot take is `unconvertible` and the key keeps its " +
	"value. `--service-node-port-range` and `--service-cluster-ip-range` are set by k0s from `spec.network`, so they go " +
	"there like the others (and the ingress NodePorts are checked against the winning range); the kubelet's `--root-dir` " +
	"goes to `kubelet.kubeletRootDir` and drops `kubelet_data_root`. Flags that k0s derives from a field another setting " +
	"decides (the controller manager's `--service-cluster-ip-range` from the API server's range, the `--cluster-cidr` of " +
	"the controller manager and kube-proxy from the pod network) are `dropped` when they hold the field's value, naming " +
	"the setting it comes from, and `unconvertible` with both values when they differ."

// shadow is one flag that sets what structured keys set.
type shadow struct {
	keys   []string // MKE 3 keys the flag shadows (with cluster_config.)
	target string   // MKE 4k field under spec
	// apply parses the flag value and writes it; it returns why the value
	// is unusable, or "".
	apply func(c *conv, v string) string
	// merge: a map flag, whose repetitions pflag merges (later keys win),
	// so the keys keep what the flag does not override.
	merge bool
}

// shadows maps component → flag name → shadow.
var shadows = map[string]map[string]shadow{
	"apiServer": {
		"audit-log-maxage":         intShadow(cc+"kube_api_server_audit_log_maxage", "apiServer.audit.maxAge", 0, func(c *conv) *int { return &c.out.Spec.APIServer.Audit.MaxAge }),
		"audit-log-maxbackup":      intShadow(cc+"kube_api_server_audit_log_maxbackup", "apiServer.audit.maxBackup", 0, func(c *conv) *int { return &c.out.Spec.APIServer.Audit.MaxBackup }),
		"audit-log-maxsize":        intShadow(cc+"kube_api_server_audit_log_maxsize", "apiServer.audit.maxSize", 0, func(c *conv) *int { return &c.out.Spec.APIServer.Audit.MaxSize }),
		"profiling":                boolShadow(cc+"kube_api_server_profiling_enabled", "apiServer.profilingEnabled", func(c *conv) **bool { return &c.out.Spec.APIServer.ProfilingEnabled }),
		"request-timeout":          {keys: []string{cc + "kube_api_server_request_timeout"}, target: "apiServer.requestTimeout", apply: requestTimeout},
		"service-node-port-range":  {keys: []string{cc + "nodeport_range"}, target: "network.nodePortRange", apply: nodePortRange},
		"service-cluster-ip-range": {keys: []string{cc + "service_cluster_ip_range"}, target: "network.serviceCIDR", apply: serviceCIDR},
	},
	"controllerManager": {
		"profiling":                   boolShadow(cc+"kube_controller_manager_profiling_enabled", "controllerManager.profilingEnabled", func(c *conv) **bool { return &c.out.Spec.ControllerManager.ProfilingEnabled }),
		"terminated-pod-gc-threshold": intShadow(cc+"kube_manager_terminated_pod_gc_threshold", "controllerManager.terminatedPodGCThreshold", 0, func(c *conv) *int { return &c.out.Spec.ControllerManager.TerminatedPodGCThreshold }),
	},
	"scheduler": {
		"profiling": boolShadow(cc+"kube_scheduler_profiling_enabled", "scheduler.profilingEnabled", func(c *conv) **bool { return &c.out.Spec.Scheduler.ProfilingEnabled }),
	},
	"kubelet": {
		"max-pods":      intShadow(cc+"kubelet_max_pods", "kubelet.maxPods", 1, func(c *conv) *int { return &c.out.Spec.Kubelet.MaxPods }),
		"pods-per-core": intShadow(cc+"kubelet_pods_per_core", "kubelet.podsPerCore", 0, func(c *conv) *int { return &c.out.Spec.Kubelet.PodsPerCore }),
		// MKE 3 passes --root-dir from kubelet_data_root; a custom one wins.
		"root-dir": {keys: []string{cc + "kubelet_data_root"}, target: "kubelet.kubeletRootDir", apply: func(c *conv, v string) string {
			if v = strings.TrimSpace(v); !strings.HasPrefix(v, "/") {
				return fmt.Sprintf("%q is not an absolute path", short(v))
			}
			c.out.Spec.Kubelet.KubeletRootDir = v
			return ""
		}},
		"event-qps":               intShadow(cc+"kubelet_event_record_qps", "kubelet.eventRecordQPS", 0, func(c *conv) *int { return &c.out.Spec.Kubelet.EventRecordQPS }),
		"protect-kernel-defaults": plainBoolShadow(cc+"kube_protect_kernel_defaults", "kubelet.protectKernelDefaults", false, func(c *conv) *bool { return &c.out.Spec.Kubelet.ProtectKernelDefaults }),
		"seccomp-default":         plainBoolShadow(cc+"disable_seccomp_default", "kubelet.seccompDefault", false, func(c *conv) *bool { return &c.out.Spec.Kubelet.SeccompDefault }),
		// One kubelet flag for every node: both per-role reservations.
		"kube-reserved": {keys: []string{cc + "manager_kube_reserved_resources", cc + "worker_kube_reserved_resources"},
			target: "kubelet.managerKubeReserved", apply: kubeReserved, merge: true},
		"pod-max-pids": {keys: []string{"hardening_configuration.pids_limit_k8s", "hardening_configuration.pids_limit_unspecified_k8s"},
			target: "kubelet.podPidsLimit", apply: func(c *conv, v string) string {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < -1 {
					return fmt.Sprintf("%q is not a PID limit (an integer, -1 for none)", short(v))
				}
				c.out.Spec.Kubelet.PodPidsLimit = n
				return ""
			}},
	},
}

func intShadow(key, target string, min int, dst func(*conv) *int) shadow {
	return shadow{keys: []string{key}, target: target, apply: func(c *conv, v string) string {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min {
			return fmt.Sprintf("%q is not an integer of at least %d", short(v), min)
		}
		*dst(c) = n
		return ""
	}}
}

func parseBool(v string) (bool, string) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Sprintf("%q is not a boolean (true or false)", short(v))
	}
	return b, ""
}

func boolShadow(key, target string, dst func(*conv) **bool) shadow {
	return shadow{keys: []string{key}, target: target, apply: func(c *conv, v string) string {
		b, why := parseBool(v)
		if why == "" {
			*dst(c) = mke4.Ptr(b)
		}
		return why
	}}
}

func plainBoolShadow(key, target string, invert bool, dst func(*conv) *bool) shadow {
	return shadow{keys: []string{key}, target: target, apply: func(c *conv, v string) string {
		b, why := parseBool(v)
		if why == "" {
			*dst(c) = b != invert
		}
		return why
	}}
}

// kubeReserved merges one --kube-reserved into both per-role reservations
// (pflag merges repeated map flags, the later keys winning), with the
// kubelet's rules for resource names and quantities.
func kubeReserved(c *conv, v string) string {
	res, err := kubeletprofile.MapList([]string{"--kube-reserved=" + v})
	if err != nil {
		return err.Error()
	}
	if len(res.Flags) != 1 || res.Flags[0].Status != kubeletprofile.Converted {
		if len(res.Flags) == 1 {
			return res.Flags[0].Reason
		}
		return fmt.Sprintf("%q is not a list of resource=quantity pairs", short(v))
	}
	m, _ := res.Values["kubeReserved"].(map[string]string)
	k := &c.out.Spec.Kubelet
	for _, dst := range []*map[string]string{&k.ManagerKubeReserved, &k.WorkerKubeReserved} {
		merged := maps.Clone(*dst)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, m)
		*dst = merged
	}
	return ""
}

func requestTimeout(c *conv, v string) string {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return fmt.Sprintf("%q is not a positive duration (like 1m)", short(v))
	}
	c.out.Spec.APIServer.RequestTimeout = d.String()
	return ""
}

func nodePortRange(c *conv, v string) string {
	if _, _, err := mke4.ParseNodePortRange(v); err != nil {
		return err.Error()
	}
	c.out.Spec.Network.NodePortRange = v
	return ""
}

func serviceCIDR(c *conv, v string) string {
	if _, _, err := net.ParseCIDR(v); err != nil {
		return fmt.Sprintf("%q is not a CIDR (like 10.96.0.0/16)", short(v))
	}
	c.out.Spec.Network.ServiceCIDR = v
	return ""
}

// shadowed reports key (when the document holds it) as dropped in favour
// of the flag raw of list, which MKE 3 applies after it.
func (c *conv) shadowed(key, list, raw string) {
	es, ok := c.byKey[key]
	if !ok {
		return
	}
	why := fmt.Sprintf("shadowed by %s in %s: MKE 3 passes custom flags after the flags it derives from its keys, and the last value wins; the flag's value is carried instead", raw, list)
	// One entry for the key, whatever its rule had recorded.
	c.byKey[key] = []Entry{{Key: key, Status: StatusDropped, Reason: why, Line: es[0].Line}}
}

// merged notes on key's entries that the map flag raw of list was merged
// into its value.
func (c *conv) merged(key, list, raw string) {
	es := c.byKey[key]
	for i := range es {
		why := fmt.Sprintf("merged with %s in %s: Kubernetes' flag parser merges repeated map flags, and the flag's keys win", raw, list)
		if es[i].Reason != "" {
			why = es[i].Reason + "; " + why
		}
		es[i].Reason = why
	}
}

// follower is a flag that k0s sets itself from an MKE 4k field another
// setting decides: the controller manager's --service-cluster-ip-range
// follows the API server's range (spec.network.serviceCIDR), and the
// --cluster-cidr of kube-proxy and the controller manager follow the pod
// network. The flag cannot be carried (k0s would overwrite it), nor can it
// decide the field (the API server's range, or Calico's pool, is what pods
// and services really used in MKE 3). So a flag that agrees with the field
// is dropped, naming the setting the field comes from; one that disagrees
// is unconvertible, with both values.
type follower struct {
	target string // MKE 4k field under spec
	// value is the field's final value ("" when MKE 4k has none to give).
	value func(c *conv) string
	// sources are the keys whose converted entries may have set the field.
	sources []string
}

// followers maps component → flag name → follower. They run after the
// network rules and the API server's list (see run and controlPlane), so
// the fields hold their winning values.
var followers = map[string]map[string]follower{
	"controllerManager": {
		"service-cluster-ip-range": serviceRangeFollower,
		"cluster-cidr":             podCIDRFollower,
	},
	"network.kubeProxy": {
		"cluster-cidr": podCIDRFollower,
	},
}

var serviceRangeFollower = follower{target: "network.serviceCIDR",
	value:   func(c *conv) string { return c.out.Spec.Network.ServiceCIDR },
	sources: []string{cc + "service_cluster_ip_range", cc + "custom_kube_api_server_flags"}}

var podCIDRFollower = follower{target: "network.providers[calico].extraConfig.cidrV4",
	value: func(c *conv) string {
		for _, p := range c.out.Spec.Network.Providers {
			if p.Provider == mke4.ProviderCalico && p.Enabled {
				return p.ExtraConfig["cidrV4"]
			}
		}
		return ""
	},
	sources: []string{cc + "pod_cidr"}}

// followFlag reports a follower flag: dropped when it agrees with the
// field k0s derives it from, unconvertible otherwise.
func (c *conv) followFlag(key string, f flagparse.Flag, val string, fl follower) {
	e := Entry{Key: key, Flag: f.Raw, Status: StatusUnconvertible}
	want := fl.value(c)
	from := "MKE 4k's default"
	for _, k := range fl.sources {
		for _, se := range c.byKey[k] {
			if se.Status == StatusConverted && se.Target == sp+fl.target {
				from = k
				if se.Flag != "" {
					from = se.Flag + " in " + k
				}
			}
		}
	}
	owned := "MKE 4k (k0s) sets --" + f.Name + " itself from spec." + fl.target
	switch {
	case want == "":
		e.Reason = owned + ", which this configuration does not set (MKE 3's value points at MKE 3 settings)"
	case strings.TrimSpace(val) == want:
		e.Status = StatusDropped
		e.Reason = owned + ", which holds the same value (" + want + ", from " + from + "); the flag is not needed"
	default:
		e.Reason = fmt.Sprintf("%s, which holds %s (from %s); MKE 3's component used %q, which MKE 4k cannot keep: check that nothing depends on it", owned, want, from, short(val))
	}
	c.add(e)
}
