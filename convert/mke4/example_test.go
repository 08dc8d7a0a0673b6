package mke4_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func ExampleDefault() {
	cfg := mke4.Default()
	cfg.Spec.APIServer.ExternalAddress = "mke.example.com"
	cfg.Spec.Hosts = []mke4.Host{{
		SSH:  &mke4.SSH{Address: "10.0.0.1", User: "ubuntu", Port: 22, KeyPath: "~/.ssh/id_rsa"},
		Role: mke4.RoleSingle,
	}}
	if err := cfg.Validate(); err != nil {
		log.Fatal(err)
	}
	out, err := mke4.Marshal(cfg)
	if err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	fmt.Println(strings.Join(lines[:6], "\n"))
	for _, l := range lines {
		if strings.Contains(l, "externalAddress") || strings.Contains(l, "nodePortRange") || strings.HasPrefix(l, "  version:") {
			fmt.Println(l)
		}
	}
	// Output:
	// apiVersion: mke.mirantis.com/v1alpha1
	// kind: MkeConfig
	// metadata:
	//   name: mke
	//   namespace: mke
	// spec:
	//     externalAddress: mke.example.com
	//     nodePortRange: 32768-35535
	//   version: v4.1.0
}

func ExampleUnmarshal() {
	doc := `apiVersion: mke.mirantis.com/v1alpha1
kind: MkeConfig
metadata:
  name: mke
  namespace: mke
spec:
  kubelet:
    customProfiles:
    - name: high
      values:
        maxPods: 250
  hosts:
  - role: worker
    ssh: {address: 10.0.0.2, user: ubuntu}
    installFlags: [--profile=high]
  network:
    providers:
    - provider: calico
      enabled: true
`
	cfg, err := mke4.Unmarshal([]byte(doc))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Spec.Hosts[0].InstallFlags[0], cfg.Validate())
	fmt.Printf("%T %v\n", cfg.Spec.Kubelet.CustomProfiles[0].Values["maxPods"], cfg.Spec.Kubelet.CustomProfiles[0].Values["maxPods"])

	_, err = mke4.Unmarshal([]byte(doc + "  kubeProxyMode: ipvs\n"))
	fmt.Println(err)
	// Output:
	// --profile=high <nil>
	// float64 250
	// mke4: decode: unknown field "spec.kubeProxyMode"
}
