package upgrade_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// BenchmarkUpgrade upgrades 3 managers and MKE_MIGRATE_BENCH_WORKERS
// workers (default 200) of the test bed, where two commands of every node
// (docker stop of MKE 3, k0s install) take a fixed extra delay D, so that
// the critical path is known: the managers one by one, then the workers
// at MKE_MIGRATE_BENCH_CONCURRENCY (default 30) at a time, each node step
// costing 2 D: (managers + ⌈workers / concurrency⌉) × 2 D. It reports the
// outage (the Swarm drain, which stops MKE 3's agents, → last worker's
// Node Ready on k0s) and the wall time of Apply against that critical path, the remote
// commands per worker, and the peak RSS of the process. The k0s binary
// is a 60-byte wrapper of the node's fake k0s; MKE_MIGRATE_BENCH_FULL_K0S=1
// copies the 6 MB fake binary to every node instead, to see what the
// transfer costs.
//
//	go test ./upgrade -run '^$' -bench BenchmarkUpgrade -benchtime 1x -timeout 30m
func BenchmarkUpgrade(b *testing.B) {
	workers := 200
	if v, err := strconv.Atoi(os.Getenv("MKE_MIGRATE_BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	delay := 2 * time.Second
	if v, err := time.ParseDuration(os.Getenv("MKE_MIGRATE_BENCH_DELAY")); err == nil && v > 0 {
		delay = v
	}
	concurrency := 30
	if v, err := strconv.Atoi(os.Getenv("MKE_MIGRATE_BENCH_CONCURRENCY")); err == nil && v > 0 {
		concurrency = v
	}
	for b.Loop() {
		b.StopTimer()
		bd := startBed(b, workers)
		for _, h := range bd.c.Hosts {
			for _, m := range []string{"docker stop", "k0s install"} {
				require.NoError(b, bd.c.SetFault(context.Background(), h, testbed.Fault{Match: m, HangSeconds: delay.Seconds()}))
			}
		}
		o := bd.options(b, b.TempDir())
		if os.Getenv("MKE_MIGRATE_BENCH_FULL_K0S") == "" {
			// a 60-byte k0s that is the node's fake k0s: the engine's own
			// cost, without copying a 6 MB binary to every node
			o.K0sBinary = []byte("#!/bin/bash\nexec -a k0s " + testbed.FakeNodePath + " \"$@\"\n")
		}
		o.SkipRBAC = true
		o.Concurrency = concurrency
		o.StepTimeout = 5 * time.Minute
		o.Timeout = 30 * time.Minute
		// the outage: from the first MKE 3 stop to the last worker's Node
		// Ready (the k0s-worker step ends when it is)
		var mu sync.Mutex
		var outStart, outEnd time.Time
		o.Events = func(e plan.Event) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			// the Swarm drain stops MKE 3's agents: the first component
			if e.Kind == plan.EventStepStart && (e.Step == "swarm-drain" || e.Step == "mke3-stop") && outStart.IsZero() {
				outStart = now
			}
			if e.Kind == plan.EventStepDone && e.Step == "k0s-worker" {
				outEnd = now
			}
		}
		u, p := discoverAndPlan(b, o)
		batches := 0
		for _, st := range p.Stages {
			if st.Phase == upgrade.PhaseWorkers {
				batches += (len(st.Lanes) + concurrency - 1) / concurrency
			}
		}
		critical := time.Duration(3+batches) * 2 * delay
		b.StartTimer()
		start := time.Now()
		res, err := u.Apply(context.Background(), p)
		wall := time.Since(start)
		b.StopTimer()
		require.NoError(b, err)

		total, worst, n := 0, 0, 0
		for i, h := range bd.c.Hosts {
			if !strings.HasPrefix(h.Name, "worker") {
				continue
			}
			c := res.Commands[bd.hosts[i].String()]
			total += c
			worst = max(worst, c)
			n++
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		outage := outEnd.Sub(outStart)
		b.ReportMetric(outage.Seconds(), "outage-s")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(critical.Seconds(), "critical-path-s")
		b.ReportMetric(outage.Seconds()/critical.Seconds(), "outage-x-critical-path")
		b.ReportMetric(wall.Seconds()/critical.Seconds(), "x-critical-path")
		b.ReportMetric(float64(total)/float64(n), "commands/worker")
		b.ReportMetric(float64(worst), "max-commands/worker")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		b.Log(fmt.Sprintf("%d workers in %d node steps at concurrency %d, delay %v: outage %v, wall %v, critical path %v",
			workers, batches, concurrency, delay, outage.Round(time.Millisecond), wall.Round(time.Millisecond), critical))
		b.StartTimer()
	}
}
