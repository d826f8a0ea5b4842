package filterpattern

import (
	"bytes"
	"regexp"
	"strconv"
)

// op is a comparison operator.
type op uint8

const (
	opEq op = iota + 1
	opNe
	opLt
	opLe
	opGt
	opGe
)

var opNames = [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}

func (o op) String() string { return opNames[o] }

// op reads a comparison operator; '==' is rejected rather than guessed.
func (l *lexer) op() (op, error) {
	start := l.pos
	switch {
	case l.hasPrefix("!="):
		l.pos += 2
		return opNe, nil
	case l.hasPrefix("<="):
		l.pos += 2
		return opLe, nil
	case l.hasPrefix(">="):
		l.pos += 2
		return opGe, nil
	case l.hasPrefix("=="):
		return 0, l.errf(start, "'==' is not an operator, use '='")
	case l.hasPrefix("="):
		l.pos++
		return opEq, nil
	case l.hasPrefix("<"):
		l.pos++
		return opLt, nil
	case l.hasPrefix(">"):
		l.pos++
		return opGt, nil
	}
	return 0, l.errf(start, "expected a comparison operator (=, !=, <, <=, >, >=), found %s", l.describe(start))
}

// literal is the right-hand side of a comparison.
type literal struct {
	text  string // unescaped string, or the number as written
	any   bool   // the lone wildcard: any value
	glob  *glob  // set when text has wildcards
	re    *regexp.Regexp
	isNum bool // written as a bare number
	num   float64
	isInt bool // isNum and an integer that fits int64
	i     int64
}

// maxRegexes is AWS's limit of regular expressions per filter pattern.
const maxRegexes = 2

// value reads a literal: "quoted" (with \" \\ and \* escapes; other
// backslashes stay), %regex%, or a bare word that ends at whitespace or at
// a byte for which stop is true. Unescaped * is a wildcard.
func (l *lexer) value(stop func(byte) bool) (literal, error) {
	start := l.pos
	switch l.peek() {
	case '"':
		return l.quotedValue()
	case '%':
		re, err := l.regex()
		return literal{re: re}, err
	}
	for l.pos < len(l.src) && !isSpace(l.src[l.pos]) && !stop(l.src[l.pos]) {
		l.pos++
	}
	text := l.src[start:l.pos]
	if text == "" {
		return literal{}, l.errf(start, "expected a value, found %s", l.describe(start))
	}
	v := literal{text: text}
	if text == "*" {
		v.any = true
		return v, nil
	}
	if isNumber(text) {
		v.isNum = true
		v.num, _ = strconv.ParseFloat(text, 64)
		if i, err := strconv.ParseInt(trimPlus(text), 10, 64); err == nil {
			v.isInt, v.i = true, i
		}
		return v, nil
	}
	if bytes.IndexByte([]byte(text), '*') >= 0 {
		v.glob = newGlob(bytes.Split([]byte(text), []byte{'*'}))
	}
	return v, nil
}

func trimPlus(s string) string {
	if len(s) > 0 && s[0] == '+' {
		return s[1:]
	}
	return s
}

func (l *lexer) quotedValue() (literal, error) {
	open := l.pos
	l.pos++
	var cur []byte
	var parts [][]byte
	for {
		if l.pos >= len(l.src) {
			return literal{}, l.errf(open, "unterminated quoted string")
		}
		c := l.src[l.pos]
		l.pos++
		switch {
		case c == '"':
			if parts == nil {
				return literal{text: string(cur)}, nil
			}
			parts = append(parts, cur)
			v := literal{text: string(bytes.Join(parts, []byte{'*'}))}
			if len(parts) == 2 && len(parts[0]) == 0 && len(parts[1]) == 0 {
				v.any = true
			} else {
				v.glob = newGlob(parts)
			}
			return v, nil
		case c == '*':
			parts = append(parts, cur)
			cur = nil
		case c == '\\' && l.pos < len(l.src) && (l.src[l.pos] == '"' || l.src[l.pos] == '\\' || l.src[l.pos] == '*'):
			cur = append(cur, l.src[l.pos])
			l.pos++
		default:
			cur = append(cur, c)
		}
	}
}

// regex reads %...% and compiles it. AWS accepts only a small character
// set (letters, digits, : _ # = @ / ; , - and the operators
// ^ $ ? [ ] { } | \ * + .), no groups and no multi-byte characters; we
// enforce the same set so a pattern that works here works there.
func (l *lexer) regex() (*regexp.Regexp, error) {
	open := l.pos
	l.pos++
	start := l.pos
	for l.pos < len(l.src) && l.src[l.pos] != '%' {
		c := l.src[l.pos]
		if !isNameByte(c) && !bytes.ContainsRune([]byte(":#=@/;,^$?[]{}|\\*+."), rune(c)) {
			return nil, l.errf(l.pos, "character %s is not allowed in a regular expression", l.describe(l.pos))
		}
		l.pos++
	}
	if l.pos >= len(l.src) {
		return nil, l.errf(open, "unterminated regular expression, expected a closing '%%'")
	}
	expr := l.src[start:l.pos]
	l.pos++
	if expr == "" {
		return nil, l.errf(open, "empty regular expression")
	}
	if l.regexes++; l.regexes > maxRegexes {
		return nil, l.errf(open, "more than %d regular expressions in one filter pattern", maxRegexes)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, l.errf(start, "bad regular expression: %v", err)
	}
	return re, nil
}

// isNumber reports whether s is a number as filter patterns write them:
// optional sign, digits with an optional fraction, optional exponent.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := i - d
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if intDigits == 0 && i == f {
			return false
		}
	} else if intDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}

// parseNum reads a message value as a number, if it is one.
func parseNum(b []byte) (f float64, i int64, isInt, ok bool) {
	if len(b) == 0 || len(b) > 64 || !isNumber(string(b)) {
		return 0, 0, false, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// Out of range still orders correctly as ±Inf or ±0.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0, false, false
		}
	}
	if n, err := strconv.ParseInt(trimPlus(string(b)), 10, 64); err == nil {
		return f, n, true, true
	}
	return f, 0, false, true
}

// compareNum applies o to a number from a message and the literal v.
// Integers are compared exactly, so 18-digit ids do not collide.
func (v *literal) compareNum(f float64, i int64, isInt bool, o op) bool {
	c := 0
	if isInt && v.isInt {
		switch {
		case i < v.i:
			c = -1
		case i > v.i:
			c = 1
		}
	} else {
		switch {
		case f < v.num:
			c = -1
		case f > v.num:
			c = 1
		case f != v.num: // NaN
			return o == opNe
		}
	}
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	}
	return false
}

// matchText reports whether text equals v (wildcards and regexes applied).
func (v *literal) matchText(text []byte) bool {
	switch {
	case v.any:
		return true
	case v.re != nil:
		return v.re.Match(text)
	case v.glob != nil:
		return v.glob.match(text)
	case v.isNum:
		if string(text) == v.text {
			return true
		}
		if f, i, isInt, ok := parseNum(text); ok {
			return v.compareNum(f, i, isInt, opEq)
		}
		return false
	}
	return string(text) == v.text
}

// compareText applies o to a textual message value: = and != by matchText,
// the ordering operators numerically (false when text is not a number).
func (v *literal) compareText(text []byte, o op) bool {
	switch o {
	case opEq:
		return v.matchText(text)
	case opNe:
		return !v.matchText(text)
	}
	f, i, isInt, ok := parseNum(text)
	return ok && v.compareNum(f, i, isInt, o)
}

// glob is a string with '*' wildcards, split at them.
type glob struct {
	parts [][]byte // at least two
	min   int      // bytes a match needs
}

func newGlob(parts [][]byte) *glob {
	g := &glob{parts: parts}
	for _, p := range parts {
		g.min += len(p)
	}
	return g
}

func (g *glob) match(s []byte) bool {
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < g.min || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := bytes.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
