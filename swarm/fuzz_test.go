package swarm_test

import (
	"errors"
	"testing"

	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// FuzzDecodeServices feeds arbitrary bytes to the services decoder and,
// when they decode, through the translation: neither may panic, a refusal
// is a *DecodeError, and every service is reported.
func FuzzDecodeServices(f *testing.F) {
	def := mke3api.DefaultSwarm()
	src := source(f, def)
	f.Add(src["services"])
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"ID":"a","Spec":{"Name":"x","Mode":{"Global":{},"Replicated":{}}}}]`))
	f.Add([]byte(`[{"ID":"a","Spec":{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"i","StopGracePeriod":-5,"Healthcheck":{"Test":["CMD"],"Interval":-1,"Retries":-3}}},"EndpointSpec":{"Ports":[{"TargetPort":70000}]}}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		svcs, err := swarm.DecodeServices(data)
		if err != nil {
			var de *swarm.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("not a *DecodeError: %T %v", err, err)
			}
			return
		}
		inv := &swarm.Inventory{Services: svcs}
		res, err := swarm.Translate(inv, swarm.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Report.Services) != len(svcs) {
			t.Fatalf("%d services, %d reported", len(svcs), len(res.Report.Services))
		}
		if _, err := swarm.Files(res, swarm.JSON); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeLists feeds arbitrary bytes to the decoders of the other
// lists: no panic, and a refusal is a *DecodeError.
func FuzzDecodeLists(f *testing.F) {
	src := source(f, mke3api.DefaultSwarm())
	for _, l := range []string{"tasks", "configs", "secrets", "networks", "volumes", "nodes"} {
		f.Add(src[l])
	}
	f.Add([]byte(`[{"ID":"s","Spec":{"Name":"n","Data":"c2VjcmV0"}}]`))
	f.Add([]byte(`{"Volumes":[{"Name":""}]}`))
	decoders := []func([]byte) error{
		func(b []byte) error { _, err := swarm.DecodeTasks(b); return err },
		func(b []byte) error { _, err := swarm.DecodeConfigs(b); return err },
		func(b []byte) error { _, err := swarm.DecodeSecrets(b); return err },
		func(b []byte) error { _, err := swarm.DecodeNetworks(b); return err },
		func(b []byte) error { _, err := swarm.DecodeVolumes(b); return err },
		func(b []byte) error { _, err := swarm.DecodeNodes(b); return err },
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range decoders {
			if err := d(data); err != nil {
				var de *swarm.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("not a *DecodeError: %T %v", err, err)
				}
			}
		}
	})
}
