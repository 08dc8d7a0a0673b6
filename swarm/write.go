package swarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
)

// Format is the encoding of the manifests and the report.
type Format string

// The formats.
const (
	YAML Format = "yaml"
	JSON Format = "json"
)

// markerFile lists what WriteDir wrote, so that a later run may replace
// those files and no others.
const markerFile = ".mke-migrate-swarm-export"

// ErrNotOurs is wrapped when WriteDir's folder holds files it did not
// write.
var ErrNotOurs = errors.New("the folder is not empty and was not written by swarm export")

// clean is an object as a map without the fields a new object has no use
// for (status, creationTimestamp), so manifests hold only what was set.
func clean(o Object) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("swarm: encode %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("swarm: encode %s: %w", o.GetName(), err)
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if md, ok := v["metadata"].(map[string]any); ok {
				delete(md, "creationTimestamp")
				if len(md) == 0 {
					delete(v, "metadata")
				}
			}
			for _, c := range v {
				strip(c)
			}
		case []any:
			for _, c := range v {
				strip(c)
			}
		}
	}
	strip(m)
	return m, nil
}

// Manifest encodes the objects of one namespace: YAML documents separated
// by "---", or a JSON v1 List (both accepted by kubectl apply -f).
func Manifest(ns Namespace, f Format) ([]byte, error) {
	items := make([]any, 0, len(ns.Objects))
	for _, o := range ns.Objects {
		m, err := clean(o)
		if err != nil {
			return nil, err
		}
		items = append(items, m)
	}
	switch f {
	case JSON:
		b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("swarm: encode namespace %s: %w", ns.Name, err)
		}
		return append(b, '\n'), nil
	case YAML:
		var buf bytes.Buffer
		for i, it := range items {
			if i > 0 {
				buf.WriteString("---\n")
			}
			b, err := yaml.Marshal(it)
			if err != nil {
				return nil, fmt.Errorf("swarm: encode namespace %s: %w", ns.Name, err)
			}
			buf.Write(b)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("swarm: unknown format %q: yaml or json", f)
}

// Files returns what WriteDir writes, by file name: one manifest per
// namespace (<namespace>.yaml or .json), report.<ext> (the Report) and
// report.txt (the same for people).
func Files(r *Result, f Format) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, ns := range r.Namespaces {
		b, err := Manifest(ns, f)
		if err != nil {
			return nil, err
		}
		out[ns.Name+"."+string(f)] = b
	}
	rep, err := json.MarshalIndent(r.Report, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("swarm: encode the report: %w", err)
	}
	if f == YAML {
		if rep, err = yaml.JSONToYAML(rep); err != nil {
			return nil, fmt.Errorf("swarm: encode the report: %w", err)
		}
	} else {
		rep = append(rep, '\n')
	}
	out["report."+string(f)] = rep
	out["report.txt"] = []byte(Text(r))
	return out, nil
}

// WriteDir writes Files into dir, creating it (owner-only) when missing.
// It refuses a folder that holds files it did not write (ErrNotOurs); in
// one it wrote before, it replaces its files and removes those the new
// result no longer has. Each file is written atomically. It returns the
// paths written.
func WriteDir(dir string, r *Result, f Format) ([]string, error) {
	files, err := Files(r, f)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	var previous []string
	if len(entries) > 0 {
		data, err := os.ReadFile(filepath.Join(dir, markerFile))
		if err != nil {
			return nil, fmt.Errorf("swarm: %s holds %s: %w: choose an empty or new folder", dir, entries[0].Name(), ErrNotOurs)
		}
		previous = strings.Fields(string(data))
		for _, e := range entries {
			if n := e.Name(); n != markerFile && !slices.Contains(previous, n) && !strings.HasPrefix(n, ".") {
				return nil, fmt.Errorf("swarm: %s holds %s: %w: choose an empty or new folder", dir, n, ErrNotOurs)
			}
		}
	}
	names := sortedKeys(files)
	// The marker first: an interrupted run still owns what it wrote.
	all := slices.Clone(previous)
	for _, n := range names {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, markerFile), []byte(strings.Join(all, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	var written []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := atomicfile.WriteFile(p, files[n], 0o600); err != nil {
			return written, fmt.Errorf("swarm: %w", err)
		}
		written = append(written, p)
	}
	for _, n := range previous {
		if _, ok := files[n]; !ok && filepath.Base(n) == n {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return written, fmt.Errorf("swarm: %w", err)
			}
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, markerFile), []byte(strings.Join(names, "\n")+"\n"), 0o600); err != nil {
		return written, fmt.Errorf("swarm: %w", err)
	}
	return written, nil
}

// Text renders the report for people: a summary line, then every service
// with its entries, the networks and the secrets to fill in.
func Text(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Swarm export: %d of %d services exported, %d need attention\n", r.Exported, len(r.Report.Services), r.NeedAttention)
	mark := map[Outcome]string{Carried: "carried", Approximated: "approximated", NotCarried: "not carried"}
	for _, s := range r.Report.Services {
		b.WriteString("\n")
		if s.Kind != "" {
			fmt.Fprintf(&b, "%s → %s %s/%s (%d running in Swarm)\n", s.Swarm, s.Kind, s.Namespace, s.Name, s.Running)
		} else {
			fmt.Fprintf(&b, "%s → not exported\n", s.Swarm)
		}
		for _, e := range s.Entries {
			flag := "  "
			if e.Attention {
				flag = "! "
			}
			fmt.Fprintf(&b, "  %s%-12s %s", flag, mark[e.Outcome], e.Field)
			if len(e.Parts) > 0 {
				fmt.Fprintf(&b, "{%s}", strings.Join(e.Parts, ","))
			}
			if e.To != "" {
				fmt.Fprintf(&b, " → %s", e.To)
			}
			if e.Note != "" {
				fmt.Fprintf(&b, " (%s)", e.Note)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Report.Networks) > 0 {
		b.WriteString("\nNetworks (not carried):\n")
		for _, n := range r.Report.Networks {
			fmt.Fprintf(&b, "  %s, used by %s: %s\n", n.Swarm, strings.Join(n.UsedBy, ", "), n.Note)
		}
	}
	if len(r.Report.SecretsToFill) > 0 {
		b.WriteString("\nSecrets to fill in (the Engine API never returns their values):\n")
		for _, s := range r.Report.SecretsToFill {
			fmt.Fprintf(&b, "  kubectl -n %s create secret generic %s --from-file=%s=<file> --dry-run=client -o yaml | kubectl apply -f -   # Swarm secret %s, used by %s\n",
				s.Namespace, s.Name, s.Key, s.Swarm, strings.Join(s.UsedBy, ", "))
		}
	}
	return b.String()
}

// ReadReport reads back the Report that WriteDir wrote into dir
// (report.yaml or report.json), for a summary made after the run that
// exported it. A folder without one is fs.ErrNotExist.
func ReadReport(dir string) (*Report, error) {
	var firstErr error
	for _, name := range []string{"report." + string(YAML), "report." + string(JSON)} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		var r Report
		if err := yaml.UnmarshalStrict(b, &r); err != nil {
			return nil, fmt.Errorf("swarm: %s: %w", filepath.Join(dir, name), err)
		}
		return &r, nil
	}
	return nil, firstErr
}

// Counts are the Swarm services of the report, those that became a
// workload and those that need a person, as Result counts them.
func (r *Report) Counts() (services, exported, needAttention int) {
	for i := range r.Services {
		s := &r.Services[i]
		if s.Kind != "" {
			exported++
		}
		if s.NeedsAttention() {
			needAttention++
		}
	}
	return len(r.Services), exported, needAttention
}
