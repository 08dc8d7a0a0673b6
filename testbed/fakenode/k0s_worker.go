package main

// The worker side of the fake k0s: "k0s install worker", the k0sworker
// service's start and stop (by k0s start/stop or systemctl), and the
// service's detached process, "k0s worker" (k0s_worker_daemon.go). Every
// behaviour follows k0s v1.33.9+k0s.0; the file is named next to it.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

const (
	workerUnit = "k0sworker.service"
	// dataDirDefault is constant.DataDirDefault (pkg/constant/constant.go).
	dataDirDefault = "/var/lib/k0s"
	// envService marks a "k0s worker" started by the fake service manager:
	// it then restarts itself after an error as systemd would.
	envService = "FAKENODE_SERVICE"
	// envRoot prefixes the absolute host paths the worker uses outside its
	// data folder (/run, /etc/cni, the log folder): tests that run the
	// worker on the machine rather than in a test-bed host set it.
	envRoot = "FAKENODE_ROOT"
)

// workerOptions are the flags of k0s install worker and k0s worker.
type workerOptions struct {
	dataDir, statusSocket, kubeletRootDir, profile, tokenFile   string
	kubeletExtraArgs, iptablesMode, criSocket, cidrRange        string
	cloudProvider, verbose, debug, force, ignorePreFlightChecks bool
	labels, taints, env                                         []string
	logging                                                     logLevels
	debugListenOn                                               string
}

// workerFlags defines the flags of "k0s install worker" (install=true) or
// "k0s worker": config.GetPersistentFlagSet and config.GetWorkerFlags
// (pkg/config/cli.go), the debug flags (cmd/internal/debug.go; verbose by
// default for the long-running k0s worker), install's --force and --env
// (cmd/install/install.go) and worker's --ignore-pre-flight-checks
// (cmd/worker/worker.go).
func workerFlags(name string, o *workerOptions, install bool) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.dataDir, "data-dir", dataDirDefault, "")
	fs.StringVar(&o.statusSocket, "status-socket", "", "")
	fs.StringVar(&o.cidrRange, "cidr-range", "", "")
	_ = fs.MarkDeprecated("cidr-range", "it has no effect and will be removed in a future release")
	fs.StringVar(&o.kubeletRootDir, "kubelet-root-dir", "", "")
	fs.StringVar(&o.profile, "profile", "default", "")
	fs.BoolVar(&o.cloudProvider, "enable-cloud-provider", false, "")
	fs.StringVar(&o.tokenFile, "token-file", "", "")
	o.logging = defaultLogLevels()
	fs.VarP(&o.logging, "logging", "l", "")
	fs.StringSliceVar(&o.labels, "labels", []string{}, "")
	fs.StringSliceVar(&o.taints, "taints", []string{}, "")
	fs.StringVar(&o.kubeletExtraArgs, "kubelet-extra-args", "", "")
	fs.StringVar(&o.iptablesMode, "iptables-mode", "", "")
	fs.StringVar(&o.criSocket, "cri-socket", "", "")
	fs.BoolVarP(&o.verbose, "verbose", "v", !install, "")
	fs.BoolVarP(&o.debug, "debug", "d", false, "")
	fs.StringVar(&o.debugListenOn, "debugListenOn", ":6060", "")
	if install {
		fs.BoolVar(&o.force, "force", false, "")
		fs.StringArrayVarP(&o.env, "env", "e", nil, "")
	} else {
		fs.BoolVar(&o.ignorePreFlightChecks, "ignore-pre-flight-checks", false, "")
	}
	return fs
}

// logLevels is config.logLevelsFlag (pkg/config/cli.go): component=level
// pairs over the defaults, unknown components refused.
type logLevels map[string]string

func defaultLogLevels() logLevels {
	return logLevels{"containerd": "info", "etcd": "info", "konnectivity-server": "1", "kube-apiserver": "1",
		"kube-controller-manager": "1", "kube-scheduler": "1", "kubelet": "1"}
}

func (l *logLevels) Type() string { return "stringToString" }

func (l *logLevels) Set(val string) error {
	val = strings.TrimSuffix(strings.TrimPrefix(val, "["), "]")
	parsed := defaultLogLevels()
	for val != "" {
		pair, rest, _ := strings.Cut(val, ",")
		val = rest
		k, v, ok := strings.Cut(pair, "=")
		if k == "" {
			return fmt.Errorf("component name cannot be empty: %q", pair)
		}
		if !ok {
			return fmt.Errorf("must be of format component=level: %q", pair)
		}
		if _, known := parsed[k]; !known {
			return fmt.Errorf("unknown component name: %q", k)
		}
		parsed[k] = v
	}
	*l = parsed
	return nil
}

func (l *logLevels) String() string {
	var parts []string
	for _, k := range []string{"containerd", "etcd", "konnectivity-server", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"} {
		parts = append(parts, k+"="+(*l)[k])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// serviceArgs is cmdFlagsToArgs (cmd/install/util.go): the flags given,
// in pflag's sorted order, as --name=value; slices without their brackets;
// paths made absolute; --env and --force left out.
func serviceArgs(fs *pflag.FlagSet) ([]string, error) {
	var out []string
	var errs []error
	fs.Visit(func(f *pflag.Flag) {
		val := f.Value.String()
		switch f.Value.Type() {
		case "stringSlice", "stringToString":
			out = append(out, fmt.Sprintf("--%s=%s", f.Name, strings.Trim(val, "[]")))
		default:
			switch f.Name {
			case "env", "force":
				return
			case "data-dir", "kubelet-root-dir", "token-file", "config":
				abs, err := filepath.Abs(val)
				if err != nil {
					errs = append(errs, fmt.Errorf("failed to convert --%s=%s to an absolute path: %w", f.Name, val, err))
					return
				}
				val = abs
			}
			out = append(out, fmt.Sprintf("--%s=%s", f.Name, val))
		}
	})
	return out, errors.Join(errs...)
}

// k0sInstallWorker is "k0s install worker" (cmd/install/worker.go): it only
// writes the k0sworker service, whose command is "k0s worker" with the
// flags given; nothing reads the token file before the service starts.
func (e *env) k0sInstallWorker(k *fakestate.K0s, units fakestate.Units, args []string) error {
	var o workerOptions
	fs := workerFlags("k0s install worker", &o, true)
	if err := fs.Parse(args); err != nil {
		return fail(1, "Error: %v", err)
	}
	if pos := fs.Args(); len(pos) > 0 {
		// cobra.NoArgs
		return fail(1, "Error: unknown command %q for %q", pos[0], "k0s install worker")
	}
	if os.Geteuid() != 0 {
		return fail(1, "Error: this command must be run as root")
	}
	if k != nil && !(o.force && k.Unit == workerUnit) {
		// kardianos/service's systemd Install refuses an existing unit file;
		// --force uninstalls the worker's first (pkg/install/service.go). The
		// fake keeps one k0s install per node, so it refuses any other.
		return fail(1, "Error: failed to install worker service: Init already exists: /etc/systemd/system/%s", k.Unit)
	}
	sargs, err := serviceArgs(fs)
	if err != nil {
		return fail(1, "Error: %v", err)
	}
	argv := append([]string{K0sPath, "worker"}, sargs...)
	u := units[workerUnit]
	if u == nil {
		u = &fakestate.Unit{}
		units[workerUnit] = u
	}
	u.Enabled, u.ExecStart = true, systemdJoin(argv)
	if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
		return err
	}
	return e.saveJSON(fakestate.K0sFile, &fakestate.K0s{Role: "worker", Unit: workerUnit, Args: append([]string{"worker"}, args...),
		TokenFile: absOrEmpty(o.tokenFile)})
}

// K0sPath is where the k0s binary is installed (testbed.K0sBinaryPath):
// the service runs it, so an upgraded binary runs after a restart.
const K0sPath = "/usr/local/bin/k0s"

func absOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// systemdJoin writes argv as an ExecStart line: arguments with white
// space, quotes or backslashes in double quotes with C escapes, as
// kardianos/service's systemd template does.
func systemdJoin(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n\"'\\") {
			b.WriteString(a)
			continue
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}

// systemdSplit reads an ExecStart line written by systemdJoin.
func systemdSplit(s string) ([]string, error) {
	var out []string
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("bad ExecStart %q: %w", s, err)
			}
			a, _ := strconv.Unquote(q)
			out = append(out, a)
			s = s[len(q):]
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		out = append(out, w)
		s = rest
	}
	return out, nil
}

// k0sWorkerService makes the k0sworker service's process match active: it
// starts "k0s worker" detached when the unit becomes active and stops it
// (SIGTERM, then SIGKILL) when it becomes inactive. It is called after
// every start, stop and restart of the unit, by k0s or systemctl.
func (e *env) k0sWorkerService(units fakestate.Units, restart bool) error {
	if !e.runsProcesses() {
		return nil
	}
	u := units[workerUnit]
	pid := e.daemonPid(workerUnit)
	if pid > 0 && (u == nil || !u.Active || restart) {
		if err := stopDaemon(pid); err != nil {
			return err
		}
		_ = os.Remove(e.pidFile(workerUnit))
		pid = 0
	}
	if u == nil || !u.Active || pid > 0 {
		return nil
	}
	argv, err := systemdSplit(u.ExecStart)
	if err != nil || len(argv) < 2 {
		return fmt.Errorf("fakenode: %s: bad ExecStart %q", workerUnit, u.ExecStart)
	}
	return e.startDaemon(workerUnit, argv)
}

// runsProcesses reports whether services start real processes: on a
// test-bed host (the default state folder), or where envRoot says where
// their host files go. Unit tests with only a temporary state folder
// (FAKENODE_DIR) keep the state-only services, so that nothing writes
// /var/lib/k0s or binds ports on the machine.
func (e *env) runsProcesses() bool {
	return e.dir == fakestate.Dir || os.Getenv(envRoot) != ""
}

func (e *env) pidFile(unit string) string {
	return filepath.Join(e.dir, fakestate.PidsDir, unit+".pid")
}

// daemonPid is the process ID recorded for unit when that process still
// runs, else 0.
func (e *env) daemonPid(unit string) int {
	b, err := os.ReadFile(e.pidFile(unit))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0
	}
	return pid
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// the state follows the command name in parentheses
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// startDaemon starts argv in a new session, detached from the caller (an
// SSH session returns at once), its output appended to the unit's log.
func (e *env) startDaemon(unit string, argv []string) error {
	logDir := filepath.Join(os.Getenv(envRoot), fakestate.LogDir)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(logDir, unit+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), envService+"="+unit)
	if e.dir != fakestate.Dir {
		cmd.Env = append(cmd.Env, "FAKENODE_DIR="+e.dir)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, log, log
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("fakenode: start %s: %w", unit, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if err := os.MkdirAll(filepath.Dir(e.pidFile(unit)), 0o755); err != nil {
		return err
	}
	return fakestate.WriteFile(e.pidFile(unit), []byte(strconv.Itoa(pid)+"\n"))
}

// stopDaemon is systemd's stop with KillMode=process
// (pkg/install/linux_systemd.go): SIGTERM to the main process, SIGKILL
// when it is still there after the timeout (shortened from systemd's 90 s:
// the fake worker ends at once on SIGTERM).
func stopDaemon(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 250 && alive(pid); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
