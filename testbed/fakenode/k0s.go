//go:build !fakenodelight

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// k0sVersion is what the fake k0s reports.
const k0sVersion = "v1.31.2+k0s.0"

// The fake k0s parses its command line with the commands and flag sets of
// k0s v1.33.9+k0s.0 (cmd/root.go, cmd/install/*.go, pkg/config/cli.go,
// cmd/token/*.go, cmd/reset/reset.go, cmd/restore/restore_unix.go,
// cmd/kubeconfig/*.go, cmd/status/status.go, cmd/start, cmd/stop,
// cmd/version, cmd/kubectl), built with cobra and pflag as k0s builds
// them, so that a flag k0s does not define fails with cobra's own text
// ("Error: unknown flag: --x") and exit code 1 (k0s main exits 1 on any
// error).

func (e *env) k0sState() (*fakestate.K0s, error) {
	var k fakestate.K0s
	ok, err := e.loadJSON(fakestate.K0sFile, &k)
	if err != nil || !ok {
		return nil, err
	}
	return &k, nil
}

// k0s runs one k0s command line.
func (e *env) k0s(args []string) error {
	root := e.k0sCommand()
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	// cobra prints a command's error itself (k0s does not silence it);
	// the fake prints it the same way unless the command already chose its
	// exit code and output
	root.SilenceErrors = true
	cmd, err := root.ExecuteC()
	var xe *exitError
	if err == nil || errors.As(err, &xe) {
		return err
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		// Command.Find's error: cobra adds a hint (command.go ExecuteC)
		return fail(1, "%s %s\nRun '%s --help' for usage.", cmd.ErrPrefix(), err.Error(), cmd.CommandPath())
	}
	return fail(1, "%s %s", cmd.ErrPrefix(), err.Error())
}

// notImplemented are k0s commands the fake does not simulate: they fail
// as unsupported so that a test notices the gap.
var notImplemented = []string{"airgap", "api", "backup", "completion", "config", "controller", "ctr", "default-config",
	"docs", "keepalived-setstate", "sysinfo", "validate", "worker"}

// debugFlags is cmd/internal DebugFlags.AddToFlagSet.
func debugFlags(fs *pflag.FlagSet) {
	fs.BoolP("verbose", "v", false, "Verbose logging")
	fs.BoolP("debug", "d", false, "Debug logging (implies verbose logging)")
	fs.String("debugListenOn", ":6060", "Http listenOn for Debug pprof handler")
}

// persistentFlagSet is config.GetPersistentFlagSet.
func persistentFlagSet() *pflag.FlagSet {
	fs := &pflag.FlagSet{}
	fs.String("data-dir", k0sDataDir, "Data Directory for k0s. DO NOT CHANGE for an existing setup, things will break!")
	fs.String("status-socket", "", "Full file path to the socket file. (default: <rundir>/status.sock)")
	return fs
}

// deprecatedPersistent adds GetPersistentFlagSet hidden and deprecated, as
// cmd/install/install.go and cmd/kubeconfig/kubeconfig.go do.
func deprecatedPersistent(dst *pflag.FlagSet) {
	persistentFlagSet().VisitAll(func(f *pflag.Flag) {
		f.Hidden = true
		f.Deprecated = "it has no effect and will be removed in a future release"
		dst.AddFlag(f)
	})
}

// criSocketFlag is config.GetCriSocketFlag.
func criSocketFlag() *pflag.FlagSet {
	fs := &pflag.FlagSet{}
	fs.String("cri-socket", "", "container runtime socket to use, default to internal containerd. Format: [remote|docker]:[path-to-socket]")
	return fs
}

// workerFlags is config.GetWorkerFlags.
func workerFlags() *pflag.FlagSet {
	fs := &pflag.FlagSet{}
	fs.String("cidr-range", "", "")
	fs.VisitAll(func(f *pflag.Flag) {
		f.Hidden = true
		f.Deprecated = "it has no effect and will be removed in a future release"
	})
	fs.String("kubelet-root-dir", "", "Kubelet root directory for k0s")
	fs.String("profile", "default", "worker profile to use on the node")
	fs.Bool("enable-cloud-provider", false, "Whether or not to enable cloud provider support in kubelet")
	fs.String("token-file", "", "Path to the file containing join-token.")
	fs.StringP("logging", "l", "", "Logging Levels for the different components")
	fs.StringSlice("labels", []string{}, "Node labels, list of key=value pairs")
	fs.StringSlice("taints", []string{}, "Node taints, list of key=value:effect strings")
	fs.String("kubelet-extra-args", "", "extra args for kubelet")
	fs.String("iptables-mode", "", "iptables mode (valid values: nft, legacy, auto). default: auto")
	fs.AddFlagSet(criSocketFlag())
	return fs
}

// availableComponents is pkg/config/cli.go's list for --disable-components.
var availableComponents = []string{"applier-manager", "autopilot", "control-api", "coredns", "csr-approver",
	"endpoint-reconciler", "helm", "konnectivity-server", "kube-controller-manager", "kube-proxy", "kube-scheduler",
	"metrics-server", "network-provider", "node-role", "system-rbac", "update-prober", "windows-node", "worker-config"}

// controllerFlags is config.GetControllerFlags.
func controllerFlags() *pflag.FlagSet {
	fs := &pflag.FlagSet{}
	fs.Bool("enable-worker", false, "enable worker (default false)")
	fs.StringSlice("disable-components", []string{}, "disable components (valid items: "+strings.Join(availableComponents, ",")+")")
	fs.Bool("single", false, "enable single node (implies --enable-worker, default false)")
	fs.Bool("no-taints", false, "disable default taints for controller node")
	fs.Bool("enable-k0s-cloud-provider", false, "enables the k0s-cloud-provider (default false)")
	fs.Duration("k0s-cloud-provider-update-frequency", 2*time.Minute, "the frequency of k0s-cloud-provider node updates")
	fs.Int("k0s-cloud-provider-port", 10258, "the port that k0s-cloud-provider binds on")
	fs.Bool("enable-dynamic-config", false, "enable cluster-wide dynamic config based on custom resource")
	fs.Bool("enable-metrics-scraper", false, "enable scraping metrics from the controller components (kube-scheduler, kube-controller-manager)")
	fs.String("kube-controller-manager-extra-args", "", "extra args for kube-controller-manager")
	fs.Bool("init-only", false, "only initialize controller and exit")
	return fs
}

// fileInputFlag is config.FileInputFlag.
func fileInputFlag() *pflag.FlagSet {
	fs := &pflag.FlagSet{}
	fs.StringP("config", "c", "", fmt.Sprintf("config file, use '-' to read the config from stdin (default %q)", k0sConfigDefault))
	return fs
}

// errHelp makes a command without a subcommand print its help, as k0s's
// "Enforce arg validation" RunE does.
func errHelp(*cobra.Command, []string) error { return pflag.ErrHelp }

func (e *env) k0sCommand() *cobra.Command {
	root := &cobra.Command{Use: "k0s", Short: "k0s - Zero Friction Kubernetes", SilenceUsage: true}
	root.CompletionOptions.DisableDefaultCmd = true
	for _, name := range notImplemented {
		root.AddCommand(&cobra.Command{Use: name, DisableFlagParsing: true, RunE: func(_ *cobra.Command, args []string) error {
			return unsupported("k0s", append([]string{name}, args...))
		}})
	}
	root.AddCommand(e.installCmd(), e.startStopCmd("start"), e.startStopCmd("stop"), e.statusCmd(), e.resetCmd(),
		e.tokenCmd(), e.kubeconfigCmd(), e.kubectlCmd(), e.restoreCmd(), e.versionCmd(), e.etcdCmd())
	return root
}

// isRoot is os.Geteuid() == 0 unless a test pretends.
func (e *env) isRoot() bool { return e.asRoot || os.Geteuid() == 0 }

var errNotRoot = errors.New("this command must be run as root")

// installCmd is cmd/install: install controller (alias server) and worker.
func (e *env) installCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "install", Short: "Install k0s on a brand-new system. Must be run as root (or with sudo)",
		Args: cobra.NoArgs, RunE: errHelp}
	pf := cmd.PersistentFlags()
	debugFlags(pf)
	deprecatedPersistent(pf)
	pf.Bool("force", false, "force init script creation")
	pf.StringArrayP("env", "e", nil, "set environment variable")

	ctrl := &cobra.Command{Use: "controller", Aliases: []string{"server"}, Args: cobra.NoArgs,
		Short: "Install k0s controller on a brand-new system. Must be run as root (or with sudo)",
		RunE:  func(c *cobra.Command, _ []string) error { return e.install(c, "controller") }}
	f := ctrl.Flags()
	f.AddFlagSet(persistentFlagSet())
	f.AddFlagSet(controllerFlags())
	f.AddFlagSet(workerFlags())
	f.AddFlagSet(fileInputFlag())

	wrk := &cobra.Command{Use: "worker", Args: cobra.NoArgs,
		Short: "Install k0s worker on a brand-new system. Must be run as root (or with sudo)",
		RunE:  func(c *cobra.Command, _ []string) error { return e.install(c, "worker") }}
	wrk.Flags().AddFlagSet(persistentFlagSet())
	wrk.Flags().AddFlagSet(workerFlags())
	cmd.AddCommand(wrk, ctrl)
	return cmd
}

// cmdFlagsToArgs is cmd/install/util.go: the flags set on the command
// line, as --name=value, paths made absolute; env and force left out.
func cmdFlagsToArgs(c *cobra.Command) []string {
	var out []string
	c.Flags().Visit(func(f *pflag.Flag) {
		val := f.Value.String()
		switch f.Value.Type() {
		case "stringSlice", "stringToString":
			out = append(out, fmt.Sprintf("--%s=%s", f.Name, strings.Trim(val, "[]")))
			return
		}
		switch f.Name {
		case "env", "force":
			return
		case "data-dir", "kubelet-root-dir", "token-file", "config":
			if abs, err := filepath.Abs(val); err == nil {
				val = abs
			}
		}
		out = append(out, fmt.Sprintf("--%s=%s", f.Name, val))
	})
	return out
}

func (e *env) install(c *cobra.Command, role string) error {
	if !e.isRoot() {
		return errNotRoot
	}
	f := c.Flags()
	k := &fakestate.K0s{Role: role, Unit: "k0s" + role + ".service"}
	if role == "controller" {
		cfgPath, _ := f.GetString("config")
		if _, err := e.installConfig(cfgPath); err != nil {
			return err
		}
		// ControllerOptions.Normalize
		comps, _ := f.GetStringSlice("disable-components")
		for _, comp := range comps {
			if !slices.Contains(availableComponents, comp) {
				return fmt.Errorf("unknown component %s", comp)
			}
		}
		if w, _ := f.GetBool("enable-worker"); w {
			k.Role = "controller+worker"
		}
		if s, _ := f.GetBool("single"); s {
			k.Role = "controller+worker"
		}
		k.Config = cfgPath
	}
	k.TokenFile, _ = f.GetString("token-file")
	if k.TokenFile != "" {
		// stricter than k0s, which reads the file only when the service
		// starts: the engine writes it before installing
		if _, err := os.Stat(e.hostPath(k.TokenFile)); err != nil {
			return fmt.Errorf("failed to read token file: %w", err)
		}
	}
	args := append([]string{role}, cmdFlagsToArgs(c)...)
	k.Args = args
	units, err := e.units()
	if err != nil {
		return err
	}
	force, _ := f.GetBool("force")
	// kardianos/service (pkg/install.InstallService): the unit file of
	// this role must not exist, unless --force uninstalls it first
	if units[k.Unit] != nil && !force {
		return fmt.Errorf("failed to install %s service: Init already exists: /etc/systemd/system/%s", role, k.Unit)
	}
	units[k.Unit] = &fakestate.Unit{Enabled: true, ExecStart: "/usr/local/bin/k0s " + strings.Join(args, " ")}
	if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
		return err
	}
	return e.saveJSON(fakestate.K0sFile, k)
}

// installedService is pkg/install.InstalledService: the controller's
// unit first, then the worker's.
func (e *env) installedService() (*fakestate.K0s, fakestate.Units, error) {
	units, err := e.units()
	if err != nil {
		return nil, nil, err
	}
	k, err := e.k0sState()
	if err != nil {
		return nil, nil, err
	}
	if k == nil || units[k.Unit] == nil {
		return nil, units, errors.New("k0s has not been installed as a service")
	}
	return k, units, nil
}

// startStopCmd is cmd/start and cmd/stop.
func (e *env) startStopCmd(verb string) *cobra.Command {
	cmd := &cobra.Command{Use: verb, Args: cobra.NoArgs,
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " the k0s service configured on this host. Must be run as root (or with sudo)",
		RunE: func(*cobra.Command, []string) error {
			if !e.isRoot() {
				return errNotRoot
			}
			k, units, err := e.installedService()
			if err != nil {
				return err
			}
			u := units[k.Unit]
			if verb == "start" {
				if u.Active {
					return errors.New("already running")
				}
				u.Active = true
			} else {
				if !u.Active {
					return errors.New("already stopped")
				}
				u.Active = false
			}
			if err := e.saveJSON(fakestate.UnitsFile, units); err != nil {
				return err
			}
			return e.unitChanged(k.Unit, verb == "start")
		}}
	debugFlags(cmd.PersistentFlags())
	return cmd
}

// unitChanged follows a k0s unit started or stopped (by k0s start/stop or
// systemctl): in real mode it starts or stops the daemon; in fast mode a
// controller's first start marks its PKI as created.
func (e *env) unitChanged(unit string, active bool) error {
	k, err := e.k0sState()
	if err != nil || k == nil || k.Unit != unit {
		return err
	}
	if e.kubeAssets() != "" {
		if active {
			return e.startDaemon(unit)
		}
		return e.stopDaemon(unit, 10*time.Second)
	}
	if active && k.Role != roleWorker && !k.Initialized {
		k.Initialized = true
		return e.saveJSON(fakestate.K0sFile, k)
	}
	return nil
}

// running reports what k0s's status socket would: in real mode whether it
// answers, in fast mode whether the unit is active.
func (e *env) running() (*k0sStatus, error) {
	if e.kubeAssets() != "" {
		return getStatus(k0sStatusSocket)
	}
	k, units, err := e.installedService()
	if err != nil || !units[k.Unit].Active {
		return nil, fmt.Errorf("status: can't get %q via %q: Get \"http://localhost/status\": dial unix %s: connect: no such file or directory", "status", k0sStatusSocket, k0sStatusSocket)
	}
	host, _ := os.Hostname()
	return &k0sStatus{Version: binaryK0sVersion(), Pid: 1000 + len(k.Args), Role: roleWord(k.Role),
		Workloads: k.Role != roleController, SysInit: "linux-systemd", StubFile: "/etc/systemd/system/" + k.Unit,
		Args: append([]string{"/usr/local/bin/k0s"}, k.Args...), PPid: len(host)}, nil
}

// statusCmd is cmd/status/status.go.
func (e *env) statusCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "status", Short: "Get k0s instance status information", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := e.running()
			if err != nil {
				return err
			}
			out, _ := c.Flags().GetString("out")
			return printStatus(e, st, out)
		}}
	pf := cmd.PersistentFlags()
	debugFlags(pf)
	pf.String("status-socket", "", "Full file path to the socket file. (default: <rundir>/status.sock)")
	cmd.Flags().StringP("out", "o", "", "sets type of output to json or yaml")
	comp := &cobra.Command{Use: "components", Args: cobra.NoArgs, DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return unsupported("k0s", append([]string{"status", "components"}, args...))
		}}
	cmd.AddCommand(comp)
	return cmd
}

func printStatus(e *env, st *k0sStatus, output string) error {
	switch output {
	case "json", "yaml":
		return unsupported("k0s", []string{"status", "-o", output})
	}
	w := e.stdout
	fmt.Fprintln(w, "Version:", st.Version)
	fmt.Fprintln(w, "Process ID:", st.Pid)
	fmt.Fprintln(w, "Role:", st.Role)
	fmt.Fprintln(w, "Workloads:", st.Workloads)
	fmt.Fprintln(w, "SingleNode:", st.SingleNode)
	if st.Workloads {
		fmt.Fprintln(w, "Kube-api probing successful:", st.WorkerToAPIConnectionStatus.Success)
		fmt.Fprintln(w, "Kube-api probing last error: ", st.WorkerToAPIConnectionStatus.Message)
	}
	if st.SysInit != "" {
		fmt.Fprintln(w, "Init System:", st.SysInit)
	}
	if st.StubFile != "" {
		fmt.Fprintln(w, "Service file:", st.StubFile)
	}
	return nil
}

func roleWord(r string) string {
	if r == "controller+worker" {
		return roleController
	}
	return r
}

// versionCmd is cmd/version/version.go.
func (e *env) versionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "version", Short: "Print the k0s version", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if a, _ := c.Flags().GetBool("all"); a {
				return unsupported("k0s", []string{"version", "--all"})
			}
			if j, _ := c.Flags().GetBool("json"); j {
				return unsupported("k0s", []string{"version", "--json"})
			}
			fmt.Fprintln(e.stdout, binaryK0sVersion())
			return nil
		}}
	cmd.Flags().BoolP("all", "a", false, "use to print all k0s version info")
	cmd.Flags().BoolP("json", "j", false, "use to print all k0s version info in json")
	return cmd
}

// resetCmd is cmd/reset/reset.go.
func (e *env) resetCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "reset", Short: "Uninstall k0s. Must be run as root (or with sudo)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return e.reset(c) }}
	debugFlags(cmd.PersistentFlags())
	f := cmd.Flags()
	f.AddFlagSet(persistentFlagSet())
	f.AddFlagSet(criSocketFlag())
	f.AddFlagSet(fileInputFlag())
	f.String("kubelet-root-dir", "", "Kubelet root directory for k0s")
	return cmd
}

// tokenCmd is cmd/token: create, list, invalidate (preshared is not
// simulated).
func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage join tokens", Args: cobra.NoArgs, RunE: errHelp}
	create := &cobra.Command{Use: "create", Short: "Create join token", Args: cobra.NoArgs,
		PreRunE: func(c *cobra.Command, _ []string) error {
			role, _ := c.Flags().GetString("role")
			return checkTokenRole(role)
		},
		RunE: func(c *cobra.Command, _ []string) error {
			role, _ := c.Flags().GetString("role")
			expiry, _ := c.Flags().GetString("expiry")
			return e.tokenCreate(role, expiry)
		}}
	cf := create.Flags()
	cf.AddFlagSet(persistentFlagSet())
	cf.String("expiry", "0s", "Expiration time of the token. Format 1.5h, 2h45m or 300ms.")
	cf.String("role", "worker", "Either worker or controller")
	cf.Bool("wait", false, "wait forever (default false)")

	list := &cobra.Command{Use: "list", Short: "List join tokens", Args: cobra.NoArgs,
		PreRunE: func(c *cobra.Command, _ []string) error {
			if role, _ := c.Flags().GetString("role"); role != "" {
				return checkTokenRole(role)
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			role, _ := c.Flags().GetString("role")
			return e.tokenList(role)
		}}
	list.Flags().AddFlagSet(persistentFlagSet())
	list.Flags().String("role", "", "Either worker, controller or empty for all roles")

	inv := &cobra.Command{Use: "invalidate join-token...", Short: "Invalidates existing join token", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, ids []string) error { return e.tokenInvalidate(ids) }}
	inv.Flags().AddFlagSet(persistentFlagSet())
	cmd.AddCommand(list, inv, create, &cobra.Command{Use: "pre-shared", DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return unsupported("k0s", append([]string{"token", "pre-shared"}, args...))
		}})
	return cmd
}

// checkTokenRole is cmd/token/token.go's.
func checkTokenRole(role string) error {
	if role != roleController && role != roleWorker {
		return fmt.Errorf("unsupported role %q; supported roles are %q and %q", role, roleController, roleWorker)
	}
	return nil
}

// kubeconfigCmd is cmd/kubeconfig (admin; create is not simulated).
func (e *env) kubeconfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kubeconfig [command]", Short: "Create a kubeconfig file for a specified user",
		Args: cobra.NoArgs, RunE: errHelp}
	pf := cmd.PersistentFlags()
	debugFlags(pf)
	deprecatedPersistent(pf)
	admin := &cobra.Command{Use: "admin", Short: "Display Admin's Kubeconfig file", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return e.kubeconfigAdmin() }}
	admin.Flags().AddFlagSet(persistentFlagSet())
	cmd.AddCommand(admin, &cobra.Command{Use: "create", DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return unsupported("k0s", append([]string{"kubeconfig", "create"}, args...))
		}})
	return cmd
}

// kubectlCmd is cmd/kubectl: kubectl's own command line, which the real
// kubectl parses.
func (e *env) kubectlCmd() *cobra.Command {
	return &cobra.Command{Use: "kubectl", Aliases: []string{"kc"}, DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error { return e.kubectl(args) }}
}

// restoreCmd is cmd/restore/restore_unix.go.
func (e *env) restoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "restore filename", Args: cobra.ExactArgs(1),
		Short: "restore k0s state from given backup archive. Use '-' as filename to read from stdin. Must be run as root (or with sudo)",
		RunE: func(c *cobra.Command, args []string) error {
			out, _ := c.Flags().GetString("config-out")
			dataDir, _ := c.Flags().GetString("data-dir")
			return e.restore(args[0], out, dataDir)
		}}
	debugFlags(cmd.PersistentFlags())
	cmd.Flags().AddFlagSet(persistentFlagSet())
	cmd.Flags().String("config-out", "", "Specify desired name and full path for the restored k0s.yaml file (default: k0s_<archive timestamp>.yaml")
	return cmd
}

// etcdCmd is cmd/etcd: member-list (leave is not simulated).
func (e *env) etcdCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "etcd", Short: "Manage etcd cluster", Args: cobra.NoArgs, RunE: errHelp}
	debugFlags(cmd.PersistentFlags())
	list := &cobra.Command{Use: "member-list", Short: "List etcd cluster members (JSON encoded)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return e.etcdMemberList() }}
	list.Flags().AddFlagSet(persistentFlagSet())
	cmd.AddCommand(list, &cobra.Command{Use: "leave", DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return unsupported("k0s", append([]string{"etcd", "leave"}, args...))
		}})
	return cmd
}

func (e *env) etcdMemberList() error {
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	if _, err := e.running(); err != nil || k == nil || k.Role == roleWorker {
		return errors.New("can't list etcd cluster members: context deadline exceeded")
	}
	if e.kubeAssets() != "" {
		return e.realEtcdMemberList()
	}
	host, _ := os.Hostname()
	n, _ := e.node()
	addr := "127.0.0.1"
	if n != nil && n.Address != "" {
		addr = n.Address
	}
	fmt.Fprintf(e.stdout, "{\"members\":{%q:\"https://%s:2380\"}}\n", host, addr)
	return nil
}

// hostPath maps an absolute path of the host to where this env keeps it:
// the path itself on a test-bed host, under a temporary root in unit
// tests.
func (e *env) hostPath(p string) string {
	if e.fsRoot == "" || p == "" || p == "-" {
		return p
	}
	return filepath.Join(e.fsRoot, p)
}

// nodeConfigOf loads the config k0s was installed with (k0s reads the
// runtime config of the running k0s; the fake reads the same file).
func (e *env) nodeConfigOf(k *fakestate.K0s) (*v1beta1.ClusterConfig, error) {
	path := ""
	if k != nil {
		path = k.Config
	}
	return e.loadConfig(path)
}

// loadConfig is loadNodeConfig with host paths mapped by hostPath.
func (e *env) loadConfig(path string) (*v1beta1.ClusterConfig, error) {
	if path == "" {
		path = k0sConfigDefault
	}
	b, err := os.ReadFile(e.hostPath(path))
	if errors.Is(err, os.ErrNotExist) && path == k0sConfigDefault {
		return v1beta1.DefaultClusterConfig(), nil
	}
	if err != nil {
		return nil, err
	}
	return v1beta1.DefaultClusterConfig().MergedWithYAML(b)
}
