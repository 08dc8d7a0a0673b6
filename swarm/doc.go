// Package swarm exports the Docker Swarm services of an MKE 3 cluster as
// Kubernetes manifests, with a report that accounts for every field read.
//
// MKE 4k does not run Swarm: the upgrade ends every Swarm service. Export
// reads, through the MKE 3 API (which serves the Docker Engine API to
// administrators), the services and what they reference — tasks, configs,
// secrets, networks, volumes and nodes — and Translate turns them into
// typed Kubernetes objects:
//
//   - replicated services become Deployments, global ones DaemonSets,
//     replicated and global jobs Jobs;
//   - image, command, args, environment, working directory, user,
//     healthcheck (liveness, readiness and startup probes), resources,
//     restart policy, update policy (rollout strategy) and stop grace
//     period go to the pod template;
//   - published ports become a Service (ingress mode → NodePort, host mode
//     → hostPort); every exported service gets a Service of its name so
//     that it stays resolvable;
//   - configs become ConfigMaps and secrets Secrets without values (the
//     Engine API never returns them; the report lists what to fill in),
//     mounted at the same targets with the same modes;
//   - named volumes become PersistentVolumeClaims, bind mounts hostPath
//     volumes, tmpfs mounts memory emptyDirs;
//   - placement constraints become node affinity where a mapping exists;
//   - each stack (label com.docker.stack.namespace) becomes a namespace;
//     overlay networks are reported, Kubernetes networking being flat.
//
// Every field of every service is accounted for in the Report: carried (to
// which object and path), approximated (how) or not carried (why). A field
// this version does not know is reported, not dropped. Entries that need a
// person (a secret to fill, data to copy, nodes to label, a port outside
// the NodePort range) are marked Attention, and Result.NeedAttention counts
// the services that have one.
//
// Translate does no I/O and is deterministic; names are sanitised as
// package rbac sanitises them. Read and Export take a Source, which
// *mke3.Client satisfies, so this package does not need client-go.
// WriteDir writes the manifests (one file per namespace, YAML or JSON) and
// the report into a folder, refusing one that holds files it did not
// write; Result.Summary is the one line "N of M Swarm services exported to
// DIR, K need attention" for the upgrade summary.
package swarm
