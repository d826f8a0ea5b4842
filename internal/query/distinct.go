package query

import (
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// interner numbers the distinct values of one count_distinct argument
// within one worker, so that per-group sets hold small integers.
type interner struct {
	idx strIndex
	ips ipIndex // address → id for values that came as IPv4 numbers; every id is also in idx

	// xlate caches, per other worker's interner, its ids translated to
	// ours (id+1, 0 unknown): merging the workers' groups at the end
	// re-interns each of their distinct values once, not once per group
	// that holds it. Only the single-threaded final merge uses it.
	xlate map[*interner][]uint32
}

// from returns the id in this interner of the value that o numbers id.
func (in *interner) from(o *interner, id uint32) uint32 {
	if in.xlate == nil {
		in.xlate = map[*interner][]uint32{}
	}
	xl := in.xlate[o]
	if len(xl) < len(o.idx.strs) {
		xl = append(xl, make([]uint32, len(o.idx.strs)-len(xl))...)
		in.xlate[o] = xl
	}
	if m := xl[id]; m != 0 {
		return m - 1
	}
	m := in.id(o.idx.hashes[id], o.idx.strs[id])
	xl[id] = m + 1
	return m
}

func newInterner() *interner { return &interner{} }

// id returns the id of s, whose hash is h.
func (in *interner) id(h uint64, s string) uint32 {
	if id, ok := in.idx.find(h, s); ok {
		return uint32(id)
	}
	return uint32(in.idx.add(h, strings.Clone(s))) // the block's memory is not ours to keep
}

// idSet is a set of interned ids: an open-addressing table of id+1 (0 is
// empty) that doubles at half load. Most groups hold few distinct values,
// so their table spans a cache line or two; that is what makes it faster
// than a bitmap over the whole id space.
type idSet struct {
	tab []uint32
	n   int
}

func (s *idSet) add(id uint32) bool {
	if 2*(s.n+1) > len(s.tab) {
		s.grow()
	}
	mask := uint32(len(s.tab) - 1)
	v := id + 1
	for i := (id * 0x9E3779B1) >> 7 & mask; ; i = (i + 1) & mask {
		switch s.tab[i] {
		case v:
			return false
		case 0:
			s.tab[i] = v
			s.n++
			return true
		}
	}
}

func (s *idSet) grow() {
	old := s.tab
	s.tab = make([]uint32, max(16, 2*len(old)))
	s.n = 0
	for _, v := range old {
		if v != 0 {
			s.add(v - 1)
		}
	}
}

func (s *idSet) each(fn func(uint32)) {
	for _, v := range s.tab {
		if v != 0 {
			fn(v - 1)
		}
	}
}

func (s *idSet) bytes() int64 { return int64(4 * len(s.tab)) }

// aggDistinctID is count_distinct over a source column, fed with ids.
type aggDistinctID struct {
	in  *interner
	set idSet
}

func (a *aggDistinctID) add(v Value, _ int64) {
	if !v.isNull() {
		s := v.String()
		a.set.add(a.in.id(strHash(s), s))
	}
}
func (a *aggDistinctID) merge(o aggState) {
	b := o.(*aggDistinctID)
	if b.in == a.in {
		b.set.each(func(id uint32) { a.set.add(id) })
		return
	}
	b.set.each(func(id uint32) { a.set.add(a.in.from(b.in, id)) })
}
func (a *aggDistinctID) snap() aggState {
	c := &aggDistinctHash{}
	a.set.each(func(id uint32) { c.set.add(a.in.idx.hashes[id]) })
	return c
}
func (a *aggDistinctID) result() Value { return vInt(int64(a.set.n)) }
func (a *aggDistinctID) size() int64   { return 64 + a.set.bytes() }

// distinctFeed turns the rows of a source column into interned ids. A
// string or dictionary column goes through the block's keyView, so each
// distinct value of the block is interned once.
type distinctFeed struct {
	slot int
	in   *interner
	memo []uint32 // view code → id+1
	view *keyView // nil: rows are read from col one by one
	col  *scan.Column
}

func (f *distinctFeed) reset(col *scan.Column, view *keyView) {
	f.col, f.view = col, view
	if view != nil {
		if cap(f.memo) < len(view.strs) {
			f.memo = make([]uint32, len(view.strs))
		}
		f.memo = f.memo[:len(view.strs)]
		clear(f.memo)
	}
}

// ipCodeID returns the id of view code code (>= 0) of a view whose column
// gave its values as IPv4 numbers: by number when the worker has seen the
// address, else by its text (which another block may have given as a
// plain string), remembering the number.
func (f *distinctFeed) ipCodeID(code int32) uint32 {
	v := f.view
	a := v.ips[code]
	if id, ok := f.in.ips.find(a); ok {
		return id
	}
	id := f.in.id(v.hash(code), v.strs[code])
	f.in.ips.add(a, id)
	return id
}

// codeID returns the id of view code code (>= 0).
func (f *distinctFeed) codeID(code int32) uint32 {
	if m := f.memo[code]; m != 0 {
		return m - 1
	}
	v := f.view
	id := f.in.id(v.hash(code), v.strs[code])
	f.memo[code] = id + 1
	return id
}

// id returns the id of batch row k (block row i), or false when the row
// lacks the field.
func (f *distinctFeed) id(k, i int, isTime bool) (uint32, bool) {
	if v := f.view; v != nil {
		code := v.codes[k]
		if code < 0 {
			return 0, false
		}
		return f.codeID(code), true
	}
	c := f.col
	if !c.Has(i) {
		return 0, false
	}
	var s string
	switch {
	case c.Type == scan.TypeInt && isTime:
		s = formatTime(c.Ints[i])
	case c.Type == scan.TypeInt:
		var buf [24]byte
		s = string(strconv.AppendInt(buf[:0], c.Ints[i], 10))
	default:
		v := colValue(c, i, isTime)
		if v.isNull() {
			return 0, false
		}
		s = v.String()
	}
	return f.in.id(strHash(s), s), true
}

// aggDistinctHash is count_distinct over value hashes. It exists only in
// partial results, where the workers' interned sets cannot be merged
// exactly without touching the workers' interners: two distinct values
// with the same 64-bit hash count once there (for n values the chance of
// any collision is about n²/2⁶⁵). Final results stay exact.
type aggDistinctHash struct {
	set u64Set
}

func (a *aggDistinctHash) add(v Value, _ int64) {
	if !v.isNull() {
		a.set.add(strHash(v.String()))
	}
}
func (a *aggDistinctHash) merge(o aggState) {
	switch b := o.(type) {
	case *aggDistinctID:
		b.set.each(func(id uint32) { a.set.add(b.in.idx.hashes[id]) })
	case *aggDistinctHash:
		for _, h := range b.set.tab {
			if h != 0 {
				a.set.add(h)
			}
		}
	}
}
func (a *aggDistinctHash) result() Value { return vInt(int64(a.set.n)) }
func (a *aggDistinctHash) size() int64   { return 64 + int64(8*len(a.set.tab)) }
func (a *aggDistinctHash) snap() aggState {
	return &aggDistinctHash{set: u64Set{tab: append([]uint64(nil), a.set.tab...), n: a.set.n}}
}

// u64Set is an open-addressing set of non-zero 64-bit hashes.
type u64Set struct {
	tab []uint64
	n   int
}

func (s *u64Set) add(h uint64) bool {
	if 2*(s.n+1) > len(s.tab) {
		old := s.tab
		s.tab = make([]uint64, max(16, 2*len(old)))
		s.n = 0
		for _, v := range old {
			if v != 0 {
				s.add(v)
			}
		}
	}
	mask := uint64(len(s.tab) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.tab[i] {
		case h:
			return false
		case 0:
			s.tab[i] = h
			s.n++
			return true
		}
	}
}
