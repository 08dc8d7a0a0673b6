package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/mke-migrate/mke-migrate/upgrade"
)

const (
	imgCanary   = "canary-img-Lr82xQ"
	chartCanary = "canary-chart-Pd41mZ"
)

func TestOpsFlagValidation(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("MKE_PASSWORD", "not-used-by-these-tests")
	hostsFile := writeFile(t, dir, "hosts.yaml", "hosts:\n  - address: 10.0.0.1\n    role: manager\n")
	k0s := writeFile(t, dir, "k0s", "binary")
	notPEM := writeFile(t, dir, "ca.txt", "not a certificate")
	base := []string{"upgrade", "--hosts-path", hostsFile, "--mke3-admin-username", "admin", "--external-address", "mke.example.com",
		"--k0s-binary", k0s, "--force", "--output", filepath.Join(dir, "out")}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := map[string]struct {
		args  []string
		env   map[string]string
		stdin string
		want  string
	}{
		"image user without password": {args: with("--image-registry-username", "u"), want: "--image-registry-password: required"},
		"chart password without user": {args: with(), env: map[string]string{envChartRegistryPassword: chartCanary}, want: "--chart-registry-username: required"},
		"password in flag and stdin":  {args: with("--image-registry-username", "u", "--image-registry-password", imgCanary, "--image-registry-password-stdin"), stdin: imgCanary + "\n", want: "not both"},
		"stdin empty":                 {args: with("--image-registry-username", "u", "--image-registry-password-stdin"), want: "no password on standard input"},
		"stdin shared with mke3":      {args: with("--mke3-admin-password-stdin", "--chart-registry-password-stdin"), stdin: "x\n", want: "not several"},
		"two-line password":           {args: with("--image-registry-username", "u"), env: map[string]string{envImageRegistryPassword: imgCanary + "\nmore"}, want: "one line"},
		"CA file missing":             {args: with("--image-registry-ca-file", filepath.Join(dir, "absent.pem")), want: "--image-registry-ca-file"},
		"CA file not PEM":             {args: with("--chart-registry-ca-file", notPEM), want: "chart registry CA"},
		"upgrade timeout zero":        {args: with("--upgrade-timeout-minutes", "0"), want: "--upgrade-timeout-minutes: must be at least 1"},
		"both timeouts, different":    {args: with("--upgrade-timeout-minutes", "30", "--timeout", "1h"), want: "same setting"},
		"command shorter than run":    {args: with("--timeout-minutes", "10"), want: "shorter than the upgrade's timeout"},
		"command timeout zero":        {args: with("--timeout-minutes", "0"), want: "--timeout-minutes: must be at least 1"},
		"backup path missing":         {args: with("--backup-path", filepath.Join(dir, "absent.tar")), want: "--backup-path"},
		"backup path a folder":        {args: with("--backup-path", dir), want: "not a regular file"},
		"backup path and passphrase":  {args: with("--backup-path", k0s, "--backup-passphrase-env", "HOME"), want: "one or the other"},
		"data dir not k0s":            {args: with("--data-dir", "/var/lib/docker"), want: "must end in /k0s"},
		"data dir relative":           {args: with("-d", "var/k0s"), want: "--data-dir"},
		"http registry with creds":    {args: with("--image-registry", "http://r.example.com", "--image-registry-username", "u"), env: map[string]string{envImageRegistryPassword: imgCanary}, want: "HTTPS"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"mke-migrate"}, tt.args...), strings.NewReader(tt.stdin), &out, &errb)
			assert.Equal(t, 2, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
			assert.Contains(t, errb.String(), tt.want)
			for _, c := range []string{imgCanary, chartCanary} {
				assert.NotContains(t, out.String()+errb.String(), c)
			}
			assert.NoDirExists(t, filepath.Join(dir, "out"), "nothing is written on a usage error")
			_ = os.RemoveAll(filepath.Join(dir, "out"))
		})
	}
}

// The passwords from the environment and standard input reach neither a
// command line on any host nor the output, the log or any file, also when
// the run fails and rolls back (the simulated nodes serve no Kubernetes
// API: the registry step fails).
func TestRegistryPasswordsNowhere(t *testing.T) {
	b := startCLIBed(t)
	outDir := filepath.Join(b.dir, "run")
	cmd := b.command(t, b.upgradeArgs("--force", "--skip-rbac", "--k0s-binary", b.k0sPath, "--output", outDir,
		"--image-registry", "registry.example.com/mke", "--image-registry-username", "img-user",
		"--chart-registry", "oci://registry.example.com/mke", "--chart-registry-username", "chart-user", "--chart-registry-password-stdin")...)
	cmd.Env = append(cmd.Env, envImageRegistryPassword+"="+imgCanary)
	cmd.Stdin = strings.NewReader(chartCanary + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	stderr := errb.String()
	tail := stderr[max(0, len(stderr)-3000):]
	require.Equal(t, 1, exitCode(t, err), tail)
	assert.Contains(t, stderr, "registry-credentials", tail)
	assert.Contains(t, stderr, "Rollback to MKE version 3.8.8 completed successfully", tail)
	assert.Equal(t, b.baseline, b.digests(t))
	for _, c := range []string{imgCanary, chartCanary} {
		assert.NotContains(t, out.String()+stderr, c)
		for _, a := range cmd.Args {
			assert.NotContains(t, a, c)
		}
	}
	files := 0
	for _, d := range []string{outDir, filepath.Join(b.dir, "home")} {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			files++
			assert.NotContains(t, string(data), imgCanary, p)
			assert.NotContains(t, string(data), chartCanary, p)
			return nil
		})
	}
	assert.NotZero(t, files)
	calls := 0
	for _, h := range b.c.Hosts {
		cs, err := b.c.Calls(t.Context(), h)
		require.NoError(t, err)
		for _, argv := range cs {
			calls++
			line := strings.Join(argv, " ")
			assert.NotContains(t, line, imgCanary, h.Name)
			assert.NotContains(t, line, chartCanary, h.Name)
		}
	}
	assert.NotZero(t, calls)
}

// mkectl's timing flags map onto our options: --upgrade-timeout-minutes is
// --timeout, --timeout-minutes a deadline on the command's context.
func TestTimingFlags(t *testing.T) {
	for name, tt := range map[string]struct {
		args     []string
		timeout  time.Duration
		deadline bool
	}{
		"defaults":           {nil, upgrade.DefaultTimeout, false},
		"mkectl's minutes":   {[]string{"--upgrade-timeout-minutes", "90"}, 90 * time.Minute, false},
		"same as --timeout":  {[]string{"--upgrade-timeout-minutes", "90", "--timeout", "1h30m"}, 90 * time.Minute, false},
		"command bound":      {[]string{"--timeout-minutes", "120"}, upgrade.DefaultTimeout, true},
		"our --timeout only": {[]string{"--timeout", "2h"}, 2 * time.Hour, false},
	} {
		t.Run(name, func(t *testing.T) {
			var got upgrade.Options
			var deadline bool
			app := &cli.App{Flags: append(timingFlags(), &cli.DurationFlag{Name: "timeout", Value: upgrade.DefaultTimeout}),
				Action: func(c *cli.Context) error {
					got.Timeout = c.Duration("timeout")
					release, err := timingOptions(c, &got)
					if err != nil {
						return err
					}
					defer release()
					_, deadline = c.Context.Deadline()
					return nil
				}}
			require.NoError(t, app.Run(append([]string{"x"}, tt.args...)))
			assert.Equal(t, tt.timeout, got.Timeout)
			assert.Equal(t, tt.deadline, deadline)
		})
	}
}
