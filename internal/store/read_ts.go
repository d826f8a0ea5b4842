package store

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// errNeedTS is returned by decodeColumn when it was given no timestamps
// (nil) and the column is encoded relative to them (minus-timestamp mode).
var errNeedTS = errors.New("column is encoded relative to @timestamp")

// blockTS decodes a block's @timestamp column on first use. Most queries
// over a time range that covers whole blocks never look at a row's time
// (counts, stats by a field), and the timestamp is a full column of every
// block, so not decoding it is a tenth of such a scan.
type blockTS struct {
	seg *segment
	bi  *blockIndex
	sc  *scratch // the decoded column goes into sc.ts (reused from block to block)
	ts  []int64  // nil until decoded
}

func (t *blockTS) get() ([]int64, error) {
	if t.ts == nil {
		ts, err := t.seg.readTS(t.bi, t.sc.ts)
		if err != nil {
			return nil, err
		}
		t.sc.ts, t.ts = ts, ts
	}
	return t.ts, nil
}

// col decodes user column ci, decoding the timestamps first only if the
// column's encoding needs them.
func (t *blockTS) col(ci int, sub ...*rowSubset) (*scan.Column, error) {
	c, err := t.seg.readColIn(&t.sc.arena, t.bi, ci, t.ts, sub...)
	if t.ts == nil && errors.Is(err, errNeedTS) {
		ts, err := t.get()
		if err != nil {
			return nil, err
		}
		return t.seg.readColIn(&t.sc.arena, t.bi, ci, ts, sub...)
	}
	return c, err
}

// sys is col for system column k.
func (t *blockTS) sys(k int, sub ...*rowSubset) (*scan.Column, error) {
	c, err := t.seg.readSysIn(&t.sc.arena, t.bi, k, t.ts, sub...)
	if t.ts == nil && errors.Is(err, errNeedTS) {
		ts, err := t.get()
		if err != nil {
			return nil, err
		}
		return t.seg.readSysIn(&t.sc.arena, t.bi, k, ts, sub...)
	}
	return c, err
}

// intMatches applies it to user column ci (an int column) without
// decoding the column (see intMatches in coldec.go). ok is false when the
// chunk is not a plain or delta int chunk.
func (t *blockTS) intMatches(ci int, it intTest) (rows []int32, vals []int64, ok bool, err error) {
	c := &t.bi.cols[ci]
	p, release, err := t.seg.readTemp(c.chunk, "column "+strconv.Quote(c.name))
	if err != nil {
		return nil, nil, false, err
	}
	rows, vals, ok, err = intMatches(&t.sc.arena, p, t.bi.rows, it)
	release()
	if err != nil {
		return nil, nil, false, fmt.Errorf("store: segment %s: column %q at byte %d: %w", t.seg.name(), c.name, c.chunk.off, err)
	}
	return rows, vals, ok, nil
}

// dictMatches is intMatches for a dictionary column and any hint but
// presence (see dictMatches in coldec.go).
func (t *blockTS) dictMatches(ci int, h *scan.Hint) (rows []int32, col *scan.Column, ok bool, err error) {
	c := &t.bi.cols[ci]
	p, release, err := t.seg.readTemp(c.chunk, "column "+strconv.Quote(c.name))
	if err != nil {
		return nil, nil, false, err
	}
	rows, col, ok, err = dictMatches(&t.sc.arena, p, t.bi.rows, h)
	release()
	if err != nil {
		return nil, nil, false, fmt.Errorf("store: segment %s: column %q at byte %d: %w", t.seg.name(), c.name, c.chunk.off, err)
	}
	return rows, col, ok, nil
}
