package filterpattern

import (
	"bytes"
	"regexp"
)

// term is one search term: a literal substring or a regex.
type term struct {
	text []byte
	re   *regexp.Regexp
}

func (t *term) in(msg []byte) bool {
	if t.re != nil {
		return t.re.Match(msg)
	}
	return bytes.Contains(msg, t.text)
}

// termPattern is an unstructured pattern. A message matches when every
// required term is in it, no excluded term is, and (if there are groups)
// every term of at least one group is.
type termPattern struct {
	required []term
	groups   [][]term
	excluded []term
}

func parseTerms(l *lexer) (*termPattern, error) {
	tp := &termPattern{}
	for {
		l.skipSpace()
		if l.eof() {
			break
		}
		prefixAt := l.pos
		prefix := l.peek()
		if prefix == '?' || prefix == '-' {
			l.pos++
			// AWS's own docs write `"ERROR" - "Exiting"`.
			l.skipSpace()
			if l.eof() {
				return nil, l.errf(prefixAt, "expected a term after '%c'", prefix)
			}
		} else {
			prefix = 0
		}
		t, skip, err := readTerm(l)
		if err != nil {
			return nil, err
		}
		switch {
		case prefix == '-':
			if !skip {
				tp.excluded = append(tp.excluded, t)
			}
		case prefix == '?':
			g := []term{}
			if !skip {
				g = append(g, t)
			}
			tp.groups = append(tp.groups, g)
		case skip:
		case len(tp.groups) > 0:
			last := len(tp.groups) - 1
			tp.groups[last] = append(tp.groups[last], t)
		default:
			tp.required = append(tp.required, t)
		}
	}
	return tp, nil
}

// readTerm reads a quoted, regex or bare term. skip is set for terms that
// match everything (`""`, `" "`): AWS documents `" "` as match-all.
func readTerm(l *lexer) (t term, skip bool, err error) {
	switch l.peek() {
	case '"':
		v, err := l.quotedValue()
		if err != nil {
			return term{}, false, err
		}
		// In term patterns '*' is an ordinary character.
		return term{text: []byte(v.text)}, len(bytes.TrimSpace([]byte(v.text))) == 0, nil
	case '%':
		re, err := l.regex()
		return term{re: re}, false, err
	}
	start := l.pos
	for l.pos < len(l.src) && !isSpace(l.src[l.pos]) {
		if l.src[l.pos] == '"' {
			return term{}, false, l.errf(l.pos, "quote inside an unquoted term; quote the whole term and escape inner quotes as \\\"")
		}
		l.pos++
	}
	return term{text: []byte(l.src[start:l.pos])}, false, nil
}

func (tp *termPattern) match(msg []byte) bool {
	for i := range tp.excluded {
		if tp.excluded[i].in(msg) {
			return false
		}
	}
	for i := range tp.required {
		if !tp.required[i].in(msg) {
			return false
		}
	}
	if len(tp.groups) == 0 {
		return true
	}
next:
	for _, g := range tp.groups {
		for i := range g {
			if !g[i].in(msg) {
				continue next
			}
		}
		return true
	}
	return false
}
