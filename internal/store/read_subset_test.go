package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowSubsetLazy: a subset whose positions are built on first use
// (sparse keep masks) equals the eagerly built one, whichever subset's
// memory it reuses (one with positions, one without, a smaller one).
func TestRowSubsetLazy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var old *rowSubset
	for round, tc := range []struct {
		rows    int
		density float64
	}{{1000, 0.01}, {1000, 0.5}, {5000, 0.001}, {5000, 0.002}, {10, 0}, {4099, 0.03}, {20000, 0.01}, {20000, 0.9}, {3, 1}} {
		keep := make([]bool, tc.rows)
		for i := range keep {
			keep[i] = rng.Float64() < tc.density
		}
		want := newRowSubset(keep)
		got := newRowSubsetLazy(keep, old)
		if got.n != want.n || got.nrows != tc.rows || !slices.Equal(got.rows, want.rows) {
			t.Fatalf("case %d: n=%d nrows=%d rows=%v…, want n=%d rows=%v…", round, got.n, got.nrows, got.rows[:min(4, len(got.rows))], want.n, want.rows[:min(4, len(want.rows))])
		}
		if round%2 == 0 {
			// Every other subset is left without positions, so the next
			// one reuses memory that was never filled.
			if p := got.positions(); !slices.Equal(p, want.pos) {
				t.Fatalf("case %d: positions differ", round)
			}
			if p := got.positions(); !slices.Equal(p, want.pos) {
				t.Fatalf("case %d: positions differ on the second call", round)
			}
		}
		old = got
	}
}
