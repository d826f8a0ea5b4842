package query

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

var (
	oneBigOnce sync.Once
	oneBig     *bigSource
)

// oneBigBlock is a source of a single block of 500,000 rows: a query that
// is cancelled while a worker is in it stops within the block or not at
// all until the block is done.
func oneBigBlock() *bigSource {
	oneBigOnce.Do(func() { oneBig = newBigSource(1, 500_000) })
	return oneBig
}

// countEvals makes every per-row expression of the executors of queries
// run under ctx count its evaluations in n and call cancel once n reaches
// at. It returns the number of expressions wrapped through *wrapped and
// a function that removes the hook.
func countEvals(ctx context.Context, n *atomic.Int64, at int64, cancel func(), wrapped *int) func() {
	execHook = func(ex *executor) {
		if ex.ctx != ctx {
			return
		}
		wrap := func(f evalFn) evalFn {
			if f == nil {
				return nil
			}
			*wrapped++
			return func(c *ectx) Value {
				if n.Add(1) == at {
					cancel()
				}
				return f(c)
			}
		}
		for i := range ex.ops {
			op := &ex.ops[i]
			for j := range op.conj {
				op.conj[j].fn = wrap(op.conj[j].fn)
			}
			for j := range op.itemFns {
				if !op.noop[j] {
					op.itemFns[j] = wrap(op.itemFns[j])
				}
			}
			op.fieldFn = wrap(op.fieldFn)
		}
		for j := range ex.sortKeys {
			ex.sortKeys[j] = wrap(ex.sortKeys[j])
		}
		for j := range ex.byFns {
			ex.byFns[j] = wrap(ex.byFns[j])
		}
		for j := range ex.aggFns {
			ex.aggFns[j] = wrap(ex.aggFns[j])
		}
	}
	return func() { execHook = nil }
}

// TestCancelWithinBlock cancels queries whose per-row work is an
// expression (regex filter, parse, stats key or argument, sort key, fields)
// after a few thousand evaluations inside a 500,000-row block, and checks
// that the query returns context.Canceled having evaluated at most one
// more chunk (cancelEvery rows) per worker, not the rest of the block.
// Before the in-block checks every one of these evaluated the whole block.
func TestCancelWithinBlock(t *testing.T) {
	src := oneBigBlock()
	rows := int64(src.blocks[0].Rows)
	const workers = 2
	const at = 3000 // evaluations before the cancel
	for _, tc := range []struct{ name, q string }{
		{"regex filter", `filter @message like /"n":\d*99999\d,/ | stats count(*)`},
		{"regex filter and sort", `filter @message like /lazy/ and n >= 0 | sort @timestamp desc | limit 3`},
		{"dictionary filter of distinct entries", `filter code like /^c\d+9$/ | stats count(*)`},
		{"parse regex", `parse @message /"ip":"(?<ip>[^"]*)"/ | stats count(*) by ip`},
		{"parse glob", `parse @message '"ip":"*"' as ip | filter ip = "nowhere"`},
		{"fields strlen", `fields strlen(@message) as len | stats max(len)`},
		{"stats by expression", `stats count(*) by concat(user, "-x")`},
		{"stats by two keys", `stats count(*) by user, n % 3`},
		{"stats argument expression", `stats sum(strlen(@message)) by user`},
		{"sort", `sort user desc, n asc | limit 5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var evals atomic.Int64
			wrapped := 0
			defer countEvals(ctx, &evals, at, cancel, &wrapped)()
			res, err := Run(ctx, src, q, Options{Groups: []string{"/big"}, Workers: workers})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v (result %v), want context.Canceled", err, res != nil)
			}
			// At most the chunk each worker was in when cancel was
			// called, for every expression a row may evaluate (plus a
			// filter's one evaluation on a missing field).
			bound := at + int64(workers*cancelEvery*wrapped+wrapped)
			got := evals.Load()
			t.Logf("%d evaluations of %d expressions (cancel at %d, bound %d, block of %d rows)", got, wrapped, at, bound, rows)
			if got > bound || got > rows/10 {
				t.Errorf("%d evaluations after cancel at %d: want at most %d (the block has %d rows)", got, at, bound, rows)
			}
		})
	}
}

// cancelAtEnd is a source that cancels the query's context once its inner
// source has delivered every block, and then reports success.
type cancelAtEnd struct {
	scan.Source
	cancel func()
}

func (s cancelAtEnd) Scan(ctx context.Context, req *scan.Request, fn func(int, *scan.Block) error) error {
	err := s.Source.Scan(ctx, req, fn)
	s.cancel()
	return err
}

// TestCancelAfterScan: a query stopped after its last block returns
// context.Canceled rather than merging and sorting its groups.
func TestCancelAfterScan(t *testing.T) {
	q, err := Parse(`stats count(*) by user`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := cancelAtEnd{Source: manyEvents(t, 1000), cancel: cancel}
	if _, err := Run(ctx, src, q, Options{Groups: []string{"/g"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestChunkedLoopsComplete runs the chunked loops over many chunks of one
// block without cancelling and checks the answers (worked out from how
// newBigSource numbers its rows), so that no row is lost or counted twice
// at a chunk boundary.
func TestChunkedLoopsComplete(t *testing.T) {
	src := oneBigBlock()
	for _, tc := range []struct {
		q    string
		want [][]Field
	}{
		{`filter @message like /"n":\d*9999\d,/ | stats count(*) as c`, [][]Field{{{"c", "50"}}}},
		{`filter code like /^c\d*77777$/ | stats count(*) as c`, [][]Field{{{"c", "5"}}}},
		{`parse @message '"ip":"10.*.*.' as a, b | filter b = "250" and a = "6" | stats count(*) as c`, [][]Field{{{"c", "284"}}}},
		{`stats count(*) as c by n % 3 | sort c desc | limit 1`, [][]Field{{{"n % 3", "0"}, {"c", "166667"}}}},
		{`sort n desc | limit 1 | fields n`, [][]Field{{{"n", "499999"}}}},
		{`fields n * 2 as m | stats sum(m) as s, count(m) as c`, [][]Field{{{"s", "249999500000"}, {"c", "500000"}}}},
	} {
		res, err := Run(context.Background(), src, mustParse(t, tc.q), Options{Groups: []string{"/big"}, Workers: 2})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		var got [][]Field
		for _, r := range res.Rows {
			var keep []Field
			for _, f := range r {
				if f.Name != "@ptr" {
					keep = append(keep, f)
				}
			}
			got = append(got, keep)
		}
		if !equalRows(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.q, got, tc.want)
		}
	}
}

func mustParse(t *testing.T, s string) *Query {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return q
}

func equalRows(a, b [][]Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
