package mke4

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FieldError is one validation finding. Path is the YAML path of the
// offending value, e.g. "spec.kubelet.customProfiles[1].name".
type FieldError struct {
	Path    string
	Message string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Message }

// Validate checks the rules that the MKE 4k documentation states. It returns
// nil or the errors.Join of *FieldError values, in a fixed order.
//
// Checked:
//   - apiVersion, kind and metadata.namespace ("mke") identify an MkeConfig;
//   - hosts[].role is one of the documented roles;
//   - hosts[].installFlags "--profile=<name>" names a kubelet custom profile;
//   - extraArgs keys (every component) are flag names without leading dashes;
//   - apiServer.audit.level is None, Metadata or Request;
//   - apiServer.requestTimeout and dns.lameduck.duration are durations;
//   - kubelet.customProfiles names are set and unique;
//   - network.nodePortRange is "<first>-<last>";
//   - exactly one network provider is enabled, names unique;
//   - ingress ports and container ports are in 1..65535 and the ingress
//     (and gateway) node ports lie in network.nodePortRange;
//   - cloudProvider.provider is aws or external when enabled;
//   - backup.storage_provider.type is InCluster or External.
//
// Not checked: an empty apiServer.externalAddress is allowed (single-manager
// clusters need no load balancer); mkectl itself decides whether it is needed.
func (c MkeConfig) Validate() error {
	var v validator
	c.validateIdentity(&v)
	s := &c.Spec
	profiles := s.Kubelet.validateProfiles(&v)
	validateHosts(&v, s.Hosts, profiles)
	s.APIServer.validate(&v)
	validateExtraArgs(&v, "spec.controllerManager.extraArgs", s.ControllerManager.ExtraArgs)
	validateExtraArgs(&v, "spec.scheduler.extraArgs", s.Scheduler.ExtraArgs)
	validateExtraArgs(&v, "spec.kubelet.extraArgs", s.Kubelet.ExtraArgs)
	first, last, haveRange := s.Network.validate(&v)
	validateDuration(&v, "spec.dns.lameduck.duration", s.DNS.Lameduck.Duration)
	portRange := func(path string, port int) {
		if port == 0 {
			return
		}
		if !validPort(port) {
			v.add(path, "%d is not a port number (1-65535)", port)
			return
		}
		if haveRange && (port < first || port > last) {
			v.add(path, "%d is outside spec.network.nodePortRange %d-%d", port, first, last)
		}
	}
	ic := &s.IngressController
	portRange("spec.ingressController.nodePorts.http", ic.NodePorts.HTTP)
	portRange("spec.ingressController.nodePorts.https", ic.NodePorts.HTTPS)
	for _, k := range sortedKeys(ic.NodePorts.TCP) {
		portRange("spec.ingressController.nodePorts.tcp["+strconv.Quote(k)+"]", ic.NodePorts.TCP[k])
	}
	for _, k := range sortedKeys(ic.NodePorts.UDP) {
		portRange("spec.ingressController.nodePorts.udp["+strconv.Quote(k)+"]", ic.NodePorts.UDP[k])
	}
	validatePortField(&v, "spec.ingressController.ports.http", ic.Ports.HTTP)
	validatePortField(&v, "spec.ingressController.ports.https", ic.Ports.HTTPS)
	validatePortField(&v, "spec.ingressController.extraArgs.httpPort", ic.ExtraArgs.HTTPPort)
	validatePortField(&v, "spec.ingressController.extraArgs.httpsPort", ic.ExtraArgs.HTTPSPort)
	if g := s.GatewayMKEIngress; g != nil {
		portRange("spec.gatewayMKEIngress.nodePorts.http", g.NodePorts.HTTP)
		portRange("spec.gatewayMKEIngress.nodePorts.https", g.NodePorts.HTTPS)
		validatePortField(&v, "spec.gatewayMKEIngress.ports.http", g.Ports.HTTP)
		validatePortField(&v, "spec.gatewayMKEIngress.ports.https", g.Ports.HTTPS)
	}
	if b := s.Backup; b != nil {
		switch b.StorageProvider.Type {
		case "", BackupStorageInCluster, BackupStorageExternal:
		default:
			v.add("spec.backup.storage_provider.type", "%q is not %s or %s",
				b.StorageProvider.Type, BackupStorageInCluster, BackupStorageExternal)
		}
	}
	if cp := s.CloudProvider; cp.Enabled {
		switch cp.Provider {
		case CloudProviderAWS, CloudProviderExternal:
		default:
			v.add("spec.cloudProvider.provider", "%q is not %s or %s (required when enabled)",
				cp.Provider, CloudProviderAWS, CloudProviderExternal)
		}
	}
	return v.err()
}

type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (c *MkeConfig) validateIdentity(v *validator) {
	if c.APIVersion != APIVersion {
		v.add("apiVersion", "%q, want %q", c.APIVersion, APIVersion)
	}
	if c.Kind != Kind {
		v.add("kind", "%q, want %q", c.Kind, Kind)
	}
	if c.Metadata.Namespace != MetadataNamespace {
		v.add("metadata.namespace", "%q, want %q", c.Metadata.Namespace, MetadataNamespace)
	}
}

// validateProfiles checks the custom profile names and returns the set of
// names.
func (k *Kubelet) validateProfiles(v *validator) map[string]bool {
	names := make(map[string]bool, len(k.CustomProfiles))
	for i, p := range k.CustomProfiles {
		path := fmt.Sprintf("spec.kubelet.customProfiles[%d].name", i)
		switch {
		case p.Name == "":
			v.add(path, "must not be empty")
		case names[p.Name]:
			v.add(path, "duplicate %q", p.Name)
		}
		names[p.Name] = true
	}
	return names
}

func validateHosts(v *validator, hosts []Host, profiles map[string]bool) {
	for i, h := range hosts {
		switch h.Role {
		case RoleControllerWorker, RoleWorker, RoleSingle, RoleController:
		default:
			v.add(fmt.Sprintf("spec.hosts[%d].role", i), "%q is not one of %s, %s, %s, %s",
				h.Role, RoleControllerWorker, RoleWorker, RoleSingle, RoleController)
		}
		for j := 0; j < len(h.InstallFlags); j++ {
			path := fmt.Sprintf("spec.hosts[%d].installFlags[%d]", i, j)
			name, isProfile := strings.CutPrefix(h.InstallFlags[j], "--profile=")
			if !isProfile && h.InstallFlags[j] == "--profile" {
				isProfile, name = true, ""
				if j+1 < len(h.InstallFlags) {
					j++
					name = h.InstallFlags[j]
				}
			}
			if !isProfile {
				continue
			}
			switch {
			case name == "":
				v.add(path, "--profile needs a profile name")
			case !profiles[name]:
				v.add(path, "profile %q is not defined in spec.kubelet.customProfiles", name)
			}
		}
	}
}

func (a *APIServer) validate(v *validator) {
	validateDuration(v, "spec.apiServer.requestTimeout", a.RequestTimeout)
	if a.Port != 0 && !validPort(a.Port) {
		v.add("spec.apiServer.port", "%d is not a port number (1-65535)", a.Port)
	}
	switch strings.ToLower(a.Audit.Level) {
	case "", "none", "metadata", "request":
	default:
		v.add("spec.apiServer.audit.level", "%q is not one of %s, %s, %s",
			a.Audit.Level, AuditLevelNone, AuditLevelMetadata, AuditLevelRequest)
	}
	validateExtraArgs(v, "spec.apiServer.extraArgs", a.ExtraArgs)
}

// validate checks the network section and returns the parsed node port
// range; ok is false when the range is empty or invalid.
func (n *Network) validate(v *validator) (first, last int, ok bool) {
	if n.NodePortRange != "" {
		var err error
		first, last, err = ParseNodePortRange(n.NodePortRange)
		if err != nil {
			v.add("spec.network.nodePortRange", "%v", err)
		} else {
			ok = true
		}
	}
	validateExtraArgs(v, "spec.network.kubeProxy.extraArgs", n.KubeProxy.ExtraArgs)

	var enabled []string
	seen := make(map[string]bool, len(n.Providers))
	for i, p := range n.Providers {
		path := fmt.Sprintf("spec.network.providers[%d].provider", i)
		switch {
		case p.Provider == "":
			v.add(path, "must not be empty")
		case seen[p.Provider]:
			v.add(path, "duplicate %q", p.Provider)
		}
		seen[p.Provider] = true
		if p.Enabled {
			enabled = append(enabled, strconv.Quote(p.Provider))
		}
	}
	if len(enabled) != 1 {
		msg := "no provider is enabled"
		if len(enabled) > 1 {
			msg = fmt.Sprintf("%d providers are enabled (%s)", len(enabled), strings.Join(enabled, ", "))
		}
		v.add("spec.network.providers", "%s; exactly one must be enabled", msg)
	}
	return first, last, ok
}

// ParseNodePortRange parses a node port range "<first>-<last>".
func ParseNodePortRange(s string) (first, last int, err error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, fmt.Errorf("%q is not a range <first>-<last>", s)
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("%q is not a range <first>-<last>: %w", s, err)
	}
	if !validPort(first) || !validPort(last) || first > last {
		return 0, 0, fmt.Errorf("%q is not an ascending range of port numbers", s)
	}
	return first, last, nil
}

func validateExtraArgs(v *validator, path string, args map[string]string) {
	// Only the bad names are sorted (for a stable order of messages): a
	// map of hundreds of thousands of flags is not copied (issue 14, F13).
	var bad []string
	for k := range args {
		if strings.TrimSpace(k) == "" || strings.HasPrefix(k, "-") {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		p := path + "[" + strconv.Quote(k) + "]"
		switch {
		case strings.TrimSpace(k) == "":
			v.add(p, "flag name must not be empty")
		case strings.HasPrefix(k, "-"):
			v.add(p, "flag name must be given without leading dashes (%q)", strings.TrimLeft(k, "-"))
		}
	}
}

func validateDuration(v *validator, path, d string) {
	if d == "" {
		return
	}
	if _, err := time.ParseDuration(d); err != nil {
		v.add(path, "%q is not a duration such as 7s or 1m0s", d)
	}
}

func validatePortField(v *validator, path string, port int) {
	if port != 0 && !validPort(port) {
		v.add(path, "%d is not a port number (1-65535)", port)
	}
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
