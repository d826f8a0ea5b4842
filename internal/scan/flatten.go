package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// LeafKind is the JSON type of a flattened leaf.
type LeafKind uint8

const (
	LeafString LeafKind = iota + 1
	LeafNumber
	LeafTrue
	LeafFalse
	// LeafNull, LeafEmptyObject and LeafEmptyArray are reported only when
	// Flattener.Nulls is set: filter patterns must tell a null or an empty
	// container from an absent key (IS NULL, NOT EXISTS), Insights must not.
	LeafNull
	LeafEmptyObject
	LeafEmptyArray
)

// Leaf is one scalar found by Flatten. Raw and Str alias either the message
// or a scratch buffer and are valid only during the emit call.
type Leaf struct {
	Kind LeafKind
	Raw  []byte // the token as written in the message (strings keep quotes)
	Str  []byte // LeafString: the unescaped text
}

// Value converts the leaf to a Value with Insights typing: strings stay
// strings, integer literals that fit int64 become KindInt, other numbers
// KindFloat, and booleans the numbers 1 and 0.
func (l Leaf) Value() Value {
	switch l.Kind {
	case LeafString:
		return Str(string(l.Str))
	case LeafNumber:
		return NumberValue(l.Raw)
	case LeafTrue:
		return Int(1)
	case LeafFalse:
		return Int(0)
	}
	return Value{}
}

// NumberValue converts a JSON number literal to a Value.
func NumberValue(raw []byte) Value {
	if isIntLiteral(raw) {
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return Int(i)
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return Str(string(raw))
	}
	return Float(f)
}

func isIntLiteral(b []byte) bool {
	for i, c := range b {
		if c == '-' && i == 0 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// MaxDepth bounds JSON nesting; deeper messages are not treated as JSON.
const MaxDepth = 64

// DefaultMaxLeaves is how many leaves Flatten reports per message before it
// stops reporting (the rest of the message is still validated).
const DefaultMaxLeaves = 1000

// ErrNotObject is returned for messages that are not a JSON object.
var ErrNotObject = errors.New("message is not a JSON object")

// Flattener turns JSON object messages into Insights fields. Its zero value
// is ready to use; reuse one per goroutine to avoid allocations.
type Flattener struct {
	MaxLeaves int // 0 means DefaultMaxLeaves
	// Nulls makes Flatten also report JSON null (LeafNull) and nested empty
	// objects and arrays (LeafEmptyObject, LeafEmptyArray) at their paths.
	Nulls bool

	path   []byte
	unesc  []byte
	leaves int
}

// Flatten parses msg, which must be a JSON object (surrounding whitespace
// allowed), and calls emit for every scalar leaf with its dotted path. JSON
// null and empty objects or arrays yield nothing. A top-level key that
// starts with '@' is reported with a second '@' in front, as Insights does.
// If msg is not valid JSON the error says where; emit may already have been
// called for earlier leaves, and the caller must discard them.
func (f *Flattener) Flatten(msg []byte, emit func(path []byte, l Leaf)) error {
	p := parser{buf: msg, f: f, emit: emit}
	f.path = f.path[:0]
	f.leaves = 0
	p.skipWS()
	if p.i >= len(p.buf) || p.buf[p.i] != '{' {
		return ErrNotObject
	}
	if err := p.object(0); err != nil {
		return err
	}
	p.skipWS()
	if p.i != len(p.buf) {
		return p.errf("unexpected data after the JSON object")
	}
	return nil
}

type parser struct {
	buf  []byte
	i    int
	f    *Flattener
	emit func([]byte, Leaf)
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) skipWS() {
	for p.i < len(p.buf) {
		switch p.buf[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) object(depth int) error {
	if depth >= MaxDepth {
		return p.errf("nesting deeper than %d", MaxDepth)
	}
	p.i++ // '{'
	p.skipWS()
	if p.i < len(p.buf) && p.buf[p.i] == '}' {
		p.i++
		if p.f.Nulls && depth > 0 {
			p.leaf(Leaf{Kind: LeafEmptyObject, Raw: p.buf[p.i-1 : p.i]})
		}
		return nil
	}
	base := len(p.f.path)
	for {
		p.skipWS()
		if p.i >= len(p.buf) || p.buf[p.i] != '"' {
			return p.errf("expected a string key")
		}
		_, key, err := p.str()
		if err != nil {
			return err
		}
		p.f.path = p.f.path[:base]
		if base > 0 {
			p.f.path = append(p.f.path, '.')
		} else if len(key) > 0 && key[0] == '@' {
			p.f.path = append(p.f.path, '@')
		}
		p.f.path = append(p.f.path, key...)
		p.skipWS()
		if p.i >= len(p.buf) || p.buf[p.i] != ':' {
			return p.errf("expected ':' after key")
		}
		p.i++
		if err := p.value(depth); err != nil {
			return err
		}
		p.skipWS()
		if p.i >= len(p.buf) {
			return p.errf("unterminated object")
		}
		switch p.buf[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.f.path = p.f.path[:base]
			return nil
		default:
			return p.errf("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int) error {
	if depth >= MaxDepth {
		return p.errf("nesting deeper than %d", MaxDepth)
	}
	p.i++ // '['
	p.skipWS()
	if p.i < len(p.buf) && p.buf[p.i] == ']' {
		p.i++
		if p.f.Nulls {
			p.leaf(Leaf{Kind: LeafEmptyArray, Raw: p.buf[p.i-1 : p.i]})
		}
		return nil
	}
	base := len(p.f.path)
	for n := 0; ; n++ {
		p.f.path = p.f.path[:base]
		if base > 0 {
			p.f.path = append(p.f.path, '.')
		}
		p.f.path = strconv.AppendInt(p.f.path, int64(n), 10)
		if err := p.value(depth); err != nil {
			return err
		}
		p.skipWS()
		if p.i >= len(p.buf) {
			return p.errf("unterminated array")
		}
		switch p.buf[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.f.path = p.f.path[:base]
			return nil
		default:
			return p.errf("expected ',' or ']' in array")
		}
	}
}

func (p *parser) leaf(l Leaf) {
	max := p.f.MaxLeaves
	if max == 0 {
		max = DefaultMaxLeaves
	}
	if p.f.leaves < max {
		p.f.leaves++
		p.emit(p.f.path, l)
	}
}

func (p *parser) value(depth int) error {
	p.skipWS()
	if p.i >= len(p.buf) {
		return p.errf("expected a value")
	}
	switch c := p.buf[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		raw, s, err := p.str()
		if err != nil {
			return err
		}
		p.leaf(Leaf{Kind: LeafString, Raw: raw, Str: s})
	case c == 't':
		if err := p.lit("true"); err != nil {
			return err
		}
		p.leaf(Leaf{Kind: LeafTrue, Raw: p.buf[p.i-4 : p.i]})
	case c == 'f':
		if err := p.lit("false"); err != nil {
			return err
		}
		p.leaf(Leaf{Kind: LeafFalse, Raw: p.buf[p.i-5 : p.i]})
	case c == 'n':
		if err := p.lit("null"); err != nil {
			return err
		}
		if p.f.Nulls {
			p.leaf(Leaf{Kind: LeafNull, Raw: p.buf[p.i-4 : p.i]})
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		if err := p.number(); err != nil {
			return err
		}
		p.leaf(Leaf{Kind: LeafNumber, Raw: p.buf[start:p.i]})
	default:
		return p.errf("unexpected character %q", c)
	}
	return nil
}

func (p *parser) lit(word string) error {
	if len(p.buf)-p.i < len(word) || string(p.buf[p.i:p.i+len(word)]) != word {
		return p.errf("invalid literal, expected %s", word)
	}
	p.i += len(word)
	return nil
}

func (p *parser) number() error {
	b := p.buf
	if p.i < len(b) && b[p.i] == '-' {
		p.i++
	}
	if p.i >= len(b) {
		return p.errf("truncated number")
	}
	if b[p.i] == '0' {
		p.i++
	} else if b[p.i] >= '1' && b[p.i] <= '9' {
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
	} else {
		return p.errf("invalid number")
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		d := p.i
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return p.errf("invalid number: no digits after '.'")
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		d := p.i
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return p.errf("invalid number: no exponent digits")
		}
	}
	return nil
}

// str parses a string token at p.i and returns its raw bytes (with quotes)
// and its unescaped text.
func (p *parser) str() (raw, s []byte, err error) {
	start := p.i
	p.i++
	b := p.buf
	// Fast path: no escapes. Eight bytes at a time while none of them is a
	// quote, a backslash or a control character (most values are long
	// runs of plain bytes: ids, addresses, ARNs).
	for p.i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[p.i:])
		m := stopBytes(w)
		if m == 0 {
			p.i += 8
			continue
		}
		p.i += bits.TrailingZeros64(m) / 8
		break
	}
	for p.i < len(b) {
		c := b[p.i]
		if c == '"' {
			p.i++
			return b[start:p.i], b[start+1 : p.i-1], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, nil, p.errf("control character in string")
		}
		p.i++
	}
	if p.i >= len(b) {
		return nil, nil, p.errf("unterminated string")
	}
	u := append(p.f.unesc[:0], b[start+1:p.i]...)
	for p.i < len(b) {
		c := b[p.i]
		switch {
		case c == '"':
			p.i++
			p.f.unesc = u
			return b[start:p.i], u, nil
		case c < 0x20:
			return nil, nil, p.errf("control character in string")
		case c != '\\':
			u = append(u, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(b) {
			break
		}
		e := b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			u = append(u, e)
		case 'b':
			u = append(u, '\b')
		case 'f':
			u = append(u, '\f')
		case 'n':
			u = append(u, '\n')
		case 'r':
			u = append(u, '\r')
		case 't':
			u = append(u, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, nil, p.errf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.i+1 < len(b) && b[p.i] == '\\' && b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					lo, ok := p.hex4()
					if ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						p.i = save
					}
				}
				r = r2
			}
			u = utf8.AppendRune(u, r)
		default:
			return nil, nil, p.errf("invalid escape \\%c", e)
		}
	}
	return nil, nil, p.errf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.buf)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.buf[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// stopBytes flags (bit 7 of each byte) the bytes of w that end the fast
// path of str: '"', '\\' and control characters. Borrows can flag bytes
// above a true match, but the lowest flag is always exact, and bytes of
// 0x80 and up (UTF-8) are never flagged on their own.
func stopBytes(w uint64) uint64 {
	quote := w ^ (lowBits * '"')
	slash := w ^ (lowBits * '\\')
	return ((quote-lowBits)&^quote | (slash-lowBits)&^slash | (w-lowBits*0x20)&^w) & highBits
}
