package flagparse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Flag is one parsed command-line flag.
type Flag struct {
	// Name is the flag name without leading dashes, e.g. "feature-gates".
	Name string
	// Value is the flag value; it is "" when HasValue is false.
	Value string
	// HasValue is false for a bare flag such as "--profiling", which
	// boolean flags read as true.
	HasValue bool
	// Raw is the flag as written, with its value, e.g. "--audit-log-maxage 30".
	// ParseString and ParseList keep the original text (quotes included);
	// Parse, which only sees words, joins them with a space and quotes words
	// that would otherwise be ambiguous. Raw is meant for messages.
	Raw string
}

// Error reports input that cannot be split or parsed.
type Error struct {
	// Input is the offending text: the word (Parse, ParseString) or the list
	// element (ParseList); for errors from Split, the whole string.
	Input string
	// Index is the 0-based position of Input among the words (Parse,
	// ParseString) or list elements (ParseList); for errors from Split, the
	// byte offset where the problem starts.
	Index int
	// Reason says what is wrong and how to fix it.
	Reason string

	unit unit // what Index counts; the zero value means words
}

// unit names what Error.Index counts, so that Error() reads naturally.
type unit int

const (
	unitWord unit = iota
	unitElement
	unitByte
)

// Error implements error.
func (e *Error) Error() string {
	switch e.unit {
	case unitElement:
		return fmt.Sprintf("flagparse: list element %d %q: %s", e.Index, e.Input, e.Reason)
	case unitByte:
		return fmt.Sprintf("flagparse: at byte %d of %q: %s", e.Index, e.Input, e.Reason)
	default:
		return fmt.Sprintf("flagparse: word %d %q: %s", e.Index, e.Input, e.Reason)
	}
}

// span is one word of a split string with the byte range it was read from.
type span struct {
	text       string
	start, end int
}

// Split splits one profile string into words like a POSIX shell would (single
// and double quotes, backslash escapes), without expansion. An unterminated
// quote or a trailing backslash is an *Error whose Index is a byte offset.
func Split(s string) ([]string, error) {
	spans, err := splitSpans(s)
	if err != nil {
		return nil, err
	}
	words := make([]string, len(spans))
	for i, sp := range spans {
		words[i] = sp.text
	}
	return words, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// splitSpans is Split that also records where each word came from, so that
// ParseString can report flags exactly as written.
func splitSpans(s string) ([]span, error) {
	var (
		spans  []span
		cur    []byte // the word's text, quotes and escapes removed
		inWord bool   // a word has started, even if it is still empty ('' or "")
		start  int
	)
	begin := func(i int) {
		if !inWord {
			inWord = true
			start = i
		}
	}
	flush := func(end int) {
		// A word written plainly is a substring of the input, not a copy:
		// a list of many flags keeps their names and values (issue 14, F13).
		text := s[start:end]
		if string(cur) != text {
			text = string(cur)
		}
		spans = append(spans, span{text: text, start: start, end: end})
		cur = cur[:0]
		inWord = false
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			if inWord {
				flush(i)
			}
			i++
		case c == '\\':
			if i+1 >= len(s) {
				return nil, &Error{Input: s, Index: i, unit: unitByte,
					Reason: "trailing backslash escapes nothing; remove it or write \\\\ for a literal backslash"}
			}
			if s[i+1] == '\n' {
				// Line continuation: removed entirely, as in a shell.
				i += 2
				continue
			}
			begin(i)
			cur = append(cur, s[i+1])
			i += 2
		case c == '\'':
			begin(i)
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, &Error{Input: s, Index: i, unit: unitByte,
					Reason: "unterminated single quote; close it with ' or escape it as \\'"}
			}
			cur = append(cur, s[i+1:i+1+end]...)
			i += end + 2
		case c == '"':
			begin(i)
			j := i + 1
			closed := false
			for j < len(s) {
				d := s[j]
				if d == '"' {
					closed = true
					j++
					break
				}
				if d == '\\' && j+1 < len(s) {
					switch s[j+1] {
					case '$', '`', '"', '\\':
						cur = append(cur, s[j+1])
						j += 2
						continue
					case '\n':
						j += 2
						continue
					}
				}
				cur = append(cur, d)
				j++
			}
			if !closed {
				return nil, &Error{Input: s, Index: i, unit: unitByte,
					Reason: "unterminated double quote; close it with \" or escape it as \\\""}
			}
			i = j
		default:
			begin(i)
			cur = append(cur, c)
			i++
		}
	}
	if inWord {
		flush(len(s))
	}
	return spans, nil
}

// word is a unit handed to the parser: its text, how it was written, and the
// position reported when it is wrong.
type word struct {
	text  string
	raw   string
	pos   int
	input string // text named in errors
	// whole marks a list element taken as one "--k=v" flag; it is always a
	// flag, never the value of the flag before it.
	whole bool
}

// Parse parses words into flags: "--k=v", "-k=v", "--k v" (the next word is
// the value when it does not start with "-", or when it is a negative number,
// see the package documentation), and bare "--k" (boolean). Values may contain
// '=' and ','. A word that is neither a flag nor the value of a preceding flag
// written without '=' is an *Error naming the word and its index, as are "--"
// and "-" alone, "---x", "--=v" and other invalid names. Order and repetitions
// are kept.
func Parse(words []string) ([]Flag, error) {
	ws := make([]word, len(words))
	for i, w := range words {
		ws[i] = word{text: w, raw: quoteForRaw(w), pos: i, input: w}
	}
	return parseWords(ws, unitWord, nil)
}

// ParseString splits s with Split and parses the words with Parse. Raw keeps
// each flag as written in s, quotes included.
func ParseString(s string) ([]Flag, error) {
	return ParseStringBools(s, nil)
}

// ParseStringBools is ParseString for a program whose boolean flags isBool
// names (nil: none); see ParseListBools.
func ParseStringBools(s string, isBool func(name string) bool) ([]Flag, error) {
	spans, err := splitSpans(s)
	if err != nil {
		return nil, err
	}
	ws := make([]word, len(spans))
	for i, sp := range spans {
		raw := s[sp.start:sp.end]
		ws[i] = word{text: sp.text, raw: raw, pos: i, input: raw}
	}
	return parseWords(ws, unitWord, isBool)
}

// ParseList parses a MKE 3 flag list. Each element is normally one flag. An
// element of the form "--k=v..." (or "-k=v...") is taken whole, without
// unquoting, so its value may contain spaces: that is how the component
// received it. Any other element is split with Split and its words parsed, so
// ["--k v"] and ["--k", "v"] both work. Errors name the element and its index.
func ParseList(elems []string) ([]Flag, error) {
	return ParseListBools(elems, nil)
}

// ParseListBools is ParseList for a program whose boolean flags isBool
// names (nil: none). Like Kubernetes' flag parser (pflag, where a boolean
// flag has NoOptDefVal "true"), a bare boolean flag never takes the next
// word as its value: ["--profiling", "false"] sets profiling to true and
// leaves "false" a stray argument, which is an *Error naming that element.
// Write "--profiling=false" instead.
func ParseListBools(elems []string, isBool func(name string) bool) ([]Flag, error) {
	var ws []word
	for i, e := range elems {
		var err *Error
		if ws, err = elementWords(i, e, ws); err != nil {
			return nil, err
		}
	}
	return parseWords(ws, unitElement, isBool)
}

// ParseListLenient is ParseListBools that leaves out each element it cannot
// parse and goes on, in one pass over the list: flags are what
// ParseListBools returns for the list without the elements of errs, and
// errs has one *Error per element left out (Index: its index in elems), in
// list order. Parsing again after each bad element would take time
// quadratic in the list's length.
func ParseListLenient(elems []string, isBool func(name string) bool) (flags []Flag, errs []*Error) {
	flags = make([]Flag, 0, len(elems))
	errs = ScanListLenient(elems, isBool, func(f Flag) { flags = append(flags, f) })
	return flags, errs
}

// ScanListLenient is ParseListLenient handing each flag to flag, in list
// order, as soon as no later element can change it, instead of returning
// them all: a list of hundreds of thousands of flags is never held whole
// (issue 14, F13). errs is what ParseListLenient returns.
func ScanListLenient(elems []string, isBool func(name string) bool, flag func(Flag)) (errs []*Error) {
	p := parser{u: unitElement, isBool: isBool, pending: -1}
	var scratch []word
	for i, e := range elems {
		ws, err := elementWords(i, e, scratch[:0])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scratch = ws
		m := p.mark()
		for _, w := range ws {
			if err := p.word(w); err != nil {
				var pe *Error
				errors.As(err, &pe)
				errs = append(errs, pe)
				p.reset(m)
				break
			}
		}
		p.commit(flag)
	}
	p.pending = -1
	p.commit(flag)
	return errs
}

// commit hands over the flags before the pending one (which the next
// element may still give a value, or take back) and forgets them.
func (p *parser) commit(flag func(Flag)) {
	n := len(p.flags)
	if p.pending >= 0 {
		n = p.pending
	}
	for _, f := range p.flags[:n] {
		flag(f)
	}
	k := copy(p.flags, p.flags[n:])
	clear(p.flags[k:])
	p.flags = p.flags[:k]
	if p.pending >= 0 {
		p.pending -= n
	}
}

// elementWords splits list element i into the words ParseList parses,
// appending them to buf.
func elementWords(i int, e string, buf []word) ([]word, *Error) {
	if t := strings.TrimSpace(e); isWholeFlag(t) {
		return append(buf, word{text: t, raw: t, pos: i, input: e, whole: true}), nil
	}
	spans, err := splitSpans(e)
	if err != nil {
		reason := err.Error()
		var pe *Error
		if errors.As(err, &pe) {
			reason = fmt.Sprintf("at byte %d: %s", pe.Index, pe.Reason)
		}
		return nil, &Error{Input: e, Index: i, unit: unitElement, Reason: reason}
	}
	if len(spans) == 0 {
		return nil, &Error{Input: e, Index: i, unit: unitElement,
			Reason: "empty element; remove it from the list"}
	}
	for _, sp := range spans {
		buf = append(buf, word{text: sp.text, raw: e[sp.start:sp.end], pos: i, input: e})
	}
	return buf, nil
}

// isWholeFlag reports whether a list element is "-name=value" with a valid
// name, which ParseList keeps as one word.
func isWholeFlag(s string) bool {
	if !strings.HasPrefix(s, "-") {
		return false
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return false
	}
	name := s[:eq]
	switch {
	case strings.HasPrefix(name, "---"):
		return false
	case strings.HasPrefix(name, "--"):
		name = name[2:]
	default:
		name = name[1:]
	}
	return validName(name)
}

func parseWords(ws []word, u unit, isBool func(string) bool) ([]Flag, error) {
	p := parser{u: u, isBool: isBool, flags: make([]Flag, 0, len(ws)), pending: -1}
	for _, w := range ws {
		if err := p.word(w); err != nil {
			return nil, err
		}
	}
	return p.flags, nil
}

// parser is the state of parseWords between two words, so that
// ParseListLenient can go back to the start of a bad element and go on.
type parser struct {
	u      unit
	isBool func(string) bool
	flags  []Flag
	// pending is the index in flags of a flag written without '=' that may
	// still take the next word as its value; -1 when there is none.
	pending int
	// bareBool is the bare boolean flag just before the current word, "" if
	// none: a word that is not a flag after it is a stray argument.
	bareBool string
}

// mark is what reset needs to undo the words parsed since.
type mark struct {
	n, pending  int
	bareBool    string
	pendingFlag Flag // flags[pending] as it was: the next word may be its value
}

func (p *parser) mark() mark {
	m := mark{n: len(p.flags), pending: p.pending, bareBool: p.bareBool}
	if p.pending >= 0 {
		m.pendingFlag = p.flags[p.pending]
	}
	return m
}

func (p *parser) reset(m mark) {
	p.flags, p.pending, p.bareBool = p.flags[:m.n], m.pending, m.bareBool
	if m.pending >= 0 {
		p.flags[m.pending] = m.pendingFlag
	}
}

// word parses the next word; an error is an *Error.
func (p *parser) word(w word) error {
	fail := func(w word, reason string) error {
		return &Error{Input: w.input, Index: w.pos, Reason: reason, unit: p.u}
	}
	t := w.text
	if p.pending >= 0 && !w.whole && (!strings.HasPrefix(t, "-") || isNegativeNumber(t)) {
		f := &p.flags[p.pending]
		f.Value, f.HasValue = t, true
		f.Raw += " " + w.raw
		p.pending = -1
		return nil
	}
	p.pending = -1
	if prev := p.bareBool; prev != "" && (!strings.HasPrefix(t, "-") || isNegativeNumber(t)) {
		return fail(w, fmt.Sprintf("stray argument: --%s is a boolean flag and takes no separate value "+
			"(Kubernetes' flag parser reads --%s alone as true and the component refuses stray arguments); "+
			"write --%s=%s", prev, prev, prev, t))
	}
	p.bareBool = ""
	if !strings.HasPrefix(t, "-") {
		return fail(w, "not a flag and not the value of a preceding flag; "+
			"write flags as --name=value or --name value, and quote values that contain spaces")
	}
	if isNegativeNumber(t) {
		return fail(w, "a negative number with no flag before it; "+
			"put it right after the flag it belongs to, or write --name=value")
	}
	var body string
	switch {
	case t == "-":
		return fail(w, `"-" alone is not a flag; remove it or attach a flag name to it`)
	case t == "--":
		return fail(w, `"--" (end of options) is not supported in flag lists; remove it`)
	case strings.HasPrefix(t, "---"):
		return fail(w, "too many leading dashes; write --name or -name")
	case strings.HasPrefix(t, "--"):
		body = t[2:]
	default:
		body = t[1:]
	}
	name, value, hasValue := strings.Cut(body, "=")
	if name == "" {
		return fail(w, "empty flag name; write --name=value")
	}
	if !validName(name) {
		return fail(w, fmt.Sprintf("invalid flag name %q; names start with a letter or digit "+
			"and contain only letters, digits, '-', '_' and '.'", name))
	}
	p.flags = append(p.flags, Flag{Name: name, Value: value, HasValue: hasValue, Raw: w.raw})
	switch {
	case hasValue:
	case p.isBool != nil && p.isBool(name):
		p.bareBool = name
	default:
		p.pending = len(p.flags) - 1
	}
	return nil
}

func validName(name string) bool {
	if name == "" || !isAlnum(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isNegativeNumber implements the documented rule for values such as "-999":
// '-', then a digit (or '.' and a digit), and strconv.ParseFloat must accept
// the whole word. The digit check keeps "-Inf" and "-NaN" out.
func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	if !isDigit(s[1]) && !(s[1] == '.' && len(s) > 2 && isDigit(s[2])) {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// quoteForRaw single-quotes a word when Split would not give it back as is,
// so that Raw built by Parse stays unambiguous.
func quoteForRaw(w string) string {
	if w == "" {
		return "''"
	}
	if !strings.ContainsAny(w, " \t\r\n'\"\\") {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
