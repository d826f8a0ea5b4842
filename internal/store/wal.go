package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"time"

	"github.com/klauspost/compress/s2"
)

// WAL file layout (doc/wal.md):
//
//	header: "MTWAL\x00\x00\x00" | u32 version | u32 0
//	frame:  u32 bodyLen | u32 crc32c(body || seq) | body | u64 firstSeq
//	body:   u8 codec (0 raw, 1 s2) | payload
//	payload: uvarint group | uvarint stream | varint ingest | uvarint count |
//	         count × (varint timestamp | uvarint len | message bytes)
//
// The first sequence number trails the body so that Append can checksum
// the body outside the store lock and fold in the sequence number, which is
// only known under the lock, with a cheap crc32.Update.

const (
	walMagic      = "MTWAL\x00\x00\x00"
	walVersion    = 1
	walHeaderLen  = 16
	walFrameExtra = 16 // bodyLen + crc + seq
	codecRaw      = 0
	codecS2       = 1
	maxWALBody    = 64 << 20
)

type walRound struct {
	done chan struct{}
	err  error
}

// walWriter owns the current WAL file. Fields marked (mu) are guarded by
// Store.mu; the rest belong to the writer goroutine.
type walWriter struct {
	s        *Store
	f        *os.File   // writer goroutine
	gen      uint64     // writer goroutine (read under mu by nobody else)
	pending  []walFrame // (mu) frames waiting for the next round
	cur      *walRound
	rotate   bool // (mu) freeze the memtable at the next round
	stopping bool // (mu)
	err      error
	spare    []walFrame
	buf      []byte // a round's frames, laid out for one write
	kick     chan struct{}
}

// walFrame is a frame queued for the writer. Appenders only queue the
// body (which the memtable rows alias anyway); the writer lays the frames
// out, so no appender copies payload bytes while holding the store lock.
type walFrame struct {
	codec byte
	body  []byte
	crc   uint32 // of codec and body; the writer folds in seq
	seq   uint64
}

func openWALWriter(s *Store, gen uint64) (*walWriter, error) {
	w := &walWriter{s: s, gen: gen, kick: make(chan struct{}, 1), cur: &walRound{done: make(chan struct{})}}
	if err := w.create(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *walWriter) create() error {
	path := w.s.walPath(w.gen)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("store: create WAL: %w", err)
	}
	hdr := make([]byte, 0, walHeaderLen)
	hdr = append(hdr, walMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, walVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("store: sync %s: %w", path, err)
	}
	if err := syncDir(w.s.dir + "/wal"); err != nil {
		f.Close()
		return err
	}
	w.f = f
	return nil
}

func (w *walWriter) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *walWriter) shutdown() {
	w.s.mu.Lock()
	w.stopping = true
	w.s.cond.Broadcast()
	w.s.mu.Unlock()
	w.wake()
}

// run is the WAL writer goroutine: one write and one fsync per round for all
// frames queued since the previous round.
func (w *walWriter) run() {
	s := w.s
	defer s.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-w.kick:
		case <-tick.C:
			s.mu.Lock()
			if s.mem.rows > 0 && time.Since(s.mem.created) >= s.opts.FlushInterval {
				w.rotate = true
			}
			s.mu.Unlock()
		}
		s.mu.Lock()
		frames := w.pending
		w.pending = w.spare[:0]
		r := w.cur
		w.cur = &walRound{done: make(chan struct{})}
		stopping := w.stopping
		var frozen *memtable
		if ((w.rotate && len(s.frozen) < s.opts.MaxFrozen) || stopping) && s.mem.rows > 0 {
			frozen = s.mem
			frozen.walGen = w.gen
			s.mem = newMemtable()
			if len(frozen.groups) == 1 {
				// A bulk load into one group: size the next one alike.
				// With many groups (a server) that would overshoot each.
				s.mem.rowsHint = frozen.rows + frozen.rows/16
			}
			s.frozen = append(s.frozen, frozen)
			s.lastFrozen = frozen
			w.rotate = false
		}
		// A rotation that has to wait for the flusher stays requested; the
		// flusher wakes the writer when it retires a memtable.
		s.mu.Unlock()

		buf := w.buf[:0]
		for i := range frames {
			f := &frames[i]
			buf = appendFrame(buf, f.codec, f.body, f.crc, f.seq)
		}
		clear(frames) // do not keep the bodies alive
		w.spare = frames[:0]
		if cap(buf) <= 8<<20 {
			w.buf = buf[:0]
		} else {
			w.buf = nil
		}
		if len(buf) > 0 && w.err == nil {
			if _, err := w.f.Write(buf); err != nil {
				w.err = fmt.Errorf("store: write WAL %s: %w", w.f.Name(), err)
			} else if err := w.f.Sync(); err != nil {
				// After a failed fsync the page cache state is unknown, so
				// every later append fails too.
				w.err = fmt.Errorf("store: sync WAL %s: %w", w.f.Name(), err)
			}
		}
		r.err = w.err
		close(r.done)
		if frozen != nil {
			s.flushCh <- frozen
			if !stopping && w.err == nil {
				w.f.Close()
				w.gen++
				if err := w.create(); err != nil {
					w.err = err
				}
			}
		}
		if stopping {
			// Fail anyone who queued after the last round.
			s.mu.Lock()
			last := w.cur
			w.cur = &walRound{done: make(chan struct{})}
			s.mu.Unlock()
			last.err = ErrClosed
			close(last.done)
			if w.f != nil {
				w.f.Close()
			}
			close(s.flushCh)
			return
		}
	}
}

// encodeBatch builds a WAL payload and the memtable rows that point into it.
func encodeBatch(gid, sid uint32, ingest int64, events []Event) ([]byte, []memRow) {
	size := 32
	for i := range events {
		size += len(events[i].Message) + 15
	}
	p := make([]byte, 0, size)
	p = binary.AppendUvarint(p, uint64(gid))
	p = binary.AppendUvarint(p, uint64(sid))
	p = binary.AppendVarint(p, ingest)
	p = binary.AppendUvarint(p, uint64(len(events)))
	rows := make([]memRow, len(events))
	offs := make([]int, len(events))
	for i := range events {
		p = binary.AppendVarint(p, events[i].Timestamp)
		p = binary.AppendUvarint(p, uint64(len(events[i].Message)))
		offs[i] = len(p)
		p = append(p, events[i].Message...)
	}
	for i := range events {
		rows[i] = memRow{ts: events[i].Timestamp, ingest: ingest, stream: sid, msg: p[offs[i] : offs[i]+len(events[i].Message) : offs[i]+len(events[i].Message)]}
	}
	return p, rows
}

// frameBody returns the frame body for a payload (codec byte plus data) and
// the CRC of the body, to be extended with the sequence number. Uncompressed
// bodies are not copied: data is the payload itself.
func frameBody(payload []byte, compress bool) (byte, []byte, uint32) {
	if compress {
		enc := s2.Encode(make([]byte, s2.MaxEncodedLen(len(payload))), payload)
		if len(enc) < len(payload) {
			crc := crc32.Update(crc32.Checksum([]byte{codecS2}, castagnoli), castagnoli, enc)
			return codecS2, enc, crc
		}
	}
	crc := crc32.Update(crc32.Checksum([]byte{codecRaw}, castagnoli), castagnoli, payload)
	return codecRaw, payload, crc
}

func appendFrame(dst []byte, codec byte, data []byte, crc uint32, seq uint64) []byte {
	var sb [8]byte
	binary.LittleEndian.PutUint64(sb[:], seq)
	crc = crc32.Update(crc, castagnoli, sb[:])
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)+1))
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	dst = append(dst, codec)
	dst = append(dst, data...)
	return append(dst, sb[:]...)
}

// walBatch is one decoded WAL frame.
type walBatch struct {
	group, stream uint32
	ingest        int64
	seq           uint64
	payload       []byte
	rows          []memRow
}

// decodePayload parses a WAL payload; the rows alias it.
func decodePayload(p []byte, seq uint64) (walBatch, error) {
	b := walBatch{seq: seq, payload: p}
	i := 0
	uv := func(what string) (uint64, error) {
		v, n := binary.Uvarint(p[i:])
		if n <= 0 {
			return 0, fmt.Errorf("bad %s at payload byte %d", what, i)
		}
		i += n
		return v, nil
	}
	sv := func(what string) (int64, error) {
		v, n := binary.Varint(p[i:])
		if n <= 0 {
			return 0, fmt.Errorf("bad %s at payload byte %d", what, i)
		}
		i += n
		return v, nil
	}
	g, err := uv("group id")
	if err != nil {
		return b, err
	}
	st, err := uv("stream id")
	if err != nil {
		return b, err
	}
	if g > 1<<32-1 || st > 1<<32-1 {
		return b, fmt.Errorf("group or stream id out of range")
	}
	b.group, b.stream = uint32(g), uint32(st)
	if b.ingest, err = sv("ingestion time"); err != nil {
		return b, err
	}
	n, err := uv("event count")
	if err != nil {
		return b, err
	}
	if n > uint64(len(p)) {
		return b, fmt.Errorf("event count %d exceeds payload size", n)
	}
	b.rows = make([]memRow, 0, n)
	for k := uint64(0); k < n; k++ {
		ts, err := sv("timestamp")
		if err != nil {
			return b, err
		}
		l, err := uv("message length")
		if err != nil {
			return b, err
		}
		if l > uint64(len(p)-i) {
			return b, fmt.Errorf("message %d overruns payload (length %d at byte %d)", k, l, i)
		}
		b.rows = append(b.rows, memRow{ts: ts, ingest: b.ingest, seq: seq + k, stream: b.stream, msg: p[i : i+int(l) : i+int(l)]})
		i += int(l)
	}
	if i != len(p) {
		return b, fmt.Errorf("%d trailing bytes after the events", len(p)-i)
	}
	return b, nil
}

// errTorn marks a frame that is incomplete or fails its checksum.
var errTorn = errors.New("torn or corrupt frame")

// errBadHeader marks a WAL file whose header is not a WAL header.
var errBadHeader = errors.New("not a WAL file (bad magic number)")

// readWAL parses a WAL file image and calls fn for each good frame. It
// returns the offset just past the last good frame; a bad frame stops the
// walk with an error wrapping errTorn (the caller decides whether it is a
// torn tail) or another error for an unusable file.
func readWAL(path string, data []byte, fn func(walBatch) error) (int, error) {
	if len(data) < walHeaderLen {
		return 0, fmt.Errorf("store: %s: %w: file shorter than the %d-byte header", path, errTorn, walHeaderLen)
	}
	if string(data[:8]) != walMagic {
		return 0, fmt.Errorf("store: %s: %w", path, errBadHeader)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != walVersion {
		return 0, fmt.Errorf("store: %s: unsupported WAL version %d (this build reads %d)", path, v, walVersion)
	}
	off := walHeaderLen
	var scratch []byte
	for off < len(data) {
		if len(data)-off < walFrameExtra {
			return off, fmt.Errorf("store: %s: %w at byte %d: truncated frame header", path, errTorn, off)
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		crc := binary.LittleEndian.Uint32(data[off+4:])
		if n < 1 || n > maxWALBody || n > len(data)-off-walFrameExtra {
			return off, fmt.Errorf("store: %s: %w at byte %d: frame length %d overruns the file", path, errTorn, off, n)
		}
		body := data[off+8 : off+8+n]
		seqb := data[off+8+n : off+16+n]
		c := crc32.Update(crc32.Checksum(body, castagnoli), castagnoli, seqb)
		if c != crc {
			return off, fmt.Errorf("store: %s: %w at byte %d: checksum mismatch", path, errTorn, off)
		}
		var payload []byte
		switch body[0] {
		case codecRaw:
			payload = append([]byte(nil), body[1:]...)
		case codecS2:
			dl, err := s2.DecodedLen(body[1:])
			if err != nil || dl > maxWALBody*4 {
				return off, fmt.Errorf("store: %s: frame at byte %d: bad s2 block: %v", path, off, err)
			}
			scratch = make([]byte, dl)
			payload, err = s2.Decode(scratch, body[1:])
			if err != nil {
				return off, fmt.Errorf("store: %s: frame at byte %d: %w", path, off, err)
			}
		default:
			return off, fmt.Errorf("store: %s: frame at byte %d: unknown codec %d", path, off, body[0])
		}
		b, err := decodePayload(payload, binary.LittleEndian.Uint64(seqb))
		if err != nil {
			return off, fmt.Errorf("store: %s: frame at byte %d: %w", path, off, err)
		}
		if err := fn(b); err != nil {
			return off, err
		}
		off += n + walFrameExtra
	}
	return off, nil
}

// replayWAL loads every WAL file at or above the floor into the memtable and
// returns the highest file number seen (or floor-1 when there is none).
func (s *Store) replayWAL() (uint64, error) {
	files, err := s.walFiles()
	if err != nil {
		return 0, err
	}
	last := uint64(0)
	if s.walFloor > 0 {
		last = s.walFloor - 1
	}
	for _, n := range files {
		path := s.walPath(n)
		if n < s.walFloor {
			os.Remove(path)
			continue
		}
		if n > last {
			last = n
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("store: %w", err)
		}
		events := 0
		good, err := readWAL(path, data, func(b walBatch) error {
			events += len(b.rows)
			s.replayBatch(b)
			return nil
		})
		if errors.Is(err, errBadHeader) && n == files[len(files)-1] {
			// The newest file's header is fsynced before any frame is
			// written to it, so a header that never reached the disk
			// means the file holds no acknowledged event.
			s.log.Warn("store: dropping WAL file with an incomplete header", "file", path, "bytes", len(data))
			if err := os.Remove(path); err != nil {
				return 0, fmt.Errorf("store: remove %s: %w", path, err)
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, errTorn) {
				return 0, err
			}
			// Frames are written in order and acknowledged only after the
			// fsync that covers them, so a bad frame means the tail of the
			// last write never reached the disk whole: drop it.
			s.log.Warn("store: dropping torn WAL tail", "file", path, "offset", good, "dropped_bytes", len(data)-good, "reason", err)
			if err := os.Truncate(path, int64(good)); err != nil {
				return 0, fmt.Errorf("store: truncate torn WAL %s: %w", path, err)
			}
		}
		if events > 0 {
			s.log.Info("store: replayed WAL", "file", path, "events", events)
		} else if err := os.Remove(path); err != nil {
			// No frame: every open of an idle store would otherwise leave
			// one more header-only file behind (nothing is ever flushed
			// to raise the floor past it).
			return 0, fmt.Errorf("store: remove empty WAL %s: %w", path, err)
		}
	}
	return last, nil
}

func (s *Store) replayBatch(b walBatch) {
	if end := b.seq + uint64(len(b.rows)); end > s.nextSeq {
		s.nextSeq = end
	}
	g := s.groupByID[b.group]
	if g == nil {
		return // group deleted after the append
	}
	st := g.byID[b.stream]
	if st == nil {
		return
	}
	s.mem.insert(g.ID, st, b.rows)
}
