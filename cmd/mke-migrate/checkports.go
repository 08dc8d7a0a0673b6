package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/portcheck"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// peerPortWhat names peer delivery's ports in the report.
const peerPortWhat = "k0s peer delivery"

// checkPortsList is the ports to probe: k0s's, and with peer delivery
// its fanout ports from port, between every pair of nodes (any node may
// serve any other).
func checkPortsList(mode upgrade.DeliveryMode, port, fanout int) ([]portcheck.Port, error) {
	ports := slices.Clone(portcheck.DefaultPorts)
	if mode == upgrade.DeliveryUpload || mode == upgrade.DeliveryURL {
		return ports, nil // url's other needs are upgrade's to check
	}
	if fanout < 1 {
		return nil, &upgrade.DeliveryError{Field: "PeerFanout", Msg: "must be at least 1"}
	}
	d, err := upgrade.Delivery{Mode: mode, PeerPort: port, PeerFanout: fanout}.Resolved()
	if err != nil {
		return nil, err
	}
	for i := range d.PeerFanout {
		ports = append(ports, portcheck.Port{Number: d.PeerPort + i, What: peerPortWhat})
	}
	return ports, nil
}

func checkPortsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ports",
		Usage: "probe, from each node to each other node, the ports k0s and MKE 4k need, and the load balancer's 6443 and 9443",
		Description: `Changes nothing lasting: on each node, a port some process listens on is reported as held by it
(ss names the process: MKE 3's own, such as its kube-apiserver on 6443, are stopped by the upgrade);
a free one gets a listener of ours for the duration of the check (python3 on the node), and every
other node that needs it connects to it: ok, or blocked. Ports: etcd peers 2380 and the join API 9443
between managers, the Kubernetes API 6443 and konnectivity 8132 on managers, the kubelet 10250 and
Calico's BGP 179 everywhere (k0s's networking docs; UDP is not probed); with --k0s-delivery peer (the
default, as for upgrade) also the ports nodes serve the k0s binary to each other on, --k0s-peer-port to
PORT+K-1 (19443-19445), between every pair of nodes. Exit 3 when a probe of k0s's ports is blocked or
a port held; peer delivery's ports are reported but do not change the exit code (the upgrade only
warns about them: a copy that fails is uploaded from this machine instead).`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "hosts-path", Usage: "the cluster's hosts.yaml `FILE` (role: manager or worker on every host)", Required: true},
			&cli.StringFlag{Name: "external-address", Usage: "the load balancer `ADDRESS` (probed on 6443 and 9443 from every node)"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.DurationFlag{Name: "connect-timeout", Value: 3 * time.Second, Usage: "give each connect `DURATION`"},
			&cli.IntFlag{Name: "concurrency", Value: hosts.DefaultConcurrency, Usage: "work on at most `N` hosts at once"},
			&cli.StringFlag{Name: "k0s-delivery", Value: string(upgrade.DefaultDeliveryMode), Usage: "the upgrade's k0s delivery `MODE` (peer, upload, url): peer adds its ports"},
			&cli.IntFlag{Name: "k0s-peer-fanout", Value: upgrade.DefaultPeerFanout, Usage: "peer delivery: a node serves k0s to at most `K` nodes at once, on K ports"},
			&cli.IntFlag{Name: "k0s-peer-port", Value: upgrade.DefaultPeerPort, Usage: "peer delivery: the first of the K TCP ports `PORT` nodes serve k0s on"},
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
	ports, err := checkPortsList(upgrade.DeliveryMode(c.String("k0s-delivery")), c.Int("k0s-peer-port"), c.Int("k0s-peer-fanout"))
	var de *upgrade.DeliveryError
	if errors.As(err, &de) {
		return usagef("%s: %s", deliveryFlagNames[de.Field], de.Msg)
	} else if err != nil {
		return usageErr(err)
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
	o := portcheck.Options{Nodes: nodes, Ports: ports, LB: c.String("external-address"), ConnectTimeout: c.Duration("connect-timeout"), Concurrency: c.Int("concurrency")}
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
	for _, r := range rep.Failed() {
		if r.What != peerPortWhat {
			return silentExit(exitBlocking)
		}
	}
	return nil
}
