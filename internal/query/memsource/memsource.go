// Package memsource is an in-memory scan.Source: log events held in RAM,
// flattened once with scan.Flattener into typed column blocks. It backs
// `mailtrail query --input` (NDJSON files queried without a store), the
// query engine's tests and its benchmarks.
//
// Events are kept per log group in arrival order and cut into blocks of
// BlockRows events. A block's columns are built on first use and kept, so
// repeated queries measure the engine rather than JSON parsing.
package memsource

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// BlockRows is the number of events per block.
const BlockRows = 8192

// DefaultAccount is the account id used when none is given.
const DefaultAccount = "000000000000"

// Event is one log event.
type Event struct {
	Timestamp     int64 // epoch ms
	IngestionTime int64 // epoch ms
	Stream        string
	Message       string
}

// Source holds events by account and log group. Add all events before
// scanning; Add after a Scan has started is not supported.
type Source struct {
	// MaxDictShare is the largest share of a string field's values in a
	// block that may be distinct for the column to be dictionary-coded;
	// above it the column is TypeString. 0 means 0.5. The embedded store
	// keeps high-cardinality fields (ids, addresses) as plain strings, and
	// benchmarks set a low share to reproduce that. Set it before the
	// first Scan.
	MaxDictShare float64

	mu     sync.Mutex
	groups map[string]*group // key: account + "\x00" + group
}

type group struct {
	account, name string
	events        []Event
	blocks        []*block
	sorted        bool
}

type block struct {
	once     sync.Once
	first    int // index of the first event in the group
	rows     int
	min, max int64
	cols     map[string]*scan.Column
	msgBytes int64
	err      error
}

// New returns an empty source.
func New() *Source { return &Source{groups: map[string]*group{}} }

// Add appends an event to a log group of an account ("" = DefaultAccount).
func (s *Source) Add(account, groupName string, e Event) {
	if account == "" {
		account = DefaultAccount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := account + "\x00" + groupName
	g := s.groups[k]
	if g == nil {
		g = &group{account: account, name: groupName}
		s.groups[k] = g
	}
	g.events = append(g.events, e)
	g.blocks = nil
	g.sorted = false
}

// Groups lists the log groups of an account, sorted.
func (s *Source) Groups(account string) []string {
	if account == "" {
		account = DefaultAccount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.groups {
		if g.account == account {
			out = append(out, g.name)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Source) prepared(account string, names []string) ([]*group, error) {
	if account == "" {
		account = DefaultAccount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*group
	for _, n := range names {
		g := s.groups[account+"\x00"+n]
		if g == nil {
			return nil, fmt.Errorf("log group %q does not exist for account %s", n, account)
		}
		if g.blocks == nil {
			if !g.sorted {
				// Stable, so events with equal timestamps keep arrival order.
				sort.SliceStable(g.events, func(i, j int) bool { return g.events[i].Timestamp < g.events[j].Timestamp })
				g.sorted = true
			}
			for i := 0; i < len(g.events); i += BlockRows {
				n := min(BlockRows, len(g.events)-i)
				b := &block{first: i, rows: n, min: g.events[i].Timestamp, max: g.events[i+n-1].Timestamp}
				g.blocks = append(g.blocks, b)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// Scan implements scan.Source.
func (s *Source) Scan(ctx context.Context, req *scan.Request, fn func(worker int, b *scan.Block) error) error {
	gs, err := s.prepared(req.Account, req.Groups)
	if err != nil {
		return err
	}
	type task struct {
		g *group
		b *block
	}
	var tasks []task
	for _, g := range gs {
		for _, b := range g.blocks {
			if b.max < req.Start || b.min >= req.End {
				continue
			}
			tasks = append(tasks, task{g, b})
		}
	}
	if req.Descending {
		slices.SortStableFunc(tasks, func(a, b task) int { return cmp.Compare(b.b.max, a.b.max) })
	}
	workers := max(req.Workers, 1)
	ch := make(chan task)
	errc := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for t := range ch {
				b, err := t.g.build(t.b, s.MaxDictShare)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				if !mayMatch(b, req.Hints) {
					continue
				}
				out := &scan.Block{Rows: b.rows, MinTime: b.min, MaxTime: b.max, MessageBytes: b.msgBytes, Columns: map[string]*scan.Column{}}
				if req.AllColumns {
					for k, c := range b.cols {
						out.Columns[k] = c
					}
				} else {
					for _, name := range req.Columns {
						if c := b.cols[name]; c != nil && !slices.Contains(req.Lazy, name) {
							out.Columns[name] = c
						}
					}
					if len(req.Lazy) > 0 {
						out.Load = func(name string, rows []int32) (*scan.Column, error) {
							return restrict(b.cols[name], rows), nil
						}
					}
				}
				if err := fn(w, out); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		}(w)
	}
feed:
	for _, t := range tasks {
		select {
		case ch <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return ctx.Err()
}

// restrict returns c with only the listed rows present, so that an engine
// reading rows it did not ask for sees nulls (and its tests fail).
func restrict(c *scan.Column, rows []int32) *scan.Column {
	if c == nil {
		return nil
	}
	r := *c
	r.Present = scan.NewBitmap(len(c.Codes) + len(c.Strs) + len(c.Ints) + len(c.Floats) + len(c.Values))
	any := false
	for _, i := range rows {
		if c.Has(int(i)) {
			r.Present.Set(int(i))
			any = true
		}
	}
	if !any {
		return nil
	}
	return &r
}

// mayMatch checks the hints a dictionary column can answer: an equality
// or set test against a block whose column is dictionary-coded.
func mayMatch(b *block, hints []scan.Hint) bool {
	for _, h := range hints {
		c := b.cols[h.Field]
		switch h.Op {
		case scan.HintPresent, scan.HintEq, scan.HintIn, scan.HintContains:
			if c == nil {
				return false
			}
		}
		if c == nil || c.Type != scan.TypeDict {
			continue
		}
		switch h.Op {
		case scan.HintEq:
			if !h.IsNum && !slices.Contains(c.Dict, h.Str) {
				return false
			}
		case scan.HintIn:
			found := false
			for _, v := range h.Set {
				if slices.Contains(c.Dict, v) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// Fields implements scan.Source.
func (s *Source) Fields(ctx context.Context, account string, groups []string, start, end int64) ([]scan.FieldInfo, error) {
	gs, err := s.prepared(account, groups)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	types := map[string]scan.Type{}
	for _, g := range gs {
		for _, b := range g.blocks {
			if b.max < start || b.min >= end {
				continue
			}
			bb, err := g.build(b, s.MaxDictShare)
			if err != nil {
				return nil, err
			}
			for name, c := range bb.cols {
				n := int64(bb.rows)
				if c.Present != nil {
					n = 0
					for i := 0; i < bb.rows; i++ {
						if c.Present.Get(i) {
							n++
						}
					}
				}
				counts[name] += n
				t := c.Type
				if t == scan.TypeDict {
					t = scan.TypeString
				}
				if old, ok := types[name]; ok && old != t {
					t = scan.TypeMixed
				}
				types[name] = t
			}
		}
	}
	out := make([]scan.FieldInfo, 0, len(counts))
	for n, c := range counts {
		out = append(out, scan.FieldInfo{Name: n, Type: types[n], Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Ptr returns the @ptr of event i of a group; Record resolves it.
func ptr(g *group, i int) string {
	return fmt.Sprintf("%s:%s:%08x", g.account, g.name, i)
}

// Record returns the event an @ptr names.
func (s *Source) Record(p string) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		pre := g.account + ":" + g.name + ":"
		if len(p) == len(pre)+8 && p[:len(pre)] == pre {
			i, err := strconv.ParseUint(p[len(pre):], 16, 64)
			if err == nil && int(i) < len(g.events) {
				return g.events[i], true
			}
		}
	}
	return Event{}, false
}

// build flattens the block's events into columns, once.
func (g *group) build(b *block, dictShare float64) (*block, error) {
	b.once.Do(func() {
		cb := newColBuilder(b.rows)
		cb.dictShare = dictShare
		if cb.dictShare <= 0 {
			cb.dictShare = 0.5
		}
		var f scan.Flattener
		ts := make([]int64, b.rows)
		ing := make([]int64, b.rows)
		msgs := make([]string, b.rows)
		streams := make([]string, b.rows)
		ptrs := make([]string, b.rows)
		for r := 0; r < b.rows; r++ {
			e := &g.events[b.first+r]
			ts[r], ing[r], msgs[r], streams[r] = e.Timestamp, e.IngestionTime, e.Message, e.Stream
			ptrs[r] = ptr(g, b.first+r)
			b.msgBytes += int64(len(e.Message))
			mark := cb.mark()
			err := f.Flatten([]byte(e.Message), func(path []byte, l scan.Leaf) {
				cb.set(string(path), r, l.Value())
			})
			if err != nil {
				cb.rollback(mark, r) // not JSON: only @message
			}
		}
		b.cols = cb.columns()
		b.cols["@timestamp"] = &scan.Column{Type: scan.TypeInt, Ints: ts}
		b.cols["@ingestionTime"] = &scan.Column{Type: scan.TypeInt, Ints: ing}
		b.cols["@message"] = &scan.Column{Type: scan.TypeString, Strs: msgs}
		b.cols["@logStream"] = dictOf(streams)
		logs := make([]string, b.rows)
		for i := range logs {
			logs[i] = g.account + ":" + g.name
		}
		b.cols["@log"] = dictOf(logs)
		b.cols["@ptr"] = &scan.Column{Type: scan.TypeString, Strs: ptrs}
	})
	return b, b.err
}

func dictOf(vals []string) *scan.Column {
	c := &scan.Column{Type: scan.TypeDict, Codes: make([]uint32, len(vals))}
	idx := map[string]uint32{}
	for i, v := range vals {
		code, ok := idx[v]
		if !ok {
			code = uint32(len(c.Dict))
			idx[v] = code
			c.Dict = append(c.Dict, v)
		}
		c.Codes[i] = code
	}
	return c
}

// colBuilder gathers flattened values per field for one block.
type colBuilder struct {
	rows      int
	dictShare float64
	fields    map[string]*fieldVals
	log       []*fieldVals // fields touched by the current row, for rollback
}

type fieldVals struct {
	vals []scan.Value
	set  scan.Bitmap
}

func newColBuilder(rows int) *colBuilder {
	return &colBuilder{rows: rows, fields: map[string]*fieldVals{}}
}

func (cb *colBuilder) mark() int { cb.log = cb.log[:0]; return 0 }

func (cb *colBuilder) set(name string, r int, v scan.Value) {
	fv := cb.fields[name]
	if fv == nil {
		fv = &fieldVals{vals: make([]scan.Value, cb.rows), set: scan.NewBitmap(cb.rows)}
		cb.fields[name] = fv
	}
	fv.vals[r] = v
	fv.set.Set(r)
	cb.log = append(cb.log, fv)
}

func (cb *colBuilder) rollback(_ int, r int) {
	for _, fv := range cb.log {
		fv.vals[r] = scan.Value{}
		fv.set.Clear(r)
	}
}

// columns types each field: all ints → TypeInt, all numbers → TypeFloat,
// all strings → TypeDict when values repeat enough, else TypeString;
// anything else TypeMixed.
func (cb *colBuilder) columns() map[string]*scan.Column {
	out := map[string]*scan.Column{}
	for name, fv := range cb.fields {
		var nStr, nInt, nFloat, n int
		for r := 0; r < cb.rows; r++ {
			if !fv.set.Get(r) {
				continue
			}
			n++
			switch fv.vals[r].Kind {
			case scan.KindString:
				nStr++
			case scan.KindInt:
				nInt++
			case scan.KindFloat:
				nFloat++
			}
		}
		if n == 0 {
			continue
		}
		c := &scan.Column{}
		if n < cb.rows {
			c.Present = fv.set
		}
		switch {
		case nInt == n:
			c.Type = scan.TypeInt
			c.Ints = make([]int64, cb.rows)
			for r, v := range fv.vals {
				c.Ints[r] = v.I
			}
		case nInt+nFloat == n:
			c.Type = scan.TypeFloat
			c.Floats = make([]float64, cb.rows)
			for r, v := range fv.vals {
				if v.Kind == scan.KindInt {
					c.Floats[r] = float64(v.I)
				} else {
					c.Floats[r] = v.F
				}
			}
		case nStr == n:
			idx := map[string]uint32{}
			codes := make([]uint32, cb.rows)
			var dict []string
			for r, v := range fv.vals {
				if !fv.set.Get(r) {
					continue
				}
				code, ok := idx[v.S]
				if !ok {
					code = uint32(len(dict))
					idx[v.S] = code
					dict = append(dict, v.S)
				}
				codes[r] = code
			}
			if float64(len(dict)) <= cb.dictShare*float64(n) {
				c.Type, c.Dict, c.Codes = scan.TypeDict, dict, codes
			} else {
				c.Type = scan.TypeString
				c.Strs = make([]string, cb.rows)
				for r, v := range fv.vals {
					c.Strs[r] = v.S
				}
			}
		default:
			c.Type = scan.TypeMixed
			c.Values = fv.vals
		}
		out[name] = c
	}
	return out
}
