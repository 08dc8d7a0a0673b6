package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// scaleBaseline is the size of the cluster the scale test measures first,
// in the same run, as the baseline of its ratios.
const scaleBaseline = 10

// TestScale starts a cluster of MKE_MIGRATE_TESTBED_SCALE hosts (3
// managers), after a baseline cluster of 10, and logs for each the start
// time and the memory per host; a sample of hosts reach each other and the
// load balancer. Skipped unless the variable is set: it takes minutes.
//
//	MKE_MIGRATE_TESTBED_SCALE=1000 go test ./testbed -run '^TestScale$' -v -timeout 60m
func TestScale(t *testing.T) {
	v := os.Getenv("MKE_MIGRATE_TESTBED_SCALE")
	if v == "" {
		t.Skip("set MKE_MIGRATE_TESTBED_SCALE=N (for example 1000) to start N hosts")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 4 {
		t.Fatalf("MKE_MIGRATE_TESTBED_SCALE=%q: want a number of hosts ≥ 4", v)
	}
	need(t)
	if _, err := FakeNodeBinary(); err != nil { // not part of the start time
		t.Fatal(err)
	}
	base := measureCluster(t, scaleBaseline, false)
	big := measureCluster(t, n, true)
	t.Logf("ratios %d/%d hosts: start time per host %.2f, RSS per host %.2f, PSS per host %.2f, machine memory per host %.2f",
		n, scaleBaseline, big.startPerHost.Seconds()/base.startPerHost.Seconds(), big.rss/base.rss, big.pss/base.pss,
		big.machine/base.machine)
}

type scaleFigures struct {
	startPerHost       time.Duration
	rss, pss, tmpfs    float64 // per host, bytes
	machine            float64 // MemAvailable drop per host, bytes
	procsPerHost       float64
	reached, attempted int
}

func measureCluster(t *testing.T, n int, sample bool) scaleFigures {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute+time.Duration(n)*time.Second)
	defer cancel()
	before := memAvailable(t)
	kernelBefore := kernelMemory()
	begin := time.Now()
	c, err := StartCluster(ctx, ClusterOptions{Managers: 3, Workers: n - 3, Workdir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	defer func() {
		begin := time.Now()
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		t.Logf("%d hosts: stopped in %v", n, time.Since(begin))
	}()
	var f scaleFigures
	f.startPerHost = took / time.Duration(n)
	f.machine = float64(before-memAvailable(t)) / float64(n)
	var kb strings.Builder
	kernelAfter := kernelMemory()
	for i, k := range kernelFields {
		fmt.Fprintf(&kb, " %s %+.2f", strings.TrimSuffix(k, ":"), float64(int64(kernelAfter[i])-int64(kernelBefore[i]))/float64(n)/(1<<20))
	}
	t.Logf("%d hosts: /proc/meminfo change per host, MiB:%s", n, kb.String())
	rss, pss, procs := hostMemory(t, c.Hosts)
	f.rss, f.pss, f.procsPerHost = float64(rss)/float64(n), float64(pss)/float64(n), float64(procs)/float64(n)
	var tmp uint64
	for _, h := range c.Hosts {
		var st syscall.Statfs_t
		if err := syscall.Statfs(filepath.Join("/proc", strconv.Itoa(h.cmd.Process.Pid), "root", h.Workdir, "root"), &st); err == nil {
			tmp += (st.Blocks - st.Bfree) * uint64(st.Bsize)
		}
	}
	f.tmpfs = float64(tmp) / float64(n)
	t.Logf("%d hosts (3 managers): started in %v (%v per host); per host: RSS %.1f MiB, PSS %.1f MiB, %.1f processes, tmpfs %.2f MiB; machine MemAvailable -%.1f MiB per host",
		n, took.Round(time.Millisecond), f.startPerHost.Round(time.Microsecond), f.rss/(1<<20), f.pss/(1<<20), f.procsPerHost,
		f.tmpfs/(1<<20), f.machine/(1<<20))
	if !sample {
		return f
	}
	// A sample of hosts reach each other's sshd and the load balancer
	// (which accepts: its managers do not listen on 443, so it closes).
	for range 20 {
		from, to := c.Hosts[rand.IntN(n)], c.Hosts[rand.IntN(n)]
		f.attempted += 2
		for _, target := range []struct {
			addr string
			port int
		}{{to.Address, 22}, {c.LB, 443}} {
			if reach(t, c, from, target.addr, target.port) {
				f.reached++
			} else {
				t.Errorf("%s cannot reach %s:%d", from.Name, target.addr, target.port)
			}
		}
	}
	t.Logf("%d hosts: %d of %d sampled connections made", n, f.reached, f.attempted)
	// Every worker reaches manager-1 (as k0s workers reach a controller):
	// with dynamic ARP entries, twice as many as hosts, the kernel's
	// shared table would overflow past gc_thresh3 and drop packets.
	fulls := arpTableFulls(t)
	begin = time.Now()
	m := c.Managers[0]
	errs := make([]error, len(c.Workers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, startParallel())
	for i, w := range c.Workers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = c.Exec(ctx, w, "timeout 10 bash -c 'exec 3<>/dev/tcp/"+m.Address+"/22'")
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("%s → manager-1:22: %v", c.Workers[i].Name, err)
			}
		}
	}
	t.Logf("%d hosts: %d of %d workers reached manager-1 in %v; ARP table: %d entries machine-wide, %d overflows meanwhile (gc_thresh3 %s)",
		n, len(c.Workers)-failed, len(c.Workers), time.Since(begin).Round(time.Millisecond), arpEntries(t),
		arpTableFulls(t)-fulls, strings.TrimSpace(readFile("/proc/sys/net/ipv4/neigh/default/gc_thresh3")))
	return f
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// arpStat returns a column of /proc/net/stat/arp_cache: the first line of
// numbers for "entries" (a table-wide count), the sum over CPUs otherwise.
func arpStat(t *testing.T, col string) uint64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile("/proc/net/stat/arp_cache")), "\n")
	if len(lines) < 2 {
		t.Fatal("no /proc/net/stat/arp_cache")
	}
	i := slices.Index(strings.Fields(lines[0]), col)
	if i < 0 {
		t.Fatalf("no column %s in /proc/net/stat/arp_cache", col)
	}
	var sum uint64
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		v, _ := strconv.ParseUint(f[i], 16, 64)
		if col == "entries" {
			return v
		}
		sum += v
	}
	return sum
}

func arpEntries(t *testing.T) uint64    { return arpStat(t, "entries") }
func arpTableFulls(t *testing.T) uint64 { return arpStat(t, "table_fulls") }

// hostMemory sums VmRSS and Pss (from /proc/PID/status and smaps_rollup)
// of the hosts' processes: each host's unshare and every process in its PID
// namespace.
func hostMemory(t *testing.T, hs []*Host) (rss, pss uint64, procs int) {
	t.Helper()
	ns := map[string]bool{}
	var pids []string
	for _, h := range hs {
		pids = append(pids, strconv.Itoa(h.cmd.Process.Pid))
		l, err := os.Readlink("/proc/" + strconv.Itoa(h.innerPID) + "/ns/pid")
		if err != nil {
			t.Fatal(err)
		}
		ns[l] = true
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && ns[l] {
			pids = append(pids, e.Name())
		}
	}
	for _, p := range pids {
		r := procField("/proc/"+p+"/status", "VmRSS:")
		if r == 0 {
			continue // a kernel thread or gone
		}
		procs++
		rss += r
		pss += procField("/proc/"+p+"/smaps_rollup", "Pss:")
	}
	return rss, pss, procs
}

// procField returns the "<key> <n> kB" value of a /proc file, in bytes.
func procField(path, key string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == key {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v << 10
		}
	}
	return 0
}

// kernelFields are the /proc/meminfo lines the scale test reports the
// change of, to tell where a host's memory goes beyond its processes.
var kernelFields = []string{"Shmem:", "Slab:", "SUnreclaim:", "PageTables:", "KernelStack:", "Percpu:"}

func kernelMemory() []uint64 {
	v := make([]uint64, len(kernelFields))
	for i, k := range kernelFields {
		v[i] = procField("/proc/meminfo", k)
	}
	return v
}

func memAvailable(t *testing.T) int64 {
	t.Helper()
	v := procField("/proc/meminfo", "MemAvailable:")
	if v == 0 {
		t.Fatal("no MemAvailable in /proc/meminfo")
	}
	return int64(v)
}
