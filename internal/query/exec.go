package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// DefaultLimit is the number of rows returned when neither the query nor
// the caller sets a limit (StartQuery's default).
const DefaultLimit = 10000

// cancelEvery is how many rows a per-row loop that evaluates expressions
// (filters, fields, parse, unnest, stats keys and arguments, sort keys)
// runs between two looks at the query's context, so that StopQuery or
// Ctrl-C takes effect within a block rather than after it: a block of the
// store holds about 115,000 rows, and a regex or parse over @message can
// take a second per block. The loops run in chunks of cancelEvery rows
// with the check between chunks, so rows pay nothing; the check is
// ctx.Err(), an atomic load for the standard library's contexts (Go 1.26),
// which against 1024 rows of expression work (tens of ns a row at the
// least) is lost in the noise. It is synchronous with cancel, unlike a
// flag set from a goroutine waiting on ctx.Done(), so a query cancelled
// mid-block stops within one chunk per worker, deterministically, and
// there is no goroutine or context.AfterFunc to tear down. Loops over
// plain columns (time range, integer comparisons, presence, key codes)
// cost a few ns a row, about 1 ms a block, and are not chunked.
//
// It is a variable only so that BenchmarkCancelChecks can switch the
// checks off in the same binary (same code layout) to measure their cost.
var cancelEvery = 1024

// execHook, when set (by tests only), is called with each query's
// executor once it is compiled, before the scan starts.
var execHook func(ex *executor)

// DefaultMemoryLimit bounds the memory a query may hold in rows and groups.
const DefaultMemoryLimit = 1 << 30

// Options control one execution.
type Options struct {
	Account string
	Groups  []string // log groups; empty means the SOURCE command's groups
	// Start (inclusive) and End (exclusive) bound @timestamp in epoch ms;
	// zero means unbounded on that side.
	Start, End int64
	// Limit caps the result rows (StartQuery limit); 0 means DefaultLimit.
	Limit int
	// Workers is how many blocks are evaluated at once; 0 means 2.
	Workers int
	// MemoryLimit bounds the bytes held in result rows and groups; 0 means
	// DefaultMemoryLimit, negative means no limit.
	MemoryLimit int64
	// Progress, when set, is called from time to time with the statistics
	// so far (from a scan goroutine; it must not block for long).
	Progress func(Stats)
	// Partial, when set, is called while the query runs with the rows a
	// client would see if the query stopped now (final order, capped at the
	// limit, the commands after sort/stats applied) and the statistics so
	// far: GetQueryResults shows them with status Running. It is called
	// from one goroutine of the query, never concurrently with itself and
	// never after Run returns, and only when blocks were read since the
	// previous call. The callee may keep the rows but must not modify
	// them: later calls share the rows that did not change.
	//
	// Cost: for sort/top-k queries only the rows that entered the top-k
	// since the previous call are sorted (then merged) and rendered; a
	// stats query copies and merges the workers' groups, which is
	// proportional to the groups held (count_distinct sets included). To
	// keep that small against the scan, the next call waits at least ten
	// times as long as the last one took.
	Partial func(rows [][]Field, st Stats)
	// PartialEvery is the least time between two Partial calls; 0 means
	// DefaultPartialEvery.
	PartialEvery time.Duration
}

// DefaultPartialEvery is how often Options.Partial is called by default.
const DefaultPartialEvery = 200 * time.Millisecond

// Stats are the query statistics GetQueryResults reports.
type Stats struct {
	RecordsMatched float64
	RecordsScanned float64
	BytesScanned   float64
	// Records and bytes of blocks the store ruled out from their metadata
	// (time range aside) without reading them; recordsScanned does not
	// count them.
	EstimatedRecordsSkipped float64
	EstimatedBytesSkipped   float64
}

// Field is one cell of a result row; every value is a string.
type Field struct {
	Name  string `json:"field"`
	Value string `json:"value"`
}

// Result is a query's answer. Rows omit the fields a record lacks; non-stats
// rows end with @ptr.
type Result struct {
	Fields []string // every column that can appear, in order
	Rows   [][]Field
	Stats  Stats
}

// ErrMemoryLimit is returned (wrapped) when a query would hold more than
// Options.MemoryLimit bytes.
var ErrMemoryLimit = errors.New("query exceeds its memory limit")

// Run executes q over src.
func Run(ctx context.Context, src scan.Source, q *Query, opt Options) (*Result, error) {
	p := q.plan
	if p == nil {
		return nil, errors.New("query: Run needs a query from Parse")
	}
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	memLimit := opt.MemoryLimit
	if memLimit == 0 {
		memLimit = DefaultMemoryLimit
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = 2
	}
	groups := opt.Groups
	if len(groups) == 0 && q.Source != nil {
		groups = q.Source.Groups
	}
	if len(groups) == 0 {
		return nil, errors.New("query: no log group to query (give Options.Groups or a SOURCE command naming groups)")
	}
	start, end := scan.MinTime, scan.MaxTime
	if q.Source != nil && q.Source.HasStart {
		start = q.Source.Start
	}
	if q.Source != nil && q.Source.HasEnd && q.Source.End < math.MaxInt64 {
		end = q.Source.End + 1 // SOURCE END= is inclusive
	}
	if opt.Start != 0 {
		start = opt.Start
	}
	if opt.End != 0 {
		end = opt.End
	}

	ex := &executor{ctx: ctx, p: p, start: start, end: end, memLimit: memLimit, limit: limit}
	ex.prepare()
	if execHook != nil {
		execHook(ex)
	}
	req := &scan.Request{
		Account: opt.Account,
		Groups:  groups,
		Start:   start,
		End:     end,
		Hints:   ex.hints(),
		Workers: workers,
		Skipped: func(records, bytes int64) {
			ex.skipped.Add(records)
			ex.skippedBytes.Add(bytes)
		},
		Filtered: func(records, bytes int64) {
			ex.scanned.Add(records)
			ex.bytes.Add(bytes)
		},
	}
	for _, s := range p.srcSlots {
		req.Columns = append(req.Columns, p.slotNames[s])
	}
	for _, s := range p.srcSlots {
		if ex.lazy[s] {
			req.Lazy = append(req.Lazy, p.slotNames[s])
		}
	}
	ex.parts = make([]*part, workers)
	for i := range ex.parts {
		ex.parts[i] = ex.newPart()
	}
	var blocks atomic.Int64
	stopPartial := ex.startPartial(&opt, &blocks)
	fn := func(w int, b *scan.Block) error {
		if w < 0 || w >= len(ex.parts) {
			return fmt.Errorf("query: source used worker index %d of %d", w, len(ex.parts))
		}
		pt := ex.parts[w]
		if opt.Partial != nil {
			// The partial-results goroutine reads the part between blocks.
			pt.mu.Lock()
		}
		err := ex.block(pt, b)
		if opt.Partial != nil {
			pt.mu.Unlock()
		}
		if err != nil {
			return err
		}
		if n := blocks.Add(1); opt.Progress != nil && n%64 == 0 {
			opt.Progress(ex.stats())
		}
		return ctx.Err()
	}
	if ex.newestFirst() {
		req.Descending = true
		ex.top = newTopTimes(ex.topK)
	}
	err := src.Scan(ctx, req, fn)
	stopPartial()
	if err == nil {
		// Stopped after the last block: merging and sorting many groups
		// or rows can take a while, and the caller no longer wants them.
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	rows, err := ex.finish()
	if err != nil {
		return nil, err
	}
	res := &Result{Stats: ex.stats()}
	if len(rows) > limit {
		rows = rows[:limit]
	}
	for _, c := range p.out {
		res.Fields = append(res.Fields, c.name)
	}
	if p.ptrOut {
		res.Fields = append(res.Fields, "@ptr")
	}
	res.Rows = make([][]Field, 0, len(rows))
	// All rows' fields in one array (a row's slice is capped at its own
	// fields, so appending to it cannot overwrite the next row's).
	buf := make([]Field, 0, len(rows)*(len(p.out)+1))
	for _, r := range rows {
		start := len(buf)
		buf = ex.appendRender(buf, r)
		res.Rows = append(res.Rows, buf[start:len(buf):len(buf)])
	}
	return res, nil
}

// render turns a row of values into the result fields: the output columns
// the record has, then @ptr.
func (ex *executor) render(r []Value) []Field {
	return ex.appendRender(make([]Field, 0, len(ex.p.out)+1), r)
}

// appendRender appends render's fields for r to out.
func (ex *executor) appendRender(out []Field, r []Value) []Field {
	p := ex.p
	for _, c := range p.out {
		if v := r[c.slot]; !v.isNull() {
			out = append(out, Field{c.name, v.String()})
		}
	}
	if p.ptrOut {
		if v := r[p.ptrSlot]; !v.isNull() {
			out = append(out, Field{"@ptr", v.String()})
		}
	}
	return out
}

// Fields returns the column names of a query's result in order, @ptr last
// for non-stats queries.
func (q *Query) Fields() []string {
	var out []string
	for _, c := range q.plan.out {
		out = append(out, c.name)
	}
	if q.plan.ptrOut {
		out = append(out, "@ptr")
	}
	return out
}

// IsStats reports whether the query's rows are aggregates (no @ptr).
func (q *Query) IsStats() bool { return q.plan.isStats }

// executor holds the compiled pipeline shared by the workers.
type executor struct {
	// ctx is the query's context, checked inside a block's per-row loops
	// (see cancelEvery) as well as between blocks.
	ctx        context.Context
	p          *plan
	start, end int64
	memLimit   int64
	limit      int
	mem        atomic.Int64

	ops      []streamOp
	sortKeys []evalFn
	live     []int // slots copied into materialised rows
	topK     int

	// stats pivot
	byFns   []evalFn
	aggFns  []evalFn
	itemFns []evalFn
	dictKey int     // slot of a single dictionary-coded group key, or -1
	binKey  *period // single bin() group key on @timestamp, or nil

	parts []*part

	// Lazy columns: decoded through Block.Load only for the rows that reach
	// the command reading them.
	lazy       []bool  // per slot
	opSlots    [][]int // source slots each stream op reads
	keySlots   []int   // source slots the sort keys read
	pivotSlots []int   // source slots the stats read, or the live slots of a sort
	allStar    bool    // every aggregate is count(*)
	// distinctSlot is, per aggregate, the source slot a count_distinct
	// reads directly (fed through interned ids), or -1.
	distinctSlot []int

	scanned, matched, bytes atomic.Int64
	skipped, skippedBytes   atomic.Int64 // blocks the store left unread (hints)

	// top is the shared bound of a top-k on @timestamp descending (see
	// topk.go), or nil.
	top *topTimes
}

// part is one worker's partial state.
type part struct {
	// mu is held by the worker while it evaluates a block, when partial
	// results are on, so that the partial-results goroutine can read the
	// groups and rows between blocks.
	mu        sync.Mutex
	bt        batch
	gs        groupSet
	keyBuf    []byte
	rows      []*row // collected or heap-ordered rows
	ectx      ectx
	cand      []int
	tsBuf     []int64         // a block's matched timestamps for ex.top
	feeds     []*distinctFeed // per aggregate: count_distinct fed with ids, or nil
	views     []keyView       // per slot: codes of a string column for the block
	nblk      uint64          // blocks aggregated, stamps views
	byCode    []*group        // per view code of the single group key
	pairs     pairSet         // count_distinct fast path: a block's distinct pairs
	todo      []int32         // codes to resolve, in batches
	idxByCode []int32         // count_distinct fast path: 1 + gs.single index per key code
	sink      uint64          // prefetch loads land here so they are not optimised away
	// count_distinct fast path: per aggregate, buffered (group, id) pairs,
	// the group as 1 + its index in gs.single or 0 for the missing key;
	// see flushDistinct.
	dpend    [][]uint64
	radixBuf []uint64
	groupCnt []int32 // flushDistinct: pairs per group
	strSlab  []byte  // string bytes of slab rows (see rowSlab)
}

type group struct {
	keys []Value
	aggs []aggState
	star int64 // rows counted while every aggregate is count(*)
}

type row struct {
	vals []Value
	keys []Value
	// Used only by the partial-results goroutine (the worker never touches
	// them after creating the row): the generation of the last partial
	// that saw the row, and its rendered fields.
	seen     uint32
	rendered []Field
	strBytes int64 // bytes of the row's copied strings
	// ik is the single sort key when iok: an integer, time or boolean
	// (see cmpRows).
	ik  int64
	iok bool
}

func (ex *executor) newPart() *part {
	pt := &part{gs: groupSet{byKey: map[string]*group{}}}
	pt.ectx.one = -1
	return pt
}

// streamOp is a compiled per-record command.
type streamOp struct {
	c        *Command
	conj     []conjunct // filter
	itemFns  []evalFn   // fields/display
	noop     []bool
	allNoop  bool   // fields/display naming source fields only
	fieldFn  evalFn // parse/unnest source
	readOnly bool
}

// conjunct is one ANDed part of a filter. When it reads a single source
// slot it is evaluated per distinct dictionary entry or with typed loops.
type conjunct struct {
	fn     evalFn
	single int // the one slot read, or -1
	// integer comparison fast path: slot op constant
	cmpCode int
	cmpC    float64
	isCmp   bool
	present bool  // ispresent(field): the presence bitmap decides
	slots   []int // slots read, decoded (when lazy) just before it runs
	cost    int   // evaluation order within the filter, cheapest first
}

// conjCost ranks a filter's conjuncts so that cheap, typically selective
// tests run first and the columns of the later ones are decoded only for
// the rows still selected: presence, integer comparisons, other tests of
// one field, substring and regex tests, then tests of several fields.
func conjCost(cj *conjunct, e Expr) int {
	switch {
	case cj.present:
		return 0
	case cj.isCmp:
		return 1
	case cj.single >= 0:
		if _, ok := unparen(e).(*match); ok {
			return 3
		}
		return 2
	}
	return 4
}

func (ex *executor) prepare() {
	p := ex.p
	written := map[int]bool{}
	for _, c := range p.stream {
		op := streamOp{c: c}
		switch c.kind {
		case cFilter:
			for _, e := range splitAnd(c.expr) {
				cj := conjunct{fn: compile(e), single: -1}
				if s, ok := singleSlot(e); ok && !written[s] {
					cj.single = s
					if cl, ok := unparen(e).(*call); ok && cl.name == "ispresent" && len(cl.args) == 1 {
						if r, ok := unparen(cl.args[0]).(*ref); ok && r.path == nil {
							cj.present = true
						}
					}
					if b, ok := unparen(e).(*binary); ok {
						if r, ok := unparen(b.l).(*ref); ok && r.path == nil {
							if l, ok := unparen(b.r).(*lit); ok && l.v.isNum() {
								switch b.op {
								case "=", "!=", "<", "<=", ">", ">=":
									cj.isCmp = true
									cj.cmpCode = map[string]int{"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}[b.op]
									cj.cmpC, _ = l.v.num()
								}
							}
						}
					}
				}
				slotsOf(e, &cj.slots)
				cj.cost = conjCost(&cj, e)
				op.conj = append(op.conj, cj)
			}
			slices.SortStableFunc(op.conj, func(a, b conjunct) int { return a.cost - b.cost })
		case cFields, cDisplay:
			for _, it := range c.items {
				op.itemFns = append(op.itemFns, compile(it.expr))
				r, isRef := it.expr.(*ref)
				op.noop = append(op.noop, isRef && r.path == nil && r.slot == it.slot)
				written[it.slot] = true
			}
			op.allNoop = !slices.Contains(op.noop, false)
		case cParse:
			op.fieldFn = compile(c.field)
			for _, s := range c.slots {
				written[s] = true
			}
		case cUnnest:
			op.fieldFn = compile(c.field)
			written[c.intoS] = true
		}
		ex.ops = append(ex.ops, op)
	}
	switch p.pivot {
	case pivotSort:
		for _, k := range p.sort {
			ex.sortKeys = append(ex.sortKeys, compile(k.expr))
		}
		ex.topK = p.topK
		if ex.topK < 0 {
			ex.topK = ex.limit
		}
		// Rows keep what the output and the later commands read.
		live := map[int]bool{p.tsSlot: true}
		for _, c := range p.out {
			live[c.slot] = true
		}
		if p.ptrSlot >= 0 {
			live[p.ptrSlot] = true
		}
		for _, c := range p.post {
			for _, s := range cmdSlots(c) {
				live[s] = true
			}
		}
		for s := range live {
			ex.live = append(ex.live, s)
		}
		slices.Sort(ex.live)
	case pivotStats:
		st := p.stats
		ex.dictKey = -1
		for _, it := range st.by {
			ex.byFns = append(ex.byFns, compile(it.expr))
		}
		if len(st.by) == 1 {
			if r, ok := unparen(st.by[0].expr).(*ref); ok && r.path == nil && !written[r.slot] && slices.Contains(p.srcSlots, r.slot) {
				ex.dictKey = r.slot
			}
			if cl, ok := unparen(st.by[0].expr).(*call); ok && cl.name == "bin" && !written[p.tsSlot] {
				if per, ok := cl.args[1].(*period); ok && per.months == 0 {
					ex.binKey = per
				}
			}
		}
		for _, a := range st.aggs {
			ds := -1
			if a.star || len(a.args) == 0 {
				ex.aggFns = append(ex.aggFns, nil)
			} else {
				ex.aggFns = append(ex.aggFns, compile(a.args[0]))
				if r, ok := unparen(a.args[0]).(*ref); ok && a.name == "count_distinct" && r.path == nil && !written[r.slot] && slices.Contains(p.srcSlots, r.slot) {
					ds = r.slot
				}
			}
			ex.distinctSlot = append(ex.distinctSlot, ds)
		}
		for _, it := range st.items {
			ex.itemFns = append(ex.itemFns, compile(it.expr))
		}
		ex.allStar = true
		for _, a := range st.aggs {
			if !(a.name == "count" && (a.star || len(a.args) == 0)) {
				ex.allStar = false
			}
		}
	}
	ex.planLazy()
}

// planLazy decides which source columns are decoded up front (the
// timestamp and what the first command reads) and which on demand.
func (ex *executor) planLazy() {
	p := ex.p
	isSrc := make([]bool, len(p.slotNames))
	for _, s := range p.srcSlots {
		isSrc[s] = true
	}
	srcOf := func(slots []int) []int {
		var out []int
		for _, s := range slots {
			if isSrc[s] && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range p.stream {
		ex.opSlots = append(ex.opSlots, srcOf(cmdSlots(c)))
	}
	// The timestamp is decoded up front unless only stats read, and they
	// do not need it: then it is loaded only for blocks that straddle the
	// time range (see block).
	tsEager := true
	switch p.pivot {
	case pivotStats:
		st := cmdSlots(p.stats)
		tsEager = slices.Contains(st, p.tsSlot)
		for _, a := range p.stats.aggs {
			if a.name == "earliest" || a.name == "latest" {
				tsEager = true // they read each row's time
			}
		}
		if tsEager {
			st = append(st, p.tsSlot)
		}
		ex.pivotSlots = srcOf(st)
	case pivotSort:
		// Newest first, most blocks are only filtered (topk.go): their
		// timestamps are not needed unless they straddle the time range.
		tsEager = !ex.newestFirst()
		var ks []int
		for _, k := range p.sort {
			slotsOf(k.expr, &ks)
		}
		ex.keySlots = srcOf(ks)
		ex.pivotSlots = srcOf(ex.live)
	}
	eager := map[int]bool{p.tsSlot: tsEager}
	first := ex.pivotSlots
	if len(ex.opSlots) > 0 {
		first = ex.opSlots[0]
		if len(ex.ops[0].conj) > 0 {
			// A filter decodes each conjunct's columns when it comes to it.
			first = srcOf(ex.ops[0].conj[0].slots)
		}
	} else if p.pivot == pivotSort {
		first = ex.keySlots
	}
	for _, s := range first {
		eager[s] = true
	}
	ex.lazy = make([]bool, len(p.slotNames))
	for _, s := range p.srcSlots {
		ex.lazy[s] = !eager[s]
	}
}

// cmdSlots lists the slots a command reads or writes.
func cmdSlots(c *Command) []int {
	var out []int
	var exprs []Expr
	switch c.kind {
	case cFields, cDisplay, cStats:
		for _, it := range append(append([]*item(nil), c.items...), c.by...) {
			exprs = append(exprs, it.expr)
			out = append(out, it.slot)
		}
		for _, a := range c.aggs {
			exprs = append(exprs, a.args...)
		}
	case cFilter:
		exprs = append(exprs, c.expr)
	case cSort:
		for _, k := range c.sort {
			exprs = append(exprs, k.expr)
		}
	case cDedup:
		exprs = append(exprs, c.dedup...)
	case cParse:
		exprs = append(exprs, c.field)
		out = append(out, c.slots...)
	case cUnnest, cUnmask:
		exprs = append(exprs, c.field)
		if c.kind == cUnnest {
			out = append(out, c.intoS)
		}
	}
	for _, e := range exprs {
		slotsOf(e, &out)
	}
	return out
}

func slotsOf(e Expr, out *[]int) {
	switch x := e.(type) {
	case *ref:
		*out = append(*out, x.slot)
	case *paren:
		slotsOf(x.x, out)
	case *unary:
		slotsOf(x.x, out)
	case *binary:
		slotsOf(x.l, out)
		slotsOf(x.r, out)
	case *match:
		slotsOf(x.x, out)
	case *inList:
		slotsOf(x.x, out)
	case *call:
		for _, a := range x.args {
			slotsOf(a, out)
		}
	case *aggCall:
		for _, a := range x.args {
			slotsOf(a, out)
		}
	}
}

func splitAnd(e Expr) []Expr {
	if b, ok := unparen(e).(*binary); ok && b.op == "and" {
		return append(splitAnd(b.l), splitAnd(b.r)...)
	}
	return []Expr{e}
}

// singleSlot reports the one slot e reads (whole value, no JSON path).
func singleSlot(e Expr) (int, bool) {
	var refs []*ref
	var walk func(Expr) bool
	walk = func(e Expr) bool {
		switch x := e.(type) {
		case *ref:
			if x.path != nil {
				return false
			}
			refs = append(refs, x)
		case *paren:
			return walk(x.x)
		case *unary:
			return walk(x.x)
		case *binary:
			return walk(x.l) && walk(x.r)
		case *match:
			return walk(x.x)
		case *inList:
			return walk(x.x)
		case *call:
			for _, a := range x.args {
				if !walk(a) {
					return false
				}
			}
		case *aggCall:
			return false
		}
		return true
	}
	if !walk(e) || len(refs) == 0 {
		return 0, false
	}
	for _, r := range refs[1:] {
		if r.slot != refs[0].slot {
			return 0, false
		}
	}
	return refs[0].slot, true
}

// hints derives block-skipping predicates from the leading filters.
func (ex *executor) hints() []scan.Hint {
	var hs []scan.Hint
	written := map[int]bool{}
	src := map[int]bool{}
	for _, s := range ex.p.srcSlots {
		src[s] = true
	}
	for _, c := range ex.p.stream {
		switch c.kind {
		case cFilter:
			for _, e := range splitAnd(c.expr) {
				if h, ok := hintOf(e); ok {
					s := ex.p.slotIdx[h.Field]
					if src[s] && !written[s] && !strings.HasPrefix(h.Field, "@") {
						hs = append(hs, h)
					}
				}
			}
		case cFields, cDisplay:
			for _, it := range c.items {
				written[it.slot] = true
			}
		case cParse:
			for _, s := range c.slots {
				written[s] = true
			}
		case cUnnest:
			written[c.intoS] = true
		}
	}
	return hs
}

func hintOf(e Expr) (scan.Hint, bool) {
	e = unparen(e)
	switch x := e.(type) {
	case *binary:
		r, ok := unparen(x.l).(*ref)
		l, ok2 := unparen(x.r).(*lit)
		if !ok || !ok2 || r.path != nil {
			return scan.Hint{}, false
		}
		switch x.op {
		case "=":
			if l.v.k == kStr {
				return scan.Hint{Op: scan.HintEq, Field: r.name, Str: l.v.s}, true
			}
			f, _ := l.v.num()
			return scan.Hint{Op: scan.HintEq, Field: r.name, Num: f, IsNum: true, Str: l.v.String()}, true
		case "<", "<=", ">", ">=":
			f, ok := l.v.num()
			if !ok || l.v.k == kStr {
				return scan.Hint{}, false
			}
			h := scan.Hint{Op: scan.HintRange, Field: r.name, Lo: math.Inf(-1), Hi: math.Inf(1)}
			if x.op[0] == '<' {
				h.Hi = f
			} else {
				h.Lo = f
			}
			return h, true
		}
	case *match:
		r, ok := unparen(x.x).(*ref)
		if ok && r.path == nil && !x.not && x.re == nil {
			return scan.Hint{Op: scan.HintContains, Field: r.name, Str: x.sub}, true
		}
	case *inList:
		r, ok := unparen(x.x).(*ref)
		if ok && r.path == nil && !x.not {
			h := scan.Hint{Op: scan.HintIn, Field: r.name}
			for _, v := range x.list {
				h.Set = append(h.Set, v.String())
			}
			return h, true
		}
	case *call:
		if x.name == "ispresent" && len(x.args) == 1 {
			if r, ok := unparen(x.args[0]).(*ref); ok && r.path == nil {
				return scan.Hint{Op: scan.HintPresent, Field: r.name}, true
			}
		}
	}
	return scan.Hint{}, false
}

func (ex *executor) stats() Stats {
	return Stats{
		RecordsMatched: float64(ex.matched.Load()),
		RecordsScanned: float64(ex.scanned.Load()),
		BytesScanned:   float64(ex.bytes.Load()),

		EstimatedRecordsSkipped: float64(ex.skipped.Load()),
		EstimatedBytesSkipped:   float64(ex.skippedBytes.Load()),
	}
}

func (ex *executor) charge(n int64) error {
	if ex.memLimit < 0 {
		return nil
	}
	if ex.mem.Add(n) > ex.memLimit {
		return fmt.Errorf("%w: it would hold more than %d MiB of rows and groups; narrow the time range, add a filter or lower the limit", ErrMemoryLimit, ex.memLimit>>20)
	}
	return nil
}
