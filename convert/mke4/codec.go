package mke4

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Marshal renders cfg as mke4.yaml. The output is deterministic: every
// mapping, struct fields included, is written with its keys sorted, which is
// also how mkectl init orders its output.
func Marshal(cfg MkeConfig) ([]byte, error) {
	if out, ok, err := marshalChunked(cfg); ok {
		if err != nil {
			return nil, fmt.Errorf("mke4: marshal: %w", err)
		}
		return out, nil
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("mke4: marshal: %w", err)
	}
	out, err := yaml.JSONToYAML(escapeUnprintable(j))
	if err != nil {
		return nil, fmt.Errorf("mke4: marshal: %w", err)
	}
	return out, nil
}

// escapeUnprintable rewrites, as JSON \u escapes, the characters that
// encoding/json leaves raw but the YAML reader refuses in its input (DEL,
// C1 controls except NEL, BOM, U+FFFE/U+FFFF). Such characters can only
// appear inside JSON strings, where the escape means the same character,
// so a value that reached the configuration (a flag value, a message) is
// written faithfully instead of failing the whole file.
func escapeUnprintable(j []byte) []byte {
	bad := func(r rune) bool {
		return r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff
	}
	if !bytes.ContainsFunc(j, bad) {
		return j
	}
	var b bytes.Buffer
	b.Grow(len(j) + 16)
	for _, r := range string(j) {
		if bad(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.Bytes()
}

// UnknownFieldError reports a key of the document that the schema does not
// have. Path is the YAML path of the key, e.g. "spec.apiServer.extraArg".
type UnknownFieldError struct {
	Path string
}

func (e *UnknownFieldError) Error() string {
	return fmt.Sprintf("unknown field %q", e.Path)
}

// Unmarshal decodes an mke4.yaml document strictly: a key the schema does not
// have (compared case-sensitively), a duplicate key, or a value of the wrong
// type is an error. Unknown keys are reported as *UnknownFieldError values
// (all of them, joined), each naming the full YAML path.
//
// Empty lists and maps decode as nil, so that Unmarshal(Marshal(c)) equals c
// whenever c has no empty non-nil lists or maps, and Canonical(c) always.
// Free-form values (customProfiles[].values, affinity, mig, k0rdent
// provider config, topologySpreadConstraints) follow encoding/json: numbers
// become float64.
//
// Unmarshal does not validate; call Validate.
func Unmarshal(data []byte) (MkeConfig, error) {
	var cfg MkeConfig
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, errors.New("mke4: decode: empty document")
	}

	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return cfg, fmt.Errorf("mke4: decode: %w", err)
	}
	if raw == nil {
		return cfg, errors.New("mke4: decode: empty document")
	}
	var unknown []error
	for _, p := range unknownFields(raw, reflect.TypeFor[MkeConfig](), "") {
		unknown = append(unknown, &UnknownFieldError{Path: p})
	}
	if len(unknown) > 0 {
		return cfg, fmt.Errorf("mke4: decode: %w", errors.Join(unknown...))
	}

	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return MkeConfig{}, fmt.Errorf("mke4: decode: %w", err)
	}
	canonicalize(reflect.ValueOf(&cfg).Elem())
	return cfg, nil
}

// unknownFields returns the sorted paths of the keys in v (a generic
// JSON-like value) that have no exactly matching json tag in t.
func unknownFields(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // a type error; the strict decoder reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := joinPath(path, k)
			ft, ok := fields[k]
			if !ok {
				out = append(out, p)
				continue
			}
			out = append(out, unknownFields(m[k], ft, p)...)
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range s {
			out = append(out, unknownFields(e, t.Elem(), path+"["+strconv.Itoa(i)+"]")...)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, unknownFields(m[k], t.Elem(), path+"["+strconv.Quote(k)+"]")...)
		}
	}
	return out
}

// jsonFields maps the json names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// canonicalize sets empty list and map fields to nil, recursively through
// structs, pointers and lists of structs. It does not look inside free-form
// (interface) values, which round-trip unchanged. Every list and map field of
// the schema is omitempty, so nil and empty are written identically.
func canonicalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			canonicalize(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				f.SetZero()
				continue
			}
			canonicalize(f)
		}
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.Struct, reflect.Pointer:
			for i := range v.Len() {
				canonicalize(v.Index(i))
			}
		}
	}
}
