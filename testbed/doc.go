// Package testbed starts throw-away SSH hosts for tests, on Linux as root.
//
// Each host is a real OpenSSH sshd in its own mount, UTS, IPC, net and PID
// namespaces (made by unshare), on a copy-on-write overlay of the machine's /
// whose writable layer is a tmpfs that lives only in the host's mount
// namespace. A host has its own hostname, a clean /root, /run and /tmp, the
// users root and mke (mke has NOPASSWD sudo), optionally its own
// /etc/os-release and seeded files.
//
// Both the host key and the user key are ed25519 keys generated per host into
// workdir/hosts/<name>/ (with console.log, the output of the host's setup
// and sshd). Host.KeyPath is accepted for mke and root; Host.HostKeyLine is
// the known_hosts line for Host.Address.
//
// Stop takes the host off its network and kills every process of the host;
// the overlay goes with the mount namespace. If the test binary itself is
// killed, the kernel kills the hosts and the network's switch (Pdeathsig),
// and the interfaces go with the switch's namespace. Crash kills the host's
// processes while its network is still up (clients see their connections
// closed); Stop removes the network first (the host vanishes without a
// packet).
//
// Requirements: root, util-linux (unshare, nsenter), iproute2, passwd
// (useradd), openssh-server and sudo. On Debian:
//
//	apt-get install -y openssh-server sudo iproute2
//
// Available reports what is missing; tests should skip when it returns an
// error. Hosts take about 0.1-0.2 s to start.
//
// # Networks
//
// Hosts live on a Network: a private /20 of 10.224.0.0/12 (4 084 hosts at
// most) in which every host reaches every other at its Address and the
// machine reaches them all. The machine owns two addresses on it: Gateway
// (.0.1) and LB (.0.2, for a load balancer run by the test process). Hosts
// have no default route and the machine forwards nothing it receives from a
// network, so hosts reach nothing outside their network: not other
// networks, not the real one. A network is a switch (macvlans in bridge
// mode) in a network namespace of its own; its number N is claimed by
// creating the machine's interface mkenN, so test binaries running in
// parallel never share one. StartHost without HostOptions.Network gives the
// host a network of its own (StartHosts does so for each host: they cannot
// reach each other); StartCluster puts all its hosts on one, and makes the
// neighbour entries between managers and hosts permanent (Network.Pin):
// the kernel's ARP table is one for all namespaces and would overflow past
// net.ipv4.neigh.default.gc_thresh3 (1 024) dynamic entries with a
// thousand workers talking to a controller. Pinning leaves that
// machine-wide setting alone. HostOptions.Binds mounts the machine's files
// read-only into a host without copying them (StartCluster binds fakenode
// this way), which keeps a host at about 3 MiB of private memory (PSS).
// The scale test (TestScale, skipped unless MKE_MIGRATE_TESTBED_SCALE=N)
// measures start time and memory per host; see docs/benchmarks.md.
//
// # Simulated MKE 3 clusters
//
// StartCluster starts Managers+Workers hosts (manager-1…, worker-1…) on a
// network of their own, with a TCP load balancer at Cluster.LB that
// forwards ClusterOptions.LBPorts (by default MKE 3's 443 and 6443, not
// k0s's 9443) to the managers, round robin, skipping a manager that refuses
// the connection; Cluster.LoadBalancer.AddPort adds ports. The hosts run
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
// (cached in $TMPDIR/testbed-fakenode by source hash), twice: the program at
// /usr/local/bin/fakenode is its light build, without k0s's simulation and
// its dependencies, which starts some 6 times cheaper; every k0s command, and
// systemctl's on a k0s unit, execs the full build at FakeNodeFullPath before
// doing anything.
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
// # Realistic clusters (ClusterOptions.Real)
//
// With Real, the nodes follow MKE 3.8 closely enough for the engine to meet
// what a real cluster does, and real processes stand behind containers
// (the control-plane binaries of kubetest.Assets, which hosts see through
// their overlay; a folder under /root or /tmp is linked into
// /var/tmp/mke-migrate-testbin first, because hosts mount their own):
//
//   - ucp-kv is an etcd (client https on 12379, peers on 12380, client
//     certificates required), data in volume ucp-kv, certificates in
//     ucp-kv-certs (ca.pem, cert.pem, key.pem: a client certificate it
//     accepts); with several managers one etcd cluster of all of them
//     (which needs hosts that reach each other);
//   - ucp-kube-apiserver serves on 12388 with --etcd-prefix
//     (ClusterOptions.EtcdPrefix) and --service-account-key-file;
//     ucp-kube-controller-manager runs the service-account token,
//     namespace and garbage-collector controllers with
//     --service-account-private-key-file; ucp-controller holds 443 (MKE's
//     API, /_ping) and 6443 (forwarded to the API server).
//     Cluster.KubeConfig is an admin client configuration for 6443;
//   - with API too, the simulator's client bundles are this cluster's:
//     signed by its CA, kube.yml naming https://<load balancer>:6443 (the
//     first manager when the load balancer does not forward 6443), an
//     admin's certificate in group system:masters (MKE 3 gives admins full
//     access through its own authorizer), another user's in none;
//   - a container process runs detached (its own session) in a private
//     mount namespace with the container's volumes bound at their
//     destinations; its PID is in procs.json (not digested), its log in
//     /var/log/fakenode/<name>.log. docker stop/start/restart/rm and
//     systemctl stop/start docker stop (SIGTERM, SIGKILL after -t) and
//     start them; docker inspect shows Path, Args, Mounts and State.Pid;
//   - docker run --entrypoint etcdctl|etcdutl runs the real binary with
//     the -v mounts bound (a volume name is /var/lib/docker/volumes/NAME/
//     _data), in the host's network only with --network host; an image
//     that is not on the node fails as a pull on an air-gapped node does;
//     output of a run without --log-driver none is kept under
//     /var/lib/fakenode/container-logs; docker volume rm refuses a volume a
//     container mounts ("volume is in use");
//   - agents are tasks of global Swarm services (ucp-manager-agent,
//     ucp-worker-agent-x); Swarm replaces a stopped task unless the node
//     is paused or drained (docker node update) or the service removed
//     (docker service rm), the state shared by all nodes through a folder
//     bound at /var/lib/docker/swarm; while an agent task runs, stopped
//     ucp-* containers start again at the next docker command; Calico and
//     user pods are k8s_… containers that keep running without the
//     kubelet; /etc/cni/net.d holds MKE's Calico files and is digested.
//
// SeedKubernetes fills the API with a realistic state; KubeObjects lists
// the seeded objects (UID, resourceVersion, spec hash) of any API server,
// and DiffObjects compares two lists. Without Real the nodes keep JSON
// state only: fast, for tests of the engine's logic.
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
//
// # k0s workers
//
// With real control-plane binaries, a started k0sworker unit runs k0s
// worker as k0s v1.33 does: it decodes its join token, bootstraps the
// kubelet's client certificate through a CSR for system:node:<name> that
// the controller's kube-controller-manager signs, loads ConfigMap
// worker-config-<profile>-<minor> (without it the Node never registers),
// writes /run/k0s/kubelet/config.yaml, then acts as the kubelet: holds port
// 10250 (or the profile's), creates its Node (an existing Node keeps its
// labels and taints: kubelet adds --labels and --taints only to a Node it
// creates), renews its Lease and posts its status. The Node is Ready only
// while a CNI configuration is in /etc/cni/net.d, as containerd's network
// check requires. A controller installed with --enable-worker runs the same
// worker inside its daemon. The log is /var/log/fakenode/k0sworker.service.log.
package testbed
