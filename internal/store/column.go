package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// Column chunk encodings (doc/segment.md). A chunk is, before compression:
// u8 presence (0 every row present, 1 bitmap of (rows+7)/8 bytes follows),
// then the present values in one of these encodings.
const (
	encInt   = 1 // u8 mode + zigzag varints (plain, delta, or minus @timestamp)
	encFloat = 2 // 8-byte little-endian IEEE 754 each
	encStr   = 3 // uvarint lengths, then the bytes
	encUUID  = 4 // 16 bytes each (canonical lowercase 8-4-4-4-12 text)
	encDict  = 5 // uvarint n, u8 value encoding (encStr/encUUID) + values, u8 width, codes
	encMixed = 6 // per value: u8 kind (1 string, 2 int, 3 float) + value
	encRef   = 7 // name of another column, bitmap "equal to it" over present rows, nested chunk of the rest
	encIPv4  = 8 // dictionary values only: 4 bytes each (canonical dotted quads)
)

const (
	intPlain   = 0
	intDelta   = 1
	intMinusTS = 2
)

// value kinds inside a column builder
const (
	vkStr   = 1
	vkInt   = 2
	vkFloat = 4
)

// colData is one column of a block being built: the values of the rows that
// have the field, in row order.
type colData struct {
	name    string
	rows    []int32
	kinds   []uint8 // per value
	kindSet uint8
	ints    []int64
	floats  []float64
	strs    []strRef  // string values
	strBuf  []byte    // copies of strings that do not alias a message
	msgs    *[][]byte // the block's messages, which strRefs point into
}

func (c *colData) reset(name string) {
	c.name = name
	c.rows = c.rows[:0]
	c.kinds = c.kinds[:0]
	c.kindSet = 0
	c.ints = c.ints[:0]
	c.floats = c.floats[:0]
	c.strs = c.strs[:0]
	c.strBuf = c.strBuf[:0]
}

// strRef locates a string value in 12 bytes rather than a 24-byte slice
// header: bytes [off, off+n) of message msg, or of strBuf when msg < 0.
type strRef struct {
	msg    int32
	off, n uint32
}

// addStr adds a copy of s.
func (c *colData) addStr(row int32, s []byte) {
	start := len(c.strBuf)
	c.strBuf = append(c.strBuf, s...)
	c.rows = append(c.rows, row)
	c.kinds = append(c.kinds, vkStr)
	c.kindSet |= vkStr
	c.strs = append(c.strs, strRef{msg: -1, off: uint32(start), n: uint32(len(s))})
}

// addStrRef adds bytes [off, off+n) of message row without copying.
func (c *colData) addStrRef(row int32, off, n int) {
	c.rows = append(c.rows, row)
	c.kinds = append(c.kinds, vkStr)
	c.kindSet |= vkStr
	c.strs = append(c.strs, strRef{msg: row, off: uint32(off), n: uint32(n)})
}

func (c *colData) addInt(row int32, v int64) {
	c.rows = append(c.rows, row)
	c.kinds = append(c.kinds, vkInt)
	c.kindSet |= vkInt
	c.ints = append(c.ints, v)
}

func (c *colData) addFloat(row int32, v float64) {
	c.rows = append(c.rows, row)
	c.kinds = append(c.kinds, vkFloat)
	c.kindSet |= vkFloat
	c.floats = append(c.floats, v)
}

func (c *colData) addValue(row int32, v scan.Value) {
	switch v.Kind {
	case scan.KindString:
		c.addStr(row, unsafe.Slice(unsafe.StringData(v.S), len(v.S)))
	case scan.KindInt:
		c.addInt(row, v.I)
	case scan.KindFloat:
		c.addFloat(row, v.F)
	}
}

// pop removes the last value (used when a row is rolled back or a key
// repeats within a message).
func (c *colData) pop() {
	n := len(c.kinds) - 1
	switch c.kinds[n] {
	case vkStr:
		c.strs = c.strs[:len(c.strs)-1]
	case vkInt:
		c.ints = c.ints[:len(c.ints)-1]
	case vkFloat:
		c.floats = c.floats[:len(c.floats)-1]
	}
	c.kinds = c.kinds[:n]
	c.rows = c.rows[:n]
	c.kindSet = 0
	for _, k := range c.kinds {
		c.kindSet |= k
	}
}

func (c *colData) str(i int) []byte {
	r := c.strs[i]
	if r.msg < 0 {
		return c.strBuf[r.off : r.off+r.n]
	}
	return (*c.msgs)[r.msg][r.off : r.off+r.n]
}

// colStats are the block-skipping statistics of a column.
type colStats struct {
	typ      scan.Type
	count    int
	hasNum   bool
	min, max float64
	bloom    []byte   // over string values, nil when none
	small    []string // the distinct values of a small dictionary
}

var isLowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return
}()

func isUUID(b []byte) bool {
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return false
	}
	ok := true
	for _, c := range b[:8] {
		ok = ok && isLowerHex[c]
	}
	for _, c := range b[9:13] {
		ok = ok && isLowerHex[c]
	}
	for _, c := range b[14:18] {
		ok = ok && isLowerHex[c]
	}
	for _, c := range b[19:23] {
		ok = ok && isLowerHex[c]
	}
	for _, c := range b[24:36] {
		ok = ok && isLowerHex[c]
	}
	return ok
}

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

func appendUUIDBytes(dst, s []byte) []byte {
	var out [16]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		out[j/2] |= hexVal(s[i]) << (4 * uint(1-j%2))
		j++
	}
	return append(dst, out[:]...)
}

const hexdigits = "0123456789abcdef"

func appendUUIDText(dst, u []byte) []byte {
	for i, c := range u[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexdigits[c>>4], hexdigits[c&15])
	}
	return dst
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func uvarintLen(u uint64) int { return (bits.Len64(u|1) + 6) / 7 }

// encodeColumn appends the chunk payload for c (over nrows rows) to dst.
// ts holds the block's @timestamp per row, for the minus-timestamp mode.
func encodeColumn(dst []byte, c *colData, nrows int, ts []int64, sc *strScratch) ([]byte, colStats) {
	st := colStats{count: len(c.rows)}
	if len(c.rows) == nrows {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		bm := make([]byte, (nrows+7)/8)
		for _, r := range c.rows {
			bm[r>>3] |= 1 << (uint(r) & 7)
		}
		dst = append(dst, bm...)
	}
	switch c.kindSet {
	case vkInt:
		st.typ = scan.TypeInt
		st.hasNum = true
		st.min, st.max = math.Inf(1), math.Inf(-1)
		var plain, delta, minus int
		prev := int64(0)
		for i, v := range c.ints {
			plain += uvarintLen(zigzag(v))
			delta += uvarintLen(zigzag(v - prev))
			if ts != nil {
				minus += uvarintLen(zigzag(v - ts[c.rows[i]]))
			}
			prev = v
			f := float64(v)
			st.min = math.Min(st.min, f)
			st.max = math.Max(st.max, f)
		}
		mode := intPlain
		if delta < plain {
			mode = intDelta
		}
		if ts != nil && minus < min(plain, delta) {
			mode = intMinusTS
		}
		dst = append(dst, encInt, byte(mode))
		prev = 0
		for i, v := range c.ints {
			switch mode {
			case intPlain:
				dst = binary.AppendUvarint(dst, zigzag(v))
			case intDelta:
				dst = binary.AppendUvarint(dst, zigzag(v-prev))
				prev = v
			case intMinusTS:
				dst = binary.AppendUvarint(dst, zigzag(v-ts[c.rows[i]]))
			}
		}
	case vkFloat:
		st.typ = scan.TypeFloat
		st.hasNum = true
		st.min, st.max = math.Inf(1), math.Inf(-1)
		dst = append(dst, encFloat)
		for _, v := range c.floats {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
			if !math.IsNaN(v) {
				st.min = math.Min(st.min, v)
				st.max = math.Max(st.max, v)
			}
		}
	case vkStr:
		dst, st = encodeStrings(dst, c, st, sc)
	default:
		st.typ = scan.TypeMixed
		dst = append(dst, encMixed)
		var si, ii, fi int
		for _, k := range c.kinds {
			switch k {
			case vkStr:
				s := c.str(si)
				si++
				dst = append(dst, 1)
				dst = binary.AppendUvarint(dst, uint64(len(s)))
				dst = append(dst, s...)
			case vkInt:
				dst = append(dst, 2)
				dst = binary.AppendVarint(dst, c.ints[ii])
				ii++
			case vkFloat:
				dst = append(dst, 3)
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.floats[fi]))
				fi++
			}
		}
	}
	return dst, st
}

// strScratch is reusable memory for encodeStrings.
type strScratch struct {
	dict   map[string]uint32
	order  [][]byte
	counts []int
	codes  []uint32
	remap  []uint32
	perm   []int
}

func encodeStrings(dst []byte, c *colData, st colStats, sc *strScratch) ([]byte, colStats) {
	n := len(c.strs)
	allUUID := true
	if sc.dict == nil {
		sc.dict = map[string]uint32{}
	}
	dict := sc.dict
	clear(dict)
	limit := n / 2
	if limit < 16 {
		limit = 16
	}
	order := sc.order[:0]
	counts := sc.counts[:0]
	codes := slices.Grow(sc.codes[:0], n)[:n]
	useDict := true
	for i := 0; i < n; i++ {
		s := c.str(i)
		if !useDict && allUUID && !isUUID(s) {
			allUUID = false
		}
		if useDict {
			code, ok := dict[string(s)]
			if !ok {
				if allUUID && !isUUID(s) {
					allUUID = false
				}
				if len(order) >= limit || len(order) >= 1<<20 {
					useDict = false
					if !allUUID {
						break
					}
					continue
				}
				code = uint32(len(order))
				dict[string(s)] = code
				order = append(order, s)
				counts = append(counts, 0)
			}
			counts[code]++
			codes[i] = code
		}
	}
	sc.order, sc.counts, sc.codes = order, counts, codes
	if useDict && len(order) > n/2 && n > 32 {
		useDict = false
	}
	var bl bloom
	if useDict {
		// Most frequent values get the smallest codes, so the high bytes of
		// wide codes are mostly zero and compress well.
		perm := slices.Grow(sc.perm[:0], len(order))[:len(order)]
		for i := range perm {
			perm[i] = i
		}
		slices.SortStableFunc(perm, func(a, b int) int { return counts[b] - counts[a] })
		remap := slices.Grow(sc.remap[:0], len(order))[:len(order)]
		for newc, old := range perm {
			remap[old] = uint32(newc)
		}
		sc.perm, sc.remap = perm, remap
		st.typ = scan.TypeDict
		bl = newBloom(len(order))
		total := 0
		allIP := !allUUID
		for _, s := range order {
			bl.add(s)
			total += len(s)
			if allIP && !isIPv4(s) {
				allIP = false
			}
		}
		if len(order) <= 64 && total <= 4096 {
			st.small = make([]string, len(order))
			for i, old := range perm {
				st.small[i] = string(order[old])
			}
		}
		dst = append(dst, encDict)
		dst = binary.AppendUvarint(dst, uint64(len(order)))
		switch {
		case allUUID:
			dst = append(dst, encUUID)
			for _, old := range perm {
				dst = appendUUIDBytes(dst, order[old])
			}
		case allIP:
			dst = append(dst, encIPv4)
			for _, old := range perm {
				dst = appendIPv4Bytes(dst, order[old])
			}
		default:
			dst = append(dst, encStr)
			for _, old := range perm {
				dst = binary.AppendUvarint(dst, uint64(len(order[old])))
			}
			for _, old := range perm {
				dst = append(dst, order[old]...)
			}
		}
		switch {
		case len(order) <= 1<<8:
			dst = append(dst, 1)
			for _, c := range codes {
				dst = append(dst, byte(remap[c]))
			}
		case len(order) <= 1<<16:
			dst = append(dst, 2)
			for _, c := range codes {
				dst = binary.LittleEndian.AppendUint16(dst, uint16(remap[c]))
			}
		default:
			dst = append(dst, 4)
			for _, c := range codes {
				dst = binary.LittleEndian.AppendUint32(dst, remap[c])
			}
		}
	} else {
		st.typ = scan.TypeString
		bl = newBloom(n)
		for i := 0; i < n; i++ {
			bl.add(c.str(i))
		}
		if allUUID {
			dst = append(dst, encUUID)
			for i := 0; i < n; i++ {
				dst = appendUUIDBytes(dst, c.str(i))
			}
		} else {
			dst = append(dst, encStr)
			for i := 0; i < n; i++ {
				dst = binary.AppendUvarint(dst, uint64(len(c.str(i))))
			}
			for i := 0; i < n; i++ {
				dst = append(dst, c.str(i)...)
			}
		}
	}
	st.bloom = bl
	return dst, st
}

// isIPv4 accepts canonical dotted quads only (no leading zeros), so that
// packing to 4 bytes and printing back gives the same text.
func isIPv4(b []byte) bool {
	parts := 0
	i := 0
	for parts < 4 {
		j := i
		v := 0
		for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-i < 3 {
			v = v*10 + int(b[j]-'0')
			j++
		}
		if j == i || v > 255 || (b[i] == '0' && j-i > 1) {
			return false
		}
		parts++
		if parts < 4 {
			if j >= len(b) || b[j] != '.' {
				return false
			}
			j++
		}
		i = j
	}
	return i == len(b)
}

func appendIPv4Bytes(dst, b []byte) []byte {
	var out [4]byte
	k, v := 0, 0
	for _, c := range b {
		if c == '.' {
			out[k] = byte(v)
			k, v = k+1, 0
			continue
		}
		v = v*10 + int(c-'0')
	}
	out[3] = byte(v)
	return append(dst, out[:]...)
}

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
	pos  []int32
	rows []int // kept rows, ascending
	n    int
}

func newRowSubset(keep []bool) *rowSubset { return newRowSubsetIn(keep, nil) }

// newRowSubsetIn is newRowSubset reusing the memory of old (which must no
// longer be in use) when it is large enough.
func newRowSubsetIn(keep []bool, old *rowSubset) *rowSubset {
	n := 0
	for _, k := range keep {
		n += b2i(k)
	}
	s := &rowSubset{n: n}
	// rows gets one spare slot: the loop below writes every row to
	// rows[j] and advances j only for kept ones (no branch to mispredict
	// on rows kept at random).
	if old != nil && cap(old.pos) >= len(keep) && cap(old.rows) >= n+1 {
		s.pos, s.rows = old.pos[:len(keep)], old.rows[:n+1]
	} else {
		s.pos, s.rows = make([]int32, len(keep)), make([]int, n+1)
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// When sub is given the column is built over the kept rows only (output row
// sub.pos[r] for input row r), which saves building values nobody reads.
func decodeColumn(p []byte, nrows int, ts []int64, ref func(name string) (*scan.Column, error), subs ...*rowSubset) (*scan.Column, error) {
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
	if sub != nil && len(sub.pos) != nrows {
		return nil, fmt.Errorf("row subset of %d rows for a %d-row chunk", len(sub.pos), nrows)
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
			return decodeDictSubset(r, col, nil, nrows, nrows, sub)
		}
	case 1:
		bm := r.bytes(uint64((nrows + 7) / 8))
		if r.err != nil {
			return nil, r.err
		}
		full := scan.NewBitmap(nrows)
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
		if sub != nil && r.i < len(p) && p[r.i] == encDict {
			return decodeDictSubset(r, col, full, cnt, nrows, sub)
		}
		present = make([]int32, 0, cnt)
		for w, x := range full {
			for x != 0 {
				present = append(present, int32(64*w+bits.TrailingZeros64(x)))
				x &= x - 1
			}
		}
		if sub == nil {
			col.Present = full
		} else {
			col.Present = scan.NewBitmap(outRows)
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
		if mode == intMinusTS && len(ts) < nrows {
			r.fail("minus-timestamp int column without timestamps")
		}
		col.Type = scan.TypeInt
		col.Ints = make([]int64, outRows)
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
		col.Floats = make([]float64, outRows)
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
		col.Codes = make([]uint32, outRows)
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
			var c uint32
			switch w {
			case 1:
				c = uint32(b[i])
			case 2:
				c = uint32(binary.LittleEndian.Uint16(b[2*i:]))
			case 4:
				c = binary.LittleEndian.Uint32(b[4*i:])
			}
			if uint64(c) >= nd {
				r.fail("code %d out of dictionary range %d", c, nd)
				break
			}
			if o := out(i); o >= 0 {
				col.Codes[o] = c
			}
		}
		if sub != nil && r.err == nil {
			used := make([]bool, nd)
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
		rest, err := decodeColumn(nested, nrows, ts, nil, sub)
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

// decodeDictSubset decodes a dictionary chunk (r just after the presence
// bitmap full, nil when every row is present; n values) over the rows of
// sub only: codes are fixed-width, so each kept row's code is found by its
// rank among the present rows instead of walking every value, and only the
// dictionary values the kept rows use are built.
func decodeDictSubset(r *chunkReader, col *scan.Column, full scan.Bitmap, n, nrows int, sub *rowSubset) (*scan.Column, error) {
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
		rank = make([]int32, len(full))
		c := int32(0)
		for k, x := range full {
			rank[k] = c
			c += int32(bits.OnesCount64(x))
		}
		col.Present = scan.NewBitmap(sub.n)
	}
	col.Codes = make([]uint32, sub.n)
	used := make([]bool, nd)
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
		var c uint32
		switch w {
		case 1:
			c = uint32(b[vi])
		case 2:
			c = uint32(binary.LittleEndian.Uint16(b[2*vi:]))
		case 4:
			c = binary.LittleEndian.Uint32(b[4*vi:])
		}
		if uint64(c) >= nd {
			r.fail("code %d out of dictionary range %d", c, nd)
			return nil, r.err
		}
		col.Codes[sub.pos[rr]] = c
		used[c] = true
	}
	col.Dict = make([]string, nd)
	dr := &chunkReader{b: r.b, i: dictAt}
	readStringsTo(dr, venc, int(nd), func(k int) bool { return used[k] }, func(k int, s string) { col.Dict[k] = s })
	if dr.err != nil {
		return nil, dr.err
	}
	return col, nil
}

// readStringsTo builds only the values for which wanted(i) is true.
func readStringsTo(r *chunkReader, enc byte, n int, wanted func(int) bool, set func(int, string)) {
	switch enc {
	case encIPv4:
		b := r.bytes(uint64(n) * 4)
		if r.err != nil {
			return
		}
		var buf [15]byte
		for i := 0; i < n; i++ {
			if wanted(i) {
				q := b[4*i:]
				t := strconv.AppendUint(buf[:0], uint64(q[0]), 10)
				for k := 1; k < 4; k++ {
					t = append(t, '.')
					t = strconv.AppendUint(t, uint64(q[k]), 10)
				}
				set(i, string(t))
			}
		}
	case encUUID:
		b := r.bytes(uint64(n) * 16)
		if r.err != nil {
			return
		}
		var buf [36]byte
		for i := 0; i < n; i++ {
			if wanted(i) {
				set(i, string(appendUUIDText(buf[:0], b[16*i:])))
			}
		}
	case encStr:
		if uint64(n) > uint64(len(r.b)) {
			r.fail("string count %d exceeds chunk", n)
			return
		}
		lens := make([]uint64, n)
		total := uint64(0)
		for i := range lens {
			lens[i] = r.uvarint()
			if lens[i] > uint64(len(r.b)) {
				r.fail("string length %d exceeds chunk", lens[i])
				return
			}
			total += lens[i]
		}
		b := r.bytes(total)
		if r.err != nil {
			return
		}
		off := uint64(0)
		for i, l := range lens {
			if wanted(i) {
				set(i, string(b[off:off+l]))
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
		buf := make([]byte, 0, n*15)
		ends := make([]int, n)
		for i := 0; i < n; i++ {
			for k := 0; k < 4; k++ {
				if k > 0 {
					buf = append(buf, '.')
				}
				buf = strconv.AppendUint(buf, uint64(b[4*i+k]), 10)
			}
			ends[i] = len(buf)
		}
		all := unsafe.String(unsafe.SliceData(buf), len(buf))
		out := make([]string, n)
		start := 0
		for i, e := range ends {
			out[i] = all[start:e]
			start = e
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

// refCandidate picks an earlier string column that holds the same value as
// c in at least half of a sample of c's rows (e.g. owner_id = user_id).
func refCandidate(c *colData, earlier []*colData) *colData {
	if c.kindSet != vkStr || len(c.rows) < 64 {
		return nil
	}
	var best *colData
	bestEq := 0
	for _, d := range earlier {
		if d.kindSet != vkStr || len(d.rows) < len(c.rows)/2 {
			continue
		}
		eq, tried := 0, 0
		j := 0
		for i := 0; i < len(c.rows) && tried < 256; i++ {
			for j < len(d.rows) && d.rows[j] < c.rows[i] {
				j++
			}
			tried++
			if j < len(d.rows) && d.rows[j] == c.rows[i] && string(c.str(i)) == string(d.str(j)) {
				eq++
			}
			if tried == 32 && eq < 12 {
				break // clearly not a match; most pairs end here
			}
		}
		if eq*2 >= tried && eq > bestEq {
			best, bestEq = d, eq
		}
	}
	return best
}

// encodeRef encodes c as differences from d; see encRef.
func encodeRef(dst []byte, c, d *colData, nrows int, ts []int64, sc *strScratch, sub *colData) []byte {
	if len(c.rows) == nrows {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		bm := make([]byte, (nrows+7)/8)
		for _, r := range c.rows {
			bm[r>>3] |= 1 << (uint(r) & 7)
		}
		dst = append(dst, bm...)
	}
	dst = append(dst, encRef)
	dst = binary.AppendUvarint(dst, uint64(len(d.name)))
	dst = append(dst, d.name...)
	eq := make([]byte, (len(c.rows)+7)/8)
	sub.reset("")
	sub.msgs = c.msgs
	j := 0
	for i, r := range c.rows {
		for j < len(d.rows) && d.rows[j] < r {
			j++
		}
		if j < len(d.rows) && d.rows[j] == r && string(c.str(i)) == string(d.str(j)) {
			eq[i>>3] |= 1 << (uint(i) & 7)
		} else {
			sub.addStr(r, c.str(i))
		}
	}
	dst = append(dst, eq...)
	nested, _ := encodeColumn(nil, sub, nrows, ts, sc)
	dst = binary.AppendUvarint(dst, uint64(len(nested)))
	return append(dst, nested...)
}
