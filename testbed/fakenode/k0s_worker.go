//go:build !fakenodelight

package main

// The worker side of the fake k0s: the process of the k0sworker service
// (k0s_daemon.go starts it as "fakenode k0s-daemon k0sworker.service" and
// runs workerMain) and "k0s worker" run in the foreground. What it does is
// in k0s_worker_daemon.go (join) and k0s_worker_node.go (kubelet). Every
// behaviour follows k0s v1.33.9+k0s.0; the file is named next to it.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
)

// envRoot prefixes the absolute host paths the worker uses outside its data
// folder (/run/k0s, /etc/cni): tests that run "k0s worker" on the machine
// rather than in a test-bed host set it.
const envRoot = "FAKENODE_ROOT"

// workerOptions are the flags of k0s worker that the fake uses.
type workerOptions struct {
	dataDir, kubeletRootDir, profile, tokenFile, kubeletExtraArgs, criSocket string
	labels, taints                                                           []string
}

// parseWorkerArgs parses the arguments of "k0s worker" (cmd/worker/worker.go:
// the persistent, worker and debug flags, --ignore-pre-flight-checks, at
// most one positional join token), as the service's command line or typed
// in a shell.
func parseWorkerArgs(args []string) (workerOptions, string, error) {
	fs := pflag.NewFlagSet("k0s worker", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.AddFlagSet(persistentFlagSet())
	fs.AddFlagSet(workerFlags())
	debugFlags(fs)
	fs.Bool("ignore-pre-flight-checks", false, "continue even if pre-flight checks fail")
	var o workerOptions
	if err := fs.Parse(args); err != nil {
		return o, "", err
	}
	if n := fs.NArg(); n > 1 {
		return o, "", fmt.Errorf("accepts at most 1 arg(s), received %d", n)
	}
	o.dataDir, _ = fs.GetString("data-dir")
	o.kubeletRootDir, _ = fs.GetString("kubelet-root-dir")
	o.profile, _ = fs.GetString("profile")
	o.tokenFile, _ = fs.GetString("token-file")
	o.kubeletExtraArgs, _ = fs.GetString("kubelet-extra-args")
	o.criSocket, _ = fs.GetString("cri-socket")
	o.labels, _ = fs.GetStringSlice("labels")
	o.taints, _ = fs.GetStringSlice("taints")
	tokenArg := fs.Arg(0)
	if tokenArg != "" && o.tokenFile != "" {
		return o, "", errors.New("you can only pass one token argument either as a CLI argument 'k0s worker [token]' or as a flag 'k0s worker --token-file [path]'")
	}
	return o, tokenArg, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// k0sWorker runs "k0s worker [join-token]" in the foreground: an error
// ends it with exit code 1, as k0s's does.
func (e *env) k0sWorker(args []string) error {
	o, tok, err := parseWorkerArgs(args)
	if err != nil {
		return fail(1, "Error: %v", err)
	}
	w, err := e.newWorker(o, tok)
	if err != nil {
		return fail(1, "Error: %v", err)
	}
	ctx, stop := signalContext()
	defer stop()
	if err := w.runOnce(ctx); err != nil && ctx.Err() == nil {
		return fail(1, "Error: %v", err)
	}
	w.log.Info("Shutting down k0s worker")
	return nil
}

// workerMain is the k0sworker service's process: "k0s worker" with the
// installed arguments, restarted after an error RestartSec=10 later as
// systemd's Restart=always does (pkg/install/linux_systemd.go). Its status
// socket answers once kubelet started (the status component comes after
// the kubelet in cmd/worker/worker.go and worker_unix.go).
func (d *daemon) workerMain(ctx context.Context) error {
	args := d.k.Args
	if len(args) > 0 && args[0] == "worker" {
		args = args[1:]
	}
	o, tok, err := parseWorkerArgs(args)
	if err != nil {
		return err
	}
	w, err := d.e.newWorker(o, tok)
	if err != nil {
		return err
	}
	w.kubeletStarted = func(ctx context.Context) {
		pid := os.Getpid()
		if err := d.serveStatus(ctx, k0sStatus{Version: binaryK0sVersion(), Pid: pid, PPid: os.Getppid(), Role: "worker",
			SysInit: "linux-systemd", StubFile: "/etc/systemd/system/" + d.k.Unit, Workloads: true,
			Args: append([]string{"/usr/local/bin/k0s"}, d.k.Args...)}); err != nil {
			w.log.Error("status socket", "error", err)
		}
	}
	for {
		rctx, cancel := context.WithCancel(ctx)
		err := w.runOnce(rctx)
		cancel()
		if ctx.Err() != nil {
			w.log.Info("Shutting down k0s worker")
			return nil
		}
		w.log.Error("k0s worker exited; systemd restarts it", "error", err, "after", restartDelay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(restartDelay):
		}
	}
}

// newWorker resolves the paths of config.NewCfgVars (pkg/config/cfgvars.go)
// and the node name.
func (e *env) newWorker(o workerOptions, tokenArg string) (*worker, error) {
	w := &worker{o: o, e: e, tokenArg: tokenArg, root: os.Getenv(envRoot),
		log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if w.root == "" {
		w.root = e.fsRoot
	}
	return w, w.init()
}

// hostPath is p on the host, under the test's root when there is one.
func (w *worker) hostPath(p string) string { return filepath.Join(w.root, p) }

// controlPlaneTaint is kubeadm's constants.ControlPlaneTaint, which k0s
// gives a controller+worker unless --no-taints (cmd/controller/controller.go
// startWorker).
const controlPlaneTaint = "node-role.kubernetes.io/control-plane:NoSchedule"

// embeddedWorker is a controller's worker (k0s controller --enable-worker or
// --single): startWorker in cmd/controller/controller.go runs the worker
// with the controller's flags, the label node.k0sproject.io/role=control-plane,
// the control-plane taint (--enable-worker without --no-taints) and the
// admin kubeconfig as bootstrap kubeconfig. An error is logged and the
// controller runs on without its kubelet, as k0s's does.
func (d *daemon) embeddedWorker(ctx context.Context, adminConf string) {
	fs := persistentFlagSet()
	fs.AddFlagSet(controllerFlags())
	fs.AddFlagSet(workerFlags())
	fs.AddFlagSet(fileInputFlag())
	debugFlags(fs)
	fs.SetOutput(discard{})
	args := d.k.Args
	if len(args) > 0 && args[0] == "controller" {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		d.logf("Failed to start controller worker: %v", err)
		return
	}
	var o workerOptions
	o.dataDir, _ = fs.GetString("data-dir")
	o.kubeletRootDir, _ = fs.GetString("kubelet-root-dir")
	o.profile, _ = fs.GetString("profile")
	o.kubeletExtraArgs, _ = fs.GetString("kubelet-extra-args")
	o.criSocket, _ = fs.GetString("cri-socket")
	o.labels, _ = fs.GetStringSlice("labels")
	o.taints, _ = fs.GetStringSlice("taints")
	o.labels = append(o.labels, "node.k0sproject.io/role=control-plane")
	single, _ := fs.GetBool("single")
	noTaints, _ := fs.GetBool("no-taints")
	if !single && !noTaints {
		o.taints = append(o.taints, controlPlaneTaint)
	}
	w, err := d.e.newWorker(o, "")
	if err != nil {
		d.logf("Failed to start controller worker: %v", err)
		return
	}
	w.bootstrapKubeconfig = adminConf
	if err := w.runOnce(ctx); err != nil && ctx.Err() == nil {
		d.logf("Failed to start controller worker: %v", err)
	}
}
