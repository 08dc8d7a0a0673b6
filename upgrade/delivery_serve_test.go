package upgrade

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	rq "github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// serveStandIns writes, in dir, stand-ins for the two tools the one-shot
// server runs, each as the real one behaves where it matters here:
// openssl req writes the key and certificate it is asked for; openssl
// s_server prints ACCEPT once it listens (apps/lib/s_socket.c, do_server:
// report_server_accept before its accept loop), and with -naccept 1 ends
// after the one connection it serves, which it drains for up to 0.5 s
// after the client is done (so the client finishes first and the
// server's cleanup comes later), here at once; timeout runs the command
// and exits with its status (coreutils timeout(1)). The stand-in timeout then waits
// for the file go-N in dir (N: the how-manieth timeout it is) before it
// exits, so the test chooses when the server's own cleanup runs; it
// ignores SIGTERM meanwhile, as a timeout that has already exited cannot
// be stopped either; ppid-N names the shell that waits for it (and then
// cleans up).
func serveStandIns(t *testing.T, dir string) {
	t.Helper()
	write := func(name, body string) {
		rq.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755))
	}
	write("openssl", `case "$1" in
req) while [ $# -gt 0 ]; do case "$1" in -keyout|-out) : > "$2"; shift;; esac; shift; done; exit 0;;
s_server) echo ACCEPT; exit 0;;
esac
exit 1
`)
	write("timeout", `trap '' TERM
d=`+shell.Quote(dir)+`
n=$(ls "$d" | grep -c '^started-' || true); n=$((n+1)); : > "$d/started-$n"; echo $PPID > "$d/ppid-$n"
shift; "$@"; s=$?
while [ ! -e "$d/go-$n" ]; do sleep 0.05; done
exit $s
`)
}

// A one-shot server that served its copy removes its folder once it
// ended; a server started meanwhile on the same port (the slot is free
// again as soon as the copy is done) keeps its own: the late cleanup of
// the first must not remove the second's folder, which made the second
// fail ("chmod: cannot access .../peer-19445") and its copy fall back to
// an upload (seen in TestResumedPeerDeliverySendsNoBinaryAgain).
func TestOneShotServerCleanupKeepsTheNextServersFolder(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	stub, root := t.TempDir(), t.TempDir()
	serveStandIns(t, stub)
	state, k0s := filepath.Join(root, "state"), filepath.Join(root, "k0s")
	rq.NoError(t, os.WriteFile(k0s, []byte("k0s"), 0o755))
	node := localNode{stub}
	const port = 19443
	folders := func() []string {
		m, err := filepath.Glob(filepath.Join(state, "peer-"+strconv.Itoa(port)+"*"))
		rq.NoError(t, err)
		return m
	}
	serve := func() {
		t.Helper()
		_, err := node.Exec(t.Context(), shell.Sudo(serveStartCmd(state, k0s, "127.0.0.1", port)))
		rq.NoError(t, err)
	}
	serve()
	first := folders()
	rq.Len(t, first, 1)
	// the first served its copy; the second starts before its cleanup
	serve()
	after := folders()
	second := after[0] // before the fix: the same folder as the first's
	for _, f := range after {
		if f != first[0] {
			second = f
		}
	}
	rq.NotEmpty(t, second)
	rq.FileExists(t, filepath.Join(second, "pid"))
	// the first's cleanup runs now: its folder goes, the second's stays
	rq.NoError(t, os.WriteFile(filepath.Join(stub, "go-1"), nil, 0o600))
	deadline := time.Now().Add(30 * time.Second) // a safety net only
	waitEnded(t, stub, 1, deadline)
	rq.FileExists(t, filepath.Join(second, "pid"), "the first server's cleanup removed the second's folder")
	rq.FileExists(t, filepath.Join(second, "www", "k0s"))
	// the second's own cleanup removes its folder, and no other is left
	rq.NoError(t, os.WriteFile(filepath.Join(stub, "go-2"), nil, 0o600))
	waitEnded(t, stub, 2, deadline)
	rq.Empty(t, folders())
}

// waitEnded waits until the shell that waited for the n-th stand-in
// timeout (its ppid-n) has ended: gone, or a zombie nobody reaps.
func waitEnded(t *testing.T, stub string, n int, deadline time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stub, "ppid-"+strconv.Itoa(n)))
	rq.NoError(t, err)
	stat := "/proc/" + strings.TrimSpace(string(b)) + "/stat"
	for {
		st, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		rq.True(t, time.Now().Before(deadline), "the server's shell %s never ended", b)
		time.Sleep(20 * time.Millisecond)
	}
}
