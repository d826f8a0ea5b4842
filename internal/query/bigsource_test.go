package query

import (
	"context"
	"fmt"
	"sync"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// bigSource is a scan.Source of a few very large blocks (the store gives
// about 115,000 rows a block for bulk-loaded data; memsource's are 8192),
// built directly as columns so that tests of what happens inside one block
// do not pay for JSON flattening. Its blocks are read-only and may be
// shared by concurrent scans.
type bigSource struct {
	blocks []*scan.Block
}

// bigStart is the @timestamp of a bigSource's first row; rows are a
// millisecond apart.
const bigStart = 1714564800000

// newBigSource builds nblocks blocks of rows rows each. Row r (counting
// across blocks) has:
//
//	@message  {"user":"user-<r%50000>","ip":"10.<..>","n":<r>,"text":"..."}
//	user      "user-<r%50000>" (a plain string column, as the store keeps
//	          high-cardinality fields)
//	code      "c<r>" as a dictionary column with a distinct entry per row
//	n         r (integer)
func newBigSource(nblocks, rows int) *bigSource {
	s := &bigSource{}
	const text = "the quick brown fox jumps over the lazy dog, then reads its mail and logs out again"
	for b := 0; b < nblocks; b++ {
		ts := make([]int64, rows)
		ns := make([]int64, rows)
		msgs := make([]string, rows)
		ptrs := make([]string, rows)
		users := make([]string, rows)
		codes := make([]uint32, rows)
		dict := make([]string, rows)
		var msgBytes int64
		for i := 0; i < rows; i++ {
			r := b*rows + i
			ts[i] = bigStart + int64(r)
			ns[i] = int64(r)
			users[i] = fmt.Sprintf("user-%d", r%50000)
			msgs[i] = fmt.Sprintf(`{"user":%q,"ip":"10.%d.%d.%d","n":%d,"text":%q}`, users[i], r%7, r%251, r%253, r, text)
			ptrs[i] = fmt.Sprintf("big:%08x", r)
			codes[i] = uint32(i)
			dict[i] = fmt.Sprintf("c%d", r)
			msgBytes += int64(len(msgs[i]))
		}
		stream := &scan.Column{Type: scan.TypeDict, Dict: []string{"s"}, Codes: make([]uint32, rows)}
		logc := &scan.Column{Type: scan.TypeDict, Dict: []string{"000000000000:/big"}, Codes: make([]uint32, rows)}
		s.blocks = append(s.blocks, &scan.Block{
			Rows:         rows,
			MinTime:      ts[0],
			MaxTime:      ts[rows-1],
			MessageBytes: msgBytes,
			Columns: map[string]*scan.Column{
				"@timestamp":     {Type: scan.TypeInt, Ints: ts},
				"@ingestionTime": {Type: scan.TypeInt, Ints: ts},
				"@message":       {Type: scan.TypeString, Strs: msgs},
				"@ptr":           {Type: scan.TypeString, Strs: ptrs},
				"@logStream":     stream,
				"@log":           logc,
				"user":           {Type: scan.TypeString, Strs: users},
				"code":           {Type: scan.TypeDict, Dict: dict, Codes: codes},
				"n":              {Type: scan.TypeInt, Ints: ns},
			},
		})
	}
	return s
}

// Scan implements scan.Source: every block goes to one of req.Workers
// workers; every column is returned up front (Lazy is ignored, which the
// contract allows).
func (s *bigSource) Scan(ctx context.Context, req *scan.Request, fn func(worker int, b *scan.Block) error) error {
	workers := max(req.Workers, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *scan.Block)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				cp := *b // the engine may not keep it; a copy keeps ours intact
				if err := fn(w, &cp); err != nil {
					errOnce.Do(func() { first = err })
					cancel()
					return
				}
			}
		}()
	}
	blocks := s.blocks
	if req.Descending {
		blocks = make([]*scan.Block, len(s.blocks))
		for i, b := range s.blocks {
			blocks[len(blocks)-1-i] = b
		}
	}
feed:
	for _, b := range blocks {
		if b.MaxTime < req.Start || b.MinTime >= req.End {
			continue
		}
		select {
		case ch <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// Fields implements scan.Source.
func (s *bigSource) Fields(ctx context.Context, account string, groups []string, start, end int64) ([]scan.FieldInfo, error) {
	return []scan.FieldInfo{
		{Name: "code", Type: scan.TypeString, Count: int64(len(s.blocks) * s.blocks[0].Rows)},
		{Name: "n", Type: scan.TypeInt, Count: int64(len(s.blocks) * s.blocks[0].Rows)},
		{Name: "user", Type: scan.TypeString, Count: int64(len(s.blocks) * s.blocks[0].Rows)},
	}, nil
}
