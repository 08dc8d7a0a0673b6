package flagparse

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only blanks", " \t\r\n ", nil},
		{"one word", "--profiling", []string{"--profiling"}},
		{"blanks between words", "  --a=1 \t--b\n2\r\n", []string{"--a=1", "--b", "2"}},
		{"single quotes keep everything", `--x='a "b" \c $d'`, []string{`--x=a "b" \c $d`}},
		{"double quotes with space", `--node-labels "a=b c"`, []string{"--node-labels", "a=b c"}},
		{"double quote escapes", `"a\"b\\c\$d\` + "`" + `e"`, []string{`a"b\c$d` + "`e"}},
		{"backslash kept before other chars in double quotes", `"a\nb"`, []string{`a\nb`}},
		{"backslash-newline in double quotes", "\"a\\\nb\"", []string{"ab"}},
		{"backslash escapes outside quotes", `a\ b \'c\"`, []string{"a b", `'c"`}},
		{"line continuation", "--a=1 \\\n--b=2", []string{"--a=1", "--b=2"}},
		{"line continuation inside word", "--a=1\\\n2", []string{"--a=12"}},
		{"adjacent parts concatenate", `--a="b c"'d'e`, []string{"--a=b cde"}},
		{"empty single quotes", `--a ''`, []string{"--a", ""}},
		{"empty double quotes", `"" x`, []string{"", "x"}},
		{"no expansion", `$HOME ~ * #c ${X}`, []string{"$HOME", "~", "*", "#c", "${X}"}},
		{"utf-8", `--name="grüße ✓"`, []string{"--name=grüße ✓"}},
		{"escaped backslash at end", `a\\`, []string{`a\`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.in)
			require.NoError(t, err)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantIndex int
		wantIn    string
	}{
		{"unterminated single quote", `--a 'b c`, 4, "single quote"},
		{"unterminated double quote", `--a "b c`, 4, "double quote"},
		{"escaped quote does not close", `--a "b\"`, 4, "double quote"},
		{"trailing backslash", `--a b\`, 5, "trailing backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.in)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.in, pe.Input)
			assert.Equal(t, tt.wantIndex, pe.Index)
			assert.Contains(t, pe.Reason, tt.wantIn)
			assert.Contains(t, err.Error(), "at byte")
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  []Flag
	}{
		{"empty", nil, []Flag{}},
		{"double dash with =", []string{"--max-pods=250"},
			[]Flag{{Name: "max-pods", Value: "250", HasValue: true, Raw: "--max-pods=250"}}},
		{"single dash with =", []string{"-v=2"},
			[]Flag{{Name: "v", Value: "2", HasValue: true, Raw: "-v=2"}}},
		{"separate value", []string{"--audit-log-maxage", "30"},
			[]Flag{{Name: "audit-log-maxage", Value: "30", HasValue: true, Raw: "--audit-log-maxage 30"}}},
		{"single dash separate value", []string{"-v", "4"},
			[]Flag{{Name: "v", Value: "4", HasValue: true, Raw: "-v 4"}}},
		{"bare boolean", []string{"--profiling"},
			[]Flag{{Name: "profiling", Raw: "--profiling"}}},
		{"bare boolean followed by a flag", []string{"--profiling", "--v=1"},
			[]Flag{{Name: "profiling", Raw: "--profiling"}, {Name: "v", Value: "1", HasValue: true, Raw: "--v=1"}}},
		{"value with = and ,", []string{"--feature-gates=A=true,B=false"},
			[]Flag{{Name: "feature-gates", Value: "A=true,B=false", HasValue: true, Raw: "--feature-gates=A=true,B=false"}}},
		{"separate value with = and ,", []string{"--kube-reserved", "cpu=1,memory=2Gi"},
			[]Flag{{Name: "kube-reserved", Value: "cpu=1,memory=2Gi", HasValue: true, Raw: "--kube-reserved cpu=1,memory=2Gi"}}},
		{"empty value with =", []string{"--cgroup-root="},
			[]Flag{{Name: "cgroup-root", Value: "", HasValue: true, Raw: "--cgroup-root="}}},
		{"empty separate value", []string{"--cgroup-root", ""},
			[]Flag{{Name: "cgroup-root", Value: "", HasValue: true, Raw: "--cgroup-root ''"}}},
		{"value with spaces is quoted in Raw", []string{"--node-labels", "a=b c"},
			[]Flag{{Name: "node-labels", Value: "a=b c", HasValue: true, Raw: "--node-labels 'a=b c'"}}},
		{"value with single quote is quoted in Raw", []string{"--x", "it's"},
			[]Flag{{Name: "x", Value: "it's", HasValue: true, Raw: `--x 'it'\''s'`}}},
		{"negative integer value", []string{"--oom-score-adj", "-999"},
			[]Flag{{Name: "oom-score-adj", Value: "-999", HasValue: true, Raw: "--oom-score-adj -999"}}},
		{"negative decimal value", []string{"--x", "-0.5", "--y", "-.5", "--z", "-1e3"},
			[]Flag{
				{Name: "x", Value: "-0.5", HasValue: true, Raw: "--x -0.5"},
				{Name: "y", Value: "-.5", HasValue: true, Raw: "--y -.5"},
				{Name: "z", Value: "-1e3", HasValue: true, Raw: "--z -1e3"},
			}},
		{"negative number after flag with = is not its value", []string{"--a=1", "--b", "-2"},
			[]Flag{{Name: "a", Value: "1", HasValue: true, Raw: "--a=1"}, {Name: "b", Value: "-2", HasValue: true, Raw: "--b -2"}}},
		{"dash word that is not a number is a flag", []string{"--a", "-Inf"},
			[]Flag{{Name: "a", Raw: "--a"}, {Name: "Inf", Raw: "-Inf"}}},
		{"repetitions and order kept", []string{"--max-pods=1", "--b", "--max-pods", "2"},
			[]Flag{
				{Name: "max-pods", Value: "1", HasValue: true, Raw: "--max-pods=1"},
				{Name: "b", Raw: "--b"},
				{Name: "max-pods", Value: "2", HasValue: true, Raw: "--max-pods 2"},
			}},
		{"underscore and dot in names", []string{"--log_dir=/x", "--a.b"},
			[]Flag{{Name: "log_dir", Value: "/x", HasValue: true, Raw: "--log_dir=/x"}, {Name: "a.b", Raw: "--a.b"}}},
		{"value that looks like a flag after =", []string{"--a=--b"},
			[]Flag{{Name: "a", Value: "--b", HasValue: true, Raw: "--a=--b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.words)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		words     []string
		wantInput string
		wantIndex int
		wantIn    string
	}{
		{"stray word", []string{"foo"}, "foo", 0, "not a flag"},
		{"stray word after valued flag", []string{"--a=1", "b"}, "b", 1, "not a flag"},
		{"second word after separate value", []string{"--a", "1", "2"}, "2", 2, "not a flag"},
		{"stray empty word", []string{""}, "", 0, "not a flag"},
		{"lone double dash", []string{"--a=1", "--"}, "--", 1, "end of options"},
		{"lone dash", []string{"-"}, "-", 0, `"-" alone`},
		{"three dashes", []string{"---x"}, "---x", 0, "too many leading dashes"},
		{"three dashes with value", []string{"---x=1"}, "---x=1", 0, "too many leading dashes"},
		{"empty name with value", []string{"--=v"}, "--=v", 0, "empty flag name"},
		{"empty name single dash", []string{"-=v"}, "-=v", 0, "empty flag name"},
		{"name starting with punctuation", []string{"--.x"}, "--.x", 0, "invalid flag name"},
		{"name with space", []string{"--a b=c"}, "--a b=c", 0, "invalid flag name"},
		{"name with colon", []string{"--a:b"}, "--a:b", 0, "invalid flag name"},
		{"negative number without flag", []string{"-5"}, "-5", 0, "negative number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.words)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.wantInput, pe.Input)
			assert.Equal(t, tt.wantIndex, pe.Index)
			assert.Contains(t, pe.Reason, tt.wantIn)
			assert.Contains(t, err.Error(), "word")
		})
	}
}

func TestParseString(t *testing.T) {
	got, err := ParseString(`--kube-reserved=cpu=200m,memory=512Mi --kube-reserved-cgroup=/high ` +
		`--node-labels "a=b c"  --oom-score-adj -999 --fail-swap-on --v='3'`)
	require.NoError(t, err)
	assert.Equal(t, []Flag{
		{Name: "kube-reserved", Value: "cpu=200m,memory=512Mi", HasValue: true, Raw: "--kube-reserved=cpu=200m,memory=512Mi"},
		{Name: "kube-reserved-cgroup", Value: "/high", HasValue: true, Raw: "--kube-reserved-cgroup=/high"},
		{Name: "node-labels", Value: "a=b c", HasValue: true, Raw: `--node-labels "a=b c"`},
		{Name: "oom-score-adj", Value: "-999", HasValue: true, Raw: "--oom-score-adj -999"},
		{Name: "fail-swap-on", Raw: "--fail-swap-on"},
		{Name: "v", Value: "3", HasValue: true, Raw: "--v='3'"},
	}, got)

	_, err = ParseString(`--a=1 "b c"`)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Index)
	assert.Equal(t, `"b c"`, pe.Input, "errors quote the word as written")

	_, err = ParseString(`--a="b`)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Index, "split errors carry a byte offset")
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name  string
		elems []string
		want  []Flag
	}{
		{"mke3 api server example",
			[]string{"--feature-gates=A=true,B=false", "--audit-log-maxage 30", "--profiling"},
			[]Flag{
				{Name: "feature-gates", Value: "A=true,B=false", HasValue: true, Raw: "--feature-gates=A=true,B=false"},
				{Name: "audit-log-maxage", Value: "30", HasValue: true, Raw: "--audit-log-maxage 30"},
				{Name: "profiling", Raw: "--profiling"},
			}},
		{"value in next element", []string{"--k", "v"},
			[]Flag{{Name: "k", Value: "v", HasValue: true, Raw: "--k v"}}},
		{"value in same element", []string{"--k v"},
			[]Flag{{Name: "k", Value: "v", HasValue: true, Raw: "--k v"}}},
		{"whole element keeps spaces and quotes", []string{`--node-labels=a=b c`, `--x="q"`},
			[]Flag{
				{Name: "node-labels", Value: "a=b c", HasValue: true, Raw: "--node-labels=a=b c"},
				{Name: "x", Value: `"q"`, HasValue: true, Raw: `--x="q"`},
			}},
		{"whole element is trimmed", []string{"  --a=1  "},
			[]Flag{{Name: "a", Value: "1", HasValue: true, Raw: "--a=1"}}},
		{"single dash whole element", []string{"-v=2"},
			[]Flag{{Name: "v", Value: "2", HasValue: true, Raw: "-v=2"}}},
		{"quoted value in separate element", []string{"--k", `"a b"`},
			[]Flag{{Name: "k", Value: "a b", HasValue: true, Raw: `--k "a b"`}}},
		{"negative number in next element", []string{"--oom-score-adj", "-999"},
			[]Flag{{Name: "oom-score-adj", Value: "-999", HasValue: true, Raw: "--oom-score-adj -999"}}},
		{"name with space is split, not taken whole", []string{"--a b=c"},
			[]Flag{{Name: "a", Value: "b=c", HasValue: true, Raw: "--a b=c"}}},
		{"bare flag then whole flag", []string{"--a", "--b=1"},
			[]Flag{{Name: "a", Raw: "--a"}, {Name: "b", Value: "1", HasValue: true, Raw: "--b=1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList(tt.elems)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name      string
		elems     []string
		wantIndex int
		wantIn    string
	}{
		{"stray element", []string{"--a=1", "b"}, 1, "not a flag"},
		{"two values", []string{"--a", "b c"}, 1, "not a flag"},
		{"unterminated quote", []string{"--a=1", `--b "x`}, 1, "unterminated double quote"},
		{"empty element", []string{"--a=1", ""}, 1, "empty element"},
		{"blank element", []string{"  "}, 0, "empty element"},
		{"lone double dash", []string{"--"}, 0, "end of options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseList(tt.elems)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.wantIndex, pe.Index)
			assert.Equal(t, tt.elems[tt.wantIndex], pe.Input)
			assert.Contains(t, pe.Reason, tt.wantIn)
			assert.Contains(t, err.Error(), "list element")
		})
	}
}

func TestErrorIsMatchable(t *testing.T) {
	_, err := Parse([]string{"oops"})
	var pe *Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, `flagparse: word 0 "oops": not a flag and not the value of a preceding flag; `+
		`write flags as --name=value or --name value, and quote values that contain spaces`, err.Error())
}

func TestIsNegativeNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"-1": true, "-999": true, "-0.5": true, "-.5": true, "-1e3": true, "-1e999": true,
		"-": false, "-.": false, "-a": false, "-Inf": false, "-NaN": false, "-1a": false, "1": false, "--1": false,
	} {
		assert.Equal(t, want, isNegativeNumber(s), s)
	}
}

// FuzzParseString checks that parsing never panics and that the Raw text of
// every flag parses back to the same flag, which proves Raw is faithful.
func FuzzParseString(f *testing.F) {
	for _, s := range []string{
		"",
		"--kube-reserved=cpu=200m,memory=512Mi --kube-reserved-cgroup=/high",
		`--node-labels "a=b c" --oom-score-adj -999 --fail-swap-on`,
		`--eviction-hard='memory.available<100Mi,nodefs.available<10%' -v 2`,
		"--a \\\n  --b=\"x\\\"y\" 'z'",
		"--feature-gates=A=true,B=false --profiling --audit-log-maxage 30",
		`--x "unterminated`,
		"--=v ---x -- - stray",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// With boolean flags known, the parse either fails with an *Error
		// or yields no bare boolean that holds a value.
		if bf, err := ParseStringBools(s, func(n string) bool { return n == "profiling" || n == "fail-swap-on" }); err == nil {
			for _, fl := range bf {
				if (fl.Name == "profiling" || fl.Name == "fail-swap-on") && !fl.HasValue && fl.Value != "" {
					t.Fatalf("bare boolean took a value: %#v", fl)
				}
			}
		} else if !errors.As(err, new(*Error)) {
			t.Fatalf("error is not *Error: %v", err)
		}
		flags, err := ParseString(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not *Error: %v", err)
			}
			if pe.Reason == "" || pe.Error() == "" {
				t.Fatalf("empty reason: %#v", pe)
			}
			return
		}
		raws := make([]string, len(flags))
		for i, fl := range flags {
			if !validName(fl.Name) {
				t.Fatalf("invalid name %q from %q", fl.Name, s)
			}
			if !fl.HasValue && fl.Value != "" {
				t.Fatalf("value without HasValue: %#v", fl)
			}
			raws[i] = fl.Raw
		}
		again, err := ParseString(strings.Join(raws, " "))
		if err != nil {
			t.Fatalf("Raw does not parse back: %v (input %q)", err, s)
		}
		if len(again) != len(flags) {
			t.Fatalf("Raw parses back to %d flags, want %d (input %q)", len(again), len(flags), s)
		}
		for i := range flags {
			if again[i] != flags[i] {
				t.Fatalf("flag %d: Raw parses back to %#v, want %#v", i, again[i], flags[i])
			}
		}
	})
}

// ScanListLenient hands over each flag once no later element can change
// it: a flag whose value is the next element comes with that value, and
// one whose value element turns out bad comes without it.
func TestScanListLenientHandsOverFinalFlags(t *testing.T) {
	for _, tc := range []struct {
		elems []string
		want  []string // Raw=Value of each flag handed over
		bad   []int    // indexes of the elements left out
	}{
		{[]string{"--a", "1", "--b=2", "bad", "--c", "--d 4"}, []string{"--a 1=1", "--b=2=2", "--c=", "--d 4=4"}, []int{3}},
		{[]string{"--a", "1 ---b", "--c", "2"}, []string{"--a=", "--c 2=2"}, []int{1}},
		{[]string{"--a"}, []string{"--a="}, nil},
		{nil, nil, nil},
	} {
		var got []string
		errs := ScanListLenient(tc.elems, nil, func(f Flag) { got = append(got, f.Raw+"="+f.Value) })
		var bad []int
		for _, e := range errs {
			bad = append(bad, e.Index)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || fmt.Sprint(bad) != fmt.Sprint(tc.bad) {
			t.Errorf("%q: flags %q, bad elements %v; want %q, %v", tc.elems, got, bad, tc.want, tc.bad)
		}
	}
}
