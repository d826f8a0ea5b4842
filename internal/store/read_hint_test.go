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

// TestPtrStrings: pointers built in one buffer equal formatPtr's, at the
// output rows asked, and parse back.
func TestPtrStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n = 500
	ts := make([]int64, n)
	seq := make([]uint64, n)
	for i := range ts {
		ts[i] = 1746057600000 + rng.Int64N(1<<40) - 1<<39
		seq[i] = rng.Uint64() >> rng.IntN(64)
	}
	ts[0], seq[0] = -1<<63, 1<<64-1 // the longest
	strs := make([]string, 2*n)
	ptrStrings(strs, 7, n, func(k int) (int, int64, uint64) { return 2 * k, ts[k], seq[k] })
	for k := 0; k < n; k++ {
		if want := formatPtr(7, ts[k], seq[k]); strs[2*k] != want {
			t.Fatalf("row %d: %q, want %q", k, strs[2*k], want)
		}
		if strs[2*k+1] != "" {
			t.Fatalf("row %d: odd output row written", k)
		}
		if g, tt, s, err := parsePtr(strs[2*k]); err != nil || g != 7 || tt != ts[k] || s != seq[k] {
			t.Fatalf("row %d: parsed %d %d %d %v", k, g, tt, s, err)
		}
	}
}
