package upgrade

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// IDPeerPort is the finding of checkPeerPorts: peer delivery's ports.
const IDPeerPort = "peer-port"

// peerPortNeighbours is how many other nodes each node probes the peer
// ports of (portcheck.Options.Neighbours): a sample, since the check runs
// before every upgrade and a firewall rule is seldom per pair of nodes;
// mke-migrate check ports probes every pair.
const peerPortNeighbours = 2

// checkPeerPorts checks, before anything changes, what peer delivery
// (the default) needs between the nodes: openssl on every node that may
// serve the binary (any node that has it), and its ports
// (Delivery.PeerPort to PeerPort+PeerFanout-1) reachable from the other
// nodes. It probes them as the join-port check does: on each node, a port
// some process holds is reported with the process's name, a free one gets
// a short-lived listener of ours, and each node connects to the next
// peerPortNeighbours nodes (package portcheck). Whatever it finds is a
// warning, not a blocker: a copy that fails falls back to an upload from
// this machine, so the run works, only sends more (the warning says how
// much at most). Off in upload and url mode.
func (u *Upgrade) checkPeerPorts(ctx context.Context, sh *Shared) []preflight.Result {
	o := &u.o
	d := o.Delivery
	if d.Mode != DeliveryPeer {
		return nil
	}
	var hs []portcheck.Host
	var noSSL []string
	for _, k := range append(slices.Clone(sh.Managers), sh.Workers...) {
		if _, ok := sh.Facts[k]; !ok {
			continue // unreachable: the facts' checks said so
		}
		addr := u.clients.hosts[k].Address
		if ip := sh.NodeIPs[k]; ip != "" {
			addr = ip // where peers reach it (Env.peerAddr)
		}
		hs = append(hs, portcheck.Host{Key: k, Address: addr, Role: portcheck.Worker})
		if t, ok := sh.DeliveryTools[k]; ok && !slices.Contains(strings.Fields(t), "openssl") {
			noSSL = append(noSSL, k)
		}
	}
	if len(hs) < 2 {
		return nil // nothing to copy between
	}
	addr := func(k string) string { return u.clients.hosts[k].Address }
	cost := fmt.Sprintf("up to %d uploads of the k0s binary from this machine instead of one", len(hs))
	if n := len(o.K0sBinary); n > 0 {
		cost += fmt.Sprintf(" (%.1f MB each, %.1f MB in all)", float64(n)/1e6, float64(n)*float64(len(hs))/1e6)
	}
	ports := portRange(d.PeerPort, d.PeerFanout)
	out := opensslFindings(len(hs), noSSL, cost, addr)
	if len(noSSL) == len(hs) {
		return out // no node serves: no port to check
	}
	var want []portcheck.Port
	for _, p := range ports {
		want = append(want, portcheck.Port{Number: p, What: "k0s peer delivery"})
	}
	rep, err := portcheck.Check(ctx, portcheck.Options{Hosts: hs, Nodes: u.clients, Ports: want,
		ConnectTimeout: joinPortTimeout, Concurrency: o.Concurrency, Neighbours: peerPortNeighbours, Logger: o.Logger})
	if err != nil {
		return append(out, preflight.Result{ID: IDPeerPort, Severity: preflight.Warning, Message: "peer delivery's ports were not checked: " + err.Error(),
			Remedy: "mke-migrate check ports probes them"})
	}
	return append(out, peerPortFindings(rep.Results, noSSL, ports, cost, addr)...)
}

// opensslFindings warn about the nodes without openssl (noSSL, of n),
// which cannot serve the binary in peer delivery.
func opensslFindings(n int, noSSL []string, cost string, addr func(string) string) []preflight.Result {
	switch {
	case len(noSSL) == 0:
		return nil
	case len(noSSL) == n:
		return []preflight.Result{{ID: "k0s-delivery", Severity: preflight.Warning,
			Message: "no node has openssl, which serves the k0s binary to the other nodes in peer delivery (--k0s-delivery peer, the default): every node gets it uploaded from this machine, " + cost,
			Remedy:  "install openssl on the nodes, or choose --k0s-delivery url (the nodes download k0s themselves)"}}
	}
	return []preflight.Result{{ID: "k0s-delivery", Severity: preflight.Warning,
		Message: fmt.Sprintf("%s without openssl: they copy the k0s binary from other nodes but cannot serve it to them (peer delivery)", names(noSSL, addr)),
		Remedy:  "install openssl on them for a wider fan-out (not needed for the run)"}}
}

// portRange is n ports from first.
func portRange(first, n int) []int {
	var ps []int
	for i := range n {
		ps = append(ps, first+i)
	}
	return ps
}

// names lists hosts (at most 5, then a count) by address.
func names(keys []string, addr func(string) string) string {
	var as []string
	for _, k := range keys {
		as = append(as, addr(k))
	}
	slices.Sort(as)
	as = slices.Compact(as)
	if len(as) > 5 {
		return strings.Join(as[:5], ", ") + fmt.Sprintf(" and %d more", len(as)-5)
	}
	return strings.Join(as, ", ")
}

// peerPortFindings makes warnings of the peer ports' probes: one for
// every blocked probe together, one per node and port held by a process,
// one for what could not be checked. Probes to a node that cannot serve
// (noSSL) do not count: nobody copies from it.
func peerPortFindings(rs []portcheck.Result, noSSL []string, ports []int, cost string, addr func(string) string) []preflight.Result {
	span := portList(ports)
	var untested []string
	blocked := map[string]*blockedTo{}
	var untestedWhy string
	held := map[string]bool{}
	var out []preflight.Result
	for _, r := range rs {
		if slices.Contains(noSSL, r.To) {
			continue
		}
		pair := fmt.Sprintf("%s → %s:%d", addr(r.From), addr(r.To), r.Port)
		switch r.Verdict {
		case portcheck.Blocked:
			b := blocked[r.To]
			if b == nil {
				b = &blockedTo{to: r.To}
				blocked[r.To] = b
			}
			b.from = append(b.from, r.From)
			b.ports = append(b.ports, r.Port)
		case portcheck.Untested:
			untested = append(untested, pair)
			if untestedWhy == "" {
				untestedWhy = r.Detail
			}
		case portcheck.Held:
			k := fmt.Sprintf("%s:%d", r.To, r.Port)
			if held[k] {
				continue
			}
			held[k] = true
			out = append(out, preflight.Result{ID: IDPeerPort, Severity: preflight.Warning, Host: r.To,
				Message: fmt.Sprintf("TCP port %d, where %s would serve the k0s binary to other nodes (peer delivery), is held by %s: the copies it would serve there fall back to uploads from this machine, %s", r.Port, addr(r.To), r.Process, cost),
				Remedy:  fmt.Sprintf("stop %s on the node, or give --k0s-peer-port a first port of %d free ones (--k0s-peer-fanout)", r.Process, len(ports))})
		}
	}
	list := func(ps []string) string {
		if len(ps) > 5 {
			return strings.Join(ps[:5], ", ") + fmt.Sprintf(" and %d more", len(ps)-5)
		}
		return strings.Join(ps, ", ")
	}
	if len(blocked) > 0 {
		out = append(out, preflight.Result{ID: IDPeerPort, Severity: preflight.Warning,
			Message: fmt.Sprintf("TCP ports %s, where nodes serve the k0s binary to each other (peer delivery, the default), are blocked between nodes (%s): each copy that fails is uploaded from this machine instead, %s", span, blockedList(blocked, addr), cost),
			Remedy:  fmt.Sprintf("open TCP ports %s between the nodes (mke-migrate's one-shot HTTPS servers listen there during the k0s binary's copy, before the outage), give --k0s-peer-port free ones, or choose --k0s-delivery upload or url", span)})
	}
	if len(untested) > 0 {
		out = append(out, preflight.Result{ID: IDPeerPort, Severity: preflight.Warning,
			Message: fmt.Sprintf("TCP ports %s (peer delivery) could not be checked (%s): %s", span, list(untested), untestedWhy),
			Remedy:  "check by hand that the nodes reach each other on these ports (mke-migrate check ports), or fix what the message names"})
	}
	return out
}

// blockedTo is the blocked probes to one node.
type blockedTo struct {
	to    string
	from  []string
	ports []int
}

// blockedList tells blocked probes by destination, the node the most
// sources cannot reach first (then by address): a node behind a firewall
// heads the list, before the probes of its own that failed only because
// its replies could not come back. At most 5 destinations, then a count.
func blockedList(m map[string]*blockedTo, addr func(string) string) string {
	bs := slices.Collect(maps.Values(m))
	for _, b := range bs {
		slices.Sort(b.from)
		b.from = slices.Compact(b.from)
	}
	slices.SortFunc(bs, func(x, y *blockedTo) int {
		return cmp.Or(cmp.Compare(len(y.from), len(x.from)), cmp.Compare(addr(x.to), addr(y.to)))
	})
	var parts []string
	for i, b := range bs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more nodes", len(bs)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%s from %s", addr(b.to), portList(b.ports), names(b.from, addr)))
	}
	return strings.Join(parts, "; ")
}

// portList writes ports in order, runs of consecutive ones as first–last.
func portList(ps []int) string {
	ps = slices.Clone(ps)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var parts []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", ps[i], ps[j]))
		} else {
			parts = append(parts, fmt.Sprint(ps[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
