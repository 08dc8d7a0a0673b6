package convert_test

import (
	"fmt"
	"log"

	"github.com/mke-migrate/mke-migrate/convert"
)

func Example() {
	mke3 := []byte(`
[cluster_config]
  calico_kdd = true
  kubelet_max_pods = 200
  swarm_port = 2400
  custom_kube_api_server_flags = ["--event-ttl=2h"]
`)
	cfg, err := convert.Parse("mke3-config.toml", mke3)
	if err != nil {
		log.Fatal(err)
	}
	out, report, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("maxPods:", out.Spec.Kubelet.MaxPods)
	fmt.Println("extraArgs:", out.Spec.APIServer.ExtraArgs)
	for _, e := range report.Entries {
		fmt.Printf("%s %s %s%s\n", e.Key, e.Flag, e.Status, map[bool]string{true: " -> " + e.Target}[e.Target != ""])
	}
	fmt.Println("blocking:", report.HasBlocking())
	// Output:
	// maxPods: 200
	// extraArgs: map[event-ttl:2h]
	// cluster_config.calico_kdd  default
	// cluster_config.kubelet_max_pods  converted -> spec.kubelet.maxPods
	// cluster_config.swarm_port  dropped
	// cluster_config.custom_kube_api_server_flags --event-ttl=2h converted -> spec.apiServer.extraArgs.event-ttl
	// blocking: false
}

func ExampleCheck() {
	cfg, err := convert.Parse("mke3-config.toml", []byte("[cluster_config]\ncalico_kdd = false\nkubelet_max_pods = 110\nkms_enabled = false\n"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := convert.Check(cfg, convert.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range res.Items {
		fmt.Printf("%-15s %s blocking=%v\n", it.Group, it.Key, it.Blocking)
	}
	// Output:
	// Not supported   cluster_config.calico_kdd blocking=true
	// Supported       cluster_config.kubelet_max_pods blocking=false
	// Skipped         cluster_config.kms_enabled blocking=false
}

func ExampleParse_error() {
	_, err := convert.Parse("mke3-config.toml", []byte("[cluster_config]\nkubelet_max_pods = \"many\"\n"))
	fmt.Println(err)
	// Output:
	// mke3-config.toml:2:1: cluster_config.kubelet_max_pods: expected an integer, got a string ("many")
}
