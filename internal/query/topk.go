package query

import (
	"context"
	"math"
	"slices"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// Two-pass top-k for "sort @timestamp desc | limit k" (the default order).
//
// Sources deliver blocks oldest first, so a one-pass top-k on the newest
// rows admits nearly every matched row (each block beats the rows held so
// far) and decodes its output fields through Block.Load, only to drop most
// of them later. The first pass therefore runs the filters and keeps the
// timestamps of the matched rows, which gives the k-th newest timestamp T
// and the statistics; it also collects rows as usual until k/4 rows have
// matched, so that a query matching up to k rows is done in that one
// pass. Past k it stops collecting, and a second pass scans from T (or
// from the oldest block evaluated after the switch, if later) on only: the
// source skips every older block, the rows collected before the switch
// are recognised by @ptr and skipped, and the output fields are decoded
// for the rows that can still enter the result. Every row of the final
// top-k has a timestamp >= T and is either held from the first pass or
// seen by the second, so the result is the one-pass result, @ptr
// tie-breaking included.

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

// twoPass runs the scan as described above; fn evaluates one block.
func (ex *executor) twoPass(ctx context.Context, src scan.Source, req *scan.Request, fn func(int, *scan.Block) error) error {
	ex.tsOnly = true
	ex.minPost.Store(math.MaxInt64)
	err := src.Scan(ctx, req, fn)
	ex.tsOnly = false
	if err != nil || !ex.switched.Load() {
		return err
	}
	// The rows collected before the switch stay: the second pass starts
	// at T, or later when the blocks evaluated after the switch all start
	// later, and skips the rows it finds already collected.
	ex.seen = map[string]bool{}
	pr := ex.p.ptrSlot
	for _, pt := range ex.parts {
		for _, r := range pt.rows {
			ex.seen[r.vals[pr].String()] = true
		}
	}
	ex.noStats = true
	req2 := *req
	if !ex.tsBad.Load() {
		// With fewer than k matched rows, the oldest block evaluated
		// after the switch is where the second pass starts.
		t := ex.minPost.Load()
		if kth, ok := ex.kthTime(); ok {
			t = max(t, kth)
		}
		if t > req2.Start {
			req2.Start = t
			ex.start = t
		}
	}
	for _, pt := range ex.parts {
		pt.tsTop = nil
	}
	return src.Scan(ctx, &req2, fn)
}

// kthTime returns the k-th newest timestamp of the matched rows, or false
// when fewer than k matched rows have one.
func (ex *executor) kthTime() (int64, bool) {
	var all []int64
	for _, pt := range ex.parts {
		all = append(all, pt.tsTop...)
	}
	k := ex.topK
	if len(all) < k {
		return 0, false
	}
	slices.Sort(all)
	return all[len(all)-k], true
}

// collectTimes adds the batch rows' timestamps to the worker's k newest
// (a min-heap, oldest on top).
func (ex *executor) collectTimes(pt *part) {
	bt := &pt.bt
	ts := bt.cols[ex.p.tsSlot]
	if ts == nil || ts.Type != scan.TypeInt || bt.vals[ex.p.tsSlot] != nil {
		ex.tsBad.Store(true)
		return
	}
	k := ex.topK
	h := pt.tsTop
	for _, i := range bt.sel[:bt.n] {
		if !ts.Has(int(i)) {
			// A row without a timestamp may enter the result when
			// fewer than k rows have one; the second pass then scans
			// the whole range.
			ex.tsBad.Store(true)
			continue
		}
		t := ts.Ints[i]
		if len(h) < k {
			h = append(h, t)
			// sift up
			j := len(h) - 1
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
		if t <= h[0] {
			continue
		}
		h[0] = t
		// sift down
		j := 0
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
	pt.tsTop = h
}
