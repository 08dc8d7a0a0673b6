package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
)

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:  "convert",
		Usage: "convert an MKE 3 configuration TOML to an MKE 4k mke4.yaml, accounting for every key",
		Description: `Reads the MKE 3 configuration (as exported by GET /api/ucp/config-toml) and writes
the MKE 4k configuration. Every key of the input appears in the report as converted
(with its MKE 4k path), default, dropped (with the reason), blocking, unconvertible
or unknown. Without --report-out a short report of what needs attention goes to stderr.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mke3-config", Usage: "MKE 3 configuration `FILE` (TOML)", Required: true},
			&cli.StringFlag{Name: "hosts-path", Usage: "hosts.yaml `FILE`; its hosts (with role and optional labels) become spec.hosts"},
			&cli.StringFlag{Name: "external-address", Usage: "MKE 4k load balancer `ADDRESS` (spec.apiServer.externalAddress)"},
			&cli.StringFlag{Name: "config-out", Usage: "write mke4.yaml to `FILE` (atomically; only a regular file is replaced; - for stdout) instead of stdout"},
			&cli.StringFlag{Name: "report-out", Usage: "write the full report to `FILE` (- for stdout, with --config-out)"},
			&cli.StringFlag{Name: "report-format", Value: "text", Usage: "report format: text or json"},
			&cli.StringFlag{Name: "kubelet-profile-label", Value: convert.DefaultKubeletProfileLabel, Usage: "MKE 3 node label `KEY` that names a node's kubelet profile (unpublished by Mirantis; check your nodes)"},
			mke3VersionFlag(),
		},
		Action: runConvert,
	}
}

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "offline checks",
		Subcommands: []*cli.Command{{
			Name:  "mke3",
			Usage: "check an MKE 3 configuration for MKE 4k compatibility (Supported / Not supported / Skipped)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "mke3-config", Usage: "MKE 3 configuration `FILE` (TOML)", Required: true},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output format: text or json"},
				mke3VersionFlag(),
			},
			Action: runCheck,
		}, checkPortsCommand()},
	}
}

func readMKE3(path string) (*convert.MKE3Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("read MKE 3 configuration: %w", err))
	}
	defer f.Close()
	// Read one byte past the limit so that Parse can refuse an oversized
	// file without this command reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, convert.MaxInputSize+1))
	if err != nil {
		return nil, usageErr(fmt.Errorf("read MKE 3 configuration %s: %w", path, err))
	}
	cfg, err := convert.Parse(path, data)
	if err != nil {
		return nil, usageErr(err)
	}
	return cfg, nil
}

// The garbage collector's settings while convert runs (issue 14, F13;
// docs/benchmarks.md). Most of what a conversion allocates stays live to
// its end (the report's entries, the extraArgs maps), and Go's default
// (GOGC=100) lets the heap grow to twice that before collecting: for
// 300 000 flags, a peak near 150 MB. convertGCPercent lets it grow to 1.5
// times, for about 10 % more CPU; convertMemoryLimit, a soft limit,
// makes the collector work harder as the runtime's memory nears it. When
// the live data alone exceeds the limit (an input far larger than any real
// export, which is about 10 KiB), the collector runs more often but never
// takes more than about half the CPU: the conversion is slower, not
// failed. GOGC and GOMEMLIMIT set by the operator win.
const (
	convertGCPercent   = 50
	convertMemoryLimit = 100 << 20
)

// convertGC applies convertGCPercent and convertMemoryLimit where the
// operator did not set GOGC or GOMEMLIMIT, and returns what restores the
// previous settings.
func convertGC() (restore func()) {
	oldPercent, oldLimit := -2, int64(-1)
	if _, set := os.LookupEnv("GOGC"); !set {
		oldPercent = debug.SetGCPercent(convertGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		oldLimit = debug.SetMemoryLimit(convertMemoryLimit)
	}
	return func() {
		if oldPercent != -2 {
			debug.SetGCPercent(oldPercent)
		}
		if oldLimit >= 0 {
			debug.SetMemoryLimit(oldLimit)
		}
	}
}

func runConvert(c *cli.Context) error {
	format := c.String("report-format")
	if format != "text" && format != "json" {
		return usagef("--report-format must be text or json, not %q", format)
	}
	// mke4.yaml goes to standard output without --config-out.
	if err := checkOutputs(c, c.String("config-out") == "", "config-out", "report-out"); err != nil {
		return err
	}
	defer convertGC()()
	cfg, err := readMKE3(c.String("mke3-config"))
	if err != nil {
		return err
	}
	v, err := mke3Version(c)
	if err != nil {
		return err
	}
	opts := convert.Options{
		ExternalAddress:     c.String("external-address"),
		KubeletProfileLabel: c.String("kubelet-profile-label"),
		MKE3Version:         v,
	}
	if p := c.String("hosts-path"); p != "" {
		hs, err := hostsForConvert(p)
		if err != nil {
			return err
		}
		opts.Hosts = hs
	}
	out, rep, err := convert.Convert(cfg, opts)
	if err != nil {
		return usageErr(err)
	}
	yml, err := mke4.Marshal(out)
	if err != nil {
		return failure(err)
	}
	// The report is written as it is rendered, not held whole: for a
	// list of hundreds of thousands of flags it is tens of megabytes.
	writeReport := rep.WriteText
	if format == "json" {
		writeReport = rep.WriteJSON
	}

	// The configuration may carry secrets (OIDC client secret, LDAP bind
	// password): the file is readable by its owner only.
	if c.String("config-out") != "" {
		if err := writeOutput(c, "config-out", yml, 0o600); err != nil {
			return err
		}
	} else if _, err := c.App.Writer.Write(yml); err != nil {
		return failure(fmt.Errorf("write mke4.yaml: %w", err))
	}
	switch p := c.String("report-out"); {
	case p != "":
		if err := writeOutputFunc(c, "report-out", 0o644, writeReport); err != nil {
			return err
		}
	case format == "json":
		// A pipeline reads stderr as JSON: nothing else may go there.
		if err := writeReport(c.App.ErrWriter); err != nil {
			return failure(err)
		}
		if rep.HasBlocking() {
			return silentExit(exitBlocking)
		}
	default:
		if err := rep.WriteShort(c.App.ErrWriter); err != nil {
			return failure(err)
		}
	}
	if rep.HasBlocking() {
		return blocking(fmt.Errorf("%d setting(s) block the upgrade to MKE 4k (see the report)", len(rep.Blocking())))
	}
	return nil
}

func hostsForConvert(path string) ([]convert.Host, error) {
	f, err := hosts.Load(path)
	if err != nil {
		return nil, usageErr(err)
	}
	hs, err := toconvert.Hosts(path, f.Hosts)
	if err != nil {
		return nil, usageErr(err)
	}
	return hs, nil
}

func runCheck(c *cli.Context) error {
	format := c.String("output")
	if format != "text" && format != "json" {
		return usagef("--output must be text or json, not %q", format)
	}
	cfg, err := readMKE3(c.String("mke3-config"))
	if err != nil {
		return err
	}
	v, err := mke3Version(c)
	if err != nil {
		return err
	}
	res, err := convert.Check(cfg, convert.Options{MKE3Version: v})
	if err != nil {
		return usageErr(err)
	}
	if format == "json" {
		b, err := res.JSON()
		if err != nil {
			return failure(err)
		}
		if _, err := c.App.Writer.Write(b); err != nil {
			return failure(err)
		}
		if res.Blocking() {
			return silentExit(exitBlocking) // the JSON says why
		}
	} else if err := res.WriteText(c.App.Writer); err != nil {
		return failure(err)
	}
	if res.Blocking() {
		return blocking(errors.New("the configuration blocks the upgrade to MKE 4k"))
	}
	return nil
}

func mke3VersionFlag() cli.Flag {
	return &cli.StringFlag{Name: "mke3-version", Usage: "the source's MKE `VERSION` (like 3.8.8: the tag of the ucp-proxy image on a node): gates 3.7.15+, 3.8.x and 3.9.x and reports what changed in that version per key"}
}

// mke3Version is --mke3-version, checked: an unsupported version is a
// blocking answer (exit 3) before any conversion.
func mke3Version(c *cli.Context) (string, error) {
	v := c.String("mke3-version")
	if v == "" {
		return "", nil
	}
	if err := convert.CheckMKE3Version(v); err != nil {
		if errors.Is(err, convert.ErrUnsupportedMKE3Version) && strings.Contains(err.Error(), "not an MKE version") {
			return "", usagef("--mke3-version: %v", err)
		}
		return "", blocking(fmt.Errorf("--mke3-version: %w", err))
	}
	return v, nil
}
