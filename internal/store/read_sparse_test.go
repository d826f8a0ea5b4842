package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDecodeSparseSubset decodes columns of every kind over sparse row
// subsets, as a selective scan and its lazy loads do, and compares them
// with the full decode at those rows: the hints' subset (output row k is
// the k-th kept row) and a lazy load's subset (kept rows scattered over a
// larger block of output rows). Arenas start dirty.
func TestDecodeSparseSubset(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows = 3000
	ts := make([]int64, rows)
	for i := range ts {
		ts[i] = 1746057600000 + int64(i)*300 + int64(rng.IntN(200))
	}
	type gen func(c *colData, i int)
	kinds := map[string]gen{
		"int small deltas": func(c *colData, i int) { c.addInt(int32(i), int64(5000+i)) },
		"int stepped":      func(c *colData, i int) { c.addInt(int32(i), int64(i)*250+int64(rng.IntN(100))) },
		"int plain":        func(c *colData, i int) { c.addInt(int32(i), int64(rng.IntN(300))-100) },
		"int wide":         func(c *colData, i int) { c.addInt(int32(i), int64(rng.Uint64()>>rng.IntN(64))) },
		"int near ts":      func(c *colData, i int) { c.addInt(int32(i), ts[i]+int64(rng.IntN(3))) },
		"dict str":         func(c *colData, i int) { c.addStr(int32(i), fmt.Appendf(nil, "user%d", rng.IntN(200))) },
		"dict ipv4": func(c *colData, i int) {
			c.addStr(int32(i), fmt.Appendf(nil, "10.0.%d.%d", rng.IntN(4), rng.IntN(250)))
		},
		"dict uuid": func(c *colData, i int) {
			c.addStr(int32(i), fmt.Appendf(nil, "7b0c3a52-1111-4222-8333-4444555566%02x", rng.IntN(150)))
		},
		"str": func(c *colData, i int) { c.addStr(int32(i), fmt.Appendf(nil, "free text %d %d", i, rng.Uint32())) },
		"str empty": func(c *colData, i int) {
			c.addStr(int32(i), fmt.Appendf(nil, "%.*s%d", rng.IntN(2)*3, "abc", i))
		},
	}
	for name, g := range kinds {
		for _, presence := range []float64{1, 0.7} {
			var c colData
			c.reset("x")
			for i := 0; i < rows; i++ {
				if rng.Float64() < presence {
					g(&c, i)
				}
			}
			p, _ := encodeColumn(nil, &c, rows, ts, &strScratch{})
			full, err := decodeColumn(p, rows, ts, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, density := range []float64{0.001, 0.01, 0.05, 0.3} {
				keep := make([]bool, rows)
				for i := range keep {
					keep[i] = rng.Float64() < density
				}
				keep[rows-1] = density > 0.01 // the last row, or not
				label := fmt.Sprintf("%s/presence=%v/density=%v", name, presence, density)
				var ar colArena
				dirty(&ar, rows)
				// The hints' subset: output row k is the k-th kept row.
				sub := newRowSubsetLazy(keep, nil)
				got, err := decodeColumnIn(&ar, p, rows, ts, nil, sub)
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				for k, r := range sub.rows {
					if g, w := got.Value(k), full.Value(r); g != w {
						t.Fatalf("%s: kept row %d (row %d): %#v, want %#v", label, k, r, g, w)
					}
					if got.DictIPv4 != nil && got.Has(k) {
						if len(got.DictIPv4) != len(got.Dict) {
							t.Fatalf("%s: %d addresses for %d values", label, len(got.DictIPv4), len(got.Dict))
						}
						a := got.DictIPv4[got.Codes[k]]
						if s := fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&255, a>>8&255, a&255); s != got.Value(k).S {
							t.Fatalf("%s: kept row %d: address %s, text %s", label, k, s, got.Value(k).S)
						}
					}
				}
				// A lazy load's subset: the kept rows go to every third
				// output row.
				ls := &rowSubset{n: 3 * len(sub.rows), nrows: rows, pos: make([]int32, rows), rows: sub.rows}
				fillMinus1(ls.pos)
				for k, r := range sub.rows {
					ls.pos[r] = int32(3 * k)
				}
				dirty(&ar, rows)
				got, err = decodeColumnIn(&ar, p, rows, ts, nil, ls)
				if err != nil {
					t.Fatalf("%s (lazy): %v", label, err)
				}
				for k, r := range sub.rows {
					if g, w := got.Value(3*k), full.Value(r); g != w {
						t.Fatalf("%s (lazy): row %d: %#v, want %#v", label, r, g, w)
					}
				}
			}
		}
	}
}

// dirty fills an arena's memory with garbage and resets it, as a previous
// block would leave it.
func dirty(ar *colArena, rows int) {
	ar.reset()
	for _, x := range [][]int64{ar.fullInts(4 * rows)} {
		for i := range x {
			x[i] = -3
		}
	}
	for i := range ar.fullCodes(4 * rows) {
		ar.u32.buf[i] = ^uint32(0)
	}
	for i := range ar.int32s(4 * rows)[:4*rows] {
		ar.i32.buf[i] = -5
	}
	ar.reset()
}

// TestSumZigzag checks the word-at-a-time sums of short varints against
// decoding them one by one, over random words of the right shape.
func TestSumZigzag(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n < 100000; n++ {
		w := rng.Uint64()
		one := w & 0x7f7f7f7f7f7f7f7f
		two := w&0x7f7f7f7f7f7f7f7f | 0x0080008000800080
		if n < 4 {
			one, two = []uint64{0, 0x7f7f7f7f7f7f7f7f, 0x0101010101010101, 0x7e7e7e7e7e7e7e7e}[n], 0x7fff7fff7fff7fff&^uint64(n)
			two |= 0x0080008000800080
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], one)
		want := int64(0)
		for _, u := range b {
			want += unzigzag(uint64(u))
		}
		if got := sumZigzag1x8(one); got != want {
			t.Fatalf("one-byte %016x: %d, want %d", one, got, want)
		}
		binary.LittleEndian.PutUint64(b[:], two)
		want = 0
		for at := 0; at < 8; {
			u, k := binary.Uvarint(b[at:])
			if k != 2 {
				t.Fatalf("two-byte %016x: varint of %d bytes", two, k)
			}
			want += unzigzag(u)
			at += k
		}
		if got := sumZigzag2x4(two); got != want {
			t.Fatalf("two-byte %016x: %d, want %d", two, got, want)
		}
	}
}

// BenchmarkSparseInts decodes a few rows (one in 300, a top-k's matches)
// of a full delta column of 120,000 rows, sequence-number-like (one-byte
// deltas) and timestamp-like (mostly two-byte deltas), against decoding
// every row.
func BenchmarkSparseInts(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const rows = 120000
	for _, kind := range []string{"seq", "ts"} {
		var c colData
		c.reset("x")
		v := int64(0)
		for i := 0; i < rows; i++ {
			switch {
			case kind == "seq":
				v++
			case rng.IntN(10) == 0:
				v += int64(rng.IntN(60))
			default:
				v += 70 + int64(rng.IntN(800))
			}
			c.addInt(int32(i), v)
		}
		p, _ := encodeColumn(nil, &c, rows, nil, &strScratch{})
		keep := make([]bool, rows)
		for i := range keep {
			keep[i] = rng.IntN(300) == 0
		}
		sub := newRowSubset(keep)
		var ar colArena
		b.Run(kind+"/subset", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ar.reset()
				if _, err := decodeColumnIn(&ar, p, rows, nil, nil, sub); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kind+"/every-row", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ar.reset()
				if _, err := decodeColumnIn(&ar, p, rows, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeDeltas checks the word-at-a-time decoding of delta varints
// against binary.Uvarint one by one: sorted times with one-, two- and
// three-byte gaps, negative deltas among them, lengths around the word
// boundaries, and truncated input.
func TestDecodeDeltas(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gaps := map[string]func() int64{
		"timestamps": func() int64 { return int64(rng.IntN(900)) },
		"two-byte":   func() int64 { return 64 + int64(rng.IntN(8000)) },
		"mixed":      func() int64 { return int64(rng.IntN(20000)) - 300 },
		"odd":        func() int64 { return 63 + 2*int64(rng.IntN(4000)) },
		"wide":       func() int64 { return int64(rng.Uint64() >> (1 + rng.IntN(63))) },
	}
	for name, gap := range gaps {
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 100, 4097} {
			var b []byte
			want := make([]int64, n)
			v := int64(0)
			for i := range want {
				d := gap()
				v += d
				want[i] = v
				b = binary.AppendUvarint(b, zigzag(d))
			}
			got := make([]int64, n)
			if end := decodeDeltas(b, 0, got); end != len(b) {
				t.Fatalf("%s/%d: ended at %d of %d", name, n, end, len(b))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s/%d: value %d = %d, want %d", name, n, i, got[i], want[i])
				}
			}
			if n > 0 {
				if end := decodeDeltas(b[:len(b)-1], 0, got); end != -1 {
					t.Fatalf("%s/%d: truncated input ended at %d", name, n, end)
				}
				if end := decodeDeltas(b, 0, make([]int64, n+1)); end != -1 {
					t.Fatalf("%s/%d: one value too many ended at %d", name, n, end)
				}
			}
		}
	}
}

// BenchmarkSparseDict decodes one row in 300 of a 120,000-row column of
// 20,000 distinct user names (a lazy load of a top-k's output field).
func BenchmarkSparseDict(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	const rows = 120000
	var c colData
	c.reset("user")
	for i := 0; i < rows; i++ {
		c.addStr(int32(i), fmt.Appendf(nil, "user.name.%d@example.org", rng.IntN(20000)))
	}
	p, _ := encodeColumn(nil, &c, rows, nil, &strScratch{})
	keep := make([]bool, rows)
	for i := range keep {
		keep[i] = rng.IntN(300) == 0
	}
	sub := newRowSubset(keep)
	var ar colArena
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ar.reset()
		if _, err := decodeColumnIn(&ar, p, rows, nil, nil, sub); err != nil {
			b.Fatal(err)
		}
	}
}
