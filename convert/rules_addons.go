package convert

import (
	"fmt"
	"strconv"
	"time"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func (c *conv) addons() {
	n := &c.in.ClusterConfig
	s := &c.out.Spec
	const k = cc + "metallb_config."
	c.set(k+"enabled", "addons[metallb].enabled", Documented, func() {
		for i := range s.Addons {
			if s.Addons[i].Name == "metallb" {
				s.Addons[i].Enabled = n.MetalLBConfig.Enabled
			}
		}
	})
	for _, p := range n.MetalLBConfig.MetalLBIPAddrPool {
		if p.Name == "" && len(p.ExternalIP) == 0 {
			continue
		}
		c.pools = append(c.pools, MetalLBPool{Name: p.Name, Addresses: append([]string{}, p.ExternalIP...)})
	}

	pe := &n.PolicyEnforcement
	const g = cc + "policy_enforcement.gatekeeper."
	c.set(g+"enabled", "policyController.opaGatekeeper.enabled", Documented, func() { s.PolicyController.OPAGatekeeper.Enabled = pe.Gatekeeper.Enabled })
	c.set(g+"excluded_namespaces", "policyController.opaGatekeeper.exemptNamespaces", Documented, func() {
		s.PolicyController.OPAGatekeeper.ExemptNamespaces = append([]string(nil), pe.Gatekeeper.ExcludedNamespaces...)
	})
	const d = cc + "core_dns_lameduck_config."
	c.set(d+"enabled", "dns.lameduck.enabled", Documented, func() { s.DNS.Lameduck.Enabled = n.CoreDNSLameduckConfig.Enabled })
	if c.has(d + "duration") {
		if dur, err := time.ParseDuration(n.CoreDNSLameduckConfig.Duration); err != nil || dur <= 0 {
			c.mark(d+"duration", StatusUnconvertible, fmt.Sprintf("%q is not a positive duration (like 7s)", n.CoreDNSLameduckConfig.Duration))
		} else {
			c.set(d+"duration", "dns.lameduck.duration", Documented, func() { s.DNS.Lameduck.Duration = n.CoreDNSLameduckConfig.Duration })
		}
	}
	if c.has(cc+"node_local_dns") || c.has(cc+"node_local_dns_config_persist") {
		if s.NodeLocalDNS == nil {
			s.NodeLocalDNS = &mke4.NodeLocalDNS{}
		}
		c.set(cc+"node_local_dns", "nodeLocalDNS.enabled", Inferred, func() { s.NodeLocalDNS.Enabled = n.NodeLocalDNS })
		c.set(cc+"node_local_dns_config_persist", "nodeLocalDNS.nodeLocalConfigPersist", Inferred, func() {
			s.NodeLocalDNS.NodeLocalConfigPersist = n.NodeLocalDNSConfigPersist
		})
	}
	c.set(cc+"nvidia_device_plugin", "devicePlugins.nvidiaGPU.enabled", Inferred, func() { s.DevicePlugins.NvidiaGPU.Enabled = n.NvidiaDevicePlugin })
	c.set(cc+"cadvisor_enabled", "monitoring.enableCAdvisor", Inferred, func() { s.Monitoring.EnableCAdvisor = n.CAdvisorEnabled })
}

// hosts fills spec.hosts and assigns kubelet profiles by node label.
func (c *conv) hosts() {
	label := c.opts.KubeletProfileLabel
	if label == "" {
		label = DefaultKubeletProfileLabel
	}
	for i, h := range c.opts.Hosts {
		mh := h.Host
		mh.InstallFlags = append([]string(nil), h.InstallFlags...)
		if name, ok := h.Labels[label]; ok {
			key := fmt.Sprintf("hosts[%d].labels.%s", i, label)
			if to, found := c.profileNames[name]; found {
				mh.InstallFlags = append(mh.InstallFlags, "--profile="+to)
				c.extra = append(c.extra, Entry{Key: key, Status: StatusConverted, Target: fmt.Sprintf("spec.hosts[%d].installFlags", i), Reason: "kubelet profile " + strconv.Quote(name), Basis: Documented})
			} else {
				c.extra = append(c.extra, Entry{Key: key, Status: StatusUnconvertible, Reason: fmt.Sprintf("node %s names kubelet profile %q, which custom_kubelet_flags_profiles does not define", hostName(h.Host), name)})
			}
		}
		c.out.Spec.Hosts = append(c.out.Spec.Hosts, mh)
	}
}

func hostName(h mke4.Host) string {
	if h.SSH != nil && h.SSH.Address != "" {
		return h.SSH.Address
	}
	return h.Hostname
}
