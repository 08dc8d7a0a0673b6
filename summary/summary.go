package summary

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert"
)

// MKE3Ports are the ports MKE 3 used that MKE 4k no longer does, in the
// order of mkectl's summary. MKE 4k still uses 443 on the load balancer,
// and 6443 and 9443 on the controllers.
var MKE3Ports = []int{2377, 6444, 7946, 9055, 12376, 12378, 12379, 12380, 12381, 12382, 12383, 12384,
	12385, 12386, 12387, 12388, 12389, 12391, 12392, 179, 12390, 2376, 443}

// MCRMessage is the MCR section's verdict, as mkectl prints it.
const MCRMessage = "MCR may safely be uninstalled"

// ErrNoReport is returned by Build when Input.Report is nil: a summary
// without the conversion report would claim that every setting was
// converted.
var ErrNoReport = errors.New("summary: no conversion report (Input.Report is nil)")

// Outcome is how the run ended.
type Outcome string

const (
	// Succeeded: the upgrade finished (the zero value means this too).
	Succeeded Outcome = "succeeded"
	// Failed: the upgrade stopped and the cluster was not rolled back
	// (the rollback failed, or MKE 3 was already being uninstalled).
	Failed Outcome = "failed"
	// RolledBack: the upgrade stopped and the cluster was rolled back to
	// MKE 3.
	RolledBack Outcome = "rolledBack"
)

// RBAC holds the counts of the RBAC translation that the summary prints.
// Callers fill it from their RBAC report (package rbac's Report has the
// same counts); the summary keeps its own small type so that it imports
// neither the RBAC translation nor a Kubernetes client.
type RBAC struct {
	UsersFound, UsersMigrated   int
	OrgsFound, OrgsTranslated   int
	TeamsFound, TeamsTranslated int
}

// Input is what the summary is made from. Report is required; RBAC is nil
// when RBAC was left out of the upgrade.
type Input struct {
	Report *convert.Report
	RBAC   *RBAC
	// MKEVersion is the MKE 3 version that was (or, with DryRun, would be)
	// uninstalled.
	MKEVersion string
	// Managers and Workers are the hosts, as the upgrade names them.
	Managers, Workers []string
	// DryRun says nothing was changed: the summary says what would be.
	DryRun bool
	// Outcome says how the run ended; empty means Succeeded.
	Outcome Outcome
	// Error is the cause of a failed or rolled-back run, as printed after
	// "Upgrade failed due to error: ".
	Error string
	// Swarm is the Swarm export, nil when the run made none.
	Swarm *Swarm
}

// Swarm is what the Swarm export carried: the Swarm services found, those
// that became a Kubernetes workload, those that need a person, and the
// folder of the manifests. MKE 4k runs no Swarm, so this is the only place
// the services live on after the upgrade.
type Swarm struct {
	Services      int    `json:"services"`
	Exported      int    `json:"exported"`
	NeedAttention int    `json:"needAttention"`
	Dir           string `json:"dir"`
}

// Summary is the upgrade summary. Its JSON field names are stable.
type Summary struct {
	DryRun bool `json:"dryRun"`
	// Outcome is succeeded, failed or rolledBack.
	Outcome Outcome `json:"outcome"`
	// Error is the cause when the run failed or was rolled back.
	Error          string         `json:"error,omitempty"`
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
	// Swarm is the Swarm export; absent when the run made none.
	Swarm *Swarm `json:"swarm,omitempty"`
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
	Line   int    `json:"line,omitempty"`
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
// afterwards; lists are never nil, so the JSON has [] rather than null. A
// nil Report is ErrNoReport; an unknown Outcome is an error too.
func Build(in Input) (Summary, error) {
	if in.Report == nil {
		return Summary{}, ErrNoReport
	}
	outcome := in.Outcome
	switch outcome {
	case "":
		outcome = Succeeded
	case Succeeded, Failed, RolledBack:
	default:
		return Summary{}, fmt.Errorf("summary: unknown outcome %q (want %s, %s or %s)", in.Outcome, Succeeded, Failed, RolledBack)
	}
	done := outcome == Succeeded
	s := Summary{
		DryRun:       in.DryRun,
		Outcome:      outcome,
		Hosts:        Hosts{Managers: append([]string{}, in.Managers...), Workers: append([]string{}, in.Workers...)},
		Ports:        Ports{NoLongerUsed: append([]int{}, MKE3Ports...)},
		MCR:          MCR{SafeToUninstall: done, Message: MCRMessage},
		Cleanup:      Cleanup{MKEVersion: in.MKEVersion, Uninstalled: done && !in.DryRun},
		MetalLBPools: []convert.MetalLBPool{},
	}
	if !done {
		s.Error = in.Error
	}
	if in.Swarm != nil {
		sw := *in.Swarm
		s.Swarm = &sw
	}
	s.Configuration.NotConverted = []Setting{}
	for _, e := range in.Report.NotCarried() {
		s.Configuration.NotConverted = append(s.Configuration.NotConverted,
			Setting{Key: e.Key, Line: int(e.Line), Flag: e.Flag, Status: e.Status.String(), Reason: e.Reason})
	}
	for _, p := range in.Report.MetalLBPools {
		s.MetalLBPools = append(s.MetalLBPools, convert.MetalLBPool{Name: p.Name, Addresses: append([]string{}, p.Addresses...)})
	}
	s.Configuration.AllConverted = len(s.Configuration.NotConverted) == 0
	if r := in.RBAC; r != nil {
		s.Authentication = Authentication{Included: true, UsersFound: r.UsersFound, Migrated: r.UsersMigrated}
		s.Authorization = Authorization{Included: true, OrgsFound: r.OrgsFound, TeamsFound: r.TeamsFound,
			AggregatedRoles: r.OrgsTranslated + r.TeamsTranslated}
	}
	return s, nil
}

// JSON returns the summary as indented JSON with a final newline.
func (s Summary) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	return append(b, '\n'), nil
}

// rule is the line under every heading of mkectl's summary.
const rule = "---------------"

// WriteText writes the summary for people in the layout of mkectl's
// documented summary: "Upgrade Summary" and each section under its own
// rule, with mkectl's sentences where the documentation shows them. Lines
// the documentation does not show (the settings not converted, partial
// counts, a dry run, a failure) and the extra sections (Hosts, MetalLB IP
// address pools) come after the documented text they belong to.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	section := func(title string) {
		b.WriteString("\n" + title + "\n" + rule + "\n")
	}
	b.WriteString("Upgrade Summary\n" + rule + "\n")
	done := s.Outcome == Succeeded || s.Outcome == ""
	switch {
	case !done:
		b.WriteString("\nUpgrade failed due to error: " + orUnknown(s.Error, "(no cause recorded)") + "\n")
		if s.Outcome == RolledBack {
			fmt.Fprintf(&b, "Rollback to MKE version %s completed successfully.\n", orUnknown(s.Cleanup.MKEVersion, "3"))
		} else {
			b.WriteString("The cluster was not rolled back; see the run's log for the state of each node.\n")
		}
	case s.DryRun:
		b.WriteString("\nDry run: nothing was changed; this is what the upgrade would do.\n")
	}

	section("Configuration file")
	if s.Configuration.AllConverted {
		b.WriteString("All MKE 3 TOML settings were successfully converted into MKE 4 YAML settings.\n")
	} else {
		fmt.Fprintf(&b, "%d MKE 3 TOML setting(s) or flag(s) were not converted into MKE 4 YAML settings:\n", len(s.Configuration.NotConverted))
		for _, e := range s.Configuration.NotConverted {
			b.WriteString("  ")
			if e.Line > 0 {
				fmt.Fprintf(&b, "line %d: ", e.Line)
			}
			b.WriteString(e.Key)
			if e.Flag != "" {
				b.WriteString(" " + e.Flag)
			}
			fmt.Fprintf(&b, " (%s)", e.Status)
			if e.Reason != "" {
				b.WriteString(": " + e.Reason)
			}
			b.WriteString("\n")
		}
	}

	const leftOut = "RBAC was left out of the upgrade: apply it with mke-migrate rbac apply.\n"
	section("Authentication")
	if a := s.Authentication; a.Included {
		fmt.Fprintf(&b, "Users found in the MKE3 cluster: %d\n\n", a.UsersFound)
		switch {
		case !done:
			b.WriteString("The users were not upgraded: the upgrade did not finish.\n")
		case s.DryRun:
			fmt.Fprintf(&b, "%d of them would be upgraded to the MKE 4k cluster.\n", a.Migrated)
		case a.Migrated == a.UsersFound:
			b.WriteString("All users were upgraded to the MKE 4k cluster successfully.\n")
		default:
			fmt.Fprintf(&b, "%d of %d users were upgraded to the MKE 4k cluster; see the RBAC report for the others.\n", a.Migrated, a.UsersFound)
		}
	} else {
		b.WriteString(leftOut)
	}

	section("Authorization")
	if a := s.Authorization; a.Included {
		fmt.Fprintf(&b, "Organizations found in the MKE3 cluster: %d\nTeams found in the MKE3 cluster: %d\n\n", a.OrgsFound, a.TeamsFound)
		switch {
		case !done:
			b.WriteString("The organizations and teams were not translated: the upgrade did not finish.\n")
		case s.DryRun:
			fmt.Fprintf(&b, "They would be translated to %d aggregated role(s) in the MKE 4k cluster.\n", a.AggregatedRoles)
		case a.AggregatedRoles == a.OrgsFound+a.TeamsFound:
			b.WriteString("All organizations and teams were translated to aggregated roles in the MKE 4k cluster successfully.\n")
		default:
			fmt.Fprintf(&b, "%d of %d organizations and teams were translated to aggregated roles in the MKE 4k cluster; see the RBAC report for the others.\n",
				a.AggregatedRoles, a.OrgsFound+a.TeamsFound)
		}
	} else {
		b.WriteString(leftOut)
	}

	section("Ports")
	ports := make([]string, len(s.Ports.NoLongerUsed))
	for i, p := range s.Ports.NoLongerUsed {
		ports[i] = strconv.Itoa(p)
	}
	if done {
		b.WriteString("The following MKE3 ports are no longer used by MKE 4k and (unless otherwise needed) may be made unavailable on all nodes: [" +
			strings.Join(ports, ",") + "]\n")
	} else {
		b.WriteString("MKE 3 still runs: keep its ports open.\n")
	}

	section("MCR")
	if s.MCR.SafeToUninstall {
		b.WriteString(s.MCR.Message + "\n")
	} else {
		b.WriteString("MCR is still needed: MKE 3 runs on it.\n")
	}

	section("MKE3 Cleanup")
	version := orUnknown(s.Cleanup.MKEVersion, "(unknown version)")
	switch {
	case s.Cleanup.Uninstalled:
		fmt.Fprintf(&b, "MKE %s was uninstalled from the cluster successfully.\n", version)
	case done:
		fmt.Fprintf(&b, "MKE %s would be uninstalled from the cluster.\n", version)
	default:
		fmt.Fprintf(&b, "MKE %s was not uninstalled from the cluster.\n", version)
	}

	if n, m := len(s.Hosts.Managers), len(s.Hosts.Workers); n+m > 0 {
		section("Hosts")
		fmt.Fprintf(&b, "Managers: %d\nWorkers: %d\n", n, m)
	}
	if len(s.MetalLBPools) > 0 {
		section("MetalLB IP address pools")
		b.WriteString("Recreate them as MetalLB IPAddressPool objects:\n")
		for _, p := range s.MetalLBPools {
			fmt.Fprintf(&b, "  %s: %s\n", p.Name, strings.Join(p.Addresses, ", "))
		}
	}
	if sw := s.Swarm; sw != nil {
		section("Swarm workloads")
		fmt.Fprintf(&b, "%d of %d Swarm services exported to %s, %d need attention\n", sw.Exported, sw.Services, sw.Dir, sw.NeedAttention)
		if sw.NeedAttention > 0 {
			fmt.Fprintf(&b, "See %s for what needs a person (secrets to fill, data to copy, nodes to label).\n", filepath.Join(sw.Dir, "report.txt"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orUnknown(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
