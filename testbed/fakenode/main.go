// Command fakenode is a multi-call program that stands in for docker,
// systemctl and k0s on a testbed host (see testbed.StartCluster). It
// dispatches on the name it is called by (filepath.Base(os.Args[0])) and
// keeps all state in JSON files under /var/lib/fakenode (package
// testbed/internal/fakestate), written atomically under an flock, so that
// a node can be digested and compared.
//
// Called as fakenode it offers helper commands for the testbed:
//
//	fakenode digest [PATH...]  SHA-256 over /var/lib/fakenode (volatile files
//	                           excluded) and the given paths ("absent" if missing)
//	fakenode faults-add    append the JSON fault read from stdin
//	fakenode faults-clear  remove all faults
//
// Called by another name (a program testbed Cluster.InterceptProgram put in
// front of, such as sha256sum) it applies the matching fault and then
// executes the real program.
//
// Before running a docker, systemctl or k0s command it consults
// /var/lib/fakenode/faults.json: the first fault whose Match is a prefix of
// the command's words (for example "docker swarm leave") applies; see
// testbed.Fault. Unsupported commands exit 1 with "fakenode: unsupported …"
// on stderr so that tests notice gaps in the simulation.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// daemonArg is the first argument of fakenode that runs a daemon.
const daemonArg = "k0s-daemon"

// exitError ends the program with code after printing msg to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, a ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, a...)}
}

func unsupported(tool string, args []string) error {
	return fail(1, "fakenode: unsupported %s command: %s %s", tool, tool, strings.Join(args, " "))
}

// env is one invocation: the state directory, output streams and the lock.
type env struct {
	dir    string
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	// asRoot makes commands that need root run for a test that is not
	// root; fsRoot, when set, is where absolute host paths (/etc/cni,
	// /var/lib/k0s, …) live in a unit test (see hostPath).
	asRoot bool
	fsRoot string
}

func main() {
	e := &env{dir: fakestate.Dir, stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}
	if d := os.Getenv("FAKENODE_DIR"); d != "" {
		e.dir = d
	}
	name := filepath.Base(os.Args[0])
	var err error
	if len(os.Args) == 3 && os.Args[1] == daemonArg {
		// a daemon runs without the state lock (see k0s_daemon.go)
		err = e.runDaemon(os.Args[2])
	} else {
		err = e.run(name, os.Args[1:])
	}
	var xe *exitError
	switch {
	case err == nil:
	case errors.As(err, &xe):
		if xe.msg != "" {
			fmt.Fprintln(os.Stderr, xe.msg)
		}
		os.Exit(xe.code)
	default:
		fmt.Fprintln(os.Stderr, "fakenode:", err)
		os.Exit(1)
	}
}

func (e *env) run(name string, args []string) error {
	if lightProgram && needsFull(name, args) {
		return execFull()
	}
	var cmd func([]string) error
	switch name {
	case "docker":
		cmd = e.docker
	case "systemctl":
		cmd = e.systemctl
	case "k0s":
		cmd = e.k0s
	default:
		if real := interceptedProgram(name); real != "" {
			return e.passThrough(name, real, args)
		}
		return e.helper(args)
	}
	if name == "k0s" && len(args) > 0 && args[0] == "worker" {
		// the k0sworker service's long-running process: it takes no lock
		return e.k0sWorker(args[1:])
	}
	if err := e.fault(name, args, true); err != nil {
		return err
	}
	if name == "k0s" && len(args) > 0 && (args[0] == "kubectl" || args[0] == "kc") && e.kubeAssets() != "" {
		// the real kubectl keeps no fake state; a drain can take minutes
		// and must not hold up the node's other fake commands
		return cmd(args)
	}
	unlock, err := e.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return cmd(args)
}

// fault takes the first fault that matches name and args (logging the
// call in Calls first when logged) and applies it: nil when none matches
// or the fault lets the command run.
func (e *env) fault(name string, args []string, logged bool) error {
	unlock, err := e.lock()
	if err != nil {
		return err
	}
	if logged {
		e.logCall(name, args)
	}
	f, err := e.takeFault(append([]string{name}, args...))
	unlock()
	if err != nil || f == nil {
		return err
	}
	return applyFault(f, e.stdout)
}

// interceptedProgram is the real program fakenode stands in front of when
// called as name (testbed Cluster.InterceptProgram links
// /usr/local/bin/NAME to it), or "".
func interceptedProgram(name string) string {
	if name == "fakenode" || strings.ContainsRune(name, '/') {
		return ""
	}
	for _, d := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// passThrough applies the first fault that matches name and args, then
// runs the real program in place of this process (same arguments,
// environment and streams): without a fault, as if it was called
// directly.
func (e *env) passThrough(name, real string, args []string) error {
	if err := e.fault(name, args, false); err != nil {
		return err
	}
	return syscall.Exec(real, append([]string{name}, args...), os.Environ())
}

// helper runs the commands of fakenode called by its own name.
func (e *env) helper(args []string) error {
	if len(args) == 0 {
		return fail(1, "usage: fakenode digest|faults-add|faults-clear|boot")
	}
	// the processes behind containers: never under the lock
	switch args[0] {
	case "container-init":
		if len(args) != 2 {
			return fail(1, "usage: fakenode container-init SPEC")
		}
		return containerInit(args[1])
	case "serve":
		return serve(args[1:])
	}
	unlock, err := e.lock()
	if err != nil {
		return err
	}
	defer unlock()
	switch args[0] {
	case "digest":
		d, err := digest(e.dir, args[1:]...)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, d)
		return nil
	case "faults-add":
		var f fakestate.Fault
		if err := json.NewDecoder(e.stdin).Decode(&f); err != nil {
			return fmt.Errorf("faults-add: %w", err)
		}
		fs, err := e.faults()
		if err != nil {
			return err
		}
		return fakestate.WriteJSON(e.path(fakestate.FaultsFile), append(fs, f))
	case "boot":
		return e.boot(args[1:])
	case "memory":
		// "NAME BYTES" per running container process (VmRSS)
		return e.memory()
	case "running":
		// whether a container's process runs: true or false
		if len(args) != 2 {
			return fail(1, "usage: fakenode running CONTAINER")
		}
		ok, err := e.processRuns(args[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, ok)
		return nil
	case "faults-clear":
		err := os.Remove(e.path(fakestate.FaultsFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return unsupported("fakenode", args)
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// lock takes an exclusive flock on the state directory's lock file.
func (e *env) lock() (func(), error) {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	f, err := os.OpenFile(e.path(fakestate.LockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if errors.Is(err, os.ErrPermission) {
		// not root: read-only commands still work; writes fail later
		how = syscall.LOCK_SH
		f, err = os.Open(e.path(fakestate.LockFile))
	}
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}

func (e *env) logCall(name string, args []string) {
	b, _ := json.Marshal(append([]string{name}, args...))
	f, err := os.OpenFile(e.path(fakestate.CallsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	_, _ = f.Write(append(b, '\n'))
	_ = f.Close()
}

func (e *env) faults() ([]fakestate.Fault, error) {
	var fs []fakestate.Fault
	b, err := os.ReadFile(e.path(fakestate.FaultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("%s: %w", fakestate.FaultsFile, err)
	}
	return fs, nil
}

// takeFault returns the first fault matching argv, counting its use.
func (e *env) takeFault(argv []string) (*fakestate.Fault, error) {
	fs, err := e.faults()
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	for i := range fs {
		f := &fs[i]
		if f.Times > 0 && f.Used >= f.Times {
			continue
		}
		if !matches(strings.Fields(f.Match), argv) {
			continue
		}
		f.Used++
		if err := fakestate.WriteJSON(e.path(fakestate.FaultsFile), fs); err != nil && !errors.Is(err, os.ErrPermission) {
			return nil, err
		}
		return f, nil
	}
	return nil, nil
}

func matches(prefix, argv []string) bool {
	if len(prefix) == 0 || len(prefix) > len(argv) {
		return false
	}
	for i, w := range prefix {
		if argv[i] != w {
			return false
		}
	}
	return true
}

// applyFault carries a fault out. It returns nil when the command should
// then run normally (a pure hang).
func applyFault(f *fakestate.Fault, stdout io.Writer) error {
	if f.CloseConnection {
		killSession()
		return fail(255, "fakenode: connection closed by fault")
	}
	if f.HangSeconds > 0 {
		// SIGTERM and SIGKILL keep their default action: they end the
		// sleep. So does the caller going away (its end of stdout or
		// stderr closed, as when an SSH session is closed).
		if !hang(time.Duration(f.HangSeconds * float64(time.Second))) {
			return fail(129, "")
		}
	}
	if f.Stdout != "" {
		fmt.Fprint(stdout, f.Stdout)
	}
	if f.ExitCode != 0 || f.Stderr != "" {
		code := f.ExitCode
		if code == 0 {
			code = 1
		}
		return fail(code, "%s", strings.TrimRight(f.Stderr, "\n"))
	}
	return nil
}

// killSession SIGKILLs the sshd session processes among the ancestors of
// this process (never PID 1, the listening sshd of the host).
func killSession() {
	pid := os.Getppid()
	var victims []int
	for pid > 1 {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		c := strings.TrimSpace(string(comm))
		if c == "sshd" || c == "sshd-session" {
			victims = append(victims, pid)
		}
		pid = parentOf(pid)
	}
	for _, v := range victims {
		_ = syscall.Kill(v, syscall.SIGKILL)
	}
}

func parentOf(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// digest hashes the sorted relative paths, modes and contents of the
// files under dir, leaving out volatile files and temporary files, then
// each of extra (see hashPath).
func digest(dir string, extra ...string) (string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		if fakestate.Volatile(rel) || strings.HasPrefix(filepath.Base(rel), ".tmp-") {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%d\x00", len(b))
			h.Write(b)
		}
	}
	for _, p := range extra {
		if err := hashPath(h, p); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashPath adds a path outside the state folder to a digest: "absent" when
// it does not exist, else every file under it (itself for a file) with its
// mode and content, a symbolic link with its target (not followed, so a
// link to fakenode differs from an uploaded binary).
func hashPath(h io.Writer, root string) error {
	fmt.Fprintf(h, "\x01%s\x00", root)
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		fmt.Fprint(h, "absent\x00")
		return nil
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// an upload in progress (hosts.Upload's temporary file) is not state
		if strings.HasPrefix(d.Name(), ".mke-upload.") || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", p, fi.Mode())
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%d\x00", len(b))
			_, _ = h.Write(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "-> %s\x00", t)
		}
		return nil
	})
}

// loadJSON reads dir/name into v; a missing file leaves v unchanged and
// reports false.
func (e *env) loadJSON(name string, v any) (bool, error) {
	b, err := os.ReadFile(e.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

func (e *env) saveJSON(name string, v any) error {
	return fakestate.WriteJSON(e.path(name), v)
}

func (e *env) node() (*fakestate.Node, error) {
	var n fakestate.Node
	ok, err := e.loadJSON(fakestate.NodeFile, &n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fail(1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
	}
	return &n, nil
}

func (e *env) units() (fakestate.Units, error) {
	u := fakestate.Units{}
	_, err := e.loadJSON(fakestate.UnitsFile, &u)
	return u, err
}

// pollFd is struct pollfd of poll(2); with no events requested, ppoll
// reports only POLLERR, POLLHUP and POLLNVAL.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollErr  = 0x8
	pollHup  = 0x10
	pollNval = 0x20
)

// hang sleeps d and reports true, or reports false as soon as the reader
// of stdout or stderr is gone.
func hang(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		fds := [2]pollFd{{fd: 1}, {fd: 2}}
		ts := syscall.NsecToTimespec(int64(100 * time.Millisecond))
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)),
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno == 0 && n > 0 {
			for _, p := range fds {
				if p.revents&(pollErr|pollHup|pollNval) != 0 {
					return false
				}
			}
		}
		if errno != 0 || n == 0 {
			continue
		}
		// writable without error: a pipe or file; keep sleeping
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// needsFull tells the commands the light program (light.go) leaves to the
// full one: k0s's, and systemctl's on a k0s unit (which starts or stops
// k0s's daemon). It decides before any lock or fault is taken, so that
// the full program does both as it would alone.
func needsFull(name string, args []string) bool {
	switch name {
	case "k0s":
		return true
	case "systemctl":
		for _, a := range args {
			if strings.Contains(a, "k0s") {
				return true
			}
		}
	}
	return false
}

// fullPath is where the testbed installs the full program (see
// testbed.FakeNodeFullPath) that the light one (light.go) execs for k0s;
// FAKENODE_FULL overrides it.
const fullPath = "/usr/local/bin/fakenode-full"

// execFull replaces this process by the full program.
func execFull() error {
	p := fullPath
	if v := os.Getenv("FAKENODE_FULL"); v != "" {
		p = v
	}
	err := syscall.Exec(p, os.Args, os.Environ())
	return fmt.Errorf("fakenode (light): exec the full program %s: %w", p, err)
}
