package mke4

import (
	"encoding/json"
	"reflect"
)

// Canonical returns a copy of cfg in the form Unmarshal gives, so that
//
//	reflect.DeepEqual(Unmarshal(Marshal(cfg)), Canonical(cfg))
//
// for every cfg that Marshal accepts: empty lists and maps of the schema are
// nil, and free-form values (customProfiles[].values, affinity, mig,
// k0rdent provider config, topologySpreadConstraints) have the shapes
// encoding/json decodes into any: float64 numbers, []any lists and
// map[string]any objects. convert.Convert returns canonical values, so a
// configuration compares equal before and after a write and a read.
// cfg itself is not changed.
func Canonical(cfg MkeConfig) MkeConfig {
	return canonicalCopy(reflect.ValueOf(cfg)).Interface().(MkeConfig)
}

func canonicalCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(canonicalCopy(v.Elem()))
			out.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if !out.Field(i).CanSet() {
				continue // unexported: encoding/json neither writes nor reads it
			}
			if (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				continue // Unmarshal gives nil
			}
			out.Field(i).Set(canonicalCopy(f))
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(canonicalCopy(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), v.Len())
			for it := v.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), canonicalCopy(it.Value()))
			}
			out.Set(m)
		}
	case reflect.Interface:
		if !v.IsNil() {
			out.Set(reflect.ValueOf(jsonShape(v.Interface())))
		}
	default:
		out.Set(v)
	}
	return out
}

// jsonShape is x as encoding/json decodes it into an any, which is what a
// free-form value becomes after Unmarshal. A value that cannot be encoded
// is kept: Marshal fails on it anyway.
func jsonShape(x any) any {
	switch x := x.(type) {
	case string, bool, float64, nil:
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = jsonShape(v)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, v := range x {
			s[i] = jsonShape(v)
		}
		return s
	}
	b, err := json.Marshal(x)
	if err != nil {
		return x
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return x
	}
	return out
}
