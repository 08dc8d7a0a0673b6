package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// need skips the test when hosts cannot be started, and fails it on CI
// (CI=true), which installs the packages.
func need(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

func startHosts(t *testing.T, opts ...HostOptions) []*Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	hs, err := StartHosts(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		t.Cleanup(func() {
			if err := h.Stop(); err != nil {
				t.Error(err)
			}
		})
	}
	return hs
}

// dial logs in to h as user, checking the host key against h.HostKeyLine.
func dial(t *testing.T, h *Host, user string) *ssh.Client {
	t.Helper()
	key, err := os.ReadFile(h.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := h.KnownHostsFile(kh); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort(h.Address, strconv.Itoa(h.Port)), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: cb,
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s@%s: %v", user, h.Address, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func sshRun(t *testing.T, c *ssh.Client, cmd string) (string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stderr bytes.Buffer
	s.Stderr = &stderr
	out, err := s.Output(cmd)
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", cmd, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", name).Run() == nil
}

func TestHosts(t *testing.T) {
	need(t)
	osr := "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n"
	begin := time.Now()
	hs := startHosts(t,
		HostOptions{Name: "node-a", OSRelease: osr},
		HostOptions{Name: "node-b", Files: map[string][]byte{"/etc/mke-test/seed.txt": []byte("seeded\n")}},
		HostOptions{Name: "node-c", Files: map[string][]byte{"/usr/local/bin/docker": []byte("#!/bin/sh\necho 23.0.15-mirantis\n")},
			FileModes: map[string]os.FileMode{"/usr/local/bin/docker": 0o755}},
	)
	t.Logf("3 hosts up in %v", time.Since(begin))

	seen := map[string]bool{}
	for _, h := range hs {
		if seen[h.Address] {
			t.Fatalf("address %s used twice", h.Address)
		}
		seen[h.Address] = true
		c := dial(t, h, h.User)
		if out, err := sshRun(t, c, "hostname"); err != nil || out != h.Name {
			t.Errorf("%s: hostname = %q, %v", h.Name, out, err)
		}
		if out, err := sshRun(t, c, "id -un"); err != nil || out != "mke" {
			t.Errorf("%s: id -un = %q, %v", h.Name, out, err)
		}
		if out, err := sshRun(t, c, "sudo -n id -u"); err != nil || out != "0" {
			t.Errorf("%s: sudo id -u = %q, %v", h.Name, out, err)
		}
		root := dial(t, h, "root")
		if out, err := sshRun(t, root, "id -u"); err != nil || out != "0" {
			t.Errorf("%s: root id -u = %q, %v", h.Name, out, err)
		}
		// Writes stay in the host.
		if _, err := sshRun(t, c, "sudo -n touch /etc/written-by-"+h.Name); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat("/etc/written-by-" + h.Name); err == nil {
			t.Errorf("%s: a write to /etc inside the host reached the machine", h.Name)
		}
		// The machine's /root is masked.
		if out, err := sshRun(t, root, "ls -A /root | grep -vx -e .ssh -e .bashrc -e .profile -e .bash_logout"); out != "" {
			t.Errorf("%s: /root = %q, %v", h.Name, out, err)
		}
	}

	a, b, c := hs[0], hs[1], hs[2]
	ca := dial(t, a, "mke")
	if out, err := sshRun(t, ca, ". /etc/os-release; echo $ID $VERSION_ID"); err != nil || out != "ubuntu 22.04" {
		t.Errorf("custom os-release: %q, %v", out, err)
	}
	cb := dial(t, b, "mke")
	if out, err := sshRun(t, cb, "cat /etc/mke-test/seed.txt"); err != nil || out != "seeded" {
		t.Errorf("seed file: %q, %v", out, err)
	}
	if out, err := sshRun(t, cb, "test ! -e /etc/mke-test/seed.txt || . /etc/os-release; echo $ID"); err != nil || out == "ubuntu" {
		t.Errorf("node-b should have the machine's os-release: %q, %v", out, err)
	}
	cc := dial(t, c, "mke")
	if out, err := sshRun(t, cc, "docker version --format '{{.Server.Version}}'"); err != nil || out != "23.0.15-mirantis" {
		t.Errorf("executable seed file: %q, %v", out, err)
	}

	// Isolation: a cannot reach b, but it can reach its own gateway.
	probe := func(addr string) error {
		_, err := sshRun(t, ca, "timeout 3 bash -c 'exec 3<>/dev/tcp/"+addr+"/22'")
		return err
	}
	if err := probe(b.Address); err == nil {
		t.Errorf("%s reached %s", a.Name, b.Address)
	}
	if out, err := sshRun(t, ca, "ip route"); err != nil || strings.Contains(out, "default") {
		t.Errorf("routes of %s: %q, %v", a.Name, out, err)
	}

	// Stop: veth gone, processes gone; idempotent.
	pid := a.cmd.Process.Pid
	sshdPID := a.innerPID
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", sshdPID)); strings.TrimSpace(string(comm)) != "sshd" {
		t.Fatalf("PID 1 of the host is %q (pid %d), want sshd", comm, sshdPID)
	}
	begin = time.Now()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v", time.Since(begin))
	if err := a.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if linkExists(a.Interface) {
		t.Errorf("veth %s still listed after Stop", a.Interface)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("unshare pid %d still exists after Stop", pid)
	}
	if running(sshdPID) {
		t.Errorf("sshd (pid %d) of %s still running after Stop", sshdPID, a.Name)
	}
}

func TestKnownHostsFile(t *testing.T) {
	need(t)
	h := startHosts(t, HostOptions{Name: "kh"})[0]
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := h.KnownHostsFile(p); err != nil {
		t.Fatal(err)
	}
	if err := h.KnownHostsFile(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), h.HostKeyLine+"\n"); got != 2 {
		t.Fatalf("known_hosts has %d copies of the line:\n%s", got, b)
	}
	if !strings.HasPrefix(h.HostKeyLine, h.Address+" ssh-ed25519 ") {
		t.Errorf("HostKeyLine = %q", h.HostKeyLine)
	}
}

func TestStartHostErrors(t *testing.T) {
	need(t)
	if _, err := StartHost(t.Context(), t.TempDir(), HostOptions{Name: "bad name"}); err == nil {
		t.Error("invalid name accepted")
	}
	if _, err := StartHost(t.Context(), t.TempDir(), HostOptions{Name: "rel", Files: map[string][]byte{"etc/x": nil}}); err == nil {
		t.Error("relative seed path accepted")
	}
	// One bad host: StartHosts fails and stops the others.
	hs, err := StartHosts(t.Context(), t.TempDir(), []HostOptions{{Name: "good"}, {Name: "-bad"}})
	if err == nil || hs != nil {
		t.Fatalf("StartHosts = %v, %v; want an error", hs, err)
	}
}

// TestHelperProcess is not a test: TestKilledBinaryLeavesNothing runs the
// test binary with TESTBED_HELPER=1 to start a host on a network of its
// own and two hosts on a shared network, and be SIGKILLed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("TESTBED_HELPER") != "1" {
		t.Skip("helper process for TestKilledBinaryLeavesNothing")
	}
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	ctx, dir := context.Background(), os.Getenv("TESTBED_WORKDIR")
	h, err := StartHost(ctx, dir, HostOptions{Name: "orphan"})
	if err != nil {
		fail(err)
	}
	n, err := NewNetwork(ctx)
	if err != nil {
		fail(err)
	}
	links := []string{h.Interface, n.Interface}
	pids := []string{strconv.Itoa(h.cmd.Process.Pid), strconv.Itoa(h.innerPID), strconv.Itoa(n.holder.Process.Pid)}
	for _, name := range []string{"orphan-1", "orphan-2"} {
		h, err := StartHost(ctx, dir, HostOptions{Name: name, Network: n})
		if err != nil {
			fail(err)
		}
		pids = append(pids, strconv.Itoa(h.cmd.Process.Pid), strconv.Itoa(h.innerPID))
	}
	fmt.Println("UP", strings.Join(links, ","), strings.Join(pids, ","))
	time.Sleep(time.Minute)
	os.Exit(2)
}

// TestKilledBinaryLeavesNothing: SIGKILL of the test binary leaves no
// interface (a host's own network, a shared network) and no process
// (hosts' unshare and sshd, the networks' switches).
func TestKilledBinaryLeavesNothing(t *testing.T) {
	need(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTBED_HELPER=1", "TESTBED_WORKDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var links []string
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "UP" {
			links = strings.Split(f[1], ",")
			for _, s := range strings.Split(f[2], ",") {
				p, _ := strconv.Atoi(s)
				pids = append(pids, p)
			}
			break
		}
		if len(f) > 0 && f[0] == "ERROR" {
			t.Fatal(sc.Text())
		}
	}
	if len(links) != 2 || len(pids) != 7 {
		t.Fatalf("helper did not start its hosts: links %v, pids %v", links, pids)
	}
	left := func() []string {
		var l []string
		for _, link := range links {
			if linkExists(link) {
				l = append(l, link)
			}
		}
		for _, p := range pids {
			if running(p) {
				l = append(l, "pid "+strconv.Itoa(p))
			}
		}
		return l
	}
	if got := left(); len(got) != len(links)+len(pids) {
		t.Fatalf("while the helper runs, only %v exist", got)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	begin := time.Now()
	for len(left()) > 0 {
		if time.Since(begin) > 60*time.Second {
			t.Fatalf("60 s after SIGKILL of the test binary, still there: %v", left())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("networks, hosts and switches gone %v after SIGKILL", time.Since(begin))
}

func TestBinds(t *testing.T) {
	need(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "prog")
	if err := os.WriteFile(file, []byte("#!/bin/sh\necho bound\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := startHosts(t, HostOptions{Name: "binds", Binds: map[string]string{"/usr/local/bin/prog": file, "/opt/shared": dir}})[0]
	c := dial(t, h, "root")
	if out, err := sshRun(t, c, "/usr/local/bin/prog && cat /opt/shared/prog | wc -l"); err != nil || out != "bound\n2" {
		t.Errorf("bound file and folder: %q, %v", out, err)
	}
	for _, cmd := range []string{"echo x >> /usr/local/bin/prog", "touch /opt/shared/new", "rm /usr/local/bin/prog"} {
		if out, err := sshRun(t, c, cmd); err == nil {
			t.Errorf("%s: allowed (%q)", cmd, out)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "#!/bin/sh\necho bound\n" {
		t.Errorf("the machine's file changed: %q", b)
	}
	if _, err := StartHost(t.Context(), t.TempDir(), HostOptions{Name: "rel", Binds: map[string]string{"/x": "rel"}}); err == nil {
		t.Error("relative bind source accepted")
	}
}
