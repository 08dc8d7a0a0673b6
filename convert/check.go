package convert

import (
	"fmt"
	"io"
	"strings"
)

// Group is a compatibility-check verdict, named as mkectl names them.
type Group string

const (
	GroupNotSupported Group = "Not supported"
	GroupSupported    Group = "Supported"
	GroupSkipped      Group = "Skipped"
)

// CheckItem is the verdict on one input key.
type CheckItem struct {
	Key      string `json:"key"`
	Line     int    `json:"line,omitempty"`
	Group    Group  `json:"group"`
	Blocking bool   `json:"blocking,omitempty"`
	// Value is the key's value as TOML, or "<redacted>" for secrets.
	Value  string `json:"value,omitempty"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// CheckResult is the offline compatibility check of an MKE 3
// configuration, grouped like `mkectl check mke3`: Supported (carried to
// MKE 4k), Not supported (no MKE 4k equivalent, or a value that cannot be
// carried), and Skipped (a feature that is disabled in MKE 3, with the
// keys that only matter when it is on).
type CheckResult struct {
	Items []CheckItem `json:"items"`
}

// Blocking reports whether an item blocks the upgrade.
func (r CheckResult) Blocking() bool {
	for _, it := range r.Items {
		if it.Blocking {
			return true
		}
	}
	return false
}

// Group returns the items of one group, in input order.
func (r CheckResult) Group(g Group) []CheckItem {
	var out []CheckItem
	for _, it := range r.Items {
		if it.Group == g {
			out = append(out, it)
		}
	}
	return out
}

// Check classifies every key of cfg. It derives the verdicts from the same
// rules as Convert, so the check and the conversion never disagree.
func Check(cfg *MKE3Config, opts Options) (CheckResult, error) {
	_, rep, err := Convert(cfg, opts)
	if err != nil {
		return CheckResult{}, err
	}
	return checkFromReport(cfg, rep), nil
}

func checkFromReport(cfg *MKE3Config, rep Report) CheckResult {
	// Which feature switches are off in this document.
	offPrefixes := []string{}
	for _, l := range cfg.Leaves {
		if s := l.spec; s != nil && s.off != nil && sameValue(l.Value, s.off) {
			offPrefixes = append(offPrefixes, s.deps...)
		}
	}
	byKey := map[string][]Entry{}
	for _, e := range rep.Entries {
		byKey[e.Key] = append(byKey[e.Key], e)
	}
	var res CheckResult
	for _, l := range cfg.Leaves {
		s := l.spec
		it := CheckItem{Key: l.Key, Line: l.Line, Value: showValue(l, s)}
		es := byKey[l.Key]
		if bad := worst(es); bad != nil {
			it.Group, it.Blocking, it.Reason = GroupNotSupported, bad.Status == StatusBlocking, bad.Reason
		} else if l.Table && l.known {
			it.Group, it.Reason = GroupSkipped, "empty table"
		} else if s != nil && (s.off != nil && sameValue(l.Value, s.off) || underAny(l.Key, offPrefixes)) {
			it.Group, it.Reason = GroupSkipped, "feature disabled in MKE 3"
		} else if s != nil && s.target != "" {
			it.Group = GroupSupported
			if len(es) > 0 {
				it.Target, it.Reason = es[0].Target, es[0].Reason
			}
		} else {
			it.Group = GroupNotSupported
			if len(es) > 0 {
				it.Reason = es[0].Reason
			}
		}
		res.Items = append(res.Items, it)
	}
	// Entries for keys the document lacks (an absent calico_kdd, options).
	present := map[string]bool{}
	for _, l := range cfg.Leaves {
		present[l.Key] = true
	}
	for _, e := range rep.Entries {
		if present[e.Key] || e.Status == StatusConverted || e.Status == StatusDefault {
			continue
		}
		res.Items = append(res.Items, CheckItem{Key: e.Key, Group: GroupNotSupported, Blocking: e.Status == StatusBlocking, Reason: e.Reason})
	}
	return res
}

// worst returns the most serious problem entry, or nil.
func worst(es []Entry) *Entry {
	var w *Entry
	rank := map[Status]int{StatusBlocking: 3, StatusUnconvertible: 2, StatusUnknown: 1}
	for i := range es {
		if r := rank[es[i].Status]; r > 0 && (w == nil || r > rank[w.Status]) {
			w = &es[i]
		}
	}
	return w
}

func underAny(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if key == p || strings.HasPrefix(key, p+".") || strings.HasPrefix(key, p+"[") {
			return true
		}
	}
	return false
}

// secretSuffixes mark keys whose values are secrets even when the model
// does not know them (unknown or legacy keys).
var secretSuffixes = []string{"password", "passphrase", "secret", "token", "privatekey", "private_key"}

// isSecret tells whether a leaf's value must never be shown.
func isSecret(l Leaf, s *keySpec) bool {
	if s != nil && s.secret {
		return true
	}
	if s != nil {
		return false
	}
	keys := l.path.Keys()
	if len(keys) == 0 {
		return false
	}
	last := strings.ToLower(keys[len(keys)-1])
	for _, suf := range secretSuffixes {
		if strings.HasSuffix(last, suf) {
			return true
		}
	}
	return false
}

func showValue(l Leaf, s *keySpec) string {
	if isSecret(l, s) {
		if str, ok := l.Value.(string); ok && str == "" {
			return `""`
		}
		return "<redacted>"
	}
	return tomlValue(l.Value)
}

func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		// JSON string escapes are valid TOML basic-string escapes.
		b, _ := marshalJSONLine(x)
		return string(b)
	case []any:
		return tomlList(x)
	case []string: // a flag list (Leaf.Value)
		return tomlList(x)
	case map[string]any:
		return "{}" // only empty tables are leaves
	}
	return fmt.Sprint(v)
}

func tomlList[E any](xs []E) string {
	parts := make([]string, len(xs))
	for i, e := range xs {
		parts[i] = tomlValue(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// WriteText renders the check like mkectl's report: a banner and the three
// groups, keys under their tables, with the reason of every key that is
// not supported.
func (r CheckResult) WriteText(w io.Writer) error {
	var b strings.Builder
	banner := func(title string) {
		line := strings.Repeat("#", len(title)+4)
		fmt.Fprintf(&b, "%s\n# %s #\n%s\n", line, title, line)
	}
	banner("MKE3->MKE4 Compatibility Checks")
	for _, g := range []Group{GroupNotSupported, GroupSupported, GroupSkipped} {
		items := r.Group(g)
		b.WriteString("\n")
		banner(fmt.Sprintf("%s (%d)", g, len(items)))
		table := "\x00"
		for _, it := range items {
			tbl, key := splitKey(it.Key)
			if tbl != table {
				table = tbl
				if tbl != "" {
					fmt.Fprintf(&b, "\n[%s]\n", tbl)
				} else {
					b.WriteString("\n")
				}
			}
			line := "  " + key
			if it.Value != "" {
				line += " = " + it.Value
			}
			if g == GroupNotSupported && it.Reason != "" {
				mark := ""
				if it.Blocking {
					mark = "BLOCKING: "
				}
				line += "  # " + mark + it.Reason
			}
			b.WriteString(line + "\n")
		}
	}
	if r.Blocking() {
		b.WriteString("\nThe upgrade is blocked: fix the BLOCKING items above first.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// splitKey splits a dotted key into its table and the last key part.
func splitKey(k string) (table, key string) {
	// Quoted parts may contain dots; split at the last dot outside quotes.
	inQ := false
	last := -1
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '"':
			inQ = !inQ
		case '.':
			if !inQ {
				last = i
			}
		}
	}
	if last < 0 {
		return "", k
	}
	return k[:last], k[last+1:]
}

// JSON renders the check as indented JSON.
func (r CheckResult) JSON() ([]byte, error) {
	if r.Items == nil {
		r.Items = []CheckItem{}
	}
	b, err := marshalJSON(struct {
		Blocking bool        `json:"blocking"`
		Items    []CheckItem `json:"items"`
	}{r.Blocking(), r.Items})
	if err != nil {
		return nil, fmt.Errorf("convert: marshal check: %w", err)
	}
	return b, nil
}
