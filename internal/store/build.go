package store

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// System columns of a block, stored in this order before the user columns.
const (
	sysTS     = iota // @timestamp, int
	sysIngest        // @ingestionTime, int
	sysSeq           // event sequence number (stable @ptr), int
	sysStream        // stream id, int
	sysShape         // 0: message stored whole in sysRaw; k: shapes[k-1]
	sysRaw           // string, rows with shape 0 only
	sysShapes        // the shape table (not a column)
	nSys
)

// Leaf kinds in a shape: how to print the column value back.
const (
	lkStr     = 's' // "<string>" with no escapes
	lkStrEsc  = 'S' // "<string>" escaped by appendJSONEscaped
	lkInt     = 'i'
	lkFloat   = 'f' // strconv 'f' shortest
	lkBool    = 'b' // 1 → true, 0 → false
	maxLeaves = scan.DefaultMaxLeaves
)

// builder turns sorted rows into an encoded block. One builder per worker.
type builder struct {
	fl     scan.Flattener
	cols   []*colData
	colIdx map[string]int
	keep   map[string]*colData // by field name, across blocks
	pool   []*colData          // spare buffers for fields not kept
	blocks uint64              // blocks begun, for colData.usedIn

	shapeIdx map[string]int
	shapes   [][]byte

	key     []byte
	pred    []int // column index per leaf position, from the previous row
	touched []int
	esc     []byte
	num     []byte
	sc      strScratch
	sys     [sysRaw + 1]*colData
	ts      []int64
	msgs    [][]byte // the current block's messages
	payload []byte
	refBuf  []byte
	sub     colData
	emitFn  func([]byte, scan.Leaf)
	fast    *zstd.Encoder // fastest level, for columns where it does as well
	zbuf    []byte

	// per-row state for emit
	row     int32
	msg     []byte
	ok      bool
	prevEnd int
	nleaves int
}

func newBuilder() *builder {
	b := &builder{colIdx: map[string]int{}, keep: map[string]*colData{}, shapeIdx: map[string]int{}}
	b.emitFn = b.emit
	for i := range b.sys {
		b.sys[i] = &colData{}
	}
	return b
}

// builderPool holds one builder per worker for all flushes and merges:
// steady ingest does not regrow column buffers for every block, the number
// of (block-sized) sets of those buffers is bounded, and so is the number
// of blocks built at once.
type builderPool chan *builder

func newBuilderPool(n int) builderPool {
	p := make(builderPool, n)
	for range n {
		p <- newBuilder()
	}
	return p
}

// get waits for a free builder.
func (p builderPool) get() *builder { return <-p }

func (p builderPool) put(b *builder) { p <- b }

// A user column chunk of at least minAdaptiveChunk bytes is compressed at
// both zstd levels every zTrialEvery blocks, and from then on at the
// fastest level if that was no larger.
const (
	minAdaptiveChunk = 16 << 10
	zTrialEvery      = 16
)

// maxKeptCols bounds the fields whose buffers a builder keeps by name;
// a kept field unused for keepIdleBlocks blocks is let go.
const (
	maxKeptCols    = 4096
	keepIdleBlocks = 8
)

func (b *builder) reset() {
	for _, c := range b.cols {
		if b.keep[c.name] != c {
			b.pool = append(b.pool, c)
		}
	}
	b.blocks++
	if b.blocks%keepIdleBlocks == 0 {
		// Fields not seen for a while give their buffers back to the pool,
		// so that a stream of ever new field names (CloudTrail's request
		// parameters) does not pin buffers for each of them.
		for name, c := range b.keep {
			if b.blocks-c.usedIn > keepIdleBlocks {
				delete(b.keep, name)
				b.pool = append(b.pool, c)
			}
		}
	}
	b.cols = b.cols[:0]
	clear(b.colIdx)
	clear(b.shapeIdx)
	b.pred = b.pred[:0]
	b.shapes = b.shapes[:0]
}

func (b *builder) col(path []byte) (int, *colData) {
	if ci, ok := b.colIdx[string(path)]; ok {
		return ci, b.cols[ci]
	}
	// A field gets the buffers it had in earlier blocks, which already
	// have the right sizes; other buffers would be regrown value by value.
	c := b.keep[string(path)]
	if c != nil {
		c.reset(c.name)
	} else {
		if n := len(b.pool); n > 0 {
			c = b.pool[n-1]
			b.pool = b.pool[:n-1]
		} else {
			c = &colData{}
		}
		c.reset(string(path))
		c.zChunks, c.zFast = 0, false
		if len(b.keep) < maxKeptCols {
			b.keep[c.name] = c
		}
	}
	c.usedIn = b.blocks
	c.msgs = &b.msgs
	ci := len(b.cols)
	b.cols = append(b.cols, c)
	b.colIdx[c.name] = ci
	return ci, c
}

// fastInt parses a canonical JSON integer literal of at most 18 digits.
func fastInt(raw []byte) (int64, bool) {
	s := raw
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && (len(s) > 1 || neg)) {
		return 0, false
	}
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// appendJSONEscaped writes s as the inside of a JSON string the way most
// encoders do: \" \\ \b \f \n \r \t, other control bytes as \u00xx.
func appendJSONEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return dst
}

func (b *builder) emit(path []byte, l scan.Leaf) {
	// Consecutive messages usually have the same keys in the same order:
	// try the column the previous row had at this leaf position before
	// hashing the path.
	k := b.nleaves
	b.nleaves++
	var ci int
	var c *colData
	if k < len(b.pred) && b.pred[k] < len(b.cols) && b.cols[b.pred[k]].name == string(path) {
		ci = b.pred[k]
		c = b.cols[ci]
	} else {
		ci, c = b.col(path)
		if k < len(b.pred) {
			b.pred[k] = ci
		} else if k == len(b.pred) {
			b.pred = append(b.pred, ci)
		}
	}
	if n := len(c.rows); n > 0 && c.rows[n-1] == b.row {
		// A repeated key: the later value wins (as in a map), and the
		// message can no longer be rebuilt from one value per column.
		c.pop()
		b.ok = false
	} else {
		b.touched = append(b.touched, ci)
	}
	var kind byte
	switch l.Kind {
	case scan.LeafString:
		// The value is copied into the column even when it could be
		// referenced in the message: the message is in cache now, while
		// encodeStrings later walks each column across a block's worth of
		// messages (tens of MB), and referencing them there made every
		// value a cache miss (it took ~40% of the block build time).
		if len(l.Raw) == len(l.Str)+2 {
			c.addStr(b.row, l.Str)
			kind = lkStr
		} else {
			c.addStr(b.row, l.Str)
			b.esc = append(b.esc[:0], '"')
			b.esc = appendJSONEscaped(b.esc, unsafe.String(unsafe.SliceData(l.Str), len(l.Str)))
			b.esc = append(b.esc, '"')
			if string(b.esc) == string(l.Raw) {
				kind = lkStrEsc
			} else {
				b.ok = false
			}
		}
	case scan.LeafNumber:
		if v, ok := fastInt(l.Raw); ok {
			c.addInt(b.row, v)
			kind = lkInt
		} else {
			v := scan.NumberValue(l.Raw)
			c.addValue(b.row, v)
			switch v.Kind {
			case scan.KindInt:
				b.num = strconv.AppendInt(b.num[:0], v.I, 10)
				kind = lkInt
			case scan.KindFloat:
				b.num = strconv.AppendFloat(b.num[:0], v.F, 'f', -1, 64)
				kind = lkFloat
			default:
				b.ok = false
			}
			if b.ok && string(b.num) != string(l.Raw) {
				b.ok = false
			}
		}
	case scan.LeafTrue:
		c.addInt(b.row, 1)
		kind = lkBool
	case scan.LeafFalse:
		c.addInt(b.row, 0)
		kind = lkBool
	}
	if !b.ok {
		return
	}
	off := cap(b.msg) - cap(l.Raw)
	if off < b.prevEnd || off+len(l.Raw) > len(b.msg) || len(l.Raw) == 0 || unsafe.SliceData(l.Raw) != &b.msg[off] {
		b.ok = false
		return
	}
	b.key = binary.AppendUvarint(b.key, uint64(off-b.prevEnd))
	b.key = append(b.key, b.msg[b.prevEnd:off]...)
	b.key = binary.AppendUvarint(b.key, uint64(ci))
	b.key = append(b.key, kind)
	b.prevEnd = off + len(l.Raw)
}

// addRow flattens one message into the columns and returns its shape code
// (0 when the message must be stored whole).
func (b *builder) addRow(row int32, msg []byte) int64 {
	b.row = row
	b.msg = b.msgs[row]
	b.ok = true
	b.prevEnd = 0
	b.nleaves = 0
	b.key = b.key[:0]
	b.touched = b.touched[:0]
	err := b.fl.Flatten(b.msg, b.emitFn)
	if err != nil {
		// Not a JSON object: discard any leaves already emitted.
		for _, ci := range b.touched {
			b.cols[ci].pop()
		}
		return 0
	}
	if !b.ok || b.nleaves >= maxLeaves {
		return 0
	}
	b.key = binary.AppendUvarint(b.key, uint64(len(b.msg)-b.prevEnd))
	b.key = append(b.key, b.msg[b.prevEnd:]...)
	code, ok := b.shapeIdx[string(b.key)]
	if !ok {
		code = len(b.shapes)
		k := string(b.key)
		b.shapeIdx[k] = code
		b.shapes = append(b.shapes, []byte(k))
	}
	return int64(code) + 1
}

// blockOut is an encoded block: chunks with offsets relative to data.
type blockOut struct {
	data []byte
	idx  blockIndex
}

type chunkRef struct{ off, n int64 }

type colIndex struct {
	name     string
	typ      scan.Type
	count    int
	chunk    chunkRef
	hasNum   bool
	min, max float64
	bloom    chunkRef
	small    []string
}

type blockIndex struct {
	rows             int
	minTime, maxTime int64
	minSeq, maxSeq   uint64
	msgBytes         int64
	streams          []uint32 // distinct stream ids, ascending
	sys              [nSys]chunkRef
	cols             []colIndex
	byName           map[string]int
}

func (bi *blockIndex) col(name string) *colIndex {
	if i, ok := bi.byName[name]; ok {
		return &bi.cols[i]
	}
	return nil
}

// buildBlock encodes rows (sorted by time) into a block.
func (b *builder) buildBlock(rows []memRow, enc *zstd.Encoder) (blockOut, error) {
	b.reset()
	n := len(rows)
	out := blockOut{idx: blockIndex{rows: n, minTime: math.MaxInt64, maxTime: math.MinInt64, minSeq: math.MaxUint64}}
	ts := slices.Grow(b.ts[:0], n)[:n]
	b.ts = ts
	clear(b.msgs)
	b.msgs = slices.Grow(b.msgs[:0], n)[:n]
	for i := range rows {
		b.msgs[i] = rows[i].msg[:len(rows[i].msg):len(rows[i].msg)]
	}
	defer clear(b.msgs) // do not keep the messages alive after the block
	sys := b.sys
	for i := range sys {
		sys[i].reset("")
		sys[i].msgs = &b.msgs
	}
	streams := map[uint32]bool{}
	for i := range rows {
		r := &rows[i]
		ts[i] = r.ts
		sys[sysTS].addInt(int32(i), r.ts)
		sys[sysIngest].addInt(int32(i), r.ingest)
		sys[sysSeq].addInt(int32(i), int64(r.seq))
		sys[sysStream].addInt(int32(i), int64(r.stream))
		streams[r.stream] = true
		out.idx.minTime = min(out.idx.minTime, r.ts)
		out.idx.maxTime = max(out.idx.maxTime, r.ts)
		out.idx.minSeq = min(out.idx.minSeq, r.seq)
		out.idx.maxSeq = max(out.idx.maxSeq, r.seq)
		out.idx.msgBytes += int64(len(r.msg))
		shape := b.addRow(int32(i), r.msg)
		sys[sysShape].addInt(int32(i), shape)
		if shape == 0 {
			sys[sysRaw].addStrRef(int32(i), 0, len(r.msg))
		}
	}
	for id := range streams {
		out.idx.streams = append(out.idx.streams, id)
	}
	sortU32(out.idx.streams)

	putWith := func(payload []byte, e *zstd.Encoder) chunkRef {
		start := len(out.data)
		out.data = append(out.data, 0, 0, 0, 0)
		if e != nil {
			out.data = e.EncodeAll(payload, out.data)
		} else {
			out.data = append(out.data, payload...)
		}
		binary.LittleEndian.PutUint32(out.data[start:], crc32.Checksum(out.data[start+4:], castagnoli))
		return chunkRef{off: int64(start), n: int64(len(out.data) - start)}
	}
	put := func(payload []byte, compress bool) chunkRef {
		if compress {
			return putWith(payload, enc)
		}
		return putWith(payload, nil)
	}
	// putCol compresses a user column chunk with the fastest zstd level
	// when that did as well as the default level the last time the column
	// was tried both ways. Random ids (request and item ids) do not
	// compress any better at the default level, which takes twice as long
	// on them; columns of repeating text do (a fifth smaller).
	putCol := func(payload []byte, c *colData) chunkRef {
		if len(payload) < minAdaptiveChunk || c != b.keep[c.name] {
			return put(payload, true)
		}
		if b.fast == nil {
			b.fast = newFlushEncoder(1, zstd.SpeedFastest)
		}
		trial := c.zChunks%zTrialEvery == 0
		c.zChunks++
		if !trial {
			if c.zFast {
				return putWith(payload, b.fast)
			}
			return put(payload, true)
		}
		ref := put(payload, true)
		b.zbuf = b.fast.EncodeAll(payload, b.zbuf[:0])
		c.zFast = int64(len(b.zbuf)+4) <= ref.n
		if !c.zFast {
			return ref
		}
		out.data = out.data[:ref.off]
		return putWith(payload, b.fast)
	}
	for i := sysTS; i <= sysRaw; i++ {
		tsArg := ts
		if i == sysTS {
			tsArg = nil
		}
		p, _ := encodeColumn(b.payload[:0], sys[i], n, tsArg, &b.sc)
		b.payload = p
		out.idx.sys[i] = put(p, true)
	}
	p := binary.AppendUvarint(b.payload[:0], uint64(len(b.shapes)))
	for _, s := range b.shapes {
		p = binary.AppendUvarint(p, uint64(len(s)))
		p = append(p, s...)
	}
	b.payload = p
	out.idx.sys[sysShapes] = put(p, true)

	out.idx.cols = make([]colIndex, len(b.cols))
	out.idx.byName = make(map[string]int, len(b.cols))
	isRef := make([]bool, len(b.cols))
	for i, c := range b.cols {
		var earlier []*colData
		for k := 0; k < i; k++ {
			if !isRef[k] {
				earlier = append(earlier, b.cols[k])
			}
		}
		p, st := encodeColumn(b.payload[:0], c, n, ts, &b.sc)
		if d := refCandidate(c, earlier); d != nil {
			if rp := encodeRef(b.refBuf[:0], c, d, n, ts, &b.sc, &b.sub); len(rp) < len(p) {
				isRef[i] = true
				p = append(p[:0], rp...)
				b.refBuf = rp
			}
		}
		b.payload = p
		ci := colIndex{name: c.name, typ: st.typ, count: st.count, hasNum: st.hasNum, min: st.min, max: st.max, small: st.small}
		ci.chunk = putCol(p, c)
		if len(st.bloom) > 0 && st.small == nil {
			ci.bloom = put(st.bloom, false)
		}
		out.idx.cols[i] = ci
		out.idx.byName[c.name] = i
	}
	return out, nil
}

func sortU32(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
