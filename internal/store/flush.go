package store

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

const dayMs = 86400000

func windowOf(ts int64) int64 {
	if ts < 0 {
		return (ts+1)/dayMs - 1
	}
	return ts / dayMs
}

// flushLoop writes frozen memtables into segments. Up to MaxFrozen of them
// are encoded at the same time (each by its own goroutine, its blocks
// spread over the worker pool), so that both cores stay busy while the
// active memtable fills; they are installed strictly in freezing order,
// because installing one retires its WAL file and every older one.
func (s *Store) flushLoop() {
	defer s.wg.Done()
	enc := newFlushEncoder(s.opts.Workers, zstd.SpeedDefault)
	defer enc.Close()
	type job struct {
		m    *memtable
		done chan flushed
	}
	queue := make(chan job, s.opts.MaxFrozen+2)
	installed := make(chan struct{})
	go func() {
		defer close(installed)
		var failed error
		for j := range queue {
			f := <-j.done
			if failed == nil && f.err != nil {
				failed = f.err
				s.setBgErr(f.err)
			}
			if failed != nil {
				// A memtable after a failed one must not retire WAL files
				// (the failed one's events live only there): drop its
				// segments and fail its deferred appends; the WAL replays
				// the rest at the next open.
				for _, seg := range f.segs {
					seg.obsolete()
				}
				s.failMemtable(j.m, failed)
				continue
			}
			if err := s.installFlush(j.m, f); err != nil {
				failed = err
				s.setBgErr(err)
				s.failMemtable(j.m, err)
			}
		}
	}()
	for m := range s.flushCh {
		j := job{m: m, done: make(chan flushed, 1)}
		go func() { j.done <- s.encodeMemtable(m, enc) }()
		queue <- j
	}
	close(queue)
	<-installed
}

// flushed is an encoded memtable whose segment files are written and
// synced but not yet listed in the manifest.
type flushed struct {
	tasks   []*segTask
	segs    []*segment
	encoded time.Duration
	err     error
}

// newFlushEncoder returns the zstd encoder of flushes and merges. It writes
// no frame checksum: every chunk has a CRC-32C of its own, which readers
// check (and they ignore zstd's).
func newFlushEncoder(workers int, level zstd.EncoderLevel) *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(workers), zstd.WithEncoderLevel(level),
		zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		panic("BUG: zstd encoder options: " + err.Error())
	}
	return e
}

// segTask is the rows of one future segment: one group, one day.
type segTask struct {
	gid    uint32
	window int64
	rows   []memRow
	blocks []blockOut
}

func rowLess(a, b *memRow) bool {
	return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq)
}

// maxMergeRuns is how many sorted runs sortRows merges rather than sorting
// the rows from scratch.
const maxMergeRuns = 64

// sortRows sorts rows by time, then sequence number. A memtable is usually
// a few sorted runs (each appended batch of a time-ordered file is one,
// and concurrent appenders interleave batches), which merging puts in order
// in a few linear passes; anything more disordered is sorted.
func sortRows(rows []memRow) {
	var starts []int
	for i := 1; i < len(rows); i++ {
		if rowLess(&rows[i], &rows[i-1]) {
			if len(starts) == maxMergeRuns {
				slices.SortFunc(rows, func(a, b memRow) int {
					if c := cmp.Compare(a.ts, b.ts); c != 0 {
						return c
					}
					return cmp.Compare(a.seq, b.seq)
				})
				return
			}
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return
	}
	bounds := append(append([]int{0}, starts...), len(rows))
	src, dst := rows, make([]memRow, len(rows))
	for len(bounds) > 2 {
		next := bounds[:1]
		for k := 0; k+1 < len(bounds); k += 2 {
			lo, mid := bounds[k], bounds[k+1]
			hi := mid
			if k+2 < len(bounds) {
				hi = bounds[k+2]
			}
			mergeRows(dst[lo:hi], src[lo:mid], src[mid:hi])
			next = append(next, hi)
		}
		bounds = next
		src, dst = dst, src
	}
	if &src[0] != &rows[0] {
		copy(rows, src)
	}
}

// mergeRows merges the sorted a and b into dst (len(a)+len(b) long).
func mergeRows(dst, a, b []memRow) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if rowLess(&b[j], &a[i]) {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

// splitTasks sorts rows by time and cuts them into per-day tasks.
func splitTasks(gid uint32, rows []memRow) []*segTask {
	sortRows(rows)
	var out []*segTask
	for len(rows) > 0 {
		w := windowOf(rows[0].ts)
		n := 1
		for n < len(rows) && windowOf(rows[n].ts) == w {
			n++
		}
		out = append(out, &segTask{gid: gid, window: w, rows: rows[:n]})
		rows = rows[n:]
	}
	return out
}

// encodeTasks builds every block of the tasks using the worker pool.
func (s *Store) encodeTasks(tasks []*segTask, enc *zstd.Encoder) error {
	type job struct {
		t    *segTask
		i    int
		rows []memRow
	}
	var jobs []job
	for _, t := range tasks {
		nb := (len(t.rows) + s.opts.BlockRows - 1) / s.opts.BlockRows
		// Even block sizes: no tiny tail block.
		per := (len(t.rows) + nb - 1) / max(nb, 1)
		t.blocks = make([]blockOut, nb)
		for i := 0; i < nb; i++ {
			lo, hi := i*per, min((i+1)*per, len(t.rows))
			jobs = append(jobs, job{t, i, t.rows[lo:hi]})
		}
	}
	ch := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < min(s.opts.Workers, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				// The builders are shared by all flushes and merges, so at
				// most Workers blocks are built at once however many
				// memtables are flushing, and their (block-sized) buffers
				// are reused rather than regrown.
				b := s.builders.get()
				out, err := b.buildBlock(j.rows, enc)
				s.builders.put(b)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				j.t.blocks[j.i] = out
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return firstErr
}

// writeTask writes a task's blocks as a new segment file and opens it.
func (s *Store) writeTask(t *segTask) (*segment, error) {
	s.mu.Lock()
	id := s.nextSeg
	s.nextSeg++
	s.mu.Unlock()
	path := s.segPath(id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: create segment: %w", err)
	}
	_, err = writeSegment(f, t.blocks)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("store: write segment %s: %w", path, err)
	}
	meta := segMeta{ID: id, Window: t.window, Rows: int64(len(t.rows))}
	meta.MinTime, meta.MaxTime = t.rows[0].ts, t.rows[len(t.rows)-1].ts
	streams := map[uint32]bool{}
	for i := range t.blocks {
		meta.MsgSize += t.blocks[i].idx.msgBytes
		for _, id := range t.blocks[i].idx.streams {
			streams[id] = true
		}
	}
	for id := range streams {
		meta.Streams = append(meta.Streams, id)
	}
	slices.Sort(meta.Streams)
	return openSegment(path, meta)
}

func insertSegment(g *group, seg *segment) {
	i, _ := slices.BinarySearchFunc(g.Segments, seg, func(a, b *segment) int {
		if c := cmp.Compare(a.meta.Window, b.meta.Window); c != 0 {
			return c
		}
		return cmp.Compare(a.meta.ID, b.meta.ID)
	})
	g.Segments = slices.Insert(g.Segments, i, seg)
}

// encodeMemtable writes m's rows into new segment files (synced, not yet
// in the manifest). It runs concurrently with appends and other flushes.
func (s *Store) encodeMemtable(m *memtable, enc *zstd.Encoder) flushed {
	start := time.Now()
	type part struct {
		gid  uint32
		rows []memRow
	}
	var parts []part
	s.mu.Lock()
	for gid, mg := range m.groups {
		g := s.groupByID[gid]
		if g == nil {
			continue
		}
		rows := make([]memRow, 0, len(mg.rows))
		for _, r := range mg.rows {
			if !g.Deleted[r.stream] {
				rows = append(rows, r)
			}
		}
		parts = append(parts, part{gid, rows})
	}
	s.mu.Unlock()
	var f flushed
	for _, p := range parts {
		f.tasks = append(f.tasks, splitTasks(p.gid, p.rows)...)
	}
	if f.err = s.encodeTasks(f.tasks, enc); f.err != nil {
		return f
	}
	f.encoded = time.Since(start)
	for _, t := range f.tasks {
		seg, err := s.writeTask(t)
		if err != nil {
			for _, sg := range f.segs {
				sg.obsolete()
			}
			f.segs, f.err = nil, err
			return f
		}
		f.segs = append(f.segs, seg)
		t.blocks = nil
	}
	if f.err = syncDir(s.dir + "/seg"); f.err != nil {
		for _, sg := range f.segs {
			sg.obsolete()
		}
		f.segs = nil
	}
	return f
}

// installFlush lists an encoded memtable's segments, retires the memtable
// and its WAL files, and acknowledges its deferred appends. Memtables are
// installed in the order they were frozen.
func (s *Store) installFlush(m *memtable, f flushed) error {
	var orphans []*segment
	s.mu.Lock()
	for i, t := range f.tasks {
		if g := s.groupByID[t.gid]; g != nil {
			insertSegment(g, f.segs[i])
		} else {
			orphans = append(orphans, f.segs[i])
		}
	}
	if len(s.frozen) > 0 && s.frozen[0] == m {
		s.frozen = s.frozen[1:]
	}
	prevFloor := s.walFloor
	s.walFloor = m.walGen + 1
	s.cond.Broadcast()
	pendingRotate := s.wal.rotate
	s.mu.Unlock()
	if pendingRotate {
		s.wal.wake()
	}
	for _, o := range orphans {
		o.obsolete()
	}
	if err := s.writeManifest(); err != nil {
		// The caller fails m's deferred appends, so what a later manifest
		// (Close's) lists must not make them durable after all: take the
		// segments back out and keep m's rows (and WAL files) as they were.
		s.mu.Lock()
		var out []*segment
		for i, t := range f.tasks {
			if g := s.groupByID[t.gid]; g != nil {
				n := len(g.Segments)
				g.Segments = slices.DeleteFunc(g.Segments, func(x *segment) bool { return x == f.segs[i] })
				if len(g.Segments) < n {
					out = append(out, f.segs[i])
				}
			}
		}
		s.walFloor = prevFloor
		s.frozen = append([]*memtable{m}, s.frozen...)
		s.mu.Unlock()
		for _, seg := range out {
			seg.obsolete()
		}
		return err // the caller fails m's waiters
	}
	s.answer(m, nil)
	files, _ := s.walFiles()
	for _, n := range files {
		if n <= m.walGen {
			os.Remove(s.walPath(n))
		}
	}
	s.log.Debug("store: flushed memtable", "events", m.rows, "segments", len(f.segs), "encode", f.encoded)
	s.kickMaint()
	return nil
}

// failMemtable reports a flush failure to m's deferred appends. Its rows
// stay in s.frozen (visible to reads) since nothing durable replaced them.
// The active memtable's deferred appends (and a Sync waiting on it) are
// failed too: no memtable is installed after a failure, and with the
// frozen slots taken it would never even be frozen, so they would wait
// until Close.
func (s *Store) failMemtable(m *memtable, err error) {
	s.answer(m, err)
	s.mu.Lock()
	active := s.mem
	s.cond.Broadcast()
	s.mu.Unlock()
	if active != m {
		s.answer(active, err)
	}
}

// answer calls m's waiters with err; later Sync calls no longer wait on m.
func (s *Store) answer(m *memtable, err error) {
	s.mu.Lock()
	waiters := m.waiters
	m.waiters, m.answered = nil, true
	if s.lastFrozen == m {
		s.lastFrozen = nil // do not keep its rows alive
	}
	s.mu.Unlock()
	for _, w := range waiters {
		w(err)
	}
}

func (s *Store) kickMaint() {
	select {
	case s.maintCh <- struct{}{}:
	default:
	}
}

// maintLoop runs retention, deleted-stream rewrites and merges.
func (s *Store) maintLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.MaintenanceInterval)
	defer t.Stop()
	enc := newFlushEncoder(s.opts.Workers, zstd.SpeedDefault)
	defer enc.Close()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.maintCh:
		}
		if err := s.maintain(enc); err != nil {
			s.log.Error("store: maintenance failed", "err", err)
		}
	}
}

// Maintain runs one retention/rewrite/merge pass synchronously (it also
// runs in the background after flushes and periodically).
func (s *Store) Maintain() error {
	enc := newFlushEncoder(s.opts.Workers, zstd.SpeedDefault)
	defer enc.Close()
	return s.maintain(enc)
}

var maintMu sync.Mutex // one maintenance pass at a time per process

func (s *Store) maintain(enc *zstd.Encoder) error {
	maintMu.Lock()
	defer maintMu.Unlock()
	// Retention: drop whole segments older than the cutoff.
	now := s.now()
	var expired []*segment
	s.mu.Lock()
	for _, g := range s.groupByID {
		if g.Retention == 0 {
			continue
		}
		cutoff := now - int64(g.Retention)*dayMs
		keep := g.Segments[:0]
		for _, seg := range g.Segments {
			if seg.meta.MaxTime < cutoff {
				expired = append(expired, seg)
			} else {
				keep = append(keep, seg)
			}
		}
		clear(g.Segments[len(keep):])
		g.Segments = keep
	}
	s.mu.Unlock()
	if len(expired) > 0 {
		if err := s.writeManifest(); err != nil {
			return err
		}
		for _, seg := range expired {
			s.log.Info("store: retention dropped segment", "file", seg.path, "rows", seg.meta.Rows)
			seg.obsolete()
		}
	}
	for {
		gid, segs := s.pickRewrite()
		if segs == nil {
			return nil
		}
		if err := s.rewrite(gid, segs, enc); err != nil {
			return err
		}
	}
}

// pickRewrite chooses segments to rewrite: one holding rows of a deleted
// stream, or a run of small segments of one day.
func (s *Store) pickRewrite() (uint32, []*segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil
	}
	for _, g := range s.groupByID {
		if len(g.Deleted) > 0 {
			for _, seg := range g.Segments {
				for _, id := range seg.meta.Streams {
					if g.Deleted[id] {
						seg.acquire()
						return g.ID, []*segment{seg}
					}
				}
			}
		}
		for i := 0; i < len(g.Segments); {
			j := i
			var small []*segment
			var total int64
			for ; j < len(g.Segments) && g.Segments[j].meta.Window == g.Segments[i].meta.Window; j++ {
				seg := g.Segments[j]
				if seg.meta.MsgSize < s.opts.MergeSmallBytes && total+seg.meta.MsgSize <= 4*s.opts.MergeSmallBytes {
					small = append(small, seg)
					total += seg.meta.MsgSize
				}
			}
			if len(small) >= s.opts.MergeMinSegments {
				for _, seg := range small {
					seg.acquire()
				}
				return g.ID, small
			}
			i = j
		}
	}
	return 0, nil
}

// rewrite replaces segs (one group, one day) by a single segment without
// rows of deleted streams. The caller holds a reference on each seg.
func (s *Store) rewrite(gid uint32, segs []*segment, enc *zstd.Encoder) error {
	defer func() {
		for _, seg := range segs {
			seg.release()
		}
	}()
	s.mu.Lock()
	g := s.groupByID[gid]
	var deleted map[uint32]bool
	if g != nil {
		deleted = make(map[uint32]bool, len(g.Deleted))
		for k := range g.Deleted {
			deleted[k] = true
		}
	}
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	var rows []memRow
	for _, seg := range segs {
		for bi := range seg.blocks {
			fb, err := seg.readBlock(&seg.blocks[bi], true)
			if err != nil {
				return err
			}
			for i := 0; i < fb.bi.rows; i++ {
				if deleted[uint32(fb.stream[i])] {
					continue
				}
				msg, err := fb.message(nil, i)
				if err != nil {
					return err
				}
				rows = append(rows, memRow{ts: fb.ts[i], ingest: fb.ingest[i], seq: uint64(fb.seq[i]), stream: uint32(fb.stream[i]), msg: msg})
			}
		}
	}
	var news []*segment
	if len(rows) > 0 {
		tasks := splitTasks(gid, rows)
		if err := s.encodeTasks(tasks, enc); err != nil {
			return err
		}
		for _, t := range tasks {
			seg, err := s.writeTask(t)
			if err != nil {
				for _, n := range news {
					n.obsolete()
				}
				return err
			}
			news = append(news, seg)
		}
		if err := syncDir(s.dir + "/seg"); err != nil {
			return err
		}
	}
	s.mu.Lock()
	g2 := s.groupByID[gid]
	ok := g2 == g
	if ok {
		for _, old := range segs {
			if !slices.Contains(g.Segments, old) {
				ok = false
			}
		}
	}
	if ok {
		g.Segments = slices.DeleteFunc(g.Segments, func(x *segment) bool { return slices.Contains(segs, x) })
		for _, n := range news {
			insertSegment(g, n)
		}
		// Forget deleted streams no segment or memtable mentions any more.
		for id := range g.Deleted {
			if !s.streamReferenced(g, id) {
				delete(g.Deleted, id)
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		for _, n := range news {
			n.obsolete()
		}
		return nil
	}
	if err := s.writeManifest(); err != nil {
		return err
	}
	for _, old := range segs {
		old.obsolete()
	}
	s.log.Debug("store: rewrote segments", "group", g.Name, "inputs", len(segs), "rows", len(rows))
	return nil
}

// streamReferenced reports whether any segment or memtable of g may hold
// rows of stream id. Store.mu must be held.
func (s *Store) streamReferenced(g *group, id uint32) bool {
	for _, seg := range g.Segments {
		if slices.Contains(seg.meta.Streams, id) {
			return true
		}
	}
	mems := append([]*memtable{s.mem}, s.frozen...)
	for _, m := range mems {
		if mg := m.groups[g.ID]; mg != nil {
			for _, r := range mg.rows {
				if r.stream == id {
					return true
				}
			}
		}
	}
	return false
}
