package store

import (
	"fmt"
	"strconv"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// shapeDef is a parsed shape: the bytes around each leaf of a message.
type shapeDef struct {
	leaves []shapeLeaf
	tail   []byte
}

type shapeLeaf struct {
	gap  []byte
	col  int
	kind byte
}

func parseShapes(p []byte, ncols int) ([]shapeDef, error) {
	r := &chunkReader{b: p}
	n := r.uvarint()
	if n > uint64(len(p)) {
		return nil, fmt.Errorf("shape count %d exceeds chunk", n)
	}
	out := make([]shapeDef, 0, n)
	for k := uint64(0); k < n && r.err == nil; k++ {
		s := r.bytes(r.uvarint())
		sr := &chunkReader{b: s}
		var d shapeDef
		for sr.err == nil {
			gap := sr.bytes(sr.uvarint())
			if sr.i == len(s) {
				d.tail = gap
				break
			}
			ci := sr.uvarint()
			kind := sr.byte1()
			if sr.err == nil && ci >= uint64(ncols) {
				sr.fail("shape %d refers to column %d of %d", k, ci, ncols)
			}
			switch kind {
			case lkStr, lkStrEsc, lkInt, lkFloat, lkBool:
			default:
				sr.fail("shape %d: unknown leaf kind %q", k, kind)
			}
			d.leaves = append(d.leaves, shapeLeaf{gap: gap, col: int(ci), kind: kind})
		}
		if sr.err != nil {
			return nil, sr.err
		}
		out = append(out, d)
	}
	if r.err == nil && r.i != len(p) {
		r.fail("trailing bytes in shape table")
	}
	return out, r.err
}

// render rebuilds row's message from its shape and the decoded columns.
func (d *shapeDef) render(dst []byte, cols []*scan.Column, row int) ([]byte, error) {
	for _, l := range d.leaves {
		dst = append(dst, l.gap...)
		c := cols[l.col]
		if c == nil || !c.Has(row) {
			return dst, fmt.Errorf("shape refers to a value missing from column %d at row %d", l.col, row)
		}
		v := c.Value(row)
		switch l.kind {
		case lkStr, lkStrEsc:
			if v.Kind != scan.KindString {
				return dst, fmt.Errorf("row %d: string leaf in a %v value", row, v.Kind)
			}
			dst = append(dst, '"')
			if l.kind == lkStr {
				dst = append(dst, v.S...)
			} else {
				dst = appendJSONEscaped(dst, v.S)
			}
			dst = append(dst, '"')
		case lkInt:
			if v.Kind != scan.KindInt {
				return dst, fmt.Errorf("row %d: int leaf in a non-int value", row)
			}
			dst = strconv.AppendInt(dst, v.I, 10)
		case lkFloat:
			if v.Kind != scan.KindFloat {
				return dst, fmt.Errorf("row %d: float leaf in a non-float value", row)
			}
			dst = strconv.AppendFloat(dst, v.F, 'f', -1, 64)
		case lkBool:
			if v.Kind != scan.KindInt {
				return dst, fmt.Errorf("row %d: boolean leaf in a non-int value", row)
			}
			if v.I != 0 {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		}
	}
	return append(dst, d.tail...), nil
}
