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

func ExampleReport_Find() {
	cfg, err := convert.Parse("mke3-config.toml", []byte("[cluster_config]\nkubelet_max_pods = 200\ncustom_kube_api_server_flags = [\"--audit-log-maxage=45\", \"--bogus\"]\n"))
	if err != nil {
		log.Fatal(err)
	}
	_, report, err := convert.Convert(cfg, convert.Options{})
	if err != nil {
		log.Fatal(err)
	}
	e, _ := report.Find("cluster_config.kubelet_max_pods", "")
	fmt.Println(e.Status, e.Target)
	e, _ = report.Find("cluster_config.custom_kube_api_server_flags", "audit-log-maxage")
	fmt.Println(e.Flag, e.Status, e.Target)
	_, ok := report.Find("cluster_config.custom_kube_api_server_flags", "--no-such-flag")
	fmt.Println(ok)
	// Output:
	// converted spec.kubelet.maxPods
	// --audit-log-maxage=45 converted spec.apiServer.audit.maxAge
	// false
}

// A kubelet profile of MKE 3 is found by name in the converted
// configuration; its values are KubeletConfiguration fields.
func Example_kubeletProfile() {
	cfg, err := convert.Parse("mke3-config.toml", []byte("[cluster_config.custom_kubelet_flags_profiles]\nhigh = \"--max-pods=250 --kube-reserved=cpu=500m\"\n"))
	if err != nil {
		log.Fatal(err)
	}
	out, _, err := convert.Convert(cfg, convert.Options{})
	if err != nil {
		log.Fatal(err)
	}
	p, ok := out.Spec.Kubelet.Profile("high")
	fmt.Println(ok, p.Values["maxPods"], p.Values["kubeReserved"])
	_, ok = out.Spec.Kubelet.Profile("low")
	fmt.Println(ok)
	// Output:
	// true 250 map[cpu:500m]
	// false
}
