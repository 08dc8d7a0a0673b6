package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as text ("2m30s").
type Duration time.Duration

// MarshalJSON writes the duration as Go duration text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// stepEstimates are rough upper bounds for one step on one host, from the
// engine's default waits and timeouts (package upgrade's Commands) and the
// size of what a step moves, not from measurements of real clusters: a
// reviewer gets an order of magnitude, and the timeline shows what a run
// really took. Steps named with a batch number are looked up without it.
var stepEstimates = map[string]time.Duration{
	"save-inputs":    2 * time.Second,
	"mke3-backup":    5 * time.Minute,  // MKE's backup of its etcd and RethinkDB grows with the cluster
	"mke3-stop":      time.Minute,      // stopping seven MKE 3 containers
	"k0s-binary":     time.Minute,      // uploading a ~250 MB k0s binary
	"k0s-controller": 3 * time.Minute,  // install, start, and up to Commands.Ready (2 min) for readiness
	"k0s-worker":     3 * time.Minute,  // likewise
	"drain-batch":    5 * time.Minute,  // kubectl drain --timeout=5m
	"uncordon-batch": 10 * time.Second, // one kubectl command
	"rbac-apply":     time.Minute,
	"mke3-uninstall": 10 * time.Minute, // uninstall-ucp on every node
	"mke3-volumes":   30 * time.Second,
	"write-outputs":  2 * time.Second,
}

// DefaultStepEstimate is the estimate of a step not in the table.
const DefaultStepEstimate = time.Minute

// EstimateStep returns the rough upper bound of one step (see
// stepEstimates).
func EstimateStep(name string) time.Duration {
	if d, ok := stepEstimates[name]; ok {
		return d
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if d, ok := stepEstimates[name[:i]]; ok {
			return d
		}
	}
	return DefaultStepEstimate
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(b, '\n'), nil
}

// human writes a duration for people: 1h05m, 3m20s, 4.2s.
func human(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
