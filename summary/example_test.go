package summary_test

import (
	"fmt"
	"log"
	"os"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/summary"
)

func Example() {
	cfg, err := convert.Parse("mke3-config.toml", []byte("[cluster_config]\ncalico_kdd = true\nswarm_port = 2400\n"))
	if err != nil {
		log.Fatal(err)
	}
	_, report, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	s := summary.Build(summary.Input{
		Report:     &report,
		RBAC:       &rbac.Report{Users: rbac.Counts{Found: 4, Translated: 4}, Orgs: rbac.Counts{Found: 1, Translated: 1}, Teams: rbac.Counts{Found: 2, Translated: 2}},
		MKEVersion: "3.8.8",
		Managers:   []string{"10.0.0.11:22"},
		Workers:    []string{"10.0.0.21:22"},
	})
	fmt.Println("not converted:", s.Configuration.NotConverted[0].Key)
	if err := s.WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// not converted: cluster_config.swarm_port
	// Upgrade summary
	//   1 manager(s) to k0s controllers, 1 worker(s) to k0s workers
	//
	// Configuration file
	//   1 MKE 3 setting(s) or flag(s) were not converted:
	//     cluster_config.swarm_port (dropped): Docker Swarm setting: MKE 4k has no Swarm, and Swarm workloads are not migrated
	//
	// Authentication
	//   4 user(s) found, 4 migrated.
	//
	// Authorization
	//   1 organization(s) and 2 team(s) found, converted to 3 aggregated role(s).
	//
	// Ports
	//   MKE 3 ports no longer used: 2377, 6444, 7946, 9055, 12376, 12378, 12379, 12380, 12381, 12382, 12383, 12384, 12385, 12386, 12387, 12388, 12389, 12391, 12392, 179, 12390, 2376, 443
	//   (MKE 4k still uses 443 on the load balancer, and 6443 and 9443.)
	//
	// MCR
	//   MCR may safely be uninstalled: MKE 4k runs on k0s with its own containerd (keep it if anything else uses Docker).
	//
	// MKE3 Cleanup
	//   MKE 3.8.8 was uninstalled from the cluster successfully.
}
