package summary_test

import (
	"fmt"
	"log"
	"os"

	"github.com/mke-migrate/mke-migrate/convert"
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
	s, err := summary.Build(summary.Input{
		Report:     &report,
		RBAC:       &summary.RBAC{UsersFound: 4, UsersMigrated: 4, OrgsFound: 1, OrgsTranslated: 1, TeamsFound: 2, TeamsTranslated: 2},
		MKEVersion: "3.8.8",
		Managers:   []string{"10.0.0.11:22"},
		Workers:    []string{"10.0.0.21:22"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("not converted:", s.Configuration.NotConverted[0].Key)
	if err := s.WriteText(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// not converted: cluster_config.swarm_port
	// Upgrade Summary
	// ---------------
	//
	// Configuration file
	// ---------------
	// 1 MKE 3 TOML setting(s) or flag(s) were not converted into MKE 4 YAML settings:
	//   line 3: cluster_config.swarm_port (dropped): Docker Swarm setting: MKE 4k has no Swarm, and Swarm workloads are not migrated
	//
	// Authentication
	// ---------------
	// Users found in the MKE3 cluster: 4
	//
	// All users were upgraded to the MKE 4k cluster successfully.
	//
	// Authorization
	// ---------------
	// Organizations found in the MKE3 cluster: 1
	// Teams found in the MKE3 cluster: 2
	//
	// All organizations and teams were translated to aggregated roles in the MKE 4k cluster successfully.
	//
	// Ports
	// ---------------
	// The following MKE3 ports are no longer used by MKE 4k and (unless otherwise needed) may be made unavailable on all nodes: [2377,6444,7946,9055,12376,12378,12379,12380,12381,12382,12383,12384,12385,12386,12387,12388,12389,12391,12392,179,12390,2376,443]
	//
	// MCR
	// ---------------
	// MCR may safely be uninstalled
	//
	// MKE3 Cleanup
	// ---------------
	// MKE 3.8.8 was uninstalled from the cluster successfully.
	//
	// Hosts
	// ---------------
	// Managers: 1
	// Workers: 1
}

// A run that failed and was rolled back: the summary says so, and that MKE 3
// stays.
func ExampleBuild_rolledBack() {
	s, err := summary.Build(summary.Input{
		Report:     &convert.Report{},
		MKEVersion: "3.7.15",
		Outcome:    summary.RolledBack,
		Error:      "aborting upgrade due to signal interrupt",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Outcome, s.Cleanup.Uninstalled, s.MCR.SafeToUninstall)

	_, err = summary.Build(summary.Input{})
	fmt.Println(err)
	// Output:
	// rolledBack false false
	// summary: no conversion report (Input.Report is nil)
}
