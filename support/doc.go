// Package support writes support bundles: one tar.gz with what a person
// needs to understand a failed (or any) upgrade, collected over the run's
// own SSH connections and from its output folder.
//
// Per node: the MKE 3 containers and their recent logs, k0s status and the
// k0s service logs, the facts, disk usage and listening ports
// (NodeCommands, each overridable); locally: the run's journal, plan,
// discovery, preflight results, summary and debug log (LocalFiles).
// Every entry goes through Redact before it is written: the secrets the
// caller names, PEM private keys, kubeconfig keys and tokens, k0s join
// tokens, bearer tokens and password-like key=value pairs. Entries are
// cut to their last MaxEntryBytes and the whole bundle to MaxBytes (both
// before compression); manifest.json lists every entry, what was cut and
// what failed. A node that cannot be reached is recorded, not fatal.
package support
