package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// intMatchesWant is what intMatches must return: the rows (and values) of
// the decoded column that applyHint keeps.
func intMatchesWant(t *testing.T, p []byte, nrows int, h *scan.Hint) ([]int32, []int64) {
	t.Helper()
	col, err := decodeColumn(p, nrows, nil, nil)
	if err != nil {
		t.Fatalf("decodeColumn: %v", err)
	}
	keep := applyHint(nil, col, h, nrows, nil)
	rows, vals := []int32{}, []int64{}
	for i := 0; i < nrows; i++ {
		if keep == nil || keep[i] {
			rows = append(rows, int32(i))
			vals = append(vals, col.Ints[i])
		}
	}
	return rows, vals
}

// TestIntMatches checks the fused decode-and-filter of int chunks against
// decoding the column and applying the hint, over plain and delta chunks,
// with and without presence bitmaps (row counts that are not multiples of
// 8 or 64), for equality and range hints, reusing one dirty arena.
func TestIntMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ar colArena
	gens := map[string]func(i int) int64{
		"flag":   func(int) int64 { return int64(rng.IntN(2)) },
		"code":   func(int) int64 { return int64(rng.IntN(600)) - 100 },
		"sorted": func(i int) int64 { return 1746057600000 + int64(i)*37 + int64(rng.IntN(30)) },
		"wide":   func(int) int64 { return int64(rng.Uint64()) },
	}
	hints := []scan.Hint{
		{Op: scan.HintEq, Num: 0, IsNum: true},
		{Op: scan.HintEq, Num: 1, IsNum: true},
		{Op: scan.HintEq, Num: 1.5, IsNum: true},
		{Op: scan.HintEq, Num: 1746057600037, IsNum: true},
		{Op: scan.HintRange, Lo: -5, Hi: 10},
		{Op: scan.HintRange, Lo: math.Inf(-1), Hi: 200},
		{Op: scan.HintRange, Lo: 1746057601000, Hi: math.Inf(1)},
	}
	for gname, gen := range gens {
		for _, nrows := range []int{1, 7, 64, 65, 1000, 4099} {
			for _, density := range []float64{1, 0.9, 0.2, 0.01} {
				var d colData
				d.reset("x")
				for i := 0; i < nrows; i++ {
					v := gen(i)
					if rng.Float64() < density {
						d.addInt(int32(i), v)
					}
				}
				if len(d.rows) == 0 {
					continue
				}
				p, _ := encodeColumn(nil, &d, nrows, nil, &strScratch{})
				for hi := range hints {
					h := &hints[hi]
					name := fmt.Sprintf("%s/rows=%d/density=%v/hint=%d", gname, nrows, density, hi)
					it, ok := intTestOf(h)
					if !ok {
						t.Fatalf("%s: no int test", name)
					}
					ar.reset()
					// Dirty the arena as an earlier block would.
					for _, x := range [][]int64{ar.fullInts(nrows), ar.fullInts(nrows)} {
						for i := range x {
							x[i] = -7
						}
					}
					ar.reset()
					rows, vals, ok, err := intMatches(&ar, p, nrows, it)
					if err != nil || !ok {
						t.Fatalf("%s: ok=%v err=%v", name, ok, err)
					}
					wr, wv := intMatchesWant(t, p, nrows, h)
					if !slices.Equal(rows, wr) || !slices.Equal(vals, wv) {
						t.Fatalf("%s: got %d rows %v…, want %d rows %v…", name, len(rows), rows[:min(5, len(rows))], len(wr), wr[:min(5, len(wr))])
					}
				}
			}
		}
	}
}

// TestIntMatchesDeclines: chunks that are not plain or delta int chunks are
// left to the general decoder, and corrupt ones give an error, not a panic.
func TestIntMatchesDeclines(t *testing.T) {
	it := intTest{eq: true, x: 1}
	var d colData
	d.reset("s")
	d.addStr(0, []byte("a"))
	d.addStr(1, []byte("b"))
	p, _ := encodeColumn(nil, &d, 2, nil, &strScratch{})
	if _, _, ok, err := intMatches(nil, p, 2, it); ok || err != nil {
		t.Errorf("string chunk: ok=%v err=%v, want declined", ok, err)
	}
	// Minus-timestamp mode needs the timestamps: declined.
	if _, _, ok, err := intMatches(nil, []byte{0, encInt, intMinusTS, 0, 0}, 2, it); ok || err != nil {
		t.Errorf("minus-timestamp chunk: ok=%v err=%v, want declined", ok, err)
	}
	for _, tc := range []struct {
		name string
		p    []byte
		rows int
	}{
		{"truncated varint", []byte{0, encInt, intPlain, 0x80}, 1},
		{"missing values", []byte{0, encInt, intPlain, 2}, 3},
		{"trailing bytes", []byte{0, encInt, intDelta, 2, 2, 9}, 2},
		{"short bitmap", []byte{1}, 9},
		{"bad presence", []byte{7, encInt, intPlain, 2}, 1},
		{"too many rows", []byte{0, encInt, intPlain}, 1000},
	} {
		if _, _, _, err := intMatches(nil, tc.p, tc.rows, it); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		if _, err := decodeColumn(tc.p, tc.rows, nil, nil); err == nil {
			t.Errorf("%s: decodeColumn accepts what intMatches rejects", tc.name)
		}
	}
}

// FuzzIntMatches: on any chunk that intMatches accepts, it agrees with the
// general decoder followed by applyHint, and it fails only where that
// decoder fails.
func FuzzIntMatches(f *testing.F) {
	var d colData
	d.reset("x")
	for i := 0; i < 9; i += 2 {
		d.addInt(int32(i), int64(i%3))
	}
	p, _ := encodeColumn(nil, &d, 10, nil, &strScratch{})
	f.Add(p, uint8(10), int8(1), false)
	f.Add([]byte{0, encInt, intDelta, 2, 1, 3}, uint8(3), int8(0), true)
	f.Fuzz(func(t *testing.T, p []byte, n uint8, x int8, isRange bool) {
		rows := int(n % 80)
		h := &scan.Hint{Op: scan.HintEq, Num: float64(x), IsNum: true}
		if isRange {
			h = &scan.Hint{Op: scan.HintRange, Lo: float64(x), Hi: float64(x) + 2.5}
		}
		it, _ := intTestOf(h)
		got, gotVals, ok, err := intMatches(nil, p, rows, it)
		col, derr := decodeColumn(p, rows, nil, nil)
		if err != nil {
			if derr == nil {
				t.Fatalf("intMatches failed (%v) where decodeColumn did not", err)
			}
			return
		}
		if !ok {
			return
		}
		if derr != nil {
			t.Fatalf("intMatches accepted a chunk decodeColumn rejects: %v", derr)
		}
		keep := applyHint(nil, col, h, rows, nil)
		var want []int32
		var wantVals []int64
		for i := 0; i < rows; i++ {
			if keep == nil || keep[i] {
				want = append(want, int32(i))
				wantVals = append(wantVals, col.Ints[i])
			}
		}
		if len(got) != len(want) || (len(want) > 0 && (!slices.Equal(got, want) || !slices.Equal(gotVals, wantVals))) {
			t.Fatalf("got rows %v vals %v, want %v %v", got, gotVals, want, wantVals)
		}
	})
}

// TestScanIntHints checks scans whose hints go through intMatches (alone,
// twice on one column, after a string hint, on a column absent from some
// blocks) against a scan without hints filtered by hintMatches: the same
// rows, with the same values in every requested column, in segments and
// in the memtable.
func TestScanIntHints(t *testing.T) {
	msgs := randomMessages(3000, 11)
	dir := t.TempDir()
	s := openTest(t, dir, Options{BlockRows: 600})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/ih", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/ih", "s"))
	for lo := 0; lo < len(msgs); lo += 500 {
		var evs []Event
		for i := lo; i < min(lo+500, len(msgs)); i++ {
			evs = append(evs, Event{Timestamp: 1746057600000 + int64(i), Message: []byte(msgs[i])})
		}
		must(t, s.Append(acct, "/ih", "s", evs))
	}
	cols := []string{"@ptr", "ok", "n", "event.size", "request_id", "ip", "user_id"}
	hintSets := map[string][]scan.Hint{
		"eq":       {{Op: scan.HintEq, Field: "ok", Num: 1, IsNum: true}},
		"range":    {{Op: scan.HintRange, Field: "n", Lo: -100, Hi: 100}},
		"same col": {{Op: scan.HintRange, Field: "n", Lo: -100, Hi: math.Inf(1)}, {Op: scan.HintRange, Field: "n", Lo: math.Inf(-1), Hi: 50}},
		"two cols": {{Op: scan.HintEq, Field: "ok", Num: 0, IsNum: true}, {Op: scan.HintRange, Field: "n", Lo: 0, Hi: math.Inf(1)}},
		"str then": {{Op: scan.HintContains, Field: "ip", Str: "10.1."}, {Op: scan.HintRange, Field: "event.size", Lo: 0, Hi: 40000}},
		"none":     {{Op: scan.HintEq, Field: "n", Num: 100000, IsNum: true}},
		// Dictionary columns (dictMatches): alone, after an int hint,
		// before a string hint, and with few rows left (read by rank).
		"dict contains": {{Op: scan.HintContains, Field: "ip", Str: "10.1."}},
		"dict in":       {{Op: scan.HintIn, Field: "ip", Set: []string{"10.0.1.1", "10.2.7.7", "10.1.3.0"}}},
		"int then dict": {{Op: scan.HintEq, Field: "ok", Num: 1, IsNum: true}, {Op: scan.HintContains, Field: "ip", Str: ".2."}},
		"dict, uuid":    {{Op: scan.HintContains, Field: "ip", Str: "10.2"}, {Op: scan.HintContains, Field: "user_id", Str: "a"}},
		"dict few left": {{Op: scan.HintRange, Field: "n", Lo: -20, Hi: 20}, {Op: scan.HintContains, Field: "ip", Str: "10.1."}},
	}
	scanRows := func(hints []scan.Hint) map[string]string {
		out := map[string]string{}
		var mu sync.Mutex
		req := &scan.Request{Account: acct, Groups: []string{"/ih"}, Start: scan.MinTime, End: scan.MaxTime, Columns: cols, Hints: hints, Workers: 2}
		must(t, s.Scan(context.Background(), req, func(_ int, b *scan.Block) error {
			mu.Lock()
			defer mu.Unlock()
			for i := 0; i < b.Rows; i++ {
				row := ""
				for _, c := range cols[1:] {
					row += fmt.Sprintf("%s=%#v ", c, b.Col(c).Value(i))
				}
				pass := true
				for k := range hints {
					pass = pass && hintMatches(b.Col(hints[k].Field), i, &hints[k])
				}
				if pass {
					out[b.Col("@ptr").Value(i).S] = row
				}
			}
			return nil
		}))
		return out
	}
	check := func(stage string) {
		all := scanRows(nil)
		for name, hints := range hintSets {
			want := map[string]string{}
			for ptr, row := range all {
				want[ptr] = row
			}
			got := scanRows(hints)
			// The reference: every row of a hint-less scan that passes.
			ref := map[string]string{}
			req := &scan.Request{Account: acct, Groups: []string{"/ih"}, Start: scan.MinTime, End: scan.MaxTime, Columns: cols, Workers: 1}
			must(t, s.Scan(context.Background(), req, func(_ int, b *scan.Block) error {
				for i := 0; i < b.Rows; i++ {
					pass := true
					for k := range hints {
						pass = pass && hintMatches(b.Col(hints[k].Field), i, &hints[k])
					}
					if ptr := b.Col("@ptr").Value(i).S; pass {
						ref[ptr] = want[ptr]
					}
				}
				return nil
			}))
			if len(got) != len(ref) {
				t.Errorf("%s/%s: %d rows, want %d", stage, name, len(got), len(ref))
			}
			for ptr, row := range ref {
				if got[ptr] != row {
					t.Errorf("%s/%s: row %s: got %q, want %q", stage, name, ptr, got[ptr], row)
					break
				}
			}
			if name != "none" && len(ref) == 0 {
				t.Errorf("%s/%s: no row passes: the test checks nothing", stage, name)
			}
		}
	}
	check("memtable")
	s.flushNow(t)
	check("segments")
}

// BenchmarkIntMatches filters a flag column (a third of 120,000 rows carry
// it, one in fifty of those is 0) for "= 0", fused and as the general
// decode followed by applyHint did it.
func BenchmarkIntMatches(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows = 120000
	var d colData
	d.reset("flag")
	for i := 0; i < rows; i++ {
		if rng.IntN(3) == 0 {
			d.addInt(int32(i), int64(min(1, rng.IntN(50))))
		}
	}
	p, _ := encodeColumn(nil, &d, rows, nil, &strScratch{})
	h := &scan.Hint{Op: scan.HintEq, Num: 0, IsNum: true}
	it, _ := intTestOf(h)
	var ar colArena
	b.Run("fused", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ar.reset()
			if _, _, _, err := intMatches(&ar, p, rows, it); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+applyHint", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ar.reset()
			col, err := decodeColumnIn(&ar, p, rows, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			applyHint(&ar, col, h, rows, nil)
		}
	})
}

// TestDictMatches checks the fused filter of dictionary chunks against
// decoding the column and applying the hint, for string, UUID and IPv4
// dictionaries with and without presence bitmaps, for every hint kind a
// dictionary column gets.
func TestDictMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	gens := map[string]func() string{
		"names": func() string { return fmt.Sprintf("user%d@example.org", rng.IntN(300)) },
		"ipv4":  func() string { return fmt.Sprintf("10.%d.%d.%d", rng.IntN(3), rng.IntN(5), rng.IntN(250)) },
		"uuid":  func() string { return fmt.Sprintf("7b0c3a52-1111-4222-8333-4444555566%02x", rng.IntN(200)) },
		"nums":  func() string { return fmt.Sprint(rng.IntN(40)) },
		"wide":  func() string { return fmt.Sprintf("v%d", rng.IntN(70000)) }, // two- or four-byte codes
	}
	hints := []scan.Hint{
		{Op: scan.HintEq, Str: "user7@example.org"},
		{Op: scan.HintIn, Set: []string{"10.1.2.3", "10.0.0.7", "user9@example.org", "5"}},
		{Op: scan.HintContains, Str: "1"},
		{Op: scan.HintEq, Num: 12, IsNum: true},
		{Op: scan.HintRange, Lo: 3, Hi: 9.5},
		{Op: scan.HintEq, Str: "no such value"},
	}
	for gname, gen := range gens {
		for _, nrows := range []int{1, 70, 4099} {
			for _, density := range []float64{1, 0.6, 0.05} {
				var d colData
				d.reset("x")
				for i := 0; i < nrows; i++ {
					if rng.Float64() < density {
						d.addStr(int32(i), []byte(gen()))
					}
				}
				if len(d.rows) == 0 {
					continue
				}
				p, _ := encodeColumn(nil, &d, nrows, nil, &strScratch{})
				full, err := decodeColumn(p, nrows, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				for hi := range hints {
					h := &hints[hi]
					name := fmt.Sprintf("%s/rows=%d/density=%v/hint=%d", gname, nrows, density, hi)
					var ar colArena
					dirty(&ar, nrows)
					rows, col, ok, err := dictMatches(&ar, p, nrows, h)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if !ok {
						if full.Type == scan.TypeDict {
							t.Fatalf("%s: a dictionary chunk declined", name)
						}
						continue
					}
					keep := applyHint(nil, full, h, nrows, nil)
					var want []int32
					for i := 0; i < nrows; i++ {
						if keep == nil || keep[i] {
							want = append(want, int32(i))
						}
					}
					if len(rows) != len(want) || (len(want) > 0 && !slices.Equal(rows, want)) {
						t.Fatalf("%s: rows %v…, want %v…", name, rows[:min(5, len(rows))], want[:min(5, len(want))])
					}
					for k, r := range rows {
						if g, w := col.Dict[col.Codes[k]], full.Value(int(r)).S; g != w {
							t.Fatalf("%s: row %d: %q, want %q", name, r, g, w)
						}
					}
					if col.DictIPv4 != nil && len(col.DictIPv4) != len(col.Dict) {
						t.Fatalf("%s: %d addresses for %d values", name, len(col.DictIPv4), len(col.Dict))
					}
				}
			}
		}
	}
	if _, _, ok, err := dictMatches(nil, []byte{0, encInt, intPlain, 2}, 1, &hints[0]); ok || err != nil {
		t.Errorf("int chunk: ok=%v err=%v, want declined", ok, err)
	}
}

// FuzzDictMatches: on any chunk that dictMatches accepts, it agrees with
// the general decoder followed by applyHint, and it fails only where that
// decoder fails.
func FuzzDictMatches(f *testing.F) {
	var d colData
	d.reset("x")
	for i := 0; i < 9; i += 2 {
		d.addStr(int32(i), []byte{'a' + byte(i%3)})
	}
	p, _ := encodeColumn(nil, &d, 10, nil, &strScratch{})
	f.Add(p, uint8(10), "a")
	f.Fuzz(func(t *testing.T, p []byte, n uint8, s string) {
		rows := int(n % 80)
		h := &scan.Hint{Op: scan.HintContains, Str: s}
		got, col, ok, err := dictMatches(nil, p, rows, h)
		full, derr := decodeColumn(p, rows, nil, nil)
		if err != nil {
			if derr == nil {
				t.Fatalf("dictMatches failed (%v) where decodeColumn did not", err)
			}
			return
		}
		if !ok {
			return
		}
		if derr != nil {
			t.Fatalf("dictMatches accepted a chunk decodeColumn rejects: %v", derr)
		}
		keep := applyHint(nil, full, h, rows, nil)
		var want []int32
		for i := 0; i < rows; i++ {
			if keep == nil || keep[i] {
				want = append(want, int32(i))
			}
		}
		if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
			t.Fatalf("got rows %v, want %v", got, want)
		}
		for k, r := range got {
			if col.Dict[col.Codes[k]] != full.Value(int(r)).S {
				t.Fatalf("row %d: %q, want %q", r, col.Dict[col.Codes[k]], full.Value(int(r)).S)
			}
		}
	})
}
