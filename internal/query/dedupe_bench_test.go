package query

import (
	"math/rand/v2"
	"testing"
)

// dedupeInput is a block like the 10M benchmark's: rows rows, users users
// each seen from a few of addrs addresses, and a few rows lacking one
// field or the other (code -1).
func dedupeInput(rows, users, addrs int) (a, b []int32) {
	r := rand.New(rand.NewPCG(1, 2))
	ips := make([][]int32, users)
	for u := range ips {
		n := 1 + r.IntN(6)
		for range n {
			ips[u] = append(ips[u], int32(r.IntN(addrs)))
		}
	}
	for range rows {
		u := r.IntN(users)
		x, y := int32(u), ips[u][r.IntN(len(ips[u]))]
		switch r.IntN(50) {
		case 0:
			x = -1
		case 1:
			y = -1
		}
		a = append(a, x)
		b = append(b, y)
	}
	return a, b
}

// TestPairDedupeSmallAndWide checks both dedupe paths (16-bit codes and
// wide codes) against a map: every pair once, nothing else.
func TestPairDedupeSmallAndWide(t *testing.T) {
	for _, tc := range []struct{ rows, users, addrs int }{{0, 1, 1}, {1, 1, 1}, {1000, 3, 2}, {116000, 5000, 8000}, {5000, 60000, 70000}} {
		a, b := dedupeInput(tc.rows, tc.users, tc.addrs)
		want := map[uint64]bool{}
		for k := range a {
			want[uint64(uint32(a[k]+1))<<32|uint64(uint32(b[k]+1))] = true
		}
		var ps pairSet
		for round := 0; round < 2; round++ { // the second round reuses the tables
			got := ps.dedupe(a, b, tc.users, tc.addrs)
			if len(got) != len(want) {
				t.Fatalf("%+v: %d pairs, want %d", tc, len(got), len(want))
			}
			seen := map[uint64]bool{}
			for _, p := range got {
				if !want[p] || seen[p] {
					t.Fatalf("%+v: pair %x unexpected or repeated", tc, p)
				}
				seen[p] = true
			}
		}
	}
}

// BenchmarkPairDedupe measures a benchmark-sized block's pair dedupe.
func BenchmarkPairDedupe(b *testing.B) {
	x, y := dedupeInput(116000, 5000, 8000)
	var ps pairSet
	for b.Loop() {
		ps.dedupe(x, y, 5000, 8000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/row")
}
