package swarm_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mke-migrate/mke-migrate/swarm"
)

// Decode an Engine API answer and translate it: one replicated service
// publishing a port in ingress mode.
func ExampleTranslate() {
	svcs, err := swarm.DecodeServices([]byte(`[{"ID":"x1","Spec":{"Name":"shop_web",
		"Labels":{"com.docker.stack.namespace":"shop"},
		"TaskTemplate":{"ContainerSpec":{"Image":"nginx:1.25"}},
		"Mode":{"Replicated":{"Replicas":2}},
		"EndpointSpec":{"Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":30080}]}}}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := swarm.Translate(&swarm.Inventory{Services: svcs}, swarm.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ns := range res.Namespaces {
		for _, o := range ns.Objects {
			fmt.Println(ns.Name, o.GetObjectKind().GroupVersionKind().Kind, o.GetName())
		}
	}
	for _, e := range res.Report.Services[0].Entries {
		if e.To != "" {
			fmt.Printf("%s → %s\n", e.Field, e.To)
		}
	}
	// Output:
	// shop Namespace shop
	// shop Service web
	// shop Deployment web
	// ID → metadata.annotations[swarm.mke-migrate.io/id]
	// Spec.Name → Deployment web: metadata.name
	// Spec.Labels.com.docker.stack.namespace → Deployment web: metadata.namespace
	// Spec.TaskTemplate.ContainerSpec.Image → Deployment web: spec.template.spec.containers[0].image
	// Spec.EndpointSpec.Ports[0] → Service web: spec.ports[].nodePort
	// Spec.Mode.Replicated.Replicas → Deployment web: spec.replicas
}

// Write a result into a folder: one manifest per namespace and the report.
func ExampleWriteDir() {
	svcs, _ := swarm.DecodeServices([]byte(`[{"ID":"x1","Spec":{"Name":"cache","TaskTemplate":{"ContainerSpec":{"Image":"redis:7"}}}}]`))
	res, _ := swarm.Translate(&swarm.Inventory{Services: svcs}, swarm.Options{})
	dir, err := os.MkdirTemp("", "swarm-export")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	written, err := swarm.WriteDir(filepath.Join(dir, "out"), res, swarm.YAML)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range written {
		fmt.Println(filepath.Base(p))
	}
	fmt.Println(res.Summary("out"))
	// Output:
	// default.yaml
	// report.txt
	// report.yaml
	// 1 of 1 Swarm services exported to out, 0 need attention
}
