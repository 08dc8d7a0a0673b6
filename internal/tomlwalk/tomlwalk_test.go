package tomlwalk_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/internal/tomlwalk"
)

// leaf is the expected rendering of one tomlwalk.Leaf.
type leaf struct {
	key       string
	line, col int
	value     any
}

func got(leaves []tomlwalk.Leaf) []leaf {
	out := make([]leaf, len(leaves))
	for i, l := range leaves {
		out[i] = leaf{key: l.Key(), line: l.Line, col: l.Column, value: l.Value}
	}
	return out
}

// leafCases are documents with every leaf they hold, in document order.
// They are reused by the faithfulness test and as fuzz seeds.
var leafCases = []struct {
	name string
	doc  string
	want []leaf
}{
	{
		name: "empty document",
		doc:  "",
		want: []leaf{},
	},
	{
		name: "only comments and blank lines",
		doc:  "# nothing here\n\n   # still nothing\n",
		want: []leaf{},
	},
	{
		name: "plain keys",
		doc:  "a = 1\nb = 'x'\n  c = true\n",
		want: []leaf{
			{"a", 1, 1, int64(1)},
			{"b", 2, 1, "x"},
			{"c", 3, 3, true},
		},
	},
	{
		name: "dotted keys",
		doc:  "a.b.c = 1\na.b.d = 2\nx . y = 3\n",
		want: []leaf{
			{"a.b.c", 1, 1, int64(1)},
			{"a.b.d", 2, 1, int64(2)},
			{"x.y", 3, 1, int64(3)},
		},
	},
	{
		name: "table",
		doc:  "top = 0\n[server]\nhost = \"h\"\n  port = 8080\n",
		want: []leaf{
			{"top", 1, 1, int64(0)},
			{"server.host", 3, 1, "h"},
			{"server.port", 4, 3, int64(8080)},
		},
	},
	{
		name: "sub-table after its parent",
		doc:  "[a]\nx = 1\n[a.b]\ny = 2\n[a.b.c]\nz = 3\n",
		want: []leaf{
			{"a.x", 2, 1, int64(1)},
			{"a.b.y", 4, 1, int64(2)},
			{"a.b.c.z", 6, 1, int64(3)},
		},
	},
	{
		name: "sub-table before its parent",
		doc:  "[a.b]\ny = 2\n[a]\nx = 1\n",
		want: []leaf{
			{"a.b.y", 2, 1, int64(2)},
			{"a.x", 4, 1, int64(1)},
		},
	},
	{
		name: "dotted key inside a table",
		doc:  "[t]\nu.v = 1\n",
		want: []leaf{{"t.u.v", 2, 1, int64(1)}},
	},
	{
		name: "array of tables twice",
		doc:  "[[t]]\nn = 1\n[[t]]\nn = 2\n",
		want: []leaf{
			{"t[0].n", 2, 1, int64(1)},
			{"t[1].n", 4, 1, int64(2)},
		},
	},
	{
		name: "nested array of tables and sub-table of the current element",
		doc:  "[[t]]\nn = 1\n[[t]]\nn = 2\n[[t.u]]\nm = 3\n[t.v]\nw = 4\n",
		want: []leaf{
			{"t[0].n", 2, 1, int64(1)},
			{"t[1].n", 4, 1, int64(2)},
			{"t[1].u[0].m", 6, 1, int64(3)},
			{"t[1].v.w", 8, 1, int64(4)},
		},
	},
	{
		name: "nested arrays of tables restart per parent element",
		doc:  "[[t]]\n[[t.u]]\na = 1\n[[t.u]]\na = 2\n[[t]]\n[[t.u]]\na = 3\n",
		want: []leaf{
			{"t[0].u[0].a", 3, 1, int64(1)},
			{"t[0].u[1].a", 5, 1, int64(2)},
			{"t[1].u[0].a", 8, 1, int64(3)},
		},
	},
	{
		name: "array of tables below a table",
		doc:  "[a]\nx = 1\n[[a.items]]\nk = \"p\"\n[[a.items]]\nk = \"q\"\n[a.items.sub]\ns = 1\n",
		want: []leaf{
			{"a.x", 2, 1, int64(1)},
			{"a.items[0].k", 4, 1, "p"},
			{"a.items[1].k", 6, 1, "q"},
			{"a.items[1].sub.s", 8, 1, int64(1)},
		},
	},
	{
		name: "same table name under different elements",
		doc:  "[[a]]\n[[a.b]]\n[[a]]\n[a.b]\nq = 1\n",
		want: []leaf{{"a[0].b[0]", 2, 3, map[string]any{}}, {"a[1].b.q", 5, 1, int64(1)}},
	},
	{
		name: "empty array-of-tables elements",
		doc:  "[[t]]\n[[t]]\nx = 1\n[[t]]\n",
		want: []leaf{{"t[0]", 1, 3, map[string]any{}}, {"t[1].x", 3, 1, int64(1)}, {"t[2]", 4, 3, map[string]any{}}},
	},
	{
		name: "inline table",
		doc:  "a = {b = 1, c = \"x\"}\n",
		want: []leaf{
			{"a.b", 1, 6, int64(1)},
			{"a.c", 1, 13, "x"},
		},
	},
	{
		name: "nested inline tables",
		doc:  "a = {b = {c = 1}, d.e = 2}\n",
		want: []leaf{
			{"a.b.c", 1, 11, int64(1)},
			{"a.d.e", 1, 19, int64(2)},
		},
	},
	{
		name: "dotted key holding an inline table",
		doc:  "x.y = {z = true}\n",
		want: []leaf{{"x.y.z", 1, 8, true}},
	},
	{
		name: "array of inline tables",
		doc:  "ports = [\n  {name = \"http\", port = 80},\n  {name = \"https\", port = 443},\n]\n",
		want: []leaf{
			{"ports[0].name", 2, 4, "http"},
			{"ports[0].port", 2, 19, int64(80)},
			{"ports[1].name", 3, 4, "https"},
			{"ports[1].port", 3, 20, int64(443)},
		},
	},
	{
		name: "inline tables in arrays in inline tables",
		doc:  "t = {terms = [{exprs = [{key = \"k\", values = [\"v\"]}]}]}\n",
		want: []leaf{
			{"t.terms[0].exprs[0].key", 1, 26, "k"},
			{"t.terms[0].exprs[0].values", 1, 37, []any{"v"}},
		},
	},
	{
		name: "array mixing tables and scalars",
		doc:  "a = [{}, 1, {c = 2}]\n",
		want: []leaf{
			{"a[0]", 1, 6, map[string]any{}},
			{"a[1]", 1, 10, int64(1)},
			{"a[2].c", 1, 14, int64(2)},
		},
	},
	{
		name: "tables inside nested arrays",
		doc:  "a = [[{b = 1}], [2, 3]]\n",
		want: []leaf{
			{"a[0][0].b", 1, 8, int64(1)},
			// An inner array is placed at its first element.
			{"a[1]", 1, 18, []any{int64(2), int64(3)}},
		},
	},
	{
		name: "tables inside nested arrays over several lines",
		doc:  "a = [\n  [{b = 1}],\n  [2, 3],\n  [],\n]\n",
		want: []leaf{
			{"a[0][0].b", 2, 5, int64(1)},
			{"a[1]", 3, 4, []any{int64(2), int64(3)}},
			// An empty inner array has no element: placed at the key.
			{"a[2]", 1, 1, []any{}},
		},
	},
	{
		name: "nested arrays of scalars are one leaf",
		doc:  "a = [[1, 2], [\"x\"], []]\n",
		want: []leaf{{"a", 1, 1, []any{[]any{int64(1), int64(2)}, []any{"x"}, []any{}}}},
	},
	{
		name: "array of scalars",
		doc:  "a = [1, 2, 3]\nb = [\n  \"x\", # comment\n  \"y\",\n]\n",
		want: []leaf{
			{"a", 1, 1, []any{int64(1), int64(2), int64(3)}},
			{"b", 2, 1, []any{"x", "y"}},
		},
	},
	{
		name: "empty arrays",
		doc:  "a = []\n[t]\nb = [ ]\nc = {d = []}\n",
		want: []leaf{
			{"a", 1, 1, []any{}},
			{"t.b", 3, 1, []any{}},
			{"t.c.d", 4, 6, []any{}},
		},
	},
	{
		name: "empty tables and empty inline tables",
		doc:  "[empty]\n[also.empty]\n[other]\nx = 1\ne = {}\nf = {g = {}}\n[[arr]]\n[parent]\n[parent.child]\ny = 2\n",
		want: []leaf{
			{"empty", 1, 2, map[string]any{}},
			{"also.empty", 2, 2, map[string]any{}},
			{"other.x", 4, 1, int64(1)},
			{"other.e", 5, 1, map[string]any{}},
			{"other.f.g", 6, 6, map[string]any{}},
			{"arr[0]", 7, 3, map[string]any{}},
			{"parent.child.y", 10, 1, int64(2)},
		},
	},
	{
		name: "quoted keys",
		doc: "\"x.y\" = 1\n" +
			"a.\"x.y\".value = 2\n" +
			"\"with space\" = 3\n" +
			"\"ключ\" = 4\n" +
			"'lit.key' = 5\n" +
			"\"\" = 6\n" +
			"\"quo\\\"te\" = 7\n" +
			"\"bare_ok\" = 8\n" +
			"1234 = 9\n" +
			"\"tab\\there\" = 10\n" +
			"\"back\\\\slash\" = 11\n",
		want: []leaf{
			{`"x.y"`, 1, 1, int64(1)},
			{`a."x.y".value`, 2, 1, int64(2)},
			{`"with space"`, 3, 1, int64(3)},
			{`"ключ"`, 4, 1, int64(4)},
			{`"lit.key"`, 5, 1, int64(5)},
			{`""`, 6, 1, int64(6)},
			{`"quo\"te"`, 7, 1, int64(7)},
			{"bare_ok", 8, 1, int64(8)},
			{"1234", 9, 1, int64(9)},
			{`"tab\there"`, 10, 1, int64(10)},
			{`"back\\slash"`, 11, 1, int64(11)},
		},
	},
	{
		name: "quoted table headers",
		doc:  "[\"a b\".'c.d']\nx = 1\n[[ \"arr[0]\" ]]\ny = 2\n",
		want: []leaf{
			{`"a b"."c.d".x`, 2, 1, int64(1)},
			{`"arr[0]"[0].y`, 4, 1, int64(2)},
		},
	},
	{
		name: "control characters in keys",
		doc:  "\"\\u0007bell\" = 1\n\"\\u000bvt\" = 2\n\"\\u0001\" = 3\n\"nl\\n\" = 4\n",
		want: []leaf{
			{`"\u0007bell"`, 1, 1, int64(1)},
			{`"\u000bvt"`, 2, 1, int64(2)},
			{`"\u0001"`, 3, 1, int64(3)},
			{`"nl\n"`, 4, 1, int64(4)},
		},
	},
	{
		name: "CRLF line endings",
		doc:  "a = 1\r\n\r\n[t]\r\n  b = \"x\"\r\nc = [\r\n  1,\r\n]\r\n",
		want: []leaf{
			{"a", 1, 1, int64(1)},
			{"t.b", 4, 3, "x"},
			{"t.c", 5, 1, []any{int64(1)}},
		},
	},
	{
		name: "comments everywhere",
		doc:  "# head\na = 1 # trailing\n# between\n[t] # on header\n  # indented\n  b = 2\n",
		want: []leaf{
			{"a", 2, 1, int64(1)},
			{"t.b", 6, 3, int64(2)},
		},
	},
	{
		name: "multi-line strings",
		doc:  "s = \"\"\"\nline1\nline2\"\"\"\nl = '''\nraw \\n\n'''\nnext = 1\n",
		want: []leaf{
			{"s", 1, 1, "line1\nline2"},
			{"l", 4, 1, "raw \\n\n"},
			{"next", 7, 1, int64(1)},
		},
	},
	{
		name: "multi-line string with a line-ending backslash",
		doc:  "[t]\n  s = \"\"\"\\\n    a \\\n    b\"\"\"\n  after = 2\n",
		want: []leaf{
			{"t.s", 2, 3, "a b"},
			{"t.after", 5, 3, int64(2)},
		},
	},
	{
		name: "values",
		doc: "i = -17\nh = 0xff\no = 0o17\nbn = 0b101\nu = 1_000\n" +
			"f = 3.5\ne = 1e3\ninf = inf\nneg = -inf\n" +
			"t = true\nfl = false\n" +
			"s = \"a\\tb\"\nlit = 'C:\\x'\n" +
			"d = 1979-05-27\nldt = 1979-05-27T07:32:00\nlt = 07:32:00\nodt = 1979-05-27T07:32:00Z\n",
		want: []leaf{
			{"i", 1, 1, int64(-17)},
			{"h", 2, 1, int64(255)},
			{"o", 3, 1, int64(15)},
			{"bn", 4, 1, int64(5)},
			{"u", 5, 1, int64(1000)},
			{"f", 6, 1, 3.5},
			{"e", 7, 1, 1000.0},
			{"inf", 8, 1, math.Inf(1)},
			{"neg", 9, 1, math.Inf(-1)},
			{"t", 10, 1, true},
			{"fl", 11, 1, false},
			{"s", 12, 1, "a\tb"},
			{"lit", 13, 1, `C:\x`},
			{"d", 14, 1, toml.LocalDate{Year: 1979, Month: 5, Day: 27}},
			{"ldt", 15, 1, toml.LocalDateTime{
				LocalDate: toml.LocalDate{Year: 1979, Month: 5, Day: 27},
				LocalTime: toml.LocalTime{Hour: 7, Minute: 32},
			}},
			{"lt", 16, 1, toml.LocalTime{Hour: 7, Minute: 32}},
			{"odt", 17, 1, time.Date(1979, 5, 27, 7, 32, 0, 0, time.UTC)},
		},
	},
	{
		name: "multi-byte characters before a key count as bytes",
		doc:  "a = {\"é\" = 1, b = 2}\n",
		want: []leaf{
			{`a."é"`, 1, 6, int64(1)},
			{"a.b", 1, 16, int64(2)},
		},
	},
}

func TestLeaves(t *testing.T) {
	for _, tc := range leafCases {
		t.Run(tc.name, func(t *testing.T) {
			leaves, err := tomlwalk.Leaves([]byte(tc.doc))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got(leaves))
		})
	}
}

func TestLeavesValueTypes(t *testing.T) {
	leaves, err := tomlwalk.Leaves([]byte("i = 1\nf = 1.0\nb = true\ns = \"s\"\nd = 2024-01-02\na = [1]\n"))
	require.NoError(t, err)
	require.Len(t, leaves, 6)
	assert.IsType(t, int64(0), leaves[0].Value)
	assert.IsType(t, float64(0), leaves[1].Value)
	assert.IsType(t, false, leaves[2].Value)
	assert.IsType(t, "", leaves[3].Value)
	assert.IsType(t, toml.LocalDate{}, leaves[4].Value)
	assert.IsType(t, []any{}, leaves[5].Value)
}

func TestLeavesNaN(t *testing.T) {
	leaves, err := tomlwalk.Leaves([]byte("n = nan\n"))
	require.NoError(t, err)
	require.Len(t, leaves, 1)
	f, ok := leaves[0].Value.(float64)
	require.True(t, ok, "value %T", leaves[0].Value)
	assert.True(t, math.IsNaN(f))
}

func TestLeavesErrors(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		line, col int
		msg       string
	}{
		{"duplicate key", "a = 1\na = 2\n", 2, 1, "already defined"},
		{"duplicate dotted key", "x = 0\na.b = 1\na.b = 2\n", 3, 1, "already defined"},
		{"duplicate key in a table", "[t]\nk = 1\nk = 2\n", 3, 1, "already defined"},
		// go-toml reports this one at the start of the line.
		{"duplicate key in an inline table", "a = {b = 1, b = 2}\n", 1, 1, "already defined"},
		{"extending an inline table", "a = {b = 1}\na.c = 2\n", 2, 1, "already defined"},
		{"table redefinition", "[a]\nx = 1\n[a]\n", 3, 2, "already exists"},
		{"value redefined as a table", "a = 1\n[a]\n", 2, 2, "should be a table"},
		{"array of tables redefined as a table", "[[t]]\n[t]\n", 2, 2, "array of tables"},
		{"static array extended as array of tables", "a = []\n[[a]]\n", 2, 3, "array table"},
		{"missing value", "a = \n", 1, 5, "start of value"},
		{"missing equals", "a b = 1\n", 1, 3, "expected '='"},
		{"missing key", "= 1\n", 1, 1, "start of key"},
		{"bad keyword", "x = 1\ny = tru\n", 2, 5, `"true"`},
		{"two pairs on a line", "a = 1 b = 2\n", 1, 7, "expected newline"},
		{"unclosed table header", "[a\n", 1, 3, "expected ']'"},
		{"unclosed array", "a = [1, 2\n", 1, 10, "array is incomplete"},
		{"unclosed inline table", "a = {b = 1\n", 1, 11, "inline table is incomplete"},
		{"unterminated string at line end", "a = \"abc\n", 1, 9, "new lines"},
		{"unterminated string at end of input", "a = \"abc", 1, 8, "unterminated basic string"},
		{"unterminated literal string", "a = 'abc\n", 1, 9, "new lines"},
		{"unterminated multi-line string", "x = 1\na = \"\"\"abc\n", 2, 11, "not terminated"},
		{"integer overflow", "a = 99999999999999999999\n", 1, 5, "too large"},
		{"impossible date", "a = 1979-13-27\n", 1, 10, "impossible date"},
		{"CRLF lines are counted", "\r\na = 1\r\na = 2\r\n", 3, 1, "already defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaves, err := tomlwalk.Leaves([]byte(tc.doc))
			require.Error(t, err)
			assert.Nil(t, leaves)
			var se *tomlwalk.SyntaxError
			require.True(t, errors.As(err, &se), "error %T is not a *SyntaxError", err)
			assert.Equal(t, tc.line, se.Line, "line")
			assert.Equal(t, tc.col, se.Column, "column")
			assert.Contains(t, se.Msg, tc.msg)
			assert.NotContains(t, se.Msg, "toml: ")
			assert.NotEmpty(t, se.Context)
			assert.Equal(t, fmt.Sprintf("line %d, column %d: %s", tc.line, tc.col, se.Msg), se.Error())
		})
	}
}

func TestPathRendering(t *testing.T) {
	key := func(k string) tomlwalk.Elem { return tomlwalk.Elem{Key: k, Index: -1} }
	idx := func(i int) tomlwalk.Elem { return tomlwalk.Elem{Index: i} }
	tests := []struct {
		name    string
		path    tomlwalk.Path
		str     string
		pattern string
		keys    []string
	}{
		{"empty", nil, "", "", []string{}},
		{"one key", tomlwalk.Path{key("a")}, "a", "a", []string{"a"}},
		{
			"project path",
			tomlwalk.Path{key("cluster_config"), key("ingress_controller"), key("ingress_exposed_ports"), idx(0), key("node_port")},
			"cluster_config.ingress_controller.ingress_exposed_ports[0].node_port",
			"cluster_config.ingress_controller.ingress_exposed_ports[].node_port",
			[]string{"cluster_config", "ingress_controller", "ingress_exposed_ports", "node_port"},
		},
		{
			"quoted key",
			tomlwalk.Path{key("a"), key("x.y"), key("value")},
			`a."x.y".value`, `a."x.y".value`,
			[]string{"a", "x.y", "value"},
		},
		{
			"nested indices",
			tomlwalk.Path{key("t"), idx(12), key("u"), idx(3), idx(4)},
			"t[12].u[3][4]", "t[].u[][]",
			[]string{"t", "u"},
		},
		{
			"key that looks like an index",
			tomlwalk.Path{key("[0]"), idx(1)},
			`"[0]"[1]`, `"[0]"[]`,
			[]string{"[0]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.str, tc.path.String())
			assert.Equal(t, tc.pattern, tc.path.Pattern())
			assert.Equal(t, tc.keys, tc.path.Keys())
			assert.Equal(t, tc.str, tomlwalk.Leaf{Path: tc.path}.Key())
		})
	}
}

func TestQuoteKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"with-dash_and_underscore09", "with-dash_and_underscore09"},
		{"ALLCAPS", "ALLCAPS"},
		{"", `""`},
		{"a.b", `"a.b"`},
		{"a b", `"a b"`},
		{"ключ", `"ключ"`},
		{"é", `"é"`},
		{`q"uote`, `"q\"uote"`},
		{`back\slash`, `"back\\slash"`},
		{"tab\t", `"tab\t"`},
		{"nl\n", `"nl\n"`},
		{"cr\r", `"cr\r"`},
		{"bell\a", `"bell\u0007"`},
		{"vt\v", `"vt\u000b"`},
		{"del\x7f", `"del\u007f"`},
		{"[0]", `"[0]"`},
		{"a=b", `"a=b"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			q := tomlwalk.QuoteKey(tc.in)
			assert.Equal(t, tc.want, q)
			// Whatever the rendering, TOML must read it back as the same key.
			var m map[string]any
			require.NoError(t, toml.Unmarshal([]byte(q+" = 1\n"), &m))
			assert.Equal(t, map[string]any{tc.in: int64(1)}, m)
		})
	}
}

// parseRendered reads a rendered path back: TOML keys (bare or quoted,
// decoded by go-toml itself) separated by dots, and [n] indices.
func parseRendered(s string) (tomlwalk.Path, error) {
	var p tomlwalk.Path
	i := 0
	needKey := true // at the start or after a dot
	for i < len(s) {
		switch c := s[i]; {
		case c == '[' && !needKey:
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed index at %d", i)
			}
			n, err := strconv.Atoi(s[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad index %q", s[i:i+j+1])
			}
			p = append(p, tomlwalk.Elem{Index: n})
			i += j + 1
		case c == '.' && !needKey:
			needKey = true
			i++
			if i == len(s) {
				return nil, fmt.Errorf("trailing dot")
			}
			continue
		case needKey:
			j := i
			if c == '"' {
				j++
				for j < len(s) && s[j] != '"' {
					if s[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quoted key at %d", i)
				}
				j++
			} else {
				for j < len(s) && s[j] != '.' && s[j] != '[' {
					j++
				}
			}
			// Let TOML decode the key, so that only valid TOML keys pass.
			var m map[string]any
			if err := toml.Unmarshal([]byte(s[i:j]+" = 0\n"), &m); err != nil {
				return nil, fmt.Errorf("key %q: %w", s[i:j], err)
			}
			if len(m) != 1 {
				return nil, fmt.Errorf("key %q is not a simple key", s[i:j])
			}
			for k := range m {
				p = append(p, tomlwalk.Elem{Key: k, Index: -1})
			}
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
		needKey = false
	}
	if needKey {
		return nil, fmt.Errorf("empty path")
	}
	return p, nil
}

// find walks a decoded document along p.
func find(doc map[string]any, p tomlwalk.Path) (any, bool) {
	var cur any = doc
	for _, e := range p {
		switch c := cur.(type) {
		case map[string]any:
			if e.Index >= 0 {
				return nil, false
			}
			v, ok := c[e.Key]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			if e.Index < 0 || e.Index >= len(c) {
				return nil, false
			}
			cur = c[e.Index]
		default:
			return nil, false
		}
	}
	return cur, true
}

// checkFaithful checks that each leaf's rendered path, read back as TOML
// keys and indices, names the leaf's own path and value in the decoded
// document, and that a path without indices is itself a valid TOML dotted
// key for the same place.
func checkFaithful(t testing.TB, data []byte, leaves []tomlwalk.Leaf) {
	t.Helper()
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("Leaves succeeded but toml.Unmarshal failed: %v", err)
	}
	for _, l := range leaves {
		s := l.Key()
		p, err := parseRendered(s)
		if err != nil {
			t.Errorf("%q does not read back: %v", s, err)
			continue
		}
		if !assert.Equal(t, l.Path, p, "path %q", s) {
			continue
		}
		v, ok := find(doc, p)
		if !ok {
			t.Errorf("%q is not in the decoded document", s)
			continue
		}
		if f, isFloat := v.(float64); !isFloat || !math.IsNaN(f) {
			assert.Equal(t, v, l.Value, "value of %q", s)
		}
		if len(l.Path.Keys()) != len(l.Path) {
			continue // indices are not TOML key syntax
		}
		var probe map[string]any
		if err := toml.Unmarshal([]byte(s+" = \"probe\"\n"), &probe); err != nil {
			t.Errorf("%q is not a TOML key: %v", s, err)
			continue
		}
		pv, ok := find(probe, l.Path)
		assert.True(t, ok && pv == "probe", "%q as a TOML key does not name %v", s, l.Path)
	}
}

func TestRenderingIsFaithful(t *testing.T) {
	docs := map[string][]byte{}
	for _, tc := range leafCases {
		docs[tc.name] = []byte(tc.doc)
	}
	files, err := filepath.Glob("../../convert/testdata/*.toml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		docs[f] = data
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			leaves, err := tomlwalk.Leaves(data)
			require.NoError(t, err)
			checkFaithful(t, data, leaves)
		})
	}
}

func TestProjectSample(t *testing.T) {
	data, err := os.ReadFile("../../convert/testdata/mke3-all-keys.toml")
	require.NoError(t, err)
	leaves, err := tomlwalk.Leaves(data)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, toml.Unmarshal(data, &doc))
	assert.Equal(t, countLeaves(doc), len(leaves))

	byKey := map[string]tomlwalk.Leaf{}
	lines := strings.Split(string(data), "\n")
	prevLine, prevCol := 0, 0
	for _, l := range leaves {
		_, dup := byKey[l.Key()]
		assert.False(t, dup, "%s listed twice", l.Key())
		byKey[l.Key()] = l
		assert.True(t, l.Line > prevLine || l.Line == prevLine && l.Column > prevCol,
			"%s at %d:%d comes after %d:%d", l.Key(), l.Line, l.Column, prevLine, prevCol)
		prevLine, prevCol = l.Line, l.Column
		require.LessOrEqual(t, l.Line, len(lines))
		text := lines[l.Line-1]
		require.Greater(t, len(text), l.Column-1)
		atKey := false
		for _, k := range l.Path.Keys() {
			atKey = atKey || strings.HasPrefix(text[l.Column-1:], tomlwalk.QuoteKey(k))
		}
		assert.True(t, atKey, "%s: line %d column %d is not at a key: %q", l.Key(), l.Line, l.Column, text)
	}
	l, ok := byKey["hardening_configuration.hardening_enabled"]
	require.True(t, ok)
	assert.Equal(t, 5, l.Line)
	assert.Equal(t, 3, l.Column)
	assert.Equal(t, true, l.Value)

	l, ok = byKey["auth.external_identity_provider.signInCriteria[0].term"]
	require.True(t, ok)
	assert.Equal(t, "groups", l.Value)
	assert.Equal(t, "auth.external_identity_provider.signInCriteria[].term", l.Path.Pattern())
}

// countLeaves counts the leaves of a decoded document independently of
// tomlwalk: scalars and arrays without tables count 1, arrays holding
// tables (at any depth) are descended element by element, and empty tables
// count 1 (the document itself, when empty, counts 0).
func countLeaves(doc map[string]any) int {
	n := 0
	for _, e := range doc {
		n += countValue(e)
	}
	return n
}

func countValue(v any) int {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return 1
		}
		n := 0
		for _, e := range x {
			n += countValue(e)
		}
		return n
	case []map[string]any:
		n := 0
		for _, e := range x {
			n += countValue(e)
		}
		return n
	case []any:
		if !holdsTable(x) {
			return 1
		}
		n := 0
		for _, e := range x {
			n += countValue(e)
		}
		return n
	default:
		return 1
	}
}

func holdsTable(a []any) bool {
	for _, e := range a {
		switch x := e.(type) {
		case map[string]any:
			return true
		case []any:
			if holdsTable(x) {
				return true
			}
		}
	}
	return false
}

func FuzzLeaves(f *testing.F) {
	for _, tc := range leafCases {
		f.Add([]byte(tc.doc))
	}
	for _, s := range []string{
		"a = 1\na = 2\n",
		"[a]\n[a]\n",
		"a = \"abc\n",
		"[[x.y]]\n[x]\n[[x.y]]\nz = [{q = 1}]\n",
	} {
		f.Add([]byte(s))
	}
	files, err := filepath.Glob("../../convert/testdata/*.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		leaves, err := tomlwalk.Leaves(data)
		if err != nil {
			var se *tomlwalk.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			if se.Line < 1 || se.Column < 1 {
				t.Fatalf("error at line %d, column %d: %v", se.Line, se.Column, err)
			}
			return
		}
		var doc map[string]any
		if err := toml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("Leaves succeeded but toml.Unmarshal failed: %v", err)
		}
		if want := countLeaves(doc); len(leaves) != want {
			t.Fatalf("%d leaves, the decoded document has %d", len(leaves), want)
		}
		nlines := strings.Count(string(data), "\n") + 1
		for _, l := range leaves {
			if l.Line < 1 || l.Line > nlines || l.Column < 1 {
				t.Fatalf("%s at line %d, column %d", l.Key(), l.Line, l.Column)
			}
		}
		checkFaithful(t, data, leaves)
	})
}

func TestLeavesDepthLimit(t *testing.T) {
	deep := "a = " + strings.Repeat("[", tomlwalk.MaxDepth+5) + "{b = 1}" + strings.Repeat("]", tomlwalk.MaxDepth+5) + "\n"
	_, err := tomlwalk.Leaves([]byte("x = 1\n" + deep))
	var se *tomlwalk.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 2, se.Line)
	assert.Contains(t, se.Msg, "nest deeper than")

	ok := "a = " + strings.Repeat("[", 10) + "{b = 1}" + strings.Repeat("]", 10) + "\n"
	ls, err := tomlwalk.Leaves([]byte(ok))
	require.NoError(t, err)
	require.Len(t, ls, 1)
}

func TestElemLines(t *testing.T) {
	ls, err := tomlwalk.Leaves([]byte("a = [\n  \"x\",\n\n  \"y\", [1],\n]\nb = [\"p\", \"q\"]\nc = 1\n"))
	require.NoError(t, err)
	require.Len(t, ls, 3)
	assert.Equal(t, []int32{2, 4, 0}, ls[0].ElemLines, "a nested array keeps no position")
	assert.Equal(t, []int32{6, 6}, ls[1].ElemLines)
	assert.Nil(t, ls[2].ElemLines)
}
