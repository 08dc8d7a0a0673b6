// Package gather reads, in one call, what the MKE 3 → MKE 4k upgrade and
// its checks look at, and checks it: the facts of every host of hosts.yaml
// over SSH, the MKE 3 configuration (TOML) and LDAP settings from the
// MKE 3 API, the Kubernetes nodes with their labels and kubelet profiles
// through the admin's client bundle, the conversion of the configuration
// for those hosts (convert, with the registries, air-gap and LDAP of
// Options.Convert, so that its report accounts for them), and the
// preflight checks (upgrade/preflight) on all of it.
//
// The preflight command, the demo and upgrade.Discover all call Cluster:
// what preflight reports is what the upgrade refuses on.
//
//	res, err := gather.Cluster(ctx, gather.Options{Hosts: file.Hosts, MKE3: client})
//	if err != nil { ... }           // nothing to check: no hosts, no configuration
//	for _, c := range res.Checks { ... }
//	if len(res.Blockers()) > 0 { ... }
//
// What a host, the MKE 3 API or the Kubernetes API cannot give is a
// finding (an unreachable host blocks; an unreadable Kubernetes API is a
// warning), not an error; what was not asked is a skipped check.
package gather
