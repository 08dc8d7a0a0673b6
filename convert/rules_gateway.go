package convert

import (
	"fmt"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// gateway converts MKE 3.9's [cluster_config.gateway_controller]. MKE 4k
// 4.1.3 and later always run Envoy Gateway (docs.mirantis.com/mke4k,
// "Gateway API"), so the switch has nothing to carry; the replicas and
// tolerations go to spec.envoyGateway when the controller was on.
func (c *conv) gateway() {
	in := &c.in.ClusterConfig.GatewayController
	const k = cc + "gateway_controller."
	if c.has(k + "enabled") {
		why := "MKE 4k always runs Envoy Gateway (4.1.3 and later); there is no switch to carry"
		if !in.Enabled {
			why = "Envoy Gateway was off in MKE 3.9; MKE 4k runs it anyway (4.1.3 and later) for its own ingress"
		}
		c.add(Entry{Key: k + "enabled", Status: StatusDefault, Target: sp + "envoyGateway", Reason: why, Basis: Documented})
	}
	off := "Envoy Gateway was off in MKE 3.9, so this setting had no effect; MKE 4k's defaults apply"
	if c.has(k + "gateway_num_replicas") {
		switch {
		case !in.Enabled:
			c.add(Entry{Key: k + "gateway_num_replicas", Status: StatusDefault, Target: sp + "envoyGateway.replicaCount", Reason: off})
		case in.GatewayNumReplicas < 1:
			c.mark(k+"gateway_num_replicas", StatusUnconvertible, fmt.Sprintf("%d replicas: must be at least 1", in.GatewayNumReplicas))
		default:
			c.set(k+"gateway_num_replicas", "envoyGateway.replicaCount", Inferred, func() { c.envoyGateway().ReplicaCount = in.GatewayNumReplicas })
		}
	}
	for i, t := range in.GatewayNodeToleration {
		if in.Enabled {
			eg := c.envoyGateway()
			eg.Tolerations = append(eg.Tolerations, mke4.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect})
		}
		for _, f := range []string{"key", "value", "operator", "effect"} {
			key := fmt.Sprintf("%sgateway_node_toleration[%d].%s", k, i, f)
			if in.Enabled {
				c.add0(key, StatusConverted, fmt.Sprintf("envoyGateway.tolerations[%d].%s", i, f), "", Inferred)
			} else {
				c.add0(key, StatusDefault, "envoyGateway.tolerations", off, Inferred)
			}
		}
	}
}

func (c *conv) envoyGateway() *mke4.EnvoyGateway {
	if c.out.Spec.EnvoyGateway == nil {
		c.out.Spec.EnvoyGateway = &mke4.EnvoyGateway{}
	}
	return c.out.Spec.EnvoyGateway
}
