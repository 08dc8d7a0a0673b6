package testbed

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
)

// BenchmarkRealClusterStart starts a realistic cluster (real etcd,
// kube-apiserver, kube-controller-manager and ucp-controller on each
// manager) and, as the baseline in the same run, a JSON-only cluster of
// the same size; it reports the start times, their ratio and the resident
// memory of the container processes per manager.
//
//	go test ./testbed -run '^$' -bench RealClusterStart -benchtime 3x
//
// TESTBED_BENCH_MANAGERS (default 1) sets the managers: more than one needs
// hosts that reach each other (an etcd cluster across managers).
func BenchmarkRealClusterStart(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	for _, n := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		kubetest.NeedBinary(b, n)
	}
	managers := 1
	if v := envInt("TESTBED_BENCH_MANAGERS"); v > 0 {
		managers = v
	}
	var real, fast time.Duration
	var rss, procs int64
	for b.Loop() {
		for _, isReal := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			start := time.Now()
			c, err := StartCluster(ctx, ClusterOptions{Managers: managers, Workers: 1, Real: isReal, Workdir: b.TempDir()})
			if err != nil {
				cancel()
				b.Fatal(err)
			}
			d := time.Since(start)
			if isReal {
				real += d
				for _, m := range c.Managers {
					mem, err := c.ProcessMemory(ctx, m)
					if err != nil {
						b.Fatal(err)
					}
					for _, v := range mem {
						rss += v
						procs++
					}
				}
			} else {
				fast += d
			}
			cancel()
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	runs := float64(b.N)
	b.ReportMetric(real.Seconds()/runs, "real-start-s")
	b.ReportMetric(fast.Seconds()/runs, "json-start-s")
	b.ReportMetric(real.Seconds()/fast.Seconds(), "start-ratio")
	b.ReportMetric(float64(rss)/runs/float64(managers)/(1<<20), "rss-MiB/manager")
	b.ReportMetric(float64(procs)/runs/float64(managers), "procs/manager")
}

func envInt(name string) int {
	v, _ := strconv.Atoi(os.Getenv(name))
	return v
}
