package hosts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/testbed"
)

func TestParseFacts(t *testing.T) {
	now := time.Unix(1700000000, 0)
	out := strings.Join([]string{
		"sudo=1",
		"kernel=Linux",
		"arch=x86_64",
		"hostname=node-a",
		"machine_id=abc123",
		"os_id=ubuntu",
		"os_version=22.04",
		"os_like=debian",
		"nproc=16",
		"mem_kb=32768000",
		"varlib_avail=123456789",
		"now_ns=1700000045000000000",
		"mcr=25.0.8",
		"swarm=nid1 active true cid1",
		"leader=Leader",
		"proxy_image=mirantis/ucp-proxy:3.8.8",
		"container=ucp-proxy",
		"container=ucp-kv",
		"listen=6443",
		"listen=22",
		"ports_known=1",
		"garbage line without equals",
		"nproc2=x",
		"=",
		"\x00\x01binary=\xff",
	}, "\n")
	f := hosts.ParseFacts(out, now)
	if !f.Sudo || f.Windows || f.OS.Arch != "amd64" || f.Hostname != "node-a" || f.MachineID != "abc123" {
		t.Errorf("basic facts: %+v", f)
	}
	if f.OS.ID != "ubuntu" || f.OS.Version != "22.04" || !slices.Equal(f.OS.IDLike, []string{"debian"}) {
		t.Errorf("os: %+v", f.OS)
	}
	if f.CPUs != 16 || f.MemoryBytes != 32768000*1024 || f.FreeVarLibBytes != 123456789 {
		t.Errorf("resources: %+v", f)
	}
	if f.ClockSkew != 45*time.Second {
		t.Errorf("skew %v", f.ClockSkew)
	}
	want := hosts.SwarmFacts{NodeID: "nid1", ClusterID: "cid1", Role: "manager", Leader: true, LocalNodeState: "active"}
	if f.MCRVersion != "25.0.8" || f.Swarm != want || f.MKEVersion != "3.8.8" {
		t.Errorf("docker: %+v", f)
	}
	if !slices.Equal(f.MKEContainers, []string{"ucp-proxy", "ucp-kv"}) {
		t.Errorf("containers %v", f.MKEContainers)
	}
	for _, p := range f.Ports {
		if p.InUse != (p.Port == 6443) {
			t.Errorf("port %+v", p)
		}
	}

	// Everything missing or garbled: empty facts, no panic.
	g := hosts.ParseFacts("sudo=0\nnproc=lots\nmem_kb=-1\nvarlib_avail=\nnow_ns=abc\nswarm=x\nproxy_image=ucp-proxy\nswarm=nid inactive false\n", now)
	if g.Sudo || g.CPUs != 0 || g.MemoryBytes != 0 || g.ClockSkew != 0 || g.MKEVersion != "" || g.Ports != nil {
		t.Errorf("garbage: %+v", g)
	}
	if g.Swarm.Role != "" || g.Swarm.LocalNodeState != "inactive" {
		t.Errorf("swarm: %+v", g.Swarm)
	}
	w := hosts.ParseFacts("kernel=MINGW64_NT-10.0\nswarm=n active false\nproxy_image=reg:5000/mirantis/ucp-proxy:3.7.16@sha256:00\n", time.Time{})
	if !w.Windows || w.Swarm.Role != "worker" || w.MKEVersion != "3.7.16" {
		t.Errorf("windows/worker: %+v", w)
	}
	if hosts.ParseFacts("proxy_image=reg:5000/ucp-proxy", now).MKEVersion != "" {
		t.Error("registry port taken for a tag")
	}
}

// factsCluster starts a 3+2 cluster, or skips (fails under CI=true).
func factsCluster(tb testing.TB) (*testbed.Cluster, []hosts.Host, hosts.ConnectOptions) {
	return factsClusterN(tb, 3, 2)
}

func factsClusterN(tb testing.TB, managers, workers int) (*testbed.Cluster, []hosts.Host, hosts.ConnectOptions) {
	tb.Helper()
	if err := testbed.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but %v", err)
		}
		tb.Skipf("skipping: needs testbed hosts: %v", err)
	}
	// built before the deadline: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		tb.Fatal(err)
	}
	// hosts start in parallel; on 2 cores 100 of them take a while
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+time.Duration(managers+workers)*time.Second)
	defer cancel()
	c, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: managers, Workers: workers, Workdir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	kh := filepath.Join(tb.TempDir(), "known_hosts")
	var hs []hosts.Host
	for _, h := range c.Hosts {
		if err := h.KnownHostsFile(kh); err != nil {
			tb.Fatal(err)
		}
		hs = append(hs, hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath})
	}
	return c, hs, hosts.ConnectOptions{KnownHostsPath: kh, Home: tb.TempDir(), Timeout: 5 * time.Second, Retry: hosts.Retry{Attempts: 1}}
}

func TestGatherFacts(t *testing.T) {
	c, hs, o := factsCluster(t)
	before := map[string]string{}
	for _, h := range c.Hosts {
		d, err := c.Digest(t.Context(), h)
		if err != nil {
			t.Fatal(err)
		}
		before[h.Name] = d
	}
	start := time.Now()
	fs, err := hosts.GatherFacts(t.Context(), hs, o, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("facts of %d hosts in %v (%d command/host)", len(fs), time.Since(start), hosts.FactsCommands)
	if len(fs) != len(c.Hosts) {
		t.Fatalf("%d facts for %d hosts", len(fs), len(c.Hosts))
	}
	var leaders int
	for i, f := range fs {
		h := c.Hosts[i]
		if f.Address != h.Address || f.Hostname != h.Name || f.MachineID == "" || !f.Sudo || f.Windows {
			t.Errorf("%s: %+v", h.Name, f)
		}
		if f.MCRVersion != c.MCRVersion || f.MKEVersion != c.MKEVersion {
			t.Errorf("%s: MCR %q MKE %q, want %q %q", h.Name, f.MCRVersion, f.MKEVersion, c.MCRVersion, c.MKEVersion)
		}
		manager := i < len(c.Managers)
		wantRole := map[bool]string{true: "manager", false: "worker"}[manager]
		if f.Swarm.Role != wantRole || f.Swarm.NodeID != c.NodeIDs[h.Name] || f.Swarm.LocalNodeState != "active" {
			t.Errorf("%s: swarm %+v, want role %s", h.Name, f.Swarm, wantRole)
		}
		// docker info shows the cluster ID on managers only, as real docker does.
		if manager && f.Swarm.ClusterID != c.ClusterID || !manager && f.Swarm.ClusterID != "" {
			t.Errorf("%s: cluster ID %q, want %q", h.Name, f.Swarm.ClusterID, c.ClusterID)
		}
		if f.Swarm.Leader {
			leaders++
			if h.Name != "manager-1" {
				t.Errorf("leader is %s", h.Name)
			}
		}
		if !slices.Contains(f.MKEContainers, "ucp-proxy") || manager != slices.Contains(f.MKEContainers, "ucp-kv") {
			t.Errorf("%s: containers %v", h.Name, f.MKEContainers)
		}
		if f.CPUs < 1 || f.MemoryBytes == 0 || f.FreeVarLibBytes == 0 || len(f.Ports) != len(hosts.FactPorts) {
			t.Errorf("%s: resources %+v", h.Name, f)
		}
		if f.ClockSkew > 5*time.Second || f.ClockSkew < -5*time.Second {
			t.Errorf("%s: clock skew %v on the same machine", h.Name, f.ClockSkew)
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders", leaders)
	}
	for _, h := range c.Hosts {
		d, err := c.Digest(t.Context(), h)
		if err != nil {
			t.Fatal(err)
		}
		if d != before[h.Name] {
			t.Errorf("%s: state changed by gathering facts", h.Name)
		}
	}

	// Without sudo: the fact says so, and gathering still succeeds.
	last := c.Hosts[len(c.Hosts)-1]
	if _, err := c.Exec(t.Context(), last, "rm -f /etc/sudoers.d/mke"); err != nil {
		t.Fatal(err)
	}
	fs, err = hosts.GatherFacts(t.Context(), hs[len(hs)-1:], o, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].Sudo || fs[0].Hostname != last.Name {
		t.Errorf("without sudo: %+v", fs[0])
	}

	// An unreachable host is a *HostError; the others still have facts.
	bad := append(slices.Clone(hs), hosts.Host{Address: "127.0.0.1", Port: 1, User: "mke", KeyPath: hs[0].KeyPath})
	fs, err = hosts.GatherFacts(t.Context(), bad, o, 2)
	failed := hosts.FailedHosts(err)
	if len(failed) != 1 || !strings.HasPrefix(failed[0].Host, "127.0.0.1:") {
		t.Fatalf("want one failed host, got %v", err)
	}
	if fs[0].MCRVersion == "" || fs[len(fs)-1].MCRVersion != "" {
		t.Errorf("facts with a failed host: %+v", fs)
	}
}

// BenchmarkFacts compares GatherFacts over a simulated cluster of 5, 30
// and 100 hosts (3 managers, the rest workers; login user mke, so the
// privileged part runs through sudo) with a floor: connecting and running
// the same number of trivial commands, both at concurrency 30. The cluster
// starts once per size, outside the timed loops. floor runs first so that
// facts can report its ratio to it. peak-RSS-MB is the process's high-water
// mark (getrusage): run one size per go test invocation for a figure that
// belongs to that size.
func BenchmarkFacts(b *testing.B) {
	for _, n := range []int{5, 30, 100} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			_, hs, o := factsClusterN(b, 3, n-3)
			var floor time.Duration
			b.Run("floor", func(b *testing.B) {
				for b.Loop() {
					err := hosts.Run(b.Context(), hs, benchConcurrency, func(ctx context.Context, h hosts.Host) error {
						cl, err := hosts.Connect(ctx, h, o)
						if err != nil {
							return err
						}
						defer func() { _ = cl.Close() }()
						for range hosts.FactsCommands {
							if _, err := cl.Exec(ctx, "true"); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				floor = b.Elapsed() / time.Duration(b.N)
				reportBench(b)
			})
			b.Run("facts", func(b *testing.B) {
				for b.Loop() {
					if _, err := hosts.GatherFacts(b.Context(), hs, o, benchConcurrency); err != nil {
						b.Fatal(err)
					}
				}
				if floor > 0 {
					b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(floor), "x-floor")
				}
				reportBench(b)
			})
		})
	}
}

const benchConcurrency = 30

func reportBench(b *testing.B) {
	b.ReportMetric(hosts.FactsCommands, "commands/host")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB") // Maxrss is in KiB on Linux
	}
}
