package filterpattern

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// Selector names a value to take from a matching event, as metric
// filters' metricValue and dimensions do: a number literal ("1"), a JSON
// selector ("$.latency", JSON patterns only) or a space-delimited field
// ("$bytes" by name, "$7" by 1-based position; space-delimited only).
type Selector struct {
	src     string
	literal bool
	path    string // JSON: flattened key
	name    string // space-delimited: slot name
	pos     int    // space-delimited: 1-based field position when name is ""
}

// String returns the selector as written.
func (s Selector) String() string { return s.src }

// Selector compiles a metric value or dimension selector for use with
// this pattern. Number literals are accepted for every pattern kind.
func (p *Pattern) Selector(s string) (Selector, error) {
	sel := Selector{src: s}
	if isNumber(s) {
		sel.literal = true
		return sel, nil
	}
	bad := func(format string, args ...any) (Selector, error) {
		return Selector{}, fmt.Errorf("invalid selector %q: %s", s, fmt.Sprintf(format, args...))
	}
	switch {
	case strings.HasPrefix(s, "$."):
		if p.kind != JSON {
			return bad("a JSON selector needs a JSON filter pattern, this one is %s", p.kind)
		}
		l := &lexer{src: s}
		path, err := l.selector()
		if err != nil {
			return bad("%v", err)
		}
		if !l.eof() {
			return bad("unexpected %s at character %d", l.describe(l.pos), (&Error{Pattern: s, Offset: l.pos}).Char())
		}
		sel.path = path
	case strings.HasPrefix(s, "$") && len(s) > 1:
		if p.kind != SpaceDelimited {
			return bad("a field selector needs a space-delimited filter pattern, this one is %s", p.kind)
		}
		name := s[1:]
		if n, err := strconv.Atoi(name); err == nil && n >= 1 && name[0] != '0' {
			sel.pos = n
			return sel, nil
		}
		for _, slot := range p.delim.slots {
			if !slot.ellipsis && slot.name == name {
				sel.name = name
				return sel, nil
			}
		}
		return bad("the pattern has no field named %q", name)
	default:
		return bad("expected a number, $.path or $field")
	}
	return sel, nil
}

// Extracted is one selector's value in a matching event.
type Extracted struct {
	Value string
	Found bool
}

// Number parses the value as a metric datapoint; AWS emits none for
// non-numeric values.
func (e Extracted) Number() (float64, bool) {
	if !e.Found || !isNumber(e.Value) {
		return 0, false
	}
	f, err := strconv.ParseFloat(e.Value, 64)
	return f, err == nil
}

// Extract matches msg and, when it matches, appends the value of every
// selector to dst[:0]. JSON messages are parsed once for both.
func (p *Pattern) Extract(msg []byte, sels []Selector, dst []Extracted) (bool, []Extracted) {
	dst = dst[:0]
	switch p.kind {
	case JSON:
		if !p.json.mayMatch(msg) {
			return false, dst
		}
		st := p.get()
		defer p.put(st)
		// The selectors' paths go after the pattern's in scratch slices
		// owned by the state, so one Flatten pass serves both.
		st.pathBuf = append(st.pathBuf[:0], p.json.paths...)
		st.existBuf = append(st.existBuf[:0], p.json.exists...)
		for _, s := range sels {
			st.pathBuf = append(st.pathBuf, s.path) // a literal adds an unused slot
			st.existBuf = append(st.existBuf, false)
		}
		st.paths, st.exists = st.pathBuf, st.existBuf
		if !st.resolve(msg) || !p.json.root.eval(st) {
			return false, dst
		}
		for i, s := range sels {
			if s.literal {
				dst = append(dst, Extracted{Value: s.src, Found: true})
				continue
			}
			v := st.vals[len(p.json.paths)+i]
			switch v.kind {
			case 0, scan.LeafNull, scan.LeafEmptyObject, scan.LeafEmptyArray:
				dst = append(dst, Extracted{})
			default:
				dst = append(dst, Extracted{Value: string(st.buf[v.start:v.end]), Found: true})
			}
		}
		return true, dst
	case SpaceDelimited:
		st := p.get()
		defer p.put(st)
		st.fields = splitFields(msg, st.fields[:0])
		if !p.delim.match(msg, st.fields) {
			return false, dst
		}
		for _, s := range sels {
			dst = append(dst, p.delim.value(msg, st.fields, s))
		}
		return true, dst
	}
	if !p.Match(msg) {
		return false, dst
	}
	for _, s := range sels {
		if s.literal {
			dst = append(dst, Extracted{Value: s.src, Found: true})
		} else {
			dst = append(dst, Extracted{})
		}
	}
	return true, dst
}

func (dp *delimPattern) value(msg []byte, fields [][2]int, s Selector) Extracted {
	if s.literal {
		return Extracted{Value: s.src, Found: true}
	}
	idx := s.pos - 1
	if s.name != "" {
		idx = -1
		for i, slot := range dp.slots {
			if !slot.ellipsis && slot.name == s.name {
				idx = dp.fieldIndex(i, len(fields))
			}
		}
	}
	if idx < 0 || idx >= len(fields) {
		return Extracted{}
	}
	f := fields[idx]
	return Extracted{Value: string(msg[f[0]:f[1]]), Found: true}
}

// ExtractedValues matches msg and returns what TestMetricFilter reports as
// extractedValues: for space-delimited patterns every field, named "$name"
// or by position "$3"; for other patterns an empty map (as AWS documents).
func (p *Pattern) ExtractedValues(msg []byte) (map[string]string, bool) {
	if p.kind != SpaceDelimited {
		if !p.Match(msg) {
			return nil, false
		}
		return map[string]string{}, true
	}
	st := p.get()
	defer p.put(st)
	st.fields = splitFields(msg, st.fields[:0])
	if !p.delim.match(msg, st.fields) {
		return nil, false
	}
	return p.delim.extracted(msg, st.fields), true
}
