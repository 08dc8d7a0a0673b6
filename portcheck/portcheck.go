// Package portcheck probes, before anything changes, the TCP ports the new
// cluster needs between its nodes: from each node to each other node the
// ports k0s and MKE 4k use for that pair of roles, and to the load
// balancer its 6443 and 9443. On each destination, a port some process
// already listens on is reported as held (with the process's name, from
// ss); a free one gets a short-lived listener of ours, and each source
// connects to it: ok, or blocked (refused or timed out: a firewall, a
// route). A destination without a tool to listen with is untested.
package portcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// Roles of Host.
const (
	Controller = "controller" // an MKE 3 manager: a k0s controller+worker
	Worker     = "worker"
)

// Port is a port the new cluster needs on a node of role To, reached from
// nodes of role From ("" for any role).
type Port struct {
	Number   int    `json:"port"`
	From, To string `json:"-"`
	What     string `json:"what"`
}

// DefaultPorts are k0s's required ports and protocols (k0s
// docs/networking.md, "Controller-worker communication" and "Required
// ports and protocols"), TCP only: UDP (Calico's VXLAN 4789) cannot be
// probed by a connect. MKE 3 managers become controller+worker nodes, so
// a controller also takes every worker port.
var DefaultPorts = []Port{
	{2380, Controller, Controller, "etcd peers"},
	{9443, Controller, Controller, "k0s join API"},
	{6443, "", Controller, "Kubernetes API"},
	{8132, "", Controller, "konnectivity"},
	{10250, "", "", "kubelet"},
	{179, "", "", "Calico BGP"},
}

// DefaultLBPorts are the load balancer's ports every node must reach:
// the Kubernetes API and k0s's join API (workers and joining controllers
// use the external address for both).
var DefaultLBPorts = []int{6443, 9443}

// Host is a node to check.
type Host struct {
	Key     string // how Nodes names it (address:port)
	Address string // what other nodes connect to
	Role    string // Controller or Worker
}

// Verdict of a probe.
type Verdict string

const (
	OK       Verdict = "ok"
	Blocked  Verdict = "blocked"
	Held     Verdict = "held"
	Untested Verdict = "untested"
)

// Result is one probe: From (a host key) to To (a host key, or the load
// balancer's address) on Port.
type Result struct {
	From    string  `json:"from"`
	To      string  `json:"to"`
	Port    int     `json:"port"`
	What    string  `json:"what"`
	Verdict Verdict `json:"verdict"`
	// Process holds the port (Held).
	Process string `json:"process,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Nodes reaches the hosts (the upgrade's connections, or new ones).
type Nodes interface {
	Node(ctx context.Context, host string) (hosts.Node, error)
}

// Options of Check.
type Options struct {
	Hosts []Host
	Nodes Nodes
	// LB is the load balancer's address ("" for none); LBPorts default to
	// DefaultLBPorts, Ports to DefaultPorts.
	LB      string
	LBPorts []int
	Ports   []Port
	// ConnectTimeout bounds each connect (default 3 s); ListenFor bounds
	// our listeners' life if they are not stopped (default 5 minutes).
	ConnectTimeout, ListenFor time.Duration
	Concurrency               int
	// Neighbours, when positive, has each host probe only the next
	// Neighbours hosts of Hosts (wrapping around), not every other one:
	// every host is then probed from as many sources, with one remote
	// command per source and destination instead of n×(n-1) in all (a
	// sample, for a check every run makes; 0 probes every pair).
	Neighbours int
	Logger     *slog.Logger
}

// Report is what Check found.
type Report struct {
	Results []Result `json:"results"`
}

// Failed are the results that are neither ok nor untested.
func (r *Report) Failed() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Verdict == Blocked || x.Verdict == Held {
			out = append(out, x)
		}
	}
	return out
}

// WriteText writes one line per probe that is not ok, then a count.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	ok := 0
	for _, x := range r.Results {
		if x.Verdict == OK {
			ok++
			continue
		}
		detail := x.Detail
		if x.Process != "" {
			detail = "by " + x.Process
		}
		fmt.Fprintf(tw, "%s\t-> %s:%d\t(%s)\t%s\t%s\n", x.From, x.To, x.Port, x.What, x.Verdict, detail)
	}
	fmt.Fprintf(tw, "%d of %d probes ok\n", ok, len(r.Results))
	return tw.Flush()
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

func needs(p Port, from, to string) bool {
	role := func(want, have string) bool {
		return want == "" || want == have || (want == Worker && have == Controller)
	}
	return role(p.From, from) && role(p.To, to)
}

// ssUsersRe is the first process of an ss -p users:(("name",pid=1,fd=3)) column.
var ssUsersRe = regexp.MustCompile(`users:\(\("([^"]+)"`)

// parseListeners reads ss -ltnpH: port → process name ("" when ss does
// not say).
func parseListeners(out string) map[int]string {
	m := map[int]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		local := f[3] // State Recv-Q Send-Q Local Peer [Process]
		i := strings.LastIndex(local, ":")
		if i < 0 {
			continue
		}
		port, err := strconv.Atoi(local[i+1:])
		if err != nil {
			continue
		}
		name := ""
		if sm := ssUsersRe.FindStringSubmatch(l); sm != nil {
			name = sm[1]
		}
		if old, ok := m[port]; !ok || old == "" {
			m[port] = name
		}
	}
	return m
}

// listenPerl and listenPython are our listener: bound to every port
// given (after the seconds to live and the banner), they print "ready",
// then accept every connection, write the banner line (if any) and close
// it, until the time is up. perl comes first: perl-base is Essential on
// Debian and Ubuntu (IO::Socket::INET and IO::Select are in it), where
// python3 may be missing; python3 is the fallback (RHEL's minimal
// installs have it, not perl). There is no listener in POSIX sh.
const (
	listenPerl = `use IO::Socket::INET; use IO::Select;
my ($secs, $banner, @ports) = @ARGV; my $sel = IO::Select->new;
for my $p (@ports) { my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $p, Proto => "tcp", Listen => 64, ReuseAddr => 1) or die "port $p: $!\n"; $sel->add($s); }
$| = 1; print "ready\n"; my $end = time + $secs;
while (time < $end) { for my $l ($sel->can_read(0.5)) { my $c = $l->accept or next; print $c "$banner\n" if length $banner; close $c; } }`
	listenPython = `import socket,select,sys,time
secs,banner,ports=int(sys.argv[1]),sys.argv[2],[int(p) for p in sys.argv[3:]]
ss=[]
for p in ports:
 s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('0.0.0.0',p));s.listen(64);ss.append(s)
print('ready',flush=True)
end=time.time()+secs
while time.time()<end:
 r,_,_=select.select(ss,[],[],0.5)
 for s in r:
  c,_=s.accept()
  if banner: c.sendall((banner+'\n').encode())
  c.close()`
)

// listenScript starts our listener on ports for secs seconds in the
// background, with perl or else python3, and prints its pid once it
// listens on every port; "none" when the host has neither, "failed" when
// it did not start (a port taken since ss looked). It waits for the
// listener's "ready", not a fixed time: a busy host may take long to
// start it (10 s at most, a safety net).
func listenScript(ports []int, secs int, banner string) string {
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	args := strconv.Itoa(secs) + " " + shell.Quote(banner) + " " + strings.Join(ps, " ")
	return "# ports: " + strings.Join(ps, " ") + "\nf=$(mktemp) || exit 1\n" +
		"if command -v perl >/dev/null 2>&1 && perl -MIO::Socket::INET -MIO::Select -e 1 2>/dev/null; then nohup perl -e " + shell.Quote(listenPerl) + " " + args + " >\"$f\" 2>&1 &\n" +
		"elif command -v python3 >/dev/null 2>&1; then nohup python3 -c " + shell.Quote(listenPython) + " " + args + " >\"$f\" 2>&1 &\n" +
		"else rm -f \"$f\"; echo none; exit 0; fi\n" +
		"pid=$!; i=0\n" +
		"while [ $i -lt 100 ]; do if grep -qx ready \"$f\"; then rm -f \"$f\"; echo $pid; exit 0; fi; kill -0 $pid 2>/dev/null || break; sleep 0.1; i=$((i+1)); done\n" +
		"rm -f \"$f\"; kill $pid 2>/dev/null; echo failed"
}

// stopScript ends our listener pid and waits (5 s at most) until it is
// gone, so that its ports are free again when the caller goes on.
func stopScript(pid string) string {
	p := shell.Word(pid)
	return "kill " + p + " 2>/dev/null; i=0; while kill -0 " + p + " 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; true"
}

// probeScript connects to addr on each port with bash's /dev/tcp (timeout
// secs) and prints "PORT ok" or "PORT fail", the ports at once: behind a
// firewall that drops them, the script takes secs, not secs per port.
func probeScript(addr string, ports []int, secs int) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "{ if timeout %d bash -c %s 2>/dev/null; then echo '%d ok'; else echo '%d fail'; fi; } & ", secs,
			shell.Quote(fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", addr, p)), p, p)
	}
	return b.String() + "wait"
}

// parallel runs f(0)…f(n-1), at most conc at once.
func parallel(n, conc int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, conc)
	for i := range n {
		wg.Go(func() { sem <- struct{}{}; defer func() { <-sem }(); f(i) })
	}
	wg.Wait()
}

// listening is what listen found and started on a host.
type listening struct {
	held map[int]string // port → process (ss)
	ours []int          // the ports our listener holds
	pid  string         // our listener's, "" when none runs
	err  string         // why no listener runs, when one should
}

// listen reads what listens on host (ss) and starts our listener, with
// banner, on the ports of want that are free there.
func listen(ctx context.Context, nodes Nodes, host string, want []int, life time.Duration, banner string) listening {
	var l listening
	n, err := nodes.Node(ctx, host)
	if err != nil {
		l.err = err.Error()
		return l
	}
	out, err := n.Exec(ctx, "ss -ltnpH", hosts.WithSudo())
	if err != nil {
		l.err = "ss: " + err.Error()
		return l
	}
	l.held = parseListeners(out)
	var free []int
	for _, p := range want {
		if _, held := l.held[p]; !held && !slices.Contains(free, p) {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		return l
	}
	pid, err := n.Exec(ctx, shell.Sudo(listenScript(free, int(life/time.Second), banner)), hosts.WithSudo())
	switch {
	case err != nil:
		l.err = "listener: " + err.Error()
	case pid == "none":
		l.err = "neither perl nor python3 on the host to listen with"
	case pid == "failed" || pid == "":
		l.err = "our listener did not start"
	default:
		l.pid, l.ours = pid, free
	}
	return l
}

// stop ends the listener l started on host, if any, even after ctx ended.
func (l listening) stop(ctx context.Context, nodes Nodes, host string) {
	if l.pid == "" {
		return
	}
	c := context.WithoutCancel(ctx)
	if n, err := nodes.Node(c, host); err == nil {
		_, _ = n.Exec(c, shell.Sudo(stopScript(l.pid)), hosts.WithSudo())
	}
}

// Check probes every pair. Errors reaching a host become results
// (untested), not an error; the error is for bad options only.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.Nodes == nil || len(o.Hosts) == 0 {
		return nil, fmt.Errorf("portcheck: no hosts")
	}
	if o.Ports == nil {
		o.Ports = DefaultPorts
	}
	if o.LBPorts == nil {
		o.LBPorts = DefaultLBPorts
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 3 * time.Second
	}
	if o.ListenFor <= 0 {
		o.ListenFor = 5 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secs := max(1, int(o.ConnectTimeout/time.Second))
	dests := make([]listening, len(o.Hosts))
	portsOn := func(to Host) []Port {
		var out []Port
		for _, p := range o.Ports {
			for _, from := range o.Hosts {
				if from.Key != to.Key && needs(p, from.Role, to.Role) {
					out = append(out, p)
					break
				}
			}
		}
		return out
	}
	// 1. what listens where, and our listeners on the free ports
	parallel(len(o.Hosts), o.Concurrency, func(i int) {
		h := o.Hosts[i]
		var want []int
		for _, p := range portsOn(h) {
			want = append(want, p.Number)
		}
		dests[i] = listen(ctx, o.Nodes, h.Key, want, o.ListenFor, "")
	})
	defer func() {
		for i, d := range dests {
			d.stop(ctx, o.Nodes, o.Hosts[i].Key)
		}
	}()
	// 2. from every source, to every other node and the load balancer
	var mu sync.Mutex
	rep := &Report{}
	add := func(r Result) { mu.Lock(); rep.Results = append(rep.Results, r); mu.Unlock() }
	parallel(len(o.Hosts), o.Concurrency, func(i int) {
		src := o.Hosts[i]
		n, nerr := o.Nodes.Node(ctx, src.Key)
		probe := func(addr, to string, ports []Port) {
			var nums []int
			for _, p := range ports {
				nums = append(nums, p.Number)
			}
			res := map[int]string{}
			var perr error
			if nerr == nil {
				var out string
				out, perr = n.Exec(ctx, probeScript(addr, nums, secs))
				for _, l := range strings.Split(out, "\n") {
					if f := strings.Fields(l); len(f) == 2 {
						if p, err := strconv.Atoi(f[0]); err == nil {
							res[p] = f[1]
						}
					}
				}
			} else {
				perr = nerr
			}
			for _, p := range ports {
				r := Result{From: src.Key, To: to, Port: p.Number, What: p.What}
				switch {
				case perr != nil:
					r.Verdict, r.Detail = Untested, "source: "+perr.Error()
				case res[p.Number] == "ok":
					r.Verdict = OK
				default:
					r.Verdict, r.Detail = Blocked, fmt.Sprintf("no connection within %ds", secs)
				}
				add(r)
			}
		}
		for j, dst := range o.Hosts {
			if j == i || o.Neighbours > 0 && (j-i+len(o.Hosts))%len(o.Hosts) > o.Neighbours {
				continue
			}
			d := dests[j]
			var probeable []Port
			for _, p := range o.Ports {
				if !needs(p, src.Role, dst.Role) {
					continue
				}
				r := Result{From: src.Key, To: dst.Key, Port: p.Number, What: p.What}
				if name, held := d.held[p.Number]; held {
					r.Verdict, r.Process = Held, name
					if name == "" {
						r.Process = "a process ss does not name"
					}
					add(r)
					continue
				}
				if d.pid == "" {
					r.Verdict, r.Detail = Untested, "destination: "+d.err
					add(r)
					continue
				}
				probeable = append(probeable, p)
			}
			if len(probeable) > 0 {
				probe(dst.Address, dst.Key, probeable)
			}
		}
		if o.LB != "" {
			var lb []Port
			for _, p := range o.LBPorts {
				lb = append(lb, Port{Number: p, What: "load balancer"})
			}
			probe(o.LB, o.LB, lb)
		}
	})
	slices.SortFunc(rep.Results, func(a, b Result) int {
		return strings.Compare(fmt.Sprintf("%s %s %05d", a.From, a.To, a.Port), fmt.Sprintf("%s %s %05d", b.From, b.To, b.Port))
	})
	log.Debug("ports checked", "probes", len(rep.Results), "failed", len(rep.Failed()))
	return rep, nil
}
