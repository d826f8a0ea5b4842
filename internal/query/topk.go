package query

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// Top-k on @timestamp descending ("sort @timestamp desc | limit k", the
// default order of every non-stats query).
//
// The engine asks the source for blocks newest first (scan.Request.
// Descending) and keeps, shared by the workers, the k newest timestamps of
// the matched rows seen so far (a min-heap under a mutex; a block adds its
// few hundred matches at once). Once k are known, the oldest of them, T,
// bounds the result: a row older than T cannot be among the k newest, so
// it never enters a worker's top-k heap and its output fields are never
// decoded, and a block whose newest row is older than T is only counted
// for the statistics (its filters still run: recordsMatched stays exact)
// without reading its timestamps or output fields. Rows as old as T may
// still enter, since @ptr breaks ties.
//
// With the source's blocks newest first, T is known after the first few
// blocks and nearly all later ones are only filtered. A source that
// ignores Descending gets the same result, more slowly. Each worker's heap
// holds real top rows at all times, so partial results (Options.Partial)
// use the same plan.

// topTimes is the shared heap of the k newest matched timestamps.
type topTimes struct {
	mu   sync.Mutex
	heap []int64 // min-heap
	k    int
	kth  atomic.Int64 // heap[0] once the heap holds k; math.MinInt64 before
}

func newTopTimes(k int) *topTimes {
	t := &topTimes{k: k}
	t.kth.Store(math.MinInt64)
	return t
}

// add merges the timestamps of one block's matched rows.
func (t *topTimes) add(ts []int64) {
	t.mu.Lock()
	h := t.heap
	for _, v := range ts {
		if len(h) < t.k {
			h = append(h, v)
			j := len(h) - 1 // sift up
			for j > 0 {
				p := (j - 1) / 2
				if h[p] <= h[j] {
					break
				}
				h[p], h[j] = h[j], h[p]
				j = p
			}
			continue
		}
		if v <= h[0] {
			continue
		}
		h[0] = v
		j := 0 // sift down
		for {
			l := 2*j + 1
			if l >= len(h) {
				break
			}
			m := l
			if r := l + 1; r < len(h) && h[r] < h[l] {
				m = r
			}
			if h[j] <= h[m] {
				break
			}
			h[j], h[m] = h[m], h[j]
			j = m
		}
	}
	t.heap = h
	if len(h) >= t.k && t.k > 0 {
		t.kth.Store(h[0])
	}
	t.mu.Unlock()
}

// newestFirst reports whether the query is a top-k on @timestamp
// descending that the two-pass plan applies to.
func (ex *executor) newestFirst() bool {
	p := ex.p
	if p.pivot != pivotSort || ex.topK <= 0 || len(p.sort) != 1 || !p.sort[0].desc {
		return false
	}
	r, ok := unparen(p.sort[0].expr).(*ref)
	if !ok || r.path != nil || r.slot != p.tsSlot || !slices.Contains(p.srcSlots, p.tsSlot) || p.ptrSlot < 0 {
		return false
	}
	// A command that writes @timestamp makes the sort key something other
	// than the stored timestamp the source can range over.
	for _, c := range p.stream {
		switch c.kind {
		case cFields, cDisplay:
			for _, it := range c.items {
				if it.slot == p.tsSlot {
					return false
				}
			}
		case cParse:
			if slices.Contains(c.slots, p.tsSlot) {
				return false
			}
		case cUnnest:
			// Unnested rows share their record's @ptr, which the second
			// pass uses to recognise rows the first one collected.
			return false
		}
	}
	return true
}

// noteTimes adds the timestamps of the batch rows to the shared heap.
// Rows without a plain integer timestamp are left out: they sort after
// every timestamped row, so they only matter while fewer than k rows are
// timestamped, when the bound T is not set.
func (ex *executor) noteTimes(pt *part) {
	bt := &pt.bt
	ts := bt.cols[ex.p.tsSlot]
	if ts == nil || ts.Type != scan.TypeInt || bt.vals[ex.p.tsSlot] != nil {
		return
	}
	buf := pt.tsBuf[:0]
	kth := ex.top.kth.Load()
	for _, i := range bt.sel[:bt.n] {
		if ts.Has(int(i)) && ts.Ints[i] > kth {
			buf = append(buf, ts.Ints[i])
		}
	}
	pt.tsBuf = buf
	if len(buf) > 0 {
		ex.top.add(buf)
	}
}

// tooOld reports whether batch row k is older than the bound T (then it
// cannot be in the result).
func (ex *executor) tooOld(bt *batch, k int) bool {
	ts := bt.cols[ex.p.tsSlot]
	if ts == nil || ts.Type != scan.TypeInt || bt.vals[ex.p.tsSlot] != nil {
		return false
	}
	i := int(bt.sel[k])
	return ts.Has(i) && ts.Ints[i] < ex.top.kth.Load()
}
