package query

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestSortRowsFastPath checks that the integer-key sort of the workers'
// rows (and the heap's cmpRows) and the unstable sort under a consistent
// cmpKeys order rows exactly as the generic stable sort under cmpKeys
// does, ties and duplicate @ptr included, over integer, float, text and
// null keys, and with keys that make cmpKeys inconsistent (NaN, integers
// beyond 2^53 beside floats), which take the generic path.
func TestSortRowsFastPath(t *testing.T) {
	keyOf := func(rng *rand.Rand, mixed bool) Value {
		switch n := rng.IntN(10); {
		case mixed && n == 0:
			return null
		case mixed && n == 1:
			return vFloat(float64(rng.IntN(20)) + 0.5)
		case mixed && n == 2:
			return vStr([]string{"a", "b", "7"}[rng.IntN(3)])
		case mixed && n == 3 && rng.IntN(20) == 0:
			// Break the order: the generic stable sort must be used.
			return []Value{vFloat(math.NaN()), vInt(1<<53 + 1), vFloat(1 << 53)}[rng.IntN(3)]
		case n < 5:
			return vTime(int64(rng.IntN(20)))
		case n == 5:
			return vInt(int64(rng.Uint64())) // any sign and size (radixRows)
		case n == 6:
			return vBool(rng.IntN(2) == 0)
		default:
			return vInt(int64(rng.IntN(20)) - 10)
		}
	}
	for _, tc := range []struct {
		name  string
		desc  []bool // per key
		mixed bool
	}{
		{"desc", []bool{true}, false},
		{"asc", []bool{false}, false},
		{"desc mixed", []bool{true}, true},
		{"asc mixed", []bool{false}, true},
		{"two keys", []bool{false, true}, false},
		{"two keys mixed", []bool{true, false}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := &executor{p: &plan{tsSlot: 0, ptrSlot: 1}}
			for _, d := range tc.desc {
				ex.p.sort = append(ex.p.sort, sortKey{desc: d})
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for iter := 0; iter < 200; iter++ {
				var rows []*row
				n := rng.IntN(300)
				if iter%4 == 0 {
					n = radixMin + rng.IntN(700)
				}
				for i := n; i > 0; i-- {
					// Rows are told apart by identity; @ptr texts repeat.
					r := &row{vals: []Value{null, vStr(string(rune('a' + rng.IntN(5))))}}
					for range tc.desc {
						r.keys = append(r.keys, keyOf(rng, tc.mixed))
					}
					r.setIntKey()
					rows = append(rows, r)
				}
				want := slices.Clone(rows)
				sort.SliceStable(want, func(i, j int) bool {
					return ex.cmpKeys(want[i].keys, want[j].keys, want[i].vals[1], want[j].vals[1]) < 0
				})
				got := slices.Clone(rows)
				ex.sortRows(got)
				if !slices.Equal(got, want) {
					t.Fatalf("iteration %d: sortRows order differs from the stable sort under cmpKeys", iter)
				}
				for i := 1; i < len(rows); i++ {
					a, b := rows[i-1], rows[i]
					if g, w := ex.cmpRows(a, b), ex.cmpKeys(a.keys, b.keys, a.vals[1], b.vals[1]); g != w {
						t.Fatalf("cmpRows(%v, %v) = %d, cmpKeys says %d", a.keys, b.keys, g, w)
					}
				}
			}
		})
	}
}
