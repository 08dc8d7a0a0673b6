package portcheck

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// net is a simulated network: which ports each host holds (port →
// process), which host has python3, and which (from, to, port) a
// firewall drops. Our listeners make a port reachable, as a real one
// would.
type net struct {
	mu        sync.Mutex
	addr      map[string]string // address → host key
	held      map[string]map[int]string
	noPython  map[string]bool
	dropped   map[[3]string]bool // from key, to address, port
	listening map[string][]int
	killed    []string
}

type node struct {
	n   *net
	key string
}

var (
	listenPortsRe = regexp.MustCompile(`# ports: ([0-9 ]+)`)
	probeRe       = regexp.MustCompile(`/dev/tcp/([^/]+)/([0-9]+)`)
)

func (nd node) Exec(_ context.Context, cmd string, _ ...hosts.ExecOption) (string, error) {
	n := nd.n
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case cmd == "ss -ltnpH":
		var b strings.Builder
		b.WriteString("LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=41,fd=3))\n")
		for p, name := range n.held[nd.key] {
			b.WriteString("LISTEN 0 4096 *:" + itoa(p) + " *:* users:((\"" + name + "\",pid=99,fd=7))\n")
		}
		return b.String(), nil
	case strings.Contains(cmd, "python3"):
		if n.noPython[nd.key] {
			return "none", nil
		}
		sm := listenPortsRe.FindStringSubmatch(cmd)
		for _, p := range strings.Fields(sm[1]) {
			n.listening[nd.key] = append(n.listening[nd.key], atoi(p))
		}
		return "4242", nil
	case strings.Contains(cmd, "kill 4242"):
		n.killed = append(n.killed, nd.key)
		return "", nil
	case strings.Contains(cmd, "/dev/tcp/"):
		var out []string
		for _, m := range probeRe.FindAllStringSubmatch(cmd, -1) {
			to, port := m[1], atoi(m[2])
			ok := !n.dropped[[3]string{nd.key, to, m[2]}]
			if k, isHost := n.addr[to]; isHost {
				_, held := n.held[k][port]
				ok = ok && (held || contains(n.listening[k], port))
			}
			v := "fail"
			if ok {
				v = "ok"
			}
			out = append(out, m[2]+" "+v)
		}
		return strings.Join(out, "\n"), nil
	}
	return "", errors.New("unexpected command: " + cmd)
}
func (node) Upload(context.Context, []byte, string, fs.FileMode, bool) error { return nil }
func (node) ReadFile(context.Context, string, bool) ([]byte, error)          { return nil, nil }

func (n *net) Node(_ context.Context, key string) (hosts.Node, error) {
	if strings.HasPrefix(key, "down") {
		return nil, errors.New("connection refused")
	}
	return node{n, key}, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	hs := []Host{{"m1:22", "10.0.0.1", Controller}, {"m2:22", "10.0.0.2", Controller}, {"w1:22", "10.0.0.3", Worker}}
	n := &net{addr: map[string]string{"10.0.0.1": "m1:22", "10.0.0.2": "m2:22", "10.0.0.3": "w1:22"},
		held:     map[string]map[int]string{"m1:22": {6443: "ucp-kube-apiser"}},
		noPython: map[string]bool{}, listening: map[string][]int{},
		dropped: map[[3]string]bool{{"w1:22", "10.0.0.2", "8132"}: true, {"w1:22", "lb.example.com", "9443"}: true}}
	rep, err := Check(context.Background(), Options{Hosts: hs, Nodes: n, LB: "lb.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	find := func(from, to string, port int) Result {
		t.Helper()
		for _, r := range rep.Results {
			if r.From == from && r.To == to && r.Port == port {
				return r
			}
		}
		t.Fatalf("no probe %s -> %s:%d", from, to, port)
		return Result{}
	}
	if r := find("w1:22", "m1:22", 6443); r.Verdict != Held || r.Process != "ucp-kube-apiser" {
		t.Errorf("held port: %+v", r)
	}
	if r := find("w1:22", "m2:22", 8132); r.Verdict != Blocked {
		t.Errorf("dropped port: %+v", r)
	}
	if r := find("w1:22", "m2:22", 6443); r.Verdict != OK {
		t.Errorf("open port: %+v", r)
	}
	if r := find("m1:22", "m2:22", 2380); r.Verdict != OK {
		t.Errorf("etcd peers: %+v", r)
	}
	if r := find("w1:22", "lb.example.com", 9443); r.Verdict != Blocked {
		t.Errorf("load balancer 9443: %+v", r)
	}
	if r := find("m2:22", "lb.example.com", 6443); r.Verdict != OK {
		t.Errorf("load balancer 6443: %+v", r)
	}
	for _, r := range rep.Results {
		if r.To == "w1:22" && (r.Port == 2380 || r.Port == 9443 || r.Port == 6443) {
			t.Errorf("a controller port probed on a worker: %+v", r)
		}
	}
	if len(n.killed) != 3 {
		t.Errorf("listeners stopped on %v, want all three hosts", n.killed)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "held") || !strings.Contains(text.String(), "by ucp-kube-apiser") || !strings.Contains(text.String(), "probes ok") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := rep.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"verdict": "blocked"`) {
		t.Errorf("json: %v\n%s", err, js.String())
	}
	// 6443 held on m1 from m2 and w1; 8132 w1->m2 and the LB's 9443 from w1
	if got := len(rep.Failed()); got != 4 {
		t.Errorf("%d failed probes, want 4: %+v", got, rep.Failed())
	}
}

// Neighbours: each host probes only the next hosts (wrapping around),
// so every host is a destination as often as a source.
func TestCheckNeighbours(t *testing.T) {
	hs := []Host{{"a:22", "10.0.0.1", Worker}, {"b:22", "10.0.0.2", Worker}, {"c:22", "10.0.0.3", Worker}, {"d:22", "10.0.0.4", Worker}}
	n := &net{addr: map[string]string{"10.0.0.1": "a:22", "10.0.0.2": "b:22", "10.0.0.3": "c:22", "10.0.0.4": "d:22"},
		held: map[string]map[int]string{}, noPython: map[string]bool{}, listening: map[string][]int{},
		dropped: map[[3]string]bool{{"d:22", "10.0.0.1", "19443"}: true}}
	rep, err := Check(context.Background(), Options{Hosts: hs, Nodes: n, Ports: []Port{{Number: 19443, What: "peer"}}, Neighbours: 2})
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]Verdict{}
	for _, r := range rep.Results {
		pairs[r.From+">"+r.To] = r.Verdict
	}
	want := map[string]Verdict{"a:22>b:22": OK, "a:22>c:22": OK, "b:22>c:22": OK, "b:22>d:22": OK,
		"c:22>d:22": OK, "c:22>a:22": OK, "d:22>a:22": Blocked, "d:22>b:22": OK}
	if len(pairs) != len(want) {
		t.Fatalf("probed %v, want %v", pairs, want)
	}
	for k, v := range want {
		if pairs[k] != v {
			t.Errorf("%s: %q, want %q", k, pairs[k], v)
		}
	}
}

func TestCheckUntested(t *testing.T) {
	hs := []Host{{"m1:22", "10.0.0.1", Controller}, {"down:22", "10.0.0.9", Worker}}
	n := &net{addr: map[string]string{"10.0.0.1": "m1:22"}, held: map[string]map[int]string{}, noPython: map[string]bool{"m1:22": true}, listening: map[string][]int{}}
	rep, err := Check(context.Background(), Options{Hosts: hs, Nodes: n})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Verdict != Untested {
			t.Errorf("%+v", r)
		}
	}
	if len(rep.Results) == 0 {
		t.Fatal("no results")
	}
}

func TestParseListeners(t *testing.T) {
	out := "LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:* users:((\"etcd\",pid=5,fd=7))\nLISTEN 0 4096 [::]:6443 [::]:* users:((\"kube-apiserver\",pid=6,fd=3))\nLISTEN 0 5 *:10250 *:*\ngarbage\n"
	m := parseListeners(out)
	if m[2379] != "etcd" || m[6443] != "kube-apiserver" {
		t.Fatalf("%v", m)
	}
	if name, ok := m[10250]; !ok || name != "" {
		t.Fatalf("%v", m)
	}
}
