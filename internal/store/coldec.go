package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// chunkReader walks a decompressed chunk payload; every read is bounds
// checked so a corrupt chunk yields an error, never a panic.
type chunkReader struct {
	b   []byte
	i   int
	err error
}

func (r *chunkReader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at chunk byte %d: %s", r.i, fmt.Sprintf(format, a...))
	}
}

func (r *chunkReader) byte1() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.fail("unexpected end of chunk")
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *chunkReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.i += n
	return v
}

func (r *chunkReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.i) {
		r.fail("%d bytes wanted, %d left", n, len(r.b)-r.i)
		return nil
	}
	r.i += int(n)
	return r.b[r.i-int(n) : r.i]
}

// decodeColumn turns a chunk payload into a scan.Column over nrows rows.
// ts is the block's @timestamp column (needed by the minus-timestamp mode).
// rowSubset selects the rows a filtered scan keeps: pos[r] is row r's index
// in the output, or -1 when r is dropped; n rows are kept.
type rowSubset struct {
	pos   []int32 // complete once len(pos) == nrows (see positions)
	rows  []int   // kept rows, ascending
	n     int
	nrows int // stored rows
}

func newRowSubset(keep []bool) *rowSubset { return newRowSubsetIn(keep, nil) }

// newRowSubsetIn is newRowSubset reusing the memory of old (which must no
// longer be in use) when it is large enough.
func newRowSubsetIn(keep []bool, old *rowSubset) *rowSubset {
	s := newRowSubsetLazy(keep, old)
	s.positions()
	return s
}

// newRowSubsetLazy is newRowSubsetIn leaving pos to be built on first use
// (positions) when few rows are kept: most blocks of a selective top-k
// scan are only filtered and counted, and never decode a column over
// their kept rows.
func newRowSubsetLazy(keep []bool, old *rowSubset) *rowSubset {
	n := countTrue(keep)
	s := &rowSubset{n: n, nrows: len(keep)}
	// rows gets one spare slot: the dense loop below writes every row to
	// rows[j] and advances j only for kept ones (no branch to mispredict
	// on rows kept at random).
	if old != nil && cap(old.rows) >= n+1 {
		s.pos, s.rows = old.pos[:0], old.rows[:n+1]
	} else {
		s.rows = make([]int, n+1)
		if old != nil {
			s.pos = old.pos[:0]
		}
	}
	if 16*n < len(keep) {
		// Few rows kept (a selective filter): visit only the words of
		// keep that hold a kept row.
		j := 0
		kb := boolBytes(keep)
		w := 0
		for ; w+8 <= len(kb); w += 8 {
			x := binary.LittleEndian.Uint64(kb[w:])
			for x != 0 {
				s.rows[j] = w + bits.TrailingZeros64(x)/8
				j++
				x &= x - 1
			}
		}
		for r := w; r < len(kb); r++ {
			if kb[r] != 0 {
				s.rows[j] = r
				j++
			}
		}
		s.rows = s.rows[:n]
		return s
	}
	if cap(s.pos) >= len(keep) {
		s.pos = s.pos[:len(keep)]
	} else {
		s.pos = make([]int32, len(keep))
	}
	j := 0
	for r, k := range keep {
		b := b2i(k)
		s.pos[r] = int32(j*b + b - 1) // j when kept, else -1
		s.rows[j] = r
		j += b
	}
	s.rows = s.rows[:n]
	return s
}

// rowSubsetOf is the lazy subset of the stored rows listed in rows
// (ascending) out of nrows, reusing the memory of old.
func rowSubsetOf(rows []int32, nrows int, old *rowSubset) *rowSubset {
	s := &rowSubset{n: len(rows), nrows: nrows}
	if old != nil {
		s.pos = old.pos[:0]
		s.rows = old.rows[:0]
	}
	if cap(s.rows) < len(rows) {
		s.rows = make([]int, 0, len(rows)+1) // the spare slot newRowSubsetLazy wants
	}
	for _, r := range rows {
		s.rows = append(s.rows, int(r))
	}
	if 16*len(rows) >= nrows {
		s.positions() // as newRowSubsetLazy builds them for dense subsets
	}
	return s
}

// positions returns pos, building it from rows if it is not yet.
func (s *rowSubset) positions() []int32 {
	if len(s.pos) == s.nrows {
		return s.pos
	}
	if cap(s.pos) >= s.nrows {
		s.pos = s.pos[:s.nrows]
	} else {
		s.pos = make([]int32, s.nrows)
	}
	fillMinus1(s.pos)
	for j, r := range s.rows {
		s.pos[r] = int32(j)
	}
	return s.pos
}

// boolBytes views a []bool as its bytes (0 or 1 each).
func boolBytes(b []bool) []byte {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b))
}

// countTrue counts the true elements, eight at a time: a bool is the byte
// 0 or 1, so a word's population count is its number of trues.
func countTrue(keep []bool) int {
	kb := boolBytes(keep)
	n, w := 0, 0
	for ; w+8 <= len(kb); w += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(kb[w:]))
	}
	for _, b := range kb[w:] {
		n += int(b)
	}
	return n
}

var minus1 = func() (m [1024]int32) {
	for i := range m {
		m[i] = -1
	}
	return
}()

// fillMinus1 sets every element to -1 by block copies.
func fillMinus1(p []int32) {
	for len(p) > 0 {
		p = p[copy(p, minus1[:]):]
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// When sub is given the column is built over the kept rows only (output row
// sub.pos[r] for input row r), which saves building values nobody reads.
func decodeColumn(p []byte, nrows int, ts []int64, ref func(name string) (*scan.Column, error), subs ...*rowSubset) (*scan.Column, error) {
	return decodeColumnIn(nil, p, nrows, ts, ref, subs...)
}

// decodeColumnIn is decodeColumn taking the per-row arrays from ar.
func decodeColumnIn(ar *colArena, p []byte, nrows int, ts []int64, ref func(name string) (*scan.Column, error), subs ...*rowSubset) (*scan.Column, error) {
	var sub *rowSubset
	if len(subs) > 0 {
		sub = subs[0]
	}
	r := &chunkReader{b: p}
	col := &scan.Column{}
	// Every encoding spends at least one bit per row, so a short chunk
	// cannot describe many rows: check before allocating per-row slices.
	if nrows > 8*len(p) || nrows > maxBlockRows {
		return nil, fmt.Errorf("chunk of %d bytes cannot hold %d rows", len(p), nrows)
	}
	if sub != nil {
		if sub.nrows != nrows {
			return nil, fmt.Errorf("row subset of %d rows for a %d-row chunk", sub.nrows, nrows)
		}
		sub.positions()
	}
	dense := sub != nil && 2*len(sub.rows) >= nrows
	if sub != nil && 16*len(sub.rows) >= nrows && len(p) >= 3 && p[0] == 0 && p[1] == encInt && p[2] == intDelta {
		// A full delta column (@timestamp, sequence numbers) at more
		// than one row in 16: the tight loop over every row, then a
		// gather, beats checking each row against the next wanted one.
		dense = true
	}
	if dense && len(p) > 0 && p[0] == 1 && chunkEncoding(p, nrows) == encDict {
		// A dictionary with a presence bitmap goes straight to the kept
		// rows (decodeDictPresent), with no column over every row first.
	} else if dense && chunkEncoding(p, nrows) != encRef {
		// Half the rows or more are kept: decoding in sequence and then
		// moving the kept rows is cheaper than finding each kept row's
		// value by rank.
		c, err := decodeColumnIn(ar, p, nrows, ts, nil)
		if err != nil {
			return nil, err
		}
		return placeRows(ar, c, sub), nil
	}
	outRows := nrows
	if sub != nil {
		outRows = sub.n
	}
	var present []int32
	switch r.byte1() {
	case 0:
		present = nil
		if sub != nil && r.i < len(p) && p[r.i] == encDict {
			return decodeDictSubset(ar, r, col, nil, nrows, nrows, sub)
		}
	case 1:
		bm := r.bytes(uint64((nrows + 7) / 8))
		if r.err != nil {
			return nil, r.err
		}
		full := ar.bitmap(nrows)
		var word [8]byte
		for w := range full {
			k := copy(word[:], bm[min(8*w, len(bm)):])
			clear(word[k:])
			full[w] = binary.LittleEndian.Uint64(word[:])
		}
		if rem := nrows & 63; rem != 0 {
			full[len(full)-1] &= 1<<uint(rem) - 1 // ignore padding bits
		}
		cnt := 0
		for _, w := range full {
			cnt += bits.OnesCount64(w)
		}
		if sub != nil && !dense && r.i < len(p) && p[r.i] == encDict {
			return decodeDictSubset(ar, r, col, full, cnt, nrows, sub)
		}
		if r.i < len(p) && p[r.i] == encDict {
			return decodeDictPresent(ar, r, col, full, cnt, nrows, sub)
		}
		present = ar.int32s(cnt)
		for w, x := range full {
			for x != 0 {
				present = append(present, int32(64*w+bits.TrailingZeros64(x)))
				x &= x - 1
			}
		}
		if sub == nil {
			col.Present = full
		} else {
			col.Present = ar.bitmap(outRows)
			for _, rr := range present {
				if o := sub.pos[rr]; o >= 0 {
					col.Present.Set(int(o))
				}
			}
		}
	default:
		r.fail("bad presence byte")
	}
	if r.err != nil {
		return nil, r.err
	}
	n := nrows
	if present != nil {
		n = len(present)
	}
	row := func(i int) int {
		if present == nil {
			return i
		}
		return int(present[i])
	}
	// out maps value i to its output row, or -1 when the row is dropped.
	out := func(i int) int {
		rr := row(i)
		if sub == nil {
			return rr
		}
		return int(sub.pos[rr])
	}
	switch enc := r.byte1(); enc {
	case encInt:
		mode := r.byte1()
		if mode > intMinusTS {
			r.fail("bad int mode %d", mode)
		}
		if mode == intMinusTS && ts == nil {
			return nil, errNeedTS
		}
		if mode == intMinusTS && len(ts) < nrows {
			r.fail("minus-timestamp int column without timestamps")
		}
		col.Type = scan.TypeInt
		if sub == nil && present == nil {
			col.Ints = ar.fullInts(outRows) // every row is written below
		} else {
			col.Ints = ar.ints(outRows)
		}
		if r.err != nil {
			break
		}
		// The hot loop of every scan (@timestamp, counters): varints are
		// decoded inline, one-byte ones without a call, and the common
		// full-column case writes straight to its row.
		b, at := r.b, r.i
		prev := int64(0)
		dense := sub == nil && present == nil
		last := -1
		if sub != nil && len(sub.rows) > 0 {
			last = sub.rows[len(sub.rows)-1]
		}
		if dense && mode == intDelta {
			// @timestamp of every block of every scan: sorted times, small
			// deltas, one or two bytes each.
			at = decodeDeltas(b, at, col.Ints[:n])
			if at < 0 {
				r.fail("bad varint")
			} else {
				r.i = at
			}
			break
		}
		if sub != nil && present == nil && mode != intMinusTS && len(sub.rows) > 0 {
			// A few rows of a full column (@ptr's sequence numbers, the
			// times of a top-k's matched rows): no per-row position
			// lookup, and the values between wanted rows summed a word at
			// a time.
			at = intsAt(b, at, mode == intDelta, sub.rows, sub.pos, col.Ints)
			if at < 0 {
				r.fail("bad varint")
			} else {
				r.i = at
			}
			break
		}
		for i := 0; i < n; i++ {
			var u uint64
			if at < len(b) && b[at] < 0x80 {
				u = uint64(b[at])
				at++
			} else if at+1 < len(b) && b[at+1] < 0x80 {
				u = uint64(b[at]&0x7f) | uint64(b[at+1])<<7
				at += 2
			} else {
				x, k := binary.Uvarint(b[min(at, len(b)):])
				if k <= 0 {
					r.i = at
					r.fail("bad varint")
					break
				}
				u = x
				at += k
			}
			v := int64(u>>1) ^ -int64(u&1)
			rr := i
			if present != nil {
				rr = int(present[i])
			}
			switch mode {
			case intDelta:
				v += prev
				prev = v
			case intMinusTS:
				v += ts[rr]
			}
			if dense || sub == nil {
				col.Ints[rr] = v
			} else if o := sub.pos[rr]; o >= 0 {
				col.Ints[o] = v
				if rr == last {
					// Past the last kept row: the rest is not needed (the
					// chunk's checksum already vouched for it).
					at = len(b)
					break
				}
			}
		}
		if r.err == nil {
			r.i = at
		}
	case encFloat:
		col.Type = scan.TypeFloat
		col.Floats = ar.floats(outRows)
		b := r.bytes(uint64(n) * 8)
		for i := 0; i < n && r.err == nil; i++ {
			if o := out(i); o >= 0 {
				col.Floats[o] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		}
	case encStr, encUUID:
		col.Type = scan.TypeString
		col.Strs = make([]string, outRows)
		if sub == nil {
			vals := readStrings(r, enc, n)
			for i := 0; i < n && r.err == nil; i++ {
				col.Strs[row(i)] = vals[i]
			}
			break
		}
		readStringsTo(r, enc, n, func(i int) bool { return out(i) >= 0 }, func(i int, s string) { col.Strs[out(i)] = s })
	case encDict:
		col.Type = scan.TypeDict
		nd := r.uvarint()
		if nd > uint64(len(p)) {
			r.fail("dictionary size %d exceeds chunk", nd)
			return nil, r.err
		}
		venc := r.byte1()
		if venc != encStr && venc != encUUID && venc != encIPv4 {
			r.fail("bad dictionary value encoding %d", venc)
		}
		// Over a subset of rows only the values those rows use are built
		// (an IPv4 or UUID dictionary of a block holds thousands): the
		// values are skipped now and read once the codes are known.
		dictAt := r.i
		if venc == encIPv4 && r.err == nil {
			col.DictIPv4 = ipv4NumbersIn(ar, r.b[r.i:], int(nd))
		}
		if sub == nil {
			col.Dict = readStrings(r, venc, int(nd))
		} else {
			readStringsTo(r, venc, int(nd), func(int) bool { return false }, nil)
		}
		w := r.byte1()
		if w != 1 && w != 2 && w != 4 {
			r.fail("bad code width %d", w)
			return nil, r.err
		}
		b := r.bytes(uint64(n) * uint64(w))
		if r.err == nil && sub == nil && present == nil {
			col.Codes = ar.fullCodes(outRows) // every row is written below
		} else {
			col.Codes = ar.codes(outRows)
		}
		if r.err == nil && sub == nil && present == nil {
			// Full column: codes go straight to their rows.
			mx := uint32(0)
			switch w {
			case 1:
				for i, c := range b[:n] {
					col.Codes[i] = uint32(c)
					mx = max(mx, uint32(c))
				}
			case 2:
				for i := range col.Codes[:n] {
					c := uint32(binary.LittleEndian.Uint16(b[2*i:]))
					col.Codes[i] = c
					mx = max(mx, c)
				}
			case 4:
				for i := range col.Codes[:n] {
					c := binary.LittleEndian.Uint32(b[4*i:])
					col.Codes[i] = c
					mx = max(mx, c)
				}
			}
			if n > 0 && uint64(mx) >= nd {
				r.fail("code %d out of dictionary range %d", mx, nd)
			}
			break
		}
		for i := 0; i < n && r.err == nil; i++ {
			c := dictCode(b, int(w), i)
			if uint64(c) >= nd {
				r.fail("code %d out of dictionary range %d", c, nd)
				break
			}
			if o := out(i); o >= 0 {
				col.Codes[o] = c
			}
		}
		if sub != nil && r.err == nil {
			used := ar.bools(int(nd))
			for _, rr := range sub.rows {
				if col.Present == nil || col.Present.Get(int(sub.pos[rr])) {
					used[col.Codes[sub.pos[rr]]] = true
				}
			}
			col.Dict = make([]string, nd)
			dr := &chunkReader{b: p, i: dictAt}
			readStringsTo(dr, venc, int(nd), func(k int) bool { return used[k] }, func(k int, s string) { col.Dict[k] = s })
			if dr.err != nil {
				return nil, dr.err
			}
		}
	case encRef:
		name := string(r.bytes(r.uvarint()))
		eq := r.bytes(uint64((n + 7) / 8))
		nested := r.bytes(r.uvarint())
		if r.err != nil {
			return nil, r.err
		}
		if ref == nil {
			r.fail("column refers to column %q, which cannot be resolved here", name)
			return nil, r.err
		}
		base, err := ref(name)
		if err != nil {
			return nil, fmt.Errorf("referenced column %q: %w", name, err)
		}
		rest, err := decodeColumnIn(ar, nested, nrows, ts, nil, sub)
		if err != nil {
			return nil, fmt.Errorf("nested chunk: %w", err)
		}
		pres := col.Present
		col, err = mergeRef(base, rest, eq, n, out, outRows)
		if err != nil {
			return nil, err
		}
		col.Present = pres
	case encMixed:
		col.Type = scan.TypeMixed
		col.Values = make([]scan.Value, outRows)
		for i := 0; i < n && r.err == nil; i++ {
			o := out(i)
			switch r.byte1() {
			case 1:
				b := r.bytes(r.uvarint())
				if o >= 0 && r.err == nil {
					col.Values[o] = scan.Str(string(b))
				}
			case 2:
				if r.err == nil {
					v, k := binary.Varint(r.b[r.i:])
					if k <= 0 {
						r.fail("bad varint")
					}
					r.i += max(k, 0)
					if o >= 0 {
						col.Values[o] = scan.Int(v)
					}
				}
			case 3:
				b := r.bytes(8)
				if r.err == nil && o >= 0 {
					col.Values[o] = scan.Float(math.Float64frombits(binary.LittleEndian.Uint64(b)))
				}
			default:
				r.fail("bad mixed value kind")
			}
		}
	default:
		r.fail("unknown column encoding %d", enc)
	}
	if r.err == nil && r.i != len(p) {
		r.fail("%d trailing bytes", len(p)-r.i)
	}
	if r.err != nil {
		return nil, r.err
	}
	return col, nil
}

// decodeDictPresent decodes a dictionary chunk of n values over all nrows
// rows, full saying which rows have one: the codes go to their rows by
// walking the bitmap, with no list of present rows built first (address
// and user columns of most blocks have a presence bitmap). With sub (which
// keeps half the rows or more) they go to the kept rows' output rows
// instead, as decodeColumn followed by placeRows would lay them out.
func decodeDictPresent(ar *colArena, r *chunkReader, col *scan.Column, full scan.Bitmap, n, nrows int, sub *rowSubset) (*scan.Column, error) {
	r.byte1() // encDict, checked by the caller
	col.Type = scan.TypeDict
	col.Present = full
	nd := r.uvarint()
	if nd > uint64(len(r.b)) {
		r.fail("dictionary size %d exceeds chunk", nd)
		return nil, r.err
	}
	venc := r.byte1()
	if venc != encStr && venc != encUUID && venc != encIPv4 {
		r.fail("bad dictionary value encoding %d", venc)
		return nil, r.err
	}
	if venc == encIPv4 && r.err == nil {
		col.DictIPv4 = ipv4NumbersIn(ar, r.b[r.i:], int(nd))
	}
	col.Dict = readStrings(r, venc, int(nd))
	w := r.byte1()
	if w != 1 && w != 2 && w != 4 {
		r.fail("bad code width %d", w)
		return nil, r.err
	}
	b := r.bytes(uint64(n) * uint64(w))
	if r.err != nil {
		return nil, r.err
	}
	if sub != nil {
		return dictPresentSub(ar, col, b, int(w), full, nd, sub, r)
	}
	// Rows without the field must hold 0: they are few, so they are
	// zeroed one by one rather than the whole array first.
	codes := ar.fullCodes(nrows)
	mx := uint32(0)
	i := 0
	for wi, x := range full {
		base := 64 * wi
		absent := ^x
		if rem := nrows - base; rem < 64 {
			absent &= 1<<uint(rem) - 1
		}
		for absent != 0 {
			codes[base+bits.TrailingZeros64(absent)] = 0
			absent &= absent - 1
		}
		for x != 0 {
			c := dictCode(b, int(w), i)
			codes[base+bits.TrailingZeros64(x)] = c
			mx = max(mx, c)
			i++
			x &= x - 1
		}
	}
	if err := checkCodes(r, n > 0, mx, nd); err != nil {
		return nil, err
	}
	col.Codes = codes
	return col, nil
}

// dictPresentSub is decodeDictPresent's loop for a row subset: value i of
// stored row r goes to output row sub.pos[r] when that row is kept.
func dictPresentSub(ar *colArena, col *scan.Column, b []byte, w int, full scan.Bitmap, nd uint64, sub *rowSubset, r *chunkReader) (*scan.Column, error) {
	// Output rows without the field must hold 0. When every output row
	// is a kept stored row (the hints' subset), those are the kept rows
	// lacking the field, few, zeroed one by one; otherwise (a lazy load
	// of some rows) the whole array is zeroed first.
	every := len(sub.rows) == sub.n
	var codes []uint32
	if every {
		codes = ar.fullCodes(sub.n)
	} else {
		codes = ar.codes(sub.n)
	}
	pres := ar.bitmap(sub.n)
	pos := sub.pos
	nrows := len(pos)
	mx := uint32(0)
	i := 0
	kept := 0
	for wi, x := range full {
		base := 64 * wi
		if every {
			absent := ^x
			if rem := nrows - base; rem < 64 {
				absent &= 1<<uint(rem) - 1
			}
			for absent != 0 {
				if o := pos[base+bits.TrailingZeros64(absent)]; o >= 0 {
					codes[o] = 0
				}
				absent &= absent - 1
			}
		}
		for x != 0 {
			c := dictCode(b, w, i)
			mx = max(mx, c)
			i++
			if o := pos[base+bits.TrailingZeros64(x)]; o >= 0 {
				codes[o] = c
				pres[o>>6] |= 1 << (uint(o) & 63)
				kept++
			}
			x &= x - 1
		}
	}
	if err := checkCodes(r, i > 0, mx, nd); err != nil {
		return nil, err
	}
	col.Codes = codes
	col.Present = pres
	if kept == sub.n {
		col.Present = nil // every output row has the field
	}
	return col, nil
}

// decodeDeltas decodes len(out) zig-zag delta varints from b[at:] into
// running sums and returns the offset after them, or -1 on a bad varint.
func decodeDeltas(b []byte, at int, out []int64) int {
	prev := int64(0)
	for i := range out {
		var u uint64
		if at < len(b) && b[at] < 0x80 {
			u = uint64(b[at])
			at++
		} else if at+1 < len(b) && b[at+1] < 0x80 {
			u = uint64(b[at]&0x7f) | uint64(b[at+1])<<7
			at += 2
		} else {
			x, k := binary.Uvarint(b[min(at, len(b)):])
			if k <= 0 {
				return -1
			}
			u = x
			at += k
		}
		prev += int64(u>>1) ^ -int64(u&1)
		out[i] = prev
	}
	return at
}

// intsAt decodes the zig-zag varints (plain, or deltas when delta) of an
// int column present at every row from b[at:], storing the value of stored
// row rows[k] at out[pos[rows[k]]]. It stops after the last of rows (the
// chunk's checksum already vouched for the rest) and returns len(b), or
// -1 on a bad varint. rows is ascending and not empty.
func intsAt(b []byte, at int, delta bool, rows []int, pos []int32, out []int64) int {
	prev := int64(0)
	k, next := 0, rows[0]
	for i := 0; ; i++ {
		// Before the next wanted row, runs of one- or two-byte varints
		// (sequence numbers, timestamps) are summed a word at a time; a
		// word of mixed lengths is followed by four values one by one
		// before the next try, so that data which never fits a word
		// costs little more than the plain loop.
		for next-i >= 8 && at+32 <= len(b) {
			w := binary.LittleEndian.Uint64(b[at:])
			if c := w & 0x8080808080808080; c == 0 {
				if delta {
					prev += sumZigzag1x8(w)
				}
				i, at = i+8, at+8
				continue
			} else if c == 0x0080008000800080 {
				if delta {
					prev += sumZigzag2x4(w)
				}
				i, at = i+4, at+8
				continue
			}
			// Four values one by one: with at+32 <= len(b), b[at+1]
			// stays in b even after three 10-byte varints.
			for end := i + 4; i < end; i++ {
				var u uint64
				if b[at] < 0x80 {
					u = uint64(b[at])
					at++
				} else if b[at+1] < 0x80 {
					u = uint64(b[at]&0x7f) | uint64(b[at+1])<<7
					at += 2
				} else {
					x, n := binary.Uvarint(b[at:])
					if n <= 0 {
						return -1
					}
					u = x
					at += n
				}
				prev += int64(u>>1) ^ -int64(u&1)
			}
		}
		var u uint64
		if at < len(b) && b[at] < 0x80 {
			u = uint64(b[at])
			at++
		} else if at+1 < len(b) && b[at+1] < 0x80 {
			u = uint64(b[at]&0x7f) | uint64(b[at+1])<<7
			at += 2
		} else {
			x, n := binary.Uvarint(b[min(at, len(b)):])
			if n <= 0 {
				return -1
			}
			u = x
			at += n
		}
		v := int64(u>>1) ^ -int64(u&1)
		if delta {
			v += prev
			prev = v
		}
		if i == next {
			out[pos[next]] = v
			if k++; k == len(rows) {
				return len(b)
			}
			next = rows[k]
		}
	}
}

// sumZigzag1x8 returns the sum of the values of the eight one-byte
// zig-zag varints in w (every byte below 0x80). A value is h = u>>1 for
// even u and -(h+1) for odd u, so the sum is Σh - 2·Σ(h of odd u) - #odd.
func sumZigzag1x8(w uint64) int64 {
	h := w >> 1 & 0x7f7f7f7f7f7f7f7f
	odd := w & 0x0101010101010101
	return int64(sumBytes(h)) - 2*int64(sumBytes(h&(odd*0xff))) - int64(bits.OnesCount64(odd))
}

// sumZigzag2x4 is sumZigzag1x8 for four two-byte varints (bytes 0, 2, 4
// and 6 with the continuation bit, the others without).
func sumZigzag2x4(w uint64) int64 {
	u := w&0x007f007f007f007f | (w>>8&0x007f007f007f007f)<<7 // 14-bit values in 16-bit lanes
	h := u >> 1 & 0x1fff1fff1fff1fff
	odd := u & 0x0001000100010001
	return int64(sumLanes(h)) - 2*int64(sumLanes(h&(odd*0xffff))) - int64(bits.OnesCount64(odd))
}

// sumBytes adds the bytes of x, each at most 0x7f.
func sumBytes(x uint64) uint64 {
	return sumLanes(x&0x00ff00ff00ff00ff + x>>8&0x00ff00ff00ff00ff)
}

// sumLanes adds the four 16-bit lanes of x, whose sum fits 16 bits.
func sumLanes(x uint64) uint64 { return x * 0x0001000100010001 >> 48 }

// decodeDictSubset decodes a dictionary chunk (r just after the presence
// bitmap full, nil when every row is present; n values) over the rows of
// sub only: codes are fixed-width, so each kept row's code is found by its
// rank among the present rows instead of walking every value, and only the
// dictionary values the kept rows use are built.
func decodeDictSubset(ar *colArena, r *chunkReader, col *scan.Column, full scan.Bitmap, n, nrows int, sub *rowSubset) (*scan.Column, error) {
	r.byte1() // encDict, checked by the caller
	col.Type = scan.TypeDict
	nd := r.uvarint()
	if nd > uint64(len(r.b)) {
		r.fail("dictionary size %d exceeds chunk", nd)
		return nil, r.err
	}
	venc := r.byte1()
	if venc != encStr && venc != encUUID && venc != encIPv4 {
		r.fail("bad dictionary value encoding %d", venc)
		return nil, r.err
	}
	dictAt := r.i
	readStringsTo(r, venc, int(nd), func(int) bool { return false }, nil)
	w := r.byte1()
	if w != 1 && w != 2 && w != 4 {
		r.fail("bad code width %d", w)
		return nil, r.err
	}
	b := r.bytes(uint64(n) * uint64(w))
	if r.err == nil && r.i != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.i)
	}
	if r.err != nil {
		return nil, r.err
	}
	var rank []int32 // present rows before word k of full
	if full != nil {
		rank = ar.int32s(len(full))[:len(full)] // every element is written
		c := int32(0)
		for k, x := range full {
			rank[k] = c
			c += int32(bits.OnesCount64(x))
		}
		col.Present = ar.bitmap(sub.n)
	}
	col.Codes = ar.codes(sub.n)
	used := ar.bools(int(nd))
	for _, rr := range sub.rows {
		vi := rr
		if full != nil {
			word := full[rr>>6]
			if word&(1<<(uint(rr)&63)) == 0 {
				continue
			}
			vi = int(rank[rr>>6]) + bits.OnesCount64(word&(1<<(uint(rr)&63)-1))
			col.Present.Set(int(sub.pos[rr]))
		}
		c := dictCode(b, int(w), vi)
		if uint64(c) >= nd {
			r.fail("code %d out of dictionary range %d", c, nd)
			return nil, r.err
		}
		col.Codes[sub.pos[rr]] = c
		used[c] = true
	}
	// The dictionary holds only the values in use (a few hundred of a
	// block's thousands of user names or addresses), renumbered in
	// dictionary order: no array of every value to allocate, zero and
	// have the collector scan.
	remap := ar.int32s(int(nd))[:nd] // new code of each used value
	cnt := 0
	for k, u := range used {
		if u {
			remap[k] = int32(cnt)
			cnt++
		}
	}
	if cnt == 0 {
		// No kept row has the field: codes stay 0, which must name an
		// entry when the dictionary has one.
		col.Dict = make([]string, min(nd, 1))
		return col, nil
	}
	for _, rr := range sub.rows {
		if o := sub.pos[rr]; full == nil || col.Present.Get(int(o)) {
			col.Codes[o] = uint32(remap[col.Codes[o]])
		}
	}
	col.Dict = make([]string, cnt)
	if venc == encIPv4 {
		ips := ar.fullCodes(cnt) // every element is written
		vals := r.b[dictAt:]     // nd addresses of 4 bytes (checked above)
		for k, u := range used {
			if u {
				ips[remap[k]] = binary.BigEndian.Uint32(vals[4*k:])
			}
		}
		col.DictIPv4 = ips
	}
	dr := &chunkReader{b: r.b, i: dictAt}
	readStringsTo(dr, venc, int(nd), func(k int) bool { return used[k] }, func(k int, s string) { col.Dict[remap[k]] = s })
	if dr.err != nil {
		return nil, dr.err
	}
	return col, nil
}

// readFixedTo is readStringsTo for values stored in width bytes each and
// shown as at most textMax bytes of text by appendText (addresses, UUIDs).
func readFixedTo(r *chunkReader, n, width, textMax int, appendText func(dst, src []byte) []byte, wanted func(int) bool, set func(int, string)) {
	b := r.bytes(uint64(n) * uint64(width))
	if r.err != nil || set == nil {
		return
	}
	cnt := 0
	for i := 0; i < n; i++ {
		if wanted(i) {
			cnt++
		}
	}
	buf := make([]byte, 0, textMax*cnt)
	for i := 0; i < n; i++ {
		if wanted(i) {
			start := len(buf)
			buf = appendText(buf, b[width*i:width*i+width])
			set(i, unsafe.String(&buf[start], len(buf)-start))
		}
	}
}

// readStringsTo builds only the values for which wanted(i) is true, all
// in one allocation that the strings alias; with set nil it only skips the
// values.
func readStringsTo(r *chunkReader, enc byte, n int, wanted func(int) bool, set func(int, string)) {
	switch enc {
	case encIPv4:
		readFixedTo(r, n, 4, 15, appendIPv4, wanted, set)
	case encUUID:
		readFixedTo(r, n, 16, 36, appendUUIDText, wanted, set)
	case encStr:
		if uint64(n) > uint64(len(r.b)) {
			r.fail("string count %d exceeds chunk", n)
			return
		}
		// The lengths come first, then the bytes: a first walk checks
		// and sums the lengths, later ones (over lengths known to be
		// good) find the wanted values, so no array of n lengths. Most
		// lengths take one byte: read inline.
		b := r.b
		lensAt, at := r.i, r.i
		total := uint64(0)
		for i := 0; i < n; i++ {
			var l uint64
			if at < len(b) && b[at] < 0x80 {
				l = uint64(b[at])
				at++
			} else {
				x, k := binary.Uvarint(b[min(at, len(b)):])
				if k <= 0 {
					r.i = at
					r.fail("bad varint")
					return
				}
				l = x
				at += k
			}
			if l > uint64(len(b)) {
				r.i = at
				r.fail("string length %d exceeds chunk", l)
				return
			}
			total += l
		}
		r.i = at
		data := r.bytes(total)
		if r.err != nil || set == nil {
			return
		}
		// Two more walks over the lengths (known good now): the size of
		// the wanted values, then the values.
		size := 0
		for i, at := 0, lensAt; i < n; i++ {
			l := uint64(b[at])
			if l < 0x80 {
				at++
			} else {
				var k int
				l, k = binary.Uvarint(b[at:])
				at += k
			}
			if wanted(i) {
				size += int(l)
			}
		}
		buf := make([]byte, 0, size)
		for i, at, off := 0, lensAt, 0; i < n; i++ {
			l := int(b[at])
			if l < 0x80 {
				at++
			} else {
				x, k := binary.Uvarint(b[at:])
				l = int(x)
				at += k
			}
			if wanted(i) {
				start := len(buf)
				buf = append(buf, data[off:off+l]...)
				set(i, unsafe.String(unsafe.SliceData(buf[start:]), l))
			}
			off += l
		}
	default:
		r.fail("bad string encoding %d", enc)
	}
}

func readStrings(r *chunkReader, enc byte, n int) []string {
	if r.err != nil {
		return nil
	}
	if enc == encUUID {
		b := r.bytes(uint64(n) * 16)
		if r.err != nil {
			return nil
		}
		buf := make([]byte, 0, n*36)
		for i := 0; i < n; i++ {
			buf = appendUUIDText(buf, b[16*i:])
		}
		all := unsafe.String(unsafe.SliceData(buf), len(buf))
		out := make([]string, n)
		for i := range out {
			out[i] = all[36*i : 36*i+36]
		}
		return out
	}
	if enc == encIPv4 {
		b := r.bytes(uint64(n) * 4)
		if r.err != nil {
			return nil
		}
		// Each octet is one 4-byte store of its digits and a dot from a
		// table (8,000 addresses a block for a source_ip column): no
		// per-digit branches. A value is at most 15 bytes; the last
		// store may write 3 bytes past the end of the text, into slack.
		buf := make([]byte, n*15+4)
		out := make([]string, n)
		pos := 0
		for i := range out {
			start := pos
			q := b[4*i : 4*i+4]
			for _, x := range q[:3] {
				binary.LittleEndian.PutUint32(buf[pos:], octetDot[x])
				pos += int(octetLen[x]) + 1
			}
			binary.LittleEndian.PutUint32(buf[pos:], octetDot[q[3]])
			pos += int(octetLen[q[3]])
			out[i] = unsafe.String(&buf[start], pos-start)
		}
		return out
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail("string count %d exceeds chunk", n)
		return nil
	}
	lens := make([]uint64, n)
	total := uint64(0)
	for i := range lens {
		lens[i] = r.uvarint()
		if lens[i] > uint64(len(r.b)) {
			r.fail("string length %d exceeds chunk", lens[i])
			return nil
		}
		total += lens[i]
	}
	b := r.bytes(total)
	if r.err != nil {
		return nil
	}
	all := string(b)
	out := make([]string, n)
	off := uint64(0)
	for i, l := range lens {
		out[i] = all[off : off+l]
		off += l
	}
	return out
}

// mergeRef rebuilds a reference-encoded column: value i (of n present
// values) goes to output row out(i) (skipped when negative) and comes from
// base when its eq bit is set, else from rest; base and rest are already
// laid out over the output rows.
func mergeRef(base, rest *scan.Column, eq []byte, n int, out func(int) int, nrows int) (*scan.Column, error) {
	isStr := func(c *scan.Column) bool { return c.Type == scan.TypeString || c.Type == scan.TypeDict }
	if !isStr(base) || (rest.Type != scan.TypeMixed && !isStr(rest)) {
		return nil, fmt.Errorf("reference encoding over non-string columns (%v, %v)", base.Type, rest.Type)
	}
	isEq := func(i int) bool { return eq[i>>3]&(1<<(uint(i)&7)) != 0 }
	for i := 0; i < n; i++ {
		r := out(i)
		if r < 0 {
			continue
		}
		if isEq(i) {
			if !base.Has(r) {
				return nil, fmt.Errorf("row %d: equal to a referenced value that is absent", r)
			}
		} else if !rest.Has(r) || (rest.Type == scan.TypeMixed) {
			return nil, fmt.Errorf("row %d: value missing from the nested chunk", r)
		}
	}
	if base.Type == scan.TypeDict && (rest.Type == scan.TypeDict || rest.Type == scan.TypeMixed) {
		res := &scan.Column{Type: scan.TypeDict, Codes: make([]uint32, nrows)}
		idx := map[string]uint32{}
		code := func(s string) uint32 {
			c, ok := idx[s]
			if !ok {
				c = uint32(len(res.Dict))
				idx[s] = c
				res.Dict = append(res.Dict, s)
			}
			return c
		}
		baseMap := make([]int32, len(base.Dict))
		for i := range baseMap {
			baseMap[i] = -1
		}
		restMap := make([]int32, len(rest.Dict))
		for i := range restMap {
			restMap[i] = -1
		}
		for i := 0; i < n; i++ {
			r := out(i)
			if r < 0 {
				continue
			}
			var m []int32
			var d []string
			var c uint32
			if isEq(i) {
				m, d, c = baseMap, base.Dict, base.Codes[r]
			} else {
				m, d, c = restMap, rest.Dict, rest.Codes[r]
			}
			if m[c] < 0 {
				m[c] = int32(code(d[c]))
			}
			res.Codes[r] = uint32(m[c])
		}
		return res, nil
	}
	res := &scan.Column{Type: scan.TypeString, Strs: make([]string, nrows)}
	for i := 0; i < n; i++ {
		r := out(i)
		if r < 0 {
			continue
		}
		if isEq(i) {
			res.Strs[r] = base.Value(r).S
		} else {
			res.Strs[r] = rest.Value(r).S
		}
	}
	return res, nil
}

// ipv4Numbers returns the n 4-byte addresses at the start of b as numbers
// (scan.Column.DictIPv4), or nil when b is too short (the string decoder
// reports that).
func ipv4Numbers(b []byte, n int) []uint32 { return ipv4NumbersIn(nil, b, n) }

// ipv4NumbersIn is ipv4Numbers taking the array from ar.
func ipv4NumbersIn(ar *colArena, b []byte, n int) []uint32 {
	if uint64(n)*4 > uint64(len(b)) {
		return nil
	}
	out := ar.fullCodes(n) // every element is written
	for i := range out {
		out[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return out
}

// octetDot holds, little-endian, the decimal digits of each byte value
// followed by a dot; octetLen the number of digits.
var octetDot, octetLen = func() (d [256]uint32, l [256]uint8) {
	for x := range 256 {
		t := appendOctet(nil, byte(x))
		t = append(t, '.', 0, 0)
		d[x] = binary.LittleEndian.Uint32(t)
		l[x] = uint8(len(t) - 3)
	}
	return d, l
}()

// appendIPv4 appends the dotted quad of the 4 bytes q: tens of thousands
// per block for an address dictionary, so written out byte by byte.
func appendIPv4(b, q []byte) []byte {
	b = appendOctet(b, q[0])
	b = append(b, '.')
	b = appendOctet(b, q[1])
	b = append(b, '.')
	b = appendOctet(b, q[2])
	b = append(b, '.')
	return appendOctet(b, q[3])
}

func appendOctet(b []byte, x byte) []byte {
	switch {
	case x >= 100:
		return append(b, '0'+x/100, '0'+x/10%10, '0'+x%10)
	case x >= 10:
		return append(b, '0'+x/10, '0'+x%10)
	}
	return append(b, '0'+x)
}

// chunkEncoding returns the value encoding of a chunk payload (after its
// presence bitmap), or 0 when the payload is too short to say.
func chunkEncoding(p []byte, nrows int) byte {
	at := 1
	if len(p) > 0 && p[0] == 1 {
		at += (nrows + 7) / 8
	}
	if at < len(p) {
		return p[at]
	}
	return 0
}

// dictCode reads dictionary code i of a chunk's codes, stored w (1, 2 or
// 4) bytes each, little-endian.
func dictCode(b []byte, w, i int) uint32 {
	switch w {
	case 1:
		return uint32(b[i])
	case 2:
		return uint32(binary.LittleEndian.Uint16(b[2*i:]))
	default:
		return binary.LittleEndian.Uint32(b[4*i:])
	}
}

// checkCodes ends the decoding of a dictionary chunk's codes: the largest
// code read (mx, when any was) must name a dictionary value, and nothing
// may follow the codes.
func checkCodes(r *chunkReader, any bool, mx uint32, nd uint64) error {
	if any && uint64(mx) >= nd {
		r.fail("code %d out of dictionary range %d", mx, nd)
		return r.err
	}
	if r.i != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.i)
		return r.err
	}
	return nil
}

// intTest is an integer hint as intMatches applies it: v == x when eq,
// else lo <= float64(v) <= hi (what applyHint does for int columns).
type intTest struct {
	eq     bool
	x      int64
	lo, hi float64
}

// intTestOf returns the test of a hint that intMatches can apply (numeric
// equality or a range), or false.
func intTestOf(h *scan.Hint) (intTest, bool) {
	var lo, hi float64
	switch {
	case h.Op == scan.HintRange:
		lo, hi = h.Lo, h.Hi
	case h.Op == scan.HintEq && h.IsNum:
		lo, hi = h.Num, h.Num
	default:
		return intTest{}, false
	}
	t := intTest{lo: lo, hi: hi}
	if x := int64(lo); lo == hi && float64(x) == lo {
		t.eq, t.x = true, x
	}
	return t, true
}

// intMatches evaluates t over an int chunk (plain or delta mode) of nrows
// rows without building the column: it returns the rows whose value passes,
// ascending, and their values (rows lacking the field never pass). A filter
// column of a selective query passes a few rows in a thousand, so the
// column over every row, its zeroing, and the per-row pass array and
// presence merge are all work for rows that are dropped at once. ok is
// false when the chunk is not such an int chunk (the caller decodes it the
// general way).
func intMatches(ar *colArena, p []byte, nrows int, t intTest) (rows []int32, vals []int64, ok bool, err error) {
	if nrows > 8*len(p) || nrows > maxBlockRows {
		return nil, nil, false, fmt.Errorf("chunk of %d bytes cannot hold %d rows", len(p), nrows)
	}
	r := &chunkReader{b: p}
	var bm []byte
	switch r.byte1() {
	case 0:
	case 1:
		bm = r.bytes(uint64((nrows + 7) / 8))
	default:
		r.fail("bad presence byte")
	}
	if r.err != nil {
		return nil, nil, false, r.err
	}
	if r.i+2 > len(p) || p[r.i] != encInt || (p[r.i+1] != intPlain && p[r.i+1] != intDelta) {
		return nil, nil, false, nil
	}
	delta := p[r.i+1] == intDelta
	b, at := p, r.i+2
	n := nrows
	var full scan.Bitmap
	if bm != nil {
		full = ar.bitmap(nrows)
		var word [8]byte
		for w := range full {
			k := copy(word[:], bm[min(8*w, len(bm)):])
			clear(word[k:])
			full[w] = binary.LittleEndian.Uint64(word[:])
		}
		if rem := nrows & 63; rem != 0 {
			full[len(full)-1] &= 1<<uint(rem) - 1 // ignore padding bits
		}
		n = 0
		for _, x := range full {
			n += bits.OnesCount64(x)
		}
	}
	// At most n rows pass; the arrays are written only as far as they are
	// filled, so they need no zeroing.
	rows = ar.int32s(n)
	vals = ar.fullInts(n)[:0]
	// First the passing values' indexes (in rows), then their rows.
	// Equality with a small number in plain mode (flags, status codes)
	// tests eight one-byte varints at once.
	swar := !delta && t.eq && t.x >= -64 && t.x < 64
	target := zigzag(t.x) * 0x0101010101010101
	prev := int64(0)
	for i := 0; i < n; {
		if swar && i+8 <= n && at+8 <= len(b) {
			if w := binary.LittleEndian.Uint64(b[at:]); w&0x8080808080808080 == 0 {
				// Bytes equal to the target: where w^target has a zero
				// byte (exact: no carry crosses a byte).
				d := w ^ target
				eq := ^((d&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | d | 0x7f7f7f7f7f7f7f7f)
				for eq != 0 {
					rows = append(rows, int32(i+bits.TrailingZeros64(eq)/8))
					vals = append(vals, t.x)
					eq &= eq - 1
				}
				i, at = i+8, at+8
				continue
			}
		}
		var u uint64
		if at < len(b) && b[at] < 0x80 {
			u = uint64(b[at])
			at++
		} else if at+1 < len(b) && b[at+1] < 0x80 {
			u = uint64(b[at]&0x7f) | uint64(b[at+1])<<7
			at += 2
		} else {
			v, k := binary.Uvarint(b[min(at, len(b)):])
			if k <= 0 {
				return nil, nil, false, fmt.Errorf("at chunk byte %d: bad varint", at)
			}
			u = v
			at += k
		}
		v := int64(u>>1) ^ -int64(u&1)
		if delta {
			v += prev
			prev = v
		}
		var ok bool
		if t.eq {
			ok = v == t.x
		} else {
			f := float64(v)
			ok = f >= t.lo && f <= t.hi
		}
		if ok {
			rows = append(rows, int32(i))
			vals = append(vals, v)
		}
		i++
	}
	if at != len(b) {
		return nil, nil, false, fmt.Errorf("at chunk byte %d: %d trailing bytes", at, len(b)-at)
	}
	if full != nil && len(rows) > 0 {
		// Value k is the row of the k-th set bit: whole words are
		// skipped by their population count.
		w, x, base := 0, full[0], 0 // base: the value of x's lowest set bit
		for k, vi := range rows {
			for c := bits.OnesCount64(x); int(vi)-base >= c; c = bits.OnesCount64(x) {
				base += c
				w++
				x = full[w]
			}
			for ; base < int(vi); base++ {
				x &= x - 1
			}
			rows[k] = int32(64*w + bits.TrailingZeros64(x))
		}
	}
	return rows, vals, true, nil
}

// dictMatches is intMatches for a dictionary chunk and any hint but
// presence: the hint is judged once per dictionary value (as applyHint
// does), then the rows whose code passes are found from the codes alone,
// with no code array over every row and no pass array. The returned
// column holds the passing rows' codes (Codes[k] for rows[k]) over the
// whole dictionary. ok is false when the chunk is not a dictionary chunk.
func dictMatches(ar *colArena, p []byte, nrows int, h *scan.Hint) (rows []int32, col *scan.Column, ok bool, err error) {
	if nrows > 8*len(p) || nrows > maxBlockRows {
		return nil, nil, false, fmt.Errorf("chunk of %d bytes cannot hold %d rows", len(p), nrows)
	}
	r := &chunkReader{b: p}
	var full scan.Bitmap
	n := nrows
	switch r.byte1() {
	case 0:
	case 1:
		bm := r.bytes(uint64((nrows + 7) / 8))
		if r.err != nil {
			return nil, nil, false, r.err
		}
		full = ar.bitmap(nrows)
		var word [8]byte
		for w := range full {
			k := copy(word[:], bm[min(8*w, len(bm)):])
			clear(word[k:])
			full[w] = binary.LittleEndian.Uint64(word[:])
		}
		if rem := nrows & 63; rem != 0 {
			full[len(full)-1] &= 1<<uint(rem) - 1 // ignore padding bits
		}
		n = 0
		for _, x := range full {
			n += bits.OnesCount64(x)
		}
	default:
		r.fail("bad presence byte")
	}
	if r.err != nil {
		return nil, nil, false, r.err
	}
	if r.i >= len(p) || p[r.i] != encDict {
		return nil, nil, false, nil
	}
	r.i++
	col = &scan.Column{Type: scan.TypeDict}
	nd := r.uvarint()
	if nd > uint64(len(p)) {
		r.fail("dictionary size %d exceeds chunk", nd)
		return nil, nil, false, r.err
	}
	venc := r.byte1()
	if venc != encStr && venc != encUUID && venc != encIPv4 {
		r.fail("bad dictionary value encoding %d", venc)
		return nil, nil, false, r.err
	}
	if venc == encIPv4 && r.err == nil {
		col.DictIPv4 = ipv4NumbersIn(ar, r.b[r.i:], int(nd))
	}
	col.Dict = readStrings(r, venc, int(nd))
	w := int(r.byte1())
	if w != 1 && w != 2 && w != 4 {
		r.fail("bad code width %d", w)
		return nil, nil, false, r.err
	}
	b := r.bytes(uint64(n) * uint64(w))
	if r.err == nil && r.i != len(p) {
		r.fail("%d trailing bytes", len(p)-r.i)
	}
	if r.err != nil {
		return nil, nil, false, r.err
	}
	pass := ar.bools(int(nd))
	any := false
	d := &scan.Column{Type: scan.TypeString, Strs: col.Dict}
	for k := range pass {
		pass[k] = hintMatches(d, k, h)
		any = any || pass[k]
	}
	rows = ar.int32s(n)
	codes := ar.fullCodes(n)[:0] // at most n pass; written as far as filled
	mx := uint32(0)
	for i := 0; i < n; i++ {
		c := dictCode(b, w, i)
		mx = max(mx, c)
		if any && uint64(c) < nd && pass[c] {
			rows = append(rows, int32(i))
			codes = append(codes, c)
		}
	}
	if n > 0 && uint64(mx) >= nd {
		return nil, nil, false, fmt.Errorf("at chunk byte %d: code %d out of dictionary range %d", r.i, mx, nd)
	}
	if full != nil && len(rows) > 0 {
		// Value k is the row of the k-th set bit (as in intMatches).
		wi, x, base := 0, full[0], 0
		for k, vi := range rows {
			for c := bits.OnesCount64(x); int(vi)-base >= c; c = bits.OnesCount64(x) {
				base += c
				wi++
				x = full[wi]
			}
			for ; base < int(vi); base++ {
				x &= x - 1
			}
			rows[k] = int32(64*wi + bits.TrailingZeros64(x))
		}
	}
	col.Codes = codes
	return rows, col, true, nil
}
