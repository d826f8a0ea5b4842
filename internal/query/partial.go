package query

import (
	"slices"
	"sync/atomic"
	"time"
)

// partialState is what the partial-results goroutine keeps between calls:
// the top rows of the previous call in final order, so that only the rows
// that entered the workers' heaps since then are sorted.
type partialState struct {
	gen    uint32
	sorted []*row
}

// startPartial starts the goroutine that calls opt.Partial. The returned
// function stops it and waits, so Partial is never called after Run
// returns.
func (ex *executor) startPartial(opt *Options, blocks *atomic.Int64) func() {
	if opt.Partial == nil {
		return func() {}
	}
	every := opt.PartialEvery
	if every <= 0 {
		every = DefaultPartialEvery
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps := &partialState{}
		var last int64
		t := time.NewTimer(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			wait := every
			if n := blocks.Load(); n != last {
				last = n
				t0 := time.Now()
				rows := ex.partialRows(ps)
				opt.Partial(rows, ex.stats())
				// Keep the partial results to a tenth of the time at most.
				wait = max(every, 10*time.Since(t0))
			}
			t.Reset(wait)
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}

// partialRows builds the rows the query would return if it stopped now,
// reading each worker's state under its lock (between two blocks).
func (ex *executor) partialRows(ps *partialState) [][]Field {
	p := ex.p
	var vals [][]Value
	switch p.pivot {
	case pivotStats:
		merged := &groupSet{byKey: map[string]*group{}}
		for _, pt := range ex.parts {
			pt.mu.Lock()
			// Between two blocks: the worker's buffered pairs can go
			// into its sets now (a failed memory charge is seen by the
			// worker at its next block).
			ex.charge(pt.flushAllDistinct())
			merged.merge(&pt.gs, true)
			pt.mu.Unlock()
		}
		vals = ex.statsResult(merged.list())
	case pivotSort:
		sorted := ex.partialSorted(ps)
		n, plain := len(sorted), true
		for _, c := range p.post {
			if c.kind != cLimit {
				plain = false
				break
			}
			n = min(n, c.n)
		}
		if plain {
			// Rows are immutable once in a heap: render each one once.
			n = min(n, ex.limit)
			out := make([][]Field, n)
			for i, r := range sorted[:n] {
				if r.rendered == nil {
					r.rendered = ex.render(r.vals)
				}
				out[i] = r.rendered
			}
			return out
		}
		// The commands after the sort write into the rows: run them on
		// copies.
		vals = make([][]Value, len(sorted))
		for i, r := range sorted {
			vals[i] = slices.Clone(r.vals)
		}
	}
	rows, err := runPost(p, p.post, vals, len(p.slotNames))
	if err != nil {
		return nil
	}
	if len(rows) > ex.limit {
		rows = rows[:ex.limit]
	}
	out := make([][]Field, len(rows))
	for i, r := range rows {
		out[i] = ex.render(r)
	}
	return out
}

// partialSorted returns the workers' rows in final order, best first, and
// at most topK of them. Rows seen by the previous call are already in
// order; the new ones are sorted and merged in. A row that falls out of
// the global top-k can never return (the rows ahead of it only get
// better), so dropping it is safe.
func (ex *executor) partialSorted(ps *partialState) []*row {
	ps.gen++
	gen := ps.gen
	var fresh []*row
	for _, pt := range ex.parts {
		pt.mu.Lock()
		for _, r := range pt.rows {
			if r.seen == 0 {
				fresh = append(fresh, r)
			}
			r.seen = gen
		}
		pt.mu.Unlock()
	}
	cmp := ex.cmpRows
	slices.SortStableFunc(fresh, cmp)
	merged := make([]*row, 0, len(ps.sorted)+len(fresh))
	old := ps.sorted
	i, j := 0, 0
	for {
		for i < len(old) && old[i].seen != gen {
			i++ // evicted from its worker's heap
		}
		if i == len(old) {
			merged = append(merged, fresh[j:]...)
			break
		}
		if j == len(fresh) {
			for ; i < len(old); i++ {
				if old[i].seen == gen {
					merged = append(merged, old[i])
				}
			}
			break
		}
		if cmp(fresh[j], old[i]) < 0 {
			merged = append(merged, fresh[j])
			j++
		} else {
			merged = append(merged, old[i])
			i++
		}
	}
	if ex.topK > 0 && len(merged) > ex.topK {
		merged = merged[:ex.topK]
	}
	ps.sorted = merged
	return merged
}
