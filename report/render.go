package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

var (
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

// page is parsed once per Render: templates are cheap to parse, and
// Render keeps no package-level state.
func page() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"human": func(d Duration) string { return human(time.Duration(d)) },
		"since": func(a, b time.Time) string { return human(b.Sub(a)) },
		"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
		"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"bytes": humanBytes,
		"hostname": func(h string) string {
			if h == "" {
				return "cluster"
			}
			return h
		},
		"lower": strings.ToLower,
		"plus1": func(i int) int { return i + 1 },
		"odd":   func(i int) bool { return i%2 == 1 },
	}).Parse(pageTemplate)
}

// view is what the template renders: the data, and what is computed from
// it for the page (the timeline's geometry, the key figures).
type view struct {
	D        *Data
	CSS      template.CSS
	JS       template.JS
	CSP      string
	Cards    []card
	Timeline *timelineView
	Sections []navItem
	// Findings are the preflight checks with the same finding on several
	// hosts folded into one row.
	Findings []finding
}

type finding struct {
	Check
	Hosts []string
}

type card struct {
	Label, Value, Note string
	Tone               string // ok, warn, bad or ""
}

type navItem struct{ ID, Title string }

// Render writes d as one self-contained HTML page: inline CSS, JavaScript
// and SVG, d embedded as JSON (in a script element of type
// application/json with id "report-data"), no fetch of anything. Every
// value of d is escaped by html/template; the page reads fully without
// JavaScript, which only adds filtering and sorting of the conversion
// table. A Content-Security-Policy allows the page's own script and style
// (by hash) and nothing else.
func Render(w io.Writer, d *Data) error {
	if d == nil {
		return fmt.Errorf("report: Render: no data")
	}
	t, err := page()
	if err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	v := &view{D: d, CSS: template.CSS(pageCSS), JS: template.JS(pageJS)}
	v.CSP = fmt.Sprintf("default-src 'none'; img-src data:; style-src '%s'; script-src '%s'; base-uri 'none'; form-action 'none'",
		cspHash(pageCSS), cspHash(pageJS))
	v.Cards = cards(d)
	if d.Timeline != nil {
		v.Timeline = layoutTimeline(d.Timeline, d.Plan, d.Cluster)
	}
	if d.Preflight != nil {
		v.Findings = findings(d.Preflight.Checks)
	}
	v.Sections = []navItem{{"overview", "Overview"}, {SectionTimeline, "Timeline"}, {SectionCluster, "Cluster"},
		{SectionPreflight, "Preflight"}, {SectionPlan, "Plan"}, {SectionConversion, "Configuration"},
		{SectionRBAC, "RBAC"}, {SectionSummary, "Summary"}, {SectionSwarm, "Swarm"}}
	if err := t.Execute(w, v); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	return nil
}

// findings folds the checks that say the same on several hosts into one
// row, keeping the order of their first appearance.
func findings(cs []Check) []finding {
	var out []finding
	at := map[Check]int{}
	for _, c := range cs {
		k := c
		k.Host = ""
		if i, ok := at[k]; ok {
			out[i].Hosts = append(out[i].Hosts, c.Host)
			continue
		}
		at[k] = len(out)
		f := finding{Check: k}
		if c.Host != "" {
			f.Hosts = []string{c.Host}
		}
		out = append(out, f)
	}
	return out
}

// cspHash is the CSP source for an inline element whose text is s.
func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

func humanBytes(n uint64) string {
	const gib = 1 << 30
	switch {
	case n == 0:
		return ""
	case n >= gib:
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

func cards(d *Data) []card {
	var cs []card
	if c := d.Cluster; c != nil {
		m, w := 0, 0
		for _, n := range c.Nodes {
			if n.Role == "manager" {
				m++
			} else {
				w++
			}
		}
		cs = append(cs, card{Label: "Nodes", Value: fmt.Sprint(len(c.Nodes)), Note: fmt.Sprintf("%d managers, %d workers · MKE %s", m, w, c.MKEVersion)})
	}
	if p := d.Preflight; p != nil {
		tone := "ok"
		switch {
		case p.Counts["blocker"] > 0:
			tone = "bad"
		case p.Counts["warning"] > 0:
			tone = "warn"
		}
		cs = append(cs, card{Label: "Preflight", Value: fmt.Sprintf("%d blockers", p.Counts["blocker"]), Tone: tone,
			Note: fmt.Sprintf("%d warnings, %d info, %d skipped", p.Counts["warning"], p.Counts["info"], p.Counts["skipped"])})
	}
	if c := d.Conversion; c != nil {
		lost := 0
		for _, s := range c.Counts {
			if s.Status != "converted" && s.Status != "default" {
				lost += s.Count
			}
		}
		tone := "ok"
		if lost > 0 {
			tone = "warn"
		}
		cs = append(cs, card{Label: "Configuration", Value: fmt.Sprintf("%d keys", len(c.Entries)), Tone: tone,
			Note: fmt.Sprintf("%d not carried to MKE 4k", lost)})
	}
	if r := d.RBAC; r != nil {
		n := 0
		for _, g := range r.Objects {
			n += len(g.Objects)
		}
		note := map[string]string{"applied": "applied to MKE 4k", "not-applied": "translated, not applied", "left-out": "translated, left out of the upgrade"}[r.State]
		cs = append(cs, card{Label: "RBAC", Value: fmt.Sprintf("%d objects", n), Note: note})
	}
	if p := d.Plan; p != nil {
		cs = append(cs, card{Label: "Plan", Value: fmt.Sprintf("%d steps", p.Steps), Note: "estimate up to " + human(time.Duration(p.Estimate))})
	}
	if t := d.Timeline; t != nil {
		tone := "ok"
		switch d.Outcome {
		case OutcomeRolledBack, OutcomeIncomplete:
			tone = "warn"
		case OutcomeFailed, OutcomeRollbackFailed:
			tone = "bad"
		}
		cs = append(cs, card{Label: "Run", Value: human(t.End.Sub(t.Start)), Tone: tone, Note: plural(len(t.Failures), "failure")})
	}
	return cs
}

// timelineView is the timeline's SVG geometry, in the user units of a
// viewBox Width wide.
type timelineView struct {
	Width, Height float64
	PlotX, PlotW  float64
	Rows          []rowView
	Ticks         []tickView
	Marks         []markView
}

type rowView struct {
	Label, Title string
	Y, TextY     float64
	Bars         []barView
}

type barView struct {
	X, Y, W, H float64
	Class      string
	Label      string
	TextX      float64
	TextY      float64
	Title      string
}

type tickView struct {
	X     float64
	Label string
}

type markView struct {
	X, Y1, Y2 float64
	Label     string
	Class     string
	// Anchor is the label's text-anchor: end when the mark is near the
	// right edge, so that the label stays inside the picture.
	Anchor string
	DX     float64
}

const (
	tlWidth     = 1000.0
	tlLabel     = 200.0
	tlRight     = 12.0
	tlAxis      = 28.0
	tlRowHeight = 30.0
	tlBar       = 20.0
	charWidth   = 6.1 // of the bar labels' font, for deciding whether a label fits
)

func layoutTimeline(t *Timeline, p *Plan, c *Cluster) *timelineView {
	names := map[string]string{}
	if c != nil {
		for _, n := range c.Nodes {
			names[n.Host] = n.Hostname
		}
	}
	v := &timelineView{Width: tlWidth, PlotX: tlLabel, PlotW: tlWidth - tlLabel - tlRight}
	span := t.End.Sub(t.Start)
	if span <= 0 {
		span = time.Second
	}
	x := func(at time.Time) float64 {
		f := min(max(float64(at.Sub(t.Start))/float64(span), 0), 1) // a journal's times need not be in order
		return round1(v.PlotX + v.PlotW*f)
	}
	step := tickStep(span)
	for i := time.Duration(0); i <= span/step; i++ { // by count: at += step could overflow near the largest duration
		at := i * step
		v.Ticks = append(v.Ticks, tickView{X: x(t.Start.Add(at)), Label: "+" + human(at)})
	}
	ponr := map[string]bool{}
	if p != nil {
		for _, st := range p.Stages {
			for _, s := range st.Steps {
				if s.PointOfNoReturn {
					ponr[s.Name] = true
				}
			}
		}
	}
	var ponrAt time.Time
	for i, h := range t.Hosts {
		y := tlAxis + float64(i)*tlRowHeight
		label := h.Host
		switch {
		case label == "":
			label = "cluster"
		case names[h.Host] != "":
			label = names[h.Host] + " " + strings.TrimSuffix(h.Host, ":22")
		}
		r := rowView{Label: shorten(label, 30), Title: label, Y: y, TextY: y + tlRowHeight/2 + 4}
		for _, b := range h.Bars {
			bx, bw := x(b.Start), x(b.End)-x(b.Start)
			if bw < 3 {
				bw = 3
			}
			class := "bar-" + b.Status
			if b.Undo {
				class += " bar-undo"
			}
			what := b.Step
			if b.Undo {
				what = "undo " + b.Step
			}
			bv := barView{X: bx, Y: y + (tlRowHeight-tlBar)/2, W: round1(bw), H: tlBar, Class: class,
				Title: fmt.Sprintf("%s on %s: %s, %s (%s–%s)", what, label, b.Status, human(b.End.Sub(b.Start)),
					b.Start.UTC().Format("15:04:05"), b.End.UTC().Format("15:04:05"))}
			if b.Error != "" {
				bv.Title += ": " + b.Error
			}
			if float64(len(what))*charWidth+8 <= bw {
				bv.Label, bv.TextX, bv.TextY = what, bx+4, y+tlRowHeight/2+4
			}
			r.Bars = append(r.Bars, bv)
			if !b.Undo && ponr[b.Step] && (ponrAt.IsZero() || b.Start.Before(ponrAt)) {
				ponrAt = b.Start
			}
		}
		v.Rows = append(v.Rows, r)
	}
	bottom := tlAxis + float64(len(t.Hosts))*tlRowHeight
	v.Height = bottom + 8
	mark := func(at time.Time, label, class string) {
		m := markView{X: x(at), Y1: tlAxis - 6, Y2: bottom, Label: label, Class: class, Anchor: "start", DX: 3}
		if m.X > v.PlotX+v.PlotW*0.7 {
			m.Anchor, m.DX = "end", -3
		}
		v.Marks = append(v.Marks, m)
	}
	if !ponrAt.IsZero() {
		mark(ponrAt, "point of no return", "mark-ponr")
	}
	if !t.RollbackStart.IsZero() {
		mark(t.RollbackStart, "rollback", "mark-rollback")
	}
	return v
}

// tickStep is a round interval giving at most 8 ticks over span.
func tickStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour} {
		if span/s <= 8 {
			return s
		}
	}
	return span / 8
}

// plural is "1 failure", "2 failures".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
