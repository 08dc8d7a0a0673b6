package mke4

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// Huge string maps (extraArgs of hundreds of thousands of flags, issue 14
// F13) are written in chunks: the YAML emitter keeps every event of a
// document until its end, which for such a map is hundreds of megabytes.
// Each chunk goes through the same JSON → YAML path as the whole document,
// nested as deep as the map, so that its lines are byte for byte those the
// whole document would have; the chunks follow the emitter's key order.
const (
	bigMapKeys   = 2048 // smaller maps go the ordinary way
	bigMapChunk  = 1024
	bigMapMarker = "mke4-marshal-placeholder-"
)

// bigMap is one huge map of the configuration: where it is and its value.
type bigMap struct {
	field reflect.Value // settable field, in the copy being marshalled
	depth int           // mapping levels above the map's keys
	m     map[string]string
}

// findBigMaps returns the string maps of at least bigMapKeys keys reached
// through struct fields and pointers (not lists, whose items indent
// differently, nor embedded structs, which JSON flattens).
func findBigMaps(v reflect.Value, depth int, out []bigMap) []bigMap {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out = findBigMaps(v.Elem(), depth, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Anonymous {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			fv := v.Field(i)
			if m, ok := fv.Interface().(map[string]string); ok && len(m) >= bigMapKeys && fv.CanSet() {
				out = append(out, bigMap{field: fv, depth: depth + 1, m: m})
				continue
			}
			out = findBigMaps(fv, depth+1, out)
		}
	}
	return out
}

// marshalChunked is Marshal for a configuration holding huge maps: each is
// replaced by a one-key placeholder map, the document is marshalled, and
// each placeholder line is replaced by the map's entries, marshalled in
// chunks. ok is false when it does not apply.
func marshalChunked(cfg MkeConfig) (out []byte, ok bool, err error) {
	c := copyPath(cfg)
	big := findBigMaps(reflect.ValueOf(&c).Elem(), 0, nil)
	if len(big) == 0 {
		return nil, false, nil
	}
	for i, b := range big {
		b.field.Set(reflect.ValueOf(map[string]string{fmt.Sprintf("%s%d", bigMapMarker, i): ""}))
	}
	doc, err := marshalJSONYAML(c)
	if err != nil {
		return nil, true, err
	}
	// The output's size, so that the buffer is allocated once instead of
	// doubling (and copying) up to it: a line per entry, as writeSimpleLine
	// writes it, and the rest of the document.
	size := len(doc)
	for _, b := range big {
		for k, v := range b.m {
			size += 2*b.depth + len(k) + len(v) + len(`: ""`) + 1
		}
	}
	var buf bytes.Buffer
	buf.Grow(size + size/64)
	rest := doc
	for i, b := range big {
		line := []byte(strings.Repeat("  ", b.depth) + fmt.Sprintf("%s%d", bigMapMarker, i) + ": \"\"\n")
		at := bytes.Index(rest, line)
		if at < 0 || (at > 0 && rest[at-1] != '\n') || bytes.Contains(rest[at+len(line):], line) {
			return nil, false, nil // not where expected: the ordinary way
		}
		buf.Write(rest[:at])
		if err := writeMapChunks(&buf, b); err != nil {
			return nil, true, err
		}
		rest = rest[at+len(line):]
	}
	buf.Write(rest)
	return buf.Bytes(), true, nil
}

// writeMapChunks writes b's entries as the whole document would, in the
// emitter's order: an entry of the common simple form (simpleLine) is
// written directly, the others in chunks of up to bigMapChunk keys through
// the YAML library. The library costs microseconds and kilobytes of
// garbage per key: for hundreds of thousands of flags, most of the
// conversion's time (issue 14, F13).
func writeMapChunks(buf *bytes.Buffer, b bigMap) error {
	// Sorted first so that the result does not depend on map order where
	// the encoder's order is not transitive (see hardKey in the tests).
	keys := make([]string, 0, len(b.m)) // exactly: appending grows by up to 2x
	for k := range b.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.SortStableFunc(keys, yamlKeyCompare)
	indent := strings.Repeat("  ", b.depth)
	var hard []string // keys waiting for the library, in order: at most bigMapChunk
	flush := func() error {
		if len(hard) == 0 {
			return nil
		}
		err := writeLibraryChunk(buf, b, hard)
		hard = hard[:0]
		return err
	}
	for _, k := range keys {
		v := b.m[k]
		if !simpleEntry(k, v) {
			hard = append(hard, k)
			if len(hard) == bigMapChunk {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		buf.WriteString(indent)
		writeSimpleLine(buf, k, v)
	}
	return flush()
}

// writeLibraryChunk writes the entries of keys through the YAML library,
// nested as deep as the map so that the lines are those of the whole
// document.
func writeLibraryChunk(buf *bytes.Buffer, b bigMap, keys []string) error {
	chunk := make(map[string]string, len(keys))
	for _, k := range keys {
		chunk[k] = b.m[k]
	}
	var v any = chunk
	for range b.depth {
		v = map[string]any{"k": v}
	}
	y, err := marshalJSONYAML(v)
	if err != nil {
		return err
	}
	for range b.depth { // the nesting's own lines
		_, y, _ = bytes.Cut(y, []byte("\n"))
	}
	buf.Write(y)
	return nil
}

// yamlWords are the plain words YAML 1.1, as the library reads it, takes
// for booleans or null: a string spelled so is written quoted.
var yamlWords = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"true": true, "True": true, "TRUE": true, "false": true, "False": true, "FALSE": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
	"null": true, "Null": true, "NULL": true,
}

// plainWord reports whether s is written plain by the library: an ASCII
// letter, then letters, digits and - _ . (and, in values, = , /), and not a
// word YAML reads as something else. Such a scalar has no indicator, space,
// break or character to escape, so the emitter writes it as it is.
func plainWord(s string, value bool) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') || yamlWords[s] {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		case value && (c == '=' || c == ',' || c == '/'):
		default:
			return false
		}
	}
	return true
}

// quotedWord reports whether the library writes s double-quoted with
// nothing to escape: empty, a YAML boolean or null word, or up to 15
// digits (an integer, or with a leading 0 an octal or a float).
func quotedWord(s string) bool {
	if s == "" || yamlWords[s] {
		return true
	}
	if len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// simpleEntry reports whether the entry k: v is written by
// writeSimpleLine exactly as the library writes it
// (TestSimpleLinesLikeLibrary). Keys are kept short: the emitter writes a
// key over 128 bytes in the long "? key" form.
func simpleEntry(k, v string) bool {
	return len(k) <= 64 && plainWord(k, false) && (plainWord(v, true) || quotedWord(v))
}

func writeSimpleLine(buf *bytes.Buffer, k, v string) {
	buf.WriteString(k)
	buf.WriteString(": ")
	if plainWord(v, true) {
		buf.WriteString(v)
	} else {
		buf.WriteByte('"')
		buf.WriteString(v)
		buf.WriteByte('"')
	}
	buf.WriteByte('\n')
}

// marshalJSONYAML is the ordinary encoding: JSON, then YAML.
func marshalJSONYAML(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(escapeUnprintable(j))
}

// copyPath copies cfg deep enough that replacing a map field reached
// through structs and pointers does not change the caller's value: the
// pointed-to structs are copied, everything else is shared.
func copyPath(cfg MkeConfig) MkeConfig {
	copyPointers(reflect.ValueOf(&cfg).Elem())
	return cfg
}

func copyPointers(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() && v.CanSet() && v.Elem().Kind() == reflect.Struct {
			p := reflect.New(v.Elem().Type())
			p.Elem().Set(v.Elem())
			v.Set(p)
			copyPointers(p.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				copyPointers(v.Field(i))
			}
		}
	}
}

// yamlKeyCompare orders string keys as the YAML library's encoder does:
// by rune, except that letters sort after other characters and runs of
// digits compare as numbers ("a2" before "a10"). TestYAMLKeyOrder holds
// it to the encoder's own order.
func yamlKeyCompare(a, b string) int {
	if a == b {
		return 0
	}
	if yamlKeyLess([]rune(a), []rune(b)) {
		return -1
	}
	return 1
}

func yamlKeyLess(ar, br []rune) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		switch {
		case al && bl:
			return ar[i] < br[i]
		case al || bl:
			return bl
		}
		// Both are not letters: compare the digit runs starting here as
		// numbers. A run starting with 0 after non-zero digits is the
		// tail of one number: it starts from 1 so that zeros count.
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
