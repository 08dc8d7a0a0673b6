package upgrade

import (
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Finding 5 on the realistic bed, before anything changes: MKE 3's
// ucp-controller holds 6443 on the manager, its load balancer forwards
// 443 and 6443, and 9443 is free on the manager until k0s runs. The
// join-port probe finds 9443 not forwarded (a blocker naming the address,
// the port and what to forward) and 6443 answering (MKE 3's own listener:
// a connection is what can be checked); once the load balancer forwards
// 9443, our listener on the manager answers through it. The listener is
// gone afterwards.
func TestRealBedJoinPorts(t *testing.T) {
	b := startRealBed(t, 1, 1)
	m, w := b.c.Managers[0], b.c.Workers[0]
	probe := func() []portcheck.Result {
		t.Helper()
		rep, err := portcheck.ThroughLB(t.Context(), portcheck.LBOptions{LB: b.c.LB,
			Backends: []portcheck.Host{{Key: m.Name, Address: m.Address, Role: portcheck.Controller}},
			Probes:   []portcheck.LBProbe{{From: w.Name, Port: 9443, What: "k0s join API"}, {From: w.Name, Port: 6443, What: "Kubernetes API"}},
			Nodes:    b.env.Nodes, ConnectTimeout: joinPortTimeout})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			t.Logf("%s -> %s:%d %s %s", r.From, r.To, r.Port, r.Verdict, r.Detail)
		}
		return rep.Results
	}
	verdict := func(rs []portcheck.Result, port int) portcheck.Verdict {
		for _, r := range rs {
			if r.Port == port {
				return r.Verdict
			}
		}
		return ""
	}
	free := func() {
		t.Helper()
		out, err := b.c.Exec(t.Context(), m, "ss -ltnH 'sport = :9443'")
		if err != nil || strings.TrimSpace(out) != "" {
			t.Fatalf("9443 on the manager after the probe: %q %v", out, err)
		}
	}

	rs := probe()
	if verdict(rs, 9443) != portcheck.Blocked || verdict(rs, 6443) != portcheck.OK {
		t.Fatalf("default load balancer: 9443 %s, 6443 %s; want blocked and ok", verdict(rs, 9443), verdict(rs, 6443))
	}
	fs := joinPortFindings(rs, b.c.LB, func(k string) string { return k })
	if len(fs) != 1 || fs[0].Severity != preflight.Blocker || !strings.Contains(fs[0].Message, b.c.LB+":9443") ||
		!strings.Contains(fs[0].Remedy, "forward TCP port 9443 on the load balancer "+b.c.LB) {
		t.Fatalf("findings %+v", fs)
	}
	free()

	if err := b.c.LoadBalancer.AddPort(9443); err != nil {
		t.Fatal(err)
	}
	if rs := probe(); verdict(rs, 9443) != portcheck.OK || verdict(rs, 6443) != portcheck.OK {
		t.Fatalf("9443 forwarded: 9443 %s, 6443 %s; want ok", verdict(rs, 9443), verdict(rs, 6443))
	}
	free()
}
