package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// MaxExportSize bounds what DecodeExport reads. An export of 100 000 users
// with their teams is some tens of MiB; the bound stops a wrong file (a
// disk image, a log) from costing minutes and gigabytes.
const MaxExportSize = 256 << 20

// Kinds of problem an *ExportError wraps; test for them with errors.Is.
var (
	ErrExportTooLarge   = errors.New("file too large")
	ErrExportNotUTF8    = errors.New("not UTF-8 text")
	ErrExportSyntax     = errors.New("invalid JSON")
	ErrExportShape      = errors.New("unexpected value")
	ErrExportUnknown    = errors.New("unknown field")
	ErrExportDuplicate  = errors.New("duplicate field")
	ErrExportTrailing   = errors.New("trailing data")
	ErrExportWrongKind  = errors.New("not an MKE 3 RBAC export")
	ErrExportNilModel   = errors.New("nil model")
	errExportAfterCheck = errors.New("decoder disagrees with the shape check")
)

// ExportError is a problem with an export document: where (File, the
// 1-based Line and Column of the offending byte, 0 when not known; Field,
// the JSON path like "teams[3].members[0]") and what (Err, which wraps one
// of the ErrExport* values).
type ExportError struct {
	File         string
	Line, Column int
	Field        string
	Err          error
}

func (e *ExportError) Error() string {
	var b strings.Builder
	b.WriteString(orDefault(e.File, "<export>"))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ExportError) Unwrap() error { return e.Err }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// DecodeExport reads an export document written by EncodeExport (or by
// hand). name is used in errors only. Decoding is strict, so that a typo
// cannot silently drop access: unknown or repeated fields, values of the
// wrong type, trailing data and another apiVersion or kind are errors,
// each an *ExportError. The content is not checked (Translate reports
// dangling references, duplicate IDs and so on); lists keep file order.
func DecodeExport(name string, data []byte) (*Model, error) {
	fail := func(off int, field string, err error) error {
		e := &ExportError{File: name, Field: field, Err: err}
		if off >= 0 {
			e.Line, e.Column = position(data, off)
		}
		return e
	}
	if len(data) > MaxExportSize {
		return nil, fail(-1, "", fmt.Errorf("%w: %d bytes, more than the %d an export can plausibly be; is this the right file?",
			ErrExportTooLarge, len(data), MaxExportSize))
	}
	// Editors on Windows may add a byte-order mark; JSON does not allow one.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fail(off, "", fmt.Errorf("%w: an export is a JSON text file; was it converted from another encoding?", ErrExportNotUTF8))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail(-1, "", fmt.Errorf("%w: the file is empty; write one with `mke-migrate rbac export`", ErrExportSyntax))
	}

	w := &walker{data: data, dec: json.NewDecoder(bytes.NewReader(data)), fields: map[reflect.Type]map[string]reflect.Type{}, top: map[string]int{}}
	w.dec.UseNumber()
	if err := w.value(reflect.TypeFor[Model](), ""); err != nil {
		var we *walkError
		if errors.As(err, &we) {
			return nil, fail(we.off, we.field, we.err)
		}
		return nil, fail(-1, "", err)
	}
	off := w.next()
	if _, err := w.dec.Token(); err != io.EOF {
		return nil, fail(off, "", fmt.Errorf("%w after the export document: a file holds one JSON object; remove what follows it", ErrExportTrailing))
	}

	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fail(-1, "", fmt.Errorf("%w: %w", errExportAfterCheck, err))
	}
	if m.APIVersion != ExportAPIVersion || m.Kind != ExportKind {
		field, got, want := "apiVersion", m.APIVersion, ExportAPIVersion
		if m.APIVersion == ExportAPIVersion {
			field, got, want = "kind", m.Kind, ExportKind
		}
		off, ok := w.top[field]
		if !ok {
			off = w.start
		}
		return nil, fail(off, field, fmt.Errorf("%w: %s is %q, want %q; export the model again with this version of mke-migrate",
			ErrExportWrongKind, field, got, want))
	}
	return &m, nil
}

// EncodeExport writes m as an indented export document that DecodeExport
// reads back. The output is canonical: lists sorted by ID (grants by
// subject, object and role), member lists sorted, apiVersion and kind set
// to this format's. m is not modified.
func EncodeExport(m *Model) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("rbac: encode export: %w", ErrExportNilModel)
	}
	s := m.sorted()
	s.APIVersion, s.Kind = ExportAPIVersion, ExportKind
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // names with < or & stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("rbac: encode export: %w", err)
	}
	return b.Bytes(), nil
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// walker checks the token stream against the Model's Go types before
// encoding/json decodes it, because encoding/json matches field names
// without regard to case, accepts repeated fields and reports unknown ones
// without a position. The schema bounds the nesting, so hostile input
// cannot recurse deeply.
type walker struct {
	data   []byte
	dec    *json.Decoder
	fields map[reflect.Type]map[string]reflect.Type
	top    map[string]int // offsets of the document's top-level keys
	start  int            // offset of the document's opening brace
}

type walkError struct {
	off   int
	field string
	err   error
}

func (e *walkError) Error() string { return e.err.Error() }

// next is the offset of the next token: the decoder's offset moved past
// white space and separators.
func (w *walker) next() int {
	off := int(w.dec.InputOffset())
	for off < len(w.data) && strings.IndexByte(" \t\r\n,:", w.data[off]) >= 0 {
		off++
	}
	return off
}

func (w *walker) token(field string) (json.Token, int, error) {
	off := w.next()
	tok, err := w.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			off = int(se.Offset) // the bytes read before the offending one
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			off = len(w.data)
			err = errors.New("unexpected end of file")
		}
		return nil, off, &walkError{off: off, field: field, err: fmt.Errorf("%w: %v; fix the file at this position", ErrExportSyntax, err)}
	}
	return tok, off, nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case bool:
		return "true or false"
	case json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

func (w *walker) value(t reflect.Type, field string) error {
	tok, off, err := w.token(field)
	if err != nil {
		return err
	}
	shape := func(want string) error {
		return &walkError{off: off, field: field, err: fmt.Errorf("%w: %s, want %s", ErrExportShape, describeToken(tok), want)}
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return shape("a string")
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return shape("true or false")
		}
	case reflect.Slice:
		if tok == nil {
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return shape("a list")
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
		if _, _, err := w.token(field); err != nil {
			return err
		}
	case reflect.Struct:
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return shape("an object")
		}
		if field == "" {
			w.start = off
		}
		fields := w.structFields(t)
		seen := map[string]bool{}
		for w.dec.More() {
			keyTok, keyOff, err := w.token(field)
			if err != nil {
				return err
			}
			key, _ := keyTok.(string) // the decoder only yields strings as keys
			path := key
			if field != "" {
				path = field + "." + key
			}
			ft, ok := fields[key]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				slices.Sort(names)
				return &walkError{off: keyOff, field: path, err: fmt.Errorf("%w %q (names are case-sensitive; the fields here are %s): remove or correct it",
					ErrExportUnknown, key, strings.Join(names, ", "))}
			}
			if seen[key] {
				return &walkError{off: keyOff, field: path, err: fmt.Errorf("%w %q: keep one of them", ErrExportDuplicate, key)}
			}
			seen[key] = true
			if field == "" {
				w.top[key] = keyOff
			}
			if err := w.value(ft, path); err != nil {
				return err
			}
		}
		if _, _, err := w.token(field); err != nil {
			return err
		}
	default:
		// The model has no other kinds; a new field of another kind must
		// be taught to the walker.
		return &walkError{off: off, field: field, err: fmt.Errorf("%w: field of kind %s", errExportAfterCheck, t.Kind())}
	}
	return nil
}

// structFields maps the JSON names of t's fields to their types.
func (w *walker) structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := w.fields[t]; ok {
		return f
	}
	f := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		f[name] = sf.Type
	}
	w.fields[t] = f
	return f
}

// Manifest formats for Manifests.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Manifests writes objs for GitOps or kubectl apply: in FormatYAML a
// stream of documents separated by "---", in FormatJSON one indented
// "v1" List. ClusterRoles come first, then ClusterRoleBindings, then
// RoleBindings, each in the order of objs; the same objects always give
// the same bytes.
func Manifests(objs *Objects, format string) ([]byte, error) {
	if objs == nil {
		return nil, errors.New("rbac: manifests: nil objects")
	}
	items := make([]any, 0, objs.Len())
	for i := range objs.ClusterRoles {
		items = append(items, &objs.ClusterRoles[i])
	}
	for i := range objs.ClusterRoleBindings {
		items = append(items, &objs.ClusterRoleBindings[i])
	}
	for i := range objs.RoleBindings {
		items = append(items, &objs.RoleBindings[i])
	}
	switch format {
	case FormatYAML:
		var b bytes.Buffer
		for i, it := range items {
			y, err := yaml.Marshal(it)
			if err != nil {
				return nil, fmt.Errorf("rbac: manifests: %w", err)
			}
			if i > 0 {
				b.WriteString("---\n")
			}
			b.Write(y)
		}
		return b.Bytes(), nil
	case FormatJSON:
		list := struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Items      []any  `json:"items"`
		}{"v1", "List", items}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(list); err != nil {
			return nil, fmt.Errorf("rbac: manifests: %w", err)
		}
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("rbac: manifests: unknown format %q; want %q or %q", format, FormatYAML, FormatJSON)
}
