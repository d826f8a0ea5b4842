package filterpattern

import (
	"fmt"
	"unicode/utf8"
)

// Error is a syntax error in a filter pattern.
type Error struct {
	Pattern string // the pattern as given
	Offset  int    // byte offset of the offending character
	Msg     string // what is wrong
}

// Char is the 0-based character (rune) offset of the error, which is what
// a user counting characters in the pattern expects.
func (e *Error) Char() int {
	if e.Offset > len(e.Pattern) {
		return utf8.RuneCountInString(e.Pattern)
	}
	return utf8.RuneCountInString(e.Pattern[:e.Offset])
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid filter pattern at character %d: %s", e.Char(), e.Msg)
}

// lexer is a cursor over a pattern with the helpers the three sub-languages
// share.
type lexer struct {
	src     string
	pos     int
	regexes int // %regex% read so far
}

func (l *lexer) errf(pos int, format string, args ...any) error {
	return &Error{Pattern: l.src, Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) eof() bool { return l.pos >= len(l.src) }

func (l *lexer) peek() byte {
	if l.pos < len(l.src) {
		return l.src[l.pos]
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
}

func (l *lexer) hasPrefix(s string) bool {
	return len(l.src)-l.pos >= len(s) && l.src[l.pos:l.pos+len(s)] == s
}

// describe names the character at pos for error messages.
func (l *lexer) describe(pos int) string {
	if pos >= len(l.src) {
		return "end of pattern"
	}
	r, _ := utf8.DecodeRuneInString(l.src[pos:])
	return fmt.Sprintf("%q", r)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// name reads a field or key name: ASCII letters, digits, '_' and '-' (the
// documented set) plus any non-ASCII byte, so keys in other scripts work.
func (l *lexer) name() string {
	start := l.pos
	for l.pos < len(l.src) && (isNameByte(l.src[l.pos]) || l.src[l.pos] >= 0x80) {
		l.pos++
	}
	return l.src[start:l.pos]
}

// keyword reads an ASCII word and returns it upper-cased.
func (l *lexer) keyword() string {
	start := l.pos
	for l.pos < len(l.src) && (l.src[l.pos] >= 'a' && l.src[l.pos] <= 'z' || l.src[l.pos] >= 'A' && l.src[l.pos] <= 'Z') {
		l.pos++
	}
	b := []byte(l.src[start:l.pos])
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
