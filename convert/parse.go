package convert

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/mke-migrate/mke-migrate/internal/tomlwalk"
)

// MaxInputSize bounds what Parse reads. Real exports are about 10 KiB; the
// bound keeps a wrong file (a disk image, a log) from costing minutes.
const MaxInputSize = 16 << 20

// Leaf is one leaf key of the input document.
type Leaf struct {
	// Key is the dotted TOML path, with array-of-tables elements indexed,
	// e.g. "cluster_config.ingress_controller.ingress_exposed_ports[0].node_port".
	Key string
	// Line and Column locate the key in the input (1-based).
	Line, Column int
	// Value is the decoded value (string, int64, float64, bool, []any, or
	// a TOML date/time), or an empty map[string]any for an empty table. It
	// may be a secret: never log it. A custom_*_flags list (the
	// ClusterConfig fields CustomKubeletFlags, CustomKubeAPIServerFlags,
	// ...) is a []string, the very slice of that field: the list is held
	// once, not twice (issue 14, F13), so changing one changes the other.
	Value any
	// Table marks an empty table: a section header with nothing under it,
	// an inline {}, or an array-of-tables element without keys. It gets a
	// report entry like any other key.
	Table bool
	// ElemLines holds, for an array of scalars (a flag list), the line of
	// each element (0 where unknown). int32, as Entry.Line: a list of
	// hundreds of thousands of flags keeps one per element.
	ElemLines []int32

	path    tomlwalk.Path
	pattern string   // spec pattern of the key
	spec    *keySpec // nil for unknown keys and tables
	known   bool     // the model knows the path
}

// ParseError is a problem with the input document. It names the source,
// the position and, where there is one, the key.
type ParseError struct {
	File         string // the name given to Parse; may be empty
	Line, Column int    // 0 when unknown
	Key          string // dotted key, when the problem is a key's value
	Msg          string
	Err          error // the underlying error, if any
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("<input>")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes an MKE 3 configuration TOML. name is used in error
// messages only (typically the file path). Every problem found is
// returned, joined with errors.Join, each a *ParseError; a syntax error
// stops at the first one, like any TOML parser.
//
// Keys that the model does not know are not an error: they are kept in
// MKE3Config.Unknown and reported by Convert.
func Parse(name string, data []byte) (*MKE3Config, error) {
	perr := func(msg string) error { return &ParseError{File: name, Msg: msg} }
	// Editors on Windows may add a byte-order mark; TOML does not allow one.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch {
	case len(data) > MaxInputSize:
		return nil, perr(fmt.Sprintf("file is %d bytes, more than the %d an MKE 3 configuration can plausibly be: is this the right file?", len(data), MaxInputSize))
	case len(bytes.TrimSpace(data)) == 0:
		return nil, perr("file is empty: export the configuration with GET /api/ucp/config-toml (or `mke-migrate mke3 config`)")
	case bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data):
		return nil, perr("file is not UTF-8 text (binary data?): an MKE 3 configuration is a TOML text file")
	}

	walked, err := tomlwalk.Leaves(data)
	if err != nil {
		var se *tomlwalk.SyntaxError
		if errors.As(err, &se) {
			return nil, &ParseError{File: name, Line: se.Line, Column: se.Column, Msg: "invalid TOML: " + se.Msg + " (fix the file at this position)", Err: err}
		}
		return nil, &ParseError{File: name, Msg: "invalid TOML", Err: err}
	}

	cfg := &MKE3Config{present: make(map[string]bool, len(walked)), Leaves: make([]Leaf, 0, len(walked))}
	var errs []error
	for _, w := range walked {
		l := Leaf{Key: w.Path.String(), Line: w.Line, Column: w.Column, Value: w.Value, Table: w.Table, ElemLines: w.ElemLines, path: w.Path}
		pattern, known, t, msg := resolve(w.Path)
		l.pattern, l.spec, l.known = pattern, specByPattern[pattern], known
		if l.Table && t != nil && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map ||
			t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct) {
			// An empty table where the model has a table, or an array of
			// tables (mkectl's sorted TOML writes an empty one as [name]).
			l.spec, t = nil, nil
		}
		if t != nil {
			msg = valueMismatch(t, w.Value, !isSecret(l, l.spec))
		}
		cfg.Leaves = append(cfg.Leaves, l)
		cfg.present[l.Key] = true
		switch {
		case msg != "":
			errs = append(errs, &ParseError{File: name, Line: l.Line, Column: l.Column, Key: l.Key, Msg: msg})
		case !known:
			cfg.Unknown = append(cfg.Unknown, l)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := toml.Unmarshal(data, cfg); err != nil {
		// resolve and valueMismatch catch every type problem first; this
		// keeps a gap between them and go-toml from passing silently.
		pe := &ParseError{File: name, Msg: "cannot decode: " + err.Error(), Err: err}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			pe.Line, pe.Column = de.Position()
			pe.Key = strings.Join(de.Key(), ".")
		}
		return nil, pe
	}
	cfg.shareFlagLists()
	return cfg, nil
}

// shareFlagLists makes each flag list one []string: the leaf's Value
// becomes the typed field's slice, and that slice holds the walked leaf's
// strings. go-toml decoded the list twice (a []any of boxed strings for
// the walk, a []string for the model), and a list of hundreds of
// thousands of flags held both (issue 14, F13). Only equal strings are
// swapped, so the values stay what go-toml decoded.
func (cfg *MKE3Config) shareFlagLists() {
	c := &cfg.ClusterConfig
	lists := map[string][]string{
		cc + "custom_kubelet_flags":                 c.CustomKubeletFlags,
		cc + "custom_kube_api_server_flags":         c.CustomKubeAPIServerFlags,
		cc + "custom_kube_controller_manager_flags": c.CustomKubeControllerManagerFlags,
		cc + "custom_kube_scheduler_flags":          c.CustomKubeSchedulerFlags,
		cc + "custom_kube_proxy_flags":              c.CustomKubeProxyFlags,
	}
	for i := range cfg.Leaves {
		l := &cfg.Leaves[i]
		typed, ok := lists[l.Key]
		vals, isList := l.Value.([]any)
		if !ok || !isList || len(vals) != len(typed) || typed == nil {
			continue
		}
		same := true
		for i, v := range vals {
			if s, ok := v.(string); ok && s == typed[i] {
				typed[i] = s
			} else {
				same = false
			}
		}
		if same {
			l.Value = typed
		}
	}
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "a table"
	case reflect.Interface:
		return "any value"
	}
	return t.String()
}

func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return "a date/time"
}

// valueMismatch returns why v does not fit t, or "".
func valueMismatch(t reflect.Type, v any, show bool) string {
	bad := func() string {
		if !show {
			return fmt.Sprintf("expected %s, got %s (value not shown: secret)", describe(t), tomlKind(v))
		}
		return fmt.Sprintf("expected %s, got %s %s", describe(t), tomlKind(v), quoteShort(v))
	}
	switch t.Kind() {
	case reflect.Interface:
		return ""
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if _, ok := v.(int64); !ok {
			return bad()
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return bad()
		}
		for i, el := range arr {
			if m := valueMismatch(t.Elem(), el, show); m != "" {
				return fmt.Sprintf("element %d: %s", i, m)
			}
		}
	case reflect.Map, reflect.Struct:
		return bad()
	}
	return ""
}

// quoteShort shows a value in an error without flooding the terminal.
func quoteShort(v any) string {
	if _, ok := v.(map[string]any); ok {
		return "({})" // only empty tables are leaves
	}
	s := fmt.Sprintf("%v", v)
	if _, ok := v.(string); ok {
		s = fmt.Sprintf("%q", v)
	}
	return "(" + short(s) + ")"
}
