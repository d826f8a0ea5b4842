package query

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// scribbler is a source whose blocks' strings live in one buffer per block
// that is overwritten once the callback returns, as a store reusing its
// decode buffers does (scan.Block is valid only until fn returns). A row
// kept past its block with borrowed strings then reads garbage.
type scribbler struct {
	src         scan.Source
	oldestFirst bool
}

func (s scribbler) Fields(ctx context.Context, account string, groups []string, start, end int64) ([]scan.FieldInfo, error) {
	return s.src.Fields(ctx, account, groups, start, end)
}

func (s scribbler) Scan(ctx context.Context, req *scan.Request, fn func(int, *scan.Block) error) error {
	r := *req
	if s.oldestFirst {
		r.Descending = false
	}
	return s.src.Scan(ctx, &r, func(w int, b *scan.Block) error {
		var arena [][]byte
		str := func(x string) string {
			if x == "" {
				return x
			}
			buf := []byte(x)
			arena = append(arena, buf)
			return unsafe.String(&buf[0], len(buf))
		}
		cp := func(c *scan.Column) *scan.Column {
			if c == nil {
				return nil
			}
			o := *c
			o.Strs = make([]string, len(c.Strs))
			for i, x := range c.Strs {
				o.Strs[i] = str(x)
			}
			o.Dict = make([]string, len(c.Dict))
			for i, x := range c.Dict {
				o.Dict[i] = str(x)
			}
			o.Values = make([]scan.Value, len(c.Values))
			for i, v := range c.Values {
				v.S = str(v.S)
				o.Values[i] = v
			}
			return &o
		}
		nb := *b
		nb.Columns = map[string]*scan.Column{}
		for name, c := range b.Columns {
			nb.Columns[name] = cp(c)
		}
		if b.Load != nil {
			nb.Load = func(name string, rows []int32) (*scan.Column, error) {
				c, err := b.Load(name, rows)
				return cp(c), err
			}
		}
		err := fn(w, &nb)
		for _, buf := range arena {
			for i := range buf {
				buf[i] = 'X'
			}
		}
		return err
	})
}

// TestTopKRowsOwnTheirStrings checks that the rows a sort keeps own their
// strings (newRow copies them): results over a source that overwrites each
// block's strings afterwards equal those over one that does not, with the
// heap pushing rows out within a block and across blocks, string sort
// keys, parsed fields, and partial results on.
func TestTopKRowsOwnTheirStrings(t *testing.T) {
	src := tiedEvents(t, 5*memsource.BlockRows+123)
	tests := []struct {
		query       string
		limit       int
		workers     int
		oldestFirst bool
	}{
		{`fields user, ip`, 0, 1, true}, // every block better than the last
		{`fields user, ip`, 0, 2, true},
		{`fields user, ip`, 0, 2, false},
		{`fields user, ip | sort n asc | limit 3000`, 0, 1, false},
		{`fields user, ip | sort ip desc, n asc | limit 5000`, 0, 2, false},
		{`filter n % 3 = 0 | fields user, ip | sort user asc`, 700, 1, true},
		{`parse ip "10.0.*.*" as a, b | fields user, a, b | sort b desc`, 4000, 1, false},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/limit=%d/workers=%d/oldestFirst=%v", tc.query, tc.limit, tc.workers, tc.oldestFirst)
		t.Run(name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{Groups: []string{"/g"}, Limit: tc.limit, Workers: tc.workers}
			var ref scan.Source = src
			if tc.oldestFirst {
				ref = oldestFirst{src}
			}
			want, err := Run(context.Background(), ref, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Rows) == 0 {
				t.Fatal("query matched nothing: the test proves nothing")
			}
			got, err := Run(context.Background(), scribbler{src, tc.oldestFirst}, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.Partial = func([][]Field, Stats) {}
			opt.PartialEvery = time.Millisecond
			part, err := Run(context.Background(), scribbler{src, tc.oldestFirst}, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]*Result{"scribbled": got, "scribbled with partial results": part} {
				if !reflect.DeepEqual(r.Rows, want.Rows) {
					for i := range min(len(r.Rows), len(want.Rows)) {
						if !reflect.DeepEqual(r.Rows[i], want.Rows[i]) {
							t.Fatalf("%s: row %d = %v, want %v", name, i, r.Rows[i], want.Rows[i])
						}
					}
					t.Fatalf("%s: %d rows, want %d", name, len(r.Rows), len(want.Rows))
				}
			}
		})
	}
}
