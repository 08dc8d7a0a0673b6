package upgrade_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
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
// commands per worker, and the peak RSS of the process; also the
// outage against a critical path measured in the same run (one node
// step timed alone on an idle worker before Apply, times the node steps
// of the path), the load average during the outage, and, on stdout,
// where the outage went (stages, steps, busy worker lanes). The k0s binary
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
		bd := startBedWithin(b, workers, 15*time.Minute)
		for _, h := range bd.c.Hosts {
			for _, m := range []string{"docker stop", "k0s install"} {
				require.NoError(b, bd.c.SetFault(context.Background(), h, testbed.Fault{Match: m, HangSeconds: delay.Seconds()}))
			}
		}
		o := bd.options(b, b.TempDir())
		if os.Getenv("MKE_MIGRATE_BENCH_FULL_K0S") == "" {
			// a 60-byte k0s that is the node's fake k0s: the engine's own
			// cost, without copying a 6 MB binary to every node
			o.K0sBinary = []byte("#!/bin/bash\nexec -a k0s " + testbed.FakeNodeFullPath + " \"$@\"\n")
		}
		o.SkipRBAC = true
		o.Concurrency = concurrency
		o.StepTimeout = 5 * time.Minute
		o.Timeout = 30 * time.Minute
		// the outage: from the first MKE 3 stop to the last worker's Node
		// Ready (the k0s-worker step ends when it is)
		var mu sync.Mutex
		var outStart, outEnd time.Time
		var trace []benchEvent
		o.Events = func(e plan.Event) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			trace = append(trace, benchEvent{at: now, e: e})
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
		// the critical path measured on this machine now: one node step
		// (the two delayed commands, each its own SSH session) on an idle
		// worker, before the run, times the node steps of the path
		probe := bd.c.Hosts[len(bd.c.Hosts)-1]
		pstart := time.Now()
		for range 2 {
			_, _ = bd.c.Exec(context.Background(), probe, "docker stop mke-bench-probe")
		}
		nodeStep := time.Since(pstart)
		measured := time.Duration(3+batches) * nodeStep
		load := startLoadSampler()
		b.StartTimer()
		start := time.Now()
		res, err := u.Apply(context.Background(), p)
		wall := time.Since(start)
		b.StopTimer()
		loads := load()
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
		b.ReportMetric(outage.Seconds()/measured.Seconds(), "outage-x-measured-path")
		lmin, lmean, lmax := loadStats(loads, outStart, outEnd)
		b.ReportMetric(lmax, "load-max")
		// how much of the 2 cores the outage had: near 100 %, the lanes
		// wait for CPU, not for each other (all processes, other
		// engineers' included)
		busy, iowait := cpuBusy(loads, outStart, outEnd)
		b.ReportMetric(100*busy, "cpu-busy-%")
		b.ReportMetric(100*iowait, "cpu-iowait-%")
		var wStart time.Time
		for _, t := range trace {
			if t.e.Kind == plan.EventStepStart && strings.HasPrefix(t.e.Stage, "Workers") {
				wStart = t.at
				break
			}
		}
		wBusy, _ := cpuBusy(loads, wStart, outEnd)
		b.ReportMetric(100*wBusy, "cpu-busy-workers-%")
		// the CPU the worker stage used, per worker lane (everything the
		// machine ran then, divided by the lanes)
		b.ReportMetric(wBusy*outEnd.Sub(wStart).Seconds()*float64(runtime.NumCPU())/float64(workers), "cpu-s/worker-lane")
		b.Log(fmt.Sprintf("%d workers in %d node steps at concurrency %d, delay %v: outage %v, wall %v, critical path %v (measured: node step %v, path %v)",
			workers, batches, concurrency, delay, outage.Round(time.Millisecond), wall.Round(time.Millisecond), critical,
			nodeStep.Round(time.Millisecond), measured.Round(time.Millisecond)))
		b.Log(fmt.Sprintf("load average (1 min) during the outage: min %.1f, mean %.1f, max %.1f on %d cores; CPU busy %.0f %% (%.1f core-seconds)",
			lmin, lmean, lmax, runtime.NumCPU(), 100*busy, busy*outage.Seconds()*float64(runtime.NumCPU())))
		// on stdout: a benchmark's log keeps only its first lines
		fmt.Print(breakdown(trace, outStart, outEnd, concurrency))
		b.StartTimer()
	}
}

type benchEvent struct {
	at time.Time
	e  plan.Event
}

type loadSample struct {
	at   time.Time
	load float64
	// busy, iowait and total are /proc/stat's cumulative CPU times (all
	// cores, in clock ticks): busy is all but idle and iowait
	busy, iowait, total uint64
}

// cpuTimes reads /proc/stat's first line (proc(5)): the CPU time of all
// cores, busy, idle waiting for I/O, and in total.
func cpuTimes() (busy, iowait, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		total += n
		switch i {
		case 3: // idle
		case 4:
			iowait += n
		default:
			busy += n
		}
	}
	return busy, iowait, total, true
}

// cpuBusy is the share of the machine's CPU time that was busy, and the
// share idle waiting for I/O, from the last sample at or before from to
// the first at or after to (the nearest ones the run has; 0 without two).
func cpuBusy(s []loadSample, from, to time.Time) (busy, iowait float64) {
	var a, z *loadSample
	for i := range s {
		x := &s[i]
		if x.total == 0 {
			continue
		}
		if a == nil || !x.at.After(from) {
			a = x
		}
		if z == nil || z.at.Before(to) {
			z = x
		}
	}
	if a == nil || z == nil || z.total <= a.total {
		return 0, 0
	}
	t := float64(z.total - a.total)
	return float64(z.busy-a.busy) / t, float64(z.iowait-a.iowait) / t
}

// startLoadSampler reads the 1-minute load average every second until
// the returned function is called, which returns the samples.
func startLoadSampler() func() []loadSample {
	var mu sync.Mutex
	var out []loadSample
	stop := make(chan struct{})
	done := make(chan struct{})
	read := func() {
		b, err := os.ReadFile("/proc/loadavg")
		if err != nil {
			return
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			busy, iowait, total, _ := cpuTimes()
			mu.Lock()
			out = append(out, loadSample{at: time.Now(), load: v, busy: busy, iowait: iowait, total: total})
			mu.Unlock()
		}
	}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			read()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() []loadSample {
		close(stop)
		<-done
		read()
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// loadStats are the min, mean and max of the samples from from to to
// (all of them when none falls in between).
func loadStats(s []loadSample, from, to time.Time) (lmin, lmean, lmax float64) {
	var in []float64
	for _, x := range s {
		if !x.at.Before(from) && !x.at.After(to) {
			in = append(in, x.load)
		}
	}
	if len(in) == 0 {
		for _, x := range s {
			in = append(in, x.load)
		}
	}
	if len(in) == 0 {
		return 0, 0, 0
	}
	lmin, lmax = in[0], in[0]
	sum := 0.0
	for _, v := range in {
		lmin, lmax, sum = min(lmin, v), max(lmax, v), sum+v
	}
	return lmin, sum / float64(len(in)), lmax
}

// breakdown says where the outage went: each stage's span within it, the
// mean and longest time of each step on workers, and how busy the
// worker lanes kept the concurrency slots.
func breakdown(trace []benchEvent, from, to time.Time, concurrency int) string {
	type span struct{ start, end time.Time }
	stages := map[string]*span{}
	var order []string
	starts := map[string]time.Time{}
	type agg struct {
		n        int
		sum, max time.Duration
	}
	steps := map[string]*agg{}
	var stepOrder []string
	lanes := map[string]*span{} // worker lanes by host
	for _, t := range trace {
		e := t.e
		if t.at.Before(from) || t.at.After(to) {
			continue
		}
		sp := stages[e.Stage]
		if sp == nil {
			sp = &span{start: t.at}
			stages[e.Stage] = sp
			order = append(order, e.Stage)
		}
		sp.end = t.at
		key := e.Step + "@" + e.Host
		switch e.Kind {
		case plan.EventStepStart:
			starts[key] = t.at
			if strings.HasPrefix(e.Stage, "Workers") {
				if lanes[e.Host] == nil {
					lanes[e.Host] = &span{start: t.at}
				}
			}
		case plan.EventStepDone:
			d := t.at.Sub(starts[key])
			kind := "manager"
			if strings.HasPrefix(e.Stage, "Workers") {
				kind = "worker"
				if l := lanes[e.Host]; l != nil {
					l.end = t.at
				}
			}
			name := kind + " " + e.Step
			a := steps[name]
			if a == nil {
				a = &agg{}
				steps[name] = a
				stepOrder = append(stepOrder, name)
			}
			a.n++
			a.sum += d
			a.max = max(a.max, d)
		}
	}
	var b strings.Builder
	b.WriteString("outage breakdown:\n")
	for _, n := range order {
		sp := stages[n]
		fmt.Fprintf(&b, "  stage %-40q %6.2f s → %6.2f s (%.2f s)\n", n, sp.start.Sub(from).Seconds(), sp.end.Sub(from).Seconds(), sp.end.Sub(sp.start).Seconds())
	}
	for _, n := range stepOrder {
		a := steps[n]
		fmt.Fprintf(&b, "  step %-28s ×%3d mean %6.3f s, max %6.3f s\n", n, a.n, (a.sum / time.Duration(a.n)).Seconds(), a.max.Seconds())
	}
	if len(lanes) > 0 {
		var busy time.Duration
		first, last := to, from
		for _, l := range lanes {
			if l.end.IsZero() {
				continue
			}
			busy += l.end.Sub(l.start)
			first, last = minTime(first, l.start), maxTime(last, l.end)
		}
		if span := last.Sub(first); span > 0 {
			fmt.Fprintf(&b, "  worker lanes: %d, mean %.2f s each, %.1f running on average over %.2f s (concurrency %d)\n",
				len(lanes), (busy / time.Duration(len(lanes))).Seconds(), busy.Seconds()/span.Seconds(), span.Seconds(), concurrency)
		}
	}
	return b.String()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// BenchmarkRemoteCommandCPU says what a worker lane's remote commands
// cost in CPU on the test bed, the cost BenchmarkUpgrade's 200 lanes
// share 2 cores with: the CPU time (user + system, of every process of
// the worker's host, children reaped included, from /proc/PID/stat inside
// its PID namespace) of a remote command run as the engine runs it (its
// own SSH session, login shell, sudo, sh -c), for an empty command, one
// start of the fake docker or k0s binary, and one short coreutils
// process. Independent of the machine's other load.
//
//	go test ./upgrade -run '^$' -bench BenchmarkRemoteCommandCPU -benchtime 1x
func BenchmarkRemoteCommandCPU(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		bd := startBedWithin(b, 1, 5*time.Minute)
		i := len(bd.c.Hosts) - 1
		w := bd.c.Hosts[i]
		cl, err := hosts.Connect(context.Background(), bd.hosts[i], hosts.ConnectOptions{KnownHostsPath: bd.knownHosts})
		require.NoError(b, err)
		// the ticks of every process of the host, its reaped children
		// included (proc(5): utime, stime, cutime, cstime)
		ticks := func() int64 {
			out, err := bd.c.Exec(context.Background(), w, "cat /proc/[0-9]*/stat 2>/dev/null")
			require.NoError(b, err)
			var n int64
			for _, l := range strings.Split(out, "\n") {
				j := strings.LastIndexByte(l, ')')
				if j < 0 {
					continue
				}
				f := strings.Fields(l[j+1:])
				if len(f) < 15 {
					continue
				}
				for _, k := range []int{11, 12, 13, 14} {
					v, _ := strconv.ParseInt(f[k], 10, 64)
					n += v
				}
			}
			return n
		}
		const reps = 40
		hz := 100.0 // USER_HZ on Linux
		// one read of ticks is in each difference: 1/40 of a session
		measure := func(cmd string) float64 {
			t0 := ticks()
			for range reps {
				_, err := cl.Exec(context.Background(), shell.Sudo(cmd), hosts.WithSudo())
				require.NoError(b, err)
			}
			return float64(ticks()-t0) / hz / reps
		}
		cases := []struct{ name, cmd string }{
			{"session", "true"},
			{"docker", "docker ps --filter status=running --format '{{.Names}}' >/dev/null"},
			{"k0s", "k0s version >/dev/null 2>&1; true"},
			{"coreutils", "mkdir -p /tmp/mke-bench-probe"},
		}
		got := map[string]float64{}
		for _, c := range cases {
			got[c.name] = measure(c.cmd)
		}
		b.ReportMetric(1000*got["session"], "session-ms")
		b.ReportMetric(1000*(got["docker"]-got["session"]), "fake-docker-ms")
		b.ReportMetric(1000*(got["k0s"]-got["session"]), "fake-k0s-ms")
		b.ReportMetric(1000*(got["coreutils"]-got["session"]), "coreutils-ms")
		_ = cl.Close()
		b.StartTimer()
	}
}
