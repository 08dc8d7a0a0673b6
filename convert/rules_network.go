package convert

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// calicoLogLevels maps syslog levels (MKE 3) to Calico's.
var calicoLogLevels = map[string]string{
	"debug": "Debug", "info": "Info", "notice": "Info", "warning": "Warning", "warn": "Warning",
	"err": "Error", "error": "Error", "crit": "Fatal", "alert": "Fatal", "emerg": "Fatal",
}

func (c *conv) network() {
	n := &c.in.ClusterConfig
	out := &c.out.Spec.Network

	c.setString(cc+"service_cluster_ip_range", "network.serviceCIDR", n.ServiceClusterIPRange, &out.ServiceCIDR)
	if c.has(cc+"service_cluster_ip_range") && n.ServiceClusterIPRange != "" {
		c.checkCIDR(cc+"service_cluster_ip_range", n.ServiceClusterIPRange)
	}
	if c.has(cc+"nodeport_range") && n.NodePortRange != "" {
		if _, _, err := mke4.ParseNodePortRange(n.NodePortRange); err != nil {
			c.mark(cc+"nodeport_range", StatusUnconvertible, err.Error())
		} else {
			c.set(cc+"nodeport_range", "network.nodePortRange", Checked, func() { out.NodePortRange = n.NodePortRange })
		}
	} else {
		c.setString(cc+"nodeport_range", "network.nodePortRange", n.NodePortRange, &out.NodePortRange)
	}

	// Blockers first (documented in the upgrade prerequisites).
	switch {
	case !c.has(cc + "calico_kdd"):
		if !n.UnmanagedCNI {
			c.extra = append(c.extra, Entry{Key: cc + "calico_kdd", Status: StatusBlocking,
				Reason: "absent, and MKE 3 defaults to the etcd datastore: " + KDDRequiredMessage + "; switch with `mke-migrate calico-kdd` (irreversible) or confirm the cluster already uses KDD and set calico_kdd = true"})
		}
	case n.CalicoKDD:
		c.mark(cc+"calico_kdd", StatusDefault, "Calico already uses the Kubernetes datastore, as MKE 4k requires")
	case n.UnmanagedCNI:
		c.mark(cc+"calico_kdd", StatusDefault, "unmanaged CNI: MKE 3 does not run Calico, so its datastore does not matter")
	default:
		c.mark(cc+"calico_kdd", StatusBlocking, KDDRequiredMessage+": switch Calico to KDD first with `mke-migrate calico-kdd` (irreversible; new pod networking pauses about 20 s per node)")
	}
	if n.CalicoEBPFEnabled {
		c.mark(cc+"calico_ebpf_enabled", StatusBlocking, "the Calico eBPF dataplane cannot be upgraded to MKE 4k (documented known issue): switch MKE 3 to the iptables dataplane first")
	}
	switch m := n.KubeProxyMode; {
	case !c.has(cc + "kube_proxy_mode"):
	case m == "iptables":
		c.set(cc+"kube_proxy_mode", "network.kubeProxy.mode", Checked, func() { out.KubeProxy.Mode = "iptables" })
	case m == "":
		c.add(Entry{Key: cc + "kube_proxy_mode", Status: StatusDefault, Target: sp + "network.kubeProxy.mode", Reason: "empty: MKE 3 and MKE 4k default to iptables"})
	default:
		c.mark(cc+"kube_proxy_mode", StatusBlocking, fmt.Sprintf("kube-proxy mode %q cannot be upgraded: MKE 4k supports only iptables; switch MKE 3 to iptables first", m))
	}

	calico := c.provider(mke4.ProviderCalico)
	if n.UnmanagedCNI {
		c.set(cc+"unmanaged_cni", "network.providers", Documented, func() {
			calico.Enabled = false
			c.provider(mke4.ProviderCustom).Enabled = true
		})
	} else {
		c.add0(cc+"unmanaged_cni", StatusConverted, "network.providers", "", Documented)
	}
	if n.UnmanagedCNI {
		// MKE 3 ran no Calico: its Calico settings had no effect, and the
		// pod network belongs to the user's CNI, which MKE 4k keeps.
		for _, k := range []string{"pod_cidr", "calico_vxlan", "calico_mtu", "ipip_mtu", "calico_vxlan_mtu", "calico_vxlan_port", "vxlan_vni", "calico_ip_auto_method"} {
			c.mark(cc+k, StatusDefault, "unmanaged CNI: MKE 3 ran no Calico, so this setting had no effect; the pod network stays with your CNI")
		}
		c.mark("log_configuration.level", StatusDefault, "unmanaged CNI: the level only set MKE 3's Calico logging; your CNI keeps its own")
		return
	}
	if calico.ExtraConfig == nil {
		calico.ExtraConfig = map[string]string{}
	}
	if c.has(cc + "pod_cidr") {
		if c.checkCIDR(cc+"pod_cidr", n.PodCIDR) {
			c.set(cc+"pod_cidr", "network.providers[calico].extraConfig.cidrV4", Checked, func() { calico.ExtraConfig["cidrV4"] = n.PodCIDR })
		}
	}
	if c.has("log_configuration.level") {
		lvl := strings.ToLower(c.in.LogConfiguration.Level)
		if v, ok := calicoLogLevels[lvl]; ok {
			c.set("log_configuration.level", "network.providers[calico].extraConfig.loglevel", Checked, func() { calico.ExtraConfig["loglevel"] = v })
		} else if lvl == "" {
			c.mark("log_configuration.level", StatusDefault, "empty: MKE 4k logs at Info")
		} else {
			c.mark("log_configuration.level", StatusUnconvertible, fmt.Sprintf("%q is not a syslog level (debug, info, notice, warning, err, crit, alert, emerg)", c.in.LogConfiguration.Level))
		}
	}

	// Calico operator values. For clusters from MKE 3 mkectl always writes
	// values.yaml, whose first line must be kubeletVolumePluginPath.
	vals := map[string]any{}
	netw := map[string]any{}
	felix := map[string]any{"enabled": true}
	const vy = "network.providers[calico].extraConfig.values.yaml:"
	c.set(cc+"calico_vxlan", vy+"installation.calicoNetwork.bgp", Inferred, func() {
		// VXLAN needs no BGP; IPIP (MKE 3's alternative) routes with BGP.
		netw["bgp"] = map[bool]string{true: "Disabled", false: "Enabled"}[n.CalicoVXLAN]
	})
	c.intString(cc+"calico_mtu", vy+"installation.calicoNetwork.mtu", n.CalicoMTU, netw, "mtu", 0, 65535)
	c.intString(cc+"ipip_mtu", vy+"defaultFelixConfiguration.ipipMTU", n.IPIPMTU, felix, "ipipMTU", 0, 65535)
	c.intString(cc+"calico_vxlan_mtu", vy+"defaultFelixConfiguration.vxlanMTU", n.CalicoVXLANMTU, felix, "vxlanMTU", 0, 65535)
	c.intString(cc+"calico_vxlan_port", vy+"defaultFelixConfiguration.vxlanPort", n.CalicoVXLANPort, felix, "vxlanPort", 1, 65535)
	if c.has(cc + "vxlan_vni") {
		if n.VXLANVNI < 1 || n.VXLANVNI > 16777215 {
			c.mark(cc+"vxlan_vni", StatusUnconvertible, fmt.Sprintf("VNI %d is outside 1-16777215", n.VXLANVNI))
		} else {
			c.set(cc+"vxlan_vni", vy+"defaultFelixConfiguration.vxlanVNI", Documented, func() { felix["vxlanVNI"] = n.VXLANVNI })
		}
	}
	if c.has(cc + "calico_ip_auto_method") {
		switch m, err := autodetection(n.CalicoIPAutoMethod); {
		case n.CalicoIPAutoMethod == "":
			c.add(Entry{Key: cc + "calico_ip_auto_method", Status: StatusDefault, Target: sp + vy + "installation.calicoNetwork.nodeAddressAutodetectionV4", Reason: "empty: Calico's first-found default applies"})
		case err != nil:
			c.mark(cc+"calico_ip_auto_method", StatusUnconvertible, err.Error())
		default:
			c.set(cc+"calico_ip_auto_method", vy+"installation.calicoNetwork.nodeAddressAutodetectionV4", Checked, func() { netw["nodeAddressAutodetectionV4"] = m })
		}
	}
	if len(netw) > 0 {
		vals["installation"] = map[string]any{"calicoNetwork": netw}
	}
	vals["defaultFelixConfiguration"] = felix
	rest, err := yaml.Marshal(vals)
	if err == nil {
		calico.ExtraConfig["values.yaml"] = "kubeletVolumePluginPath: " + c.kubeletRootDir() + "\n" + string(rest)
	}
}

func (c *conv) kubeletRootDir() string {
	if d := c.in.ClusterConfig.KubeletDataRoot; d != "" {
		return d
	}
	return mke4.DefaultKubeletRootDir
}

// intString converts an MKE 3 number-in-a-string (MTUs, ports).
func (c *conv) intString(key, target, v string, dst map[string]any, field string, lo, hi int) {
	if !c.has(key) {
		return
	}
	if v == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + target, Reason: "empty: the Calico default applies"})
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		c.mark(key, StatusUnconvertible, fmt.Sprintf("%q is not a number from %d to %d", v, lo, hi))
		return
	}
	c.set(key, target, c.basis(key), func() { dst[field] = n })
}

func (c *conv) checkCIDR(key, v string) bool {
	if _, _, err := net.ParseCIDR(v); err != nil {
		c.mark(key, StatusUnconvertible, fmt.Sprintf("%q is not a CIDR (like 10.96.0.0/16)", v))
		return false
	}
	return true
}

// autodetection maps calico_ip_auto_method to the operator's
// nodeAddressAutodetectionV4.
func autodetection(m string) (map[string]any, error) {
	k, v, _ := strings.Cut(strings.TrimSpace(m), "=")
	switch k {
	case "first-found":
		return map[string]any{"firstFound": true}, nil
	case "kubernetes-internal-ip":
		return map[string]any{"kubernetes": "NodeInternalIP"}, nil
	case "interface":
		return map[string]any{"interface": v}, nil
	case "skip-interface":
		return map[string]any{"skipInterface": v}, nil
	case "can-reach":
		return map[string]any{"canReach": v}, nil
	case "cidr":
		var cidrs []any
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cidrs = append(cidrs, s)
			}
		}
		return map[string]any{"cidrs": cidrs}, nil
	}
	return nil, fmt.Errorf("%q is not a Calico autodetection method (first-found, kubernetes-internal-ip, interface=, skip-interface=, can-reach=, cidr=)", m)
}

func (c *conv) provider(name string) *mke4.NetworkProvider {
	ps := &c.out.Spec.Network.Providers
	for i := range *ps {
		if (*ps)[i].Provider == name {
			return &(*ps)[i]
		}
	}
	*ps = append(*ps, mke4.NetworkProvider{Provider: name})
	return &(*ps)[len(*ps)-1]
}
