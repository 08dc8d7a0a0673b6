package upgrade

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// IDJoinPort is the finding of checkJoinPorts.
const IDJoinPort = "join-port"

// joinPortTimeout bounds each connection of the join-port check and the
// wait for our listener's answer: a safety net, generous for busy hosts.
const joinPortTimeout = 10 * time.Second

// checkJoinPorts checks, before anything changes, what the join check
// (Commands.JoinCheck) checks later from each joining node once the first
// controller runs: that the external address forwards the ports the join
// tokens point at to the managers. k0s's controller tokens point at
// https://<externalAddress>:9443 and worker tokens at :6443 (k0s
// cmd/token/create.go); a load balancer made for MKE 3 forwards 443 and
// 6443, not 9443 (issue 12, finding 5), and the run would find out only
// past the first controller. Each manager's 9443 is free before k0s runs
// (a taken one is the port-in-use blocker), so a short-lived listener of
// ours answers there (package portcheck, ThroughLB), and each joining
// manager connects to <externalAddress>:9443, each worker to :6443. Off
// with the join check (Commands.JoinCheck "-", --skip-join-check) or
// without an external address.
func (u *Upgrade) checkJoinPorts(ctx context.Context, sh *Shared) []preflight.Result {
	o := &u.o
	lb := lbHost(o.ExternalAddress)
	if lb == "" || o.Commands.JoinCheck == "" || len(sh.Managers) == 0 {
		return nil
	}
	var probes []portcheck.LBProbe
	for _, m := range sh.Managers[1:] {
		probes = append(probes, portcheck.LBProbe{From: m, Port: 9443, What: "k0s join API (controller join tokens)"})
	}
	for _, w := range sh.Workers {
		probes = append(probes, portcheck.LBProbe{From: w, Port: 6443, What: "Kubernetes API (worker join tokens)"})
	}
	if len(probes) == 0 {
		return nil // one manager and no workers: nothing joins
	}
	var backends []portcheck.Host
	for _, m := range sh.Managers {
		backends = append(backends, portcheck.Host{Key: m, Address: u.clients.hosts[m].Address, Role: portcheck.Controller})
	}
	rep, err := portcheck.ThroughLB(ctx, portcheck.LBOptions{LB: lb, Backends: backends, Probes: probes, Nodes: u.clients,
		ConnectTimeout: joinPortTimeout, Concurrency: o.Concurrency})
	if err != nil {
		return []preflight.Result{{ID: IDJoinPort, Severity: preflight.Warning, Message: "the join ports were not checked: " + err.Error(),
			Remedy: "check that " + lb + " forwards 9443 and 6443 to the managers"}}
	}
	return joinPortFindings(rep.Results, lb, func(key string) string { return u.clients.hosts[key].Address })
}

// joinPortFindings makes one finding per port and verdict (blocked: a
// blocker; untested: a warning) naming the sources, so that 200 workers
// behind a load balancer without 6443 make one finding, not 200.
func joinPortFindings(rs []portcheck.Result, lb string, addr func(key string) string) []preflight.Result {
	type group struct {
		port    int
		verdict portcheck.Verdict
	}
	from, detail := map[group][]string{}, map[group]string{}
	var order []group
	for _, r := range rs {
		if r.Verdict != portcheck.Blocked && r.Verdict != portcheck.Untested {
			continue
		}
		g := group{r.Port, r.Verdict}
		if _, ok := from[g]; !ok {
			order = append(order, g)
			detail[g] = r.Detail
		}
		from[g] = append(from[g], addr(r.From))
	}
	var out []preflight.Result
	for _, g := range order {
		srcs := from[g]
		slices.Sort(srcs)
		names := strings.Join(srcs, ", ")
		if len(srcs) > 5 {
			names = strings.Join(srcs[:5], ", ") + fmt.Sprintf(" and %d more", len(srcs)-5)
		}
		what, who := "k0s's join API (the controller join tokens point at https://"+net.JoinHostPort(lb, "9443")+")", "the joining managers"
		if g.port == 6443 {
			what, who = "the Kubernetes API (the worker join tokens point at https://"+net.JoinHostPort(lb, "6443")+")", "the workers"
		}
		remedy := fmt.Sprintf("forward TCP port %d on the load balancer %s to port %d of every manager, as for 6443 (a load balancer made for MKE 3 forwards 443 and 6443 only), or give --external-address an address that does; --skip-join-check skips this check and the join check before each node joins", g.port, lb, g.port)
		if g.verdict == portcheck.Blocked {
			out = append(out, preflight.Result{ID: IDJoinPort, Severity: preflight.Blocker,
				Message: fmt.Sprintf("%s:%d, %s, is not forwarded to the managers from %s (%s): %s", lb, g.port, what, who, names, detail[g]),
				Remedy:  remedy})
			continue
		}
		out = append(out, preflight.Result{ID: IDJoinPort, Severity: preflight.Warning,
			Message: fmt.Sprintf("%s:%d, %s, could not be checked from %s (%s): %s", lb, g.port, what, who, names, detail[g]),
			Remedy:  "check by hand that " + lb + " forwards port " + fmt.Sprint(g.port) + " to the managers, or fix what the message names (mke-migrate check ports)"})
	}
	return out
}

// lbHost is the external address without a port, if it has one.
func lbHost(a string) string {
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}
