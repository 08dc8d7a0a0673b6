package swarm_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// simulator starts an MKE 3 API simulator with seed and returns a client
// logged in as its admin.
func simulator(t testing.TB, seed mke3api.Seed) (*mke3api.Running, *mke3.Client) {
	t.Helper()
	r, err := mke3api.Start(mke3api.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	c, err := mke3.New(mke3.Options{Host: r.URL, Username: mke3api.DefaultAdminUsername, Password: mke3api.DefaultAdminPassword, CACertPEM: r.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// exportDefault exports the simulator's default Swarm.
func exportDefault(t testing.TB) *swarm.Result {
	t.Helper()
	_, c := simulator(t, mke3api.Seed{})
	res, err := swarm.Export(context.Background(), c, swarm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
