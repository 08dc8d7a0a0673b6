package convert

import (
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/kubeletprofile"
)

// componentBools are the boolean flags of each component, read from the
// BoolVar registrations of Kubernetes v1.37.2: cmd/kube-apiserver,
// pkg/controlplane/apiserver/options and k8s.io/apiserver's server options
// (kube-apiserver); cmd/kube-controller-manager, k8s.io/controller-manager
// and k8s.io/cloud-provider options (kube-controller-manager);
// cmd/kube-scheduler (kube-scheduler); cmd/kube-proxy (kube-proxy); and
// k8s.io/component-base for the flags all of them share (profiling,
// contention-profiling, leader election, logging) plus cobra's --help and
// the --version flag. The kubelet's come from kubeletprofile.IsBool.
//
// Kubernetes parses flags with pflag, where a boolean flag has
// NoOptDefVal "true": "--profiling" alone means true and the next list
// element is never its value, so ["--profiling", "false"] leaves "false" a
// stray argument, which the components refuse at start.
var componentBools = map[string]map[string]bool{
	"apiServer": boolSet(sharedBools + " allow-privileged anonymous-auth audit-log-compress audit-log-batch-throttle-enable " +
		"audit-webhook-batch-throttle-enable audit-log-truncate-enabled audit-webhook-truncate-enabled " +
		"aggregator-reject-forwarding-redirect authentication-skip-lookup authentication-tolerate-lookup-failure " +
		"disable-http2-serving emulation-forward-compatible enable-aggregator-routing enable-bootstrap-token-auth " +
		"enable-garbage-collector enable-logs-handler enable-priority-and-fairness encryption-provider-config-automatic-reload " +
		"permit-address-sharing permit-port-sharing runtime-config-emulation-forward-compatible " +
		"service-account-extend-token-expiration service-account-lookup shutdown-send-retry-after watch-cache"),
	"controllerManager": boolSet(sharedBools + " leader-elect allocate-node-cidrs allow-untagged-cloud configure-cloud-routes " +
		"disable-attach-detach-reconcile-sync disable-force-detach-on-timeout enable-dynamic-provisioning " +
		"enable-garbage-collector enable-hostpath-provisioner enable-leader-migration use-service-account-credentials " +
		"webhook-disable-http2-serving"),
	"scheduler": boolSet(sharedBools + " leader-elect"),
	"network.kubeProxy": boolSet(sharedBools + " bind-address-hard-fail cleanup conntrack-tcp-be-liberal enable-dsr " +
		"forward-healthcheck-vip init-only iptables-localhost-nodeports ipvs-strict-arp masquerade-all windows-service"),
}

const sharedBools = "help version profiling contention-profiling log-json-split-stream log-text-split-stream"

func boolSet(names string) map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(names) {
		m[n] = true
	}
	return m
}

// isBoolFlag returns the boolean-flag test of a component for flagparse.
// Names are normalised as pflag's component flag sets do ('_' is '-').
func isBoolFlag(comp string) func(string) bool {
	if comp == "kubelet" {
		return kubeletprofile.IsBool
	}
	set := componentBools[comp]
	return func(name string) bool { return set[strings.ReplaceAll(name, "_", "-")] }
}
