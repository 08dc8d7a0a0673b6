package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// Real processes behind containers (the test bed's "Processes" contract):
// a container with Exec runs as a detached process of the host (its own
// session, so the SSH session that ran docker can end), in a private mount
// namespace where its Mounts are bound at their destinations, as a
// container sees its volumes. Its PID is kept in procs.json and its output
// goes to /var/log/fakenode/<name>.log. docker stop sends SIGTERM to the
// process group, waits the stop timeout (docker's default 10 s, -t), then
// SIGKILL, as dockerd's container stop does (moby daemon/stop.go).

// initSpec is what "fakenode container-init" gets: mounts and the argv.
type initSpec struct {
	Mounts []fakestate.Mount `json:"mounts"`
	Argv   []string          `json:"argv"`
}

// volumePath is where the local volume driver keeps a volume's data
// (moby volume/local: <root>/volumes/<name>/_data).
// FAKENODE_VOLUMES_DIR replaces the root in unit tests.
func volumePath(name string) string {
	root := fakestate.VolumesDir
	if d := os.Getenv("FAKENODE_VOLUMES_DIR"); d != "" {
		root = d
	}
	return filepath.Join(root, name, "_data")
}

func (e *env) procs() (fakestate.Procs, error) {
	p := fakestate.Procs{}
	_, err := e.loadJSON(fakestate.ProcsFile, &p)
	return p, err
}

func (e *env) saveProcs(p fakestate.Procs) error { return e.saveJSON(fakestate.ProcsFile, p) }

// procStart returns the start time (field 22 of /proc/PID/stat) of a
// live, non-zombie process.
func procStart(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19]
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, err == nil
}

// alive reports whether p is still the process that was started.
func alive(p fakestate.Proc) bool {
	st, ok := procStart(p.PID)
	return ok && st == p.Start
}

// mountpoints makes the destinations of mounts that do not exist (a
// folder, or an empty file when the source is a file), as dockerd makes
// them in a container's root, and returns what it created, deepest last.
func mountpoints(mounts []fakestate.Mount) ([]string, error) {
	var created []string
	for _, m := range mounts {
		fi, err := os.Stat(m.Source)
		if err != nil {
			return created, fmt.Errorf("invalid mount config for type %q: bind source path does not exist: %s", m.Type, m.Source)
		}
		if _, err := os.Lstat(m.Destination); err == nil {
			continue
		}
		// the first missing ancestor is what removing undoes
		top := m.Destination
		for p := filepath.Dir(top); p != "/"; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); err == nil {
				break
			}
			top = p
		}
		dir := m.Destination
		if !fi.IsDir() {
			dir = filepath.Dir(m.Destination)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return created, err
		}
		if !fi.IsDir() {
			f, err := os.OpenFile(m.Destination, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return created, err
			}
			_ = f.Close()
		}
		created = append(created, top)
	}
	return created, nil
}

// removeCreated removes the mount points mountpoints created, if empty.
func removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		removeEmpty(created[i])
	}
}

// removeEmpty removes p and the empty folders under it, bottom up; a
// non-empty folder stays.
func removeEmpty(p string) {
	fi, err := os.Lstat(p)
	if err != nil {
		return
	}
	if fi.IsDir() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			removeEmpty(filepath.Join(p, e.Name()))
		}
	} else if fi.Size() > 0 {
		return
	}
	_ = os.Remove(p)
}

// initCmd is the command that runs argv with mounts in a private mount
// namespace (see containerInit).
func initCmd(mounts []fakestate.Mount, argv []string) (*exec.Cmd, error) {
	spec, err := json.Marshal(initSpec{Mounts: mounts, Argv: argv})
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: self, Args: []string{"fakenode", "container-init", string(spec)}, Dir: "/",
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
		// Go makes / recursively private in the new mount namespace
		// (syscall/exec_linux.go), so the binds stay in the container.
		SysProcAttr: &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}}
	return cmd, nil
}

// containerInit binds the spec's mounts and execs its argv; it runs as
// the first process of a container's private mount namespace.
func containerInit(arg string) error {
	var s initSpec
	if err := json.Unmarshal([]byte(arg), &s); err != nil {
		return fmt.Errorf("container-init: %w", err)
	}
	for _, m := range s.Mounts {
		if err := syscall.Mount(m.Source, m.Destination, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("container-init: bind %s on %s: %w", m.Source, m.Destination, err)
		}
		if !m.RW {
			if err := syscall.Mount("", m.Destination, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("container-init: read-only %s: %w", m.Destination, err)
			}
		}
	}
	if len(s.Argv) == 0 {
		return errors.New("container-init: no command")
	}
	bin := s.Argv[0]
	if !filepath.IsAbs(bin) {
		p, err := exec.LookPath(bin)
		if err != nil {
			return fail(127, "exec: %q: executable file not found in $PATH", bin)
		}
		bin = p
	}
	return syscall.Exec(bin, s.Argv, os.Environ())
}

// startProcess starts c's process unless it runs already.
func (e *env) startProcess(procs fakestate.Procs, c *fakestate.Container) error {
	if len(c.Exec) == 0 {
		return nil
	}
	if p, ok := procs[c.ID]; ok && alive(p) {
		return nil
	}
	created, err := mountpoints(c.Mounts)
	if err != nil {
		return fail(1, "Error response from daemon: %v", err)
	}
	if err := os.MkdirAll(fakestate.LogDir, 0o755); err != nil {
		return err
	}
	lf, err := os.OpenFile(filepath.Join(fakestate.LogDir, c.Name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd, err := initCmd(c.Mounts, append(append([]string{}, c.Exec...), c.Args...))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr.Setsid = true
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.Name, err)
	}
	pid := cmd.Process.Pid
	st, _ := procStart(pid)
	procs[c.ID] = fakestate.Proc{PID: pid, Start: st, Created: created}
	_ = cmd.Process.Release()
	return nil
}

// stopProcess stops c's process: SIGTERM to its process group, SIGKILL
// after timeout.
func (e *env) stopProcess(procs fakestate.Procs, c *fakestate.Container, timeout time.Duration) {
	p, ok := procs[c.ID]
	if !ok {
		return
	}
	delete(procs, c.ID)
	if !alive(p) {
		return
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	if !waitGone(p, timeout) {
		_ = syscall.Kill(-p.PID, syscall.SIGKILL)
		// a safety net only: SIGKILL cannot be ignored
		waitGone(p, 30*time.Second)
	}
}

func waitGone(p fakestate.Proc, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(p) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// syncProcesses marks containers whose process ended as exited, as dockerd
// does when a container's main process exits.
func (e *env) syncProcesses(n *fakestate.Node, procs fakestate.Procs) bool {
	changed := false
	for i := range n.Containers {
		c := &n.Containers[i]
		if len(c.Exec) == 0 || !c.Running {
			continue
		}
		if p, ok := procs[c.ID]; !ok || !alive(p) {
			c.Running = false
			delete(procs, c.ID)
			changed = true
		}
	}
	return changed
}

// boot starts the processes of the running containers named (all when
// none are), as dockerd does for its containers when it starts.
func (e *env) boot(names []string) error {
	n, err := e.node()
	if err != nil {
		return err
	}
	procs, err := e.procs()
	if err != nil {
		return err
	}
	var errs []error
	for i := range n.Containers {
		c := &n.Containers[i]
		if !c.Running || (len(names) > 0 && indexOf(names, c.Name) < 0) {
			continue
		}
		errs = append(errs, e.startProcess(procs, c))
	}
	errs = append(errs, e.saveProcs(procs))
	return errors.Join(errs...)
}

// stopAll stops every container process (dockerd stopping), leaving the
// containers' states as they were for the next start.
func (e *env) stopAll(n *fakestate.Node) error {
	procs, err := e.procs()
	if err != nil {
		return err
	}
	for i := range n.Containers {
		e.stopProcess(procs, &n.Containers[i], 10*time.Second)
	}
	return e.saveProcs(procs)
}

// processRuns reports whether the named container's process is alive.
func (e *env) processRuns(name string) (bool, error) {
	n, err := e.node()
	if err != nil {
		return false, err
	}
	i := findContainer(n, name)
	if i < 0 {
		return false, fail(1, "Error: No such container: %s", name)
	}
	procs, err := e.procs()
	if err != nil {
		return false, err
	}
	p, ok := procs[n.Containers[i].ID]
	return ok && alive(p), nil
}

// memory prints the resident memory of every live container process.
func (e *env) memory() error {
	n, err := e.node()
	if err != nil {
		return err
	}
	procs, err := e.procs()
	if err != nil {
		return err
	}
	for _, c := range n.Containers {
		p, ok := procs[c.ID]
		if !ok || !alive(p) {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				fmt.Fprintf(e.stdout, "%s %d\n", c.Name, kb*1024)
			}
		}
	}
	return nil
}
