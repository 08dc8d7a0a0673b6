package upgrade_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

// BenchmarkDelivery measures what this machine sends to get k0s onto
// every node, in each delivery mode, for 3 managers plus workers making
// MKE_MIGRATE_DELIVERY_NODES nodes in all (default "10,50,200"), with a
// k0s binary of MKE_MIGRATE_DELIVERY_MB random MiB (default 8). It runs
// the upgrade's k0s-binary steps alone (same stages, lanes and
// concurrency), then rolls them back before the next mode. Two counts:
// payload, the bytes the SSH client wrote to its sessions (command lines
// and standard input: upgrade.Result.BytesSent, Discover's commands
// included); wire, the bytes the machine's interface to the test bed's
// network sent during the delivery (SSH and TCP framing included, read
// from /sys/class/net/<iface>/statistics/tx_bytes around Apply, less the
// bodies the url mode's mirror served: it runs on this machine too, in
// place of a site's mirror). Each is
// reported per mode and as a ratio against upload in the same run.
//
//	go test ./upgrade -run '^$' -bench BenchmarkDelivery -benchtime 1x -timeout 60m
func BenchmarkDelivery(b *testing.B) {
	sizes := []int{10, 50, 200}
	if v := os.Getenv("MKE_MIGRATE_DELIVERY_NODES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err)
			require.GreaterOrEqual(b, n, 4, "3 managers and at least one worker")
			sizes = append(sizes, n)
		}
	}
	mb := 8
	if v, err := strconv.Atoi(os.Getenv("MKE_MIGRATE_DELIVERY_MB")); err == nil && v > 0 {
		mb = v
	}
	bin := make([]byte, mb<<20)
	_, _ = rand.Read(bin)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				bd := startBed(b, n-3)
				m := startMirror(b, bd, map[string][]byte{"/k0s": bin})
				payload, wire := map[upgrade.DeliveryMode]int64{}, map[upgrade.DeliveryMode]int64{}
				for _, mode := range []upgrade.DeliveryMode{upgrade.DeliveryUpload, upgrade.DeliveryURL, upgrade.DeliveryPeer} {
					o := bd.options(b, b.TempDir())
					o.K0sBinary = bin
					o.SkipRBAC = true
					o.Delivery = upgrade.Delivery{Mode: mode}
					if mode == upgrade.DeliveryURL {
						o.Delivery.URL = m.url + "/k0s"
					}
					u, p := discoverAndPlan(b, o)
					dp := deliveryOnly(p)
					tx0, served0 := txBytes(b, bd.c.Network.Interface), m.served.Load()
					start := time.Now()
					b.StartTimer()
					res, err := u.Apply(context.Background(), dp)
					b.StopTimer()
					took := time.Since(start)
					tx1 := txBytes(b, bd.c.Network.Interface)
					require.NoError(b, err, mode)
					for _, v := range res.BytesSent {
						payload[mode] += v
					}
					// the mirror stands for a site's own server, not this machine
					wire[mode] = tx1 - tx0 - (m.served.Load() - served0)
					b.Logf("%d nodes, %s: payload %d bytes (%d per node), wire %d bytes, %v", n, mode, payload[mode], payload[mode]/int64(n), wire[mode], took.Round(time.Millisecond))
					_, err = u.Rollback(context.Background(), dp)
					require.NoError(b, err)
				}
				for mode := range payload {
					b.ReportMetric(float64(payload[mode]), string(mode)+"-payload-B")
					b.ReportMetric(float64(payload[mode])/float64(payload[upgrade.DeliveryUpload]), string(mode)+"-payload-x-upload")
					b.ReportMetric(float64(wire[mode])/float64(wire[upgrade.DeliveryUpload]), string(mode)+"-wire-x-upload")
				}
				b.StartTimer()
			}
		})
	}
}

// txBytes is what the machine's interface iface has sent.
func txBytes(b testing.TB, iface string) int64 {
	raw, err := os.ReadFile("/sys/class/net/" + iface + "/statistics/tx_bytes")
	require.NoError(b, err)
	v, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	require.NoError(b, err)
	return v
}
