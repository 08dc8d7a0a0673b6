// Package convert turns an MKE 3.7/3.8/3.9 configuration (the TOML that
// GET /api/ucp/config-toml returns) into an MKE 4k configuration
// (mke4.yaml, see package mke4), and accounts for every setting it reads.
//
// The flow is two pure calls, so pipelines can unit-test their own
// configurations without a cluster:
//
//	cfg, err := convert.Parse("mke3-config.toml", data) // typed model + every leaf key
//	out, report, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
//
// # The report
//
// Report has one Entry per leaf key of the input, in input order: the
// dotted TOML path, with elements of arrays of tables indexed
// (cluster_config.ingress_controller.ingress_exposed_ports[0].node_port).
// Keys that hold flag lists or kubelet profiles get one entry per flag
// (Entry.Flag). An empty table (a section header with nothing under it, an
// inline {}, an array-of-tables element without keys) is a key of its own
// (Leaf.Table): unknown when MKE 3 has no such table, so that a misspelled
// or future section header is reported, otherwise default. Each entry has a
// Status:
//
//   - converted: carried to Target, the MKE 4k YAML path;
//   - default: nothing to carry (the MKE 3 default, an empty value, or a
//     setting MKE 4k keeps by other means), so nothing is lost;
//   - dropped: MKE 4k has no equivalent and a non-default value is lost;
//     Reason says why and what to do instead;
//   - blocking: the value stops an upgrade (Calico not on KDD, Calico
//     eBPF, a kube-proxy mode other than iptables, an invalid result);
//   - unconvertible: MKE 4k has an equivalent but this value cannot be
//     expressed (a malformed value, a flag k0s owns, a flag that is not a
//     KubeletConfiguration field);
//   - unknown: not an MKE 3.7/3.8/3.9 key (typos, UCP 3.1 leftovers, or
//     a key newer than Options.MKE3Version).
//
// Converted entries carry a Basis: documented (a Mirantis page names the
// target), checked (mkectl's compatibility check calls the key supported
// but no page names the target) or inferred (this project's reading of
// field names and semantics). Inferred mappings are marked in the code
// (spec.go) and in the report; review them before relying on them.
//
// Entries for things the TOML does not hold follow the leaves: an absent
// calico_kdd (MKE 3 defaults to etcd, which blocks), LDAP settings given
// through Options.LDAP (keys "enzi.ldap.*"), the registries and air-gap
// of Options (keys "options.*", such as OptionImageRegistry; air-gapped
// without both registries blocks), kubelet-profile node labels
// of Options.Hosts (keys "hosts[i].labels.<label>"), and rule violations
// of the produced configuration (key "mke4.yaml").
//
// # extraArgs keys
//
// A custom_*_flags element becomes one extraArgs entry of its component
// (spec.apiServer, spec.controllerManager, spec.scheduler, spec.kubelet,
// ...): the key is the flag's name without its leading dashes and the value
// is what follows the first '=' (as package flagparse splits the element). "--audit-log-maxage=45" is extraArgs["audit-log-maxage"] = "45";
// a flag without a value ("--profiling") gets "true", since k0s passes
// extraArgs as --key=value. The report's entry for the flag has Flag set to
// the flag as written and Target to "spec.<component>.extraArgs.<name>";
// Report.Find takes the name with or without dashes. A name that is not
// 1 to 128 letters, digits, '-', '_' and '.' (starting with a letter or
// digit) is unconvertible.
//
// # Decisions where the sources are silent
//
//   - Kubelet flag profiles: the MKE 3 node label that selects a profile is
//     not published; DefaultKubeletProfileLabel is this project's default
//     and Options.KubeletProfileLabel overrides it.
//   - custom_kubelet_flags go to spec.kubelet.extraArgs, as documented; the
//     report names the KubeletConfiguration field of each deprecated flag.
//   - Repeated flags: comma-list flags (feature-gates, admission plugins,
//     …) accumulate; for others the last one wins and earlier ones are
//     reported as dropped.
//   - Flags that k0s sets itself (etcd endpoints, certificates, kubeconfig
//     paths, …) are unconvertible: MKE 3's values point at MKE 3 files and
//     would break the MKE 4k component.
//   - Shadowing: when a custom flag sets what a structured key sets
//     (--max-pods and kubelet_max_pods, --service-node-port-range and
//     nodeport_range, …), the flag wins, as in MKE 3, which appends custom
//     flags after the flags it derives from its keys (pflag keeps the last
//     value). The winning value is written once, to the MKE 4k field (k0s
//     owned --service-node-port-range and --service-cluster-ip-range go to
//     spec.network), and the key is reported dropped with a reason naming
//     the flag. Flags k0s derives from a field another setting decides
//     (the controller manager's --service-cluster-ip-range, --cluster-cidr)
//     are dropped when they agree with it and unconvertible otherwise.
//     docs/mapping.md lists the pairs.
//   - Flag lists are parsed as Kubernetes' flag parser (pflag) does: a
//     known boolean flag takes no separate value, so ["--profiling",
//     "false"] leaves "false" a stray element, reported unconvertible with
//     its line; write "--profiling=false". In a kubelet profile string
//     such a stray word is reported on its own and the profile keeps its
//     other flags.
//   - The Calico operator values (extraConfig["values.yaml"]) are always
//     written for a cluster from MKE 3, first line kubeletVolumePluginPath,
//     as mkectl does; MTUs, VXLAN port and VNI, and IP autodetection go
//     there.
//
// Check groups the same verdicts the way `mkectl check mke3` does
// (Supported / Not supported / Skipped); it derives them from Convert, so
// the two never disagree.
//
// # Memory
//
// A report holds one Entry per flag, so its shape is kept small for
// inputs of hundreds of thousands of flags (issue 14, F13;
// docs/benchmarks.md): Status and Basis are small integers that read and
// write as their names (String, MarshalText, UnmarshalText; JSON reports
// show "converted", "documented", ... as before, in the same field
// order), Entry.Line and Leaf.ElemLines are int32, and a custom_*_flags
// list is held once: its Leaf.Value is the []string of its MKE3Config
// field (CustomKubeletFlags, ...), not a []any copy. Most of what Convert
// allocates stays live until its result is dropped; a program that
// converts very large inputs may lower the garbage collector's target
// (debug.SetGCPercent) or set a soft limit (debug.SetMemoryLimit), as the
// mke-migrate command does while it converts.
//
// The package does no I/O and keeps no state between calls; secrets
// (passwords, tokens, passphrases, client secrets) never appear in
// reports, check output or errors. They do appear in the MkeConfig when
// MKE 4k needs them (an OIDC client secret, an LDAP bind password), so
// write mke4.yaml with owner-only permissions.
package convert
