package convert

import (
	"encoding/json"
	"regexp"
	"strconv"

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
	c.affinity()
	if len(in.IngressConfigMap) > 0 {
		out.ConfigMap = maps.Clone(in.IngressConfigMap)
	}
	c.mapKeys(k+"ingress_config_map", "ingressController.configMap", func(key string) string {
		if !configMapKey.MatchString(key) {
			return fmt.Sprintf("%q is not a ConfigMap key (letters, digits, '-', '_', '.')", short(key))
		}
		return ""
	}, out.ConfigMap)
	for _, svc := range []struct {
		name string
		in   map[string]string
		dst  *map[string]string
	}{{"tcp", in.IngressTCPServices, &out.TCPServices}, {"udp", in.IngressUDPServices, &out.UDPServices}} {
		if len(svc.in) > 0 {
			*svc.dst = maps.Clone(svc.in)
		}
		c.mapKeys(k+"ingress_"+svc.name+"_services", "ingressController."+svc.name+"Services", func(key string) string {
			if p, err := strconv.Atoi(key); err != nil || p < 1 || p > 65535 {
				return fmt.Sprintf("%q is not a port number (the key of an exposed %s service is the port)", short(key), strings.ToUpper(svc.name))
			}
			return ""
		}, *svc.dst)
	}
	c.nodePorts()
}

// mapKeys records every leaf under a map-typed key as converted to the
// same key of target, unless check (when set) finds the key invalid: then
// the entry is unconvertible and the key is removed from dst.
func (c *conv) mapKeys(prefix, target string, check func(key string) string, dst map[string]string) {
	for _, l := range c.in.Leaves {
		if !strings.HasPrefix(l.Key, prefix+".") {
			continue
		}
		sub := l.path[len(strings.Split(prefix, ".")):]
		if check != nil {
			if why := check(sub[0].Key); why != "" {
				c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: why})
				delete(dst, sub[0].Key)
				continue
			}
		}
		c.add(Entry{Key: l.Key, Status: StatusConverted, Target: sp + target + "." + strings.TrimPrefix(sub.String(), "."), Basis: Documented})
	}
}

var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,253}$`)

// affinity carries ingress_node_affinity after checking it against the
// shape of the Kubernetes Affinity type (see checkAffinity): a typo there would make MKE 4k's ingress
// controller fail to deploy.
func (c *conv) affinity() {
	const key = cc + "ingress_controller.ingress_node_affinity"
	in := c.in.ClusterConfig.IngressController.IngressNodeAffinity
	if len(in) == 0 {
		return
	}
	var leaves []Leaf
	for _, l := range c.in.Leaves {
		if strings.HasPrefix(l.Key, key+".") {
			leaves = append(leaves, l)
		}
	}
	data, err := json.Marshal(in)
	if err == nil {
		err = checkAffinity(data)
	}
	if err != nil {
		for _, l := range leaves {
			c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: "not a valid Kubernetes affinity (nodeAffinity, podAffinity, podAntiAffinity): " + short(err.Error())})
		}
		return
	}
	var aff mke4.Affinity
	if err := json.Unmarshal(data, &aff); err != nil {
		return // unreachable: the same JSON decoded into the stricter type
	}
	c.out.Spec.IngressController.Affinity = &aff
	for _, l := range leaves {
		c.add(Entry{Key: l.Key, Status: StatusConverted, Target: sp + "ingressController.affinity." + strings.TrimPrefix(l.path[len(strings.Split(key, ".")):].String(), "."), Basis: Documented})
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
