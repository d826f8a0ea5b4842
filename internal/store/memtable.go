package store

import (
	"fmt"
	"sync"
	"time"
)

// memRow is one buffered event; msg aliases its WAL payload.
type memRow struct {
	ts, ingest int64
	seq        uint64
	stream     uint32
	msg        []byte
}

// memtable buffers appended events per group until they are flushed. Rows
// are only ever appended, so a reader may keep a slice header taken under
// Store.mu and read it without the lock.
type memtable struct {
	groups  map[uint32]*memGroup
	rows    int
	bytes   int
	maxRows int // rows of the memtable's largest group
	walGen  uint64
	created time.Time
	// rowsHint is the row count of the memtable before this one.
	rowsHint int

	// waiters are called once the memtable's rows are in segments listed
	// in the manifest (nil) or that failed: AppendDeferred's callbacks and
	// Sync's. answered is set when they have been taken for calling; both
	// are guarded by Store.mu.
	waiters  []func(error)
	answered bool
}

type memGroup struct {
	rows []memRow

	// Columnar images of rows[:cachedRows] built for readers, so repeated
	// scans of the memtable do not flatten the same messages again.
	cacheMu    sync.Mutex
	cachedRows int
	cached     []*segment
}

func newMemtable() *memtable {
	return &memtable{groups: map[uint32]*memGroup{}, created: time.Now()}
}

// insert adds rows (seq already set) for stream st of group gid and updates
// the stream's statistics. Store.mu must be held.
func (m *memtable) insert(gid uint32, st *stream, rows []memRow) {
	mg := m.groups[gid]
	if mg == nil {
		mg = &memGroup{}
		if len(m.groups) == 0 && m.rowsHint > 0 {
			// Bulk loads fill one group: size it like the previous
			// memtable instead of regrowing it a dozen times.
			mg.rows = make([]memRow, 0, m.rowsHint)
		}
		m.groups[gid] = mg
	}
	mg.rows = append(mg.rows, rows...)
	m.rows += len(rows)
	m.maxRows = max(m.maxRows, len(mg.rows))
	for i := range rows {
		r := &rows[i]
		m.bytes += len(r.msg) + 26
		if st.First == 0 || r.ts < st.First {
			st.First = r.ts
		}
		if r.ts > st.Last {
			st.Last = r.ts
		}
		if r.ingest > st.LastIngest {
			st.LastIngest = r.ingest
		}
	}
}

// MaxMessageBytes bounds one event's message (CloudWatch's current limit).
const MaxMessageBytes = 1 << 20

// Append stores events in a stream. It returns nil only once the events are
// durable (fsynced in the WAL); concurrent callers share fsyncs. The
// ingestion time is set by the store; events may come in any time order.
func (s *Store) Append(account, groupName, streamName string, events []Event) error {
	return s.appendEvents(account, groupName, streamName, events, nil)
}

// AppendDeferred is Append for bulk loads: it copies the events into the
// active memtable and returns without writing them to the WAL, and done is
// called once they are durable in fsynced segments listed in the manifest
// (nil), or with the error that prevented it. Until then a crash loses
// them, so a caller must not report them stored before done(nil); in
// exchange the store writes each event once instead of twice (WAL and
// segment) and spends no CPU on WAL frames. The events are visible to
// reads at once, like appended ones. done runs on the store goroutine that
// retires flushed memtables, so it must not block for long nor call into
// the Store (an append could wait for that very goroutine); it may be
// called before AppendDeferred returns.
//
// A memtable is flushed when it is full or FlushInterval old; Sync flushes
// at once. When AppendDeferred returns an error, done is not called.
func (s *Store) AppendDeferred(account, groupName, streamName string, events []Event, done func(error)) error {
	if done == nil {
		return fmt.Errorf("%w: AppendDeferred needs a done function", ErrInvalid)
	}
	if len(events) == 0 {
		done(nil)
		return nil
	}
	return s.appendEvents(account, groupName, streamName, events, done)
}

func (s *Store) appendEvents(account, groupName, streamName string, events []Event, done func(error)) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if len(events[i].Message) == 0 {
			return fmt.Errorf("%w: event %d: empty message", ErrInvalid, i)
		}
		if len(events[i].Message) > MaxMessageBytes {
			return fmt.Errorf("%w: event %d: message of %d bytes exceeds %d", ErrInvalid, i, len(events[i].Message), MaxMessageBytes)
		}
	}
	if done != nil {
		// No WAL frame, so no frame size limit.
		return s.appendFrame(account, groupName, streamName, events, done)
	}
	// One WAL frame per call keeps replay simple, but frames are bounded:
	// split very large batches (each part is durable before the next).
	size := 0
	for i := range events {
		size += len(events[i].Message) + 20
		if size > maxBatchPayload && i > 0 {
			if err := s.appendFrame(account, groupName, streamName, events[:i], nil); err != nil {
				return err
			}
			return s.appendEvents(account, groupName, streamName, events[i:], nil)
		}
	}
	return s.appendFrame(account, groupName, streamName, events, nil)
}

// maxBatchPayload bounds one WAL frame's payload (well under maxWALBody).
const maxBatchPayload = 16 << 20

// appendFrame appends one batch: through the WAL when done is nil, else
// deferred (see AppendDeferred).
func (s *Store) appendFrame(account, groupName, streamName string, events []Event, done func(error)) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	st := g.Streams[streamName]
	if st == nil {
		s.mu.Unlock()
		return fmt.Errorf("log stream %q in log group %q: %w", streamName, groupName, ErrNotFound)
	}
	gid, sid := g.ID, st.ID
	s.mu.Unlock()

	ingest := s.now()
	var (
		rows  []memRow
		codec byte
		body  []byte
		crc   uint32
	)
	if done != nil {
		rows = copyBatch(sid, ingest, events)
	} else {
		var payload []byte
		payload, rows = encodeBatch(gid, sid, ingest, events)
		codec, body, crc = frameBody(payload, s.opts.CompressWAL)
	}

	s.mu.Lock()
	// Backpressure: the active memtable may fill while MaxFrozen others are
	// being flushed; once it is full too, wait for the flusher.
	for s.memFull() && len(s.frozen) >= s.opts.MaxFrozen && !s.closed && s.bgErr == nil {
		s.cond.Wait()
	}
	if err := s.refusalLocked("store: refusing appends after a background failure"); err != nil {
		s.mu.Unlock()
		return err
	}
	if g2 := s.groupByID[gid]; g2 != g || g.byID[sid] != st {
		s.mu.Unlock()
		return fmt.Errorf("log stream %q in log group %q: %w (deleted during append)", streamName, groupName, ErrNotFound)
	}
	seq := s.nextSeq
	s.nextSeq += uint64(len(rows))
	for i := range rows {
		rows[i].seq = seq + uint64(i)
	}
	w := s.wal
	if done == nil {
		w.pending = append(w.pending, walFrame{codec: codec, body: body, crc: crc, seq: seq})
	} else {
		s.mem.waiters = append(s.mem.waiters, done)
	}
	s.mem.insert(gid, st, rows)
	full := s.memFull()
	if full {
		w.rotate = true
	}
	r := w.cur
	s.mu.Unlock()
	if done != nil {
		if full {
			w.wake()
		}
		return nil
	}
	w.wake()
	<-r.done
	return r.err
}

// copyBatch copies events into one buffer and returns memtable rows that
// point into it (a deferred append has no WAL payload to alias).
func copyBatch(sid uint32, ingest int64, events []Event) []memRow {
	size := 0
	for i := range events {
		size += len(events[i].Message)
	}
	buf := make([]byte, 0, size)
	rows := make([]memRow, len(events))
	for i := range events {
		m := events[i].Message
		start := len(buf)
		buf = append(buf, m...)
		rows[i] = memRow{ts: events[i].Timestamp, ingest: ingest, stream: sid, msg: buf[start:len(buf):len(buf)]}
	}
	return rows
}

// refusalLocked is why the store takes no more work, or nil: ErrClosed,
// or the background failure behind prefix. s.mu must be held.
func (s *Store) refusalLocked(prefix string) error {
	if s.closed {
		return ErrClosed
	}
	if s.bgErr != nil {
		return fmt.Errorf("%s: %w", prefix, s.bgErr)
	}
	return nil
}

// Sync flushes everything appended so far into segments and returns once
// they are listed in the manifest: the deferred appends made before the
// call are then durable (their done functions have been called).
func (s *Store) Sync() error {
	ch := make(chan error, 1)
	notify := func(err error) { ch <- err }
	s.mu.Lock()
	if err := s.refusalLocked("store"); err != nil {
		s.mu.Unlock()
		return err
	}
	// Memtables are installed and answered in the order they were frozen,
	// so waiting for the newest one waits for all.
	switch m := s.lastFrozen; {
	case s.mem.rows > 0:
		s.mem.waiters = append(s.mem.waiters, notify)
		s.wal.rotate = true
	case m != nil && !m.answered:
		m.waiters = append(m.waiters, notify)
	default:
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.wal.wake()
	return <-ch
}

// memFull says the active memtable should be frozen: its messages reach
// MemtableBytes, or its largest group holds nearly a block. The row rule is
// what gives bulk loads full blocks (per-block costs of scans, dictionaries
// above all, fall with block size): freezing a little before BlockRows
// leaves room for the batch that crosses the mark, so one (group, day)
// slice of the memtable still fits one block. Store.mu must be held.
func (s *Store) memFull() bool {
	return s.mem.bytes >= s.opts.MemtableBytes || s.mem.maxRows >= s.opts.BlockRows-s.opts.BlockRows/8
}
