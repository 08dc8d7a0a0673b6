package summary

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/rbac"
)

// MKE3Ports are the ports MKE 3 used that MKE 4k no longer does, in the
// order of mkectl's summary. MKE 4k still uses 443 on the load balancer,
// and 6443 and 9443 on the controllers.
var MKE3Ports = []int{2377, 6444, 7946, 9055, 12376, 12378, 12379, 12380, 12381, 12382, 12383, 12384,
	12385, 12386, 12387, 12388, 12389, 12391, 12392, 179, 12390, 2376, 443}

// MCRMessage is the MCR section's verdict.
const MCRMessage = "MCR may safely be uninstalled"

// Input is what the summary is made from. Report is required; RBAC is nil
// when RBAC was left out of the upgrade.
type Input struct {
	Report *convert.Report
	RBAC   *rbac.Report
	// MKEVersion is the MKE 3 version that was (or, with DryRun, would be)
	// uninstalled.
	MKEVersion string
	// Managers and Workers are the hosts, as the upgrade names them.
	Managers, Workers []string
	// DryRun says nothing was changed: the summary says what would be.
	DryRun bool
}

// Summary is the upgrade summary. Its JSON field names are stable.
type Summary struct {
	DryRun         bool           `json:"dryRun"`
	Hosts          Hosts          `json:"hosts"`
	Configuration  Configuration  `json:"configuration"`
	Authentication Authentication `json:"authentication"`
	Authorization  Authorization  `json:"authorization"`
	Ports          Ports          `json:"ports"`
	MCR            MCR            `json:"mcr"`
	Cleanup        Cleanup        `json:"mke3Cleanup"`
	// MetalLBPools are the MKE 3 pools to recreate as IPAddressPool
	// objects; empty when MetalLB was off.
	MetalLBPools []convert.MetalLBPool `json:"metallbPools"`
}

// Hosts are the upgraded nodes: managers became k0s controllers (with a
// worker), workers k0s workers.
type Hosts struct {
	Managers []string `json:"managers"`
	Workers  []string `json:"workers"`
}

// Configuration is the fate of the MKE 3 configuration file.
type Configuration struct {
	AllConverted bool `json:"allConverted"`
	// NotConverted are the settings (and flags of list settings) whose
	// value did not reach MKE 4k, with why.
	NotConverted []Setting `json:"notConverted"`
}

// Setting is one MKE 3 setting, or one flag of a list setting, that was
// not converted.
type Setting struct {
	Key    string `json:"key"`
	Flag   string `json:"flag,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Authentication counts the MKE 3 users.
type Authentication struct {
	// Included is false when RBAC was left out of the upgrade.
	Included   bool `json:"included"`
	UsersFound int  `json:"usersFound"`
	Migrated   int  `json:"usersMigrated"`
}

// Authorization counts the MKE 3 organizations and teams and the
// aggregated ClusterRoles they became.
type Authorization struct {
	Included        bool `json:"included"`
	OrgsFound       int  `json:"orgsFound"`
	TeamsFound      int  `json:"teamsFound"`
	AggregatedRoles int  `json:"aggregatedRoles"`
}

// Ports lists the MKE 3 ports no longer used.
type Ports struct {
	NoLongerUsed []int `json:"noLongerUsed"`
}

// MCR says what becomes of the Mirantis Container Runtime.
type MCR struct {
	SafeToUninstall bool   `json:"safeToUninstall"`
	Message         string `json:"message"`
}

// Cleanup says which MKE 3 version was uninstalled.
type Cleanup struct {
	MKEVersion  string `json:"mkeVersion"`
	Uninstalled bool   `json:"uninstalled"`
}

// Build makes the summary. It copies what it keeps, so the input may change
// afterwards; lists are never nil, so the JSON has [] rather than null.
func Build(in Input) Summary {
	s := Summary{
		DryRun:       in.DryRun,
		Hosts:        Hosts{Managers: append([]string{}, in.Managers...), Workers: append([]string{}, in.Workers...)},
		Ports:        Ports{NoLongerUsed: append([]int{}, MKE3Ports...)},
		MCR:          MCR{SafeToUninstall: true, Message: MCRMessage},
		Cleanup:      Cleanup{MKEVersion: in.MKEVersion, Uninstalled: !in.DryRun},
		MetalLBPools: []convert.MetalLBPool{},
	}
	s.Configuration.NotConverted = []Setting{}
	if in.Report != nil {
		for _, e := range in.Report.NotCarried() {
			s.Configuration.NotConverted = append(s.Configuration.NotConverted,
				Setting{Key: e.Key, Flag: e.Flag, Status: string(e.Status), Reason: e.Reason})
		}
		for _, p := range in.Report.MetalLBPools {
			s.MetalLBPools = append(s.MetalLBPools, convert.MetalLBPool{Name: p.Name, Addresses: append([]string{}, p.Addresses...)})
		}
	}
	s.Configuration.AllConverted = len(s.Configuration.NotConverted) == 0
	if r := in.RBAC; r != nil {
		s.Authentication = Authentication{Included: true, UsersFound: r.Users.Found, Migrated: r.Users.Translated}
		s.Authorization = Authorization{Included: true, OrgsFound: r.Orgs.Found, TeamsFound: r.Teams.Found,
			AggregatedRoles: r.Orgs.Translated + r.Teams.Translated}
	}
	return s
}

// JSON returns the summary as indented JSON with a final newline.
func (s Summary) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteText writes the summary for people, section by section.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	title := "Upgrade summary"
	if s.DryRun {
		title += " (dry run: nothing was changed)"
	}
	b.WriteString(title + "\n")
	fmt.Fprintf(&b, "  %d manager(s) to k0s controllers, %d worker(s) to k0s workers\n", len(s.Hosts.Managers), len(s.Hosts.Workers))

	b.WriteString("\nConfiguration file\n")
	if s.Configuration.AllConverted {
		b.WriteString("  All MKE 3 settings were converted.\n")
	} else {
		fmt.Fprintf(&b, "  %d MKE 3 setting(s) or flag(s) were not converted:\n", len(s.Configuration.NotConverted))
		for _, e := range s.Configuration.NotConverted {
			name := e.Key
			if e.Flag != "" {
				name += " " + e.Flag
			}
			fmt.Fprintf(&b, "    %s (%s)", name, e.Status)
			if e.Reason != "" {
				b.WriteString(": " + e.Reason)
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("\nAuthentication\n")
	if s.Authentication.Included {
		fmt.Fprintf(&b, "  %d user(s) found, %d migrated.\n", s.Authentication.UsersFound, s.Authentication.Migrated)
	} else {
		b.WriteString("  Not migrated: RBAC was left out of the upgrade (apply it with mke-migrate rbac apply).\n")
	}

	b.WriteString("\nAuthorization\n")
	if a := s.Authorization; a.Included {
		fmt.Fprintf(&b, "  %d organization(s) and %d team(s) found, converted to %d aggregated role(s).\n", a.OrgsFound, a.TeamsFound, a.AggregatedRoles)
	} else {
		b.WriteString("  Not migrated: RBAC was left out of the upgrade (apply it with mke-migrate rbac apply).\n")
	}

	b.WriteString("\nPorts\n")
	ports := make([]string, len(s.Ports.NoLongerUsed))
	for i, p := range s.Ports.NoLongerUsed {
		ports[i] = strconv.Itoa(p)
	}
	b.WriteString("  MKE 3 ports no longer used: " + strings.Join(ports, ", ") + "\n")
	b.WriteString("  (MKE 4k still uses 443 on the load balancer, and 6443 and 9443.)\n")

	b.WriteString("\nMCR\n")
	b.WriteString("  " + s.MCR.Message + ": MKE 4k runs on k0s with its own containerd (keep it if anything else uses Docker).\n")

	b.WriteString("\nMKE3 Cleanup\n")
	version := s.Cleanup.MKEVersion
	if version == "" {
		version = "(unknown version)"
	}
	if s.Cleanup.Uninstalled {
		fmt.Fprintf(&b, "  MKE %s was uninstalled from the cluster successfully.\n", version)
	} else {
		fmt.Fprintf(&b, "  MKE %s would be uninstalled from the cluster.\n", version)
	}

	if len(s.MetalLBPools) > 0 {
		b.WriteString("\nMetalLB IP address pools\n")
		b.WriteString("  Recreate them as MetalLB IPAddressPool objects:\n")
		for _, p := range s.MetalLBPools {
			fmt.Fprintf(&b, "    %s: %s\n", p.Name, strings.Join(p.Addresses, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
