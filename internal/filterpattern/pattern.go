package filterpattern

import (
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// Kind is the form of a pattern.
type Kind uint8

const (
	MatchAll       Kind = iota // empty pattern: every event
	Terms                      // unstructured terms
	JSON                       // { ... }
	SpaceDelimited             // [ ... ]
)

func (k Kind) String() string {
	if k > SpaceDelimited {
		return "unknown"
	}
	return [...]string{"all", "terms", "json", "space-delimited"}[k]
}

// MaxLength is the longest pattern AWS accepts, in characters.
const MaxLength = 1024

// Pattern is a compiled filter pattern, safe for concurrent use.
type Pattern struct {
	src   string
	kind  Kind
	terms *termPattern
	json  *jsonPattern
	delim *delimPattern
	regex int       // regular expressions in the pattern
	pool  sync.Pool // *state
}

// state is the per-goroutine scratch space of a match.
type state struct {
	fl     scan.Flattener
	emit   func([]byte, scan.Leaf) // st.onLeaf, bound once
	paths  []string
	exists []bool
	// pathBuf and existBuf back paths and exists when Extract adds
	// selectors to the pattern's own paths.
	pathBuf  []string
	existBuf []bool
	vals     []slotVal
	buf      []byte
	fields   [][2]int
}

// Compile parses a filter pattern. Errors are *Error.
func Compile(pattern string) (*Pattern, error) {
	if n := utf8.RuneCountInString(pattern); n > MaxLength {
		return nil, &Error{Pattern: pattern, Offset: len(pattern), Msg: "pattern is longer than 1024 characters"}
	}
	p := &Pattern{src: pattern}
	l := &lexer{src: pattern}
	l.skipSpace()
	var err error
	switch l.peek() {
	case 0:
		if l.eof() {
			p.kind = MatchAll
			break
		}
		fallthrough
	default:
		p.kind = Terms
		if p.terms, err = parseTerms(l); err != nil {
			return nil, err
		}
		if len(p.terms.required)+len(p.terms.groups)+len(p.terms.excluded) == 0 {
			p.kind, p.terms = MatchAll, nil
		}
	case '{':
		p.kind = JSON
		p.json, err = parseJSON(l)
	case '[':
		p.kind = SpaceDelimited
		p.delim, err = parseDelimited(l)
	}
	if err != nil {
		return nil, err
	}
	p.regex = l.regexes
	p.pool.New = func() any {
		st := &state{}
		st.fl.Nulls = true
		st.fl.MaxLeaves = 1 << 30 // a selector may name any leaf, not only the first 1000
		st.emit = st.onLeaf
		return st
	}
	return p, nil
}

// MustCompile is Compile for patterns known to be valid; it panics otherwise.
func MustCompile(pattern string) *Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern as given to Compile.
func (p *Pattern) String() string { return p.src }

// Regexes is the number of %regex% terms or values in the pattern, for
// AWS's limit of 5 regex filter patterns per log group.
func (p *Pattern) Regexes() int { return p.regex }

// Kind reports the pattern's form.
func (p *Pattern) Kind() Kind { return p.kind }

// Match reports whether a log event message matches the pattern.
func (p *Pattern) Match(msg []byte) bool {
	switch p.kind {
	case MatchAll:
		return true
	case Terms:
		return p.terms.match(msg)
	case JSON:
		if !p.json.mayMatch(msg) {
			return false
		}
		st := p.get()
		st.paths, st.exists = p.json.paths, p.json.exists
		ok := st.resolve(msg) && p.json.root.eval(st)
		p.put(st)
		return ok
	case SpaceDelimited:
		st := p.get()
		st.fields = splitFields(msg, st.fields[:0])
		ok := p.delim.match(msg, st.fields)
		p.put(st)
		return ok
	}
	return false
}

// MatchString is Match for a message held as a string, without copying it.
func (p *Pattern) MatchString(msg string) bool {
	// Match and everything under it only read msg, so viewing the string's
	// bytes is safe; it saves a copy per event when scanning stored logs.
	return p.Match(unsafe.Slice(unsafe.StringData(msg), len(msg)))
}

func (p *Pattern) get() *state { return p.pool.Get().(*state) }

func (p *Pattern) put(st *state) {
	if cap(st.buf) > 64<<10 {
		st.buf = nil // do not pin the scratch of one huge message
	}
	if cap(st.fields) > 4096 {
		st.fields = nil
	}
	st.paths, st.exists = nil, nil
	p.pool.Put(st)
}
