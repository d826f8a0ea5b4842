package query

import (
	"fmt"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// batch is the selected rows of one block with the slots computed so far.
// Batch row k is block row sel[k]; a slot reads vals[s][k] once a command
// has computed it, else the block's column.
type batch struct {
	blk      *scan.Block
	n        int
	sel      []int32
	cols     []*scan.Column
	vals     [][]Value
	timeSlot []bool
	memo     []int8 // dictionary predicate results: 0 unknown, 1 false, 2 true
	pending  []bool // lazy columns not loaded yet
	rowsBuf  []int32
	rowsBuf2 []int32
	keep     []bool
}

// ensure loads the pending lazy columns among slots for the given block
// rows (ascending, duplicates allowed).
func (ex *executor) ensure(bt *batch, slots []int, rows []int32) error {
	for _, s := range slots {
		if !bt.pending[s] {
			continue
		}
		bt.pending[s] = false
		uniq := bt.rowsBuf[:0]
		for i, r := range rows {
			if i == 0 || r != rows[i-1] {
				uniq = append(uniq, r)
			}
		}
		bt.rowsBuf = uniq
		col, err := bt.blk.Load(ex.p.slotNames[s], uniq)
		if err != nil {
			return fmt.Errorf("loading column %s: %w", ex.p.slotNames[s], err)
		}
		bt.cols[s] = col
	}
	return nil
}

func (b *batch) get(s, k int) Value {
	if v := b.vals[s]; v != nil {
		return v[k]
	}
	return colValue(b.cols[s], int(b.sel[k]), b.timeSlot[s])
}

// compact keeps the batch rows whose keep flag is set.
func (b *batch) compact(keep []bool) {
	j := 0
	for k := 0; k < b.n; k++ {
		if keep[k] {
			b.sel[j] = b.sel[k]
			j++
		}
	}
	for s, v := range b.vals {
		if v == nil {
			continue
		}
		j := 0
		for k := 0; k < b.n; k++ {
			if keep[k] {
				v[j] = v[k]
				j++
			}
		}
		b.vals[s] = v[:j]
	}
	b.n = j
}

func (ex *executor) block(pt *part, blk *scan.Block) error {
	p := ex.p
	bt := &pt.bt
	bt.blk = blk
	if cap(bt.sel) < blk.Rows {
		bt.sel = make([]int32, blk.Rows)
	}
	bt.sel = bt.sel[:blk.Rows]
	if len(bt.cols) != len(p.slotNames) {
		bt.cols = make([]*scan.Column, len(p.slotNames))
		bt.vals = make([][]Value, len(p.slotNames))
		bt.pending = make([]bool, len(p.slotNames))
		bt.timeSlot = p.timeSlot
	}
	for s := range bt.cols {
		bt.cols[s] = nil
		bt.vals[s] = nil
		bt.pending[s] = false
	}
	for _, s := range p.srcSlots {
		c := blk.Columns[p.slotNames[s]]
		bt.cols[s] = c
		bt.pending[s] = c == nil && ex.lazy[s] && blk.Load != nil
	}

	// Time range: rows outside [start, end) are not scanned records.
	n := 0
	ts := bt.cols[p.tsSlot]
	inRange := blk.MinTime >= ex.start && blk.MaxTime < ex.end
	if !inRange && ts == nil && bt.pending[p.tsSlot] {
		// A lazy timestamp is needed after all, at every row.
		for i := range bt.sel {
			bt.sel[i] = int32(i)
		}
		if err := ex.ensure(bt, []int{p.tsSlot}, bt.sel); err != nil {
			return err
		}
		ts = bt.cols[p.tsSlot]
	}
	if inRange || ts == nil || ts.Type != scan.TypeInt {
		for i := 0; i < blk.Rows; i++ {
			bt.sel[i] = int32(i)
		}
		n = blk.Rows
	} else {
		for i, t := range ts.Ints[:blk.Rows] {
			if t >= ex.start && t < ex.end && ts.Has(i) {
				bt.sel[n] = int32(i)
				n++
			}
		}
	}
	bt.n = n
	{
		ex.scanned.Add(int64(n))
		// bytesScanned: the in-range share of the block's message bytes,
		// plus PutLogEvents' 26 bytes of overhead per event.
		if n == blk.Rows {
			ex.bytes.Add(blk.MessageBytes + 26*int64(n))
		} else if blk.Rows > 0 {
			ex.bytes.Add(blk.MessageBytes*int64(n)/int64(blk.Rows) + 26*int64(n))
		}
	}

	pt.ectx = ectx{bt: bt, one: -1}
	for i := range ex.ops {
		if bt.n == 0 {
			return nil
		}
		op := &ex.ops[i]
		if op.allNoop {
			// fields a, b: nothing to compute, and the columns are decoded
			// later for the rows that reach the output only.
			continue
		}
		if op.c.kind == cFilter {
			for j := range op.conj {
				if bt.n == 0 {
					break
				}
				if err := ex.ensure(bt, op.conj[j].slots, bt.sel[:bt.n]); err != nil {
					return err
				}
				if err := ex.filter(pt, &op.conj[j]); err != nil {
					return err
				}
			}
			continue
		}
		if err := ex.ensure(bt, ex.opSlots[i], bt.sel[:bt.n]); err != nil {
			return err
		}
		if err := ex.runOp(pt, op); err != nil {
			return err
		}
	}
	if bt.n == 0 {
		return nil
	}
	ex.matched.Add(int64(bt.n))
	if ex.top != nil {
		if blk.MaxTime < ex.top.kth.Load() {
			return nil // every row is older than the k newest matched
		}
		if err := ex.ensure(bt, ex.keySlots, bt.sel[:bt.n]); err != nil {
			return err
		}
		ex.noteTimes(pt)
	}
	if p.pivot == pivotStats {
		if err := ex.ensure(bt, ex.pivotSlots, bt.sel[:bt.n]); err != nil {
			return err
		}
		return ex.aggregate(pt)
	}
	if err := ex.ensure(bt, ex.keySlots, bt.sel[:bt.n]); err != nil {
		return err
	}
	return ex.collect(pt)
}

// runOp runs a per-record command on the batch. It returns the context's
// error when the query is cancelled part-way (the batch is then left
// half-computed: the query is over).
func (ex *executor) runOp(pt *part, op *streamOp) error {
	bt := &pt.bt
	c := &pt.ectx
	n := bt.n
	switch op.c.kind {
	case cFilter:
		for i := range op.conj {
			if bt.n == 0 {
				return nil
			}
			if err := ex.filter(pt, &op.conj[i]); err != nil {
				return err
			}
		}
	case cFields, cDisplay:
		for i, it := range op.c.items {
			if op.noop[i] {
				continue
			}
			vals := make([]Value, n)
			f := op.itemFns[i]
			for lo := 0; lo < n; lo += cancelEvery {
				if err := ex.ctx.Err(); err != nil {
					return err
				}
				for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
					c.k = k
					vals[k] = f(c)
				}
			}
			bt.vals[it.slot] = vals
		}
	case cParse:
		outs := make([][]Value, len(op.c.slots))
		for i := range outs {
			outs[i] = make([]Value, n)
		}
		var caps []string
		for lo := 0; lo < n; lo += cancelEvery {
			if err := ex.ctx.Err(); err != nil {
				return err
			}
			for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
				c.k = k
				v := op.fieldFn(c)
				if v.isNull() {
					continue
				}
				caps = parseMatch(op.c, v.String(), caps[:0])
				if caps == nil {
					continue
				}
				for i := range outs {
					if caps[i] != "\x00" {
						outs[i][k] = vStr(caps[i])
					}
				}
			}
		}
		for i, s := range op.c.slots {
			bt.vals[s] = outs[i]
		}
	case cUnnest:
		var sel []int32
		var into []Value
		var src []int
		for lo := 0; lo < n; lo += cancelEvery {
			if err := ex.ctx.Err(); err != nil {
				return err
			}
			for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
				c.k = k
				v := op.fieldFn(c)
				if v.isNull() {
					continue
				}
				if l, ok := v.j.([]any); ok && v.k == kJSON {
					for _, e := range l {
						sel = append(sel, bt.sel[k])
						into = append(into, fromJSON(e))
						src = append(src, k)
					}
					continue
				}
				sel = append(sel, bt.sel[k])
				into = append(into, v)
				src = append(src, k)
			}
		}
		for s, v := range bt.vals {
			if v == nil {
				continue
			}
			nv := make([]Value, len(src))
			for j, k := range src {
				nv[j] = v[k]
			}
			bt.vals[s] = nv
		}
		bt.sel = append(bt.sel[:0], sel...)
		bt.n = len(sel)
		bt.vals[op.c.intoS] = into
	}
	return nil
}

// parseMatch applies a parse command's glob or regex to s. It returns the
// captures ("\x00" for a group that did not take part), or nil when the
// pattern does not match.
func parseMatch(c *Command, s string, out []string) []string {
	if c.re != nil {
		m := c.re.FindStringSubmatchIndex(s)
		if m == nil {
			return nil
		}
		for i, n := range c.re.SubexpNames() {
			if i == 0 || n == "" {
				continue
			}
			if m[2*i] < 0 {
				out = append(out, "\x00")
			} else {
				out = append(out, s[m[2*i]:m[2*i+1]])
			}
		}
		return out
	}
	return globMatch(c.glob, s, out)
}

// globMatch implements parse "a*b*c": the leading constant is searched
// anywhere, each capture is lazy up to the next constant, and the last
// capture runs to the end when no constant follows it.
func globMatch(pieces []string, s string, out []string) []string {
	pos := 0
	if pieces[0] != "" {
		i := strings.Index(s, pieces[0])
		if i < 0 {
			return nil
		}
		pos = i + len(pieces[0])
	}
	for i := 1; i < len(pieces); i++ {
		c := pieces[i]
		if c == "" {
			if i == len(pieces)-1 {
				out = append(out, s[pos:])
				pos = len(s)
			} else {
				out = append(out, "") // ** : the first capture is empty
			}
			continue
		}
		j := strings.Index(s[pos:], c)
		if j < 0 {
			return nil
		}
		out = append(out, s[pos:pos+j])
		pos += j + len(c)
	}
	return out
}

// filter keeps the batch rows that satisfy cj. It returns the context's
// error when the query is cancelled part-way (the selection is then left
// as it was: the query is over).
func (ex *executor) filter(pt *part, cj *conjunct) error {
	bt := &pt.bt
	if cap(bt.keep) < bt.n {
		bt.keep = make([]bool, bt.n)
	}
	keep := bt.keep[:bt.n]
	clear(keep)
	c := &pt.ectx
	if cj.single >= 0 && bt.vals[cj.single] == nil {
		col := bt.cols[cj.single]
		ev := ectx{one: cj.single}
		nullRes := cj.fn(&ev).truthy()
		if col == nil {
			if !nullRes {
				bt.n = 0
			}
			return nil
		}
		switch {
		case cj.present:
			if col.Present == nil {
				return nil // every row has the field
			}
			for k, i := range bt.sel[:bt.n] {
				keep[k] = col.Present.Get(int(i))
			}
		case col.Type == scan.TypeDict:
			if cap(bt.memo) < len(col.Dict) {
				bt.memo = make([]int8, len(col.Dict))
			}
			memo := bt.memo[:len(col.Dict)]
			clear(memo)
			// The predicate runs once per distinct entry, so the context
			// is checked per cancelEvery evaluations, not rows: a block
			// of repeated values never pays for it, a dictionary of
			// mostly distinct values is checked like a plain column.
			evals := 0
			for k := 0; k < bt.n; k++ {
				i := int(bt.sel[k])
				if !col.Has(i) {
					keep[k] = nullRes
					continue
				}
				code := col.Codes[i]
				m := memo[code]
				if m == 0 {
					if evals++; evals == cancelEvery {
						evals = 0
						if err := ex.ctx.Err(); err != nil {
							return err
						}
					}
					ev.oneVal = vStr(col.Dict[code])
					m = 1
					if cj.fn(&ev).truthy() {
						m = 2
					}
					memo[code] = m
				}
				keep[k] = m == 2
			}
		case col.Type == scan.TypeInt && cj.isCmp && !bt.hasVals():
			// Nothing computed yet to keep aligned: select in place.
			bt.n = intSelect(col, bt.sel[:bt.n], cj.cmpCode, cj.cmpC)
			return nil
		case col.Type == scan.TypeInt && cj.isCmp:
			intCmp(col, bt.sel[:bt.n], keep, cj.cmpCode, cj.cmpC)
		default:
			isTime := bt.timeSlot[cj.single]
			n := bt.n
			for lo := 0; lo < n; lo += cancelEvery {
				if err := ex.ctx.Err(); err != nil {
					return err
				}
				for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
					i := int(bt.sel[k])
					if !col.Has(i) {
						keep[k] = nullRes
						continue
					}
					ev.oneVal = colValue(col, i, isTime)
					keep[k] = cj.fn(&ev).truthy()
				}
			}
		}
	} else {
		n := bt.n
		for lo := 0; lo < n; lo += cancelEvery {
			if err := ex.ctx.Err(); err != nil {
				return err
			}
			for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
				c.k = k
				keep[k] = cj.fn(c).truthy()
			}
		}
	}
	bt.compact(keep)
	return nil
}

// view returns the codes of a string or dictionary source column for the
// current batch, built once per block, or nil for other columns.
func (pt *part) view(ex *executor, slot int) *keyView {
	bt := &pt.bt
	col := bt.cols[slot]
	if bt.vals[slot] != nil || !canView(col) {
		return nil
	}
	if pt.views == nil {
		pt.views = make([]keyView, len(ex.p.slotNames))
	}
	v := &pt.views[slot]
	if v.stamp != pt.nblk {
		v.build(col, bt.sel[:bt.n])
		v.stamp = pt.nblk
	}
	return v
}

// aggregate adds the batch rows to the worker's groups. A single group key
// on a string or dictionary column is looked up once per distinct value of
// the block (keyView codes); a bin() key once per bucket change; other
// single keys by their rendered string; no key or several keys by the
// encoded tuple.
func (ex *executor) aggregate(pt *part) error {
	bt := &pt.bt
	c := &pt.ectx
	st := ex.p.stats
	nb := len(ex.byFns)
	var grew int64
	pt.nblk++
	if pt.feeds == nil {
		pt.feeds = make([]*distinctFeed, len(st.aggs))
		for j, s := range ex.distinctSlot {
			if s >= 0 {
				pt.feeds[j] = &distinctFeed{slot: s, in: newInterner()}
			}
		}
	}
	for _, f := range pt.feeds {
		if f != nil {
			f.reset(bt.cols[f.slot], pt.view(ex, f.slot))
		}
	}
	gs := &pt.gs
	newGroup := func(keys []Value) *group {
		g := &group{keys: make([]Value, len(keys)), aggs: make([]aggState, len(st.aggs))}
		for i, k := range keys {
			g.keys[i] = keep(k)
			grew += int64(len(k.s)) + 64
		}
		for i, a := range st.aggs {
			if f := pt.feeds[i]; f != nil {
				g.aggs[i] = &aggDistinctID{in: f.in}
			} else {
				g.aggs[i] = newAgg(a)
			}
		}
		grew += 64 + 48*int64(len(st.aggs))
		return g
	}
	// lookup finds the group of a key tuple (no key or several).
	lookup := func(keys []Value) *group {
		pt.keyBuf = encodeKey(pt.keyBuf[:0], keys)
		g := gs.byKey[string(pt.keyBuf)]
		if g == nil {
			g = newGroup(keys)
			gs.byKey[string(pt.keyBuf)] = g
		}
		return g
	}
	// single finds the group of a single key v, rendered s with hash h.
	// Values that render alike group together (a field that is the
	// number 500 in one block and the string "500" in another is one
	// group).
	one := make([]Value, 1)
	// singleAt is single returning the group's index in gs.single.
	singleAt := func(v Value, h uint64, s string) int {
		if i, ok := gs.idx.find(h, s); ok {
			return i
		}
		one[0] = v
		g := newGroup(one)
		if g.keys[0].k == kStr {
			s = g.keys[0].s // already a copy
		} else {
			s = strings.Clone(s)
		}
		gs.idx.add(h, s)
		gs.single = append(gs.single, g)
		grew += 40
		return len(gs.single) - 1
	}
	single := func(v Value, h uint64, s string) *group {
		return gs.single[singleAt(v, h, s)]
	}
	nullGroup := func() *group {
		if gs.null == nil {
			one[0] = null
			gs.null = newGroup(one)
		}
		return gs.null
	}
	byValue := func(v Value) *group {
		if v.isNull() {
			return nullGroup()
		}
		s := v.String()
		return single(v, strHash(s), s)
	}
	tsCol := bt.cols[ex.p.tsSlot]
	tsOK := tsCol != nil && tsCol.Type == scan.TypeInt
	var kv *keyView
	if nb == 1 && ex.dictKey >= 0 {
		if kv = pt.view(ex, ex.dictKey); kv != nil {
			if cap(pt.byCode) < len(kv.strs) {
				pt.byCode = make([]*group, len(kv.strs))
			}
			pt.byCode = pt.byCode[:len(kv.strs)]
			clear(pt.byCode)
		}
	}
	byCode := pt.byCode
	if kv != nil && !ex.allStar && pt.viewFeeds() {
		// Every aggregate is count_distinct of a string column: a block
		// repeats each (key, value) pair many times (a user logs in from
		// the same few addresses), so the pairs are deduplicated in a
		// block-local table first and only the distinct ones reach the
		// groups' sets.
		// Per key code of the block, 1 + the group's index in gs.single
		// (0: not looked up yet): buffered pairs name groups by it.
		if cap(pt.idxByCode) < len(kv.strs) {
			pt.idxByCode = make([]int32, len(kv.strs))
		}
		idxByCode := pt.idxByCode[:len(kv.strs)]
		clear(idxByCode)
		for j, f := range pt.feeds {
			pairs := pt.pairs.dedupe(kv.codes[:bt.n], f.view.codes[:bt.n], len(kv.strs), len(f.view.strs))
			// Groups are created in the order of the pairs (the order of
			// groups does not show: statsRows sorts them by key) and the
			// values interned, in batches whose table slots are fetched
			// first (see strIndex.prefetch).
			// Each code is listed once (marked pending with -1 / ^0).
			todo := pt.todo[:0]
			for _, pr := range pairs {
				if kc := int32(pr>>32) - 1; kc < 0 {
					nullGroup()
				} else if idxByCode[kc] == 0 {
					idxByCode[kc] = -1
					todo = append(todo, kc)
				}
			}
			for lo := 0; lo < len(todo); lo += prefetchBatch {
				ks := todo[lo:min(lo+prefetchBatch, len(todo))]
				pt.sink += gs.idx.prefetch(ks, kv)
				for _, kc := range ks {
					str := kv.strs[kc]
					i := singleAt(vStr(str), kv.hash(kc), str)
					byCode[kc], idxByCode[kc] = gs.single[i], int32(i)+1
				}
			}
			todo = todo[:0]
			for _, pr := range pairs {
				if fc := int32(uint32(pr)) - 1; fc >= 0 && f.memo[fc] == 0 {
					f.memo[fc] = ^uint32(0)
					todo = append(todo, fc)
				}
			}
			v := f.view
			for lo := 0; lo < len(todo); lo += prefetchBatch {
				cs := todo[lo:min(lo+prefetchBatch, len(todo))]
				if v.ips != nil {
					// Addresses: looked up by number (ipIndex).
					pt.sink += f.in.ips.prefetch(cs, v.ips)
					for _, fc := range cs {
						f.memo[fc] = f.ipCodeID(fc) + 1
					}
					continue
				}
				pt.sink += f.in.idx.prefetch(cs, v)
				for _, fc := range cs {
					f.memo[fc] = f.in.id(v.hash(fc), v.strs[fc]) + 1
				}
			}
			pt.todo = todo
			// The pairs, now in the worker's ids, wait in a buffer: the
			// same pair recurs in many blocks, and adding them to the
			// groups' sets in sorted batches (flushDistinct) touches each
			// set once per batch instead of once per pair.
			if pt.dpend == nil {
				pt.dpend = make([][]uint64, len(pt.feeds))
			}
			pend := pt.dpend[j]
			if pend == nil {
				pend = make([]uint64, 0, distinctBatch+len(pairs))
			}
			for _, pr := range pairs {
				kc, fc := int32(pr>>32), int32(uint32(pr))-1 // kc: key code + 1
				if fc < 0 {
					continue
				}
				var d uint64 // 0: the group of the missing key
				if kc > 0 {
					d = uint64(idxByCode[kc-1])
				}
				pend = append(pend, d<<32|uint64(f.codeID(fc)))
			}
			grew += 8 * int64(len(pend)-len(pt.dpend[j]))
			pt.dpend[j] = pend
			if len(pend) >= distinctBatch {
				grew += pt.flushDistinct(j)
			}
		}
		return ex.charge(grew)
	}
	keys := make([]Value, nb)
	var lastBin int64
	var lastG *group
	binFast := ex.binKey != nil && tsOK && bt.vals[ex.p.tsSlot] == nil
	// A group key or an aggregate argument may be any expression: the
	// rows go in chunks with a look at the context between them (see
	// cancelEvery). Each row is aggregated whole, so partial results
	// still show the rows aggregated so far.
	n := bt.n
	for lo := 0; lo < n; lo += cancelEvery {
		if err := ex.ctx.Err(); err != nil {
			return err
		}
		for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
			c.k = k
			i := int(bt.sel[k])
			var g *group
			switch {
			case nb == 0:
				if lastG == nil {
					lastG = lookup(nil)
				}
				g = lastG
			case kv != nil:
				code := kv.codes[k]
				if code < 0 {
					g = nullGroup()
					break
				}
				if g = byCode[code]; g == nil {
					str := kv.strs[code]
					g = single(vStr(str), kv.hash(code), str)
					byCode[code] = g
				}
			case binFast:
				if !tsCol.Has(i) {
					g = nullGroup()
					break
				}
				b := floorDiv(tsCol.Ints[i], ex.binKey.ms) * ex.binKey.ms
				if lastG == nil || b != lastBin {
					lastG, lastBin = byValue(vTime(b)), b
				}
				g = lastG
			case nb == 1:
				g = byValue(ex.byFns[0](c))
			default:
				for j, f := range ex.byFns {
					keys[j] = f(c)
				}
				g = lookup(keys)
			}
			if ex.allStar {
				g.star++
				continue
			}
			var tsv int64
			if tsOK {
				tsv = tsCol.Ints[i]
			}
			for j, a := range g.aggs {
				if f := pt.feeds[j]; f != nil {
					if f.col != nil {
						if id, ok := f.id(k, i, bt.timeSlot[f.slot]); ok {
							if a.(*aggDistinctID).set.add(id) {
								grew += 4
							}
						}
					}
					continue
				}
				if f := ex.aggFns[j]; f != nil {
					a.add(f(c), tsv)
				} else {
					a.add(null, tsv)
				}
			}
		}
	}
	return ex.charge(grew)
}

// encodeKey builds a map key for a tuple of group values. Values that
// render alike group together (a field that is the number 500 in one block
// and the string "500" in another is one group).
func encodeKey(b []byte, keys []Value) []byte {
	for _, k := range keys {
		if k.isNull() {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		s := k.String()
		b = append(b, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// collect keeps the batch rows for a sort pivot: the best topK under the
// sort keys (a heap with the worst row on top), or all rows. Keys are
// computed first so that lazy output columns are decoded only for the rows
// that may enter the heap.
func (ex *executor) collect(pt *part) error {
	bt := &pt.bt
	c := &pt.ectx
	nk := len(ex.sortKeys)
	keyBuf := make([]Value, 0, bt.n*nk)
	cand := pt.cand[:0]
	candRows := bt.rowsBuf2[:0]
	n := bt.n
	for lo := 0; lo < n; lo += cancelEvery {
		if err := ex.ctx.Err(); err != nil {
			pt.cand, bt.rowsBuf2 = cand, candRows
			return err
		}
		for k, hi := lo, min(lo+cancelEvery, n); k < hi; k++ {
			if ex.top != nil && ex.tooOld(bt, k) {
				continue
			}
			c.k = k
			base := len(keyBuf)
			for _, f := range ex.sortKeys {
				keyBuf = append(keyBuf, f(c))
			}
			if ex.topK > 0 && len(pt.rows) >= ex.topK && ex.cmpOnlyKeys(keyBuf[base:], pt.rows[0].keys) > 0 {
				keyBuf = keyBuf[:base]
				continue // worse than the worst kept row
			}
			cand = append(cand, k)
			candRows = append(candRows, bt.sel[k])
		}
	}
	pt.cand, bt.rowsBuf2 = cand, candRows
	if len(cand) == 0 {
		return nil
	}
	if err := ex.ensure(bt, ex.pivotSlots, candRows); err != nil {
		return err
	}
	pr := ex.ptrOr()
	var grew int64
	copied := 0
	// The candidates that enter while the heap is not full (all of them
	// without a limit) are made from one slab (see rowSlab).
	fill := len(cand)
	if ex.topK > 0 {
		fill = min(fill, max(ex.topK-len(pt.rows), 0))
	}
	sl := pt.newSlab(ex, fill, nk)
	for ci, k := range cand {
		// Every candidate is copied (and, early on or in ascending data,
		// most rows are candidates): look at the context now and then.
		if copied++; copied == cancelEvery {
			copied = 0
			if err := ex.ctx.Err(); err != nil {
				return err
			}
		}
		keys := keyBuf[ci*nk : ci*nk+nk]
		if ex.topK > 0 && len(pt.rows) >= ex.topK {
			if ex.cmpKeys(keys, pt.rows[0].keys, bt.get(pr, k), pt.rows[0].vals[pr]) >= 0 {
				continue
			}
		}
		r := sl.newRow(ex, bt, k, keys)
		sz := int64(56*(len(r.vals)+nk)) + r.strBytes
		if ex.topK > 0 {
			if len(pt.rows) >= ex.topK {
				// container/heap.Fix(h, 0)
				pt.rows[0] = r
				if !ex.heapDown(pt.rows, 0, len(pt.rows)) {
					ex.heapUp(pt.rows, 0)
				}
				continue
			}
			pt.rows = append(pt.rows, r)
			ex.heapUp(pt.rows, len(pt.rows)-1)
		} else {
			pt.rows = append(pt.rows, r)
		}
		grew += sz
	}
	return ex.charge(grew)
}

// rowSlab hands out the rows, values and string bytes of a block's
// candidates from a few allocations instead of three per row (newRow was
// about a tenth of Q1's CPU, much of it allocating). Only rows that enter
// a heap that is not full yet come from a slab, and those are at most k
// rows over the whole query (or every row, without a limit, when none is
// ever dropped), so the memory a slab keeps alive for rows pushed out
// later is at most that of one full heap. Other rows are allocated alone.
type rowSlab struct {
	rows []row
	vals []Value
	w    int // values per row: slots and keys
	str  *[]byte
}

// newSlab returns a slab for n rows with nk sort keys.
func (pt *part) newSlab(ex *executor, n, nk int) rowSlab {
	if n <= 0 {
		return rowSlab{}
	}
	w := len(ex.p.slotNames) + nk
	return rowSlab{rows: make([]row, n), vals: make([]Value, n*w), w: w, str: &pt.strSlab}
}

// strSlabSize is the size of the buffers slab rows copy their strings to.
const strSlabSize = 32 << 10

// newRow materialises batch row k for a sort pivot, from the slab while it
// has rows. The row outlives the block, so its strings are copied, all
// into one allocation (or the part's current string buffer).
func (sl *rowSlab) newRow(ex *executor, bt *batch, k int, keys []Value) *row {
	ns := len(ex.p.slotNames)
	var r *row
	if len(sl.rows) > 0 {
		r = &sl.rows[0]
		vals := sl.vals[:sl.w:sl.w]
		sl.rows, sl.vals = sl.rows[1:], sl.vals[sl.w:]
		*r = row{vals: vals[:ns:ns], keys: vals[ns:]}
	} else {
		vals := make([]Value, ns+len(keys))
		r = &row{vals: vals[:ns:ns], keys: vals[ns:]}
		sl = &rowSlab{} // strings in their own buffer too
	}
	n := 0
	for j, v := range keys {
		r.keys[j] = v
		if v.k == kStr {
			n += len(v.s)
		}
	}
	r.setIntKey()
	for _, s := range ex.live {
		v := bt.get(s, k)
		r.vals[s] = v
		if v.k == kStr {
			n += len(v.s)
		}
	}
	if n == 0 {
		return r
	}
	r.strBytes = int64(n)
	var buf []byte
	shared := sl.str != nil && n <= strSlabSize/4
	if shared {
		if cap(*sl.str)-len(*sl.str) < n {
			*sl.str = make([]byte, 0, strSlabSize)
		}
		buf = *sl.str
	} else {
		buf = make([]byte, 0, n)
	}
	own := func(v *Value) {
		if v.k == kStr && len(v.s) > 0 {
			start := len(buf)
			buf = append(buf, v.s...)
			v.s = unsafe.String(&buf[start], len(v.s))
		}
	}
	for j := range r.keys {
		own(&r.keys[j])
	}
	for _, s := range ex.live {
		own(&r.vals[s])
	}
	if shared {
		*sl.str = buf
	}
	return r
}

// cmpOnlyKeys orders by the sort keys alone (no @ptr tie-break).
func (ex *executor) cmpOnlyKeys(a, b []Value) int {
	for i, k := range ex.p.sort {
		x, y := a[i], b[i]
		switch {
		case x.isNull() && y.isNull():
			continue
		case x.isNull():
			return 1
		case y.isNull():
			return -1
		}
		c := sortCompare(x, y)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (ex *executor) ptrOr() int {
	if ex.p.ptrSlot >= 0 {
		return ex.p.ptrSlot
	}
	return ex.p.tsSlot
}

// cmpKeys orders two rows by the sort keys (nulls last either way), then by
// @ptr so results are deterministic.
func (ex *executor) cmpKeys(a, b []Value, pa, pb Value) int {
	if c := ex.cmpOnlyKeys(a, b); c != 0 {
		return c
	}
	return strings.Compare(pa.String(), pb.String())
}

// cmpRows orders two materialised rows as cmpKeys does. A single sort key
// that is an integer in both rows (the usual @timestamp) is compared
// directly: sortCompare orders two numbers that are not floats by their
// integers, so the result is the same.
func (ex *executor) cmpRows(a, b *row) int {
	pr := ex.ptrOr()
	if a.iok && b.iok {
		if a.ik != b.ik {
			c := 1
			if a.ik < b.ik {
				c = -1
			}
			if ex.p.sort[0].desc {
				c = -c
			}
			return c
		}
		return strings.Compare(ptrText(a.vals[pr]), ptrText(b.vals[pr]))
	}
	return ex.cmpKeys(a.keys, b.keys, a.vals[pr], b.vals[pr])
}

// ptrText is v.String() without the call for the usual string @ptr.
func ptrText(v Value) string {
	if v.k == kStr {
		return v.s
	}
	return v.String()
}

// setIntKey notes a single sort key that is a number other than a float
// for cmpRows.
func (r *row) setIntKey() {
	if len(r.keys) == 1 {
		switch r.keys[0].k {
		case kInt, kTime, kBool:
			r.ik, r.iok = r.keys[0].i, true
		}
	}
}

// The top-k heap of a part is pt.rows, a max-heap of the worst row first.
// heapUp and heapDown are container/heap's up and down (same steps, so the
// same heap layout and, for rows that compare equal, the same order in the
// result) without its interface calls.

// heapLess reports whether row i is worse than row j.
func (ex *executor) heapLess(rows []*row, i, j int) bool {
	return ex.cmpRows(rows[i], rows[j]) > 0
}

func (ex *executor) heapUp(rows []*row, j int) {
	for {
		i := (j - 1) / 2 // parent
		if i == j || !ex.heapLess(rows, j, i) {
			break
		}
		rows[i], rows[j] = rows[j], rows[i]
		j = i
	}
}

func (ex *executor) heapDown(rows []*row, i0, n int) bool {
	i := i0
	for {
		j1 := 2*i + 1
		if j1 >= n || j1 < 0 { // j1 < 0 after int overflow
			break
		}
		j := j1 // left child
		if j2 := j1 + 1; j2 < n && ex.heapLess(rows, j2, j1) {
			j = j2 // = 2*i + 2  // right child
		}
		if !ex.heapLess(rows, j, i) {
			break
		}
		rows[i], rows[j] = rows[j], rows[i]
		i = j
	}
	return i > i0
}

// hasVals reports whether a command has computed slot values for the
// batch rows (which a change of the selection must keep aligned).
func (b *batch) hasVals() bool {
	for _, v := range b.vals {
		if v != nil {
			return true
		}
	}
	return false
}

// intSelect keeps in sel, in place, the rows whose value in an integer
// column satisfies "op x" (rows lacking the field fail), and returns how
// many it kept: one pass over the selection, no per-row calls.
func intSelect(col *scan.Column, sel []int32, op int, x float64) int {
	ints := col.Ints
	pres := col.Present
	xi := int64(x)
	j := 0
	if (op == opEq || op == opNe) && float64(xi) == x {
		eq := op == opEq
		if pres == nil {
			for _, i := range sel {
				sel[j] = i
				if (ints[i] == xi) == eq {
					j++
				}
			}
			return j
		}
		for _, i := range sel {
			sel[j] = i
			if (ints[i] == xi) == eq && pres[i>>6]&(1<<(uint(i)&63)) != 0 {
				j++
			}
		}
		return j
	}
	for _, i := range sel {
		f := float64(ints[i])
		var ok bool
		switch op {
		case opEq:
			ok = f == x
		case opNe:
			ok = f != x
		case opLt:
			ok = f < x
		case opLe:
			ok = f <= x
		case opGt:
			ok = f > x
		case opGe:
			ok = f >= x
		}
		sel[j] = i
		if ok && (pres == nil || pres[i>>6]&(1<<(uint(i)&63)) != 0) {
			j++
		}
	}
	return j
}

// intCmp evaluates "column op constant" on an integer column, one tight
// loop per operator.
func intCmp(col *scan.Column, sel []int32, keep []bool, op int, x float64) {
	ints := col.Ints
	pres := col.Present
	xi := int64(x)
	integral := float64(xi) == x
	switch {
	case op == opEq && integral:
		for k, i := range sel {
			keep[k] = ints[i] == xi
		}
	case op == opNe && integral:
		for k, i := range sel {
			keep[k] = ints[i] != xi
		}
	default:
		for k, i := range sel {
			f := float64(ints[i])
			switch op {
			case opEq:
				keep[k] = f == x
			case opNe:
				keep[k] = f != x
			case opLt:
				keep[k] = f < x
			case opLe:
				keep[k] = f <= x
			case opGt:
				keep[k] = f > x
			case opGe:
				keep[k] = f >= x
			}
		}
	}
	if pres != nil {
		for k, i := range sel {
			if keep[k] && !pres.Get(int(i)) {
				keep[k] = false
			}
		}
	}
}

const (
	opEq = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

// viewFeeds reports whether every aggregate is a count_distinct fed
// through a key view in this block.
func (pt *part) viewFeeds() bool {
	for _, f := range pt.feeds {
		if f == nil || f.view == nil {
			return false
		}
	}
	return len(pt.feeds) > 0
}

// pairSet deduplicates the (group code, value code) pairs of one block.
type pairSet struct {
	tab []uint64 // pair+1; 0 is empty
	// dedupe32's counting sort: rows per first code, the rows' second
	// codes by first code, and per second code + 1 the bucket that last
	// listed it (gen numbers the buckets).
	cnt  []int32
	buf  []int32
	seen []uint32
	gen  uint32
	out  []uint64 // the distinct pairs of the last call
	last int      // distinct pairs of the previous block: sizes the table
}

// dedupe returns the distinct pairs (a[k]+1)<<32 | (b[k]+1) (codes are -1
// for a missing field, so 0 in a half means missing), in no promised
// order (by first code for dictionary-sized codes, else in order of first
// appearance). The result is valid until the next call.
func (ps *pairSet) dedupe(a, b []int32, na, nb int) []uint64 {
	if na < 1<<16-1 && nb < 1<<16-1 {
		return ps.dedupe32(a, b, na, nb)
	}
	size := 1024
	for size < 2*ps.last && size < 2*len(a) {
		size *= 2
	}
	if len(ps.tab) != size {
		ps.tab = make([]uint64, size)
	} else {
		clear(ps.tab)
	}
	tab, out := ps.tab, ps.out[:0]
	shift := 64 - uint(bits.TrailingZeros(uint(size)))
	mask := uint64(size - 1)
	for k, x := range a {
		v := uint64(uint32(x+1))<<32 | uint64(uint32(b[k]+1)) + 1
		for i := (v * 0x9E3779B97F4A7C15) >> shift; ; i = (i + 1) & mask {
			t := tab[i]
			if t == v {
				break
			}
			if t == 0 {
				tab[i] = v
				out = append(out, v-1)
				if 2*len(out) > len(tab) {
					// Grow: rehash the distinct pairs into a table twice as big.
					tab = make([]uint64, 2*len(tab))
					mask = uint64(len(tab) - 1)
					shift--
					for _, o := range out {
						w := o + 1
						for j := (w * 0x9E3779B97F4A7C15) >> shift; ; j = (j + 1) & mask {
							if tab[j] == 0 {
								tab[j] = w
								break
							}
						}
					}
					ps.tab = tab
				}
				break
			}
		}
	}
	ps.out, ps.last = out, len(out)
	return out
}

// dedupe32 is dedupe for codes below 65535 (a block's dictionaries):
// a counting sort of the rows by first code, then, within each code's
// bucket, a stamp per second code marks the ones already listed. Every
// step is a pass without data-dependent branches (a hash table probe per
// row mispredicted on the one row in seven that is new), and the tables
// (counts per first code, stamps per second code) stay in the nearest
// caches. The pairs come out ordered by first code.
func (ps *pairSet) dedupe32(a, b []int32, na, nb int) []uint64 {
	if cap(ps.cnt) < na+2 {
		ps.cnt = make([]int32, na+2)
	}
	cnt := ps.cnt[:na+2]
	clear(cnt)
	for _, x := range a {
		cnt[x+2]++ // x is -1 for a missing field
	}
	for i := 2; i < len(cnt); i++ {
		cnt[i] += cnt[i-1]
	}
	// cnt[x+1] is where code x's bucket starts; each row advances it, so
	// afterwards it is where the bucket ends.
	if cap(ps.buf) < len(a) {
		ps.buf = make([]int32, len(a))
	}
	buf := ps.buf[:len(a)]
	for k, x := range a {
		p := cnt[x+1]
		buf[p] = b[k]
		cnt[x+1] = p + 1
	}
	if len(ps.seen) < nb+1 {
		ps.seen = make([]uint32, nb+1)
		ps.gen = 0
	}
	seen := ps.seen
	// Room for every row: each value is written, and kept (n advanced)
	// only when its stamp was not its bucket's. Only the first n
	// elements are ever touched beyond the last bucket's.
	if cap(ps.out) < len(a) {
		ps.out = make([]uint64, len(a))
	}
	out := ps.out[:len(a)]
	n := 0
	start := int32(0)
	for x := -1; x < na; x++ {
		end := cnt[x+1]
		if end == start {
			continue
		}
		ps.gen++
		if ps.gen == 0 {
			clear(seen)
			ps.gen = 1
		}
		g := ps.gen
		bucket := buf[start:end]
		start = end
		hi := uint64(uint32(x+1)) << 32
		for _, y := range bucket {
			s := seen[y+1]
			seen[y+1] = g
			out[n] = hi | uint64(uint32(y+1))
			d := s ^ g
			n += int((d | -d) >> 31) // 1 when s != g
		}
	}
	out = out[:n]
	ps.last = n
	return out
}

// distinctBatch is how many (group, id) pairs a worker buffers per
// count_distinct before adding them to the groups' sets.
var distinctBatch = 1 << 18 // a variable for tests

// flushDistinct adds the buffered pairs of aggregate j to the groups' sets,
// ordered by group (one counting pass) so that each group's set is filled
// in one run, and returns the change in memory held. The ids of a group
// need no order: its set rejects the ones it holds.
func (pt *part) flushDistinct(j int) int64 {
	if j >= len(pt.dpend) || len(pt.dpend[j]) == 0 {
		return 0
	}
	pend := pt.dpend[j]
	ng := len(pt.gs.single) + 1 // group 0 is the missing key's
	if cap(pt.groupCnt) < ng+1 {
		pt.groupCnt = make([]int32, ng+1)
	}
	cnt := pt.groupCnt[:ng+1]
	clear(cnt)
	for _, v := range pend {
		cnt[v>>32+1]++
	}
	for i := 1; i < len(cnt); i++ {
		cnt[i] += cnt[i-1]
	}
	if cap(pt.radixBuf) < len(pend) {
		pt.radixBuf = make([]uint64, len(pend))
	}
	sorted := pt.radixBuf[:len(pend)]
	for _, v := range pend {
		d := v >> 32
		sorted[cnt[d]] = v
		cnt[d]++
	}
	pt.radixBuf = pend // the buffers swap roles
	grew := -8 * int64(len(pend))
	lastG := ^uint64(0)
	var set *idSet
	for _, v := range sorted {
		if d := v >> 32; d != lastG {
			lastG = d
			g := pt.gs.null
			if d != 0 {
				g = pt.gs.single[d-1]
			}
			set = &g.aggs[j].(*aggDistinctID).set
		}
		if set.add(uint32(v)) {
			grew += 4
		}
	}
	pt.dpend[j] = sorted[:0]
	return grew
}

// flushAllDistinct flushes every count_distinct buffer of the worker.
func (pt *part) flushAllDistinct() int64 {
	var grew int64
	for j := range pt.dpend {
		grew += pt.flushDistinct(j)
	}
	return grew
}

// prefetchBatch is how many lookups are prepared at once: enough to keep
// the memory system busy, few enough that the lines stay in cache.
const prefetchBatch = 32
