package upgrade_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// mirror serves k0s binaries over HTTP on the test bed's network (the
// machine's Gateway address, which every host reaches), as a site's
// mirror would; bodies maps a path to its content.
type mirror struct {
	url  string
	hits atomic.Int64
	// served counts the bytes of the bodies served: the mirror runs on
	// the test machine, so its traffic leaves through the same interface
	// as the operator's (BenchmarkDelivery subtracts it).
	served atomic.Int64
	mu     sync.Mutex
	body   map[string][]byte
}

func startMirror(t testing.TB, b *bed, body map[string][]byte) *mirror {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(b.c.Network.Gateway, "0"))
	require.NoError(t, err)
	m := &mirror{url: "http://" + l.Addr().String(), body: body}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		m.mu.Lock()
		data, ok := m.body[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		n, _ := w.Write(data)
		m.served.Add(int64(n))
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// deliveryOnly keeps only the k0s-binary steps of p: the delivery as the
// upgrade runs it when nothing was staged (a resume), in the same stages,
// lanes and order, without the rest.
func deliveryOnly(p *plan.Plan) *plan.Plan { return stepsOnly(p, "k0s-binary") }

// stagedDelivery keeps the k0s-upload and k0s-binary steps of p: the
// delivery to the staged path before the outage, then the activation.
func stagedDelivery(p *plan.Plan) *plan.Plan { return stepsOnly(p, "k0s-upload", "k0s-binary") }

// stepsOnly keeps only the steps of p named names.
func stepsOnly(p *plan.Plan, names ...string) *plan.Plan {
	out := &plan.Plan{}
	for _, st := range p.Stages {
		var lanes [][]*plan.Step
		for _, lane := range st.Lanes {
			var keep []*plan.Step
			for _, s := range lane {
				if slices.Contains(names, s.Name) {
					keep = append(keep, s)
				}
			}
			if len(keep) > 0 {
				lanes = append(lanes, keep)
			}
		}
		if len(lanes) > 0 {
			out.Stages = append(out.Stages, &plan.Stage{Name: st.Name, Phase: st.Phase, Lanes: lanes})
		}
	}
	return out
}

// requireK0s checks that every node has exactly the binary want at
// K0sBinaryPath, 0755, and no temporary file next to it.
func (b *bed) requireK0s(t *testing.T, want []byte) {
	t.Helper()
	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "sha256sum < "+testbed.K0sBinaryPath+"; stat -c %a "+testbed.K0sBinaryPath+"; ls -A /usr/local/bin | grep -c '^.k0s.mke-migrate.' || true")
		require.NoError(t, err, h.Name)
		f := strings.Fields(out)
		require.Len(t, f, 4, "%s: %q", h.Name, out)
		require.Equal(t, sha(want), f[0], h.Name)
		require.Equal(t, "755", f[2], h.Name)
		require.Equal(t, "0", f[3], "%s: temporary files left", h.Name)
	}
}

// url mode: every node downloads k0s from the mirror itself (the URL's
// %p is its architecture); this machine sends no binary, only commands.
// A second run finds the binary in place and downloads nothing again.
func TestDeliveryURL(t *testing.T) {
	b := startBed(t, 2)
	bin := b.k0s
	m := startMirror(t, b, map[string][]byte{"/k0s/k0s-amd64": bin})
	o := b.options(t, t.TempDir())
	o.K0sBinary = nil // only the checksum: nothing to upload
	o.Delivery = upgrade.Delivery{Mode: upgrade.DeliveryURL, URL: m.url + "/k0s/k0s-%p", SHA256: sha(bin)}
	u, p := discoverAndPlan(t, o)
	res, err := u.Apply(t.Context(), p)
	require.NoError(t, err)
	b.requireUpgraded(t)
	require.EqualValues(t, len(b.hosts), m.hits.Load(), "one download per node")
	for h, n := range res.BytesSent {
		require.Less(t, n, int64(len(bin))/10, "%s: %d bytes sent from this machine", h, n)
	}
}

// Checksum mismatch: a mirror serving another binary fails a node that
// downloads it before the outage (k0s-upload), naming the host; nothing
// of the download is installed and the rollback leaves every node as it
// was.
func TestDeliveryURLChecksumMismatch(t *testing.T) {
	b := startBed(t, 1)
	m := startMirror(t, b, map[string][]byte{"/k0s": []byte("not the k0s you are looking for")})
	o := b.options(t, t.TempDir())
	o.Delivery = upgrade.Delivery{Mode: upgrade.DeliveryURL, URL: m.url + "/k0s"}
	u, p := discoverAndPlan(t, o)
	_, err := u.Apply(t.Context(), p)
	se := requireRolledBack(t, err, "k0s-upload") // the mismatch is found before the outage
	var ce *upgrade.K0sChecksumError
	require.ErrorAs(t, err, &ce)
	// the nodes download in k0s-upload's lanes, side by side: whichever
	// finishes first fails the stage
	require.Equal(t, se.Host, ce.Host)
	keys := []string{}
	for _, h := range b.c.Hosts {
		keys = append(keys, b.key(h.Name))
	}
	require.Contains(t, keys, ce.Host)
	require.Equal(t, sha(b.k0s), ce.Want)
	require.Equal(t, sha([]byte("not the k0s you are looking for")), ce.Got)
	require.Contains(t, err.Error(), ce.Host)
	require.Equal(t, b.baseline, b.digests(t))
}

// peer mode, before the outage (k0s-upload) then moved into place
// (k0s-binary): this machine uploads the binary once; every other node
// copies it from a node that has it, verified there; the bytes sent from
// this machine are about one binary, whatever the number of nodes. A
// second run (a resume of the delivery) sends no binary again.
func TestDeliveryPeer(t *testing.T) {
	b := startBed(t, 4)
	o := b.options(t, t.TempDir())
	o.Delivery = upgrade.Delivery{Mode: upgrade.DeliveryPeer, PeerFanout: 2}
	u, p := discoverAndPlan(t, o)
	res, err := u.Apply(t.Context(), stagedDelivery(p))
	require.NoError(t, err)
	b.requireK0s(t, b.k0s)
	var total int64
	for _, n := range res.BytesSent {
		total += n
	}
	t.Logf("peer delivery to %d nodes: %d bytes sent from this machine, the binary is %d", len(b.hosts), total, len(b.k0s))
	require.Less(t, total, int64(len(b.k0s))*3/2, "more than one binary sent from this machine")
	rs, err := journal.Read(o.OutputDir)
	require.NoError(t, err)
	st := journal.Replay(rs)
	copied := 0
	for _, h := range b.hosts {
		if src := st.Data("k0s-upload", h.String())["copied-from"]; src != "" {
			copied++
			require.NotEqual(t, h.String(), src)
		}
	}
	require.Equal(t, len(b.hosts)-1, copied, "every node but the first copies from a peer")
	// no one-shot server nor its folder left, nor a staged copy (moved into place)
	for _, h := range b.c.Hosts {
		out, err := b.c.Exec(t.Context(), h, "ls -d /var/lib/mke-migrate/peer-* /var/lib/mke-migrate/k0s.staged 2>/dev/null; pgrep -f 'openssl [s]_server' || true")
		require.NoError(t, err)
		require.Empty(t, strings.TrimSpace(out), h.Name)
	}

	// a run that finds the binaries in place sends none again
	o2 := b.options(t, t.TempDir())
	o2.Delivery = o.Delivery
	u2, p2 := discoverAndPlan(t, o2)
	res, err = u2.Apply(t.Context(), stagedDelivery(p2))
	require.NoError(t, err)
	for h, n := range res.BytesSent {
		require.Less(t, n, int64(len(b.k0s))/10, "%s: the binary was sent again", h)
	}
	b.requireK0s(t, b.k0s)
	// the rollbacks of both runs leave every node as it was
	_, err = u2.Rollback(t.Context(), stagedDelivery(p2))
	require.NoError(t, err)
	_, err = u.Rollback(t.Context(), stagedDelivery(p))
	require.NoError(t, err)
	require.Equal(t, b.baseline, b.digests(t))
}

// toolFault replaces tool on host (in /usr/local/sbin, first on root's
// PATH) by a wrapper that, once, fails, drops the SSH connection (SIGKILL
// to the session's sshd processes, as testbed faults do) or hangs; then
// the real tool runs. The hang touches /tmp/fault-hung first and ends
// when the SSH session is closed.
func (b *bed) toolFault(t *testing.T, host, tool string, kind faultKind) {
	t.Helper()
	var act string
	switch kind {
	case kindFail:
		act = "echo injected failure >&2; exit 7"
	case kindClose:
		act = `p=$PPID; while [ "$p" -gt 1 ]; do c=$(cat /proc/$p/comm); case $c in sshd|sshd-session) kill -9 $p;; esac; p=$(awk '/^PPid:/{print $2}' /proc/$p/status); done; exit 255`
	case kindHang:
		// as testbed's hang: until the caller goes away (a write to the
		// closed session's stderr ends it) or 120 s
		act = "touch /tmp/fault-hung; i=0; while [ $i -lt 1200 ]; do sleep 0.1; printf . >&2 || exit 129; i=$((i+1)); done"
	default:
		return
	}
	script := fmt.Sprintf("#!/bin/sh\nif [ -e /tmp/fault-used-%s ]; then exec /usr/bin/%s \"$@\"; fi\ntouch /tmp/fault-used-%s\n%s\n", tool, tool, tool, act)
	_, err := b.c.Exec(t.Context(), b.c.Host(host), "mkdir -p /usr/local/sbin && cat > /usr/local/sbin/"+tool+" <<'EOF'\n"+script+"EOF\nchmod 755 /usr/local/sbin/"+tool)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = b.c.Exec(context.Background(), b.c.Host(host), "rm -f /usr/local/sbin/"+tool+" /tmp/fault-used-"+tool+" /tmp/fault-hung")
	})
}

// endWhenToolHung ends the step under a tool's hang as its timeout would,
// once the wrapper says the hang began.
func (b *bed) endWhenToolHung(t *testing.T, pl *plan.Plan, step, host, on string) {
	t.Helper()
	b.endStepWhen(t, pl, step+"@"+b.key(host), func(ctx context.Context) bool {
		_, err := b.c.Exec(ctx, b.c.Host(on), "test -e /tmp/fault-hung")
		return err == nil
	})
}

// Faults in the new commands of the k0s-binary step. url mode: the
// node's download fails, drops the connection, hangs or the run is
// cancelled: the run rolls back to the exact MKE 3 state. peer mode: the
// server (openssl on the peer) or the copy (curl on the node) fails or
// drops the connection: the node gets the binary uploaded instead and
// the run completes; a hang or a cancel rolls back. The k0s-binary steps
// run alone, in the upgrade's stages (8 cases, about 4 minutes on 2
// busy cores).
func TestDeliveryFaults(t *testing.T) {
	b := startBed(t, 2)
	m := startMirror(t, b, map[string][]byte{"/k0s": b.k0s})
	type tc struct {
		mode           upgrade.DeliveryMode
		tool, on       string // the faulty tool and its node
		kind           faultKind
		rollsBack      bool
		step, stepHost string
	}
	var cases []tc
	for _, k := range []faultKind{kindFail, kindClose, kindHang, kindCancel} {
		cases = append(cases, tc{upgrade.DeliveryURL, "curl", "worker-2", k, true, "k0s-binary", "worker-2"})
	}
	cases = append(cases, tc{upgrade.DeliveryPeer, "openssl", "manager-1", kindFail, false, "k0s-binary", "manager-2"},
		tc{upgrade.DeliveryPeer, "curl", "worker-1", kindClose, false, "k0s-binary", "worker-1"})
	cases = append(cases, tc{upgrade.DeliveryPeer, "curl", "manager-3", kindHang, true, "k0s-binary", "manager-3"},
		tc{upgrade.DeliveryPeer, "", "worker-2", kindCancel, true, "k0s-binary", "worker-2"})
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s@%s/%s", c.mode, c.tool, c.on, c.kind), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			o := b.options(t, t.TempDir())
			o.SkipRBAC = true
			o.Delivery = upgrade.Delivery{Mode: c.mode, PeerFanout: 1}
			if c.mode == upgrade.DeliveryURL {
				o.Delivery.URL = m.url + "/k0s"
			}
			if c.kind == kindCancel {
				o.Events = b.inject(t, faultPoint{step: c.step, host: c.stepHost}, kindCancel, cancel)
			} else {
				b.toolFault(t, c.on, c.tool, c.kind)
			}
			// the delivery alone (the other steps have their own fault
			// matrix): a case costs seconds, not a whole upgrade
			u, pl := discoverAndPlan(t, o)
			pl = deliveryOnly(pl)
			if c.kind == kindHang {
				b.endWhenToolHung(t, pl, c.step, c.stepHost, c.on)
			}
			res, err := u.Apply(ctx, pl)
			if !c.rollsBack {
				require.NoError(t, err)
				b.requireK0s(t, b.k0s)
				require.Greater(t, res.BytesSent[b.key(c.stepHost)], int64(len(b.k0s)), "the node got no upload instead")
				_, err = u.Rollback(t.Context(), pl)
				require.NoError(t, err)
				require.Equal(t, b.baseline, b.digests(t))
				return
			}
			if c.kind == kindCancel {
				requireRolledBack(t, err, "")
			} else {
				se := requireRolledBack(t, err, c.step)
				require.Equal(t, b.key(c.stepHost), se.Host)
			}
			require.Equal(t, b.baseline, b.digests(t), "a node differs from its MKE 3 state after the rollback")
		})
	}
}
