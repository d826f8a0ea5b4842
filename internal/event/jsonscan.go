package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/jsonstr"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// maxDepth bounds JSON nesting so that hostile input cannot exhaust the
// stack; it is the flattener's, so that a record this package decodes is
// one the query side also treats as JSON.
const maxDepth = scan.MaxDepth

// SyntaxError reports malformed JSON with the byte offset where the problem
// was found, so that ingest can print "file:line: byte N: reason".
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func synErr(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the offset just past the string that starts at b[i]
// (which must be '"') and whether it contains escapes. Raw control
// characters are rejected as RFC 8259 requires; UTF-8 validity is left to
// the decoder, which replaces bad bytes like encoding/json does.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, synErr(i, "unterminated string starting at byte %d", start)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false, synErr(i, "truncated \\u escape")
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, synErr(i, "bad \\u escape")
					}
				}
				i += 6
			default:
				return 0, false, synErr(i, "bad escape \\%c", b[i+1])
			}
		case c < 0x20:
			return 0, false, synErr(i, "control character 0x%02x in string", c)
		default:
			i++
		}
	}
	return 0, false, synErr(start, "unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber checks the RFC 8259 number grammar and returns the end offset.
func skipNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, synErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, synErr(start, "invalid number: no digits after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, synErr(start, "invalid number: no digits in exponent")
		}
	}
	return i, nil
}

// skipValue returns the end offset of the JSON value starting at b[i] (no
// leading whitespace). It validates structure fully, so a value it accepts is
// one encoding/json accepts (apart from invalid UTF-8, which both tolerate).
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, synErr(i, "unexpected end of input, expected a value")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{':
		if depth >= maxDepth {
			return 0, synErr(i, "nesting deeper than %d", maxDepth)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, synErr(i, "expected a string key")
			}
			end, _, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, synErr(i, "expected ':' after key")
			}
			i = skipWS(b, i+1)
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, synErr(i, "unterminated object")
			}
			if b[i] == '}' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, synErr(i, "expected ',' or '}' in object")
			}
			i = skipWS(b, i+1)
		}
	case c == '[':
		if depth >= maxDepth {
			return 0, synErr(i, "nesting deeper than %d", maxDepth)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, synErr(i, "unterminated array")
			}
			if b[i] == ']' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, synErr(i, "expected ',' or ']' in array")
			}
			i = skipWS(b, i+1)
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	default:
		return 0, synErr(i, "unexpected character %q", c)
	}
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, synErr(i, "invalid literal, expected %s", lit)
	}
	return i + len(lit), nil
}

// member is one key/value pair of an object as found by walkObject. Key is
// the raw key token without quotes (still escaped when Escaped is set); Val
// is the raw value token; Off is the byte offset of the key in the input.
type member struct {
	Key     []byte
	Escaped bool
	Val     []byte
	Off     int
}

// name returns the unescaped key.
func (m *member) name() string {
	s, _ := unquote(m.Key, m.Escaped)
	return s
}

// walkObject calls fn for each member of the JSON object b (surrounding
// whitespace allowed). fn may return errStop to end the walk early without
// error; the rest of the input is then not validated.
func walkObject(b []byte, fn func(m *member) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i = skipWS(b, i+1)
	var m member
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return synErr(i, "expected a string key")
			}
			end, esc, err := skipString(b, i)
			if err != nil {
				return err
			}
			m.Off = i
			m.Key, m.Escaped = b[i+1:end-1], esc
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return synErr(i, "expected ':' after key")
			}
			i = skipWS(b, i+1)
			vs := i
			if i, err = skipValue(b, i, 1); err != nil {
				return err
			}
			m.Val = b[vs:i]
			if err := fn(&m); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return synErr(i, "unterminated object")
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return synErr(i, "expected ',' or '}' in object")
			}
			i = skipWS(b, i+1)
		}
	}
	if i = skipWS(b, i); i != len(b) {
		return synErr(i, "unexpected data after the JSON object")
	}
	return nil
}

// walkArray calls fn with each element of the JSON array b.
func walkArray(b []byte, fn func(elem []byte, off int) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return synErr(i, "expected an array")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			vs := i
			var err error
			if i, err = skipValue(b, i, 1); err != nil {
				return err
			}
			if err := fn(b[vs:i], vs); err != nil {
				return err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return synErr(i, "unterminated array")
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return synErr(i, "expected ',' or ']' in array")
			}
			i = skipWS(b, i+1)
		}
	}
	if i = skipWS(b, i); i != len(b) {
		return synErr(i, "unexpected data after the JSON array")
	}
	return nil
}

// unquote decodes the inside of a JSON string token (quotes already
// stripped). The fast path copies; escapes and invalid UTF-8 go through
// encoding/json so the result matches it exactly (bad bytes become U+FFFD).
func unquote(inner []byte, escaped bool) (string, error) {
	if !escaped && utf8.Valid(inner) {
		return string(inner), nil
	}
	q := make([]byte, 0, len(inner)+2)
	q = append(append(append(q, '"'), inner...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", err
	}
	return s, nil
}

// stringValue decodes a raw JSON string token.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	esc := false
	for _, c := range inner {
		if c == '\\' {
			esc = true
			break
		}
	}
	s, err := unquote(inner, esc)
	return s, err == nil
}

// AppendString appends s as a JSON string, the way every record is written
// (the codec here, and gen's generator). Unlike encoding/json it leaves <,
// > and & alone: these records are logs, not HTML, and Message-IDs such as
// "<abc@example.com>" stay readable. Invalid UTF-8 becomes U+FFFD, and
// U+2028/U+2029 are escaped for JavaScript consumers.
func AppendString(b []byte, s string) []byte { return jsonstr.Append(b, s, false) }

// parseInt64 reads an integer from a JSON number token or, leniently, from
// a JSON string holding one (§1.2: event_timestamp may arrive as a numeric
// string). Integral floats such as 1.718e12 are accepted too.
func parseInt64(raw []byte) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	if raw[0] == '"' {
		s, ok := stringValue(raw)
		if !ok {
			return 0, false
		}
		raw = []byte(s)
		if len(raw) == 0 {
			return 0, false
		}
		if _, err := skipNumber(raw, 0); err != nil {
			return 0, false
		}
	}
	var n int64
	neg := false
	i := 0
	if raw[0] == '-' {
		neg = true
		i = 1
	}
	if i == len(raw) {
		return 0, false
	}
	for ; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return parseIntegralFloat(raw)
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func parseIntegralFloat(raw []byte) (int64, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int64(f)) || f > 1<<62 || f < -(1<<62) {
		return 0, false
	}
	return int64(f), true
}

// parseBool reads a JSON boolean or, leniently, the strings "true"/"false"
// (§1.2).
func parseBool(raw []byte) (v, ok bool) {
	switch string(raw) {
	case "true", `"true"`:
		return true, true
	case "false", `"false"`:
		return false, true
	}
	return false, false
}
