package query

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// finish merges the workers' partial states and runs the commands after
// the pivot on the merged rows.
func (ex *executor) finish() ([][]Value, error) {
	p := ex.p
	var rows [][]Value
	switch p.pivot {
	case pivotStats:
		// The workers' buffered count_distinct pairs, flushed in
		// parallel (each part is its own).
		grew := make([]int64, len(ex.parts))
		var wg sync.WaitGroup
		for i, pt := range ex.parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				grew[i] = pt.flushAllDistinct()
			}()
		}
		wg.Wait()
		for _, g := range grew {
			if err := ex.charge(g); err != nil {
				return nil, err
			}
		}
		merged := &ex.parts[0].gs
		for k := 1; k < len(ex.parts); k++ {
			if err := ex.ctx.Err(); err != nil {
				return nil, err // merging many groups takes a while
			}
			ex.mergeParallel(merged, k)
		}
		if err := ex.ctx.Err(); err != nil {
			return nil, err
		}
		rows = ex.statsResult(merged.list())
	case pivotSort:
		var all []*row
		for _, pt := range ex.parts {
			all = append(all, pt.rows...)
		}
		ex.sortRows(all)
		if ex.topK > 0 && len(all) > ex.topK {
			all = all[:ex.topK]
		}
		rows = make([][]Value, len(all))
		for i, r := range all {
			rows[i] = r.vals
		}
	}
	if err := ex.ctx.Err(); err != nil {
		return nil, err // the commands after the pivot may be expressions over every group
	}
	return runPost(p, p.post, rows, len(p.slotNames))
}

// sortRows sorts the workers' rows stably under cmpKeys. When cmpKeys is a
// consistent order over the rows' keys (totalOrder), the rows are sorted
// by (keys, @ptr, position), a total order, so an unstable sort gives the
// stable sort's result with fewer comparisons and no reflection; when
// every row also has an integer key (cmpRows), the comparison does not
// follow row pointers. Otherwise it is the generic stable sort.
func (ex *executor) sortRows(all []*row) {
	pr := ex.ptrOr()
	allInt := true
	for _, r := range all {
		if !r.iok {
			allInt = false
			break
		}
	}
	if !allInt && !ex.totalOrder(all) {
		sort.SliceStable(all, func(i, j int) bool {
			return ex.cmpKeys(all[i].keys, all[j].keys, all[i].vals[pr], all[j].vals[pr]) < 0
		})
		return
	}
	if allInt && len(all) >= radixMin {
		ex.radixRows(all)
		return
	}
	type ent struct {
		ik  int64
		ptr string
		r   *row
		pos int
	}
	es := make([]ent, len(all))
	for i, r := range all {
		es[i] = ent{r.ik, ptrText(r.vals[pr]), r, i}
	}
	if allInt {
		desc := len(ex.p.sort) == 1 && ex.p.sort[0].desc
		slices.SortFunc(es, func(a, b ent) int {
			if a.ik != b.ik {
				if (a.ik < b.ik) != desc {
					return -1
				}
				return 1
			}
			if c := strings.Compare(a.ptr, b.ptr); c != 0 {
				return c
			}
			return a.pos - b.pos
		})
	} else {
		slices.SortFunc(es, func(a, b ent) int {
			if c := ex.cmpOnlyKeys(a.r.keys, b.r.keys); c != 0 {
				return c
			}
			if c := strings.Compare(a.ptr, b.ptr); c != 0 {
				return c
			}
			return a.pos - b.pos
		})
	}
	for i := range es {
		all[i] = es[i].r
	}
}

// radixMin is the number of rows from which radixRows beats a comparison
// sort.
const radixMin = 256

// radixRows is sortRows for rows that all have an integer key: a stable
// LSD radix sort on the key, a byte at a time (skipping the bytes every
// key shares: timestamps a month apart differ in about four), then, in
// the rare runs of equal keys, a stable sort by @ptr. That is the order
// (key, @ptr, position) without a comparison per step (a pdqsort of
// 10,000 rows was ~4% of Q1's CPU).
func (ex *executor) radixRows(all []*row) {
	type kr struct {
		k uint64
		r *row
	}
	desc := ex.p.sort[0].desc
	a := make([]kr, len(all))
	for i, r := range all {
		k := uint64(r.ik) ^ 1<<63 // signed order as unsigned
		if desc {
			k = ^k
		}
		a[i] = kr{k, r}
	}
	b := make([]kr, len(all))
	var cnt [256]int
	for shift := 0; shift < 64; shift += 8 {
		clear(cnt[:])
		for _, e := range a {
			cnt[byte(e.k>>shift)]++
		}
		if cnt[byte(a[0].k>>shift)] == len(a) {
			continue // the same byte in every key
		}
		sum := 0
		for d, c := range cnt {
			cnt[d] = sum
			sum += c
		}
		for _, e := range a {
			d := byte(e.k >> shift)
			b[cnt[d]] = e
			cnt[d]++
		}
		a, b = b, a
	}
	pr := ex.ptrOr()
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && a[j].k == a[i].k {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(a[i:j], func(x, y kr) int {
				return strings.Compare(ptrText(x.r.vals[pr]), ptrText(y.r.vals[pr]))
			})
		}
		i = j
	}
	for i := range a {
		all[i] = a[i].r
	}
}

// totalOrder reports whether cmpOnlyKeys orders the rows consistently (a
// total preorder: transitive, equal keys interchangeable), which the
// unstable sort in sortRows needs to give the stable sort's result. Per
// key, sortCompare puts nulls last, numbers before texts and texts in byte
// order; among numbers it compares two non-floats as integers and
// anything else as float64. That is one order by numeric value unless a
// float is NaN (equal to everything) or, beside a float, an integer is
// beyond ±2^53 (not exact as a float64). JSON values are left to the
// generic sort (each comparison renders them).
func (ex *executor) totalOrder(all []*row) bool {
	for i := range ex.p.sort {
		hasFloat := false
		bigInt := false
		for _, r := range all {
			v := r.keys[i]
			switch v.k {
			case kFloat:
				if math.IsNaN(v.f) {
					return false
				}
				hasFloat = true
			case kInt, kTime, kBool:
				if v.i > 1<<53 || v.i < -(1<<53) {
					bigInt = true
				}
			case kJSON:
				return false
			}
		}
		if hasFloat && bigInt {
			return false
		}
	}
	return true
}

// groupSet holds one worker's stats groups (or a merge of several): keyed
// by the encoded key tuple when there is no key or several, else by the
// rendered key in a strIndex, with the group of the missing key apart.
type groupSet struct {
	byKey  map[string]*group
	idx    strIndex
	single []*group // by idx index
	null   *group
}

// merge folds o into s. With snap, the groups added to s are copies, so
// that o stays untouched (partial results read the workers' groups).
func (s *groupSet) merge(o *groupSet, snap bool) {
	s.mergeWith(o, snap, (*group).absorb)
}

// mergeWith is merge calling absorb(dst, src) for every group of o whose
// key s already has, each dst at most once.
func (s *groupSet) mergeWith(o *groupSet, snap bool, absorb func(dst, src *group)) {
	take := func(g *group) *group {
		if snap {
			return g.snap()
		}
		return g
	}
	for k, g := range o.byKey {
		if m, ok := s.byKey[k]; ok {
			absorb(m, g)
		} else {
			s.byKey[k] = take(g)
		}
	}
	for i, g := range o.single {
		h, str := o.idx.hashes[i], o.idx.strs[i]
		if j, ok := s.idx.find(h, str); ok {
			absorb(s.single[j], g)
		} else {
			s.idx.add(h, str)
			s.single = append(s.single, take(g))
		}
	}
	if o.null != nil {
		if s.null != nil {
			absorb(s.null, o.null)
		} else {
			s.null = take(o.null)
		}
	}
}

// mergeParallel folds the groups of worker part k into merged (which holds
// those of parts 0..k-1), absorbing the groups both hold on two
// goroutines: with count_distinct over thousands of groups, folding the
// sets is most of the merge. Part k's interned ids are translated up front
// into the interner of every earlier part (merged groups keep the interner
// of the part that made them), so the absorbs only read the interners.
func (ex *executor) mergeParallel(merged *groupSet, k int) {
	pt := ex.parts[k]
	for j, f := range pt.feeds {
		if f == nil {
			continue
		}
		for _, q := range ex.parts[:k] {
			if q.feeds == nil || q.feeds[j] == nil {
				continue
			}
			for id := range f.in.idx.strs {
				q.feeds[j].in.from(f.in, uint32(id))
			}
		}
	}
	var jobs [][2]*group
	merged.mergeWith(&pt.gs, false, func(dst, src *group) { jobs = append(jobs, [2]*group{dst, src}) })
	if len(jobs) < 1024 {
		// Few groups: not worth a goroutine.
		for _, jb := range jobs {
			jb[0].absorb(jb[1])
		}
		return
	}
	half := len(jobs) / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, jb := range jobs[:half] {
			jb[0].absorb(jb[1])
		}
	}()
	for _, jb := range jobs[half:] {
		jb[0].absorb(jb[1])
	}
	wg.Wait()
}

func (g *group) absorb(o *group) {
	g.star += o.star
	for i, a := range g.aggs {
		a.merge(o.aggs[i])
	}
}

func (s *groupSet) list() []*group {
	gs := make([]*group, 0, len(s.byKey)+len(s.single)+1)
	for _, g := range s.byKey {
		gs = append(gs, g)
	}
	gs = append(gs, s.single...)
	if s.null != nil {
		gs = append(gs, s.null)
	}
	return gs
}

// statsResult turns the merged groups into the stats rows.
func (ex *executor) statsResult(gs []*group) [][]Value {
	p := ex.p
	if len(gs) == 0 && len(p.stats.by) == 0 {
		// stats without by over no records: one row of empty aggregates.
		g := &group{aggs: make([]aggState, len(p.stats.aggs))}
		for i, a := range p.stats.aggs {
			g.aggs[i] = newAgg(a)
		}
		gs = append(gs, g)
	}
	return statsRows(p, p.stats, gs, ex.itemFns)
}

// snap copies a group and its aggregate states.
func (g *group) snap() *group {
	c := &group{keys: g.keys, aggs: make([]aggState, len(g.aggs)), star: g.star}
	for i, a := range g.aggs {
		c.aggs[i] = a.snap()
	}
	return c
}

// statsRows turns groups into rows, ordered by bucket (newest first) when
// the first key is bin(), otherwise by the group keys ascending.
func statsRows(p *plan, st *Command, gs []*group, itemFns []evalFn) [][]Value {
	desc := isBin(st)
	sort.Slice(gs, func(i, j int) bool {
		for k := range gs[i].keys {
			a, b := gs[i].keys[k], gs[j].keys[k]
			var c int
			switch {
			case a.isNull() && b.isNull():
				continue
			case a.isNull():
				return false
			case b.isNull():
				return true
			}
			c = sortCompare(a, b)
			if k == 0 && desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	rows := make([][]Value, len(gs))
	res := make([]Value, len(st.aggs))
	for gi, g := range gs {
		r := make([]Value, len(p.slotNames))
		for i, it := range st.by {
			r[it.slot] = g.keys[i]
		}
		for _, a := range g.aggs {
			if c, ok := a.(*aggCount); ok && c.star {
				c.n += g.star
			}
		}
		g.star = 0
		for i, a := range g.aggs {
			res[i] = a.result()
		}
		c := &ectx{row: r, one: -1, aggRes: res}
		for i, it := range st.items {
			r[it.slot] = itemFns[i](c)
		}
		rows[gi] = r
	}
	return rows
}

// runPost runs commands on materialised rows.
func runPost(p *plan, cmds []*Command, rows [][]Value, nslots int) ([][]Value, error) {
	for _, c := range cmds {
		switch c.kind {
		case cFilter:
			f := compile(c.expr)
			out := rows[:0]
			for _, r := range rows {
				if f(&ectx{row: r, one: -1}).truthy() {
					out = append(out, r)
				}
			}
			rows = out
		case cFields, cDisplay:
			for _, it := range c.items {
				f := compile(it.expr)
				for _, r := range rows {
					r[it.slot] = f(&ectx{row: r, one: -1})
				}
			}
		case cParse:
			f := compile(c.field)
			var caps []string
			for _, r := range rows {
				v := f(&ectx{row: r, one: -1})
				for _, s := range c.slots {
					r[s] = null
				}
				if v.isNull() {
					continue
				}
				caps = parseMatch(c, v.String(), caps[:0])
				for i, s := range c.slots {
					if caps != nil && caps[i] != "\x00" {
						r[s] = vStr(caps[i])
					}
				}
			}
		case cUnnest:
			f := compile(c.field)
			var out [][]Value
			for _, r := range rows {
				v := f(&ectx{row: r, one: -1})
				if v.isNull() {
					continue
				}
				if l, ok := v.j.([]any); ok && v.k == kJSON {
					for _, e := range l {
						nr := slices.Clone(r)
						nr[c.intoS] = fromJSON(e)
						out = append(out, nr)
					}
					continue
				}
				nr := slices.Clone(r)
				nr[c.intoS] = v
				out = append(out, nr)
			}
			rows = out
		case cSort:
			fns := make([]evalFn, len(c.sort))
			for i, k := range c.sort {
				fns[i] = compile(k.expr)
			}
			keys := make([][]Value, len(rows))
			for i, r := range rows {
				keys[i] = make([]Value, len(fns))
				for j, f := range fns {
					keys[i][j] = f(&ectx{row: r, one: -1})
				}
			}
			idx := make([]int, len(rows))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool {
				ka, kb := keys[idx[a]], keys[idx[b]]
				for j, k := range c.sort {
					x, y := ka[j], kb[j]
					switch {
					case x.isNull() && y.isNull():
						continue
					case x.isNull():
						return false
					case y.isNull():
						return true
					}
					n := sortCompare(x, y)
					if k.desc {
						n = -n
					}
					if n != 0 {
						return n < 0
					}
				}
				return false
			})
			out := make([][]Value, len(rows))
			for i, j := range idx {
				out[i] = rows[j]
			}
			rows = out
		case cLimit:
			if len(rows) > c.n {
				rows = rows[:c.n]
			}
		case cDedup:
			fns := make([]evalFn, len(c.dedup))
			for i, e := range c.dedup {
				fns[i] = compile(e)
			}
			seen := map[string]bool{}
			out := rows[:0]
			var kb []byte
			keys := make([]Value, len(fns))
		rowLoop:
			for _, r := range rows {
				for i, f := range fns {
					keys[i] = f(&ectx{row: r, one: -1})
					if keys[i].isNull() {
						out = append(out, r) // nulls are never duplicates
						continue rowLoop
					}
				}
				kb = encodeKey(kb[:0], keys)
				if seen[string(kb)] {
					continue
				}
				seen[string(kb)] = true
				out = append(out, r)
			}
			rows = out
		case cStats:
			rows = postStats(p, c, rows)
		}
	}
	return rows, nil
}

// postStats runs a second stats over the rows of the first.
func postStats(p *plan, st *Command, rows [][]Value) [][]Value {
	byFns := make([]evalFn, len(st.by))
	for i, it := range st.by {
		byFns[i] = compile(it.expr)
	}
	aggFns := make([]evalFn, len(st.aggs))
	for i, a := range st.aggs {
		if !a.star && len(a.args) > 0 {
			aggFns[i] = compile(a.args[0])
		}
	}
	groups := map[string]*group{}
	var order []*group
	var kb []byte
	keys := make([]Value, len(byFns))
	for _, r := range rows {
		c := &ectx{row: r, one: -1}
		for i, f := range byFns {
			keys[i] = f(c)
		}
		kb = encodeKey(kb[:0], keys)
		g := groups[string(kb)]
		if g == nil {
			g = &group{keys: slices.Clone(keys), aggs: make([]aggState, len(st.aggs))}
			for i, a := range st.aggs {
				g.aggs[i] = newAgg(a)
			}
			groups[string(kb)] = g
			order = append(order, g)
		}
		var ts int64
		if v := r[p.tsSlot]; v.k == kTime || v.k == kInt {
			ts = v.i
		}
		for i, a := range g.aggs {
			if aggFns[i] == nil {
				a.add(null, ts)
			} else {
				a.add(aggFns[i](c), ts)
			}
		}
	}
	if len(order) == 0 && len(st.by) == 0 {
		g := &group{aggs: make([]aggState, len(st.aggs))}
		for i, a := range st.aggs {
			g.aggs[i] = newAgg(a)
		}
		order = append(order, g)
	}
	itemFns := make([]evalFn, len(st.items))
	for i, it := range st.items {
		itemFns[i] = compile(it.expr)
	}
	return statsRows(p, st, order, itemFns)
}
