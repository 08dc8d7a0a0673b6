package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// preflightFlags are mke3Flags with the MKE 3 API made optional: without
// --mke3-host the checks that need it are reported as skipped.
func preflightFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE`", Required: true},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output `FORMAT`: text or json"},
		&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
		&cli.BoolFlag{Name: "ssh-insecure-ignore-host-key", Usage: "accept any SSH host key (labs only)"},
		&cli.StringFlag{Name: "known-hosts", Usage: "check SSH host keys against `FILE` (default ~/.ssh/known_hosts)"},
		&cli.StringFlag{Name: "kubelet-profile-label", Value: convert.DefaultKubeletProfileLabel, Usage: "Kubernetes node label `KEY` that names a node's kubelet profile (with --mke3-host)"},
	}, optionalMKE3Flags()...)
}

func preflightCommand() *cli.Command {
	return &cli.Command{
		Name:  "preflight",
		Usage: "check, read-only, that the MKE 3 cluster meets the prerequisites of the upgrade to MKE 4k",
		Description: `Connects to every host of hosts.yaml over SSH (one command per host), and with --mke3-host
reads the MKE 3 configuration, then reports blockers, warnings and skipped checks with their remedies.
Exit 3 when something blocks the upgrade.`,
		Flags:  preflightFlags(),
		Action: runPreflight,
	}
}

type preflightHost struct {
	Address string       `json:"address"`
	Facts   *hosts.Facts `json:"facts,omitempty"`
	Error   string       `json:"error,omitempty"`
	// KubernetesNode is the host's node in the MKE 3 Kubernetes API, and
	// KubeletProfile the profile its label names (with --mke3-host).
	KubernetesNode *mke3.KubeNode `json:"kubernetesNode,omitempty"`
	KubeletProfile string         `json:"kubeletProfile,omitempty"`
}

// kubeNodes reads the Kubernetes nodes through the admin's client bundle.
// A failure is returned for the report, not as the command's error: the
// other checks stand without it.
func kubeNodes(c *cli.Context, client *mke3.Client) ([]mke3.KubeNode, error) {
	ctx, cancel := context.WithTimeout(c.Context, 60*time.Second)
	defer cancel()
	b, err := client.ClientBundle(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := b.RESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 20 * time.Second
	return mke3.KubeNodes(ctx, cfg)
}

type preflightReport struct {
	Hosts  []preflightHost    `json:"hosts"`
	Checks []preflight.Result `json:"checks"`
}

// outputFlags checks --output (text or json) and --concurrency, and makes
// the logger of --log-level.
func outputFlags(c *cli.Context) (string, *slog.Logger, error) {
	format := c.String("output")
	if format != "text" && format != "json" {
		return "", nil, usagef("--output: %q is not text or json", format)
	}
	if c.Int("concurrency") < 1 {
		return "", nil, usagef("--concurrency: must be at least 1")
	}
	log, err := logger(c)
	return format, log, err
}

func runPreflight(c *cli.Context) error {
	format, log, err := outputFlags(c)
	if err != nil {
		return err
	}
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return usageErr(err)
	}
	var in preflight.Input
	if c.String("mke3-host") != "" {
		if c.String("mke3-admin-username") == "" {
			return usagef("--mke3-host needs --mke3-admin-username")
		}
		client, err := mke3Client(c)
		if err != nil {
			return err
		}
		data, err := client.ConfigTOML(c.Context)
		if err != nil {
			return apiFailure(err)
		}
		cfg, err := convert.Parse("MKE 3 configuration from "+c.String("mke3-host"), data)
		if err != nil {
			return failure(err)
		}
		cc := cfg.ClusterConfig
		in.CalicoKDD, in.CalicoEBPF, in.KubeProxyMode = &cc.CalicoKDD, &cc.CalicoEBPFEnabled, cc.KubeProxyMode
		in.KubeletProfileLabel = c.String("kubelet-profile-label")
		in.KubeletProfiles = slices.Sorted(maps.Keys(cc.CustomKubeletFlagsProfiles))
		if in.KubeletProfiles == nil {
			in.KubeletProfiles = []string{}
		}
		in.KubeNodes, in.KubeAPIError = kubeNodes(c, client)
		if in.KubeAPIError == nil && in.KubeNodes == nil {
			in.KubeNodes = []mke3.KubeNode{}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		in.KubeconfigPath = filepath.Join(home, ".mke", "mke.kubeconf")
		b, err := os.ReadFile(in.KubeconfigPath)
		switch {
		case err == nil:
			in.KubeconfigContent = append([]byte{}, b...)
		case !errors.Is(err, fs.ErrNotExist):
			return failure(err)
		}
	}

	o := hosts.ConnectOptions{KnownHostsPath: c.String("known-hosts"), InsecureIgnoreHostKey: c.Bool("ssh-insecure-ignore-host-key"), Logger: log}
	start := time.Now()
	facts, gerr := hosts.GatherFacts(c.Context, file.Hosts, o, c.Int("concurrency"))
	log.Info("gathered facts", "hosts", len(file.Hosts), "took", time.Since(start))
	if c.Context.Err() != nil {
		return failure(c.Context.Err())
	}
	failed := map[int]*hosts.HostError{}
	for _, he := range hosts.FailedHosts(gerr) {
		for i, h := range file.Hosts {
			hp := h
			if hp.Port == 0 {
				hp.Port = 22
			}
			if he.Host == hp.String() || he.Host == h.String() {
				failed[i] = he
			}
		}
	}
	rep := preflightReport{Hosts: []preflightHost{}}
	for i, f := range facts {
		ph := preflightHost{Address: file.Hosts[i].Address}
		if he, bad := failed[i]; bad {
			ph.Error = he.Error()
			in.Unreachable = append(in.Unreachable, preflight.Unreachable{Host: ph.Address, Err: he})
		} else {
			ph.Facts = &f
			in.Facts = append(in.Facts, f)
			if n, ok := preflight.NodeOf(in.KubeNodes, f, file.Hosts[i].PrivateAddress); ok {
				ph.KubernetesNode = &n
				ph.KubeletProfile = n.Labels[in.KubeletProfileLabel]
			}
		}
		rep.Hosts = append(rep.Hosts, ph)
	}
	rep.Checks = preflight.Run(in)
	if rep.Checks == nil {
		rep.Checks = []preflight.Result{}
	}

	if format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return failure(err)
		}
		if err := fprintf(c.App.Writer, "%s\n", b); err != nil {
			return err
		}
	} else if err := fprintf(c.App.Writer, "%s", preflightText(rep)); err != nil {
		return err
	}
	for _, r := range rep.Checks {
		if r.Severity == preflight.Blocker {
			return silentExit(exitBlocking)
		}
	}
	return nil
}

func preflightText(rep preflightReport) string {
	var b strings.Builder
	item := func(r preflight.Result) {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", r.Severity, r.ID, r.Message)
		fmt.Fprintf(&b, "      remedy: %s\n", r.Remedy)
	}
	for _, h := range rep.Hosts {
		fmt.Fprintf(&b, "%s\n", h.Address)
		if f := h.Facts; f != nil {
			role := f.Swarm.Role
			if f.Swarm.Leader {
				role += " (leader)"
			}
			fmt.Fprintf(&b, "  %s, %s %s, MCR %s, MKE %s, %s, %d vCPU, %.1f GiB\n", f.Hostname, f.OS.ID, f.OS.Version,
				orNone(f.MCRVersion), orNone(f.MKEVersion), orNone(role), f.CPUs, float64(f.MemoryBytes)/(1<<30))
		}
		if k := h.KubernetesNode; k != nil {
			fmt.Fprintf(&b, "  Kubernetes node %s, kubelet profile %s\n", k.Name, orNone(h.KubeletProfile))
		}
		n := 0
		for _, r := range rep.Checks {
			if r.Host == h.Address {
				item(r)
				n++
			}
		}
		if n == 0 {
			b.WriteString("  ok\n")
		}
	}
	b.WriteString("cluster\n")
	n, counts := 0, map[preflight.Severity]int{}
	for _, r := range rep.Checks {
		counts[r.Severity]++
		if r.Host == "" {
			item(r)
			n++
		}
	}
	if n == 0 {
		b.WriteString("  ok\n")
	}
	fmt.Fprintf(&b, "%d blocker(s), %d warning(s), %d skipped\n", counts[preflight.Blocker], counts[preflight.Warning], counts[preflight.Skipped])
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
