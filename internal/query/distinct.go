package query

import (
	"math/bits"
	"strconv"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// interner numbers the distinct values of one count_distinct argument
// within one worker, so that per-group sets hold small integers.
type interner struct {
	ids  map[string]uint32
	strs []string
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}} }

func (in *interner) id(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	id := uint32(len(in.strs))
	s = string([]byte(s)) // the block's memory is not ours to keep
	in.ids[s] = id
	in.strs = append(in.strs, s)
	return id
}

// idSet is a set of interned ids: a bitmap while the ids are small, a map
// beyond that so memory stays proportional to the set.
type idSet struct {
	bits []uint64
	m    map[uint32]struct{}
	n    int
}

const maxBitmapWords = 1 << 12 // 256k ids, 32 KiB per group

func (s *idSet) add(id uint32) bool {
	if s.m == nil {
		w := int(id >> 6)
		if w < maxBitmapWords {
			if w >= len(s.bits) {
				nb := make([]uint64, max(w+1, 2*len(s.bits)))
				copy(nb, s.bits)
				s.bits = nb
			}
			m := uint64(1) << (id & 63)
			if s.bits[w]&m != 0 {
				return false
			}
			s.bits[w] |= m
			s.n++
			return true
		}
		s.m = make(map[uint32]struct{}, s.n+1)
		for w, b := range s.bits {
			for b != 0 {
				t := bits.TrailingZeros64(b)
				s.m[uint32(w<<6+t)] = struct{}{}
				b &= b - 1
			}
		}
		s.bits = nil
	}
	if _, ok := s.m[id]; ok {
		return false
	}
	s.m[id] = struct{}{}
	s.n++
	return true
}

func (s *idSet) each(fn func(uint32)) {
	for w, b := range s.bits {
		for b != 0 {
			t := bits.TrailingZeros64(b)
			fn(uint32(w<<6 + t))
			b &= b - 1
		}
	}
	for id := range s.m {
		fn(id)
	}
}

func (s *idSet) bytes() int64 { return int64(8*cap(s.bits) + 16*len(s.m)) }

// aggDistinctID is count_distinct over a source column, fed with ids.
type aggDistinctID struct {
	in  *interner
	set idSet
}

func (a *aggDistinctID) add(v Value, _ int64) {
	if !v.isNull() {
		a.set.add(a.in.id(v.String()))
	}
}
func (a *aggDistinctID) merge(o aggState) {
	b := o.(*aggDistinctID)
	if b.in == a.in {
		b.set.each(func(id uint32) { a.set.add(id) })
		return
	}
	b.set.each(func(id uint32) { a.set.add(a.in.id(b.in.strs[id])) })
}
func (a *aggDistinctID) result() Value { return vInt(int64(a.set.n)) }
func (a *aggDistinctID) size() int64   { return 64 + a.set.bytes() }

// distinctFeed turns the rows of a source column into interned ids, with a
// per-block memo from dictionary codes to ids.
type distinctFeed struct {
	slot int
	in   *interner
	memo []uint32 // dict code → id+1
	col  *scan.Column
}

func (f *distinctFeed) reset(col *scan.Column) {
	f.col = col
	if col != nil && col.Type == scan.TypeDict {
		if cap(f.memo) < len(col.Dict) {
			f.memo = make([]uint32, len(col.Dict))
		}
		f.memo = f.memo[:len(col.Dict)]
		clear(f.memo)
	}
}

// id returns the id of block row i, or false when the row lacks the field.
func (f *distinctFeed) id(i int, isTime bool) (uint32, bool) {
	c := f.col
	if !c.Has(i) {
		return 0, false
	}
	switch c.Type {
	case scan.TypeDict:
		code := c.Codes[i]
		if m := f.memo[code]; m != 0 {
			return m - 1, true
		}
		id := f.in.id(c.Dict[code])
		f.memo[code] = id + 1
		return id, true
	case scan.TypeString:
		return f.in.id(c.Strs[i]), true
	case scan.TypeInt:
		if isTime {
			return f.in.id(formatTime(c.Ints[i])), true
		}
		var buf [24]byte
		return f.in.id(string(strconv.AppendInt(buf[:0], c.Ints[i], 10))), true
	}
	v := colValue(c, i, isTime)
	if v.isNull() {
		return 0, false
	}
	return f.in.id(v.String()), true
}
