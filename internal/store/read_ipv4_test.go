package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestReadStringsIPv4 checks the table-driven dotted-quad text of every
// octet value in every position, and DictIPv4 alongside it.
func TestReadStringsIPv4(t *testing.T) {
	var raw []byte
	var want []string
	for x := range 256 {
		q := [4]byte{byte(x), byte(255 - x), byte(x * 7), byte(x / 3)}
		raw = append(raw, q[:]...)
		want = append(want, fmt.Sprintf("%d.%d.%d.%d", q[0], q[1], q[2], q[3]))
	}
	got := readStrings(&chunkReader{b: raw}, encIPv4, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: %q, want %q", i, got[i], want[i])
		}
	}
	nums := ipv4Numbers(raw, len(want))
	for i, a := range nums {
		if a != binary.BigEndian.Uint32(raw[4*i:]) {
			t.Fatalf("number %d: %08x", i, a)
		}
	}
	if ipv4Numbers(raw[:7], 2) != nil {
		t.Fatal("short input must give nil")
	}
}

// TestPickBits compares the word-wise gather of presence bits with a bit
// by bit one, including the "every row set" answer (nil).
func TestPickBits(t *testing.T) {
	pres := scan.NewBitmap(300)
	for i := 0; i < 300; i++ {
		if i%5 != 3 {
			pres.Set(i)
		}
	}
	cases := map[string][]int{"empty": {}, "all set": {0, 1, 2, 4, 5, 6, 7, 9}, "some unset": {0, 3, 8, 64, 65, 130, 299}}
	var long []int
	for i := 0; i < 300; i++ {
		if i%5 != 3 || i > 250 {
			long = append(long, i)
		}
	}
	cases["long, unset late"] = long
	var longSet []int
	for i := 0; i < 300; i++ {
		if i%5 != 3 {
			longSet = append(longSet, i)
		}
	}
	cases["long, all set"] = longSet
	for name, rows := range cases {
		for _, ar := range []*colArena{nil, {}} {
			got := pickBits(ar, pres, rows)
			all := true
			for _, r := range rows {
				all = all && pres.Get(r)
			}
			if all {
				if got != nil {
					t.Errorf("%s: every row set but bitmap returned", name)
				}
				continue
			}
			if got == nil {
				t.Fatalf("%s: nil bitmap with unset rows", name)
			}
			for i, r := range rows {
				if got.Get(i) != pres.Get(r) {
					t.Errorf("%s: bit %d (row %d) = %v", name, i, r, got.Get(i))
				}
			}
		}
	}
}

// TestDictPresentSubset checks that a dictionary column with a presence
// bitmap decoded over a dense row subset (straight to the kept rows) agrees
// with decoding every row and compacting, numeric addresses included.
func TestDictPresentSubset(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows = 3000
	for _, width := range []int{50, 1000} { // 1- and 2-byte codes
		var c colData
		c.reset("ip")
		for i := 0; i < rows; i++ {
			if rng.IntN(9) != 0 {
				v := rng.IntN(width)
				c.addStr(int32(i), fmt.Appendf(nil, "10.%d.%d.%d", v>>16, v>>8&255, v&255))
			}
		}
		ts := make([]int64, rows)
		p, _ := encodeColumn(nil, &c, rows, ts, &strScratch{})
		var far colArena
		for k := range far.codes(2 * rows) {
			far.u32.buf[k] = ^uint32(0)
		}
		far.reset()
		full, err := decodeColumnIn(&far, p, rows, ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows; i++ {
			if !full.Has(i) && full.Codes[i] != 0 {
				t.Fatalf("width %d row %d: no value but code %d", width, i, full.Codes[i])
			}
		}
		if full.Type != scan.TypeDict || full.Present == nil {
			t.Fatalf("width %d: want a dictionary with a presence bitmap, got %v", width, full.Type)
		}
		for _, density := range []float64{0.5, 0.9, 1} {
			keep := make([]bool, rows)
			for i := range keep {
				keep[i] = rng.Float64() < density
			}
			sub := newRowSubset(keep)
			// An arena whose memory holds garbage: rows without the
			// field must still read 0.
			var ar colArena
			for k := range ar.codes(4 * rows) {
				ar.u32.buf[k] = ^uint32(0)
			}
			ar.reset()
			got, err := decodeColumnIn(&ar, p, rows, ts, nil, sub)
			if err != nil {
				t.Fatal(err)
			}
			want := compactColumn(full, sub.rows)
			if (got.Present == nil) != (want.Present == nil) {
				t.Fatalf("width %d density %v: presence bitmap %v, want %v", width, density, got.Present != nil, want.Present != nil)
			}
			if len(got.DictIPv4) != len(got.Dict) {
				t.Fatalf("width %d: %d numeric addresses for %d values", width, len(got.DictIPv4), len(got.Dict))
			}
			for i := 0; i < sub.n; i++ {
				if !got.Has(i) && got.Codes[i] != 0 {
					t.Fatalf("width %d density %v row %d: no value but code %d", width, density, i, got.Codes[i])
				}
				if got.Value(i) != want.Value(i) {
					t.Fatalf("width %d density %v row %d: %v, want %v", width, density, i, got.Value(i), want.Value(i))
				}
				if got.Has(i) {
					a := got.DictIPv4[got.Codes[i]]
					if s := fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&255, a>>8&255, a&255); s != want.Value(i).S {
						t.Fatalf("row %d: number %s, text %s", i, s, want.Value(i).S)
					}
				}
			}
		}
	}
}
