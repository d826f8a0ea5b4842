// Package jsonscan is the hot-path JSON reader of ingest: it checks that a
// record is valid JSON and picks out the few top-level values ingest needs
// (the event time), without decoding the record and without allocating.
//
// A full decode (encoding/json, or scan.Flattener, which also builds dotted
// paths for every leaf) costs several times more than this single pass, and
// ingest must validate hundreds of thousands of records a second. The
// grammar is strict RFC 8259, strings must be valid UTF-8 (a record is
// served back over a JSON API, which cannot carry anything else), and
// nesting is bounded by scan.MaxDepth so that every record ingest accepts is
// one the query side's flattener also treats as JSON.
package jsonscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// SyntaxError says what is wrong with a record and at which byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// ErrNotObject is returned for a record that is valid JSON but not an
// object; mailtrail records are always objects.
var ErrNotObject = errors.New("record is valid JSON but not an object")

// Fields holds the raw tokens (strings with their quotes) of the values
// ingest looks for. Each is nil when the record does not have it. They
// alias the scanned record.
type Fields struct {
	EventTimestamp []byte // top-level "event_timestamp" (WorkMail, gen)
	EventTime      []byte // top-level "eventTime" (CloudTrail)
	Custom         []byte // the value at the Scanner's custom path
	// Loose reports insignificant whitespace outside strings, so a caller
	// that wants one-line records knows whether Compact is needed.
	Loose bool
}

// Scanner validates records. The zero value looks for the two standard
// time fields only; NewScanner adds a custom field. A Scanner is not safe
// for concurrent use (it keeps a scratch buffer for escaped keys).
type Scanner struct {
	custom  [][]byte // dotted path split into keys; nil for none
	scratch []byte
}

// NewScanner returns a Scanner that also captures the value at the dotted
// path field ("a.b.c" follows nested objects; an empty field means none).
func NewScanner(field string) *Scanner {
	s := &Scanner{}
	if field != "" {
		for _, k := range strings.Split(field, ".") {
			s.custom = append(s.custom, []byte(k))
		}
	}
	return s
}

// Object validates msg as exactly one JSON object, optionally surrounded by
// whitespace, and fills f.
func (s *Scanner) Object(msg []byte, f *Fields) error {
	*f = Fields{}
	p := parser{buf: msg, s: s, f: f}
	p.ws()
	f.Loose = false
	if p.i >= len(msg) {
		return &SyntaxError{Offset: p.i, Msg: "empty record"}
	}
	if msg[p.i] != '{' {
		if err := p.value(0, 0, false); err != nil {
			return err
		}
		p.ws()
		if p.i != len(msg) {
			return p.errf("unexpected data after the JSON value")
		}
		return ErrNotObject
	}
	if err := p.object(0, 0, true); err != nil {
		return err
	}
	loose := f.Loose
	p.ws()
	f.Loose = loose
	if p.i != len(msg) {
		return p.errf(MsgTrailingData)
	}
	return nil
}

// MsgTrailingData is the SyntaxError message of Object for a record
// followed by more than whitespace (possibly another record).
const MsgTrailingData = "unexpected data after the JSON object"

// Value validates the one JSON value that starts at buf[i] (after optional
// whitespace) and returns the offset just past it. Top-level fields of an
// object value are captured into f as by Object. Document readers use it to
// walk arrays of records without copying them.
func (s *Scanner) Value(buf []byte, i int, f *Fields) (end int, err error) {
	*f = Fields{}
	p := parser{buf: buf, i: i, s: s, f: f}
	p.ws()
	f.Loose = false
	if p.i >= len(buf) {
		return p.i, p.errf("unexpected end of input, expected a value")
	}
	if err := p.value(0, 0, true); err != nil {
		return p.i, err
	}
	return p.i, nil
}

// Skip validates the JSON value at buf[i] (after optional whitespace) and
// returns the offset just past it, without capturing anything.
func Skip(buf []byte, i int) (int, error) {
	var f Fields
	var s Scanner
	p := parser{buf: buf, i: i, s: &s, f: &f}
	p.ws()
	if p.i >= len(buf) {
		return p.i, p.errf("unexpected end of input, expected a value")
	}
	if err := p.value(0, 0, false); err != nil {
		return p.i, err
	}
	return p.i, nil
}

// SkipSpace returns the offset of the first non-whitespace byte at or after i.
func SkipSpace(buf []byte, i int) int {
	for i < len(buf) && isSpace(buf[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

type parser struct {
	buf []byte
	i   int
	s   *Scanner
	f   *Fields
	esc bool // the last string str parsed held an escape
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) ws() {
	start := p.i
	for p.i < len(p.buf) && isSpace(p.buf[p.i]) {
		p.i++
	}
	if p.i != start {
		p.f.Loose = true
	}
}

// value parses the value at p.i. depth is the nesting depth of the
// enclosing containers; match is how many keys of the custom path the
// current path has matched so far (-1 once it has left the path); capture
// says whether this value is the top-level object whose keys are looked at.
func (p *parser) value(depth, match int, capture bool) error {
	if p.i >= len(p.buf) {
		return p.errf("unexpected end of input, expected a value")
	}
	switch c := p.buf[p.i]; {
	case c == '{':
		return p.object(depth, match, capture)
	case c == '[':
		return p.array(depth)
	case c == '"':
		_, err := p.str()
		return err
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return p.errf("unexpected character %q", c)
	}
}

func (p *parser) object(depth, match int, top bool) error {
	if depth >= scan.MaxDepth {
		return p.errf("nesting deeper than %d", scan.MaxDepth)
	}
	p.i++ // '{'
	p.ws()
	if p.i < len(p.buf) && p.buf[p.i] == '}' {
		p.i++
		return nil
	}
	custom := p.s.custom
	for {
		p.ws()
		if p.i >= len(p.buf) {
			return p.errf("unterminated object")
		}
		if p.buf[p.i] != '"' {
			return p.errf("expected a string key, found %q", p.buf[p.i])
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.buf) || p.buf[p.i] != ':' {
			return p.errf("expected ':' after key")
		}
		p.i++
		p.ws()
		// Which value, if any, is to be captured.
		var dst *[]byte
		next := -1
		if top || (match > 0 && match < len(custom)) {
			k := p.key(key)
			if top {
				switch string(k) {
				case "event_timestamp":
					dst = &p.f.EventTimestamp
				case "eventTime":
					dst = &p.f.EventTime
				}
			}
			if match >= 0 && match < len(custom) && string(k) == string(custom[match]) {
				if match == len(custom)-1 {
					dst = &p.f.Custom
				} else {
					next = match + 1
				}
			}
		}
		start := p.i
		if next > 0 && p.i < len(p.buf) && p.buf[p.i] == '{' {
			err = p.object(depth+1, next, false)
		} else {
			err = p.value(depth+1, -1, false)
		}
		if err != nil {
			return err
		}
		if dst != nil && *dst == nil {
			*dst = p.buf[start:p.i]
		}
		p.ws()
		if p.i >= len(p.buf) {
			return p.errf("unterminated object")
		}
		switch p.buf[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errf("expected ',' or '}' in object, found %q", p.buf[p.i])
		}
	}
}

// key returns the unescaped text of the key token raw (quotes included)
// that str has just parsed.
func (p *parser) key(raw []byte) []byte {
	if p.esc {
		p.s.scratch = AppendUnquoted(p.s.scratch[:0], raw)
		return p.s.scratch
	}
	return raw[1 : len(raw)-1]
}

func (p *parser) array(depth int) error {
	if depth >= scan.MaxDepth {
		return p.errf("nesting deeper than %d", scan.MaxDepth)
	}
	p.i++ // '['
	p.ws()
	if p.i < len(p.buf) && p.buf[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if err := p.value(depth+1, -1, false); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.buf) {
			return p.errf("unterminated array")
		}
		switch p.buf[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errf("expected ',' or ']' in array, found %q", p.buf[p.i])
		}
	}
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
	if b[p.i] == '-' {
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

// strSafe marks the bytes a string may hold without a closer look: printable
// ASCII other than '"' and '\\'.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str validates the string token at p.i and returns it with its quotes.
// p.esc says whether it held an escape.
func (p *parser) str() ([]byte, error) {
	b := p.buf
	start := p.i
	i := p.i + 1
	p.esc = false
	for {
		// Eight bytes at a time while none of them needs a closer look.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if special := specialBytes(w); special != 0 {
				i += bits.TrailingZeros64(special) / 8
				break
			}
			i += 8
		}
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			p.i = i
			return nil, p.errf("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return b[start:p.i], nil
		case c == '\\':
			p.esc = true
			if i+1 >= len(b) {
				p.i = i
				return nil, p.errf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					p.i = i
					return nil, p.errf("invalid \\u escape")
				}
				i += 6
			default:
				p.i = i
				return nil, p.errf("invalid escape \\%c", b[i+1])
			}
		case c < 0x20:
			p.i = i
			return nil, p.errf("control character 0x%02x in string", c)
		default: // non-ASCII: must be valid UTF-8
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				p.i = i
				return nil, p.errf("invalid UTF-8 in string")
			}
			i += n
		}
	}
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialBytes flags (bit 7 of each byte) the bytes of w that are '"',
// '\\', a control character or non-ASCII. Only the lowest flag is exact
// (borrows can flag bytes above a true match), which is all str needs.
func specialBytes(w uint64) uint64 {
	quote := w ^ (lows * '"')
	slash := w ^ (lows * '\\')
	return ((quote-lows) & ^quote | (slash-lows) & ^slash | (w-lows*0x20) & ^w | w) & highs
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Members walks the JSON object that starts at buf[i] (after optional
// whitespace) and calls fn with each member's key (unescaped; valid only
// during the call) and the offset of its value. Like Elements, fn parses
// the value itself (Skip, Scanner.Value, or a nested walk) and returns the
// offset just past it, so a document reader can act on a member as it
// goes: records before a syntax error further on are not lost. Members
// returns the offset just past the object.
func Members(buf []byte, i int, fn func(key []byte, start int) (end int, err error)) (int, error) {
	var f Fields
	var s Scanner
	p := parser{buf: buf, i: i, s: &s, f: &f}
	p.ws()
	if p.i >= len(buf) || buf[p.i] != '{' {
		return p.i, p.errf("expected a JSON object")
	}
	p.i++
	p.ws()
	if p.i < len(buf) && buf[p.i] == '}' {
		return p.i + 1, nil
	}
	for {
		p.ws()
		if p.i >= len(buf) || buf[p.i] != '"' {
			return p.i, p.errf("expected a string key")
		}
		raw, err := p.str()
		if err != nil {
			return p.i, err
		}
		key := p.key(raw)
		p.ws()
		if p.i >= len(buf) || buf[p.i] != ':' {
			return p.i, p.errf("expected ':' after key")
		}
		p.i++
		p.ws()
		end, err := fn(key, p.i)
		if err != nil {
			return end, err
		}
		p.i = end
		p.ws()
		if p.i >= len(buf) {
			return p.i, p.errf("unterminated object")
		}
		switch buf[p.i] {
		case ',':
			p.i++
		case '}':
			return p.i + 1, nil
		default:
			return p.i, p.errf("expected ',' or '}' in object, found %q", buf[p.i])
		}
	}
}

// Elements walks the JSON array that starts at buf[i] (after optional
// whitespace), calling fn with the offset of each element; fn must return
// the offset just past the element (it parses it, typically with
// Scanner.Value) or an error, which stops the walk.
func Elements(buf []byte, i int, fn func(start int) (end int, err error)) (int, error) {
	i = SkipSpace(buf, i)
	if i >= len(buf) || buf[i] != '[' {
		return i, &SyntaxError{Offset: i, Msg: "expected a JSON array"}
	}
	i = SkipSpace(buf, i+1)
	if i < len(buf) && buf[i] == ']' {
		return i + 1, nil
	}
	for {
		i = SkipSpace(buf, i)
		end, err := fn(i)
		if err != nil {
			return end, err
		}
		i = SkipSpace(buf, end)
		if i >= len(buf) {
			return i, &SyntaxError{Offset: i, Msg: "unterminated array"}
		}
		switch buf[i] {
		case ',':
			i++
		case ']':
			return i + 1, nil
		default:
			return i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("expected ',' or ']' in array, found %q", buf[i])}
		}
	}
}
