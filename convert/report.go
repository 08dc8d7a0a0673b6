package convert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Status is what happened to one input key (or one flag of a key). It is
// a small integer, not a string, so that a report of hundreds of thousands
// of flags stays small (issue 14, F13); it reads and writes as its name
// (String, MarshalText, UnmarshalText), so JSON and text reports show
// "converted", "dropped", .... The zero Status is unset and prints as "".
type Status uint8

const (
	// StatusConverted: the value was carried to Target.
	StatusConverted Status = iota + 1
	// StatusDefault: nothing to carry; the key holds the MKE 3 default or a
	// value that MKE 4k keeps by other means, so nothing is lost (Reason).
	StatusDefault
	// StatusDropped: MKE 4k has no equivalent; a non-default value is lost
	// (Reason says why and what to do instead).
	StatusDropped
	// StatusBlocking: the value prevents the upgrade until it is changed.
	StatusBlocking
	// StatusUnconvertible: MKE 4k has an equivalent but this value cannot be
	// expressed in it (a bad or unknown flag, a malformed value).
	StatusUnconvertible
	// StatusUnknown: the key is not part of the MKE 3.7/3.8 model.
	StatusUnknown
)

var statusNames = [...]string{"", "converted", "default", "dropped", "blocking", "unconvertible", "unknown"}

// String is the status's name: "converted", "default", ...; "" for the
// zero Status.
func (s Status) String() string { return enumString(s, statusNames[:], "status") }

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return enumMarshal(s, statusNames[:], "status") }

// UnmarshalText reads a status's name (as String writes it); a name this
// version does not know is an error.
func (s *Status) UnmarshalText(b []byte) error { return enumUnmarshal(s, b, statusNames[:], "status") }

// statusOrder lists every status, most urgent first.
var statusOrder = []Status{StatusBlocking, StatusUnconvertible, StatusUnknown, StatusDropped, StatusConverted, StatusDefault}

// Entry is the fate of one leaf key of the input, or of one flag inside a
// flag-list or kubelet-profile key.
type Entry struct {
	Key string `json:"key"`
	// Flag is the flag as written in the list (one element, or two for a
	// flag and its separate value), for entries of flag-list and
	// kubelet-profile keys.
	Flag string `json:"flag,omitempty"`
	// Target is the MKE 4k YAML path, from the document root, when the
	// value was carried over.
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Line is the 1-based line of the key (or of the flag's element) in
	// the input, 0 when there is none (entries for options and rules).
	Line   int32  `json:"line,omitempty"`
	Status Status `json:"status"`
	// Basis says how sure the mapping is (documented, checked, inferred);
	// set when there is a target.
	Basis Basis `json:"basis,omitempty"`
}

// entryJSON is Entry in the order its JSON has always had: Entry's own
// fields are ordered to pack it small.
type entryJSON struct {
	Key    string `json:"key"`
	Line   int32  `json:"line,omitempty"`
	Flag   string `json:"flag,omitempty"`
	Status Status `json:"status"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
	Basis  Basis  `json:"basis,omitempty"`
}

func (e *Entry) toJSON() entryJSON {
	return entryJSON{Key: e.Key, Line: e.Line, Flag: e.Flag, Status: e.Status, Target: e.Target, Reason: e.Reason, Basis: e.Basis}
}

// MarshalJSON writes the entry's fields in the order key, line, flag,
// status, target, reason, basis.
func (e Entry) MarshalJSON() ([]byte, error) {
	// Not HTML-escaped here: encoding/json escapes a Marshaler's output
	// as its own encoder is set to.
	return marshalJSONLine(e.toJSON())
}

// MetalLBPool is an MKE 3 MetalLB address pool. MKE 4k does not take pools
// as configuration: they must be recreated as MetalLB objects.
type MetalLBPool struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
}

// Report accounts for every leaf key of the input.
type Report struct {
	Entries []Entry `json:"entries"`
	// MetalLBPools lists the MKE 3 pools to recreate, when MetalLB was on.
	MetalLBPools []MetalLBPool `json:"metallbPools,omitempty"`
}

// Counts returns the number of entries per status.
func (r Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, e := range r.Entries {
		out[e.Status]++
	}
	return out
}

// Find returns the entry of an input key, or of one flag of a flag-list or
// kubelet-profile key: key is the leaf key as in Entry.Key (for example
// "cluster_config.custom_kubelet_flags" or
// "cluster_config.custom_kubelet_flags_profiles.high"), and flag is
// empty for the key itself or a flag name with or without its dashes and
// value ("max-pods", "--max-pods" and "--max-pods=200" find the same
// entry). When a flag is given twice, the first entry is returned. ok is
// false when the report has no such entry.
func (r Report) Find(key, flag string) (e Entry, ok bool) {
	want := entryFlagName(flag)
	for _, e := range r.Entries {
		if e.Key == key && entryFlagName(e.Flag) == want {
			return e, true
		}
	}
	return Entry{}, false
}

// entryFlagName is a flag's name without dashes and value: "--a=b" → "a".
func entryFlagName(f string) string {
	f = strings.TrimLeft(f, "-")
	name, _, _ := strings.Cut(f, "=")
	return name
}

// Blocking returns the entries that prevent an upgrade.
func (r Report) Blocking() []Entry { return r.filter(StatusBlocking) }

// HasBlocking reports whether anything blocks the upgrade.
func (r Report) HasBlocking() bool { return len(r.Blocking()) > 0 }

// NotCarried returns the entries whose value does not reach MKE 4k and is
// not a default: dropped, unconvertible, unknown and blocking entries.
// These are the settings an upgrade summary lists.
func (r Report) NotCarried() []Entry {
	var out []Entry
	for _, e := range r.Entries {
		switch e.Status {
		case StatusDropped, StatusUnconvertible, StatusUnknown, StatusBlocking:
			out = append(out, e)
		}
	}
	return out
}

func (r Report) filter(s Status) []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Status == s {
			out = append(out, e)
		}
	}
	return out
}

// Keys returns the distinct input keys the report accounts for.
func (r Report) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range r.Entries {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e.Key)
		}
	}
	return out
}

// JSON renders the report as indented JSON.
func (r Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(64 + 160*len(r.Entries))
	if err := r.writeJSON(&b); err != nil {
		return nil, fmt.Errorf("convert: marshal report: %w", err)
	}
	return b.Bytes(), nil
}

// WriteJSON writes what JSON returns to w as it goes, without holding the
// whole document: a report of hundreds of thousands of flags is tens of
// megabytes of JSON (issue 14, F13).
func (r Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := r.writeJSON(bw); err != nil {
		return fmt.Errorf("convert: write report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("convert: write report: %w", err)
	}
	return nil
}

// writeJSON is marshalJSON(r) written entry by entry: indenting the whole
// document at once holds it twice more in memory.
func (r Report) writeJSON(w io.Writer) error {
	// Each entry is encoded into a small buffer that is reused, then
	// written without Encode's newline.
	var e bytes.Buffer
	enc := json.NewEncoder(&e)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	var werr error
	put := func(b []byte) {
		if werr == nil {
			_, werr = w.Write(b)
		}
	}
	put([]byte("{\n  \"entries\": ["))
	for i := range r.Entries {
		e.Reset()
		if i > 0 {
			e.WriteByte(',')
		}
		e.WriteString("\n    ")
		if err := enc.Encode(r.Entries[i].toJSON()); err != nil {
			return err
		}
		put(e.Bytes()[:e.Len()-1])
	}
	if len(r.Entries) > 0 {
		put([]byte("\n  "))
	}
	put([]byte("]"))
	if len(r.MetalLBPools) > 0 {
		e.Reset()
		e.WriteString(",\n  \"metallbPools\": ")
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(r.MetalLBPools); err != nil {
			return err
		}
		put(e.Bytes()[:e.Len()-1])
	}
	put([]byte("\n}\n"))
	return werr
}

// marshalJSONLine encodes v on one line without HTML escaping.
func marshalJSONLine(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// marshalJSON indents and keeps <, > and & as they are (reasons and keys
// are read by people and pipelines, not embedded in HTML).
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteText writes the full report for people: a count line, then the
// entries grouped by status, most urgent first.
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	c := r.Counts()
	bw.WriteString(r.summaryLine() + "\n")
	for _, s := range statusOrder {
		if c[s] == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s (%d):\n", strings.ToUpper(s.String()), c[s])
		for i := range r.Entries {
			if r.Entries[i].Status == s {
				bw.WriteString("  ")
				writeEntryLine(bw, &r.Entries[i])
				bw.WriteByte('\n')
			}
		}
	}
	r.writePools(bw)
	return bw.Flush()
}

// WriteShort writes what needs attention: the count line and every entry
// that is not converted or default.
func (r Report) WriteShort(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(r.summaryLine() + "\n")
	for _, s := range statusOrder[:4] {
		for i := range r.Entries {
			if r.Entries[i].Status == s {
				bw.WriteString("  " + strings.ToUpper(s.String()) + "  ")
				writeEntryLine(bw, &r.Entries[i])
				bw.WriteByte('\n')
			}
		}
	}
	r.writePools(bw)
	return bw.Flush()
}

func (r Report) writePools(b *bufio.Writer) {
	if len(r.MetalLBPools) == 0 {
		return
	}
	b.WriteString("\nMetalLB IP address pools to recreate as IPAddressPool objects:\n")
	for _, p := range r.MetalLBPools {
		fmt.Fprintf(b, "  %s: %s\n", p.Name, strings.Join(p.Addresses, ", "))
	}
}

func (r Report) summaryLine() string {
	c := r.Counts()
	parts := make([]string, 0, len(statusOrder))
	for _, s := range statusOrder {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	return fmt.Sprintf("%d keys accounted for: %s", len(r.Keys()), strings.Join(parts, ", "))
}

// writeEntryLine writes an entry's line without building it first.
func writeEntryLine(b interface {
	io.Writer
	io.StringWriter
}, e *Entry) {
	if e.Line > 0 {
		b.WriteString("line ")
		b.Write(strconv.AppendInt(make([]byte, 0, 20), int64(e.Line), 10))
		b.WriteString(": ")
	}
	b.WriteString(e.Key)
	if e.Flag != "" {
		b.WriteString(" ")
		b.WriteString(e.Flag)
	}
	if e.Target != "" {
		b.WriteString(" -> ")
		b.WriteString(e.Target)
		if e.Basis != 0 && e.Basis != Documented {
			b.WriteString(" [" + e.Basis.String() + "]")
		}
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
}
