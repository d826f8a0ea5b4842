package store

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
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

	// zstd level choice of the field, kept across blocks (see putCol).
	zChunks int
	zFast   bool
	usedIn  uint64 // the builder's last block with this field
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

// hexVal is the value of a lowercase hex digit. A table rather than a
// comparison: random ids make the branch unpredictable, and mispredictions
// were most of the cost of packing UUIDs.
var hexVal = func() (t [256]byte) {
	for i, c := range hexdigits {
		t[c] = byte(i)
	}
	return
}()

// uuidHexAt are the offsets of the high nibble of each UUID byte in the
// canonical text.
var uuidHexAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

func appendUUIDBytes(dst, s []byte) []byte {
	var out [16]byte
	s = s[:36]
	for k, at := range uuidHexAt {
		out[k] = hexVal[s[at]]<<4 | hexVal[s[at+1]]
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

// appendPresence appends a column chunk's presence header: 0 when the
// column is present at every one of nrows rows, else 1 and a bitmap of the
// rows that have it.
func appendPresence(dst []byte, rows []int32, nrows int) []byte {
	if len(rows) == nrows {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	start := len(dst)
	dst = append(dst, make([]byte, (nrows+7)/8)...)
	bm := dst[start:]
	for _, r := range rows {
		bm[r>>3] |= 1 << (uint(r) & 7)
	}
	return dst
}

// encodeColumn appends the chunk payload for c (over nrows rows) to dst.
// ts holds the block's @timestamp per row, for the minus-timestamp mode.
func encodeColumn(dst []byte, c *colData, nrows int, ts []int64, sc *strScratch) ([]byte, colStats) {
	st := colStats{count: len(c.rows)}
	dst = appendPresence(dst, c.rows, nrows)
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

// strDict maps a column's distinct values to their codes (their index in
// the order slice it is used with). It is an open-addressing table holding
// each value's hash next to its code, so that most probes settle without
// touching the value's bytes; a Go map spent more on hashing and probing
// than the whole column encoding besides.
type strDict struct {
	slots  []uint32 // code+1 per slot, 0 when empty; len is a power of two
	hashes []uint64 // per code
}

var dictSeed = maphash.MakeSeed()

func dictHash(s []byte) uint64 { return maphash.Bytes(dictSeed, s) }

func (d *strDict) reset() {
	d.resize(64)
	d.hashes = d.hashes[:0]
}

// resize empties the table and makes it n slots long, reusing its memory
// when it has room.
func (d *strDict) resize(n int) {
	if cap(d.slots) >= n {
		d.slots = d.slots[:n]
		clear(d.slots)
	} else {
		d.slots = make([]uint32, n)
	}
}

func (d *strDict) find(h uint64, s []byte, order [][]byte) (uint32, bool) {
	mask := uint64(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		c := d.slots[i]
		if c == 0 {
			return 0, false
		}
		if d.hashes[c-1] == h && string(order[c-1]) == string(s) {
			return c - 1, true
		}
	}
}

// add inserts code, a value with hash h that find has just reported
// missing; codes are added in order 0, 1, 2...
func (d *strDict) add(h uint64, code uint32) {
	d.hashes = append(d.hashes, h)
	if 2*len(d.hashes) > len(d.slots) {
		d.resize(2 * len(d.slots))
		for k := range d.hashes {
			d.put(d.hashes[k], uint32(k))
		}
		return
	}
	d.put(h, code)
}

func (d *strDict) put(h uint64, code uint32) {
	mask := uint64(len(d.slots) - 1)
	i := h & mask
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = code + 1
}

// strScratch is reusable memory for encodeStrings.
type strScratch struct {
	dict   strDict
	order  [][]byte
	counts []int
	codes  []uint32
	remap  []uint32
	perm   []int
}

func encodeStrings(dst []byte, c *colData, st colStats, sc *strScratch) ([]byte, colStats) {
	n := len(c.strs)
	allUUID := true
	dict := &sc.dict
	dict.reset()
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
			h := dictHash(s)
			code, ok := dict.find(h, s, order)
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
				dict.add(h, code)
				order = append(order, s)
				counts = append(counts, 0)
			}
			counts[code]++
			codes[i] = code
			// Nearly every one of the first 4096 values is new: the
			// column holds ids (request ids, message ids) and will not
			// fit the n/2 limit, so stop paying a map insert per value.
			// (4076 distinct in 4096 draws takes a population of about
			// 400k values, several times the largest block.)
			if i == 4095 && len(order) >= 4076 && limit > 4096 {
				useDict = false
				if !allUUID {
					break
				}
			}
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
	dst = appendPresence(dst, c.rows, nrows)
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
