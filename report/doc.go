// Package report makes the one page a change review or a post-mortem of an
// MKE 3 → MKE 4k migration needs: report.html, written from the output
// folder of an upgrade, a dry run (upgrade --dry-run --output DIR) or the
// demo.
//
// It is two separate steps. Load reads the folder into Data, the report's
// own small model: the cluster (nodes, roles, versions, facts), the
// preflight results, the conversion report, the RBAC translation
// (organizations → teams → users, and the roles and bindings made), the
// plan with its point of no return and estimated durations, the run's
// timeline from its journal (one row per host, one bar per step, failures
// and the rollback), the summary, and a Swarm export when the folder has
// one. Load is tolerant: a missing or unreadable part leaves its section nil
// and says why in Data.Unavailable. Every file name and format it reads is
// in one file, sources.go.
//
// Render writes Data as one self-contained HTML page: inline CSS,
// JavaScript and SVG, no fetch of anything (a Content-Security-Policy with
// the hashes of the page's own style and script forbids the rest), the
// tables rendered on the server so that the page reads without JavaScript
// and prints, and Data embedded as JSON in
// <script type="application/json" id="report-data">. Every value from MKE 3
// is untrusted: html/template escapes it for its context, and the embedded
// JSON has no '<' at all.
//
//	p, err := report.WriteFile(dir) // Load + Render to dir/report.html
//
// The plan's estimates are rough upper bounds from the engine's default
// waits (EstimateStep), not measurements; a run's real durations are in
// the timeline. The RBAC translation is made again from the saved export
// with the default options, as mke-migrate upgrade makes it.
package report
