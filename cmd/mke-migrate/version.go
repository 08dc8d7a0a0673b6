package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// versionInfo is what mke-migrate version prints.
type versionInfo struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	Platform  string `json:"platform"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: version(), GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of mke-migrate and of the Go toolchain that built it",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			v := buildVersion()
			if c.Bool("json") {
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return failure(err)
				}
				return fprintf(c.App.Writer, "%s\n", b)
			}
			rev := ""
			if v.Revision != "" {
				rev = ", revision " + v.Revision
				if v.Modified {
					rev += " (modified)"
				}
			}
			return fprintf(c.App.Writer, "mke-migrate %s (%s, %s%s)\n", v.Version, v.GoVersion, v.Platform, rev)
		},
	}
}
