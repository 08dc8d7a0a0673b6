// Package tomledit changes one value in a TOML document and leaves every
// other byte as it was: comments, order, spacing and all other settings.
// It exists for the Calico KDD switch, which must send MKE 3 its own
// configuration back with exactly one setting changed.
package tomledit

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/mke-migrate/mke-migrate/internal/tomlwalk"
)

// ErrNotBool is returned when the key exists with a value that is not a
// boolean: rewriting it would change its type.
var ErrNotBool = errors.New("the existing value is not a boolean")

// SetBool sets table.key = value (table is a dotted path of plain keys,
// such as "cluster_config"). An existing key has its value token replaced
// in place; a missing key is added at the end of its table's header
// section, or with a new table at the end of the document. The result is
// parsed again and compared with the input: any difference other than the
// one key is an error, so the edit can never lose or alter another setting.
func SetBool(data []byte, table, key string, value bool) ([]byte, error) {
	leaves, err := tomlwalk.Leaves(data)
	if err != nil {
		return nil, fmt.Errorf("tomledit: %w", err)
	}
	full := key
	if table != "" {
		full = table + "." + key
	}
	lit := fmt.Sprint(value)
	var out []byte
	if l, ok := find(leaves, full); ok {
		if _, isBool := l.Value.(bool); !isBool {
			return nil, fmt.Errorf("tomledit: %s (line %d): %w", full, l.Line, ErrNotBool)
		}
		out, err = replaceValue(data, l, lit)
	} else {
		out, err = insert(data, table, key, lit)
	}
	if err != nil {
		return nil, err
	}
	if err := verify(leaves, out, full, value); err != nil {
		return nil, err
	}
	return out, nil
}

func find(leaves []tomlwalk.Leaf, full string) (tomlwalk.Leaf, bool) {
	for _, l := range leaves {
		if l.Key() == full {
			return l, true
		}
	}
	return tomlwalk.Leaf{}, false
}

// replaceValue rewrites the boolean literal after "key =" on the key's line.
func replaceValue(data []byte, l tomlwalk.Leaf, lit string) ([]byte, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if l.Line < 1 || l.Line > len(lines) {
		return nil, fmt.Errorf("tomledit: line %d out of range", l.Line)
	}
	line := lines[l.Line-1]
	eq := bytes.IndexByte(line[min(l.Column-1, len(line)):], '=')
	if eq < 0 {
		return nil, fmt.Errorf("tomledit: no '=' after the key on line %d", l.Line)
	}
	start := l.Column - 1 + eq + 1
	for start < len(line) && (line[start] == ' ' || line[start] == '\t') {
		start++
	}
	var old string
	switch {
	case bytes.HasPrefix(line[start:], []byte("true")):
		old = "true"
	case bytes.HasPrefix(line[start:], []byte("false")):
		old = "false"
	default:
		return nil, fmt.Errorf("tomledit: line %d: the value is not a plain true or false", l.Line)
	}
	edited := append(append(append([]byte{}, line[:start]...), lit...), line[start+len(old):]...)
	lines[l.Line-1] = edited
	return bytes.Join(lines, nil), nil
}

// insert adds "key = lit" to table: after the table's header when the
// document has one, else as a new table at the end.
func insert(data []byte, table, key, lit string) ([]byte, error) {
	entry := key + " = " + lit
	if table == "" {
		return append([]byte(entry+"\n"), data...), nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	header := "[" + table + "]"
	for i, line := range lines {
		t := strings.TrimSpace(string(line))
		if j := strings.IndexByte(t, '#'); j >= 0 {
			t = strings.TrimSpace(t[:j])
		}
		if t != header {
			continue
		}
		indent := "  "
		if i+1 < len(lines) {
			next := string(lines[i+1])
			if trimmed := strings.TrimLeft(next, " \t"); trimmed != "" && trimmed != "\n" && !strings.HasPrefix(trimmed, "[") {
				indent = next[:len(next)-len(trimmed)]
			}
		}
		nl := "\n"
		if !bytes.HasSuffix(line, []byte("\n")) {
			lines[i] = append(append([]byte{}, line...), '\n')
		}
		rest := append([][]byte{[]byte(indent + entry + nl)}, lines[i+1:]...)
		return bytes.Join(append(lines[:i+1:i+1], rest...), nil), nil
	}
	out := append([]byte{}, data...)
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(out, []byte("\n"+header+"\n  "+entry+"\n")...), nil
}

// verify checks that out holds exactly the leaves of the input plus the
// one changed key.
func verify(before []tomlwalk.Leaf, out []byte, full string, value bool) error {
	after, err := tomlwalk.Leaves(out)
	if err != nil {
		return fmt.Errorf("tomledit: the edited document does not parse: %w", err)
	}
	want := map[string]any{}
	for _, l := range before {
		if l.Table && strings.HasPrefix(full, l.Key()+".") {
			continue // the empty table the key goes into is empty no more
		}
		want[l.Key()] = l.Value
	}
	want[full] = value
	got := map[string]any{}
	for _, l := range after {
		got[l.Key()] = l.Value
	}
	if len(got) != len(want) {
		return fmt.Errorf("tomledit: the edit changed the number of settings (%d, want %d)", len(got), len(want))
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			return fmt.Errorf("tomledit: the edit changed %s", k)
		}
	}
	return nil
}
