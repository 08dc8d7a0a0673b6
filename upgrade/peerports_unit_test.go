package upgrade

import (
	"strings"
	"testing"

	rq "github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// The peer ports' findings: every one a warning (a failed copy falls back
// to an upload), blocked probes together, a held port once per node and
// port whatever the number of sources, probes to a node that cannot serve
// (no openssl) left out; openssl missing everywhere or on some nodes.
func TestPeerPortFindings(t *testing.T) {
	addr := func(k string) string { return strings.TrimSuffix(k, ":22") }
	rs := []portcheck.Result{
		{From: "a:22", To: "b:22", Port: 19443, Verdict: portcheck.OK},
		{From: "a:22", To: "b:22", Port: 19444, Verdict: portcheck.Held, Process: "nginx"},
		{From: "c:22", To: "b:22", Port: 19444, Verdict: portcheck.Held, Process: "nginx"},
		{From: "b:22", To: "c:22", Port: 19443, Verdict: portcheck.Blocked},
		{From: "b:22", To: "d:22", Port: 19443, Verdict: portcheck.Blocked}, // d cannot serve
		{From: "c:22", To: "a:22", Port: 19445, Verdict: portcheck.Untested, Detail: "destination: neither perl nor python3"},
	}
	fs := peerPortFindings(rs, []string{"d:22"}, []int{19443, 19444, 19445}, "COST", addr)
	rq.Len(t, fs, 3, "%+v", fs)
	for _, f := range fs {
		rq.Equal(t, preflight.Warning, f.Severity)
		rq.Equal(t, IDPeerPort, f.ID)
	}
	rq.Equal(t, "b:22", fs[0].Host)
	rq.Contains(t, fs[0].Message, "19444")
	rq.Contains(t, fs[0].Message, "held by nginx")
	rq.Contains(t, fs[1].Message, "c:19443 from b")
	rq.NotContains(t, fs[1].Message, "d:19443")
	rq.Contains(t, fs[1].Message, "COST")
	rq.Contains(t, fs[2].Message, "neither perl nor python3")

	rq.Empty(t, opensslFindings(3, nil, "COST", addr))
	all := opensslFindings(2, []string{"a:22", "b:22"}, "COST", addr)
	rq.Len(t, all, 1)
	rq.Contains(t, all[0].Message, "no node has openssl")
	rq.Contains(t, all[0].Message, "COST")
	some := opensslFindings(3, []string{"b:22"}, "COST", addr)
	rq.Len(t, some, 1)
	rq.Contains(t, some[0].Message, "b without openssl")
	rq.Equal(t, preflight.Warning, some[0].Severity)
}

// Blocked probes are told by destination, the one most sources cannot
// reach first: a node behind a firewall shows at the head of the list
// whatever its address, not among the replies it could not send (a route
// that drops a node's traffic fails its own probes to the others too).
func TestPeerPortFindingsNameTheUnreachableNodeFirst(t *testing.T) {
	addr := func(k string) string { return strings.TrimSuffix(k, ":22") }
	var rs []portcheck.Result
	for _, p := range []int{19443, 19444, 19445} {
		// z is unreachable from x and y; its own probes to a…f fail as well
		rs = append(rs, portcheck.Result{From: "x:22", To: "z:22", Port: p, Verdict: portcheck.Blocked},
			portcheck.Result{From: "y:22", To: "z:22", Port: p, Verdict: portcheck.Blocked})
		for _, to := range []string{"a", "b", "c", "d", "e", "f"} {
			rs = append(rs, portcheck.Result{From: "z:22", To: to + ":22", Port: p, Verdict: portcheck.Blocked})
		}
	}
	fs := peerPortFindings(rs, nil, []int{19443, 19444, 19445}, "COST", addr)
	rq.Len(t, fs, 1, "%+v", fs)
	rq.Contains(t, fs[0].Message, "(z:19443–19445 from x, y; a:19443–19445 from z;")
	rq.Contains(t, fs[0].Message, "and 2 more nodes")
}
