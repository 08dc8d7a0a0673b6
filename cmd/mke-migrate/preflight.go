package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/upgrade"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// preflightFlags are mke3Flags with the MKE 3 API made optional: without
// --mke3-host the checks that need it are reported as skipped.
func preflightFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE`", Required: true},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output `FORMAT`: text or json"},
		&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
		&cli.StringFlag{Name: "kubelet-profile-label", Value: convert.DefaultKubeletProfileLabel, Usage: "Kubernetes node label `KEY` that names a node's kubelet profile (with --mke3-host)"},
		&cli.StringFlag{Name: "image-registry", Usage: "the `REGISTRY` the upgrade will pull MKE 4k images from, as upgrade --image-registry (checked with --mke3-host)"},
		&cli.StringFlag{Name: "chart-registry", Usage: "the `oci://REGISTRY` of the MKE 4k charts, as upgrade --chart-registry (checked with --mke3-host)"},
		&cli.BoolFlag{Name: "mke3-airgapped", Usage: "the cluster has no Internet access, as upgrade --mke3-airgapped (the MKE 3 image must be on the leader)"},
		&cli.StringFlag{Name: "external-address", Usage: "the MKE 4k load balancer `ADDRESS`, as upgrade --external-address: checks that it forwards 9443 and 6443 to the managers"},
		&cli.StringFlag{Name: "data-dir", Aliases: []string{"d"}, Value: upgrade.DefaultDataDir, Usage: "k0s's data `DIR` on every node, as upgrade --data-dir: checks that it can be made and has room"},
		&cli.BoolFlag{Name: "no-carry", Usage: "as upgrade --no-carry: leave out the checks of MKE 3's Kubernetes data (docker inspect of its API server, controller manager and ucp-kv on the leader)"},
		&cli.BoolFlag{Name: "skip-join-check", Usage: "as upgrade --skip-join-check: do not check that the load balancer forwards the join ports"},
	}, slices.Concat(sshFlags(), optionalMKE3Flags(), deliveryFlags())...)
}

func preflightCommand() *cli.Command {
	return &cli.Command{
		Name:  "preflight",
		Usage: "check, read-only, that the MKE 3 cluster meets the prerequisites of the upgrade to MKE 4k",
		Description: `Connects to every host of hosts.yaml over SSH, and with --mke3-host reads the MKE 3
configuration, its LDAP settings and, through the admin's client bundle, the Kubernetes nodes and
their kubelet profiles, converts the configuration for those hosts, reads MKE 3's API server,
controller manager and ucp-kv on the leader (the data carry: etcd prefix, service-account keys,
encryption at rest), checks k0s's data directory on every node and, with --external-address, that
the load balancer forwards 9443 and 6443 to the managers (a short-lived listener on each manager's
free 9443, a connection from each joining node) and, with --k0s-delivery peer (the default), openssl
on the nodes and the peer ports between them (warnings). It reports blockers, warnings and skipped checks
with their remedies: the same checks, on the same code path, as upgrade refuses on.
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
	// KubeletProfile the profile its labels name (with --mke3-host).
	KubernetesNode *mke3.KubeNode `json:"kubernetesNode,omitempty"`
	KubeletProfile string         `json:"kubeletProfile,omitempty"`
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

// runPreflight checks the cluster with upgrade.Check, the checks
// upgrade.Discover runs: what it reports is what the upgrade refuses on.
func runPreflight(c *cli.Context) error {
	format, log, err := outputFlags(c)
	if err != nil {
		return err
	}
	// the delivery's checks follow upgrade's delivery flags (no binary
	// needed: url mode takes --k0s-sha256)
	delivery, err := deliveryOptions(c, nil, false)
	if err != nil {
		return err
	}
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return usageErr(err)
	}
	connect, err := sshOptions(c)
	if err != nil {
		return err
	}
	connect.Logger = log
	if a := c.String("external-address"); strings.Contains(a, "/") {
		return usagef("--external-address: %q must be a host name or address, not a URL", a)
	}
	o := upgrade.Options{
		Hosts:           file.Hosts,
		Connect:         connect,
		Concurrency:     c.Int("concurrency"),
		ExternalAddress: c.String("external-address"),
		ImageRegistry:   c.String("image-registry"), ChartRegistry: c.String("chart-registry"), Airgapped: c.Bool("mke3-airgapped"),
		KubeletProfileLabel: c.String("kubelet-profile-label"),
		DataDir:             c.String("data-dir"),
		Carry:               upgrade.CarryOptions{Skip: c.Bool("no-carry")},
		Delivery:            delivery,
		Logger:              log,
	}
	if c.Bool("skip-join-check") {
		o.Commands.JoinCheck = "-"
	}
	if c.String("mke3-host") != "" {
		if c.String("mke3-admin-username") == "" {
			return usagef("--mke3-host needs --mke3-admin-username")
		}
		if o.MKE3, err = mke3Client(c); err != nil {
			return err
		}
	}
	// upgrade.Check runs what upgrade.Discover runs: what it reports is
	// what the upgrade refuses on
	cr, err := upgrade.Check(c.Context, o)
	var dde *upgrade.DataDirError
	var rge *upgrade.RegistryError
	switch {
	case c.Context.Err() != nil:
		return failure(c.Context.Err())
	case errors.Is(err, convert.ErrInvalidOptions), errors.As(err, &dde), errors.As(err, &rge):
		return usageErr(err)
	case err != nil:
		return apiFailure(err)
	}
	res := cr.Gathered
	rep := preflightReport{Hosts: []preflightHost{}, Checks: cr.Checks}
	for _, h := range res.Hosts {
		ph := preflightHost{Address: h.Address, Facts: h.Facts, KubernetesNode: h.KubeNode, KubeletProfile: h.KubeletProfile}
		if h.Err != nil {
			ph.Error = h.Err.Error()
		}
		rep.Hosts = append(rep.Hosts, ph)
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
	if len(cr.Blockers()) > 0 {
		return silentExit(exitBlocking)
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
