package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

var _ scan.Source = (*Store)(nil)

// readGroup is what a reader needs of one group, captured under Store.mu.
type readGroup struct {
	g       *group
	log     string // "<account>:<name>"
	segs    []*segment
	streams map[uint32]string
	deleted map[uint32]bool
}

func (rg *readGroup) release() {
	for _, seg := range rg.segs {
		seg.release()
	}
}

// snapshot captures the segments (including images of memtable rows) of a
// group that may hold events in [start, end).
func (s *Store) snapshot(account, name string, start, end int64) (*readGroup, error) {
	s.mu.Lock()
	g, err := s.groupLocked(account, name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	rg := &readGroup{g: g, log: account + ":" + name, streams: map[uint32]string{}, deleted: map[uint32]bool{}}
	for id, st := range g.byID {
		rg.streams[id] = st.Name
	}
	for id := range g.Deleted {
		rg.deleted[id] = true
	}
	for _, seg := range g.Segments {
		if seg.meta.MaxTime >= start && seg.meta.MinTime < end {
			seg.acquire()
			rg.segs = append(rg.segs, seg)
		}
	}
	type memSnap struct {
		mg   *memGroup
		rows []memRow // mg.rows as of now: insert rewrites the header concurrently
	}
	var mems []memSnap
	for _, m := range append(append([]*memtable(nil), s.frozen...), s.mem) {
		if mg := m.groups[g.ID]; mg != nil && len(mg.rows) > 0 {
			mems = append(mems, memSnap{mg, mg.rows})
		}
	}
	s.mu.Unlock()
	for _, ms := range mems {
		segs, err := ms.mg.images(ms.rows, g.ID)
		if err != nil {
			rg.release()
			return nil, err
		}
		rg.segs = append(rg.segs, segs...)
	}
	return rg, nil
}

// images returns columnar in-memory segments covering all of all, a prefix
// of mg.rows taken under Store.mu (mg.rows itself may be growing). Images
// are built incrementally (only rows no earlier image covers), so repeated
// scans during ingest do not re-encode the whole memtable.
func (mg *memGroup) images(all []memRow, gid uint32) ([]*segment, error) {
	n := len(all)
	mg.cacheMu.Lock()
	defer mg.cacheMu.Unlock()
	if mg.cachedRows < n {
		rows := append([]memRow(nil), all[mg.cachedRows:n]...)
		tasks := splitTasks(gid, rows)
		b := newBuilder()
		var blocks []blockOut
		for _, t := range tasks {
			for lo := 0; lo < len(t.rows); lo += 32768 {
				out, err := b.buildBlock(t.rows[lo:min(lo+32768, len(t.rows))], readEncoder)
				if err != nil {
					return nil, err
				}
				blocks = append(blocks, out)
			}
		}
		var buf bytes.Buffer
		if _, err := writeSegment(&buf, blocks); err != nil {
			return nil, err
		}
		seg, err := memSegment("memtable", buf.Bytes())
		if err != nil {
			return nil, err
		}
		seg.meta.MinTime, seg.meta.MaxTime = math.MinInt64, math.MaxInt64
		mg.cached = append(mg.cached, seg)
		mg.cachedRows = n
	}
	var out []*segment
	covered := 0
	for _, seg := range mg.cached {
		if covered >= n {
			break
		}
		seg.acquire()
		out = append(out, seg)
		for i := range seg.blocks {
			covered += seg.blocks[i].rows
		}
	}
	return out, nil
}

var readEncoder = newEncoderFast()

// ---------------------------------------------------------------- pointers

func formatPtr(gid uint32, ts int64, seq uint64) string {
	return string(appendPtr(nil, gid, ts, seq))
}

// appendPtr appends the text of a record pointer: a column of them is
// built in one buffer that its strings alias (ptrStrings).
func appendPtr(dst []byte, gid uint32, ts int64, seq uint64) []byte {
	var b [30]byte
	p := binary.AppendUvarint(b[:0], uint64(gid))
	p = binary.AppendVarint(p, ts)
	p = binary.AppendUvarint(p, seq)
	return base64.RawURLEncoding.AppendEncode(dst, p)
}

// ptrStrings sets strs[out] to the pointer of each of n rows, row(k)
// giving the k-th one's output index, time and sequence number: one
// allocation for the texts instead of two per row.
func ptrStrings(strs []string, gid uint32, n int, row func(k int) (out int, ts int64, seq uint64)) {
	buf := make([]byte, 0, 16*n) // typically 15 characters (a millisecond time is a 6-byte varint); appends grow it when not
	ends := make([]int32, n)
	outs := make([]int32, n)
	for k := 0; k < n; k++ {
		o, ts, seq := row(k)
		buf = appendPtr(buf, gid, ts, seq)
		ends[k], outs[k] = int32(len(buf)), int32(o)
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	start := 0
	for k, end := range ends {
		strs[outs[k]] = all[start:end]
		start = int(end)
	}
}

func parsePtr(ptr string) (gid uint32, ts int64, seq uint64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(ptr)
	bad := fmt.Errorf("%w: malformed log record pointer %q", ErrInvalid, ptr)
	if err != nil {
		return 0, 0, 0, bad
	}
	g, n := binary.Uvarint(b)
	if n <= 0 || g > math.MaxUint32 {
		return 0, 0, 0, bad
	}
	b = b[n:]
	ts, n = binary.Varint(b)
	if n <= 0 {
		return 0, 0, 0, bad
	}
	b = b[n:]
	seq, n = binary.Uvarint(b)
	if n <= 0 || n != len(b) {
		return 0, 0, 0, bad
	}
	return uint32(g), ts, seq, nil
}

// ---------------------------------------------------------------- Scan

type scanJob struct {
	rg  *readGroup
	seg *segment
	bi  *blockIndex
}

// Scan implements scan.Source.
func (s *Store) Scan(ctx context.Context, req *scan.Request, fn func(worker int, b *scan.Block) error) error {
	var rgs []*readGroup
	defer func() {
		for _, rg := range rgs {
			rg.release()
		}
	}()
	var jobs []scanJob
	var skipRows, skipBytes int64
	for _, name := range req.Groups {
		rg, err := s.snapshot(req.Account, name, req.Start, req.End)
		if err != nil {
			return err
		}
		rgs = append(rgs, rg)
		for _, seg := range rg.segs {
			for i := range seg.blocks {
				bi := &seg.blocks[i]
				if bi.maxTime < req.Start || bi.minTime >= req.End {
					continue
				}
				if !blockMayMatch(seg, bi, req.Hints) {
					// Whole blocks: an estimate when the block straddles
					// the range, as CloudWatch's own figures are.
					skipRows += int64(bi.rows)
					skipBytes += bi.msgBytes + 26*int64(bi.rows)
					continue
				}
				jobs = append(jobs, scanJob{rg, seg, bi})
			}
		}
	}
	if req.Skipped != nil && skipRows > 0 {
		req.Skipped(skipRows, skipBytes)
	}
	if req.Descending {
		// Newest first (the default order of queries): a top-k on
		// @timestamp holds its rows after the first blocks.
		slices.SortStableFunc(jobs, func(a, b scanJob) int { return cmp.Compare(b.bi.maxTime, a.bi.maxTime) })
	}
	workers := max(req.Workers, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan scanJob)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			sc := scratchPool.Get().(*scratch)
			defer scratchPool.Put(sc)
			for j := range ch {
				if ctx.Err() != nil {
					continue
				}
				b, err := s.makeBlock(j, req, sc)
				if err == nil && req.Filtered != nil {
					reportFiltered(req, j.bi, b, sc.deleted)
				}
				if err == nil && b != nil {
					err = fn(w, b)
				}
				if err != nil {
					fail(err)
				}
			}
		}(w)
	}
loop:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break loop
		}
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// scratch is one scan worker's memory reused from block to block: the
// scan contract lets a source reuse a block's memory once fn returns, and
// these are the largest per-block allocations (timestamps, row subsets).
// Strings are never reused.
type scratch struct {
	deleted int // rows of the last makeBlock dropped as rows of deleted streams
	ts      []int64
	sub     *rowSubset // the hints' kept rows
	lazy    *rowSubset // rows of the last Block.Load
	arena   colArena   // per-row arrays of the current block's columns
}

// scratchPool keeps workers' scratch memory from scan to scan: a query
// run again (dashboards, the API's repeated polling of similar queries)
// would otherwise allocate and zero its arenas afresh, megabytes a worker.
var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

var systemFields = []string{"@timestamp", "@ingestionTime", "@message", "@logStream", "@log", "@ptr"}

// makeBlock decodes the wanted columns of one block. When the request has
// hints, the hint fields are decoded first and rows that certainly fail a
// hint are dropped before anything else is built (late materialisation):
// the contract allows a source to filter rows, and it saves rebuilding
// @message for rows the engine would discard anyway.
func (s *Store) makeBlock(j scanJob, req *scan.Request, sc *scratch) (*scan.Block, error) {
	want, all, hints := req.Columns, req.AllColumns, req.Hints
	seg, bi, rg := j.seg, j.bi, j.rg
	sc.arena.reset() // the previous block's columns are no longer in use
	bts := &blockTS{seg: seg, bi: bi, sc: sc}
	var err error
	names := want
	if all {
		names = make([]string, 0, len(bi.cols)+len(systemFields))
		names = append(names, systemFields...)
		for i := range bi.cols {
			names = append(names, bi.cols[i].name)
		}
	}
	b := &scan.Block{Rows: bi.rows, MinTime: bi.minTime, MaxTime: bi.maxTime, MessageBytes: bi.msgBytes, Columns: make(map[string]*scan.Column, len(names))}
	var stream []int64
	var fb *fullBlock
	sysCol := func(k int) ([]int64, error) {
		c, err := bts.sys(k)
		if err != nil {
			return nil, err
		}
		return c.Ints, nil
	}
	userCols := map[int]*scan.Column{} // over all rows, or over sub's rows once sub is set
	var sub *rowSubset                 // rows kept by the hints; nil: all rows
	userCol := func(ci int) (*scan.Column, error) {
		if c, ok := userCols[ci]; ok {
			return c, nil
		}
		var c *scan.Column
		var err error
		if sub != nil {
			c, err = bts.col(ci, sub)
		} else {
			c, err = bts.col(ci)
		}
		if err != nil {
			return nil, err
		}
		userCols[ci] = c
		return c, nil
	}

	sc.deleted = 0
	var keep []bool // nil: every row kept
	kept := bi.rows
	drop := func(i int) {
		if keep == nil {
			keep = make([]bool, bi.rows)
			for k := range keep {
				keep[k] = true
			}
		}
		if keep[i] {
			keep[i] = false
			kept--
		}
	}
	for _, id := range bi.streams {
		if rg.deleted[id] {
			if stream, err = sysCol(sysStream); err != nil {
				return nil, err
			}
			for i, id := range stream {
				if rg.deleted[uint32(id)] {
					drop(i)
				}
			}
			sc.deleted = bi.rows - kept
			break
		}
	}
	// Cheap, selective hints first (dictionary and numeric columns), so
	// that string columns are decoded only at the rows still kept.
	order := make([]int, len(hints))
	cost := func(h *scan.Hint) int {
		if h.Field == "@timestamp" {
			return 0
		}
		if c := bi.col(h.Field); c != nil && (c.typ == scan.TypeDict || c.typ == scan.TypeInt || c.typ == scan.TypeFloat) {
			return 1
		}
		return 2
	}
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cost(&hints[a]) - cost(&hints[b]) })
	type partCol struct {
		col *scan.Column
		sub *rowSubset
	}
	partial := map[int]partCol{} // hint columns decoded over the rows kept so far
	type exactCol struct {
		rows []int32 // the stored rows the column holds, ascending
		col  *scan.Column
	}
	exact := map[int]exactCol{} // int and dictionary hint columns at the rows that passed them (intMatches, dictMatches)
	var presentHint []int       // user columns a presence hint kept rows by: every kept row has them
	countKept := func() {
		if keep != nil {
			kept = countTrue(keep)
		}
	}
	var lastRows []int32 // the kept rows when the last hint was applied by intMatches or dictMatches (keep not built)
	for n, hi := range order {
		h := &hints[hi]
		var col *scan.Column
		switch {
		case h.Field == "@timestamp":
			if h.Op == scan.HintRange && float64(bi.minTime) >= h.Lo && float64(bi.maxTime) <= h.Hi {
				continue // every row of the block is in the range
			}
			ts, err := bts.get()
			if err != nil {
				return nil, err
			}
			col = &scan.Column{Type: scan.TypeInt, Ints: ts}
		case strings.HasPrefix(h.Field, "@") && !strings.HasPrefix(h.Field, "@@"):
			continue // other system fields: leave to the engine
		default:
			ci, ok := bi.byName[h.Field]
			if !ok {
				return nil, nil // no row has the field: no row can match
			}
			// An int or dictionary filter column (flags, codes, event
			// names): the hint is applied while the chunk is read, and
			// only the passing rows' values are kept.
			var rows []int32
			var ecol *scan.Column
			fused := false
			if userCols[ci] == nil {
				switch typ := bi.cols[ci].typ; {
				case typ == scan.TypeInt:
					if it, ok := intTestOf(h); ok {
						var vals []int64
						if rows, vals, fused, err = bts.intMatches(ci, it); err != nil {
							return nil, err
						}
						ecol = &scan.Column{Type: scan.TypeInt, Ints: vals}
					}
				case typ == scan.TypeDict && h.Op != scan.HintPresent && (keep == nil || kept*4 >= bi.rows):
					// (With few rows left, the codes of just those are
					// read by rank instead, below.)
					if rows, ecol, fused, err = bts.dictMatches(ci, h); err != nil {
						return nil, err
					}
				}
			}
			if fused {
				switch {
				case keep != nil:
					j := 0 // of the passing rows, those still kept
					for i, r := range rows {
						if keep[r] {
							rows[j] = r
							moveValue(ecol, j, i)
							j++
						}
					}
					rows = rows[:j]
					truncValues(ecol, j)
				case len(rows) == bi.rows:
					// Every row passes: the values are the column.
					userCols[ci] = ecol
					continue
				}
				kept = len(rows)
				if kept == 0 {
					return nil, nil
				}
				exact[ci] = exactCol{rows, ecol}
				if n == len(order)-1 {
					// The last hint: the subset is built from rows,
					// with no keep mask over every row.
					lastRows = rows
					continue
				}
				if keep == nil {
					keep = sc.arena.bools(bi.rows)
				} else {
					clear(keep)
				}
				for _, r := range rows {
					keep[r] = true
				}
				continue
			}
			if _, done := userCols[ci]; !done && keep != nil && kept*4 < bi.rows {
				// Few rows left: decode this column at those rows only.
				ps := newRowSubset(keep)
				c, err := bts.col(ci, ps)
				if err != nil {
					return nil, err
				}
				partial[ci] = partCol{c, ps}
				if k2 := applyHint(&sc.arena, c, h, ps.n, nil); k2 != nil {
					for j, r := range ps.rows {
						if !k2[j] {
							keep[r] = false
						}
					}
					countKept()
				}
				if kept == 0 {
					return nil, nil
				}
				continue
			}
			if col, err = userCol(ci); err != nil {
				return nil, err
			}
			if h.Op == scan.HintPresent {
				presentHint = append(presentHint, ci)
			}
		}
		keep = applyHint(&sc.arena, col, h, bi.rows, keep)
		countKept()
		if kept == 0 {
			return nil, nil
		}
	}
	if kept == 0 {
		return nil, nil
	}
	if keep != nil || lastRows != nil {
		// From here on every column is built over the kept rows only.
		if lastRows != nil {
			sub = rowSubsetOf(lastRows, bi.rows, sc.sub)
		} else {
			sub = newRowSubsetLazy(keep, sc.sub)
		}
		sc.sub = sub
		for ci, c := range userCols {
			if c.Present != nil && slices.Contains(presentHint, ci) {
				// Every kept row has the field: no bitmap to gather.
				c2 := *c
				c2.Present = nil
				c = &c2
			}
			userCols[ci] = compactColumnIn(&sc.arena, c, sub.rows)
		}
		for ci, pc := range partial {
			if _, dup := userCols[ci]; dup {
				continue
			}
			idx := make([]int, len(sub.rows)) // final kept rows ⊆ pc.sub's rows
			for i, r := range sub.rows {
				idx[i] = int(pc.sub.positions()[r])
			}
			userCols[ci] = compactColumnIn(&sc.arena, pc.col, idx)
		}
		for ci, ec := range exact {
			if _, dup := userCols[ci]; dup {
				continue
			}
			c := ec.col
			if len(ec.rows) != len(sub.rows) {
				// Later hints dropped rows: the kept rows are a subset
				// of ec.rows (both ascending).
				idx := make([]int, len(sub.rows))
				j := 0
				for i, r := range sub.rows {
					for int(ec.rows[j]) != r {
						j++
					}
					idx[i] = j
				}
				c = compactColumnIn(&sc.arena, c, idx)
			}
			userCols[ci] = c
		}
		b.Rows = kept
		// The dropped rows' share goes to Request.Filtered.
		b.MessageBytes = bi.msgBytes * int64(kept) / int64(bi.rows)
	}
	if all && sub != nil {
		// AllColumns over a few kept rows: the shapes of those rows name
		// every field they have, so the other columns (absent from every
		// kept row) need not be decompressed at all.
		shape, err := bts.sys(sysShape, sub)
		if err != nil {
			return nil, err
		}
		fb = &fullBlock{seg: seg, bi: bi, shape: shape.Ints}
		if err := fb.loadShapes(); err != nil {
			return nil, err
		}
		used := make([]bool, len(fb.shapes))
		whole := false
		for _, code := range fb.shape {
			if code <= 0 || code > int64(len(fb.shapes)) {
				whole = true // stored whole: its fields are unknown here
				break
			}
			used[code-1] = true
		}
		if !whole {
			need := make([]bool, len(bi.cols))
			for k, u := range used {
				if u {
					for _, l := range fb.shapes[k].leaves {
						need[l.col] = true
					}
				}
			}
			names = append([]string(nil), systemFields...)
			for ci, n := range need {
				if n {
					names = append(names, bi.cols[ci].name)
				}
			}
		}
	}
	full := func(c *scan.Column) *scan.Column { // a column over all rows → over kept rows
		if sub == nil {
			return c
		}
		return compactColumnIn(&sc.arena, c, sub.rows)
	}

	lazy := false
	for _, name := range names {
		if _, done := b.Columns[name]; done {
			continue
		}
		if slices.Contains(req.Lazy, name) {
			// Decoded on demand by b.Load, unless a hint already did it.
			if ci, ok := bi.byName[name]; ok && userCols[ci] != nil {
				b.Columns[name] = userCols[ci]
			} else {
				lazy = true
			}
			continue
		}
		var col *scan.Column
		switch name {
		case "@timestamp":
			ts, err := bts.get()
			if err != nil {
				return nil, err
			}
			col = full(&scan.Column{Type: scan.TypeInt, Ints: ts})
		case "@ingestionTime":
			v, err := sysCol(sysIngest)
			if err != nil {
				return nil, err
			}
			col = full(&scan.Column{Type: scan.TypeInt, Ints: v})
		case "@logStream":
			if stream == nil {
				if stream, err = sysCol(sysStream); err != nil {
					return nil, err
				}
			}
			col = &scan.Column{Type: scan.TypeDict, Codes: make([]uint32, bi.rows)}
			code := map[int64]uint32{}
			for i, id := range stream {
				c, ok := code[id]
				if !ok {
					c = uint32(len(col.Dict))
					code[id] = c
					col.Dict = append(col.Dict, rg.streams[uint32(id)])
				}
				col.Codes[i] = c
			}
			col = full(col)
		case "@log":
			col = &scan.Column{Type: scan.TypeDict, Dict: []string{rg.log}, Codes: make([]uint32, b.Rows)}
		case "@ptr":
			seq, err := sysCol(sysSeq)
			if err != nil {
				return nil, err
			}
			ts, err := bts.get()
			if err != nil {
				return nil, err
			}
			col = &scan.Column{Type: scan.TypeString, Strs: make([]string, b.Rows)}
			ptrStrings(col.Strs, rg.g.ID, b.Rows, func(k int) (int, int64, uint64) {
				i := k
				if sub != nil {
					i = sub.rows[k]
				}
				return k, ts[i], uint64(seq[i])
			})
		case "@message":
			if fb == nil {
				fb = &fullBlock{seg: seg, bi: bi}
				shape, err := bts.sys(sysShape, sub)
				if err != nil {
					return nil, err
				}
				fb.shape = shape.Ints
				if err := fb.loadShapes(); err != nil {
					return nil, err
				}
			}
			if fb.cols == nil {
				if fb.raw, err = bts.sys(sysRaw, sub); err != nil {
					return nil, err
				}
				// Decode only the columns the rows' shapes print.
				need := make([]bool, len(bi.cols))
				for _, code := range fb.shape {
					if code > 0 && code <= int64(len(fb.shapes)) {
						for _, l := range fb.shapes[code-1].leaves {
							need[l.col] = true
						}
					}
				}
				fb.cols = make([]*scan.Column, len(bi.cols))
				for ci := range bi.cols {
					if need[ci] {
						if fb.cols[ci], err = userCol(ci); err != nil {
							return nil, err
						}
					}
				}
			}
			col = &scan.Column{Type: scan.TypeString, Strs: make([]string, b.Rows)}
			// The index knows the total size: one allocation, no regrowth,
			// and the strings alias it (it is never written again).
			size := bi.msgBytes
			if sub != nil {
				size = size / int64(bi.rows) * int64(kept) * 2
			}
			buf := make([]byte, 0, min(size, 1<<28))
			offs := make([]int, b.Rows+1)
			for i := 0; i < b.Rows; i++ {
				if buf, err = fb.message(buf, i); err != nil {
					return nil, err
				}
				offs[i+1] = len(buf)
			}
			all := unsafe.String(unsafe.SliceData(buf), len(buf))
			for i := 0; i < b.Rows; i++ {
				col.Strs[i] = all[offs[i]:offs[i+1]]
			}
		default:
			ci, ok := bi.byName[name]
			if !ok {
				continue
			}
			if col, err = userCol(ci); err != nil {
				return nil, err
			}
		}
		b.Columns[name] = col
	}
	if lazy {
		lb := &lazyBlock{seg: seg, bi: bi, rg: rg, bts: bts, sub: sub, rows: b.Rows, userCols: userCols, scratch: sc}
		b.Load = lb.load
	}
	return b, nil
}

// moveValue copies value i of an int or dictionary column to j.
func moveValue(c *scan.Column, j, i int) {
	if c.Type == scan.TypeDict {
		c.Codes[j] = c.Codes[i]
	} else {
		c.Ints[j] = c.Ints[i]
	}
}

// truncValues keeps the first n values of an int or dictionary column.
func truncValues(c *scan.Column, n int) {
	if c.Type == scan.TypeDict {
		c.Codes = c.Codes[:n]
	} else {
		c.Ints = c.Ints[:n]
	}
}

// applyHint clears keep[i] (keep nil: all rows are kept) for every row of
// col that certainly fails h, allocating keep when it first drops a row,
// and returns keep. Dictionary columns are judged once per distinct value
// and int columns without boxing; other types go through hintMatches.
func applyHint(ar *colArena, col *scan.Column, h *scan.Hint, rows int, keep []bool) []bool {
	fails := func(i int) bool { return false }
	switch {
	case h.Op == scan.HintPresent:
		if col.Present == nil {
			return keep
		}
		// Every row of the block is judged: read the bitmap word by word
		// (no call per row).
		pass := ar.bools(rows)
		pres := col.Present
		pb := boolBytes(pass)
		i := 0
		for ; i+8 <= len(pb); i += 8 {
			binary.LittleEndian.PutUint64(pb[i:], spreadBits[byte(pres[i>>6]>>(uint(i)&63))])
		}
		for ; i < len(pass); i++ {
			pass[i] = pres[i>>6]>>(uint(i)&63)&1 != 0
		}
		return andPresent(keep, pass, nil)
	case col.Type == scan.TypeDict:
		d := &scan.Column{Type: scan.TypeString, Strs: col.Dict}
		ok := make([]bool, len(col.Dict))
		for k := range ok {
			ok[k] = hintMatches(d, k, h)
		}
		// The common case, written out: no call per row.
		pass := ar.bools(rows)
		for i, c := range col.Codes[:rows] {
			pass[i] = ok[c]
		}
		return andPresent(keep, pass, col.Present)
	case col.Type == scan.TypeInt && (h.Op == scan.HintRange || h.Op == scan.HintEq && h.IsNum):
		lo, hi := h.Lo, h.Hi
		if h.Op == scan.HintEq {
			lo, hi = h.Num, h.Num
		}
		pass := ar.bools(rows)
		if x := int64(lo); lo == hi && float64(x) == lo {
			// Equality with an integer (flags, status codes).
			for i, v := range col.Ints[:rows] {
				pass[i] = v == x
			}
		} else {
			for i, v := range col.Ints[:rows] {
				f := float64(v)
				pass[i] = f >= lo && f <= hi
			}
		}
		return andPresent(keep, pass, col.Present)
	default:
		fails = func(i int) bool { return !hintMatches(col, i, h) }
	}
	if keep != nil {
		for i, k := range keep[:rows] {
			if k && fails(i) {
				keep[i] = false
			}
		}
		return keep
	}
	for i := 0; i < rows; i++ {
		if fails(i) {
			keep = make([]bool, rows)
			for k := range keep {
				keep[k] = k != i // rows before i passed
			}
			for k := i + 1; k < rows; k++ {
				if fails(k) {
					keep[k] = false
				}
			}
			return keep
		}
	}
	return nil
}

// andPresent returns keep (nil: all rows) ∧ pass ∧ present (nil: all
// rows), reusing pass as the result when keep is nil; nil when every row
// stays.
//
// A bool is the byte 0 or 1, so eight rows are one word: ANDed with the
// bitmap's next eight bits spread one to a byte (spreadBits), or with
// eight keep flags, at once.
func andPresent(keep, pass []bool, present scan.Bitmap) []bool {
	pb := boolBytes(pass)
	n := len(pb) &^ 7 // whole words
	if present != nil {
		for i := 0; i < n; i += 8 {
			w := binary.LittleEndian.Uint64(pb[i:])
			binary.LittleEndian.PutUint64(pb[i:], w&spreadBits[byte(present[i>>6]>>(uint(i)&63))])
		}
		for i := n; i < len(pass); i++ {
			pass[i] = uint64(b2i(pass[i]))&(present[i>>6]>>(uint(i)&63)) != 0
		}
	}
	if keep == nil {
		for i := 0; i < n; i += 8 {
			if binary.LittleEndian.Uint64(pb[i:]) != 0x0101010101010101 {
				return pass
			}
		}
		for _, p := range pass[n:] {
			if !p {
				return pass
			}
		}
		return nil
	}
	kb := boolBytes(keep[:len(pass)])
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(kb[i:], binary.LittleEndian.Uint64(kb[i:])&binary.LittleEndian.Uint64(pb[i:]))
	}
	for i := n; i < len(pass); i++ {
		keep[i] = b2i(keep[i])&b2i(pass[i]) != 0
	}
	return keep
}

// spreadBits[x] has byte k set to bit k of x: eight bitmap bits as eight
// bools.
var spreadBits = func() (t [256]uint64) {
	for x := range t {
		for k := 0; k < 8; k++ {
			t[x] |= uint64(x>>k&1) << (8 * k)
		}
	}
	return t
}()

// hintMatches reports whether row i of c may satisfy h. It must never say
// false for a row the engine would accept; it follows the Insights coercion
// rules described on scan.Hint and answers true when unsure.
func hintMatches(c *scan.Column, i int, h *scan.Hint) bool {
	if !c.Has(i) {
		return false // a missing field matches no comparison
	}
	switch h.Op {
	case scan.HintPresent:
		return true
	case scan.HintEq:
		v := c.Value(i)
		if h.IsNum {
			n, ok := v.Num()
			return !ok || n == h.Num || v.Kind == scan.KindString && v.S == strconv.FormatFloat(h.Num, 'g', -1, 64)
		}
		return strEqual(v, h.Str)
	case scan.HintIn:
		v := c.Value(i)
		for _, s := range h.Set {
			if strEqual(v, s) {
				return true
			}
		}
		return false
	case scan.HintContains:
		return strings.Contains(c.Value(i).String(), h.Str)
	case scan.HintRange:
		n, ok := c.Value(i).Num()
		return !ok || (n >= h.Lo && n <= h.Hi)
	}
	return true
}

// strEqual: may v equal the string literal s? Strings compare exactly;
// numbers match their canonical form or a literal that parses to them.
func strEqual(v scan.Value, s string) bool {
	if v.Kind == scan.KindString {
		return v.S == s
	}
	if v.String() == s {
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	n, _ := v.Num()
	return n == f
}

// compactColumn keeps only the given rows.
func compactColumn(c *scan.Column, keep []int) *scan.Column {
	return compactColumnIn(nil, c, keep)
}

// compactColumnIn is compactColumn taking the per-row arrays from ar.
func compactColumnIn(ar *colArena, c *scan.Column, keep []int) *scan.Column {
	out := &scan.Column{Type: c.Type, Dict: c.Dict, DictIPv4: c.DictIPv4}
	if c.Present != nil {
		// When every kept row has the field (a presence hint kept
		// exactly those), say so with no bitmap: that spares the engine
		// a presence test per row.
		out.Present = pickBits(ar, c.Present, keep)
	}
	switch c.Type {
	case scan.TypeString:
		out.Strs = pick(c.Strs, keep)
	case scan.TypeDict:
		out.Codes = pickTo(ar.codes(len(keep)), c.Codes, keep)
	case scan.TypeInt:
		out.Ints = pickTo(ar.ints(len(keep)), c.Ints, keep)
	case scan.TypeFloat:
		out.Floats = pickTo(ar.floats(len(keep)), c.Floats, keep)
	case scan.TypeMixed:
		out.Values = pick(c.Values, keep)
	}
	return out
}

func pickTo[T any](out, v []T, keep []int) []T {
	for i, r := range keep {
		out[i] = v[r]
	}
	return out
}

func pick[T any](v []T, keep []int) []T {
	out := make([]T, len(keep))
	for i, r := range keep {
		out[i] = v[r]
	}
	return out
}

// ---------------------------------------------------------------- hints

// blockMayMatch reports whether some row of the block may satisfy every
// hint. It errs towards true: statistics it cannot read never skip.
func blockMayMatch(seg *segment, bi *blockIndex, hints []scan.Hint) bool {
	for i := range hints {
		h := &hints[i]
		if h.Field == "@timestamp" && h.Op == scan.HintRange {
			if float64(bi.maxTime) < h.Lo || float64(bi.minTime) > h.Hi {
				return false
			}
			continue
		}
		if strings.HasPrefix(h.Field, "@") && !strings.HasPrefix(h.Field, "@@") {
			continue // other system fields: no statistics
		}
		c := bi.col(h.Field)
		if c == nil || c.count == 0 {
			if h.Op == scan.HintEq || h.Op == scan.HintIn || h.Op == scan.HintContains || h.Op == scan.HintPresent || h.Op == scan.HintRange {
				return false // a missing field matches no comparison
			}
			continue
		}
		if !colMayMatch(seg, c, h) {
			return false
		}
	}
	return true
}

func isStringType(t scan.Type) bool { return t == scan.TypeString || t == scan.TypeDict }

func colMayMatch(seg *segment, c *colIndex, h *scan.Hint) bool {
	switch h.Op {
	case scan.HintPresent:
		return true
	case scan.HintRange:
		if c.hasNum {
			return !(c.max < h.Lo || c.min > h.Hi)
		}
		if c.small != nil {
			for _, v := range c.small {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f >= h.Lo && f <= h.Hi {
					return true
				}
			}
			return false
		}
		return true
	case scan.HintEq:
		if h.IsNum {
			if c.hasNum {
				return h.Num >= c.min && h.Num <= c.max
			}
			if c.small != nil {
				for _, v := range c.small {
					if f, err := strconv.ParseFloat(v, 64); err == nil && f == h.Num {
						return true
					}
				}
				return false
			}
			return true
		}
		return strMayMatch(seg, c, []string{h.Str})
	case scan.HintIn:
		return strMayMatch(seg, c, h.Set)
	case scan.HintContains:
		if c.small != nil {
			for _, v := range c.small {
				if strings.Contains(v, h.Str) {
					return true
				}
			}
			return false
		}
		return true
	}
	return true
}

// strMayMatch: may the column hold a value whose string form is one of vals?
func strMayMatch(seg *segment, c *colIndex, vals []string) bool {
	switch {
	case c.hasNum:
		for _, v := range vals {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= c.min && f <= c.max {
				return true
			}
		}
		return false
	case isStringType(c.typ) && c.small != nil:
		for _, v := range vals {
			if slices.Contains(c.small, v) {
				return true
			}
		}
		return false
	case isStringType(c.typ) && c.bloom.n > 0:
		bl, err := seg.readChunk(c.bloom, false, "bloom filter")
		if err != nil {
			return true
		}
		for _, v := range vals {
			if bloom(bl).mayContain([]byte(v)) {
				return true
			}
		}
		return false
	}
	return true
}

// ---------------------------------------------------------------- Fields

// Fields implements scan.Source: the fields of the groups' events in
// [start, end) with how many events carry each. Counts are per block and
// include rows of the blocks that overlap the range.
func (s *Store) Fields(ctx context.Context, account string, groups []string, start, end int64) ([]scan.FieldInfo, error) {
	acc := map[string]*scan.FieldInfo{}
	var total int64
	for _, name := range groups {
		rg, err := s.snapshot(account, name, start, end)
		if err != nil {
			return nil, err
		}
		for _, seg := range rg.segs {
			for i := range seg.blocks {
				bi := &seg.blocks[i]
				if bi.maxTime < start || bi.minTime >= end {
					continue
				}
				total += int64(bi.rows)
				for k := range bi.cols {
					c := &bi.cols[k]
					t := c.typ
					if t == scan.TypeDict {
						t = scan.TypeString
					}
					fi := acc[c.name]
					if fi == nil {
						fi = &scan.FieldInfo{Name: c.name, Type: t}
						acc[c.name] = fi
					} else if fi.Type != t {
						fi.Type = scan.TypeMixed
					}
					fi.Count += int64(c.count)
				}
			}
		}
		rg.release()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	var out []scan.FieldInfo
	if total > 0 {
		for _, n := range []string{"@timestamp", "@ingestionTime"} {
			out = append(out, scan.FieldInfo{Name: n, Type: scan.TypeInt, Count: total})
		}
		for _, n := range []string{"@message", "@logStream", "@log"} {
			out = append(out, scan.FieldInfo{Name: n, Type: scan.TypeString, Count: total})
		}
	}
	for _, fi := range acc {
		out = append(out, *fi)
	}
	slices.SortFunc(out[min(len(out), 5):], func(a, b scan.FieldInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// ---------------------------------------------------------------- events

// GetLogEvents calls fn for the stream's events with start <= timestamp <
// end in time order (ties in ingestion order) until fn returns false.
func (s *Store) GetLogEvents(account, groupName, streamName string, start, end int64, fn func(ts, ingest int64, msg []byte) bool) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	var sid uint32
	if err == nil {
		if st := g.Streams[streamName]; st != nil {
			sid = st.ID
		} else {
			err = fmt.Errorf("log stream %q in log group %q: %w", streamName, groupName, ErrNotFound)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	rg, err := s.snapshot(account, groupName, start, end)
	if err != nil {
		return err
	}
	defer rg.release()
	// Visit blocks in order of their first timestamp, merging as we go: an
	// event can be emitted once no unvisited block can start before it.
	type ref struct {
		seg *segment
		bi  *blockIndex
	}
	var refs []ref
	for _, seg := range rg.segs {
		for i := range seg.blocks {
			bi := &seg.blocks[i]
			if bi.maxTime < start || bi.minTime >= end || !slices.Contains(bi.streams, sid) {
				continue
			}
			refs = append(refs, ref{seg, bi})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.bi.minTime, b.bi.minTime) })
	type ev struct {
		ts, ingest int64
		seq        int64
		msg        []byte
	}
	var pending []ev
	emit := func(upto int64) bool {
		slices.SortFunc(pending, func(a, b ev) int {
			if c := cmp.Compare(a.ts, b.ts); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
		n := 0
		for n < len(pending) && pending[n].ts < upto {
			if !fn(pending[n].ts, pending[n].ingest, pending[n].msg) {
				return false
			}
			n++
		}
		pending = append(pending[:0], pending[n:]...)
		return true
	}
	for _, r := range refs {
		if !emit(r.bi.minTime) {
			return nil
		}
		fb, err := r.seg.readBlock(r.bi, true)
		if err != nil {
			return err
		}
		for i := 0; i < r.bi.rows; i++ {
			if uint32(fb.stream[i]) != sid || fb.ts[i] < start || fb.ts[i] >= end {
				continue
			}
			msg, err := fb.message(nil, i)
			if err != nil {
				return err
			}
			pending = append(pending, ev{fb.ts[i], fb.ingest[i], fb.seq[i], msg})
		}
	}
	emit(math.MaxInt64)
	return nil
}

// GetLogRecord returns every field of the event a pointer names, with
// values rendered as Insights renders them, plus @message, @timestamp and
// @ingestionTime (epoch ms), @logStream and @log.
func (s *Store) GetLogRecord(account, ptr string) (map[string]string, error) {
	gid, ts, seq, err := parsePtr(ptr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	g := s.groupByID[gid]
	name := ""
	if g != nil && g.Account == account {
		name = g.Name
	}
	s.mu.Unlock()
	if name == "" {
		return nil, fmt.Errorf("log record %q: %w", ptr, ErrNotFound)
	}
	rg, err := s.snapshot(account, name, ts, ts+1)
	if err != nil {
		return nil, err
	}
	defer rg.release()
	for _, seg := range rg.segs {
		for i := range seg.blocks {
			bi := &seg.blocks[i]
			if ts < bi.minTime || ts > bi.maxTime || seq < bi.minSeq || seq > bi.maxSeq {
				continue
			}
			fb, err := seg.readBlock(bi, false)
			if err != nil {
				return nil, err
			}
			for r := 0; r < bi.rows; r++ {
				if uint64(fb.seq[r]) != seq || fb.ts[r] != ts {
					continue
				}
				if rg.deleted[uint32(fb.stream[r])] {
					return nil, fmt.Errorf("log record %q: %w (stream deleted)", ptr, ErrNotFound)
				}
				return s.recordAt(rg, fb, r)
			}
		}
	}
	return nil, fmt.Errorf("log record %q: %w", ptr, ErrNotFound)
}

// recordAt builds the GetLogRecord answer for row r of a block whose system
// columns fb holds, decoding only that row of only the columns it uses.
func (s *Store) recordAt(rg *readGroup, fb *fullBlock, r int) (map[string]string, error) {
	seg, bi := fb.seg, fb.bi
	keep := make([]bool, bi.rows)
	keep[r] = true
	sub := newRowSubset(keep)
	one := &fullBlock{seg: seg, bi: bi, shape: []int64{fb.shape[r]}, raw: compactColumn(fb.raw, []int{r})}
	if err := one.loadShapes(); err != nil {
		return nil, err
	}
	need := make([]bool, len(bi.cols))
	if code := one.shape[0]; code > 0 && code <= int64(len(one.shapes)) {
		for _, l := range one.shapes[code-1].leaves {
			need[l.col] = true // a rebuildable message has exactly these fields
		}
	} else {
		for i := range need {
			need[i] = true
		}
	}
	one.cols = make([]*scan.Column, len(bi.cols))
	for ci := range bi.cols {
		if need[ci] {
			c, err := seg.readCol(bi, ci, fb.ts, sub)
			if err != nil {
				return nil, err
			}
			one.cols[ci] = c
		}
	}
	msg, err := one.message(nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		"@message":       string(msg),
		"@timestamp":     strconv.FormatInt(fb.ts[r], 10),
		"@ingestionTime": strconv.FormatInt(fb.ingest[r], 10),
		"@logStream":     rg.streams[uint32(fb.stream[r])],
		"@log":           rg.log,
		"@ptr":           formatPtr(rg.g.ID, fb.ts[r], uint64(fb.seq[r])),
	}
	for ci, c := range one.cols {
		if c != nil && c.Has(0) {
			out[bi.cols[ci].name] = c.Value(0).String()
		}
	}
	return out, nil
}

// reportFiltered tells req.Filtered about the rows of block bi that the
// hints dropped (b holds the rows delivered; nil when none were). Rows of
// deleted streams are not data any more and are not counted.
func reportFiltered(req *scan.Request, bi *blockIndex, b *scan.Block, deleted int) {
	n := bi.rows - deleted
	if b != nil {
		n -= b.Rows
	}
	if n <= 0 || bi.rows == 0 {
		return
	}
	frac := 1.0
	if bi.minTime < req.Start || bi.maxTime >= req.End {
		lo, hi := max(bi.minTime, req.Start), min(bi.maxTime, req.End-1)
		if span := bi.maxTime - bi.minTime; span > 0 && hi >= lo {
			frac = float64(hi-lo+1) / float64(span+1)
		}
	}
	rows := int64(float64(n)*frac + 0.5)
	if rows == 0 {
		return
	}
	req.Filtered(rows, bi.msgBytes*rows/int64(bi.rows)+26*rows)
}
