// Package summary makes the upgrade summary that mkectl prints at the end of
// an MKE 3 → MKE 4k upgrade, from the results of the converter, the RBAC
// translation and the upgrade itself.
//
// Build is pure: it takes the reports, not the cluster. The sections follow
// the documented mkectl summary, in its order:
//
//   - Configuration file: every MKE 3 setting converted, or the settings and
//     flags that were not (dropped, unconvertible, unknown, blocking), each
//     with its reason;
//   - Authentication: MKE 3 users found and migrated;
//   - Authorization: organizations and teams found, and the aggregated
//     roles they became;
//   - Ports: the MKE 3 ports no longer used (MKE3Ports);
//   - MCR: the Mirantis Container Runtime may safely be uninstalled (MKE 4k
//     runs on k0s and its own containerd);
//   - MKE3 Cleanup: the MKE 3 version that was uninstalled;
//   - MetalLB IP address pools, when MKE 3 had MetalLB on: they are not
//     configuration in MKE 4k and must be recreated as objects.
//
// WriteText prints it for people; the Summary itself marshals to JSON with
// stable lowerCamelCase fields for pipelines.
package summary
