package query

import (
	binenc "encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// String columns of high cardinality (user ids, addresses) dominate
// grouping and count_distinct. Each string is hashed once per block, when
// the block's rows are mapped to small local codes (keyView); everything
// after that (group lookup, distinct ids) works per distinct value of the
// block and reuses that hash, with exact string comparison to confirm.

// hashSeed keys every string hash of the engine; one seed per process so
// that hashes computed by different workers and blocks agree.
var hashSeed = maphash.MakeSeed()

// Seeds of the short-string hash, random per process like hashSeed.
var (
	seed0 = maphash.String(hashSeed, "mailtrail-0") | 1
	seed1 = maphash.String(hashSeed, "mailtrail-1")
	seed2 = maphash.String(hashSeed, "mailtrail-2")
)

// strHash is the 64-bit hash of s used by the engine's string tables; never
// zero, so that zero can mark an empty slot. Strings of up to 48 bytes
// (addresses, ids, codes: most of what is grouped and counted, hashed once
// per distinct value per block) are read by words and mixed with
// 64x64→128-bit multiplies, as wyhash does, without maphash's call chain;
// longer ones go through maphash.
func strHash(s string) uint64 {
	var h uint64
	if n := len(s); n <= 16 {
		var a, b uint64
		switch {
		case n >= 8:
			a = binenc.LittleEndian.Uint64([]byte(s[:8]))
			b = binenc.LittleEndian.Uint64([]byte(s[n-8:]))
		case n >= 4:
			a = uint64(binenc.LittleEndian.Uint32([]byte(s[:4])))
			b = uint64(binenc.LittleEndian.Uint32([]byte(s[n-4:])))
		case n > 0:
			a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
		}
		// The 128-bit product is exact (no collisions for a given a);
		// the length joins in the final mix, as in wyhash.
		hi, lo := bits.Mul64(a^seed1, b^seed2)
		h = mum(lo^seed0^uint64(n), hi^seed1)
	} else if n <= 48 {
		// UUIDs, SIDs, e-mail addresses: 16-byte rounds, then the last
		// 16 bytes (overlapping) as the short case.
		see := seed2
		i := 0
		for ; n-i > 16; i += 16 {
			see = mum(binenc.LittleEndian.Uint64([]byte(s[i:i+8]))^seed1, binenc.LittleEndian.Uint64([]byte(s[i+8:i+16]))^see)
		}
		a := binenc.LittleEndian.Uint64([]byte(s[n-16 : n-8]))
		b := binenc.LittleEndian.Uint64([]byte(s[n-8:]))
		hi, lo := bits.Mul64(a^seed1, b^see)
		h = mum(lo^seed0^uint64(n), hi^seed1)
	} else {
		h = maphash.String(hashSeed, s)
	}
	if h == 0 {
		return 1
	}
	return h
}

// mum is the high and low halves of x·y folded together.
func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

// strIndex numbers distinct strings 0, 1, 2... It is an open-addressing
// table of (hash, index), at most 3/4 full, over the strings and their
// hashes kept by index. The strings must be owned by the caller (not
// block memory).
//
// A slot is one cache line: the hash, the index, the length and the
// first 48 bytes of the string, so a lookup of a string of up to 48 bytes
// (IP addresses, UUIDs, Windows SIDs, most e-mail addresses) is confirmed
// exactly from the slot alone, without visiting the string: interning
// the dictionaries of every block is most of the work of count_distinct
// and of grouping by a high-cardinality field.
type strIndex struct {
	slots  []idxSlot
	strs   []string
	hashes []uint64
}

const inlineWords = 6 // 48 bytes

type idxSlot struct {
	h uint64 // 0: empty
	i uint32
	n uint32              // length of the string
	w [inlineWords]uint64 // its first 48 bytes, zero-padded
}

// inlineOf returns the first 48 bytes of s as words, zero-padded.
func inlineOf(s string) (w [inlineWords]uint64) {
	if len(s) >= 8*inlineWords {
		for k := range w {
			w[k] = binenc.LittleEndian.Uint64([]byte(s[8*k : 8*k+8]))
		}
		return w
	}
	var b [8 * inlineWords]byte
	copy(b[:], s)
	for k := range w {
		w[k] = binenc.LittleEndian.Uint64(b[8*k:])
	}
	return w
}

// find returns the index of s, whose hash is h.
func (t *strIndex) find(h uint64, s string) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	w := inlineOf(s)
	n := uint32(len(s))
	mask := uint64(len(t.slots) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		sl := &t.slots[j]
		if sl.h == 0 {
			return 0, false
		}
		if sl.h == h && sl.n == n && sl.w == w && (n <= 8*inlineWords || t.strs[sl.i][8*inlineWords:] == s[8*inlineWords:]) {
			return int(sl.i), true
		}
	}
}

// prefetch loads the first slot each of the given view codes probes
// (computing their hashes into the view), so that the finds that follow
// find them in cache: the loads are independent, so their cache misses
// overlap instead of coming one after another. It returns a sum of what
// it loaded, which the caller must keep.
func (t *strIndex) prefetch(codes []int32, v *keyView) uint64 {
	if len(t.slots) == 0 {
		return 0
	}
	for _, c := range codes {
		v.hash(c)
	}
	// A tight loop of independent loads, apart from the hashing.
	mask := uint64(len(t.slots) - 1)
	slots, hashes := t.slots, v.hashes
	var sink uint64
	for _, c := range codes {
		sink += slots[hashes[c]&mask].h
	}
	return sink
}

// add appends s (absent, hash h) and returns its index.
func (t *strIndex) add(h uint64, s string) int {
	if 4*(len(t.strs)+1) > 3*len(t.slots) {
		t.slots = make([]idxSlot, max(64, 2*len(t.slots)))
		for i, hh := range t.hashes {
			t.put(hh, t.strs[i], uint32(i))
		}
	}
	i := len(t.strs)
	t.strs = append(t.strs, s)
	t.hashes = append(t.hashes, h)
	t.put(h, s, uint32(i))
	return i
}

func (t *strIndex) put(h uint64, s string, i uint32) {
	mask := uint64(len(t.slots) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		if t.slots[j].h == 0 {
			t.slots[j] = idxSlot{h: h, i: i, n: uint32(len(s)), w: inlineOf(s)}
			return
		}
	}
}

func (t *strIndex) bytes() int64 { return int64(64*len(t.slots) + 24*len(t.strs)) }

// keyView maps the batch rows of a string or dictionary column to local
// codes: the dictionary's own codes, or for a plain string column codes
// assigned in a per-block hash table. Strings alias the block.
type keyView struct {
	stamp  uint64   // block the view was built for
	codes  []int32  // per batch row; -1 when the row lacks the field
	strs   []string // per code
	own    []string // buffer of strs for string columns (strs may be a block's Dict)
	hashes []uint64 // per code; 0 until computed (dictionary columns)
	ips    []uint32 // per code: the value as an IPv4 address, when the column says (scan.Column.DictIPv4)

	// Per-block table of a string column; a slot is in use when its gen
	// is the current one, so it never needs clearing.
	slots []viewSlot
	gen   uint32
}

type viewSlot struct {
	h    uint64
	code uint32
	gen  uint32
}

// canView reports whether a column can be mapped to codes.
func canView(c *scan.Column) bool {
	return c != nil && (c.Type == scan.TypeDict || c.Type == scan.TypeString)
}

func (v *keyView) hash(code int32) uint64 {
	h := v.hashes[code]
	if h == 0 {
		h = strHash(v.strs[code])
		v.hashes[code] = h
	}
	return h
}

// build maps the rows sel of col (TypeDict or TypeString) to codes.
func (v *keyView) build(col *scan.Column, sel []int32) {
	if cap(v.codes) < len(sel) {
		v.codes = make([]int32, len(sel))
	}
	codes := v.codes[:len(sel)]
	v.codes = codes
	pres := col.Present
	v.ips = nil
	if col.Type == scan.TypeDict {
		v.strs = col.Dict
		if len(col.DictIPv4) == len(col.Dict) {
			v.ips = col.DictIPv4
		}
		if cap(v.hashes) < len(col.Dict) {
			v.hashes = make([]uint64, len(col.Dict))
		}
		v.hashes = v.hashes[:len(col.Dict)]
		clear(v.hashes)
		cc := col.Codes
		if pres == nil {
			for k, i := range sel {
				codes[k] = int32(cc[i])
			}
			return
		}
		for k, i := range sel {
			// -1 without a branch when the row lacks the field.
			has := int32(pres[i>>6]>>(uint(i)&63)) & 1
			codes[k] = int32(cc[i]) | (has - 1)
		}
		return
	}
	// The table grows with the distinct values (kept from block to
	// block), not with the rows: the store's blocks hold 128 Ki rows, and
	// a table that stays in cache matters more than a few rehashes.
	if len(v.slots) == 0 {
		v.slots = make([]viewSlot, 1024)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.slots)
		v.gen = 1
	}
	gen := v.gen
	slots := v.slots
	mask := uint64(len(slots) - 1)
	strs, hashes := v.own[:0], v.hashes[:0]
	for k, i := range sel {
		if pres != nil && !pres.Get(int(i)) {
			codes[k] = -1
			continue
		}
		s := col.Strs[i]
		h := strHash(s)
		for j := h & mask; ; j = (j + 1) & mask {
			sl := &slots[j]
			if sl.gen != gen {
				*sl = viewSlot{h: h, code: uint32(len(strs)), gen: gen}
				codes[k] = int32(len(strs))
				strs = append(strs, s)
				hashes = append(hashes, h)
				if 2*len(strs) > len(slots) {
					// Rehash into a table twice as big (fresh, so gen 1).
					slots = make([]viewSlot, 2*len(slots))
					mask = uint64(len(slots) - 1)
					gen = 1
					for c, hh := range hashes {
						for j := hh & mask; ; j = (j + 1) & mask {
							if slots[j].gen != gen {
								slots[j] = viewSlot{h: hh, code: uint32(c), gen: gen}
								break
							}
						}
					}
					v.slots, v.gen = slots, gen
				}
				break
			}
			if sl.h == h && strs[sl.code] == s {
				codes[k] = int32(sl.code)
				break
			}
		}
	}
	v.strs, v.own, v.hashes = strs, strs, hashes
}

// ipIndex maps IPv4 addresses (scan.Column.DictIPv4) to interned ids. A
// slot is 8 bytes (address, id+1) where a strIndex slot is 64, so far more
// of the table stays in cache, and no text is hashed or compared: an
// address dictionary of every block (thousands of values) is looked up
// here, and only addresses the worker has never seen go through the
// strings.
type ipIndex struct {
	slots []uint64 // addr<<32 | id+1; 0 is empty
	n     int
	shift uint
}

func (t *ipIndex) slot(a uint32) uint64 {
	return (uint64(a) * 0x9E3779B97F4A7C15) >> t.shift
}

// find returns the id of address a.
func (t *ipIndex) find(a uint32) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for j := t.slot(a); ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == a {
			return uint32(s) - 1, true
		}
	}
}

// add records that address a (absent) has id id.
func (t *ipIndex) add(a, id uint32) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		size := max(1024, 2*len(old))
		t.slots = make([]uint64, size)
		t.shift = 64 - uint(bits.TrailingZeros(uint(size)))
		t.n = 0
		for _, s := range old {
			if s != 0 {
				t.put(s)
			}
		}
	}
	t.put(uint64(a)<<32 | uint64(id+1))
}

func (t *ipIndex) put(s uint64) {
	mask := uint64(len(t.slots) - 1)
	for j := t.slot(uint32(s >> 32)); ; j = (j + 1) & mask {
		if t.slots[j] == 0 {
			t.slots[j] = s
			t.n++
			return
		}
	}
}

// prefetch loads the first slot each of the given view codes' addresses
// probes (see strIndex.prefetch) and returns a sum the caller must keep.
func (t *ipIndex) prefetch(codes []int32, ips []uint32) uint64 {
	if len(t.slots) == 0 {
		return 0
	}
	var sink uint64
	for _, c := range codes {
		sink += t.slots[t.slot(ips[c])]
	}
	return sink
}
