package portcheck

import (
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

// lbNet simulates what ThroughLB sees: what each backend holds, whether
// our listener starts there, and what a source reads through the load
// balancer on each port ("" refused, "accept" accepted and closed
// without data, "ours" our listener's banner, "other" another process's
// answer).
type lbNet struct {
	mu      sync.Mutex
	held    map[string]map[int]string
	noTool  map[string]bool
	through map[int]string
	banner  string
	stopped []string
}

type lbNode struct {
	n   *lbNet
	key string
}

var bannerRe = regexp.MustCompile(`mke-migrate-portcheck [0-9a-f]+`)

func (nd lbNode) Exec(_ context.Context, cmd string, _ ...hosts.ExecOption) (string, error) {
	n := nd.n
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case cmd == "ss -ltnpH":
		var b strings.Builder
		for p, name := range n.held[nd.key] {
			b.WriteString("LISTEN 0 4096 *:" + itoa(p) + " *:* users:((\"" + name + "\",pid=99,fd=7))\n")
		}
		return b.String(), nil
	case strings.Contains(cmd, "# ports: "):
		if n.noTool[nd.key] {
			return "none", nil
		}
		n.banner = bannerRe.FindString(cmd)
		return "4242", nil
	case strings.Contains(cmd, "kill 4242"):
		n.stopped = append(n.stopped, nd.key)
		return "", nil
	case strings.Contains(cmd, "/dev/tcp/"):
		var out []string
		for _, m := range probeRe.FindAllStringSubmatch(cmd, -1) {
			line := m[2]
			switch n.through[atoi(m[2])] {
			case "accept":
				line += " connected"
			case "ours":
				line += " connected " + n.banner
			case "other":
				line += " connected SSH-2.0-something"
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n"), nil
	}
	return "", errors.New("unexpected command: " + cmd)
}

func (lbNode) Upload(context.Context, []byte, string, fs.FileMode, bool) error { return nil }
func (lbNode) ReadFile(context.Context, string, bool) ([]byte, error)          { return nil, nil }

func (n *lbNet) Node(_ context.Context, key string) (hosts.Node, error) { return lbNode{n, key}, nil }

func TestThroughLB(t *testing.T) {
	backends := []Host{{Key: "m1", Address: "10.0.0.1"}, {Key: "m2", Address: "10.0.0.2"}}
	probes := []LBProbe{{From: "m2", Port: 9443}, {From: "w1", Port: 6443}}
	for name, tc := range map[string]struct {
		held    map[string]map[int]string
		noTool  map[string]bool
		through map[int]string
		want    map[int]Verdict
	}{
		"forwarded to our listeners": {through: map[int]string{9443: "ours", 6443: "ours"},
			want: map[int]Verdict{9443: OK, 6443: OK}},
		"9443 not forwarded (refused)": {through: map[int]string{6443: "ours"},
			want: map[int]Verdict{9443: Blocked, 6443: OK}},
		"accepted but no backend answers": {through: map[int]string{9443: "accept", 6443: "ours"},
			want: map[int]Verdict{9443: Blocked, 6443: OK}},
		"6443 held by MKE 3 on every manager: a connection is enough": {
			held:    map[string]map[int]string{"m1": {6443: "ucp-controller"}, "m2": {6443: "ucp-controller"}},
			through: map[int]string{9443: "ours", 6443: "other"}, want: map[int]Verdict{9443: OK, 6443: OK}},
		"9443 held on one manager: another's answer is no proof": {
			held:    map[string]map[int]string{"m2": {9443: "nginx"}},
			through: map[int]string{9443: "other", 6443: "ours"}, want: map[int]Verdict{9443: Untested, 6443: OK}},
		"no tool to listen with": {noTool: map[string]bool{"m1": true, "m2": true},
			through: map[int]string{9443: "accept", 6443: "accept"}, want: map[int]Verdict{9443: Untested, 6443: Untested}},
	} {
		t.Run(name, func(t *testing.T) {
			n := &lbNet{held: tc.held, noTool: tc.noTool, through: tc.through}
			rep, err := ThroughLB(t.Context(), LBOptions{LB: "192.0.2.10", Backends: backends, Probes: probes, Nodes: n})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(probes) {
				t.Fatalf("%d results for %d probes", len(rep.Results), len(probes))
			}
			for _, r := range rep.Results {
				if r.Verdict != tc.want[r.Port] {
					t.Errorf("port %d from %s: %s (%s), want %s", r.Port, r.From, r.Verdict, r.Detail, tc.want[r.Port])
				}
				if r.To != "192.0.2.10" {
					t.Errorf("To = %q", r.To)
				}
			}
			// every listener started is stopped
			started := 0
			for _, b := range backends {
				if !tc.noTool[b.Key] && len(tc.held[b.Key]) < 2 {
					started++
				}
			}
			if len(n.stopped) != started {
				t.Errorf("stopped %v, want %d listeners stopped", n.stopped, started)
			}
		})
	}
	if _, err := ThroughLB(t.Context(), LBOptions{Backends: backends, Nodes: &lbNet{}}); err == nil {
		t.Error("no load balancer: want an error")
	}
}

// parseBannerProbe never panics, and reads only ports the output names.
func FuzzParseBannerProbe(f *testing.F) {
	for _, s := range []string{"9443 connected mke-migrate-portcheck 0011\n6443\n", "6443 connected", "x y z", "", "9443 connected\n9443"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for p, a := range parseBannerProbe(s) {
			if !strings.Contains(s, strconv.Itoa(p)) {
				t.Fatalf("port %d not in %q", p, s)
			}
			if !a.connected && a.line != "" {
				t.Fatalf("a line without a connection: %+v", a)
			}
		}
	})
}
