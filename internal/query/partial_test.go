package query

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// gateSource is a real memsource whose blocks reach the engine one at a
// time, each when the test sends on gate: a slow source under the test's
// control.
type gateSource struct {
	*memsource.Source
	gate chan struct{}
}

func (g *gateSource) Scan(ctx context.Context, req *scan.Request, fn func(int, *scan.Block) error) error {
	return g.Source.Scan(ctx, req, func(w int, b *scan.Block) error {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return fn(w, b)
	})
}

type partialCall struct {
	rows [][]Field
	st   Stats
}

func intField(t *testing.T, r []Field, name string) int {
	t.Helper()
	for _, f := range r {
		if f.Name == name {
			n, err := strconv.Atoi(f.Value)
			if err != nil {
				t.Fatalf("field %s = %q", name, f.Value)
			}
			return n
		}
	}
	t.Fatalf("row %v lacks %s", r, name)
	return 0
}

// TestPartial releases the blocks of a slow source one by one and checks
// that Options.Partial shows the rows so far (growing, in final order)
// before Run returns the final result.
func TestPartial(t *testing.T) {
	const blocks = 5
	base := manyEvents(t, blocks*memsource.BlockRows)
	sumC := func(t *testing.T, rows [][]Field) int {
		n := 0
		for _, r := range rows {
			n += intField(t, r, "c")
		}
		return n
	}
	tests := []struct {
		name  string
		query string
		// reflects reports whether a partial shows exactly the first
		// `released` blocks, and checks its invariants.
		reflects func(t *testing.T, rows [][]Field, released int) bool
	}{
		{"top-k by time", `fields n`, func(t *testing.T, rows [][]Field, released int) bool {
			for i := 1; i < len(rows); i++ {
				if intField(t, rows[i-1], "n") <= intField(t, rows[i], "n") {
					t.Fatalf("partial rows out of order at %d: %v %v", i, rows[i-1], rows[i])
				}
			}
			return len(rows) == min(DefaultLimit, released*memsource.BlockRows)
		}},
		{"stats count", `stats count(*) as c by user`, func(t *testing.T, rows [][]Field, released int) bool {
			return sumC(t, rows) == released*memsource.BlockRows
		}},
		{"stats count_distinct sorted", `stats count_distinct(ip) as d, count(*) as c by user | sort d desc, user asc`, func(t *testing.T, rows [][]Field, released int) bool {
			for i := 1; i < len(rows); i++ {
				if intField(t, rows[i-1], "d") < intField(t, rows[i], "d") {
					t.Fatalf("partial rows out of order at %d", i)
				}
			}
			return sumC(t, rows) == released*memsource.BlockRows
		}},
		{"sort limit then filter", `fields n | sort n asc | limit 20 | filter n % 2 = 0`, func(t *testing.T, rows [][]Field, released int) bool {
			for i := 1; i < len(rows); i++ {
				if intField(t, rows[i-1], "n") >= intField(t, rows[i], "n") {
					t.Fatalf("partial rows out of order at %d", i)
				}
			}
			return len(rows) == 10
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Run(context.Background(), base, q, Options{Groups: []string{"/g"}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &gateSource{Source: base, gate: make(chan struct{})}
			calls := make(chan partialCall, 1000)
			type result struct {
				res *Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := Run(ctx, src, q, Options{
					Groups:       []string{"/g"},
					PartialEvery: 5 * time.Millisecond,
					Partial:      func(rows [][]Field, st Stats) { calls <- partialCall{rows, st} },
				})
				done <- result{res, err}
			}()
			prevScanned := 0.0
			for released := 1; released <= blocks; released++ {
				src.gate <- struct{}{}
				if released == blocks {
					break // Run may finish before another partial
				}
				deadline := time.After(30 * time.Second)
			wait:
				for {
					select {
					case c := <-calls:
						if c.st.RecordsScanned < prevScanned {
							t.Fatalf("statistics went back: %v after %v", c.st.RecordsScanned, prevScanned)
						}
						prevScanned = c.st.RecordsScanned
						if tc.reflects(t, c.rows, released) {
							break wait
						}
					case <-deadline:
						t.Fatalf("no partial result showing %d blocks", released)
					}
				}
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !reflect.DeepEqual(r.res.Rows, want.Rows) {
				t.Errorf("final rows differ from a run without partial results")
			}
			// No call after Run returned.
			n := len(calls)
			time.Sleep(20 * time.Millisecond)
			if len(calls) != n {
				t.Errorf("Partial called after Run returned")
			}
		})
	}
}

// TestPartialStatsMonotone checks that partial count_distinct values never
// exceed the final ones (they only grow while blocks arrive).
func TestPartialStatsMonotone(t *testing.T) {
	src := manyEvents(t, 6*memsource.BlockRows)
	q, _ := Parse(`stats count_distinct(ip) as d by user`)
	final := map[string]int{}
	var got [][][]Field
	res, err := Run(context.Background(), src, q, Options{
		Groups:       []string{"/g"},
		PartialEvery: time.Millisecond,
		Partial:      func(rows [][]Field, _ Stats) { got = append(got, rows) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		final[r[0].Value] = intField(t, r, "d")
	}
	for _, rows := range got {
		for _, r := range rows {
			if d := intField(t, r, "d"); d > final[r[0].Value] {
				t.Fatalf("partial %v above final %d", r, final[r[0].Value])
			}
		}
		if !slices.IsSortedFunc(rows, func(a, b []Field) int { return cmpStr(a[0].Value, b[0].Value) }) {
			t.Fatalf("partial stats rows not ordered by key: %v", fmt.Sprint(rows[:min(5, len(rows))]))
		}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
