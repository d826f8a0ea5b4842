package filterpattern

import "strconv"

// dslot is one comma-separated slot of a space-delimited pattern.
type dslot struct {
	name     string // "" for an unnamed slot
	ellipsis bool
	cond     *dnode // nil: any value
}

// dnode is a condition tree on one slot's field.
type dnode struct {
	or   bool
	kids []*dnode
	op   op
	val  literal
}

// delimPattern is a compiled `[ ... ]` pattern.
type delimPattern struct {
	slots    []dslot
	ellipsis int // index of the '...' slot, or -1
}

func delimStop(c byte) bool {
	return c == ',' || c == ']' || c == '(' || c == ')' || c == '&' || c == '|'
}

func parseDelimited(l *lexer) (*delimPattern, error) {
	dp := &delimPattern{ellipsis: -1}
	names := map[string]int{} // name -> byte offset of its slot
	ellipsisAt := 0
	l.pos++ // '['
	for {
		l.skipSpace()
		at := l.pos
		switch {
		case l.peek() == ']' && len(dp.slots) == 0:
			return nil, l.errf(at, "a space-delimited pattern needs at least one field")
		case l.peek() == ',' || l.peek() == ']':
			dp.slots = append(dp.slots, dslot{})
		case l.hasPrefix("..."):
			if dp.ellipsis >= 0 {
				return nil, l.errf(at, "only one '...' is allowed, the first is at character %d",
					(&Error{Pattern: l.src, Offset: ellipsisAt}).Char())
			}
			l.pos += 3
			dp.ellipsis, ellipsisAt = len(dp.slots), at
			dp.slots = append(dp.slots, dslot{ellipsis: true})
		default:
			sp := slotParser{l: l}
			cond, bare, err := sp.or(0)
			if err != nil {
				return nil, err
			}
			if prev, dup := names[sp.name]; dup {
				return nil, l.errf(at, "field name %q is already used at character %d",
					sp.name, (&Error{Pattern: l.src, Offset: prev}).Char())
			}
			names[sp.name] = at
			s := dslot{name: sp.name}
			if !bare {
				s.cond = cond
			}
			dp.slots = append(dp.slots, s)
		}
		l.skipSpace()
		switch l.peek() {
		case ',':
			l.pos++
			continue
		case ']':
			l.pos++
			l.skipSpace()
			if !l.eof() {
				return nil, l.errf(l.pos, "unexpected %s after the closing ']'", l.describe(l.pos))
			}
			return dp, nil
		}
		return nil, l.errf(l.pos, "expected ',' or ']', found %s", l.describe(l.pos))
	}
}

// slotParser parses one slot: a field name, optionally with conditions
// joined by && and || (and parentheses), all on that same field.
type slotParser struct {
	l    *lexer
	name string
}

func (p *slotParser) or(depth int) (n *dnode, bare bool, err error) {
	return p.chain(depth, true)
}

// chain parses a list of operands joined by || (or=true) or && (or=false).
func (p *slotParser) chain(depth int, or bool) (*dnode, bool, error) {
	sep := "&&"
	if or {
		sep = "||"
	}
	operand := func() (*dnode, bool, error) {
		if or {
			return p.chain(depth, false)
		}
		return p.primary(depth)
	}
	left, bare, err := operand()
	if err != nil {
		return nil, false, err
	}
	var n *dnode
	for {
		p.l.skipSpace()
		if !p.l.hasPrefix(sep) {
			break
		}
		at := p.l.pos
		p.l.pos += 2
		if bare {
			return nil, false, p.l.errf(at, "expected a comparison after field name %q before %q", p.name, sep)
		}
		right, rbare, err := operand()
		if err != nil {
			return nil, false, err
		}
		if rbare {
			return nil, false, p.l.errf(p.l.pos, "expected a comparison after field name %q", p.name)
		}
		if n == nil {
			n = &dnode{or: or, kids: []*dnode{left}}
		}
		n.kids = append(n.kids, right)
	}
	if n == nil {
		return left, bare, nil
	}
	return n, false, nil
}

func (p *slotParser) primary(depth int) (*dnode, bool, error) {
	l := p.l
	l.skipSpace()
	if l.peek() == '(' {
		open := l.pos
		if depth >= maxDepth {
			return nil, false, l.errf(open, "parentheses nested deeper than %d", maxDepth)
		}
		l.pos++
		n, bare, err := p.or(depth + 1)
		if err != nil {
			return nil, false, err
		}
		if bare {
			return nil, false, l.errf(l.pos, "expected a comparison after field name %q", p.name)
		}
		l.skipSpace()
		if l.peek() != ')' {
			return nil, false, l.errf(l.pos, "expected ')' to close the '(' at character %d, found %s",
				(&Error{Pattern: l.src, Offset: open}).Char(), l.describe(l.pos))
		}
		l.pos++
		return n, false, nil
	}
	at := l.pos
	name := l.name()
	if name == "" {
		return nil, false, l.errf(at, "expected a field name, '...' or ',', found %s", l.describe(at))
	}
	if p.name == "" {
		p.name = name
	} else if name != p.name {
		return nil, false, l.errf(at, "conditions in one field must all name that field (%q), found %q", p.name, name)
	}
	l.skipSpace()
	switch l.peek() {
	case '=', '!', '<', '>':
	default:
		return nil, true, nil
	}
	opAt := l.pos
	o, err := l.op()
	if err != nil {
		return nil, false, err
	}
	l.skipSpace()
	valAt := l.pos
	v, err := l.value(delimStop)
	if err != nil {
		return nil, false, err
	}
	if err := checkOperand(l, o, &v, opAt, valAt); err != nil {
		return nil, false, err
	}
	return &dnode{op: o, val: v}, false, nil
}

func (n *dnode) eval(field []byte) bool {
	if n.kids != nil {
		for _, k := range n.kids {
			if k.eval(field) == n.or {
				return n.or
			}
		}
		return !n.or
	}
	return n.val.compareText(field, n.op)
}

// splitFields splits a message into space-delimited fields: runs of
// whitespace separate them, and "..." or [...] (brackets nest) is one
// field whose value excludes the quotes or brackets. An unclosed quote or
// bracket runs to the end of the message.
func splitFields(msg []byte, dst [][2]int) [][2]int {
	i := 0
	for {
		for i < len(msg) && isSpace(msg[i]) {
			i++
		}
		if i >= len(msg) {
			return dst
		}
		switch msg[i] {
		case '"':
			j := i + 1
			for j < len(msg) && !(msg[j] == '"' && msg[j-1] != '\\') {
				j++
			}
			dst = append(dst, [2]int{i + 1, j})
			i = j + 1
		case '[':
			j, depth := i+1, 1
			for ; j < len(msg); j++ {
				if msg[j] == '[' {
					depth++
				} else if msg[j] == ']' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			dst = append(dst, [2]int{i + 1, j})
			i = j + 1
		default:
			j := i
			for j < len(msg) && !isSpace(msg[j]) {
				j++
			}
			dst = append(dst, [2]int{i, j})
			i = j
		}
	}
}

// fieldIndex is the message field a slot binds to when the message has n
// fields (n already checked against the slot count).
func (dp *delimPattern) fieldIndex(slot, n int) int {
	if dp.ellipsis < 0 || slot < dp.ellipsis {
		return slot
	}
	return n - (len(dp.slots) - slot)
}

// fits reports whether a message with n fields can bind to the slots.
func (dp *delimPattern) fits(n int) bool {
	if dp.ellipsis < 0 {
		return n == len(dp.slots)
	}
	return n >= len(dp.slots)-1
}

func (dp *delimPattern) match(msg []byte, fields [][2]int) bool {
	if !dp.fits(len(fields)) {
		return false
	}
	for i := range dp.slots {
		s := &dp.slots[i]
		if s.cond == nil {
			continue
		}
		f := fields[dp.fieldIndex(i, len(fields))]
		if !s.cond.eval(msg[f[0]:f[1]]) {
			return false
		}
	}
	return true
}

// extracted names every field of a matching message: named slots as
// "$name", the rest by 1-based position as "$3".
func (dp *delimPattern) extracted(msg []byte, fields [][2]int) map[string]string {
	out := make(map[string]string, len(fields))
	named := make([]string, len(fields))
	for i, s := range dp.slots {
		if !s.ellipsis && s.name != "" {
			named[dp.fieldIndex(i, len(fields))] = s.name
		}
	}
	for i, f := range fields {
		key := "$" + named[i]
		if named[i] == "" {
			key = "$" + strconv.Itoa(i+1)
		}
		out[key] = string(msg[f[0]:f[1]])
	}
	return out
}
