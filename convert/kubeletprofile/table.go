package kubeletprofile

import "strings"

// repeat says what a repeated flag does, following the kubelet's own flag
// types so that the converted profile behaves like the MKE 3 command line.
type repeat int

const (
	// lastWins: scalar flags and --register-with-taints; a later valid
	// value replaces the earlier one.
	lastWins repeat = iota
	// mergeKeys: map flags; keys from later flags are added, same keys win.
	mergeKeys
	// appendItems: list flags (pflag string slices, --reserved-memory,
	// --vmodule, --manifest-url-header values) accumulate.
	appendItems
)

// spec describes one kubelet flag that has a KubeletConfiguration field.
type spec struct {
	field  string // dotted JSON path in KubeletConfiguration v1beta1
	parse  parser
	bare   bool // a bare flag means true (boolean flags)
	repeat repeat
	note   string // added to FlagResult.Reason when converted
	// check rejects values that parse but that the kubelet refuses; it
	// returns the reason, or "" when the value is fine.
	check func(v any) string
}

func boolean(field string) spec { return spec{field: field, parse: boolValue, bare: true} }

func scalar(field string, p parser) spec { return spec{field: field, parse: p} }

func mapOf(field string, p parser) spec { return spec{field: field, parse: p, repeat: mergeKeys} }

func listOf(field string, p parser) spec { return spec{field: field, parse: p, repeat: appendItems} }

func (s spec) withNote(n string) spec { s.note = n; return s }

const (
	noteNoEffect = "accepted for compatibility; the field has no effect in current kubelets"
	noteRuntime  = "review: MKE 4k nodes run the containerd that k0s manages; an MKE 3 (cri-dockerd or dockershim) endpoint does not exist there"
	notePerNode  = "review: the value is per node, and every host using this profile gets the same value"
	noteAlphaLog = "requires the LoggingAlphaOptions feature gate"
)

// specs maps kubelet flag names (dashes, as normalised by flagKey) to their
// KubeletConfiguration fields. It covers every flag the kubelet registers for
// KubeletConfiguration (AddKubeletConfigFlags and the logging flags) plus
// --seccomp-default. Built once and never modified.
var specs = map[string]spec{
	// Pod and node limits.
	"max-pods":               scalar("maxPods", nonNegInt32),
	"pods-per-core":          scalar("podsPerCore", nonNegInt32),
	"pod-max-pids":           scalar("podPidsLimit", anyInt64),
	"max-open-files":         scalar("maxOpenFiles", nonNegInt64),
	"node-status-max-images": scalar("nodeStatusMaxImages", intRange(32, -1, maxInt32)),

	// Node allocatable.
	"kube-reserved":            mapOf("kubeReserved", stringMap(reservedForm, checkReserved)),
	"system-reserved":          mapOf("systemReserved", stringMap(reservedForm, checkReserved)),
	"kube-reserved-cgroup":     scalar("kubeReservedCgroup", stringValue),
	"system-reserved-cgroup":   scalar("systemReservedCgroup", stringValue),
	"enforce-node-allocatable": listOf("enforceNodeAllocatable", enforceNodeAllocatable),
	"reserved-cpus":            scalar("reservedSystemCPUs", cpuSet),
	"reserved-memory":          listOf("reservedMemory", reservedMemory),

	// Eviction.
	"eviction-hard":                       mapOf("evictionHard", evictionThresholds),
	"eviction-soft":                       mapOf("evictionSoft", evictionThresholds),
	"eviction-soft-grace-period":          mapOf("evictionSoftGracePeriod", stringMap(gracePeriodForm, checkGracePeriod)),
	"eviction-minimum-reclaim":            mapOf("evictionMinimumReclaim", stringMap(reclaimForm, checkReclaim)),
	"eviction-pressure-transition-period": scalar("evictionPressureTransitionPeriod", durationValue),
	"eviction-max-pod-grace-period":       scalar("evictionMaxPodGracePeriod", anyInt32),

	// Image garbage collection and pulls.
	"image-gc-high-threshold":    scalar("imageGCHighThresholdPercent", percent),
	"image-gc-low-threshold":     scalar("imageGCLowThresholdPercent", percent),
	"minimum-image-ttl-duration": scalar("imageMinimumGCAge", nonNegDuration),
	"serialize-image-pulls":      boolean("serializeImagePulls"),
	"registry-qps":               scalar("registryPullQPS", nonNegInt32),
	"registry-burst":             scalar("registryBurst", nonNegInt32),

	// API client and events.
	"event-qps":             scalar("eventRecordQPS", nonNegInt32),
	"event-burst":           scalar("eventBurst", nonNegInt32),
	"kube-api-qps":          scalar("kubeAPIQPS", nonNegInt32),
	"kube-api-burst":        scalar("kubeAPIBurst", nonNegInt32),
	"kube-api-content-type": scalar("contentType", stringValue),

	// Periods and timeouts.
	"sync-frequency":                    scalar("syncFrequency", durationValue),
	"file-check-frequency":              scalar("fileCheckFrequency", durationValue),
	"http-check-frequency":              scalar("httpCheckFrequency", durationValue),
	"node-status-update-frequency":      scalar("nodeStatusUpdateFrequency", durationValue),
	"runtime-request-timeout":           scalar("runtimeRequestTimeout", durationValue),
	"streaming-connection-idle-timeout": scalar("streamingConnectionIdleTimeout", durationValue),
	"volume-stats-agg-period":           scalar("volumeStatsAggPeriod", durationValue),

	// CPU, memory and topology managers.
	"cpu-manager-policy":              scalar("cpuManagerPolicy", enum("none", "static")),
	"cpu-manager-policy-options":      mapOf("cpuManagerPolicyOptions", singleOption("cpu-manager-policy-options")),
	"cpu-manager-reconcile-period":    scalar("cpuManagerReconcilePeriod", durationValue),
	"memory-manager-policy":           scalar("memoryManagerPolicy", enum("None", "Static")),
	"topology-manager-policy":         scalar("topologyManagerPolicy", enum("none", "best-effort", "restricted", "single-numa-node")),
	"topology-manager-scope":          scalar("topologyManagerScope", enum("container", "pod")),
	"topology-manager-policy-options": mapOf("topologyManagerPolicyOptions", singleOption("topology-manager-policy-options")),
	"qos-reserved":                    mapOf("qosReserved", stringMap(qosForm, checkQOSReserved)),

	// Cgroups.
	"cgroup-driver":        scalar("cgroupDriver", enum("cgroupfs", "systemd")),
	"cgroup-root":          scalar("cgroupRoot", stringValue),
	"cgroups-per-qos":      boolean("cgroupsPerQOS"),
	"kubelet-cgroups":      scalar("kubeletCgroups", stringValue),
	"system-cgroups":       scalar("systemCgroups", stringValue),
	"cpu-cfs-quota":        boolean("cpuCFSQuota"),
	"cpu-cfs-quota-period": scalar("cpuCFSQuotaPeriod", cfsQuotaPeriod).withNote("values other than 100ms require the CustomCPUCFSQuotaPeriod feature gate"),

	// Node behaviour.
	"protect-kernel-defaults":          boolean("protectKernelDefaults"),
	"fail-swap-on":                     boolean("failSwapOn"),
	"feature-gates":                    mapOf("featureGates", featureGates),
	"allowed-unsafe-sysctls":           listOf("allowedUnsafeSysctls", stringList(nil)),
	"kernel-memcg-notification":        boolean("kernelMemcgNotification"),
	"local-storage-capacity-isolation": boolean("localStorageCapacityIsolation"),
	"seccomp-default":                  boolean("seccompDefault"),
	"enable-controller-attach-detach":  boolean("enableControllerAttachDetach"),
	"volume-plugin-dir":                scalar("volumePluginDir", stringValue),
	"provider-id":                      scalar("providerID", stringValue).withNote(notePerNode),
	"register-node":                    boolean("registerNode"),
	"register-with-taints":             scalar("registerWithTaints", taints),
	"runonce": {field: "runOnce", parse: boolValue, bare: true, check: func(v any) string {
		if v == true {
			return "runOnce mode is deprecated and current kubelets refuse to start with it; drop the flag"
		}
		return ""
	}},

	// Container logs.
	"container-log-max-size":  scalar("containerLogMaxSize", quantityValue),
	"container-log-max-files": scalar("containerLogMaxFiles", intRange(32, 2, maxInt32)),

	// DNS and networking.
	"cluster-dns":               listOf("clusterDNS", stringList(checkIP)),
	"cluster-domain":            scalar("clusterDomain", stringValue),
	"resolv-conf":               scalar("resolvConf", stringValue),
	"hairpin-mode":              scalar("hairpinMode", enum("promiscuous-bridge", "hairpin-veth", "none")),
	"make-iptables-util-chains": boolean("makeIPTablesUtilChains"),
	"iptables-masquerade-bit":   scalar("iptablesMasqueradeBit", iptablesBit).withNote(noteNoEffect),
	"iptables-drop-bit":         scalar("iptablesDropBit", iptablesBit).withNote(noteNoEffect),
	"pod-cidr":                  scalar("podCIDR", stringValue).withNote("only used by a standalone kubelet; " + notePerNode),

	// Serving, TLS and certificates.
	"address":                    scalar("address", ipValue),
	"port":                       scalar("port", portNonZero),
	"read-only-port":             scalar("readOnlyPort", portAny),
	"healthz-port":               scalar("healthzPort", portAny),
	"healthz-bind-address":       scalar("healthzBindAddress", ipValue),
	"enable-server":              boolean("enableServer"),
	"enable-debugging-handlers":  boolean("enableDebuggingHandlers"),
	"contention-profiling":       boolean("enableContentionProfiling"),
	"oom-score-adj":              scalar("oomScoreAdj", intRange(32, -1000, 1000)),
	"tls-cipher-suites":          listOf("tlsCipherSuites", stringList(checkCipher)),
	"tls-min-version":            scalar("tlsMinVersion", enum("VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13")),
	"tls-cert-file":              scalar("tlsCertFile", stringValue),
	"tls-private-key-file":       scalar("tlsPrivateKeyFile", stringValue),
	"rotate-certificates":        boolean("rotateCertificates"),
	"rotate-server-certificates": boolean("serverTLSBootstrap"),

	// Authentication and authorization of the kubelet API.
	"anonymous-auth":                               boolean("authentication.anonymous.enabled"),
	"authentication-token-webhook":                 boolean("authentication.webhook.enabled"),
	"authentication-token-webhook-cache-ttl":       scalar("authentication.webhook.cacheTTL", durationValue),
	"client-ca-file":                               scalar("authentication.x509.clientCAFile", stringValue),
	"authorization-mode":                           scalar("authorization.mode", enum("AlwaysAllow", "Webhook")),
	"authorization-webhook-cache-authorized-ttl":   scalar("authorization.webhook.cacheAuthorizedTTL", durationValue),
	"authorization-webhook-cache-unauthorized-ttl": scalar("authorization.webhook.cacheUnauthorizedTTL", durationValue),

	// Static pods.
	"pod-manifest-path":   scalar("staticPodPath", stringValue),
	"manifest-url":        scalar("staticPodURL", stringValue),
	"manifest-url-header": listOf("staticPodURLHeader", headerMap),

	// Container runtime.
	"container-runtime-endpoint": scalar("containerRuntimeEndpoint", stringValue).withNote(noteRuntime),
	"image-service-endpoint":     scalar("imageServiceEndpoint", stringValue).withNote(noteRuntime),

	// Logging (component-base logs API, bound to KubeletConfiguration.logging).
	"v":                         scalar("logging.verbosity", verbosity),
	"vmodule":                   listOf("logging.vmodule", vmodule),
	"log-flush-frequency":       scalar("logging.flushFrequency", durationValue),
	"logging-format":            scalar("logging.format", enum("text", "json")),
	"log-text-split-stream":     boolean("logging.options.text.splitStream").withNote(noteAlphaLog),
	"log-text-info-buffer-size": scalar("logging.options.text.infoBufferSize", quantityValue).withNote(noteAlphaLog),
	"log-json-split-stream":     boolean("logging.options.json.splitStream").withNote(noteAlphaLog),
	"log-json-info-buffer-size": scalar("logging.options.json.infoBufferSize", quantityValue).withNote(noteAlphaLog),
}

// Reasons for flags that exist but have no KubeletConfiguration field.
const (
	reasonPerNode    = "not a KubeletConfiguration field: per-node flag, set it in kubelet extraArgs or hosts[].installFlags"
	reasonManaged    = "not a KubeletConfiguration field: MKE 4k (k0s) sets this kubelet option itself; drop it, or set it in kubelet extraArgs only if you must override MKE 4k"
	reasonContainerG = "not a KubeletConfiguration field: deprecated container garbage-collection flag; use --eviction-hard/--eviction-soft (evictionHard/evictionSoft) instead"
	reasonRemoved    = "not a KubeletConfiguration field: removed from the kubelet together with dockershim or dynamic kubelet config; drop it"
	reasonKlog       = "not a KubeletConfiguration field: klog flag removed from the kubelet in Kubernetes 1.26; drop it (logging.verbosity and logging.vmodule remain)"
	reasonExperiment = "not a KubeletConfiguration field: experimental flag; drop it, or set it in kubelet extraArgs if the MKE 4k kubelet still accepts it"
)

// nonConfig maps kubelet flags that are not KubeletConfiguration fields to
// the reason they cannot go into a profile. Built once and never modified.
var nonConfig = map[string]string{
	"node-ip":                               reasonPerNode,
	"hostname-override":                     reasonPerNode,
	"node-labels":                           reasonPerNode,
	"cloud-provider":                        reasonPerNode,
	"cloud-config":                          reasonPerNode,
	"image-credential-provider-config":      reasonPerNode,
	"image-credential-provider-bin-dir":     reasonPerNode,
	"runtime-cgroups":                       reasonPerNode,
	"root-dir":                              reasonManaged,
	"cert-dir":                              reasonManaged,
	"kubeconfig":                            reasonManaged,
	"bootstrap-kubeconfig":                  reasonManaged,
	"config":                                reasonManaged,
	"config-dir":                            reasonManaged,
	"lock-file":                             reasonManaged,
	"exit-on-lock-contention":               reasonManaged,
	"pod-infra-container-image":             "not a KubeletConfiguration field: the pause (sandbox) image is set in the container runtime that MKE 4k manages; drop it",
	"minimum-container-ttl-duration":        reasonContainerG,
	"maximum-dead-containers":               reasonContainerG,
	"maximum-dead-containers-per-container": reasonContainerG,
	"register-schedulable":                  "not a KubeletConfiguration field: deprecated flag; use --register-with-taints (registerWithTaints) to register nodes unschedulable",
	"keep-terminated-pod-volumes":           "not a KubeletConfiguration field: deprecated debugging flag; drop it",
	"windows-service":                       "not a KubeletConfiguration field: Windows-only service flag; drop it",
	"windows-priorityclass":                 "not a KubeletConfiguration field: Windows-only process flag; drop it",
	"container-runtime":                     reasonRemoved,
	"docker-endpoint":                       reasonRemoved,
	"network-plugin":                        reasonRemoved,
	"network-plugin-mtu":                    reasonRemoved,
	"cni-bin-dir":                           reasonRemoved,
	"cni-conf-dir":                          reasonRemoved,
	"cni-cache-dir":                         reasonRemoved,
	"image-pull-progress-deadline":          reasonRemoved,
	"dynamic-config-dir":                    reasonRemoved,
	"log-dir":                               reasonKlog,
	"log-file":                              reasonKlog,
	"log-file-max-size":                     reasonKlog,
	"logtostderr":                           reasonKlog,
	"alsologtostderr":                       reasonKlog,
	"one-output":                            reasonKlog,
	"skip-headers":                          reasonKlog,
	"skip-log-headers":                      reasonKlog,
	"stderrthreshold":                       reasonKlog,
	"add-dir-header":                        reasonKlog,
	"log-backtrace-at":                      reasonKlog,
}

// flagKey normalises a flag name the way the kubelet's flag set does
// ('_' and '-' are the same word separator) and drops leading dashes, so that
// Lookup also accepts "--max-pods".
func flagKey(name string) string {
	return strings.ReplaceAll(strings.TrimLeft(name, "-"), "_", "-")
}

// nonConfigReason returns why a known flag cannot go into a profile.
func nonConfigReason(key string) (string, bool) {
	if r, ok := nonConfig[key]; ok {
		return r, true
	}
	if strings.HasPrefix(key, "experimental-") {
		return reasonExperiment, true
	}
	return "", false
}
