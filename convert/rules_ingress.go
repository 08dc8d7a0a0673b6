package convert

import (
	"fmt"
	"maps"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func (c *conv) ingress() {
	in := &c.in.ClusterConfig.IngressController
	out := &c.out.Spec.IngressController
	const k = cc + "ingress_controller."

	if c.has(k + "enabled") {
		if in.Enabled {
			c.set(k+"enabled", "ingressController.enabled", Documented, func() { out.Enabled = true })
		} else {
			c.add(Entry{Key: k + "enabled", Status: StatusDefault, Target: sp + "ingressController.enabled", Reason: "MKE 4k always runs its ingress controller (its UI is served through it); node ports follow the documented upgrade rule"})
		}
	}
	if c.has(k + "ingress_num_replicas") {
		if in.IngressNumReplicas < 1 {
			c.mark(k+"ingress_num_replicas", StatusUnconvertible, fmt.Sprintf("%d replicas: must be at least 1", in.IngressNumReplicas))
		} else {
			c.set(k+"ingress_num_replicas", "ingressController.replicaCount", Documented, func() { out.ReplicaCount = in.IngressNumReplicas })
		}
	}
	c.set(k+"ingress_external_ips", "ingressController.externalIPs", Inferred, func() { out.ExternalIPs = append([]string(nil), in.IngressExternalIPs...) })
	c.set(k+"ingress_enable_lb", "ingressController.enableLoadBalancer", Documented, func() { out.EnableLoadBalancer = mke4.Ptr(in.IngressEnableLB) })
	c.set(k+"ingress_preserve_client_ip", "ingressController.preserveClientIP", Documented, func() { out.PreserveClientIP = in.IngressPreserveClientIP })
	c.set(k+"ingress_extra_args.http_port", "ingressController.extraArgs.httpPort", Documented, func() { out.ExtraArgs.HTTPPort = in.IngressExtraArgs.HTTPPort })
	c.set(k+"ingress_extra_args.https_port", "ingressController.extraArgs.httpsPort", Documented, func() { out.ExtraArgs.HTTPSPort = in.IngressExtraArgs.HTTPSPort })
	c.set(k+"ingress_extra_args.enable_ssl_passthrough", "ingressController.extraArgs.enableSslPassthrough", Documented, func() {
		out.ExtraArgs.EnableSSLPassthrough = in.IngressExtraArgs.EnableSSLPassthrough
	})

	for i, t := range in.IngressNodeToleration {
		out.Tolerations = append(out.Tolerations, mke4.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect})
		for _, f := range []string{"key", "value", "operator", "effect"} {
			c.add0(fmt.Sprintf("%singress_node_toleration[%d].%s", k, i, f), StatusConverted, fmt.Sprintf("ingressController.tolerations[%d].%s", i, f), "", Documented)
		}
	}
	if len(in.IngressNodeAffinity) > 0 {
		aff := &mke4.Affinity{}
		for key, v := range in.IngressNodeAffinity {
			m, _ := v.(map[string]any)
			switch key {
			case "nodeAffinity":
				aff.NodeAffinity = m
			case "podAffinity":
				aff.PodAffinity = m
			case "podAntiAffinity":
				aff.PodAntiAffinity = m
			}
		}
		out.Affinity = aff
	}
	c.mapKeys(k+"ingress_node_affinity", "ingressController.affinity", func(sub string) bool {
		return sub == "nodeAffinity" || sub == "podAffinity" || sub == "podAntiAffinity"
	})
	if len(in.IngressConfigMap) > 0 {
		out.ConfigMap = maps.Clone(in.IngressConfigMap)
	}
	if len(in.IngressTCPServices) > 0 {
		out.TCPServices = maps.Clone(in.IngressTCPServices)
	}
	if len(in.IngressUDPServices) > 0 {
		out.UDPServices = maps.Clone(in.IngressUDPServices)
	}
	c.mapKeys(k+"ingress_config_map", "ingressController.configMap", nil)
	c.mapKeys(k+"ingress_tcp_services", "ingressController.tcpServices", nil)
	c.mapKeys(k+"ingress_udp_services", "ingressController.udpServices", nil)
	c.nodePorts()
}

// mapKeys records every leaf under a map-typed key as converted to the
// same sub-key of target; ok (when set) says which first sub-keys are valid.
func (c *conv) mapKeys(prefix, target string, ok func(string) bool) {
	for _, l := range c.in.Leaves {
		if !strings.HasPrefix(l.Key, prefix+".") {
			continue
		}
		sub := l.path[len(strings.Split(prefix, ".")):]
		first := sub[0].Key
		if ok != nil && !ok(first) {
			c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: fmt.Sprintf("%q is not an affinity kind (nodeAffinity, podAffinity, podAntiAffinity)", first)})
			continue
		}
		c.add(Entry{Key: l.Key, Status: StatusConverted, Target: sp + target + "." + strings.TrimPrefix(sub.String(), "."), Basis: Documented})
	}
}

// nodePorts applies the documented NodePort rule: MKE 3 ingress on keeps
// its node ports; off with the default range gets 33000/33001; off with a
// custom range gets the first two ports of the range's static band.
func (c *conv) nodePorts() {
	in := &c.in.ClusterConfig.IngressController
	out := &c.out.Spec.IngressController
	const k = cc + "ingress_controller.ingress_exposed_ports"
	rng := c.out.Spec.Network.NodePortRange
	if !in.Enabled {
		lo, _, err := mke4.ParseNodePortRange(rng)
		reason := "ingress was off in MKE 3: MKE 4k uses 33000/33001 (default node port range)"
		if err == nil && rng != mke4.DefaultNodePortRange {
			out.NodePorts.HTTP, out.NodePorts.HTTPS = lo, lo+1
			reason = fmt.Sprintf("ingress was off in MKE 3 and the node port range %s is custom: MKE 4k uses the first two ports of its static band, %d/%d", rng, lo, lo+1)
		}
		for _, l := range c.in.Leaves {
			if strings.HasPrefix(l.Key, k+"[") {
				c.add(Entry{Key: l.Key, Status: StatusDefault, Target: sp + "ingressController.nodePorts", Reason: reason})
			}
		}
		return
	}
	for i, p := range in.IngressExposedPorts {
		pfx := fmt.Sprintf("%s[%d].", k, i)
		var kind string
		switch {
		case p.Name == "https" || p.Port == 443:
			kind = "https"
			out.NodePorts.HTTPS, out.Ports.HTTPS = p.NodePort, p.Port
		case p.Name == "http" || p.Name == "http2" || p.Port == 80:
			kind = "http"
			out.NodePorts.HTTP, out.Ports.HTTP = p.NodePort, p.Port
		}
		for _, f := range []string{"name", "port", "target_port", "node_port", "protocol"} {
			key := pfx + f
			switch {
			case kind == "":
				c.mark(key, StatusDropped, fmt.Sprintf("exposed port %q (%d): MKE 4k's ingress exposes http and https only; expose others with tcpServices/udpServices", p.Name, p.Port))
			case f == "node_port":
				c.add0(key, StatusConverted, "ingressController.nodePorts."+kind, "", Documented)
			case f == "port":
				c.add0(key, StatusConverted, "ingressController.ports."+kind, "", Documented)
			case f == "target_port" && p.TargetPort != p.Port && p.TargetPort != 0:
				c.mark(key, StatusDropped, fmt.Sprintf("target port %d differs from port %d: MKE 4k's ingress targets its own container ports", p.TargetPort, p.Port))
			default:
				c.add0(key, StatusDefault, "ingressController.ports."+kind, "identifies the "+kind+" port", Documented)
			}
		}
	}
}
