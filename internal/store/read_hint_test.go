package store

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestAndPresentWords checks the word-at-a-time andPresent, and the
// presence hint that feeds it, against row-by-row definitions, over
// lengths around word boundaries, with and without keep and presence.
func TestAndPresentWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 200, 1003} {
		for round := 0; round < 20; round++ {
			density := []float64{0, 0.5, 0.97, 1}[round%4]
			pass := make([]bool, n)
			keep := make([]bool, n)
			pres := scan.NewBitmap(n + 64) // longer than the rows, as a block's can be
			for i := range pass {
				pass[i] = rng.Float64() < density
				keep[i] = rng.Float64() < 0.9
				if rng.Float64() < density {
					pres.Set(i)
				}
			}
			for _, withKeep := range []bool{false, true} {
				for _, withPres := range []bool{false, true} {
					want := make([]bool, n)
					all := true
					for i := range want {
						want[i] = pass[i] && (!withPres || pres.Get(i)) && (!withKeep || keep[i])
						all = all && want[i]
					}
					var k []bool
					if withKeep {
						k = slices.Clone(keep)
					}
					var p scan.Bitmap
					if withPres {
						p = pres
					}
					got := andPresent(k, slices.Clone(pass), p)
					if !withKeep && all {
						if got != nil {
							t.Fatalf("n=%d: every row passes but got a mask", n)
						}
						continue
					}
					if !slices.Equal(got, want) {
						t.Fatalf("n=%d keep=%v present=%v: got %v, want %v", n, withKeep, withPres, got, want)
					}
				}
			}
			// The presence hint.
			col := &scan.Column{Type: scan.TypeInt, Ints: make([]int64, n), Present: pres}
			got := applyHint(nil, col, &scan.Hint{Op: scan.HintPresent, Field: "x"}, n, nil)
			for i := 0; i < n; i++ {
				if (got == nil || got[i]) != pres.Get(i) {
					t.Fatalf("n=%d: presence hint row %d = %v, bit %v", n, i, got == nil || got[i], pres.Get(i))
				}
			}
		}
	}
	for x := range 256 {
		for k := 0; k < 8; k++ {
			if byte(spreadBits[x]>>(8*k)) != byte(x>>k&1) {
				t.Fatalf("spreadBits[%d] byte %d", x, k)
			}
		}
	}
}
