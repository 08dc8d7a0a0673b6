package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/portcheck"
)

func checkPortsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ports",
		Usage: "probe, from each node to each other node, the ports k0s and MKE 4k need, and the load balancer's 6443 and 9443",
		Description: `Changes nothing lasting: on each node, a port some process listens on is reported as held by it
(ss names the process: MKE 3's own, such as its kube-apiserver on 6443, are stopped by the upgrade);
a free one gets a listener of ours for the duration of the check (python3 on the node), and every
other node that needs it connects to it: ok, or blocked. Ports: etcd peers 2380 and the join API 9443
between managers, the Kubernetes API 6443 and konnectivity 8132 on managers, the kubelet 10250 and
Calico's BGP 179 everywhere (k0s's networking docs; UDP is not probed). Exit 3 when a probe is blocked
or a port held.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE` (role: manager or worker on every host)", Required: true},
			&cli.StringFlag{Name: "external-address", Usage: "the load balancer `ADDRESS` (probed on 6443 and 9443 from every node)"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.DurationFlag{Name: "connect-timeout", Value: 3 * time.Second, Usage: "give each connect `DURATION`"},
			&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
		}, sshFlags()...),
		Action: runCheckPorts,
	}
}

func runCheckPorts(c *cli.Context) error {
	if c.Int("concurrency") < 1 {
		return usagef("--concurrency: must be at least 1")
	}
	if c.Duration("connect-timeout") < time.Second {
		return usagef("--connect-timeout: at least 1s")
	}
	connect, err := sshOptions(c)
	if err != nil {
		return err
	}
	file, err := hosts.Load(c.String("hosts-path"))
	if err != nil {
		return usageErr(err)
	}
	nodes := &dialer{opts: connect,
		hosts: map[string]hosts.Host{}, clients: map[string]*hosts.Client{}}
	defer nodes.close()
	o := portcheck.Options{Nodes: nodes, LB: c.String("external-address"), ConnectTimeout: c.Duration("connect-timeout"), Concurrency: c.Int("concurrency")}
	for _, h := range file.Hosts {
		role := portcheck.Worker
		switch h.Role {
		case hosts.RoleManager:
			role = portcheck.Controller
		case hosts.RoleWorker:
		default:
			return usagef("%s: line %d: host %s has no role: give role: manager or worker", c.String("hosts-path"), h.Line, h)
		}
		addr := h.Address
		if h.PrivateAddress != "" {
			addr = h.PrivateAddress
		}
		o.Hosts = append(o.Hosts, portcheck.Host{Key: h.String(), Address: addr, Role: role})
		nodes.hosts[h.String()] = h
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.ErrWriter, "Probing the ports between %d hosts...\n", len(o.Hosts))
	}
	rep, err := portcheck.Check(c.Context, o)
	if err != nil {
		return failure(err)
	}
	if err := writeResult(c, rep); err != nil {
		return failure(err)
	}
	if len(rep.Failed()) > 0 {
		return silentExit(exitBlocking)
	}
	return nil
}
