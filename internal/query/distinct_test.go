package query

import (
	"math/rand/v2"
	"testing"
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
