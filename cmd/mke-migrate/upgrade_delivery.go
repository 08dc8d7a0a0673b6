package main

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

// deliveryFlags say how the k0s binary gets onto the nodes (upgrade and
// resume), named after k0sctl's: k0sDownloadURL, --concurrent-uploads.
func deliveryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "k0s-delivery", Value: string(upgrade.DefaultDeliveryMode), Usage: "how k0s gets onto the nodes, `MODE`: peer (uploaded once, then every node copies it from a node that has it, each serving at most --k0s-peer-fanout at once; a copy that fails is uploaded instead), upload (from this machine to every node), url (every node downloads --k0s-download-url itself, with curl or wget)"},
		&cli.StringFlag{Name: "k0s-download-url", Usage: "url delivery: download k0s from `URL` (a mirror; %v is the k0s version, %p the node's architecture; default k0s's GitHub releases, " + upgrade.DefaultK0sDownloadURL + ")"},
		&cli.StringFlag{Name: "k0s-version", Usage: "url delivery: the k0s `VERSION` for %v in the download URL (such as v1.33.4+k0s.0)"},
		&cli.StringFlag{Name: "k0s-sha256", Usage: "the k0s binary's SHA-256 `HEX` every node must find (default: of --k0s-binary; url delivery needs one of them)"},
		&cli.IntFlag{Name: "concurrent-uploads", Value: upgrade.DefaultConcurrentUploads, Usage: "upload k0s to at most `N` nodes at once (0: no bound)"},
		&cli.IntFlag{Name: "k0s-peer-fanout", Value: upgrade.DefaultPeerFanout, Usage: "peer delivery: a node serves k0s to at most `K` nodes at once"},
		&cli.IntFlag{Name: "k0s-peer-port", Value: upgrade.DefaultPeerPort, Usage: "peer delivery: nodes serve k0s on TCP ports `PORT` to PORT+K-1, which must be open between the nodes (preflight probes them and openssl on the nodes: a warning, not a blocker, as a failed copy is uploaded instead)"},
	}
}

// deliveryFlagNames maps upgrade.Delivery's fields to their flags.
var deliveryFlagNames = map[string]string{"Mode": "--k0s-delivery", "URL": "--k0s-download-url", "Version": "--k0s-version",
	"SHA256": "--k0s-sha256", "ConcurrentUploads": "--concurrent-uploads", "PeerFanout": "--k0s-peer-fanout", "PeerPort": "--k0s-peer-port"}

// deliveryOptions maps the delivery flags; without a k0s binary, only
// url delivery with --k0s-sha256 can install k0s (required says whether
// the command installs it).
func deliveryOptions(c *cli.Context, k0s []byte, required bool) (upgrade.Delivery, error) {
	d := upgrade.Delivery{Mode: upgrade.DeliveryMode(c.String("k0s-delivery")), URL: c.String("k0s-download-url"),
		Version: c.String("k0s-version"), SHA256: c.String("k0s-sha256"), ConcurrentUploads: c.Int("concurrent-uploads"),
		PeerFanout: c.Int("k0s-peer-fanout"), PeerPort: c.Int("k0s-peer-port")}
	if d.ConcurrentUploads == 0 { // k0sctl: 0 for no bound
		d.ConcurrentUploads = -1
	} else if d.ConcurrentUploads < 0 {
		return d, usagef("--concurrent-uploads: must not be negative")
	}
	if c.Int("k0s-peer-fanout") < 1 {
		return d, usagef("--k0s-peer-fanout: must be at least 1")
	}
	o := upgrade.Options{K0sBinary: k0s, Delivery: d}
	err := o.CheckDelivery()
	var de *upgrade.DeliveryError
	switch {
	case err == nil:
	case errors.As(err, &de):
		return d, usagef("%s: %s", deliveryFlagNames[de.Field], de.Msg)
	case required && d.Mode == upgrade.DeliveryURL:
		return d, usagef("--k0s-delivery url needs --k0s-sha256 or --k0s-binary (its checksum)")
	case required:
		return d, usagef("--k0s-binary is required (except with --k0s-delivery url and --k0s-sha256)")
	}
	if d.URL != "" && d.Mode != upgrade.DeliveryURL {
		return d, usagef("--k0s-download-url: only with --k0s-delivery url")
	}
	if strings.TrimSpace(d.SHA256) != d.SHA256 {
		return d, usagef("--k0s-sha256: %q has white space", d.SHA256)
	}
	return d, nil
}
