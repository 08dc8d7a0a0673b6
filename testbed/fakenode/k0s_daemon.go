//go:build !fakenodelight

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// The fake's daemons, shared by the controller and the worker side: a unit
// k0s starts (k0scontroller.service, k0sworker.service) runs as a detached
// process "fakenode k0s-daemon <unit>" in its own session (setsid), its pid
// in PidsDir/<unit>.pid, its output in /var/log/fakenode/<unit>.log. The
// processes it starts (etcd, kube-apiserver, …) die with it (Pdeathsig)
// and are in its process group, so stopping it is SIGTERM to the group,
// then SIGKILL (the test bed's process contract).

// kubeAssets is the folder of the real control-plane binaries, or "" when
// this node runs k0s in fast (JSON-only) mode: KubeAssetsFile, else the
// testbin folder of a realistic node (node.json's real.testbin, which the
// test bed sets for ClusterOptions.Real).
func (e *env) kubeAssets() string {
	if b, err := os.ReadFile(e.path(fakestate.KubeAssetsFile)); err == nil {
		return strings.TrimSpace(string(b))
	}
	var n struct {
		Real *struct {
			Testbin string `json:"testbin"`
		} `json:"real"`
	}
	if ok, err := e.loadJSON(fakestate.NodeFile, &n); err != nil || !ok || n.Real == nil {
		return ""
	}
	return n.Real.Testbin
}

func (e *env) pidFile(unit string) string {
	return filepath.Join(e.dir, fakestate.PidsDir, unit+".pid")
}

// daemonPID is the pid of the unit's daemon while it runs, else 0.
func (e *env) daemonPID(unit string) int {
	b, err := os.ReadFile(e.pidFile(unit))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), daemonArg+"\x00"+unit) {
		return 0
	}
	// a zombie is not running
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return 0
		}
	}
	return pid
}

// startDaemon starts the unit's daemon unless it runs.
func (e *env) startDaemon(unit string) error {
	if e.daemonPID(unit) != 0 {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(k0sLogDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(e.pidFile(unit)), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(k0sLogDir, unit+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	cmd := exec.Command(exe, daemonArg, unit)
	cmd.Env = append(os.Environ(), "FAKENODE_DIR="+e.dir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return fakestate.WriteFile(e.pidFile(unit), []byte(strconv.Itoa(pid)+"\n"))
}

// stopDaemon ends the unit's daemon and its process group: SIGTERM, then
// SIGKILL after grace.
func (e *env) stopDaemon(unit string, grace time.Duration) error {
	pid := e.daemonPID(unit)
	if pid == 0 {
		_ = os.Remove(e.pidFile(unit))
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for e.daemonPID(unit) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for i := 0; i < 100 && e.daemonPID(unit) != 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return os.Remove(e.pidFile(unit))
}

// runDaemon is the body of "fakenode k0s-daemon <unit>": it runs until
// SIGTERM or until the role's main returns, and exits non-zero on error
// (the log says why), as a k0s that failed to start does.
func (e *env) runDaemon(unit string) error {
	unlock, err := e.lock()
	if err != nil {
		return err
	}
	k, err := e.k0sState()
	unlock()
	if err != nil {
		return err
	}
	if k == nil || k.Unit != unit {
		return fmt.Errorf("k0s-daemon: %s is not installed", unit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d := &daemon{e: e, k: k, assets: e.kubeAssets()}
	defer d.stopAll()
	var main func(context.Context) error
	switch k.Role {
	case roleWorker:
		main = d.workerMain
	default:
		main = d.controllerMain
	}
	err = main(ctx)
	if err != nil {
		d.logf("k0s %s failed: %v", k.Role, err)
	}
	return err
}

// daemon is one running k0s (controller or worker) process.
type daemon struct {
	e      *env
	k      *fakestate.K0s
	assets string // folder of the real binaries

	mu    sync.Mutex
	procs []*exec.Cmd
	died  chan string // names of children that exited
	// running is set once k0s is ready: from then on a child that exits
	// is restarted; before, it fails the start. stopping ends restarts.
	running, stopping bool
}

func (d *daemon) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, a...))
}

// spawn starts a child binary from the assets folder, logging to
// /var/log/fakenode/<name>.log; it dies with the daemon (Pdeathsig).
func (d *daemon) spawn(name string, args ...string) (*exec.Cmd, error) {
	bin := filepath.Join(d.assets, name)
	logf, err := os.OpenFile(filepath.Join(k0sLogDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	d.logf("starting %s %s", name, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	d.mu.Lock()
	if d.died == nil {
		d.died = make(chan string, 16)
	}
	died := d.died
	d.procs = append(d.procs, cmd)
	d.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = logf.Close()
		d.logf("%s exited: %v", name, err)
		d.mu.Lock()
		restart := d.running && !d.stopping
		d.mu.Unlock()
		if restart {
			// once k0s runs, its supervisor (pkg/supervisor) restarts a
			// component that exits, for example kube-controller-manager
			// after losing its lease while etcd had no quorum
			time.Sleep(time.Second)
			d.mu.Lock()
			stopping := d.stopping
			d.mu.Unlock()
			if stopping {
				return
			}
			if _, err := d.spawn(name, args...); err == nil {
				return
			}
		}
		died <- name
	}()
	return cmd, nil
}

// diedCh reports children that exited.
func (d *daemon) diedCh() <-chan string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.died == nil {
		d.died = make(chan string, 16)
	}
	return d.died
}

// stopAll stops the children in reverse start order: SIGTERM, then
// SIGKILL after a few seconds.
func (d *daemon) stopAll() {
	d.mu.Lock()
	d.stopping = true
	procs := d.procs
	d.procs = nil
	d.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.ProcessState != nil {
			continue
		}
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for p.ProcessState == nil {
				if err := syscall.Kill(p.Process.Pid, 0); err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.Process.Kill()
		}
	}
}

// k0sStatus is the part of pkg/component/status.K0sStatus that k0s status
// prints.
type k0sStatus struct {
	Version    string
	Pid        int
	PPid       int
	Role       string
	SysInit    string
	StubFile   string
	Workloads  bool
	SingleNode bool
	Args       []string
	// WorkerToAPIConnectionStatus as k0s reports it for workers.
	WorkerToAPIConnectionStatus struct {
		Message string
		Success bool
	}
}

// serveStatus serves /status on the status socket, as k0s's status
// component does once the components before it are ready
// (pkg/component/manager/manager.go starts components in order and waits
// for each one's readiness).
func (d *daemon) serveStatus(ctx context.Context, st k0sStatus) error {
	if err := os.MkdirAll(filepath.Dir(k0sStatusSocket), 0o755); err != nil {
		return err
	}
	_ = os.Remove(k0sStatusSocket)
	l, err := net.Listen("unix", k0sStatusSocket)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
		_ = os.Remove(k0sStatusSocket)
	}()
	return nil
}

// getStatus is status.GetStatusInfo: GET http://localhost/status over the
// socket; its error text is k0s's.
func getStatus(socket string) (*k0sStatus, error) {
	c := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", socket)
		}}}
	resp, err := c.Get("http://localhost/status")
	if err != nil {
		return nil, fmt.Errorf("status: can't get %q via %q: %w", "status", socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status: can't get %q via %q: status code %d", "status", socket, resp.StatusCode)
	}
	var st k0sStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("status: can't get %q via %q: can't decode JSON: %w", "status", socket, err)
	}
	return &st, nil
}
