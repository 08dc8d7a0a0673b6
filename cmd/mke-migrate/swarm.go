package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/swarm"
)

func swarmCommand() *cli.Command {
	return &cli.Command{
		Name:  "swarm",
		Usage: "carry the Swarm workloads, which MKE 4k does not run",
		Subcommands: []*cli.Command{{
			Name:  "export",
			Usage: "write every Swarm service as Kubernetes manifests, with a report of what was carried",
			Description: `Reads the Swarm services and what they reference (tasks, configs, secrets, networks,
volumes, nodes) through the MKE 3 API and writes into --out one manifest per namespace
(each stack becomes a namespace), report.yaml or report.json, and report.txt. Secrets are
written without their values, which the API never returns; report.txt says how to fill
them in. Exit 3 when something could not be carried as it was and needs a person (the
files are still written).`,
			Flags: append(mke3Flags(),
				&cli.StringFlag{Name: "out", Value: "swarm-export", Usage: "write the manifests and the report into `DIR` (created owner-only; refused when it holds files swarm export did not write)"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "yaml", Usage: "`FORMAT` of the manifests and the report: yaml or json"},
				&cli.StringFlag{Name: "namespace", Value: "default", Usage: "`NAMESPACE` of the services that belong to no stack"},
				&cli.StringFlag{Name: "nodeport-range", Value: "32768-35535", Usage: "the MKE 4k cluster's NodePort `RANGE` (spec.network.nodePortRange of mke4.yaml): ports published in ingress mode keep their number inside it"},
				&cli.StringFlag{Name: "volume-size", Value: "10Gi", Usage: "`SIZE` each PersistentVolumeClaim made from a named volume requests"},
				&cli.StringFlag{Name: "storage-class", Usage: "`CLASS` of those claims (default: the cluster's default class)"},
			),
			Action: runSwarmExport,
		}},
	}
}

// swarmOptions maps the flags to swarm.Options and the format.
func swarmOptions(c *cli.Context) (swarm.Options, swarm.Format, error) {
	var f swarm.Format
	switch c.String("output") {
	case "yaml":
		f = swarm.YAML
	case "json":
		f = swarm.JSON
	default:
		return swarm.Options{}, "", usagef("--output: %q is not yaml or json", c.String("output"))
	}
	lo, hi, ok := strings.Cut(c.String("nodeport-range"), "-")
	first, err1 := strconv.Atoi(lo)
	last, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return swarm.Options{}, "", usagef("--nodeport-range: %q is not a range like 32768-35535", c.String("nodeport-range"))
	}
	return swarm.Options{
		Namespace:    c.String("namespace"),
		NodePortMin:  first,
		NodePortMax:  last,
		VolumeSize:   c.String("volume-size"),
		StorageClass: c.String("storage-class"),
	}, f, nil
}

func runSwarmExport(c *cli.Context) error {
	opts, format, err := swarmOptions(c)
	if err != nil {
		return err
	}
	client, err := mke3Client(c)
	if err != nil {
		return err
	}
	res, err := swarm.Export(c.Context, client, opts)
	if err != nil {
		var oe *swarm.OptionsError
		if errors.As(err, &oe) {
			return usageErr(err)
		}
		return apiFailure(err)
	}
	dir := c.String("out")
	if _, err := swarm.WriteDir(dir, res, format); err != nil {
		if errors.Is(err, swarm.ErrNotOurs) {
			return usageErr(err)
		}
		return failure(err)
	}
	if err := fprintf(c.App.Writer, "%s\n", res.Summary(dir)); err != nil {
		return err
	}
	for _, s := range res.Report.Services {
		for _, e := range s.Entries {
			if e.Attention {
				if err := fprintf(c.App.Writer, "  %s: %s: %s\n", s.Swarm, e.Field, e.Note); err != nil {
					return err
				}
			}
		}
	}
	if res.NeedAttention > 0 {
		if err := fprintf(c.App.Writer, "See %s for every field and how to fill in the secrets.\n", dir+"/report.txt"); err != nil {
			return err
		}
		return silentExit(exitBlocking)
	}
	return nil
}
