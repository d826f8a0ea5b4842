package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// Segment file layout (doc/segment.md):
//
//	header  "MTSEG\x00\x00\x00" | u32 version | u32 0
//	chunks  u32 crc32c(data) | data   (column data zstd-compressed, blooms raw)
//	index   binary block index (see encodeIndex)
//	trailer u64 indexOffset | u32 indexLen | u32 crc32c(index) | "MTSGEND\x00"

const (
	segMagic      = "MTSEG\x00\x00\x00"
	segEndMagic   = "MTSGEND\x00"
	segVersion    = 1
	segHeaderLen  = 16
	segTrailerLen = 24
	maxChunkBytes = 1 << 30
	maxBlockRows  = 1 << 20
)

// zdec decompresses chunks for every reader. Its concurrency bounds how many
// DecodeAll calls run at once, so it is one per CPU: with 1, parallel scan
// workers (and concurrent queries) queued for each other's decompression.
// zstd's own frame checksum is not checked: every chunk's CRC-32C, over
// the compressed bytes, is checked before decompressing.
var zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<29), zstd.IgnoreChecksum(true))

func newEncoder(workers int) *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(workers), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithZeroFrames(true))
	if err != nil {
		panic("BUG: zstd encoder options: " + err.Error())
	}
	return e
}

// segment is an open, immutable segment file (or an in-memory image of a
// memtable group). It is reference counted: the manifest holds one
// reference, each reader one more.
type segment struct {
	meta   segMeta
	path   string
	r      io.ReaderAt
	closer io.Closer
	blocks []blockIndex
	refs   atomic.Int32
	dead   atomic.Bool
}

func (s *segment) acquire() { s.refs.Add(1) }

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		if s.closer != nil {
			s.closer.Close()
		}
		if s.dead.Load() && s.path != "" {
			os.Remove(s.path)
		}
	}
}

// obsolete drops the manifest's reference; the file is removed once the
// last reader is done.
func (s *segment) obsolete() {
	s.dead.Store(true)
	s.release()
}

// writeSegment writes blocks as a segment file image to w and returns its size.
func writeSegment(w io.Writer, blocks []blockOut) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	hdr := make([]byte, 0, segHeaderLen)
	hdr = append(hdr, segMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, segVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	bw.Write(hdr)
	off := int64(segHeaderLen)
	idx := make([]blockIndex, len(blocks))
	for i := range blocks {
		b := &blocks[i]
		bw.Write(b.data)
		bi := b.idx
		bi.sys = b.idx.sys
		for k := range bi.sys {
			bi.sys[k].off += off
		}
		bi.cols = append([]colIndex(nil), b.idx.cols...)
		for k := range bi.cols {
			bi.cols[k].chunk.off += off
			if bi.cols[k].bloom.n > 0 {
				bi.cols[k].bloom.off += off
			}
		}
		idx[i] = bi
		off += int64(len(b.data))
	}
	body := encodeIndex(idx)
	bw.Write(body)
	var tr [segTrailerLen]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(off))
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(body)))
	binary.LittleEndian.PutUint32(tr[12:], crc32.Checksum(body, castagnoli))
	copy(tr[16:], segEndMagic)
	bw.Write(tr[:])
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return off + int64(len(body)) + segTrailerLen, nil
}

func putRef(b []byte, r chunkRef) []byte {
	b = binary.AppendUvarint(b, uint64(r.off))
	return binary.AppendUvarint(b, uint64(r.n))
}

func putStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeIndex(blocks []blockIndex) []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(blocks)))
	for i := range blocks {
		bi := &blocks[i]
		b = binary.AppendUvarint(b, uint64(bi.rows))
		b = binary.AppendVarint(b, bi.minTime)
		b = binary.AppendVarint(b, bi.maxTime)
		b = binary.AppendUvarint(b, bi.minSeq)
		b = binary.AppendUvarint(b, bi.maxSeq)
		b = binary.AppendUvarint(b, uint64(bi.msgBytes))
		b = binary.AppendUvarint(b, uint64(len(bi.streams)))
		for _, s := range bi.streams {
			b = binary.AppendUvarint(b, uint64(s))
		}
		for _, r := range bi.sys {
			b = putRef(b, r)
		}
		b = binary.AppendUvarint(b, uint64(len(bi.cols)))
		for k := range bi.cols {
			c := &bi.cols[k]
			b = putStr(b, c.name)
			b = append(b, byte(c.typ))
			b = binary.AppendUvarint(b, uint64(c.count))
			b = putRef(b, c.chunk)
			flags := byte(0)
			if c.hasNum {
				flags |= 1
			}
			if c.bloom.n > 0 {
				flags |= 2
			}
			if c.small != nil {
				flags |= 4
			}
			b = append(b, flags)
			if c.hasNum {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.min))
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.max))
			}
			if c.bloom.n > 0 {
				b = putRef(b, c.bloom)
			}
			if c.small != nil {
				b = binary.AppendUvarint(b, uint64(len(c.small)))
				for _, s := range c.small {
					b = putStr(b, s)
				}
			}
		}
	}
	return b
}

func decodeIndex(p []byte, dataEnd int64) ([]blockIndex, error) {
	r := &chunkReader{b: p}
	n := r.uvarint()
	if n > uint64(len(p)) {
		return nil, fmt.Errorf("block count %d exceeds index size", n)
	}
	ref := func() chunkRef {
		c := chunkRef{off: int64(r.uvarint()), n: int64(r.uvarint())}
		if r.err == nil && (c.off < segHeaderLen || c.n < 4 || c.n > maxChunkBytes || c.off+c.n > dataEnd) {
			r.fail("chunk [%d,+%d) outside the data area", c.off, c.n)
		}
		return c
	}
	str := func() string { return string(r.bytes(r.uvarint())) }
	out := make([]blockIndex, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		var bi blockIndex
		rows := r.uvarint()
		if rows > maxBlockRows {
			r.fail("block %d: %d rows", i, rows)
		}
		bi.rows = int(rows)
		v, k := binary.Varint(r.b[min(r.i, len(r.b)):])
		r.i += max(k, 0)
		bi.minTime = v
		v, k2 := binary.Varint(r.b[min(r.i, len(r.b)):])
		r.i += max(k2, 0)
		bi.maxTime = v
		if k <= 0 || k2 <= 0 {
			r.fail("block %d: bad time range", i)
		}
		bi.minSeq = r.uvarint()
		bi.maxSeq = r.uvarint()
		bi.msgBytes = int64(r.uvarint())
		ns := r.uvarint()
		if ns > rows {
			r.fail("block %d: %d streams for %d rows", i, ns, rows)
		}
		for k := uint64(0); k < ns && r.err == nil; k++ {
			bi.streams = append(bi.streams, uint32(r.uvarint()))
		}
		for k := range bi.sys {
			bi.sys[k] = ref()
		}
		nc := r.uvarint()
		if nc > uint64(len(p)) {
			r.fail("block %d: column count %d exceeds index", i, nc)
		}
		bi.byName = map[string]int{}
		for k := uint64(0); k < nc && r.err == nil; k++ {
			var c colIndex
			c.name = str()
			c.typ = scan.Type(r.byte1())
			if c.typ < scan.TypeString || c.typ > scan.TypeMixed {
				r.fail("block %d column %q: bad type %d", i, c.name, c.typ)
			}
			c.count = int(r.uvarint())
			c.chunk = ref()
			flags := r.byte1()
			if flags&1 != 0 {
				b := r.bytes(16)
				if r.err == nil {
					c.hasNum = true
					c.min = math.Float64frombits(binary.LittleEndian.Uint64(b))
					c.max = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
				}
			}
			if flags&2 != 0 {
				c.bloom = ref()
			}
			if flags&4 != 0 {
				ns := r.uvarint()
				if ns > uint64(len(p)) {
					r.fail("small dictionary too large")
				}
				c.small = []string{}
				for j := uint64(0); j < ns && r.err == nil; j++ {
					c.small = append(c.small, str())
				}
			}
			bi.byName[c.name] = len(bi.cols)
			bi.cols = append(bi.cols, c)
		}
		out = append(out, bi)
	}
	if r.err == nil && r.i != len(p) {
		r.fail("%d trailing bytes in index", len(p)-r.i)
	}
	return out, r.err
}

// parseSegment reads the trailer and index of a segment image.
func parseSegment(name string, r io.ReaderAt, size int64) ([]blockIndex, error) {
	if size < segHeaderLen+segTrailerLen {
		return nil, fmt.Errorf("store: segment %s: file of %d bytes is too short", name, size)
	}
	var hdr [segHeaderLen]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("store: segment %s: read header: %w", name, err)
	}
	if string(hdr[:8]) != segMagic {
		return nil, fmt.Errorf("store: segment %s: not a segment file (bad magic number)", name)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != segVersion {
		return nil, fmt.Errorf("store: segment %s: unsupported segment version %d (this build reads %d)", name, v, segVersion)
	}
	var tr [segTrailerLen]byte
	if _, err := r.ReadAt(tr[:], size-segTrailerLen); err != nil {
		return nil, fmt.Errorf("store: segment %s: read trailer: %w", name, err)
	}
	if string(tr[16:]) != segEndMagic {
		return nil, fmt.Errorf("store: segment %s: bad trailer magic (truncated file?)", name)
	}
	ioff := int64(binary.LittleEndian.Uint64(tr[0:]))
	ilen := int64(binary.LittleEndian.Uint32(tr[8:]))
	if ioff < segHeaderLen || ioff+ilen != size-segTrailerLen {
		return nil, fmt.Errorf("store: segment %s: index at byte %d (+%d) does not end at the trailer", name, ioff, ilen)
	}
	body := make([]byte, ilen)
	if _, err := r.ReadAt(body, ioff); err != nil {
		return nil, fmt.Errorf("store: segment %s: read index: %w", name, err)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(tr[12:]) {
		return nil, fmt.Errorf("store: segment %s: index checksum mismatch at byte %d", name, ioff)
	}
	blocks, err := decodeIndex(body, ioff)
	if err != nil {
		return nil, fmt.Errorf("store: segment %s: index: %w", name, err)
	}
	return blocks, nil
}

func openSegment(path string, meta segMeta) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: open segment listed in manifest: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	blocks, err := parseSegment(path, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	meta.Bytes = fi.Size()
	s := &segment{meta: meta, path: path, r: f, closer: f, blocks: blocks}
	s.refs.Store(1)
	return s, nil
}

func memSegment(name string, image []byte) (*segment, error) {
	blocks, err := parseSegment(name, bytes.NewReader(image), int64(len(image)))
	if err != nil {
		return nil, err
	}
	s := &segment{r: bytes.NewReader(image), blocks: blocks, meta: segMeta{Bytes: int64(len(image))}}
	s.refs.Store(1)
	return s, nil
}

func (s *segment) name() string {
	if s.path != "" {
		return s.path
	}
	return "(memtable)"
}

// readChunk reads and verifies a chunk; compressed chunks are decompressed.
func (s *segment) readChunk(ref chunkRef, compressed bool, what string) ([]byte, error) {
	buf := make([]byte, ref.n)
	if _, err := s.r.ReadAt(buf, ref.off); err != nil {
		return nil, fmt.Errorf("store: segment %s: read %s at byte %d: %w", s.name(), what, ref.off, err)
	}
	if crc32.Checksum(buf[4:], castagnoli) != binary.LittleEndian.Uint32(buf) {
		return nil, fmt.Errorf("store: segment %s: checksum mismatch in %s at byte %d", s.name(), what, ref.off)
	}
	if !compressed {
		return buf[4:], nil
	}
	out, err := zdec.DecodeAll(buf[4:], nil)
	if err != nil {
		return nil, fmt.Errorf("store: segment %s: decompress %s at byte %d: %w", s.name(), what, ref.off, err)
	}
	return out, nil
}

// chunkBufs recycles the read and decompression buffers of column chunks:
// a scan reads thousands of chunks of up to a few MB each, and allocating
// them afresh kept the garbage collector busy for a good share of a query.
var chunkBufs sync.Pool

func getBuf(n int) *[]byte {
	if b, ok := chunkBufs.Get().(*[]byte); ok {
		if cap(*b) < n {
			*b = make([]byte, n, n+n/4)
		}
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, n+n/4)
	return &b
}

// readTemp is readChunk (compressed) into pooled memory: the payload is
// valid until release is called, so it is only for decoders that copy
// what they keep (decodeColumn does).
func (s *segment) readTemp(ref chunkRef, what string) (p []byte, release func(), err error) {
	raw := getBuf(int(ref.n))
	defer chunkBufs.Put(raw)
	buf := *raw
	if _, err := s.r.ReadAt(buf, ref.off); err != nil {
		return nil, nil, fmt.Errorf("store: segment %s: read %s at byte %d: %w", s.name(), what, ref.off, err)
	}
	if crc32.Checksum(buf[4:], castagnoli) != binary.LittleEndian.Uint32(buf) {
		return nil, nil, fmt.Errorf("store: segment %s: checksum mismatch in %s at byte %d", s.name(), what, ref.off)
	}
	dst := getBuf(0)
	out, err := zdec.DecodeAll(buf[4:], (*dst)[:0])
	if err != nil {
		chunkBufs.Put(dst)
		return nil, nil, fmt.Errorf("store: segment %s: decompress %s at byte %d: %w", s.name(), what, ref.off, err)
	}
	*dst = out
	return out, func() { chunkBufs.Put(dst) }, nil
}

var sysNames = [nSys]string{"@timestamp", "@ingestionTime", "sequence", "stream", "shape", "raw message", "shape table"}

func (s *segment) readSys(bi *blockIndex, k int, ts []int64, sub ...*rowSubset) (*scan.Column, error) {
	return s.readSysIn(nil, bi, k, ts, sub...)
}

// readSysIn is readSys taking the per-row arrays from ar.
func (s *segment) readSysIn(ar *colArena, bi *blockIndex, k int, ts []int64, sub ...*rowSubset) (*scan.Column, error) {
	p, release, err := s.readTemp(bi.sys[k], sysNames[k]+" column")
	if err != nil {
		return nil, err
	}
	c, err := decodeColumnIn(ar, p, bi.rows, ts, nil, sub...)
	release()
	if err != nil {
		return nil, fmt.Errorf("store: segment %s: %s column at byte %d: %w", s.name(), sysNames[k], bi.sys[k].off, err)
	}
	if k != sysRaw && (c.Type != scan.TypeInt || c.Present != nil) {
		return nil, fmt.Errorf("store: segment %s: %s column at byte %d is not a full int column", s.name(), sysNames[k], bi.sys[k].off)
	}
	return c, nil
}

// readTS decodes the block's @timestamp column into dst when it has room
// (every scan reads it: 80 MB per 10 million rows not to allocate).
func (s *segment) readTS(bi *blockIndex, dst []int64) ([]int64, error) {
	p, release, err := s.readTemp(bi.sys[sysTS], sysNames[sysTS]+" column")
	if err != nil {
		return nil, err
	}
	defer release()
	// Full column (presence 0), int encoding, delta mode: the fast path.
	if len(p) >= 3 && p[0] == 0 && p[1] == encInt && p[2] == intDelta && bi.rows <= maxBlockRows {
		if cap(dst) < bi.rows {
			dst = make([]int64, bi.rows)
		}
		dst = dst[:bi.rows]
		if end := decodeDeltas(p, 3, dst); end == len(p) {
			return dst, nil
		}
	}
	c, err := decodeColumn(p, bi.rows, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("store: segment %s: %s column at byte %d: %w", s.name(), sysNames[sysTS], bi.sys[sysTS].off, err)
	}
	if c.Type != scan.TypeInt || c.Present != nil {
		return nil, fmt.Errorf("store: segment %s: %s column at byte %d is not a full int column", s.name(), sysNames[sysTS], bi.sys[sysTS].off)
	}
	return c.Ints, nil
}

func (s *segment) readCol(bi *blockIndex, ci int, ts []int64, sub ...*rowSubset) (*scan.Column, error) {
	return s.readColRef(nil, bi, ci, ts, true, sub...)
}

// readColIn is readCol taking the per-row arrays from ar.
func (s *segment) readColIn(ar *colArena, bi *blockIndex, ci int, ts []int64, sub ...*rowSubset) (*scan.Column, error) {
	return s.readColRef(ar, bi, ci, ts, true, sub...)
}

func (s *segment) readColRef(ar *colArena, bi *blockIndex, ci int, ts []int64, allowRef bool, sub ...*rowSubset) (*scan.Column, error) {
	c := &bi.cols[ci]
	var resolve func(string) (*scan.Column, error)
	if allowRef {
		resolve = func(name string) (*scan.Column, error) {
			k, ok := bi.byName[name]
			if !ok {
				return nil, fmt.Errorf("no such column in the block")
			}
			return s.readColRef(ar, bi, k, ts, false, sub...)
		}
	}
	p, release, err := s.readTemp(c.chunk, "column "+strconv.Quote(c.name))
	if err != nil {
		return nil, err
	}
	col, err := decodeColumnIn(ar, p, bi.rows, ts, resolve, sub...)
	release()
	if err != nil {
		return nil, fmt.Errorf("store: segment %s: column %q at byte %d: %w", s.name(), c.name, c.chunk.off, err)
	}
	return col, nil
}

// fullBlock is a block with every column decoded, able to rebuild messages.
type fullBlock struct {
	seg    *segment
	bi     *blockIndex
	ts     []int64
	ingest []int64
	seq    []int64
	stream []int64
	shape  []int64
	raw    *scan.Column
	shapes []shapeDef
	cols   []*scan.Column // aligned with bi.cols
}

// readBlock decodes the system columns and, when withCols, all user columns
// (needed to rebuild messages).
func (s *segment) readBlock(bi *blockIndex, withCols bool) (*fullBlock, error) {
	fb := &fullBlock{seg: s, bi: bi}
	tsc, err := s.readSys(bi, sysTS, nil)
	if err != nil {
		return nil, err
	}
	fb.ts = tsc.Ints
	var cols [sysRaw + 1]*scan.Column
	for k := sysIngest; k <= sysRaw; k++ {
		if cols[k], err = s.readSys(bi, k, fb.ts); err != nil {
			return nil, err
		}
	}
	fb.ingest, fb.seq, fb.stream, fb.shape, fb.raw = cols[sysIngest].Ints, cols[sysSeq].Ints, cols[sysStream].Ints, cols[sysShape].Ints, cols[sysRaw]
	if !withCols {
		return fb, nil
	}
	if err := fb.loadShapes(); err != nil {
		return nil, err
	}
	fb.cols = make([]*scan.Column, len(bi.cols))
	for i := range bi.cols {
		if fb.cols[i], err = s.readCol(bi, i, fb.ts); err != nil {
			return nil, err
		}
	}
	return fb, nil
}

func (fb *fullBlock) loadShapes() error {
	s, bi := fb.seg, fb.bi
	p, err := s.readChunk(bi.sys[sysShapes], true, "shape table")
	if err != nil {
		return err
	}
	if fb.shapes, err = parseShapes(p, len(bi.cols)); err != nil {
		return fmt.Errorf("store: segment %s: shape table at byte %d: %w", s.name(), bi.sys[sysShapes].off, err)
	}
	return nil
}

// message appends row's original message to dst.
func (fb *fullBlock) message(dst []byte, row int) ([]byte, error) {
	code := fb.shape[row]
	if code == 0 {
		v := fb.raw.Value(row)
		if v.Kind != scan.KindString {
			return dst, fmt.Errorf("store: segment %s: row %d has no stored message", fb.seg.name(), row)
		}
		return append(dst, v.S...), nil
	}
	if code < 0 || code > int64(len(fb.shapes)) {
		return dst, fmt.Errorf("store: segment %s: row %d: shape %d out of range", fb.seg.name(), row, code)
	}
	out, err := fb.shapes[code-1].render(dst, fb.cols, row)
	if err != nil {
		return out, fmt.Errorf("store: segment %s: %w", fb.seg.name(), err)
	}
	return out, nil
}

// newEncoderFast is for throwaway images of memtables built on reads.
func newEncoderFast() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(2), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithZeroFrames(true))
	if err != nil {
		panic("BUG: zstd encoder options: " + err.Error())
	}
	return e
}
