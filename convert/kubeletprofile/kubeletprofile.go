package kubeletprofile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
)

// Status tells whether a flag made it into the KubeletConfiguration values.
type Status string

const (
	// Converted means the flag's value is in Result.Values.
	Converted Status = "converted"
	// Unconvertible means the flag is not in Result.Values; FlagResult.Reason
	// says why and what to do.
	Unconvertible Status = "unconvertible"
	// Overridden means a later flag of the same input set the same field
	// (or every key of the same map), so this one has no effect; Reason
	// names the later flag.
	Overridden Status = "overridden"
)

// FlagResult reports what happened to one input flag.
type FlagResult struct {
	// Flag is the flag as written (flagparse.Flag.Raw).
	Flag string
	// Name is the flag name without dashes, as written.
	Name string
	// Field is the dotted KubeletConfiguration JSON path the flag sets, e.g.
	// "kubeReserved" or "authentication.anonymous.enabled"; "" when the flag
	// has no field.
	Field string
	// Status is Converted, Unconvertible, or Overridden (a later flag of
	// the same input set the same field, so this one has no effect).
	Status Status
	// Reason explains an Unconvertible status, names the later flag of an
	// Overridden one, or carries a note for a converted flag (e.g.
	// "overrides an earlier --max-pods").
	Reason string
}

// Result is the outcome of mapping a set of kubelet flags.
type Result struct {
	// Values holds KubeletConfiguration v1beta1 fields, nested by JSON path,
	// in JSON shapes: int64 for integers, bool, string (durations as Go
	// duration strings, quantities as written), []string, map[string]string,
	// map[string]bool (featureGates), map[string][]string
	// (staticPodURLHeader) and []any of map[string]any (reservedMemory,
	// registerWithTaints, logging.vmodule). It is never nil.
	Values map[string]any
	// Flags has one entry per input flag, in input order.
	Flags []FlagResult
}

// Map converts parsed kubelet flags into KubeletConfiguration values. It never
// panics, and every input flag gets exactly one FlagResult. Map is pure and
// deterministic: the same flags always give the same Result.
func Map(flags []flagparse.Flag) Result {
	m := mapper{
		res: Result{
			Values: map[string]any{},
			Flags:  make([]FlagResult, 0, len(flags)),
		},
		owner:    map[string]int{},
		keyOwner: map[string]map[string]int{},
		keys:     map[int][]string{},
	}
	for _, f := range flags {
		m.add(f)
	}
	m.finishMaps()
	return m.res
}

// MapString parses a kubelet profile string (flagparse.ParseString) and maps
// it. The error is the parse error; the Result is then empty.
func MapString(profile string) (Result, error) {
	flags, err := flagparse.ParseStringBools(profile, IsBool)
	if err != nil {
		return Result{}, err
	}
	return Map(flags), nil
}

// MapStringLenient is MapString that leaves out each word it cannot parse
// (a stray value after a boolean flag, a word that is not a flag) and maps
// the others: one bad word must not cost the whole profile. strays has one
// *flagparse.Error per word left out, in order (Input: the word; Index:
// its position among the words of profile). err is only a string that
// cannot be split into words (an unterminated quote), and Result is then
// empty.
//
// Only when the strict parse fails is the profile re-parsed from its
// words, requoted; the Raw of its flags then shows them requoted.
func MapStringLenient(profile string) (res Result, strays []*flagparse.Error, err error) {
	flags, err := flagparse.ParseStringBools(profile, IsBool)
	if err == nil {
		return Map(flags), nil, nil
	}
	words, serr := flagparse.Split(profile)
	if serr != nil {
		return Result{}, nil, serr
	}
	pos := make([]int, len(words)) // index in profile of each remaining word
	for i := range pos {
		pos[i] = i
	}
	// Each pass drops one word, so this ends; profiles are a few words.
	for {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = shellQuote(w)
		}
		flags, err = flagparse.ParseStringBools(strings.Join(quoted, " "), IsBool)
		var pe *flagparse.Error
		if err == nil || !errors.As(err, &pe) || pe.Index < 0 || pe.Index >= len(words) {
			break
		}
		strays = append(strays, &flagparse.Error{Input: words[pe.Index], Index: pos[pe.Index], Reason: pe.Reason})
		words = append(words[:pe.Index], words[pe.Index+1:]...)
		pos = append(pos[:pe.Index], pos[pe.Index+1:]...)
	}
	if err != nil {
		return Result{}, strays, err
	}
	return Map(flags), strays, nil
}

// shellQuote quotes w so that flagparse.Split gives it back as one word.
func shellQuote(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=.,:/@%+", r))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// MapList parses a MKE 3 flag list such as custom_kubelet_flags
// (flagparse.ParseList) and maps it. The error is the parse error; the
// Result is then empty.
func MapList(elems []string) (Result, error) {
	flags, err := flagparse.ParseListBools(elems, IsBool)
	if err != nil {
		return Result{}, err
	}
	return Map(flags), nil
}

// IsBool reports whether the kubelet declares flagName boolean, so that a
// bare "--name" means true and the next word is never its value (pflag's
// NoOptDefVal). The set is the kubelet's BoolVar flags in Kubernetes
// v1.37.2 (cmd/kubelet/app/options/options.go) plus --help and --version.
func IsBool(flagName string) bool {
	k := flagKey(flagName)
	if s, ok := specs[k]; ok {
		return s.bare
	}
	return otherBools[k]
}

// otherBools are the kubelet's boolean flags without a KubeletConfiguration
// field.
var otherBools = map[string]bool{
	"exit-on-lock-contention": true, "fail-cgroupv1": true, "experimental-allocatable-ignore-eviction": true,
	"windows-service": true, "help": true, "version": true,
}

// Lookup tells which KubeletConfiguration field a flag name sets, as a dotted
// JSON path; it returns "", false for flags that have no field (per-node,
// deprecated, removed or unknown flags). Leading dashes are ignored and '_'
// equals '-', as for the kubelet.
func Lookup(flagName string) (field string, ok bool) {
	s, ok := specs[flagKey(flagName)]
	if !ok {
		return "", false
	}
	return s.field, true
}

// mapper carries the state of one Map call.
type mapper struct {
	res Result
	// owner maps a field set with lastWins or appendItems to the index of the
	// latest flag that set it.
	owner map[string]int
	// keyOwner maps a mergeKeys field to key → index of the flag whose value
	// is in effect for that key.
	keyOwner map[string]map[string]int
	// keys lists, per flag index, the map keys that flag set.
	keys map[int][]string
}

// display writes a flag name for messages: -v style for one letter.
func display(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func (m *mapper) add(f flagparse.Flag) {
	i := len(m.res.Flags)
	m.res.Flags = append(m.res.Flags, FlagResult{Flag: f.Raw, Name: f.Name, Status: Unconvertible})
	fr := &m.res.Flags[i]
	key := flagKey(f.Name)
	if reason, ok := nonConfigReason(key); ok {
		fr.Reason = reason
		return
	}
	s, ok := specs[key]
	if !ok {
		fr.Reason = fmt.Sprintf("unknown kubelet flag: no KubeletConfiguration field is known for %s; "+
			"check the spelling, or set it in kubelet extraArgs if the MKE 4k kubelet accepts it", display(f.Name))
		return
	}
	fr.Field = s.field

	raw := f.Value
	if !f.HasValue {
		if !s.bare {
			fr.Reason = fmt.Sprintf("%s needs a value; write %s=<value>", display(f.Name), display(f.Name))
			return
		}
		raw = "true"
	}
	v, err := s.parse(raw)
	if err != nil {
		fr.Reason = fmt.Sprintf("invalid value %q for %s: %s", f.Value, display(f.Name), err)
		return
	}
	if s.check != nil {
		if reason := s.check(v); reason != "" {
			fr.Reason = fmt.Sprintf("%s=%s: %s", display(f.Name), raw, reason)
			return
		}
	}

	fr.Status = Converted
	var notes []string
	switch s.repeat {
	case lastWins:
		if prev, ok := m.owner[s.field]; ok {
			p := &m.res.Flags[prev]
			p.Status = Overridden
			p.Reason = fmt.Sprintf("overridden by a later %s in the same profile", display(f.Name))
			notes = append(notes, "overrides an earlier "+display(p.Name))
		}
		m.owner[s.field] = i
		setPath(m.res.Values, s.field, v)
	case appendItems:
		if prev, ok := m.owner[s.field]; ok {
			notes = append(notes, fmt.Sprintf("added to the values of an earlier %s (the kubelet accumulates repeated %s)",
				display(m.res.Flags[prev].Name), display(f.Name)))
			v = appendValue(getPath(m.res.Values, s.field), v)
		}
		m.owner[s.field] = i
		setPath(m.res.Values, s.field, v)
	case mergeKeys:
		ks := sortedKeys(v)
		m.keys[i] = ks
		owners := m.keyOwner[s.field]
		if owners == nil {
			owners = map[string]int{}
			m.keyOwner[s.field] = owners
		}
		var replaced []string
		prev := -1
		for _, k := range ks {
			if o, ok := owners[k]; ok {
				replaced = append(replaced, k)
				prev = max(prev, o)
			}
			owners[k] = i
		}
		if len(replaced) > 0 {
			notes = append(notes, fmt.Sprintf("overrides %s from an earlier %s",
				strings.Join(replaced, ", "), display(m.res.Flags[prev].Name)))
		}
		if len(ks) == 0 {
			notes = append(notes, "empty value: sets no entries")
		}
		setPath(m.res.Values, s.field, mergeValue(getPath(m.res.Values, s.field), v))
	}
	if s.note != "" {
		notes = append(notes, s.note)
	}
	fr.Reason = strings.Join(notes, "; ")
}

// finishMaps reports map flags whose keys were all or partly overridden by
// later flags, so that no value disappears silently.
func (m *mapper) finishMaps() {
	for i := range m.res.Flags {
		ks, ok := m.keys[i]
		if !ok || len(ks) == 0 {
			continue
		}
		fr := &m.res.Flags[i]
		owners := m.keyOwner[fr.Field]
		var lost []string
		later := -1
		for _, k := range ks {
			if o := owners[k]; o != i {
				lost = append(lost, k)
				if o > later {
					later = o
				}
			}
		}
		if len(lost) == 0 {
			continue
		}
		by := display(m.res.Flags[later].Name)
		if len(lost) == len(ks) {
			fr.Status = Overridden
			fr.Reason = fmt.Sprintf("overridden by a later %s in the same profile (it sets every key again)", by)
			continue
		}
		note := fmt.Sprintf("%s overridden by a later %s in the same profile", strings.Join(lost, ", "), by)
		if fr.Reason == "" {
			fr.Reason = note
		} else {
			fr.Reason = note + "; " + fr.Reason
		}
	}
}

// setPath stores v under a dotted path, creating nested maps as needed. The
// field table never uses a path both as a leaf and as a parent.
func setPath(root map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := root
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
}

// getPath returns the value under a dotted path, or nil.
func getPath(root map[string]any, path string) any {
	parts := strings.Split(path, ".")
	cur := root
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur[parts[len(parts)-1]]
}

// appendValue joins list values of the same shape; old comes first. For the
// header map, values of the same header are appended in order.
func appendValue(old, v any) any {
	switch n := v.(type) {
	case []string:
		if o, ok := old.([]string); ok {
			return append(append([]string{}, o...), n...)
		}
	case []any:
		if o, ok := old.([]any); ok {
			return append(append([]any{}, o...), n...)
		}
	case map[string][]string:
		if o, ok := old.(map[string][]string); ok {
			out := make(map[string][]string, len(o)+len(n))
			for k, vs := range o {
				out[k] = append([]string{}, vs...)
			}
			for k, vs := range n {
				out[k] = append(out[k], vs...)
			}
			return out
		}
	}
	return v
}

// mergeValue merges map values of the same shape; keys of v win.
func mergeValue(old, v any) any {
	switch n := v.(type) {
	case map[string]string:
		if o, ok := old.(map[string]string); ok {
			for k, val := range n {
				o[k] = val
			}
			return o
		}
	case map[string]bool:
		if o, ok := old.(map[string]bool); ok {
			for k, val := range n {
				o[k] = val
			}
			return o
		}
	}
	return v
}
