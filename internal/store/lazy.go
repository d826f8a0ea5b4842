package store

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// lazyBlock decodes, on demand, columns of a block the engine reads for a
// few rows only (scan.Request.Lazy): the rows that passed its filters or
// entered a top-k. Rebuilding @message for 6,000 rows out of 10 million is
// then a matter of milliseconds, and output-only fields cost nothing for
// rows that were filtered out.
//
// Block rows (what the engine sees) are the kept rows of the block when the
// hints dropped some (sub), else the block's rows.
type lazyBlock struct {
	seg      *segment
	bi       *blockIndex
	rg       *readGroup
	bts      *blockTS
	sub      *rowSubset // block row k is stored row sub.rows[k]; nil: identity
	rows     int        // block rows
	userCols map[int]*scan.Column
	scratch  *scratch

	// The subset of the last call, reused while the engine asks for several
	// columns over the same rows.
	lastRows []int32
	last     *rowSubset
	fb       *fullBlock // shapes and columns for @message over last
}

// subset maps the wanted block rows to stored rows: the decoder then builds
// a column over b.rows rows holding only the wanted ones. A nil subset
// stands for every stored row.
func (lb *lazyBlock) subset(rows []int32) (*rowSubset, error) {
	if lb.last != nil && slices.Equal(rows, lb.lastRows) {
		return lb.last, nil
	}
	if len(rows) == lb.rows && (len(rows) == 0 || rows[len(rows)-1] == int32(lb.rows-1)) {
		// Every block row (ascending and distinct, so 0..rows-1): the
		// block's own subset, which the decoder handles without remapping.
		ls := lb.sub // nil: identity
		lb.lastRows = append(lb.lastRows[:0], rows...)
		lb.last = ls
		lb.fb = nil
		return ls, nil
	}
	lb.last, lb.fb = nil, nil // its memory may be reused just below
	ls := &rowSubset{n: lb.rows, nrows: lb.bi.rows}
	if old := lb.scratch.lazy; old != nil && cap(old.pos) >= lb.bi.rows && cap(old.rows) >= len(rows) {
		// The previous Load's subset: its columns are built, so its
		// memory is free.
		ls.pos, ls.rows = old.pos[:lb.bi.rows], old.rows[:0]
	} else {
		ls.pos, ls.rows = make([]int32, lb.bi.rows), make([]int, 0, len(rows))
	}
	lb.scratch.lazy = ls
	fillMinus1(ls.pos)
	prev := int32(-1)
	for _, r := range rows {
		if r <= prev || int(r) >= lb.rows {
			return nil, fmt.Errorf("store: Load: row %d out of order or outside the block's %d rows", r, lb.rows)
		}
		prev = r
		orig := int(r)
		if lb.sub != nil {
			orig = lb.sub.rows[r]
		}
		ls.pos[orig] = r
		ls.rows = append(ls.rows, orig)
	}
	lb.lastRows = append(lb.lastRows[:0], rows...)
	lb.last = ls
	lb.fb = nil
	return ls, nil
}

// load implements scan.Block.Load.
func (lb *lazyBlock) load(name string, rows []int32) (*scan.Column, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	bi := lb.bi
	if ci, ok := bi.byName[name]; ok && lb.userCols[ci] != nil {
		return lb.userCols[ci], nil
	}
	if ci, ok := bi.byName[name]; ok && lb.sub == nil && 2*len(rows) >= lb.rows {
		// Half the rows or more are wanted: decoding the column in sequence is
		// cheaper than finding each wanted row's value by rank (the
		// contract lets rows not asked for hold values).
		return lb.denseCol(ci, rows)
	}
	ls, err := lb.subset(rows)
	if err != nil {
		return nil, err
	}
	sys := func(k int) ([]int64, error) {
		c, err := lb.bts.sys(k, subArg(ls)...)
		if err != nil {
			return nil, err
		}
		return c.Ints, nil
	}
	switch name {
	case "@timestamp":
		ts, err := lb.bts.get()
		if err != nil {
			return nil, err
		}
		v := make([]int64, lb.rows)
		for i, r := range rows {
			v[r] = ts[orig(ls, r, i)]
		}
		return &scan.Column{Type: scan.TypeInt, Ints: v}, nil
	case "@ingestionTime":
		v, err := sys(sysIngest)
		if err != nil {
			return nil, err
		}
		return &scan.Column{Type: scan.TypeInt, Ints: v}, nil
	case "@logStream":
		v, err := sys(sysStream)
		if err != nil {
			return nil, err
		}
		col := &scan.Column{Type: scan.TypeDict, Codes: make([]uint32, lb.rows)}
		code := map[int64]uint32{}
		for _, r := range rows {
			id := v[r]
			c, ok := code[id]
			if !ok {
				c = uint32(len(col.Dict))
				code[id] = c
				col.Dict = append(col.Dict, lb.rg.streams[uint32(id)])
			}
			col.Codes[r] = c
		}
		return col, nil
	case "@log":
		return &scan.Column{Type: scan.TypeDict, Dict: []string{lb.rg.log}, Codes: make([]uint32, lb.rows)}, nil
	case "@ptr":
		seq, err := sys(sysSeq)
		if err != nil {
			return nil, err
		}
		ts, err := lb.bts.get()
		if err != nil {
			return nil, err
		}
		col := &scan.Column{Type: scan.TypeString, Strs: make([]string, lb.rows)}
		ptrStrings(col.Strs, lb.rg.g.ID, len(rows), func(k int) (int, int64, uint64) {
			r := rows[k]
			return int(r), ts[orig(ls, r, k)], uint64(seq[r])
		})
		return col, nil
	case "@message":
		return lb.messages(rows, ls)
	}
	ci, ok := bi.byName[name]
	if !ok {
		return nil, nil
	}
	col, err := lb.bts.col(ci, subArg(ls)...)
	if err != nil {
		return nil, err
	}
	return presentOrNil(col, rows), nil
}

// denseCol decodes user column ci over every row of a block the hints did
// not subset.
func (lb *lazyBlock) denseCol(ci int, rows []int32) (*scan.Column, error) {
	col, err := lb.bts.col(ci)
	if err != nil {
		return nil, err
	}
	return presentOrNil(col, rows), nil
}

// presentOrNil returns col, or nil when none of rows has the field (what
// Load promises).
func presentOrNil(col *scan.Column, rows []int32) *scan.Column {
	if col.Present != nil {
		has := false
		for _, r := range rows {
			if col.Present.Get(int(r)) {
				has = true
				break
			}
		}
		if !has {
			return nil
		}
	}
	return col
}

// messages rebuilds @message for the given block rows, decoding only the
// columns their shapes print, and only at those rows.
func (lb *lazyBlock) messages(rows []int32, ls *rowSubset) (*scan.Column, error) {
	seg, bi := lb.seg, lb.bi
	fb := lb.fb
	if fb == nil {
		fb = &fullBlock{seg: seg, bi: bi}
		shape, err := lb.bts.sys(sysShape, subArg(ls)...)
		if err != nil {
			return nil, err
		}
		fb.shape = shape.Ints
		if err := fb.loadShapes(); err != nil {
			return nil, err
		}
		need := make([]bool, len(bi.cols))
		whole := false
		for _, r := range rows {
			code := fb.shape[r]
			if code > 0 && code <= int64(len(fb.shapes)) {
				for _, l := range fb.shapes[code-1].leaves {
					need[l.col] = true
				}
			} else {
				whole = true
			}
		}
		if whole {
			if fb.raw, err = lb.bts.sys(sysRaw, subArg(ls)...); err != nil {
				return nil, err
			}
		} else {
			fb.raw = &scan.Column{Type: scan.TypeString, Strs: make([]string, lb.rows)}
		}
		fb.cols = make([]*scan.Column, len(bi.cols))
		for ci := range bi.cols {
			if need[ci] {
				if fb.cols[ci], err = lb.bts.col(ci, subArg(ls)...); err != nil {
					return nil, err
				}
			}
		}
		lb.fb = fb
	}
	// One buffer sized from the block's average message; the strings alias
	// it (it is never written again).
	size := bi.msgBytes/int64(max(bi.rows, 1))*int64(len(rows)) + 64
	buf := make([]byte, 0, min(size+size/4, 1<<28))
	ends := make([]int, len(rows))
	var err error
	for i, r := range rows {
		if buf, err = fb.message(buf, int(r)); err != nil {
			return nil, err
		}
		ends[i] = len(buf)
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	col := &scan.Column{Type: scan.TypeString, Strs: make([]string, lb.rows)}
	start := 0
	for i, r := range rows {
		col.Strs[r] = all[start:ends[i]]
		start = ends[i]
	}
	return col, nil
}

// orig is the stored row of block row r, the i-th wanted row of ls.
func orig(ls *rowSubset, r int32, i int) int {
	if ls == nil {
		return int(r)
	}
	return ls.rows[i]
}

func subArg(ls *rowSubset) []*rowSubset {
	if ls == nil {
		return nil
	}
	return []*rowSubset{ls}
}
