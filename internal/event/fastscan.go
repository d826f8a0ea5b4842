package event

import "bytes"

// The fast scanner below serves Classify and Timestamp, which run on every
// ingested record: it finds the top-level members of an object without
// validating the values it skips (strings are skipped with IndexByte, nested
// values by bracket counting, iteratively, so depth cannot exhaust the
// stack) and without allocating. Full validation is Decode's job and the
// flattener's.

// fastIter walks the top-level members of a JSON object.
type fastIter struct {
	b   []byte
	i   int
	n   int  // members returned so far
	bad bool // malformed input seen
}

func newFastIter(b []byte) (fastIter, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fastIter{}, false
	}
	return fastIter{b: b, i: i + 1}, true
}

// next returns the next member; ok is false at the end of the object or on
// malformed input (then it.bad is set).
func (it *fastIter) next() (key []byte, escaped bool, val []byte, ok bool) {
	b := it.b
	i := skipWS(b, it.i)
	if i >= len(b) {
		it.bad = true
		return nil, false, nil, false
	}
	if b[i] == '}' {
		it.i = i + 1
		return nil, false, nil, false
	}
	if it.n > 0 {
		if b[i] != ',' {
			it.bad = true
			return nil, false, nil, false
		}
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		it.bad = true
		return nil, false, nil, false
	}
	end := fastStringEnd(b, i)
	if end < 0 {
		it.bad = true
		return nil, false, nil, false
	}
	key = b[i+1 : end-1]
	escaped = bytes.IndexByte(key, '\\') >= 0
	i = skipWS(b, end)
	if i >= len(b) || b[i] != ':' {
		it.bad = true
		return nil, false, nil, false
	}
	i = skipWS(b, i+1)
	vend := fastValueEnd(b, i)
	if vend < 0 {
		it.bad = true
		return nil, false, nil, false
	}
	it.i = vend
	it.n++
	return key, escaped, b[i:vend], true
}

// fastStringEnd returns the offset after the string starting at b[i], or
// -1 if it is unterminated.
func fastStringEnd(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// fastValueEnd returns the offset after the value starting at b[i], or -1.
func fastValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return fastStringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				e := fastStringEnd(b, i)
				if e < 0 {
					return -1
				}
				i = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case '}', ']', ',', ':':
		return -1
	}
	start := i
	for i < len(b) {
		c := b[i]
		if c == ',' || c == '}' || c == ']' || isSpace(c) {
			break
		}
		i++
	}
	if i == start {
		return -1
	}
	return i
}
