// Package mke4 is the typed form of the MKE 4k configuration file, mke4.yaml
// (apiVersion mke.mirantis.com/v1alpha1, kind MkeConfig), as consumed by
// mkectl apply for MKE 4k 4.1.
//
// The package offers the schema types (MkeConfig and the Spec sections),
// Default for the 4.1 default configuration, Marshal and a strict Unmarshal,
// and MkeConfig.Validate for the rules the MKE 4k documentation states.
//
// # Naming
//
// A Go field is the exported CamelCase form of its YAML key with initialisms
// upper-cased: apiServer is APIServer, sans is SANs, serviceCIDR is
// ServiceCIDR, eventRecordQPS is EventRecordQPS, enableSslPassthrough is
// EnableSSLPassthrough, customPolicyYaml is CustomPolicyYAML, iptables is
// IPTables. The backup section keeps MKE's snake_case YAML keys
// (scheduled_backup, storage_provider, ...) behind CamelCase Go names.
//
// # Output order
//
// Marshal uses sigs.k8s.io/yaml, which converts through JSON and writes every
// mapping with sorted keys, struct fields included. The output is therefore
// deterministic and ordered like mkectl init output (alphabetically), not in
// Go field order.
//
// # Field presence
//
// The rule follows what mkectl init writes for 4.1:
//
//   - A field that the generated default file always contains is always
//     written, even when zero or false: kubelet.podsPerCore: 0,
//     kubelet.seccompDefault: false, apiServer.audit.enabled: false,
//     license.token: "" and so on. These fields have no omitempty.
//   - Optional strings, lists and maps are omitempty. So are integers for
//     which zero is never meaningful (ports, replica counts): zero means
//     "unset, mkectl decides".
//   - Optional booleans whose false is the documented default are omitempty
//     (disableHttp, noTaints, dryRun, ...).
//   - Optional booleans whose unset state is not false are *bool, so that an
//     explicit false is written and nil means "unset": apiServer,
//     controllerManager and scheduler profilingEnabled, scheduler.bindToAll,
//     ingressController.enableLoadBalancer (derived from externalAddress when
//     unset), authentication.localUsers and monitoring.enableGrafana (both
//     default true). Use Ptr to set them.
//   - Optional sub-sections are pointers (omitted when nil): nodeLocalDNS,
//     envoyGateway, gatewayMKEIngress, backup, certificates, k0rdent,
//     network.cplb, network.nllb, kubeProxy.iptables/ipvs/nftables,
//     authentication.oauth2, ldap.userSearch/groupSearch and others. Inside a
//     present sub-section the scalar fields follow the rules above. backup,
//     cplb and nllb are pointers because an all-zero section would change
//     behaviour (backups off, load balancing on) when a file without them is
//     decoded and written back.
//
// Empty placeholder objects of generated files (affinity.nodeAffinity: {},
// nodePorts.tcp: {}, mig: {}, configMap: {}) mean the same as an absent key;
// Unmarshal turns every empty list or map into nil and Marshal omits them.
//
// # Free-form values
//
// kubelet.customProfiles[].values, ingressController.affinity,
// authentication.topologySpreadConstraints, devicePlugins.nvidiaGPU.mig and
// k0rdent.providers[].config are map[string]any. Unmarshal decodes them with
// encoding/json rules: numbers become float64 (integers above 2^53 lose
// precision), objects map[string]any, lists []any. Marshal writes integral
// numbers as integers, so a decoded value marshals to the same YAML, and
// Unmarshal(Marshal(c)) equals c once c's free-form values are in that JSON
// form. Values built in Go with int or typed maps are marshalled correctly
// but compare unequal to their decoded form.
//
// # Strict decoding
//
// Unmarshal rejects keys the schema does not know, compared case-sensitively
// (encoding/json alone would accept apiserver for apiServer), reporting each
// as an *UnknownFieldError with its full YAML path. Duplicate keys and type
// mismatches are rejected by sigs.k8s.io/yaml.UnmarshalStrict. YAML 1.1
// rules apply: unquoted yes/no are booleans, so string maps (extraArgs,
// extraConfig, configMap) need such values quoted.
//
// # Sources
//
// Documented (MKE 4k documentation, 4.1.0/4.1.1 pages, named by title):
// "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd",
// "kubelet" (structured fields, extraArgs, customProfiles, --profile install
// flag, precedence), "Audit logging" (audit fields and defaults), "CoreDNS
// Lameduck", "Network Configuration", "Configure CNI Providers" (calico
// extraConfig, values.yaml), "Multus", "Ingress controller" (field table,
// defaults, node-port upgrade rules), "Authentication", "Basic
// authentication" (localUsers), "OIDC", "SAML", "LDAP", "Backup and restore",
// "Back up using an external storage provider", "Monitoring", "Telemetry",
// "Cloud providers", "NVIDIA GPU Workloads", "OPA Gatekeeper", "TLS
// certificates", "MetalLB load balancer" (addon entry and chart defaults),
// "k0rdent CAPI providers", "Offline installation" (airgap, registries),
// "Create a cluster" (hosts, roles, externalAddress).
//
// Observed only in example files, not in reference text: the MKE 4.1.0
// mke4.yaml published with the CNCF conformance submission (the generated
// default this package reproduces: version, registries, backup internals,
// kubeProxy timing blocks, cplb/nllb, provider list, ingress extraArgs),
// a Mirantis Terraform template of a generated 4.1.3 file (nodeLocalDNS,
// envoyGateway, gatewayMKEIngress, hosts[].privateInterface, privateAddress,
// hostname, noTaints, installFlags, ssh.bastion, metadata.creationTimestamp)
// and a Mirantis 4.0-era demo file (apiServer.port, sans, profilingEnabled).
// network.kubeProxy.extraArgs appears in neither; it exists for MKE 3
// custom_kube_proxy_flags. The shape of ldap.groupSearch.userMatchers
// (userAttr/groupAttr) is Dex's; MKE only names the field.
//
// # Choices where the sources disagree
//
//   - Version: v4.1.0, the only 4.1 release whose complete generated default
//     is public. 4.1.3 generates a different default (NGINX ingress
//     disabled in favour of envoyGateway/gatewayMKEIngress).
//   - Audit: logPath is /var/log/mke4/audit/audit.log and level Metadata as
//     in "Audit logging", which says the path is enforced. The generated
//     4.1.0 and 4.1.3 files instead contain /var/log/k0s/audit/mke4_audit.log
//     (and 4.1.3 policyFile /var/lib/k0s/mke4_audit_policy.yaml). policyFile
//     is left unset so that mkectl applies its own enforced value.
//   - Ingress replicas: the field is replicaCount; one documentation example
//     writes numReplicas, which this package rejects as unknown.
//   - The generated 4.1.0 file also lists a disabled cilium provider; it is
//     not documented as a provider and is left out of Default (a file that
//     has it still decodes).
//   - etcd extraArgs is not documented and is not modelled.
package mke4
