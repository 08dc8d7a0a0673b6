package rbac

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Severity says how much a Problem matters.
type Severity string

const (
	// SeverityError: part of the input was dropped because it is
	// inconsistent (duplicate IDs, a team without its org); access that
	// MKE 3 gave may be missing.
	SeverityError Severity = "error"
	// SeverityWarning: something was left out or widened on purpose
	// (unknown members, inactive users, custom roles without equivalent,
	// cluster-wide collection grants); review it.
	SeverityWarning Severity = "warning"
	// SeverityInfo: a decision worth knowing (a qualified or prefixed
	// name, a binding not made because it would be empty).
	SeverityInfo Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// Counts are how many of a kind of MKE 3 object the model held and how
// many of them were carried into Kubernetes objects.
type Counts struct {
	Found      int `json:"found"`
	Translated int `json:"translated"`
}

// Problem is one thing in the input that Translate handled in a way worth
// reporting. Subject names the MKE 3 object as MKE 3 has it, e.g.
// `team "dev" (org "acme", id 12)`.
type Problem struct {
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"`
	Message  string   `json:"message"`
}

// Report is the account of a translation. Counts mean:
//
//   - Users: translated are the users that may appear in bindings (known,
//     not duplicated, active or Options.IncludeInactiveUsers).
//   - Orgs, Teams: translated are those that became an aggregated
//     ClusterRole.
//   - Roles: translated are the Swarm roles that became a ClusterRole.
//   - Grants: translated are the grants that became, or were merged into,
//     a RoleBinding or ClusterRoleBinding.
//
// Problems are sorted by severity, subject and message, each once.
type Report struct {
	Users    Counts    `json:"users"`
	Orgs     Counts    `json:"orgs"`
	Teams    Counts    `json:"teams"`
	Roles    Counts    `json:"roles"`
	Grants   Counts    `json:"grants"`
	Problems []Problem `json:"problems"`
}

// HasErrors reports whether any problem has SeverityError.
func (r *Report) HasErrors() bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Severity == SeverityError })
}

// count returns the number of problems of a severity.
func (r *Report) count(s Severity) int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == s {
			n++
		}
	}
	return n
}

// WriteText writes the report for people: one line of counts per kind,
// in the manner of the MKE 4k upgrade summary, then the problems.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(what string, c Counts) {
		fmt.Fprintf(&b, "%s found in the MKE 3 cluster: %d; translated: %d\n", what, c.Found, c.Translated)
	}
	line("Users", r.Users)
	line("Organizations", r.Orgs)
	line("Teams", r.Teams)
	line("Swarm roles", r.Roles)
	line("Grants", r.Grants)
	if len(r.Problems) == 0 {
		b.WriteString("No problems.\n")
	} else {
		fmt.Fprintf(&b, "Problems: %d errors, %d warnings, %d info\n",
			r.count(SeverityError), r.count(SeverityWarning), r.count(SeverityInfo))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %-7s %s: %s\n", p.Severity, p.Subject, p.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sortProblems puts the problems in report order and drops repeats.
func sortProblems(ps []Problem) []Problem {
	slices.SortFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Message, b.Message))
	})
	ps = slices.Compact(ps)
	if ps == nil {
		ps = []Problem{} // "problems": [] in JSON, for tools that iterate
	}
	return ps
}
