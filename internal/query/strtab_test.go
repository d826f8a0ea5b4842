package query

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestStringColumns runs grouping and count_distinct over the same records
// held as dictionary columns and as plain string columns (the store keeps
// high-cardinality fields so); the answers must agree, including missing
// keys and a key that is a number in some records and a string in others.
func TestStringColumns(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3*memsource.BlockRows+100; i++ {
		user := fmt.Sprintf(`"user-%04d"`, i%997)
		switch {
		case i%31 == 0:
			user = `500`
		case i%37 == 0:
			user = `"500"`
		}
		rec := fmt.Sprintf(`{"event_timestamp":%d,"n":%d,"ip":"10.%d.%d.%d"`, 1714564800000+int64(i)*1000, i, i%3, i%251, i%7)
		if i%13 != 0 {
			rec += `,"user":` + user
		}
		b.WriteString(rec + "}\n")
	}
	load := func(share float64) *memsource.Source {
		src := memsource.New()
		src.MaxDictShare = share
		if _, err := src.LoadJSON(strings.NewReader(b.String()), "gen", "", "/g", "s"); err != nil {
			t.Fatal(err)
		}
		return src
	}
	dict, plain := load(0.9), load(0.0001)
	queries := []string{
		`stats count(*) as c, count_distinct(ip) as d by user | sort user asc`,
		`filter ispresent(user) | stats count_distinct(user) as u, count_distinct(ip) as d`,
		`stats count_distinct(ip) as d by user | sort d desc, user asc | limit 5`,
		`stats count(*) as c by user, ip | stats count(*) as groups, sum(c) as total, max(c) as most`,
		`filter ispresent(user) | stats count(*) as c by bin(1h) | sort c desc | limit 3`,
		`stats count_distinct(n) as d by user | sort user desc | limit 4`,
	}
	for _, qs := range queries {
		t.Run(qs, func(t *testing.T) {
			q, err := Parse(qs)
			if err != nil {
				t.Fatal(err)
			}
			var res [2]*Result
			for i, src := range []*memsource.Source{dict, plain} {
				if res[i], err = Run(context.Background(), src, q, Options{Groups: []string{"/g"}}); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(res[0].Rows, res[1].Rows) {
				t.Fatalf("dictionary columns:\n%v\nstring columns:\n%v", res[0].Rows, res[1].Rows)
			}
			if len(res[0].Rows) == 0 {
				t.Fatal("no rows")
			}
		})
	}
	// Spot check: "500" (number and string) is one group; records without
	// user form the group without the key.
	q, _ := Parse(`stats count(*) as c by user | filter c > 100`)
	res, err := Run(context.Background(), plain, q, Options{Groups: []string{"/g"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 3*memsource.BlockRows + 100
	var want500, wantNone int
	for i := 0; i < n; i++ {
		switch {
		case i%13 == 0:
			wantNone++
		case i%31 == 0 || i%37 == 0:
			want500++
		}
	}
	want := fmt.Sprintf("[[{user 500} {c %d}] [{c %d}]]", want500, wantNone)
	if got := fmt.Sprint(res.Rows); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestKeyView checks the per-block codes of a string column across blocks
// of different sizes (the table grows past its first size and is reused).
func TestKeyView(t *testing.T) {
	var v keyView
	for _, tc := range []struct{ rows, distinct int }{{10, 3}, {5000, 1500}, {300, 300}, {20000, 9000}} {
		col := &scan.Column{Type: scan.TypeString, Strs: make([]string, tc.rows), Present: scan.NewBitmap(tc.rows)}
		var sel []int32
		for i := range tc.rows {
			col.Strs[i] = fmt.Sprintf("v%d", i%tc.distinct)
			if i%5 != 4 {
				col.Present.Set(i)
			}
			sel = append(sel, int32(i))
		}
		v.build(col, sel)
		seen := map[string]int32{}
		for k, i := range sel {
			code := v.codes[k]
			if !col.Has(int(i)) {
				if code != -1 {
					t.Fatalf("rows %d: absent row %d has code %d", tc.rows, i, code)
				}
				continue
			}
			if v.strs[code] != col.Strs[i] || v.hash(code) != strHash(col.Strs[i]) {
				t.Fatalf("rows %d: row %d code %d is %q", tc.rows, i, code, v.strs[code])
			}
			if c, ok := seen[col.Strs[i]]; ok && c != code {
				t.Fatalf("rows %d: %q has codes %d and %d", tc.rows, col.Strs[i], c, code)
			}
			seen[col.Strs[i]] = code
		}
		if len(v.strs) != len(seen) {
			t.Fatalf("rows %d: %d codes for %d values", tc.rows, len(v.strs), len(seen))
		}
	}
}

// TestFilterOrder checks that conjuncts run cheapest first, each decoding
// its lazy column for the rows still selected, give the answer of the
// filter as written (memsource's Load hides rows the engine did not list).
func TestFilterOrder(t *testing.T) {
	src := manyEvents(t, 3*memsource.BlockRows)
	for _, tc := range []struct{ q, want string }{
		{`filter user like "u1" and n < 100 and ispresent(ip) | stats count(*) as c`, "[[{c 22}]]"},
		{`filter ip like "10.0.1." and user = "u15" and n >= 0 | stats count(*) as c`, "[[{c 71}]]"},
		{`filter user like "u1" and n < 100 | sort n asc | limit 3 | fields user, ip`, "[[{user u1} {ip 10.0.1.1}] [{user u10} {ip 10.0.3.10}] [{user u11} {ip 10.0.4.11}]]"},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), src, q, Options{Groups: []string{"/g"}})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(res.Rows)
		if !q.IsStats() {
			var rows [][]Field
			for _, r := range res.Rows {
				rows = append(rows, r[:len(r)-1])
			}
			got = fmt.Sprint(rows)
		}
		if got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.q, got, tc.want)
		}
	}
}

// TestStrHashShort checks the inline string hash on the values it is meant
// for (addresses, numbers, ids of every length up to 48 and some beyond): no 64-bit
// collisions, and low bits (what the tables index by) evenly spread.
func TestStrHashShort(t *testing.T) {
	seen := map[uint64]string{}
	buckets := make([]int, 1<<12)
	n := 0
	add := func(s string) {
		h := strHash(s)
		if o, dup := seen[h]; dup && o != s {
			t.Fatalf("strHash(%q) == strHash(%q)", s, o)
		}
		seen[h] = s
		buckets[h&(1<<12-1)]++
		n++
	}
	for a := 0; a < 4; a++ {
		for b := 0; b < 256; b++ {
			for c := 0; c < 256; c += 3 {
				add(fmt.Sprintf("10.%d.%d.%d", a, b, c))
			}
		}
	}
	for i := 0; i < 50000; i++ {
		add(strconv.Itoa(i))
		add(strings.Repeat("a", i%17) + strconv.Itoa(i%977))
		add(fmt.Sprintf("%08x-1db6-49eb-926e-%012x", i*7919, i))                  // 36 bytes
		add(fmt.Sprintf("S-1-1-12-2951472360-510481706-%d-%d", 104126136+i%3, i)) // 40-48 bytes
		add(strings.Repeat("b", 17+i%32) + strconv.Itoa(i%331))
	}
	mean := float64(n) / float64(len(buckets))
	for i, c := range buckets {
		if float64(c) > 3*mean || float64(c) < mean/3 { // Poisson spread, not a clump
			t.Fatalf("bucket %d holds %d of %d hashes (mean %.0f)", i, c, n, mean)
		}
	}
}
