// Package hosts reads hosts.yaml, the list of cluster nodes that
// mke-migrate reaches over SSH.
//
// The file is the one `mkectl upgrade --hosts-path` takes:
//
//	hosts:
//	  - address: 10.0.0.11        # required: IP or DNS name reachable over SSH
//	    port: 22                  # default 22
//	    user: root                # default root
//	    keyPath: ~/.ssh/id_rsa    # kept as written; Host.KeyFile expands "~"
//	    privateAddress: 172.16.0.11   # optional, or privateInterface (not both)
//	    bastion: {address: jump.example.com, user: ops, keyPath: ~/.ssh/jump}
//	    role: manager             # optional: manager or worker (the upgrade detects it)
//	    labels:                   # optional, mke-migrate extension: MKE 3 node labels,
//	      com.mirantis.kubelet-profile: high   # for offline conversion of kubelet profiles
//
// Decoding is strict: an unknown or misspelt field is an error that names
// the file, the line and the field. Load reads no network and opens no
// connection.
//
// # Connections
//
// Connect opens an SSH connection to one host with rig v2 (through its
// bastion when one is set) and returns a Client: Exec (with sudo and stdin),
// Upload (checked with SHA-256 after writing), ReadFile and OS. Host keys
// are checked against a known_hosts file (default ~/.ssh/known_hosts),
// which is never written: an unknown or changed key, or a missing file,
// fails with a *HostKeyError (errors.Is ErrHostKey) whose Remedy says to
// verify the key and add it to that file, unless
// ConnectOptions.InsecureIgnoreHostKey is set explicitly. rig's
// SSH_KNOWN_HOSTS override (any key when empty, trust on first use when a
// path) is switched off when this package is initialised; Connect warns
// when the variable is set. Connect
// retries transient failures with backoff and stops at once on ErrAuth or
// ErrHostKey. Failures are *HostError values that name the host and the
// operation and wrap the cause; network failures say what to check. A Client
// sends keepalives (ConnectOptions.KeepAlive): when the host dies or
// vanishes, a running Exec ends with ErrConnectionLost and so does every
// later call on that Client.
//
// Node is what a step of a run needs of a connection (Exec, Upload,
// ReadFile): a Client is one, and tests pass a fake (ApplyExecOptions
// reads the ExecOptions of a call).
//
// Run calls a function for many hosts with bounded parallelism (default
// DefaultConcurrency); the failures of all hosts come back joined with
// errors.Join, each a *HostError.
package hosts
