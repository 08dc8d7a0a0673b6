package mke4

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
	var buf bytes.Buffer
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

// writeMapChunks writes b's entries as the whole document would, in
// chunks of bigMapChunk keys in the emitter's order.
func writeMapChunks(buf *bytes.Buffer, b bigMap) error {
	// Sorted first so that the result does not depend on map order where
	// the encoder's order is not transitive (see hardKey in the tests).
	keys := slices.Sorted(maps.Keys(b.m))
	slices.SortStableFunc(keys, yamlKeyCompare)
	for len(keys) > 0 {
		n := min(bigMapChunk, len(keys))
		chunk := make(map[string]string, n)
		for _, k := range keys[:n] {
			chunk[k] = b.m[k]
		}
		keys = keys[n:]
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
	}
	return nil
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
