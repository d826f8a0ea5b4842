package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
)

func TestIDSet(t *testing.T) {
	var s idSet
	want := map[uint32]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		id := uint32(r.IntN(5000))
		if i%7 == 0 {
			id = r.Uint32() >> 1 // ids stay below 1<<32-1 (interner sizes)
		}
		if got := s.add(id); got == want[id] {
			t.Fatalf("add(%d) = %v with %d already=%v", id, got, id, want[id])
		}
		want[id] = true
	}
	if s.n != len(want) {
		t.Fatalf("n = %d, want %d", s.n, len(want))
	}
	seen := 0
	s.each(func(id uint32) {
		if !want[id] {
			t.Fatalf("each gave %d", id)
		}
		seen++
	})
	if seen != len(want) {
		t.Fatalf("each gave %d ids, want %d", seen, len(want))
	}
}

// TestDistinctFastPath checks count_distinct grouped by a string field
// (block-level pair dedupe, buffered pairs flushed in batches, ids
// translated between workers) against counts computed directly, with
// missing keys and values, over several blocks, worker counts and with
// partial results on.
func TestDistinctFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := memsource.New()
	want := map[string]map[string]bool{}
	var b strings.Builder
	n := 3*memsource.BlockRows + 777
	for i := 0; i < n; i++ {
		// Keys of 7 to 66 bytes: inline in the string tables and not.
		u := r.IntN(3000) // enough groups shared by workers to merge them in parallel
		user, ip := fmt.Sprintf("user-%d-%s", u, strings.Repeat("x", u%60)), fmt.Sprintf("10.%d.%d.%d", r.IntN(3), r.IntN(20), r.IntN(40))
		rec := fmt.Sprintf(`{"event_timestamp":%d`, 1714564800000+int64(i)*1000)
		key := "\x00missing"
		if r.IntN(20) != 0 {
			rec += fmt.Sprintf(`,"user":%q`, user)
			key = user
		}
		if want[key] == nil {
			want[key] = map[string]bool{}
		}
		if r.IntN(10) != 0 {
			rec += fmt.Sprintf(`,"ip":%q`, ip)
			want[key][ip] = true
		}
		b.WriteString(rec + "}\n")
	}
	if _, err := src.LoadJSON(strings.NewReader(b.String()), "gen", "", "/g", "s"); err != nil {
		t.Fatal(err)
	}
	q, err := Parse(`stats count_distinct(ip) as d by user`)
	if err != nil {
		t.Fatal(err)
	}
	defer func(old int) { distinctBatch = old }(distinctBatch)
	for _, batch := range []int{1 << 18, 100} {
		distinctBatch = batch
		for _, workers := range []int{1, 2, 3} {
			for _, partial := range []bool{false, true} {
				opt := Options{Groups: []string{"/g"}, Workers: workers}
				if partial {
					opt.Partial = func([][]Field, Stats) {}
					opt.PartialEvery = time.Millisecond
				}
				res, err := Run(context.Background(), src, q, opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Rows) != len(want) {
					t.Fatalf("batch %d, %d workers, partial %v: %d groups, want %d", batch, workers, partial, len(res.Rows), len(want))
				}
				for _, row := range res.Rows {
					key, d := "\x00missing", ""
					for _, f := range row {
						switch f.Name {
						case "user":
							key = f.Value
						case "d":
							d = f.Value
						}
					}
					if w := strconv.Itoa(len(want[key])); d != w {
						t.Errorf("batch %d, %d workers, partial %v: user %q: count_distinct %s, want %s", batch, workers, partial, key, d, w)
					}
				}
			}
		}
	}
}

// TestPairDedupe checks the block-level pair table, growth included.
func TestPairDedupe(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var ps pairSet
	for round, distinct := range []int{10, 5000, 100000, 3} {
		a, b := make([]int32, 200000), make([]int32, 200000)
		var want []uint64
		seen := map[uint64]bool{}
		for i := range a {
			a[i], b[i] = int32(r.IntN(distinct+1))-1, int32(r.IntN(distinct+1))-1
			p := uint64(uint32(a[i]+1))<<32 | uint64(uint32(b[i]+1))
			if !seen[p] {
				seen[p] = true
				want = append(want, p)
			}
		}
		for _, n := range []int{distinct, 1 << 20} { // 32- and 64-bit tables
			// The order is the path's own (first appearance, or by first
			// code): compare as sets.
			got := slices.Clone(ps.dedupe(a, b, n, n))
			slices.Sort(got)
			if w := slices.Sorted(slices.Values(want)); !slices.Equal(got, w) {
				t.Fatalf("round %d, %d codes: %d distinct pairs, want %d", round, n, len(got), len(want))
			}
		}
	}
}
