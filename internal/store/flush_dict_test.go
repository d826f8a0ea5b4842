package store

import (
	"fmt"
	"testing"
)

// TestStrDict checks the dictionary table of encodeStrings against a map,
// through growth and with many colliding hashes.
func TestStrDict(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		hash func(s []byte) uint64
	}{
		{"few", 10, nil},
		{"growing", 100000, nil},
		{"colliding", 3000, func(s []byte) uint64 { return uint64(len(s)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d strDict
			for round := 0; round < 2; round++ { // the second round reuses the table
				d.reset()
				var order [][]byte
				want := map[string]uint32{}
				for i := 0; i < 3*tc.n; i++ {
					s := []byte(fmt.Sprintf("v%d", (i*7919)%tc.n))
					h := dictHash(s)
					if tc.hash != nil {
						h = tc.hash(s)
					}
					code, ok := d.find(h, s, order)
					w, wok := want[string(s)]
					if ok != wok || (ok && code != w) {
						t.Fatalf("find(%q) = %d, %v; want %d, %v", s, code, ok, w, wok)
					}
					if !ok {
						code = uint32(len(order))
						d.add(h, code)
						order = append(order, s)
						want[string(s)] = code
					}
				}
				if len(order) != tc.n {
					t.Fatalf("%d distinct values, want %d", len(order), tc.n)
				}
			}
		})
	}
}
