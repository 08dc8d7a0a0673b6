// Package kubeletprofile converts kubelet command-line flags, as MKE 3 keeps
// them in custom_kubelet_flags_profiles (one string per profile) or
// custom_kubelet_flags (a list), into KubeletConfiguration
// (kubelet.config.k8s.io/v1beta1) values for MKE 4k's
// spec.kubelet.customProfiles[].values.
//
// The package is pure: no I/O, no global mutable state, and the same input
// always gives the same [Result]. [Map] never panics and reports every input
// flag exactly once in [Result.Flags], so a caller can list in the upgrade
// summary whatever could not be converted.
//
// # Value shapes
//
// [Result.Values] is a nested map keyed by KubeletConfiguration JSON names
// ("authentication" → "anonymous" → "enabled"), ready for json or yaml
// marshalling:
//
//   - integers are int64, range-checked against the field type (int32 or
//     int64) and the kubelet's validation (ports, percentages, oomScoreAdj,
//     non-negative rates); like the kubelet, 0x and 0o prefixes are accepted;
//   - booleans are bool (strconv.ParseBool); a bare flag means true;
//   - durations are validated with time.ParseDuration and written as Go's
//     Duration.String(), e.g. "5m0s";
//   - lists are []string from a comma-separated value, items trimmed and
//     empty items dropped (clusterDNS must be IPs, tlsCipherSuites Go cipher
//     names, enforceNodeAllocatable known levels);
//   - resource maps (kubeReserved, systemReserved) are map[string]string from
//     "cpu=200m,memory=512Mi", with quantities checked against the grammar of
//     Kubernetes' resource.ParseQuantity (without importing apimachinery's
//     resource package) and kept as written (a decimal exponent beyond
//     ±100, such as 9e-999999999, is rejected: ParseQuantity needs minutes
//     for it and no real amount is written that way);
//   - evictionHard and evictionSoft are map[string]string from
//     "memory.available<100Mi,nodefs.available<10%": known signals, a positive
//     quantity or a percentage; evictionMinimumReclaim uses "signal=amount"
//     and evictionSoftGracePeriod "signal=duration" (kept as written);
//   - featureGates is map[string]bool from "A=true,B=false"; gate names are
//     not checked, since they depend on the target kubelet version;
//   - cpuManagerPolicyOptions and topologyManagerPolicyOptions take one
//     "key=value" per flag, as the kubelet does (it does not split on
//     commas); qosReserved takes "memory=N%";
//   - reservedMemory is []any of {"numaNode": int64, "limits": map[string]string}
//     from "0:memory=1Gi,hugepages-2Mi=2Gi;1:memory=2Gi";
//   - registerWithTaints is []any of {"key", "value", "effect"} from
//     "key=value:Effect,key2:Effect";
//   - staticPodURLHeader is map[string][]string from "Name:value,...";
//   - logging flags map to logging.*: -v to logging.verbosity, --vmodule
//     "pattern=N,..." to logging.vmodule ([]any of {filePattern, verbosity}),
//     --log-flush-frequency, --logging-format and the alpha split-stream
//     options.
//
// # Repeated flags
//
// Repetitions behave as on the kubelet command line: map flags merge and later
// keys win; list flags (--cluster-dns, --tls-cipher-suites,
// --allowed-unsafe-sysctls, --enforce-node-allocatable, --reserved-memory,
// --vmodule, --manifest-url-header) accumulate; for every other flag the last
// valid value wins. An earlier flag that lost its effect is marked
// Overridden ("overridden by a later --max-pods in the same profile"), and
// partly overridden map flags carry a note, so nothing disappears silently.
// An invalid later value does not override an earlier valid one.
//
// # Unconvertible flags
//
// A flag is Unconvertible, with a reason that says what to do, when:
//
//   - it is not a KubeletConfiguration field: per-node flags (--node-ip,
//     --hostname-override, --node-labels, --cloud-provider, ...) belong in
//     kubelet extraArgs or hosts[].installFlags; flags MKE 4k sets itself
//     (--root-dir, --cert-dir, --kubeconfig, --config, ...); deprecated,
//     removed and --experimental-* flags; klog flags removed in Kubernetes
//     1.26;
//   - it is unknown;
//   - its value is invalid: the reason names the flag, the value and the
//     expected form;
//   - it needs a value but has none, or the kubelet would refuse the value
//     (--runonce=true);
//   - a later flag overrides it.
//
// Flag names are matched like the kubelet matches them: '_' equals '-'.
//
// Validation is per flag. Rules that combine fields (imageGCLowThresholdPercent
// below imageGCHighThresholdPercent, soft thresholds needing grace periods,
// feature-gate requirements) are left to the kubelet, which reports them at
// start-up.
package kubeletprofile
