package filterpattern

import (
	"bytes"
	"strconv"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// test is what a JSON condition checks.
type test uint8

const (
	testCmp test = iota
	testTrue
	testFalse
	testNull
	testNotExists
)

// jnode is a node of a JSON pattern's boolean expression: an AND or OR of
// kids, or a condition on one selector.
type jnode struct {
	or   bool
	kids []*jnode // nil for a condition
	slot int      // index of the selector's path in jsonPattern.paths
	test test
	op   op
	val  literal
}

// jsonPattern is a compiled `{ ... }` pattern.
type jsonPattern struct {
	root  *jnode
	paths []string // flattened key (as scan.Flattener names it) per selector
	// exists marks paths used by NOT EXISTS, for which an object or array
	// at the path must be noticed too (its leaves have longer paths).
	exists []bool
	// Prefilter: substrings every matching message contains. tokens
	// (true, false, null) cannot be escaped in JSON; strs can, so they are
	// only trusted when the message has no backslash.
	tokens [][]byte
	strs   [][]byte
}

// maxDepth bounds parenthesis nesting.
const maxDepth = 100

func jsonStop(c byte) bool {
	return c == '(' || c == ')' || c == '{' || c == '}' || c == '&' || c == '|'
}

func parseJSON(l *lexer) (*jsonPattern, error) {
	jp := &jsonPattern{}
	l.pos++ // '{'
	root, err := jp.parseOr(l, 0)
	if err != nil {
		return nil, err
	}
	l.skipSpace()
	if l.peek() != '}' {
		at := l.pos
		if kw := l.keyword(); kw == "AND" || kw == "OR" {
			return nil, l.errf(at, "%s is not an operator, use && or ||", kw)
		}
		return nil, l.errf(at, "expected '&&', '||' or the closing '}', found %s", l.describe(at))
	}
	l.pos++
	l.skipSpace()
	if !l.eof() {
		return nil, l.errf(l.pos, "unexpected %s after the closing '}'", l.describe(l.pos))
	}
	jp.root = root
	jp.prefilter(root)
	return jp, nil
}

func (jp *jsonPattern) parseOr(l *lexer, depth int) (*jnode, error) {
	left, err := jp.parseAnd(l, depth)
	if err != nil {
		return nil, err
	}
	var n *jnode
	for {
		l.skipSpace()
		if !l.hasPrefix("||") {
			break
		}
		l.pos += 2
		right, err := jp.parseAnd(l, depth)
		if err != nil {
			return nil, err
		}
		if n == nil {
			n = &jnode{or: true, kids: []*jnode{left}}
		}
		n.kids = append(n.kids, right)
	}
	if n == nil {
		return left, nil
	}
	return n, nil
}

func (jp *jsonPattern) parseAnd(l *lexer, depth int) (*jnode, error) {
	left, err := jp.parseUnary(l, depth)
	if err != nil {
		return nil, err
	}
	var n *jnode
	for {
		l.skipSpace()
		if !l.hasPrefix("&&") {
			break
		}
		l.pos += 2
		right, err := jp.parseUnary(l, depth)
		if err != nil {
			return nil, err
		}
		if n == nil {
			n = &jnode{kids: []*jnode{left}}
		}
		n.kids = append(n.kids, right)
	}
	if n == nil {
		return left, nil
	}
	return n, nil
}

func (jp *jsonPattern) parseUnary(l *lexer, depth int) (*jnode, error) {
	l.skipSpace()
	if l.peek() != '(' {
		return jp.parseCond(l)
	}
	open := l.pos
	if depth >= maxDepth {
		return nil, l.errf(open, "parentheses nested deeper than %d", maxDepth)
	}
	l.pos++
	n, err := jp.parseOr(l, depth+1)
	if err != nil {
		return nil, err
	}
	l.skipSpace()
	if l.peek() != ')' {
		return nil, l.errf(l.pos, "expected ')' to close the '(' at character %d, found %s",
			(&Error{Pattern: l.src, Offset: open}).Char(), l.describe(l.pos))
	}
	l.pos++
	return n, nil
}

func (jp *jsonPattern) parseCond(l *lexer) (*jnode, error) {
	path, err := l.selector()
	if err != nil {
		return nil, err
	}
	n := &jnode{}
	l.skipSpace()
	if c := l.peek(); c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		at := l.pos
		switch kw := l.keyword(); kw {
		case "IS":
			l.skipSpace()
			at2 := l.pos
			switch kw2 := l.keyword(); kw2 {
			case "TRUE":
				n.test = testTrue
			case "FALSE":
				n.test = testFalse
			case "NULL":
				n.test = testNull
			case "NOT":
				return nil, l.errf(at2, "IS NOT is not supported, use NOT EXISTS or != with a value")
			default:
				return nil, l.errf(at2, "expected TRUE, FALSE or NULL after IS, found %s", l.describe(at2))
			}
		case "NOT":
			l.skipSpace()
			at2 := l.pos
			if l.keyword() != "EXISTS" {
				return nil, l.errf(at2, "expected EXISTS after NOT, found %s", l.describe(at2))
			}
			n.test = testNotExists
		case "EXISTS":
			return nil, l.errf(at, "EXISTS is not supported, use = * to require a value or NOT EXISTS")
		default:
			return nil, l.errf(at, "expected a comparison operator, IS or NOT EXISTS after the selector, found %q", kw)
		}
	} else {
		opAt := l.pos
		if n.op, err = l.op(); err != nil {
			return nil, err
		}
		l.skipSpace()
		valAt := l.pos
		if n.val, err = l.value(jsonStop); err != nil {
			return nil, err
		}
		if err := checkOperand(l, n.op, &n.val, opAt, valAt); err != nil {
			return nil, err
		}
	}
	n.slot = jp.slotFor(path, n.test == testNotExists)
	return n, nil
}

// checkOperand rejects ordering comparisons with a non-number.
func checkOperand(l *lexer, o op, v *literal, opAt, valAt int) error {
	if o == opEq || o == opNe {
		return nil
	}
	if !v.isNum {
		return l.errf(valAt, "operator %s needs a number, found %q", o, l.src[valAt:l.pos])
	}
	return nil
}

func (jp *jsonPattern) slotFor(path string, exists bool) int {
	for i, p := range jp.paths {
		if p == path {
			jp.exists[i] = jp.exists[i] || exists
			return i
		}
	}
	jp.paths = append(jp.paths, path)
	jp.exists = append(jp.exists, exists)
	return len(jp.paths) - 1
}

// selector reads `$.key.key[0][1]` and returns the flattened key that
// scan.Flattener gives the same leaf: `key.key.0.1`.
func (l *lexer) selector() (string, error) {
	start := l.pos
	if l.peek() != '$' {
		return "", l.errf(start, "expected a selector starting with '$.', found %s", l.describe(start))
	}
	l.pos++
	if l.peek() != '.' {
		return "", l.errf(l.pos, "expected '.' after '$', found %s", l.describe(l.pos))
	}
	var b []byte
	for {
		switch l.peek() {
		case '.':
			l.pos++
			at := l.pos
			if l.peek() == '@' {
				l.pos++ // "@timestamp" style keys
			}
			n := l.src[at:l.pos] + l.name()
			if n == "" || n == "@" {
				return "", l.errf(at, "expected a key name after '.', found %s", l.describe(at))
			}
			if len(b) > 0 {
				b = append(b, '.')
			} else if n[0] == '@' {
				b = append(b, '@') // Flattener doubles a leading '@' at the top level
			}
			b = append(b, n...)
		case '[':
			open := l.pos
			l.pos++
			d := l.pos
			for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
				l.pos++
			}
			if l.pos == d || l.pos-d > 9 {
				return "", l.errf(d, "expected an array index (up to 9 digits) after '['")
			}
			idx, _ := strconv.Atoi(l.src[d:l.pos])
			if l.peek() != ']' {
				return "", l.errf(l.pos, "expected ']' to close the '[' at character %d, found %s",
					(&Error{Pattern: l.src, Offset: open}).Char(), l.describe(l.pos))
			}
			l.pos++
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(idx), 10)
		default:
			return string(b), nil
		}
	}
}

// prefilter collects the substrings that every message matching the
// top-level AND of n must contain.
func (jp *jsonPattern) prefilter(n *jnode) {
	if n.kids != nil {
		if !n.or {
			for _, k := range n.kids {
				jp.prefilter(k)
			}
		}
		return
	}
	switch n.test {
	case testTrue:
		jp.tokens = append(jp.tokens, []byte("true"))
	case testFalse:
		jp.tokens = append(jp.tokens, []byte("false"))
	case testNull:
		jp.tokens = append(jp.tokens, []byte("null"))
	case testCmp:
		v := &n.val
		switch {
		case n.op != opEq || v.any || v.re != nil || v.isNum:
		case v.glob != nil:
			// Every part of a wildcard string is in the value verbatim;
			// the longest part rejects the most.
			var longest []byte
			for _, part := range v.glob.parts {
				if len(part) > len(longest) {
					longest = part
				}
			}
			if len(longest) > 0 {
				jp.strs = append(jp.strs, longest)
			}
		case v.text != "":
			jp.strs = append(jp.strs, []byte(v.text))
		}
	}
}

// mayMatch is a cheap test that rules out most non-matching messages
// before they are parsed.
func (jp *jsonPattern) mayMatch(msg []byte) bool {
	for _, t := range jp.tokens {
		if !bytes.Contains(msg, t) {
			return false
		}
	}
	if len(jp.strs) > 0 && bytes.IndexByte(msg, '\\') < 0 {
		for _, s := range jp.strs {
			if !bytes.Contains(msg, s) {
				return false
			}
		}
	}
	return true
}

// slotVal is what one Flatten pass found at a selector's path.
type slotVal struct {
	kind       scan.LeafKind // 0: nothing at exactly this path
	start, end int           // the value's text in state.buf
	exists     bool          // something (a leaf or a container) is at or under the path
}

func (n *jnode) eval(st *state) bool {
	if n.kids != nil {
		for _, k := range n.kids {
			if k.eval(st) == n.or {
				return n.or
			}
		}
		return !n.or
	}
	v := &st.vals[n.slot]
	switch n.test {
	case testNotExists:
		return !v.exists
	case testNull:
		return v.kind == scan.LeafNull
	case testTrue:
		return v.kind == scan.LeafTrue
	case testFalse:
		return v.kind == scan.LeafFalse
	}
	switch v.kind {
	case scan.LeafString, scan.LeafNumber, scan.LeafTrue, scan.LeafFalse:
		return n.val.compareText(st.buf[v.start:v.end], n.op)
	}
	// Missing, null, object or array: no comparison holds, not even !=.
	return false
}

// onLeaf records the leaves at the selectors' paths; it is the emit
// callback of the state's Flattener.
func (st *state) onLeaf(path []byte, l scan.Leaf) {
	for i, p := range st.paths {
		if len(path) == len(p) {
			if string(path) != p {
				continue
			}
			v := &st.vals[i]
			v.kind, v.exists = l.Kind, true
			text := l.Raw
			if l.Kind == scan.LeafString {
				text = l.Str
			}
			v.start = len(st.buf)
			st.buf = append(st.buf, text...)
			v.end = len(st.buf)
		} else if len(path) > len(p) && st.exists[i] && path[len(p)] == '.' && string(path[:len(p)]) == p {
			st.vals[i].exists = true
		}
	}
}

// resolve flattens msg once and fills st.vals for st.paths. It reports
// false when msg is not a JSON object.
func (st *state) resolve(msg []byte) bool {
	st.buf = st.buf[:0]
	if cap(st.vals) < len(st.paths) {
		st.vals = make([]slotVal, len(st.paths))
	}
	st.vals = st.vals[:len(st.paths)]
	clear(st.vals)
	return st.fl.Flatten(msg, st.emit) == nil
}
