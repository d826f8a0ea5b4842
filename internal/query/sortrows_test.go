package query

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestSortRowsFastPath checks that the integer-key sort of the workers'
// rows (and the heap's cmpRows) order rows exactly as the generic stable
// sort under cmpKeys does, ties and duplicate @ptr included, and that a
// row whose key is not an integer sends the whole sort down the generic
// path with the same result.
func TestSortRowsFastPath(t *testing.T) {
	keyOf := func(rng *rand.Rand, mixed bool) Value {
		switch n := rng.IntN(10); {
		case mixed && n == 0:
			return null
		case mixed && n == 1:
			return vFloat(float64(rng.IntN(20)) + 0.5)
		case mixed && n == 2:
			return vStr([]string{"a", "b", "7"}[rng.IntN(3)])
		case n < 5:
			return vTime(int64(rng.IntN(20)))
		default:
			return vInt(int64(rng.IntN(20)))
		}
	}
	for _, tc := range []struct {
		name  string
		desc  bool
		mixed bool
	}{
		{"desc", true, false},
		{"asc", false, false},
		{"desc mixed", true, true},
		{"asc mixed", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := &executor{p: &plan{sort: []sortKey{{desc: tc.desc}}, tsSlot: 0, ptrSlot: 1}}
			rng := rand.New(rand.NewPCG(1, 2))
			for iter := 0; iter < 200; iter++ {
				var rows []*row
				for i := rng.IntN(300); i > 0; i-- {
					vals := make([]Value, 3)
					vals[1] = vStr(string(rune('a' + rng.IntN(5)))) // duplicate @ptr texts
					vals[2] = vInt(int64(i))                        // tells duplicates apart
					r := &row{vals: vals[:2], keys: vals[2:3]}
					r.keys = []Value{keyOf(rng, tc.mixed)}
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
