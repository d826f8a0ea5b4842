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
	walGen  uint64
	created time.Time
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
		m.groups[gid] = mg
	}
	mg.rows = append(mg.rows, rows...)
	m.rows += len(rows)
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
	// One WAL frame per call keeps replay simple, but frames are bounded:
	// split very large batches (each part is durable before the next).
	size := 0
	for i := range events {
		size += len(events[i].Message) + 20
		if size > maxBatchPayload && i > 0 {
			if err := s.appendFrame(account, groupName, streamName, events[:i]); err != nil {
				return err
			}
			return s.Append(account, groupName, streamName, events[i:])
		}
	}
	return s.appendFrame(account, groupName, streamName, events)
}

// maxBatchPayload bounds one WAL frame's payload (well under maxWALBody).
const maxBatchPayload = 16 << 20

func (s *Store) appendFrame(account, groupName, streamName string, events []Event) error {
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
	payload, rows := encodeBatch(gid, sid, ingest, events)
	codec, body, crc := frameBody(payload, s.opts.CompressWAL)

	s.mu.Lock()
	// Backpressure: the active memtable may fill while MaxFrozen others are
	// being flushed; once it is full too, wait for the flusher.
	for s.mem.bytes >= s.opts.MemtableBytes && len(s.frozen) >= s.opts.MaxFrozen && !s.closed && s.bgErr == nil {
		s.cond.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.bgErr != nil {
		err := s.bgErr
		s.mu.Unlock()
		return fmt.Errorf("store: refusing appends after a background failure: %w", err)
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
	w.pending = appendFrame(w.pending, codec, body, crc, seq)
	s.mem.insert(gid, st, rows)
	if s.mem.bytes >= s.opts.MemtableBytes {
		w.rotate = true
	}
	r := w.cur
	s.mu.Unlock()
	w.wake()
	<-r.done
	return r.err
}
