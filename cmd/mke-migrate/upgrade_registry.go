package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

// Environment variables of the registries' pull credentials. mkectl 4.2.1
// documents MKE_CHART_REGISTRY_PASSWORD ("the same flags and environment
// variables as with the mkectl apply command"); the other three follow its
// pattern.
const (
	envImageRegistryUsername = "MKE_IMAGE_REGISTRY_USERNAME"
	envImageRegistryPassword = "MKE_IMAGE_REGISTRY_PASSWORD"
	envChartRegistryUsername = "MKE_CHART_REGISTRY_USERNAME"
	envChartRegistryPassword = "MKE_CHART_REGISTRY_PASSWORD"
)

// registryFlags are the pull credentials and CA bundles of the image and
// chart registries (mkectl 4.2.1's names).
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "image-registry-username", EnvVars: []string{envImageRegistryUsername}, Usage: "pull MKE 4k images as `USER` (created as a Secret in the new cluster)"},
		&cli.StringFlag{Name: "image-registry-password", EnvVars: []string{envImageRegistryPassword}, Usage: "the image registry's `PASSWORD` (visible in the process list: prefer " + envImageRegistryPassword + " or --image-registry-password-stdin)"},
		&cli.BoolFlag{Name: "image-registry-password-stdin", Usage: "read the image registry's password from the first line of standard input"},
		&cli.StringFlag{Name: "chart-registry-username", EnvVars: []string{envChartRegistryUsername}, Usage: "pull MKE 4k charts as `USER`"},
		&cli.StringFlag{Name: "chart-registry-password", EnvVars: []string{envChartRegistryPassword}, Usage: "the chart registry's `PASSWORD` (visible in the process list: prefer " + envChartRegistryPassword + " or --chart-registry-password-stdin)"},
		&cli.BoolFlag{Name: "chart-registry-password-stdin", Usage: "read the chart registry's password from standard input (the line after the image registry's when both are read)"},
		&cli.StringFlag{Name: "image-registry-ca-file", Usage: "trust the image registry's certificate with the PEM CA bundle `FILE` (registries.imageRegistry.caData)"},
		&cli.StringFlag{Name: "chart-registry-ca-file", Usage: "trust the chart registry's certificate with the PEM CA bundle `FILE` (registries.chartRegistry.caData)"},
	}
}

// registryOptions maps the registry flags to o; every problem is a usage
// error naming the flag, before anything is reached. Passwords never
// appear in an error.
func registryOptions(c *cli.Context, o *upgrade.Options) error {
	imgStdin, chartStdin := c.Bool("image-registry-password-stdin"), c.Bool("chart-registry-password-stdin")
	if (imgStdin || chartStdin) && (c.Bool("mke3-admin-password-stdin") || c.Bool("backup-passphrase-stdin")) {
		return usagef("standard input can carry the registry passwords or the MKE 3 password or the backup passphrase, not several: use the environment variables for the others")
	}
	var stdin *bufio.Reader
	line := func(flag string) (string, error) {
		if stdin == nil {
			stdin = bufio.NewReader(c.App.Reader)
		}
		l, err := stdin.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", usagef("--%s: %w", flag, err)
		}
		if l = strings.TrimRight(l, "\r\n"); l != "" {
			return l, nil
		}
		return "", usagef("--%s: no password on standard input", flag)
	}
	auth := func(which string, fromStdin bool) (*upgrade.RegistryAuth, error) {
		user, pass := c.String(which+"-registry-username"), c.String(which+"-registry-password")
		if fromStdin {
			if c.IsSet(which + "-registry-password") {
				return nil, usagef("give --%s-registry-password (or its environment variable) or --%s-registry-password-stdin, not both", which, which)
			}
			var err error
			if pass, err = line(which + "-registry-password-stdin"); err != nil {
				return nil, err
			}
		}
		switch {
		case user == "" && pass == "":
			return nil, nil
		case user == "":
			return nil, usagef("--%s-registry-username: required with the %s registry's password", which, which)
		case pass == "":
			return nil, usagef("--%s-registry-password: required with --%s-registry-username (or %s, or --%s-registry-password-stdin)", which, which,
				map[string]string{"image": envImageRegistryPassword, "chart": envChartRegistryPassword}[which], which)
		}
		return &upgrade.RegistryAuth{Username: user, Password: []byte(pass)}, nil
	}
	var err error
	if o.ImageRegistryAuth, err = auth("image", imgStdin); err != nil {
		return err
	}
	if o.ChartRegistryAuth, err = auth("chart", chartStdin); err != nil {
		return err
	}
	for _, f := range []struct {
		flag string
		dst  *[]byte
	}{{"image-registry-ca-file", &o.ImageRegistryCA}, {"chart-registry-ca-file", &o.ChartRegistryCA}} {
		p := c.String(f.flag)
		if p == "" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return usagef("--%s: %w", f.flag, err)
		}
		*f.dst = b
	}
	// with the URLs (upgrade only; resume has them from the run) for
	// their checks
	chk := *o
	chk.ImageRegistry, chk.ChartRegistry = c.String("image-registry"), c.String("chart-registry")
	if err := chk.CheckRegistries(); err != nil {
		return usageErr(err)
	}
	return nil
}
