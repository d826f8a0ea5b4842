package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind is a lexical token class.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // field name or keyword (keywords are recognised by the parser)
	tQuoted           // `backtick` field name
	tString           // "..." or '...'
	tNumber           // 12, 1.5, 1e3
	tDuration         // 5m, 1h, 30s
	tRegex            // /.../
	tPunct            // | , ( ) [ ] : and operators
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tIdent:
		return "name"
	case tQuoted:
		return "quoted name"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tDuration:
		return "time period"
	case tRegex:
		return "regular expression"
	}
	return "symbol"
}

// token is one lexeme. Text is the decoded value (string contents without
// quotes and escapes, regex source without slashes); Pos and End are byte
// offsets of the raw lexeme in the query.
type token struct {
	Kind     tokKind
	Text     string
	Pos, End int
}

func (t token) describe() string {
	switch t.Kind {
	case tEOF:
		return "end of query"
	case tString:
		return fmt.Sprintf("string %q", t.Text)
	case tRegex:
		return "regular expression /" + t.Text + "/"
	}
	return fmt.Sprintf("%q", t.Text)
}

// durationUnits are the period units accepted after a number (A.1).
var durationUnits = map[string]bool{"ms": true, "s": true, "m": true, "h": true, "d": true, "w": true, "mo": true, "q": true, "y": true,
	"sec": true, "min": true, "hr": true, "day": true}

// regexAfter lists the keywords after which a '/' starts a regular
// expression rather than a division.
var regexAfter = map[string]bool{"like": true, "not": true, "and": true, "or": true, "in": true, "filter": true, "as": true, "by": true, "parse": true}

// lex splits the query into tokens. Comments (# to end of line, outside
// strings, regexes and backticks) are dropped. Whether '/' opens a regex is
// decided from the previous token: after an operand (name, number, string,
// ')' or ']') it is division, otherwise a regex; in a parse command the
// token after the parsed field may be a regex too.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// Skip whitespace and comments.
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				i++
				continue
			}
			if c == '#' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{Kind: tEOF, Pos: len(src), End: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case isIdentStart(c):
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			// A bare URL such as http://host/path after a comparison (B.3 #23,
			// an AWS sample) is read as a string literal up to whitespace.
			if strings.HasPrefix(src[i:], "://") {
				for i < len(src) && !isSpace(src[i]) && src[i] != '|' && src[i] != ')' {
					i++
				}
				toks = append(toks, token{Kind: tString, Text: src[start:i], Pos: start, End: i})
				continue
			}
			toks = append(toks, token{Kind: tIdent, Text: src[start:i], Pos: start, End: i})
		case c == '`':
			i++
			var b strings.Builder
			for {
				if i >= len(src) {
					return nil, errAt(src, start, len(src), "unterminated backtick name: expected a closing `")
				}
				if src[i] == '`' {
					if i+1 < len(src) && src[i+1] == '`' { // `` inside a name
						b.WriteByte('`')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			if b.Len() == 0 {
				return nil, errAt(src, start, i, "empty backtick name")
			}
			toks = append(toks, token{Kind: tQuoted, Text: b.String(), Pos: start, End: i})
		case c == '"' || c == '\'':
			q := c
			i++
			var b strings.Builder
			for {
				if i >= len(src) {
					return nil, errAt(src, start, len(src), "unterminated string: expected a closing "+string(q))
				}
				ch := src[i]
				if ch == q {
					i++
					break
				}
				if ch == '\\' && i+1 < len(src) {
					n := src[i+1]
					switch n {
					case '"', '\'', '\\':
						b.WriteByte(n)
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						// Unknown escapes are kept verbatim so that
						// regex-like text in strings survives.
						b.WriteByte('\\')
						b.WriteByte(n)
					}
					i += 2
					continue
				}
				b.WriteByte(ch)
				i++
			}
			toks = append(toks, token{Kind: tString, Text: b.String(), Pos: start, End: i})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && src[j] >= '0' && src[j] <= '9' {
					for j < len(src) && src[j] >= '0' && src[j] <= '9' {
						j++
					}
					i = j
				}
			}
			numEnd := i
			if i < len(src) && isLetter(src[i]) {
				for i < len(src) && isIdentChar(src[i]) {
					i++
				}
				unit := src[numEnd:i]
				if !durationUnits[strings.ToLower(unit)] || strings.ContainsAny(src[start:numEnd], ".eE") {
					return nil, errAt(src, start, i, fmt.Sprintf("invalid number or time period %q: expected digits, or a period such as 5m, 1h, 1d", src[start:i]))
				}
				toks = append(toks, token{Kind: tDuration, Text: src[start:i], Pos: start, End: i})
				continue
			}
			toks = append(toks, token{Kind: tNumber, Text: src[start:i], Pos: start, End: i})
		case c == '/' && regexAllowed(toks):
			i++
			var b strings.Builder
			for {
				if i >= len(src) {
					return nil, errAt(src, start, len(src), "unterminated regular expression: expected a closing /")
				}
				ch := src[i]
				if ch == '\\' && i+1 < len(src) && src[i+1] == '/' {
					b.WriteByte('/')
					i += 2
					continue
				}
				if ch == '\\' && i+1 < len(src) {
					b.WriteByte(ch)
					b.WriteByte(src[i+1])
					i += 2
					continue
				}
				if ch == '/' {
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			toks = append(toks, token{Kind: tRegex, Text: b.String(), Pos: start, End: i})
		default:
			op := ""
			for _, cand := range []string{"!=", "<=", ">=", "=~", "==", "<>"} {
				if strings.HasPrefix(src[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" {
				switch c {
				case '|', ',', '(', ')', '[', ']', ':', '=', '<', '>', '+', '-', '*', '/', '%', '^', '!':
					op = string(c)
				default:
					r, _ := utf8.DecodeRuneInString(src[i:])
					return nil, errAt(src, start, start+max(1, utf8.RuneLen(r)), fmt.Sprintf("unexpected character %q: field names with special characters must be written in backticks", r))
				}
			}
			i += len(op)
			toks = append(toks, token{Kind: tPunct, Text: op, Pos: start, End: i})
		}
	}
}

func regexAllowed(toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	p := toks[len(toks)-1]
	switch p.Kind {
	case tNumber, tString, tDuration, tRegex, tQuoted:
		// parse `field` /re/
		if p.Kind == tQuoted && len(toks) >= 2 && isWord(toks[len(toks)-2], "parse") {
			return true
		}
		return false
	case tIdent:
		if regexAfter[strings.ToLower(p.Text)] {
			return true
		}
		// parse @message /re/: the token before the field is "parse".
		if len(toks) >= 2 && isWord(toks[len(toks)-2], "parse") {
			return true
		}
		return false
	case tPunct:
		return p.Text != ")" && p.Text != "]"
	}
	return true
}

func isWord(t token, w string) bool { return t.Kind == tIdent && strings.EqualFold(t.Text, w) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isIdentStart(c byte) bool { return isLetter(c) || c == '_' || c == '@' }
func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}

// ParseError is a syntax or semantic error in a query, located by line and
// column (1-based, columns in bytes) and by byte offsets of the offending
// text, as MalformedQueryException's queryCompileError needs.
type ParseError struct {
	Line, Col   int
	StartOffset int
	EndOffset   int
	Msg         string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("query line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

func errAt(src string, pos, end int, msg string) *ParseError {
	if pos > len(src) {
		pos = len(src)
	}
	line, col := 1, 1
	for i := 0; i < pos; i++ {
		if src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	if end < pos {
		end = pos
	}
	return &ParseError{Line: line, Col: col, StartOffset: pos, EndOffset: end, Msg: msg}
}
