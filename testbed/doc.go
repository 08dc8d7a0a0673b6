// Package testbed starts throw-away SSH hosts for tests, on Linux as root.
//
// Each host is a real OpenSSH sshd in its own mount, UTS, IPC, net and PID
// namespaces (made by unshare), on a copy-on-write overlay of the machine's /
// whose writable layer is a tmpfs that lives only in the host's mount
// namespace. A host has its own hostname, a clean /root, /run and /tmp, the
// users root and mke (mke has NOPASSWD sudo), optionally its own
// /etc/os-release and seeded files. It is reached over a veth pair:
// the host is 10.250.N.2, the machine side 10.250.N.1, and the host has no
// default route, so it can reach the machine only — not other hosts and not
// the network. N is claimed by creating the veth mkethN, so test binaries
// running in parallel never share a subnet.
//
// Both the host key and the user key are ed25519 keys generated per host into
// workdir/hosts/<name>/ (with console.log, the output of the host's setup
// and sshd). Host.KeyPath is accepted for mke and root; Host.HostKeyLine is
// the known_hosts line for Host.Address.
//
// Stop removes the veth and kills every process of the host; the overlay
// goes with the mount namespace. If the test binary itself is killed, the
// kernel kills the host (Pdeathsig) and the veth disappears with the network
// namespace within a second or two. Crash kills the host's processes while
// its network is still up (clients see their connections closed); Stop
// removes the network first (the host vanishes without a packet).
//
// Requirements: root, util-linux (unshare, nsenter), iproute2, passwd
// (useradd), openssh-server and sudo. On Debian:
//
//	apt-get install -y openssh-server sudo iproute2
//
// Available reports what is missing; tests should skip when it returns an
// error. Hosts take about 0.1-0.2 s to start.
//
// # Simulated MKE 3 clusters
//
// StartCluster starts Managers+Workers hosts (manager-1…, worker-1…) that run
// fakenode (testbed/fakenode), a Go multi-call program installed as
// /usr/local/bin/fakenode with docker, systemctl and k0s symlinked to it. It
// answers the commands an MKE 3 → k0s migration runs with real output formats
// and exit codes, and keeps all state as JSON under /var/lib/fakenode, seeded
// consistently (one Swarm cluster ID, distinct node IDs, manager-1 the leader,
// ucp-* containers per role). Cluster.Digest hashes that state so tests can
// assert that read-only steps change nothing and that rollbacks restore it;
// Cluster.SetFault injects per-command failures, hangs and dropped SSH
// connections. With ClusterOptions.API an mke3api simulator of the same MKE
// version runs too. StartCluster needs the go toolchain to build fakenode
// (cached in $TMPDIR/testbed-fakenode by source hash).
//
// For upgrades and rollbacks fakenode also answers docker stop, start and
// restart (stopped containers leave docker ps, STATUS reads "Exited (0) 3
// seconds ago"; start times are kept out of the digest, so stop then start
// restores it), the MKE bootstrapper's backup (a tar archive on stdout, or
// in --file through a bind mount; a backup changes nothing), k0s
// kubeconfig admin, and k0s kubectl get nodes, cordon, uncordon and drain
// (cordoned names live in the controller's k0s state until uncordon or
// k0s reset).
//
// Files a migration uploads (/etc/k0s/k0s.yaml, token files, the k0s
// binary) are outside FakeNodeDir; list them in ClusterOptions.DigestPaths,
// or pass them to Cluster.DigestPaths, to have them digested too. k0s
// starts as a symbolic link K0sBinaryPath → fakenode. To install a k0s
// binary, upload FakeK0sBinary(version) there (fakenode dispatches on the
// name it is called by, and the copy reports version): upload by renaming
// a temporary file over the path, as hosts.Client.Upload does, never by
// writing through the link, which would overwrite fakenode itself. A
// rollback restores the link with ln -sf fakenode /usr/local/bin/k0s.
//
// # The fake k0s
//
// fakenode's k0s parses its command line with the commands and flag sets
// of k0s v1.33 (cobra and pflag, as k0s does): a flag k0s does not define
// fails with cobra's text and exit code 1. k0s install controller loads
// and validates its config with k0s's own v1beta1 types. Tokens are k0s's
// format (base64 of a gzipped kubeconfig) and point at the config's
// externalAddress (or address) on 9443 for controllers and 6443 for
// workers; k0s reset removes the Calico files under /etc/cni/net.d as
// k0s's cleanup does.
//
// By default k0s keeps JSON state only (fast mode, for tests of the
// engine's logic). After Cluster.RealK0s, or on a realistic cluster, k0s
// start (or systemctl start k0scontroller) runs a detached daemon that runs
// real etcd (client 127.0.0.1:2379, peer :2380), kube-apiserver (:6443)
// and kube-controller-manager with k0s's flags and PKI under
// /var/lib/k0s, applies k0s's bootstrap RBAC and worker-config ConfigMaps,
// serves the join API on :9443 and answers k0s status once the API server
// is ready; k0s token create makes bootstrap-token Secrets, k0s kubectl is
// the real kubectl, k0s restore restores a k0s backup archive with the
// real etcdutl, and a controller given a controller token joins the first
// one's etcd cluster through its join API. Logs are under
// /var/log/fakenode.
package testbed
