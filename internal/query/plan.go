package query

import (
	"slices"
	"strings"
)

// plan is the resolved form of a query: every field name is bound to a
// slot of the row, and the pipeline is split into the part that runs on
// column blocks in parallel (stream), the pivot that merges the workers
// (stats, top-k or sort) and the rest, run on the merged rows (post).
type plan struct {
	slotNames []string
	slotIdx   map[string]int
	timeSlot  []bool // slots holding @timestamp/@ingestionTime from the source
	srcSlots  []int  // slots loaded from source columns

	tsSlot, ptrSlot, msgSlot int
	ptrOut                   bool // @ptr is appended to each result row

	stream []*Command
	pivot  pivotKind
	stats  *Command   // pivotStats
	sort   []sortKey  // pivotSort
	topK   int        // pivotSort: keep only this many rows; -1 = the final limit; 0 = all
	post   []*Command // after the pivot

	out     []outCol
	isStats bool // the result rows are stats rows (no @ptr)
	binDesc bool // stats without sort whose first key is bin(): newest bucket first
}

type pivotKind uint8

const (
	pivotSort pivotKind = iota + 1
	pivotStats
)

type outCol struct {
	name string
	slot int
}

type resolver struct {
	p       *plan
	defined map[string]bool // names set by earlier commands
	post    bool            // after a stats: only its outputs exist
	src     map[int]bool
}

func (r *resolver) slot(name string) int {
	if s, ok := r.p.slotIdx[name]; ok {
		return s
	}
	s := len(r.p.slotNames)
	r.p.slotNames = append(r.p.slotNames, name)
	r.p.slotIdx[name] = s
	r.p.timeSlot = append(r.p.timeSlot, false)
	return s
}

// srcSlot binds name to a source column.
func (r *resolver) srcSlot(name string) int {
	s := r.slot(name)
	if !r.src[s] {
		r.src[s] = true
		r.p.srcSlots = append(r.p.srcSlots, s)
		if name == "@timestamp" || name == "@ingestionTime" {
			r.p.timeSlot[s] = true
		}
	}
	return s
}

func (r *resolver) define(name string) int {
	r.defined[name] = true
	return r.slot(name)
}

func (r *resolver) ref(x *ref) {
	if r.defined[x.name] {
		x.slot = r.slot(x.name)
		return
	}
	// A dotted name whose prefix was defined by a command (jsonParse
	// result, unnest element) is a path into that value.
	for i := len(x.name) - 1; i > 0; i-- {
		if x.name[i] == '.' && r.defined[x.name[:i]] {
			x.slot = r.slot(x.name[:i])
			x.path = strings.Split(x.name[i+1:], ".")
			return
		}
	}
	if r.post {
		x.slot = r.slot(x.name) // absent after stats: always null
		return
	}
	x.slot = r.srcSlot(x.name)
}

func (r *resolver) expr(e Expr) {
	switch x := e.(type) {
	case *ref:
		r.ref(x)
	case *paren:
		r.expr(x.x)
	case *unary:
		r.expr(x.x)
	case *binary:
		r.expr(x.l)
		r.expr(x.r)
	case *match:
		r.expr(x.x)
	case *inList:
		r.expr(x.x)
	case *call:
		if x.name == "bin" && len(x.args) == 1 {
			ts := &ref{pos: x.pos, name: "@timestamp"}
			x.args = []Expr{ts, x.args[0]}
			x.fn = funcDefs["datefloor"]
		}
		for _, a := range x.args {
			r.expr(a)
		}
	case *aggCall:
		for _, a := range x.args {
			r.expr(a)
		}
	}
}

// refsOf lists the field names an expression reads.
func refsOf(e Expr, out *[]string) {
	switch x := e.(type) {
	case *ref:
		*out = append(*out, x.name)
	case *paren:
		refsOf(x.x, out)
	case *unary:
		refsOf(x.x, out)
	case *binary:
		refsOf(x.l, out)
		refsOf(x.r, out)
	case *match:
		refsOf(x.x, out)
	case *inList:
		refsOf(x.x, out)
	case *call:
		if x.name == "bin" {
			*out = append(*out, "@timestamp")
		}
		for _, a := range x.args {
			refsOf(a, out)
		}
	case *aggCall:
		for _, a := range x.args {
			refsOf(a, out)
		}
	}
}

// hoistFilters moves a filter that follows stats but reads none of the
// stats outputs to just before that stats. The AWS WorkMail blog's query
// `stats count(*) as c by event.recipient | filter event.eventName = "X"`
// relies on this: it returns per-recipient counts of X events.
func hoistFilters(cmds []*Command) []*Command {
	for i := 0; i < len(cmds); i++ {
		if cmds[i].kind != cStats {
			continue
		}
		outs := map[string]bool{}
		for _, it := range cmds[i].by {
			outs[it.name] = true
		}
		for _, it := range cmds[i].items {
			outs[it.name] = true
		}
		for j := i + 1; j < len(cmds) && cmds[j].kind != cStats; j++ {
			c := cmds[j]
			if c.kind == cFields || c.kind == cDisplay || c.kind == cParse || c.kind == cUnnest || c.kind == cLimit || c.kind == cDedup {
				break
			}
			if c.kind != cFilter {
				continue
			}
			var names []string
			refsOf(c.expr, &names)
			usesOut := len(names) == 0
			for _, n := range names {
				for o := range outs {
					if n == o || strings.HasPrefix(n, o+".") {
						usesOut = true
					}
				}
			}
			if usesOut {
				continue
			}
			// Move cmds[j] to position i.
			copy(cmds[i+1:j+1], cmds[i:j])
			cmds[i] = c
			i++
		}
	}
	return cmds
}

func isStreamCmd(k cmdKind) bool {
	switch k {
	case cFilter, cFields, cDisplay, cParse, cUnnest, cUnmask:
		return true
	}
	return false
}

// resolve binds names to slots, checks command order and builds the plan.
func resolve(q *Query) error {
	p := &plan{slotIdx: map[string]int{}}
	r := &resolver{p: p, defined: map[string]bool{}, src: map[int]bool{}}
	p.tsSlot = r.srcSlot("@timestamp")
	cmds := hoistFilters(append([]*Command(nil), q.Commands...))

	var fieldsOut []*item // accumulated fields items (no display)
	var displayOut []*item
	var statsOut []*item
	sawStats := false
	for i, c := range cmds {
		switch c.kind {
		case cDedup:
			for _, n := range cmds[i+1:] {
				if n.kind != cLimit {
					return errAt(q.Text, n.Pos, n.End, "only limit may follow dedup, found "+n.Name())
				}
			}
		}
		switch c.kind {
		case cFields, cDisplay:
			for _, it := range c.items {
				r.expr(it.expr)
			}
			for _, it := range c.items {
				it.slot = r.define(it.name)
			}
			if c.kind == cDisplay {
				displayOut = c.items
			} else {
				fieldsOut = append(fieldsOut, c.items...)
			}
		case cFilter:
			r.expr(c.expr)
		case cSort:
			for _, k := range c.sort {
				r.expr(k.expr)
			}
		case cDedup:
			for _, e := range c.dedup {
				r.expr(e)
			}
		case cUnmask:
			r.expr(c.field)
		case cParse:
			r.expr(c.field)
			c.slots = make([]int, len(c.names))
			for j, n := range c.names {
				c.slots[j] = r.define(n)
			}
		case cUnnest:
			r.expr(c.field)
			c.intoS = r.define(c.into)
		case cStats:
			for _, it := range c.by {
				r.expr(it.expr)
			}
			// Aggregate arguments read the records; the items themselves
			// are evaluated over the aggregate results and earlier aliases.
			var aggs []*aggCall
			for _, it := range c.items {
				collectAggs(it.expr, &aggs)
			}
			if len(aggs) == 0 {
				return errAt(q.Text, c.Pos, c.End, "stats needs at least one aggregate function such as count(*)")
			}
			for j, a := range aggs {
				a.idx = j
				for _, x := range a.args {
					r.expr(x)
				}
			}
			c.aggs = aggs
			r.defined = map[string]bool{}
			r.post = true
			for _, it := range c.by {
				it.slot = r.define(it.name)
			}
			for _, it := range c.items {
				resolveOutside(r, it.expr)
				it.slot = r.define(it.name)
			}
			statsOut = append(append([]*item(nil), c.by...), c.items...)
			fieldsOut, displayOut = nil, nil
			sawStats = true
		}
	}
	p.isStats = sawStats
	switch {
	case displayOut != nil:
		p.out = outCols(displayOut)
	case fieldsOut != nil:
		p.out = outCols(fieldsOut)
	case sawStats:
		p.out = outCols(statsOut)
	default:
		p.out = []outCol{{"@timestamp", p.tsSlot}, {"@message", r.srcSlot("@message")}}
	}
	if !sawStats {
		p.ptrSlot = r.srcSlot("@ptr")
	} else {
		p.ptrSlot = -1
	}
	// @ptr closes every row of a non-stats query, unless the query
	// already shows it (`fields @ptr`): a result has one column per name.
	p.ptrOut = p.ptrSlot >= 0 && !slices.ContainsFunc(p.out, func(c outCol) bool { return c.name == "@ptr" })
	p.msgSlot = -1
	if s, ok := p.slotIdx["@message"]; ok {
		p.msgSlot = s
	}

	// Split the pipeline.
	i := 0
	for i < len(cmds) && isStreamCmd(cmds[i].kind) {
		i++
	}
	p.stream = cmds[:i]
	rest := cmds[i:]
	switch {
	case len(rest) > 0 && rest[0].kind == cStats:
		p.pivot = pivotStats
		p.stats = rest[0]
		p.post = rest[1:]
		p.binDesc = isBin(p.stats)
	case len(rest) > 0 && rest[0].kind == cSort:
		p.pivot = pivotSort
		p.sort = rest[0].sort
		rest = rest[1:]
		// Per-record commands after the sort run before it when they do
		// not change what it sorts by.
		var keySlots []int
		for _, k := range p.sort {
			var names []string
			refsOf(k.expr, &names)
			for _, n := range names {
				keySlots = append(keySlots, p.slotIdx[n])
			}
		}
		var moved []*Command
		for len(rest) > 0 && isStreamCmd(rest[0].kind) && rest[0].kind != cUnnest && !writesAny(rest[0], keySlots) {
			moved = append(moved, rest[0])
			rest = rest[1:]
		}
		p.stream = append(append([]*Command(nil), p.stream...), moved...)
		p.topK, p.post = topKOf(rest)
	default:
		// No explicit sort: non-stats results are in @timestamp desc order.
		p.pivot = pivotSort
		p.sort = []sortKey{{expr: &ref{name: "@timestamp", slot: p.tsSlot}, desc: true}}
		p.topK, p.post = topKOf(rest)
	}
	q.plan = p
	return nil
}

func topKOf(rest []*Command) (int, []*Command) {
	switch {
	case len(rest) == 0:
		return -1, rest
	case rest[0].kind == cLimit:
		return rest[0].n, rest
	}
	return 0, rest
}

func writesAny(c *Command, slots []int) bool {
	var w []int
	switch c.kind {
	case cFields, cDisplay:
		for _, it := range c.items {
			if r, ok := it.expr.(*ref); ok && r.slot == it.slot && r.path == nil {
				continue
			}
			w = append(w, it.slot)
		}
	case cParse:
		w = c.slots
	}
	for _, a := range w {
		for _, b := range slots {
			if a == b {
				return true
			}
		}
	}
	return false
}

func isBin(c *Command) bool {
	if len(c.by) == 0 {
		return false
	}
	cl, ok := unparen(c.by[0].expr).(*call)
	return ok && (cl.name == "bin" || cl.name == "datefloor")
}

func outCols(items []*item) []outCol {
	var out []outCol
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.name] {
			continue
		}
		seen[it.name] = true
		out = append(out, outCol{it.name, it.slot})
	}
	return out
}

func collectAggs(e Expr, out *[]*aggCall) {
	switch x := e.(type) {
	case *aggCall:
		*out = append(*out, x)
	case *paren:
		collectAggs(x.x, out)
	case *unary:
		collectAggs(x.x, out)
	case *binary:
		collectAggs(x.l, out)
		collectAggs(x.r, out)
	case *match:
		collectAggs(x.x, out)
	case *inList:
		collectAggs(x.x, out)
	case *call:
		for _, a := range x.args {
			collectAggs(a, out)
		}
	}
}

// resolveOutside resolves refs of a stats item that are not inside an
// aggregate (they name earlier outputs of the same stats).
func resolveOutside(r *resolver, e Expr) {
	switch x := e.(type) {
	case *aggCall:
	case *ref:
		r.ref(x)
	case *paren:
		resolveOutside(r, x.x)
	case *unary:
		resolveOutside(r, x.x)
	case *binary:
		resolveOutside(r, x.l)
		resolveOutside(r, x.r)
	case *match:
		resolveOutside(r, x.x)
	case *inList:
		resolveOutside(r, x.x)
	case *call:
		for _, a := range x.args {
			resolveOutside(r, a)
		}
	}
}
