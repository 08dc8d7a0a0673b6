package upgrade_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// A plan without a cluster: the hosts with their roles, the MKE version
// and the MKE 3 configuration make the upgrade's plan with no SSH and no
// MKE 3 API. A site adds its own step (a local check after the first
// controller), finds the point of no return, and prints the plan.
func ExampleUpgrade_FromInventory() {
	dir, _ := os.MkdirTemp("", "upgrade-example-")
	defer os.RemoveAll(dir)
	u, err := upgrade.New(upgrade.Options{
		Hosts: []hosts.Host{
			{Address: "10.0.0.1", Role: hosts.RoleManager},
			{Address: "10.0.0.2", Role: hosts.RoleWorker},
		},
		OutputDir:       dir,
		KubeconfigPath:  "/home/ops/.mke/mke.kubeconf",
		ExternalAddress: "mke.example.com",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer u.Close()
	if _, err := u.FromInventory(upgrade.Inventory{MKEVersion: "3.7.16", ClusterID: "x1",
		MKE3TOML: []byte("[cluster_config]\ncalico_kdd = true\n"), Hostnames: map[string]string{"10.0.0.2:22": "worker-1"}}); err != nil {
		fmt.Println(err)
		return
	}
	p, err := u.Plan()
	if err != nil {
		fmt.Println(err)
		return
	}
	check := &plan.Step{Name: "ingress-check", Changes: "nothing (checks the load balancer)",
		// a local step: r.Node is nil
		Do: func(ctx context.Context, r *plan.Run) error { return nil }}
	if err := p.InsertAfter("k0s-controller@10.0.0.1:22", check); err != nil {
		fmt.Println(err)
		return
	}
	if s, ok := p.PointOfNoReturn(); ok {
		fmt.Printf("point of no return: %s (phase %s)\n", s.ID(), s.Phase)
	}
	fmt.Printf("the check runs in phase %s\n", check.Phase)
	_ = p.Print(os.Stdout)

	// Output:
	// point of no return: mke3-uninstall@10.0.0.1:22 (phase mke3 cleanup)
	// the check runs in phase managers
	// Backup
	//     1/21  save-inputs                  local                  writes mke3.toml, mke4.yaml (preview) and the RBAC export to the output directory (undo: nothing to undo)
	//     2/21  mke3-backup                  10.0.0.1:22            takes MKE 3's backup archive on the leader and copies it to the output directory (undo: yes)
	// k0s binary: copy to every node
	//     3/21  k0s-upload                   10.0.0.1:22            puts the k0s binary at /var/lib/mke-migrate/k0s.staged, copied from a node that has it (the first one uploaded), SHA-256 checked, before MKE 3 stops (nothing of MKE 3 changes) (undo: yes)
	//     4/21  k0s-upload                   10.0.0.2:22            puts the k0s binary at /var/lib/mke-migrate/k0s.staged, copied from a node that has it (the first one uploaded), SHA-256 checked, before MKE 3 stops (nothing of MKE 3 changes) (undo: yes)
	// Swarm: drain the managers
	//     5/21  swarm-drain                  10.0.0.1:22            sets the managers' Swarm availability to drain: Swarm stops MKE 3's agents (and the Swarm services' tasks) and no longer restarts them (undo: yes)
	// Carry: stop MKE 3's Kubernetes on every manager
	//     6/21  mke3-stop                    10.0.0.1:22            stops MKE 3's agent, kubelet, ucp-* components (not ucp-kv) and k8s_* pod containers (undo: yes)
	// Carry: snapshot of MKE 3's etcd
	//     7/21  etcd-snapshot                10.0.0.1:22            snapshots ucp-kv (read only), checks it and packs it with MKE 3's service-account keys into a k0s backup archive in /var/lib/mke-migrate/carry (undo: yes)
	// Manager 1 of 1: 10.0.0.1:22
	//     8/21  k0s-binary                   10.0.0.1:22            moves the k0s binary staged before the outage to /usr/local/bin/k0s, SHA-256 checked (with none staged, copied from a node that has it (the first one uploaded); an existing file is saved; so are MKE 3's files k0s reset deletes) (undo: yes)
	//     9/21  k0s-restore                  10.0.0.1:22            k0s restore of the carry archive: etcd and service-account keys into /var/lib/k0s, /etc/k0s/k0s.yaml (undo: yes)
	//    10/21  k0s-controller               10.0.0.1:22            installs and starts the first k0s controller on the restored data (undo: yes)
	//    11/21  ingress-check                local                  nothing (checks the load balancer) (undo: nothing to undo)
	//    12/21  carry-cleanup                10.0.0.1:22            removes the carry archive (MKE 3's keys and data) from the leader (undo: yes)
	//    13/21  swarm-drain-workers-1        10.0.0.1:22            sets the Swarm availability of 1 worker(s) to drain: Swarm stops MKE 3's agents (and the Swarm services' tasks) and no longer restarts them (undo: yes)
	// Workers: 1 node(s)
	//    14/21  mke3-stop                    10.0.0.2:22            stops MKE 3's agent, kubelet, ucp-* components (not ucp-kv) and k8s_* pod containers (undo: yes)
	//    15/21  k0s-binary                   10.0.0.2:22            moves the k0s binary staged before the outage to /usr/local/bin/k0s, SHA-256 checked (with none staged, copied from a node that has it (the first one uploaded); an existing file is saved; so are MKE 3's files k0s reset deletes) (undo: yes)
	//    16/21  k0s-worker                   10.0.0.2:22            joins the node as a k0s worker (token from the first controller) and waits until its Node is Ready (undo: yes)
	// MKE 4k configuration
	//    17/21  mke4-config                  local                  stores mke4.yaml in the new cluster (Secret mke/mke4-config) for MKE 4k's installer; installs no MKE 4k component (undo: yes)
	// MKE 3 cleanup
	//    18/21  mke3-uninstall               10.0.0.1:22            uninstalls MKE 3.7.16 (uninstall-ucp; on timeout, every node leaves the Swarm) (undo: nothing to undo)  <-- point of no return: from here a failure is resumed, not rolled back
	// MKE 3 volumes
	//    19/21  mke3-volumes                 10.0.0.1:22            removes MKE 3's leftover ucp-* containers and volumes ucp-controller-server-certs (undo: nothing to undo)
	// Output
	//    20/21  write-outputs                local                  writes mke4.yaml and the admin kubeconfig (/home/ops/.mke/mke.kubeconf) (undo: nothing to undo)
	//    21/21  verify                       local                  nothing: checks the new cluster against what the output folder recorded before the upgrade (mke-migrate verify); writes verify.txt and verify.json (undo: nothing to undo)
}
