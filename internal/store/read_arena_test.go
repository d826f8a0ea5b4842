package store

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestRowSubset checks both ways of building a row subset (sparse and
// dense keep masks, lengths that are not multiples of 8) against the
// definition, reusing memory as scans do.
func TestRowSubset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var old *rowSubset
	for _, tc := range []struct {
		rows    int
		density float64
	}{{0, 0}, {1, 1}, {7, 0.5}, {9, 0.01}, {1000, 0}, {1000, 0.01}, {1003, 0.05}, {4099, 0.5}, {4099, 1}, {100, 0.9}} {
		keep := make([]bool, tc.rows)
		for i := range keep {
			keep[i] = rng.Float64() < tc.density
		}
		s := newRowSubsetIn(keep, old)
		old = s
		j := 0
		for r, k := range keep {
			want := int32(-1)
			if k {
				want = int32(j)
				if j >= len(s.rows) || s.rows[j] != r {
					t.Fatalf("rows=%d density=%v: rows[%d] wrong", tc.rows, tc.density, j)
				}
				j++
			}
			if s.pos[r] != want {
				t.Fatalf("rows=%d density=%v: pos[%d] = %d, want %d", tc.rows, tc.density, r, s.pos[r], want)
			}
		}
		if s.n != j || len(s.rows) != j || countTrue(keep) != j {
			t.Fatalf("rows=%d density=%v: n=%d len(rows)=%d count=%d, want %d", tc.rows, tc.density, s.n, len(s.rows), countTrue(keep), j)
		}
	}
}

// TestArena checks that arena slices are zeroed on reuse, never nil (an
// empty presence list must not read as "every row present"), and do not
// overlap.
func TestArena(t *testing.T) {
	var a colArena
	for round := 0; round < 3; round++ {
		a.reset()
		if p := a.int32s(0); p == nil {
			t.Fatal("int32s(0) is nil")
		}
		x, y := a.ints(100), a.ints(5000)
		for i := range x {
			if x[i] != 0 {
				t.Fatalf("round %d: ints not zeroed", round)
			}
			x[i] = 7
		}
		for i := range y {
			if y[i] != 0 {
				t.Fatalf("round %d: second slice overlaps or is not zeroed", round)
			}
			y[i] = 9
		}
		bm := a.bitmap(130)
		if len(bm) != 3 {
			t.Fatalf("bitmap of 130 rows has %d words", len(bm))
		}
		bm.Set(129)
		var _ scan.Bitmap = bm
	}
	var nilArena *colArena
	if got := nilArena.codes(3); len(got) != 3 {
		t.Fatal("nil arena must allocate")
	}
}

func TestAppendIPv4(t *testing.T) {
	for _, q := range [][4]byte{{0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 99, 100}, {1, 9, 10, 199}} {
		want := fmt.Sprintf("%d.%d.%d.%d", q[0], q[1], q[2], q[3])
		if got := string(appendIPv4(nil, q[:])); got != want {
			t.Errorf("appendIPv4(%v) = %q, want %q", q, got, want)
		}
	}
}
