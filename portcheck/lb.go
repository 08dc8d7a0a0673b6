package portcheck

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// LBProbe is one connection to check through the load balancer: from
// the host From (a key of Nodes) to the load balancer's Port.
type LBProbe struct {
	From string
	Port int
	What string
}

// LBOptions of ThroughLB.
type LBOptions struct {
	// LB is the load balancer's address (no port); Backends the hosts it
	// should forward the probes' ports to (the managers).
	LB       string
	Backends []Host
	Probes   []LBProbe
	Nodes    Nodes
	// ConnectTimeout bounds each connection and the wait for our
	// listener's answer (default 5 s); ListenFor bounds our listeners'
	// life if they are not stopped (default 2 minutes).
	ConnectTimeout, ListenFor time.Duration
	Concurrency               int
}

// ThroughLB checks, before anything changes, that the load balancer
// forwards each probe's port to the backends: on every backend where the
// port is free, a listener of ours answers each connection with a line
// naming this check; each source connects to LB:port and reads it. Only
// that answer proves the path (a TCP load balancer accepts connections it
// cannot forward, then closes them). On a port every backend holds
// already (MKE 3's 6443), a connection is all that can be checked. The
// listeners are stopped, and their ports free again, when it returns.
// Each probe gets one Result (From, To = LB): ok; blocked (no
// connection, or no answer of ours where every backend listened);
// untested (the source unreachable, no listener started, or an answer
// that a backend's own process may have given). Errors reaching hosts
// are results; the error is for bad options only.
func ThroughLB(ctx context.Context, o LBOptions) (*Report, error) {
	if o.Nodes == nil || o.LB == "" || len(o.Backends) == 0 {
		return nil, fmt.Errorf("portcheck: no load balancer or no backends")
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.ListenFor <= 0 {
		o.ListenFor = 2 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	secs := max(1, int(o.ConnectTimeout/time.Second))
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	banner := "mke-migrate-portcheck " + hex.EncodeToString(nonce)
	var ports []int
	for _, p := range o.Probes {
		if !slices.Contains(ports, p.Port) {
			ports = append(ports, p.Port)
		}
	}
	// 1. on every backend: what holds the ports, our listener on the others
	bs := make([]listening, len(o.Backends))
	parallel(len(o.Backends), o.Concurrency, func(i int) {
		bs[i] = listen(ctx, o.Nodes, o.Backends[i].Key, ports, o.ListenFor, banner)
	})
	defer parallel(len(o.Backends), o.Concurrency, func(i int) { bs[i].stop(ctx, o.Nodes, o.Backends[i].Key) })
	// what stands behind each port: our listener on every backend, the
	// backends' own processes on every one, or a mix
	type behind struct {
		ours, held int
		process    string
		why        string
	}
	by := map[int]*behind{}
	for _, p := range ports {
		w := &behind{}
		for i, b := range bs {
			switch name, held := b.held[p]; {
			case slices.Contains(b.ours, p):
				w.ours++
			case held:
				w.held++
				w.process = cmp.Or(name, "a process ss does not name") + " on " + o.Backends[i].Key
			case w.why == "":
				w.why = o.Backends[i].Key + ": " + b.err
			}
		}
		by[p] = w
	}
	// 2. from every source, each of its ports through the load balancer
	rep := &Report{Results: make([]Result, len(o.Probes))}
	sources := map[string][]int{} // source → probe indexes
	var order []string
	for i, p := range o.Probes {
		if _, ok := sources[p.From]; !ok {
			order = append(order, p.From)
		}
		sources[p.From] = append(sources[p.From], i)
	}
	parallel(len(order), o.Concurrency, func(k int) {
		from := order[k]
		idx := sources[from]
		var nums []int
		for _, i := range idx {
			nums = append(nums, o.Probes[i].Port)
		}
		n, err := o.Nodes.Node(ctx, from)
		var out string
		if err == nil {
			out, err = n.Exec(ctx, bannerProbeScript(o.LB, nums, secs))
		}
		got := parseBannerProbe(out)
		for _, i := range idx {
			p := o.Probes[i]
			r := Result{From: from, To: o.LB, Port: p.Port, What: p.What}
			a, w := got[p.Port], by[p.Port]
			switch {
			case err != nil:
				r.Verdict, r.Detail = Untested, "source: "+err.Error()
			case !a.connected:
				r.Verdict, r.Detail = Blocked, fmt.Sprintf("no connection to %s:%d (refused, or none within %ds): the load balancer does not forward port %d", o.LB, p.Port, secs, p.Port)
			case a.line == banner:
				r.Verdict = OK
			case w.ours == 0 && w.held == len(o.Backends):
				// MKE 3's own listener on every backend: a connection is
				// what can be checked
				r.Verdict, r.Detail = OK, "connected; the port is held on the backends ("+w.process+"), so only the connection was checked"
			case w.held > 0:
				r.Verdict, r.Detail = Untested, fmt.Sprintf("connected, but no answer of ours: %s holds the port, which may have answered", w.process)
			case w.ours == 0:
				r.Verdict, r.Detail = Untested, "connected, but no listener of ours ran behind it ("+w.why+")"
			default:
				r.Verdict, r.Detail = Blocked, fmt.Sprintf("the load balancer accepted the connection but no backend's port %d answered: it does not forward the port to them", p.Port)
			}
			rep.Results[i] = r
		}
	})
	return rep, nil
}

// bannerProbeScript connects to addr on each port with bash's /dev/tcp
// and reads one line (timeout secs for both): "PORT connected LINE" or
// "PORT" alone when the connection failed.
func bannerProbeScript(addr string, ports []int, secs int) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "r=$(timeout %d bash -c %s 2>/dev/null); echo %d $r; ", secs,
			shell.Quote(fmt.Sprintf("exec 3<>/dev/tcp/%s/%d || exit 1; echo connected; head -n1 <&3", addr, p)), p)
	}
	return b.String()
}

type bannerAnswer struct {
	connected bool
	line      string
}

// parseBannerProbe reads bannerProbeScript's output.
func parseBannerProbe(out string) map[int]bannerAnswer {
	m := map[int]bannerAnswer{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		p, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		a := bannerAnswer{}
		if len(f) > 1 && f[1] == "connected" {
			a.connected, a.line = true, strings.Join(f[2:], " ")
		}
		m[p] = a
	}
	return m
}
