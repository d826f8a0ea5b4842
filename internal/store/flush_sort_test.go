package store

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortRows checks the run-merging sort against a plain sort on inputs
// with no, few and too many sorted runs, and with equal timestamps.
func TestSortRows(t *testing.T) {
	for _, tc := range []struct {
		n, runs int
		tsRange int64
	}{
		{0, 1, 10}, {1, 1, 10}, {100, 1, 1000}, {1000, 2, 1000}, {1000, 3, 5},
		{5000, 7, 100000}, {5000, 64, 100000}, {5000, 65, 100000}, {5000, 5000, 50},
	} {
		t.Run(fmt.Sprintf("n=%d/runs=%d", tc.n, tc.runs), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.runs)))
			rows := make([]memRow, tc.n)
			for i := range rows {
				rows[i] = memRow{ts: r.Int64N(tc.tsRange), seq: uint64(i)}
			}
			// Sort each of tc.runs slices, as batches appended in turn.
			per := max(1, (tc.n+tc.runs-1)/tc.runs)
			for lo := 0; lo < tc.n; lo += per {
				run := rows[lo:min(lo+per, tc.n)]
				slices.SortFunc(run, func(a, b memRow) int { return cmp.Compare(a.ts, b.ts) })
			}
			want := slices.Clone(rows)
			slices.SortFunc(want, func(a, b memRow) int {
				if c := cmp.Compare(a.ts, b.ts); c != 0 {
					return c
				}
				return cmp.Compare(a.seq, b.seq)
			})
			sortRows(rows)
			for i := range rows {
				if rows[i].ts != want[i].ts || rows[i].seq != want[i].seq {
					t.Fatalf("row %d = (%d, %d), want (%d, %d)", i, rows[i].ts, rows[i].seq, want[i].ts, want[i].seq)
				}
			}
		})
	}
}
