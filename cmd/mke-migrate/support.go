package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/support"
)

func supportBundleCommand() *cli.Command {
	return &cli.Command{
		Name:  "support-bundle",
		Usage: "collect a support bundle from every node (and from a run's output folder)",
		Description: `Connects to every node of hosts.yaml and collects, as root, the MKE 3 containers and their
recent logs, k0s status and its service logs, the node's facts, disk usage and listening ports. With
--output naming a run's output folder, the run's journal, plan, discovery, preflight results, summary
and debug log are added. Secrets are redacted (package support: passwords, tokens, private keys), each
file is cut to its last 2 MiB and the bundle to 64 MiB. The bundle is written into --output (default:
the current folder) and its path printed. An upgrade writes one by itself when it fails, before and
after its rollback.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE`", Required: true},
			&cli.StringFlag{Name: "output", Usage: "write the bundle into `DIR` (a run's output folder adds the run's files)", Value: "."},
			&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "collect from at most `N` hosts at once"},
		}, sshFlags()...),
		Action: runSupportBundle,
	}
}

func runSupportBundle(c *cli.Context) error {
	if c.Int("concurrency") < 1 {
		return usagef("--concurrency: must be at least 1")
	}
	connect, err := sshOptions(c)
	if err != nil {
		return err
	}
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return usageErr(err)
	}
	dir := c.String("output")
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return usagef("--output: %s is not a folder", dir)
	}
	nodes := &dialer{opts: connect,
		hosts: map[string]hosts.Host{}, clients: map[string]*hosts.Client{}}
	defer nodes.close()
	o := support.Options{Nodes: nodes, Concurrency: c.Int("concurrency")}
	for _, h := range file.Hosts {
		o.Hosts = append(o.Hosts, h.String())
		nodes.hosts[h.String()] = h
	}
	o.Facts = func(ctx context.Context, host string) (any, error) {
		cl, err := nodes.client(ctx, host)
		if err != nil {
			return nil, err
		}
		return cl.Facts(ctx, nil)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.jsonl")); err == nil {
		o.RunDir = dir
	}
	if p := os.Getenv("MKE_PASSWORD"); p != "" {
		o.Secrets = append(o.Secrets, []byte(p))
	}
	for _, v := range []string{envImageRegistryPassword, envChartRegistryPassword} {
		if p := os.Getenv(v); p != "" {
			o.Secrets = append(o.Secrets, []byte(p))
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "Collecting a support bundle from %d hosts...\n", len(o.Hosts))
	p, man, err := support.WriteFile(c.Context, dir, support.BundleName("on-demand", time.Now()), o)
	if err != nil {
		return failure(err)
	}
	failed := 0
	for _, e := range man.Entries {
		if e.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "%d files, %d with errors (see manifest.json), %d left out for size.\n", len(man.Entries), failed, len(man.Dropped))
	return fprintf(c.App.Writer, "Support bundle: %s\n", p)
}

// dialer connects to each host once, on first use.
type dialer struct {
	opts    hosts.ConnectOptions
	hosts   map[string]hosts.Host
	mu      sync.Mutex
	clients map[string]*hosts.Client
}

func (d *dialer) client(ctx context.Context, host string) (*hosts.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.clients[host]; c != nil {
		return c, nil
	}
	h, ok := d.hosts[host]
	if !ok {
		return nil, errors.New("no host " + host)
	}
	c, err := hosts.Connect(ctx, h, d.opts)
	if err != nil {
		return nil, err
	}
	d.clients[host] = c
	return c, nil
}

func (d *dialer) Node(ctx context.Context, host string) (hosts.Node, error) {
	c, err := d.client(ctx, host)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (d *dialer) close() {
	for _, c := range d.clients {
		_ = c.Close()
	}
}
