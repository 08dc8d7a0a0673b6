package portcheck

import (
	"bufio"
	stdnet "net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The listener script runs for real, with perl and with python3 alone on
// PATH (as on a Debian node without python3, and a minimal RHEL without
// perl): it answers with the banner on every port, and stopScript frees
// them.
func TestListenerScriptRuns(t *testing.T) {
	for _, tool := range []string{"perl", "python3"} {
		t.Run(tool, func(t *testing.T) {
			bin := t.TempDir()
			for _, name := range []string{"sh", "mktemp", "grep", "sleep", "nohup", "rm", tool} {
				p, err := exec.LookPath(name)
				if err != nil {
					t.Skipf("no %s on this machine", name)
				}
				if name == "python3" { // a pyenv shim needs its own PATH: a wrapper
					wrapper := "#!" + mustLook(t, "sh") + "\nexec " + p + " \"$@\"\n"
					if out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
						wrapper = "#!" + mustLook(t, "sh") + "\nexec " + strings.TrimSpace(string(out)) + " \"$@\"\n"
					}
					if err := os.WriteFile(filepath.Join(bin, name), []byte(wrapper), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
					t.Fatal(err)
				}
			}
			ports := []int{freePort(t), freePort(t)}
			sh := func(script string) string {
				t.Helper()
				cmd := exec.Command(filepath.Join(bin, "sh"), "-c", script)
				cmd.Env = []string{"PATH=" + bin}
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return strings.TrimSpace(string(out))
			}
			pid := sh(listenScript(ports, 60, "mke-migrate-portcheck abc"))
			if _, err := strconv.Atoi(pid); err != nil {
				t.Fatalf("listener did not start: %q", pid)
			}
			for _, p := range ports {
				c, err := stdnet.DialTimeout("tcp", stdnet.JoinHostPort("127.0.0.1", strconv.Itoa(p)), 10*time.Second)
				if err != nil {
					t.Fatalf("port %d: %v", p, err)
				}
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				_ = c.Close()
				if err != nil || line != "mke-migrate-portcheck abc\n" {
					t.Fatalf("port %d: banner %q, %v", p, line, err)
				}
			}
			// a port taken: the listener fails, and says so
			if got := sh(listenScript(ports[:1], 60, "")); got != "failed" {
				t.Errorf("second listener on a taken port: %q, want failed", got)
			}
			sh(stopScript(pid))
			for _, p := range ports {
				l, err := stdnet.Listen("tcp", stdnet.JoinHostPort("0.0.0.0", strconv.Itoa(p)))
				if err != nil {
					t.Fatalf("port %d still taken after stopScript: %v", p, err)
				}
				_ = l.Close()
			}
		})
	}
}

func mustLook(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("no %s", name)
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := stdnet.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*stdnet.TCPAddr).Port
}
