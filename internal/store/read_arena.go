package store

import "github.com/mailtrail/mailtrail/internal/scan"

// colArena hands out the per-row arrays of decoded columns (ints, codes,
// presence bitmaps) from slabs that one scan worker reuses from block to
// block, which scan.Source allows: a block's columns are valid only until
// the engine's callback returns. Allocating them afresh (hundreds of KB per
// column per block) made the garbage collector and page clearing a fifth
// of a simple query. Strings and values holding pointers are never taken
// from it. A nil arena allocates.
type colArena struct {
	i64 slab[int64]
	f64 slab[float64]
	u32 slab[uint32]
	i32 slab[int32]
	u64 slab[uint64]
	bs  slab[bool]
}

type slab[T any] struct {
	buf []T
	n   int
}

// take returns n zeroed elements, never a nil slice (decoders tell an
// empty list from none by nil).
func (s *slab[T]) take(n int) []T {
	if s.n+n > len(s.buf) || s.buf == nil {
		// The old slab stays alive as long as columns use it; the next
		// block starts on this bigger one.
		s.buf = make([]T, max(2*len(s.buf), n, 4096))
		s.n = 0
		out := s.buf[:n:n]
		s.n = n
		return out // fresh memory is zeroed
	}
	out := s.buf[s.n : s.n+n : s.n+n]
	s.n += n
	clear(out)
	return out
}

// takeDirty is take without zeroing, for arrays the caller overwrites
// entirely.
func (s *slab[T]) takeDirty(n int) []T {
	if s.n+n > len(s.buf) || s.buf == nil {
		return s.take(n)
	}
	out := s.buf[s.n : s.n+n : s.n+n]
	s.n += n
	return out
}

// reset makes every slab reusable: the caller guarantees that no column
// handed out since the last reset is in use.
func (a *colArena) reset() {
	if a != nil {
		a.i64.n, a.f64.n, a.u32.n, a.i32.n, a.u64.n, a.bs.n = 0, 0, 0, 0, 0, 0
	}
}

func (a *colArena) ints(n int) []int64 {
	if a == nil {
		return make([]int64, n)
	}
	return a.i64.take(n)
}

func (a *colArena) floats(n int) []float64 {
	if a == nil {
		return make([]float64, n)
	}
	return a.f64.take(n)
}

// fullInts and fullCodes are ints and codes for decoders that write
// every element (a column present at every row, no subset).
func (a *colArena) fullInts(n int) []int64 {
	if a == nil {
		return make([]int64, n)
	}
	return a.i64.takeDirty(n)
}

func (a *colArena) fullCodes(n int) []uint32 {
	if a == nil {
		return make([]uint32, n)
	}
	return a.u32.takeDirty(n)
}

func (a *colArena) codes(n int) []uint32 {
	if a == nil {
		return make([]uint32, n)
	}
	return a.u32.take(n)
}

// int32s returns a zero-length slice with capacity n.
func (a *colArena) int32s(n int) []int32 {
	if a == nil {
		return make([]int32, 0, n)
	}
	return a.i32.takeDirty(n)[:0] // appended to: no need to zero
}

func (a *colArena) bitmap(rows int) scan.Bitmap {
	if a == nil {
		return scan.NewBitmap(rows)
	}
	return scan.Bitmap(a.u64.take((rows + 63) / 64))
}

func (a *colArena) bools(n int) []bool {
	if a == nil {
		return make([]bool, n)
	}
	return a.bs.take(n)
}

// placeRows lays a column decoded over every stored row out over the rows
// of sub: stored row r goes to output row sub.pos[r] (of sub.n), for the
// rows listed in sub.rows (as decodeColumn over sub would: other output
// rows hold zero values, absent only if the column has a presence bitmap).
func placeRows(ar *colArena, c *scan.Column, sub *rowSubset) *scan.Column {
	out := &scan.Column{Type: c.Type, Dict: c.Dict, DictIPv4: c.DictIPv4}
	if len(sub.rows) == sub.n {
		// Every output row is listed, so output row i is stored row
		// sub.rows[i] (both ascending): a plain gather, as compaction is.
		if c.Present != nil {
			out.Present = pickBits(ar, c.Present, sub.rows)
		}
		switch c.Type {
		case scan.TypeString:
			out.Strs = pickTo(make([]string, sub.n), c.Strs, sub.rows)
		case scan.TypeDict:
			out.Codes = pickTo(ar.fullCodes(sub.n), c.Codes, sub.rows)
		case scan.TypeInt:
			out.Ints = pickTo(ar.fullInts(sub.n), c.Ints, sub.rows)
		case scan.TypeFloat:
			out.Floats = pickTo(ar.floats(sub.n), c.Floats, sub.rows)
		case scan.TypeMixed:
			out.Values = pickTo(make([]scan.Value, sub.n), c.Values, sub.rows)
		}
		return out
	}
	if c.Present != nil {
		out.Present = ar.bitmap(sub.n)
		n := 0
		for _, r := range sub.rows {
			if c.Present.Get(r) {
				out.Present.Set(int(sub.pos[r]))
				n++
			}
		}
		if n == sub.n {
			out.Present = nil // every output row has the field
		}
	}
	switch c.Type {
	case scan.TypeString:
		out.Strs = place(make([]string, sub.n), c.Strs, sub)
	case scan.TypeDict:
		out.Codes = place(ar.codes(sub.n), c.Codes, sub)
	case scan.TypeInt:
		out.Ints = place(ar.ints(sub.n), c.Ints, sub)
	case scan.TypeFloat:
		out.Floats = place(ar.floats(sub.n), c.Floats, sub)
	case scan.TypeMixed:
		out.Values = place(make([]scan.Value, sub.n), c.Values, sub)
	}
	return out
}

func place[T any](out, v []T, sub *rowSubset) []T {
	for _, r := range sub.rows {
		out[sub.pos[r]] = v[r]
	}
	return out
}

// pickBits returns the bitmap of pres at rows (output bit i is pres bit
// rows[i]), or nil when every one of those rows is set. Output words are
// built in a register and stored once: no read-modify-write per row.
func pickBits(ar *colArena, pres scan.Bitmap, rows []int) scan.Bitmap {
	var out scan.Bitmap
	all := ^uint64(0)
	var w uint64
	for i, r := range rows {
		bit := pres[r>>6] >> (uint(r) & 63) & 1
		w |= bit << (uint(i) & 63)
		if i&63 == 63 {
			all &= w
			if all != ^uint64(0) && out == nil {
				out = ar.bitmap(len(rows))
				// The words before this one were all full.
				for k := 0; k < i>>6; k++ {
					out[k] = ^uint64(0)
				}
			}
			if out != nil {
				out[i>>6] = w
			}
			w = 0
		}
	}
	if rem := len(rows) & 63; rem != 0 {
		if w != 1<<uint(rem)-1 && out == nil {
			out = ar.bitmap(len(rows))
			for k := 0; k < len(rows)>>6; k++ {
				out[k] = ^uint64(0)
			}
		}
		if out != nil {
			out[len(rows)>>6] = w
		}
	}
	return out
}
