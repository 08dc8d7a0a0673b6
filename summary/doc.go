// Package summary makes the upgrade summary that mkectl prints at the end of
// an MKE 3 → MKE 4k upgrade, from the results of the converter, the RBAC
// translation and the upgrade itself.
//
// Build is pure: it takes the reports, not the cluster, and it imports
// neither the RBAC translation nor a Kubernetes client (RBAC counts come in
// its own small RBAC type). It refuses a nil conversion report
// (ErrNoReport) and can describe a run that failed or was rolled back
// (Input.Outcome, Input.Error).
//
// WriteText prints the text of the documented mkectl summary ("Upgrade
// Summary" under a dashed rule, each section under its own rule, and
// mkectl's sentences, such as "All MKE 3 TOML settings were successfully
// converted into MKE 4 YAML settings." and "Users found in the MKE3
// cluster: 1"), so that operators and their scripts find the words they
// know. The sections, in mkectl's order:
//
//   - Configuration file: every MKE 3 setting converted, or the settings and
//     flags that were not (dropped, unconvertible, unknown, blocking), each
//     with its line and reason;
//   - Authentication: MKE 3 users found and upgraded;
//   - Authorization: organizations and teams found, translated to
//     aggregated roles;
//   - Ports: the MKE 3 ports no longer used (MKE3Ports);
//   - MCR: the Mirantis Container Runtime may safely be uninstalled (MKE 4k
//     runs on k0s and its own containerd);
//   - MKE3 Cleanup: the MKE 3 version that was uninstalled.
//
// Two sections mkectl's example does not show follow: Hosts (managers and
// workers upgraded) and, when MKE 3 had MetalLB on, the MetalLB IP address
// pools, which are not configuration in MKE 4k and must be recreated as
// objects.
//
// The Summary itself marshals to JSON with stable lowerCamelCase fields for
// pipelines.
package summary
