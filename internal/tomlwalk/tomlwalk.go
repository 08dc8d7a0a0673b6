// Package tomlwalk lists every leaf key of a TOML document, in document
// order, with its position and decoded value.
//
// A leaf is a key whose value is a scalar, an array of scalars (kept whole,
// even when empty), or an element of an array that holds tables. Tables,
// inline tables and arrays of tables are containers: they contribute their
// leaves. An empty container (a table header with nothing under it, an
// inline {}, an element of an array of tables without keys) is a leaf of
// its own, marked Table, so that a misspelled or future section header is
// accounted for too. This is the unit that the converter accounts for, so
// that no setting in an input file can be skipped without a report entry.
package tomlwalk

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Elem is one step of a Path: a key (Index < 0) or an array index.
type Elem struct {
	Key   string
	Index int
}

// Path locates a leaf from the document root.
type Path []Elem

// String renders the path the way a person writes it: dotted keys, quoted
// where TOML needs quotes, and array indices in brackets, e.g.
// cluster_config.ingress_controller.ingress_exposed_ports[0].node_port.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.Index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(QuoteKey(e.Key))
	}
	return b.String()
}

// Pattern renders the path with every index replaced by "[]" and every key
// below a map-like table kept as is, e.g. ingress_exposed_ports[].node_port.
func (p Path) Pattern() string {
	var b strings.Builder
	for i, e := range p {
		if e.Index >= 0 {
			b.WriteString("[]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(QuoteKey(e.Key))
	}
	return b.String()
}

// Keys returns the key parts of the path without indices.
func (p Path) Keys() []string {
	out := make([]string, 0, len(p))
	for _, e := range p {
		if e.Index < 0 {
			out = append(out, e.Key)
		}
	}
	return out
}

// QuoteKey returns k as a TOML key: bare when it may be bare, quoted otherwise.
func QuoteKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return quote(k)
		}
	}
	return k
}

// quote renders k as a TOML basic string. strconv.Quote is not TOML: its
// \a, \v and \xHH escapes do not read back (or not in TOML 1.0).
func quote(k string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range k {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case strconv.IsPrint(r):
				b.WriteRune(r)
			case r > 0xFFFF:
				fmt.Fprintf(&b, `\U%08x`, r)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Leaf is one leaf key of the document.
type Leaf struct {
	Path   Path
	Line   int // 1-based line of the key (of the array element for table elements of arrays)
	Column int
	// Value is the decoded value: string, int64, float64, bool, a go-toml
	// local date/time type, time.Time, []any for an array of scalars, or an
	// empty map[string]any for an empty table (Table is true).
	Value any
	// Table marks an empty table: a header with no keys and no sub-tables
	// under it, an empty inline table, or an array-of-tables element
	// without keys.
	Table bool
	// ElemLines holds, for an array of scalars, the 1-based line of each
	// element (0 where unknown), so that one element can be pointed at.
	// int32: a list of hundreds of thousands of flags keeps one per element.
	ElemLines []int32
}

// Key is the rendered path of the leaf.
func (l Leaf) Key() string { return l.Path.String() }

// SyntaxError is a TOML syntax or structure error with its position.
type SyntaxError struct {
	Line, Column int
	Msg          string
	// Context is a few lines of the document around the error, with a marker.
	Context string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Leaves parses data and returns its leaves in document order. A syntax
// error (including duplicate keys and redefined tables) is a *SyntaxError.
func Leaves(data []byte) ([]Leaf, error) {
	// Full decode first: it applies every TOML rule (duplicates, table
	// redefinition, type mixing) that a walk over the AST would not.
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &SyntaxError{Line: line, Column: col, Msg: strings.TrimPrefix(de.Error(), "toml: "), Context: de.String()}
		}
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
	}
	w := walker{doc: doc, counts: map[string]int{}, lines: lineStarts(data)}
	w.p.Reset(data)
	for w.err == nil && w.p.NextExpression() {
		w.expr(w.p.Expression())
	}
	if w.err != nil {
		return nil, w.err
	}
	if err := w.p.Error(); err != nil {
		// Unreachable after a successful Unmarshal; kept so that a parser
		// difference can never silently drop keys.
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
	}
	return w.emptyHeaders(), nil
}

// header is a table header ([a.b] or [[a]]) seen during the walk.
type header struct {
	path      Path
	line, col int
	at        int // index in out where its leaves start
}

// emptyHeaders inserts a Table leaf for every header that nothing lies
// under: no leaf, and no other empty header, has its path as a prefix.
// Deeper headers are decided first so that [a] followed by an empty [a.b]
// yields the one leaf a.b.
func (w *walker) emptyHeaders() []Leaf {
	if len(w.headers) == 0 {
		return w.out
	}
	covered := map[string]bool{}
	cover := func(p Path) {
		// The rendering of a prefix is a prefix of the rendering: one
		// string per leaf, and substrings (which do not allocate) as keys.
		full := p.String()
		n := 0
		for i, e := range p[:len(p)-1] {
			if e.Index >= 0 {
				n += len("[" + strconv.Itoa(e.Index) + "]")
			} else {
				if i > 0 {
					n++
				}
				n += len(QuoteKey(e.Key))
			}
			covered[full[:n]] = true
		}
	}
	for _, l := range w.out {
		cover(l.Path)
	}
	hs := append([]header(nil), w.headers...)
	sort.SliceStable(hs, func(i, j int) bool { return len(hs[i].path) > len(hs[j].path) })
	var add []header
	for _, h := range hs {
		if covered[h.path.String()] {
			continue
		}
		cover(h.path)
		covered[h.path.String()] = true
		add = append(add, h)
	}
	if len(add) == 0 {
		return w.out
	}
	sort.SliceStable(add, func(i, j int) bool {
		if add[i].at != add[j].at {
			return add[i].at < add[j].at
		}
		return add[i].line < add[j].line || add[i].line == add[j].line && add[i].col < add[j].col
	})
	out := make([]Leaf, 0, len(w.out)+len(add))
	next := 0
	for _, h := range add {
		out = append(out, w.out[next:h.at]...)
		next = h.at
		out = append(out, Leaf{Path: h.path, Line: h.line, Column: h.col, Value: map[string]any{}, Table: true})
	}
	return append(out, w.out[next:]...)
}

// MaxDepth bounds how deep keys and values may nest. Real configurations
// nest a handful of levels; the bound keeps a hostile document from costing
// time quadratic in its depth.
const MaxDepth = 64

type walker struct {
	err *SyntaxError // first depth violation
	// position of the expression being walked, for errors deep inside it
	exprLine, exprCol int
	p                 unstable.Parser
	doc               map[string]any
	prefix            Path
	counts            map[string]int // array-of-tables path (rendered, resolved) -> elements seen
	out               []Leaf
	headers           []header
	lines             []int // offset of the first byte of each line
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// position turns a byte offset into a 1-based line and column (columns
// count bytes, as go-toml's do).
func (w *walker) position(off int) (line, col int) {
	line = sort.Search(len(w.lines), func(i int) bool { return w.lines[i] > off })
	return line, off - w.lines[line-1] + 1
}

func (w *walker) keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// resolve appends keys to base, inserting the current index after every
// prefix that names an array of tables.
func (w *walker) resolve(base Path, keys []string) Path {
	out := append(Path(nil), base...)
	for _, k := range keys {
		out = append(out, Elem{Key: k, Index: -1})
		if n, ok := w.counts[out.String()]; ok {
			out = append(out, Elem{Index: n - 1})
		}
	}
	return out
}

func (w *walker) expr(n *unstable.Node) {
	w.exprLine, w.exprCol = w.nodePosition(n)
	if w.exprLine == 0 {
		if it := n.Key(); it.Next() {
			w.exprLine, w.exprCol = w.nodePosition(it.Node())
		}
	}
	switch n.Kind {
	case unstable.Table:
		w.prefix = w.resolve(nil, w.keyParts(n.Key()))
		w.headers = append(w.headers, header{path: w.prefix, line: w.exprLine, col: w.exprCol, at: len(w.out)})
	case unstable.ArrayTable:
		keys := w.keyParts(n.Key())
		parent := w.resolve(nil, keys[:len(keys)-1])
		arr := append(parent, Elem{Key: keys[len(keys)-1], Index: -1})
		id := arr.String()
		w.counts[id]++
		w.prefix = append(arr, Elem{Index: w.counts[id] - 1})
		w.headers = append(w.headers, header{path: w.prefix, line: w.exprLine, col: w.exprCol, at: len(w.out)})
	case unstable.KeyValue:
		keys := w.keyParts(n.Key())
		path := append(append(Path(nil), w.prefix...), elems(keys)...)
		w.value(path, n.Value(), n)
	}
}

func elems(keys []string) Path {
	out := make(Path, len(keys))
	for i, k := range keys {
		out[i] = Elem{Key: k, Index: -1}
	}
	return out
}

func (w *walker) value(path Path, v *unstable.Node, at *unstable.Node) {
	if len(path) > MaxDepth {
		if w.err == nil {
			line, col := w.nodePosition(at)
			if line == 0 { // inner array elements keep no position
				line, col = w.exprLine, w.exprCol
			}
			w.err = &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf("keys and values nest deeper than %d levels", MaxDepth)}
		}
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		if !it.Next() {
			w.leaf(path, at) // an empty inline table is a leaf of its own
			w.out[len(w.out)-1].Table = true
			return
		}
		it = v.Children()
		for it.Next() {
			kv := it.Node()
			w.value(append(append(Path(nil), path...), elems(w.keyParts(kv.Key()))...), kv.Value(), kv)
		}
	case unstable.Array:
		if !arrayHasTable(v) {
			w.leaf(path, at)
			w.elemLines(v)
			return
		}
		it := v.Children()
		i := 0
		for it.Next() {
			el := it.Node()
			pos := el
			if el.Kind == unstable.Array {
				// Array nodes carry no position: use their first element's.
				pos = positioned(el, at)
			}
			w.value(append(append(Path(nil), path...), Elem{Index: i}), el, pos)
			i++
		}
	default:
		w.leaf(path, at)
	}
}

// positioned returns the first non-array node inside the array v, or
// fallback when v holds only (nested) empty arrays.
func positioned(v, fallback *unstable.Node) *unstable.Node {
	it := v.Children()
	for it.Next() {
		n := it.Node()
		if n.Kind != unstable.Array {
			return n
		}
		if p := positioned(n, nil); p != nil {
			return p
		}
	}
	return fallback
}

// arrayHasTable reports whether the array holds a table at any depth, so
// that the keys of tables inside nested arrays are leaves of their own.
func arrayHasTable(v *unstable.Node) bool {
	it := v.Children()
	for it.Next() {
		switch n := it.Node(); n.Kind {
		case unstable.InlineTable:
			return true
		case unstable.Array:
			if arrayHasTable(n) {
				return true
			}
		}
	}
	return false
}

// elemLines records, on the leaf just added, the line of each element of the
// array of scalars v (0 for a nested array, which keeps no position).
func (w *walker) elemLines(v *unstable.Node) {
	l := &w.out[len(w.out)-1]
	n := 0
	for it := v.Children(); it.Next(); {
		n++
	}
	if n == 0 {
		return
	}
	l.ElemLines = make([]int32, 0, n) // exactly: appending grows by up to 2x
	it := v.Children()
	for it.Next() {
		n := it.Node()
		line := 0
		if n.Kind != unstable.Array {
			line, _ = w.nodePosition(n)
		}
		l.ElemLines = append(l.ElemLines, int32(line))
	}
}

func (w *walker) leaf(path Path, at *unstable.Node) {
	l := Leaf{Path: path, Value: lookup(w.doc, path)}
	l.Line, l.Column = w.nodePosition(at)
	w.out = append(w.out, l)
}

// nodePosition is the position of the first key part of a key-value, or
// of the node itself (array elements); 0, 0 when the parser kept none.
func (w *walker) nodePosition(at *unstable.Node) (line, col int) {
	pos := at
	if at.Kind == unstable.KeyValue {
		it := at.Key()
		if it.Next() {
			pos = it.Node()
		}
	}
	if pos.Raw.Length > 0 || pos.Raw.Offset > 0 {
		return w.position(int(pos.Raw.Offset))
	}
	return 0, 0
}

// lookup finds the decoded value at path in the generic document.
func lookup(doc map[string]any, path Path) any {
	var cur any = doc
	for _, e := range path {
		switch c := cur.(type) {
		case map[string]any:
			if e.Index >= 0 {
				return nil
			}
			cur = c[e.Key]
		case []any:
			if e.Index < 0 || e.Index >= len(c) {
				return nil
			}
			cur = c[e.Index]
		case []map[string]any:
			if e.Index < 0 || e.Index >= len(c) {
				return nil
			}
			cur = c[e.Index]
		default:
			return nil
		}
	}
	return cur
}
