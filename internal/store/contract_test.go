package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// randomMessages makes records that exercise every column encoding: UUIDs,
// IPv4 addresses, a column mostly equal to another (reference encoding),
// dictionary and high-cardinality strings, ints, floats, booleans, mixed
// types, escapes, nesting, and some non-JSON lines.
func randomMessages(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	uuid := func(k int) string {
		x := rand.New(rand.NewPCG(uint64(k), 99))
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", x.Uint32(), x.Uint32()&0xffff, x.Uint32()&0xfff, x.Uint32()&0xfff, x.Uint64()&0xffffffffffff)
	}
	var out []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		user := r.IntN(40)
		owner := user
		if r.IntN(10) == 0 {
			owner = r.IntN(40)
		}
		fmt.Fprintf(&b, `{"request_id":"%s","user_id":"%s","owner_id":"%s","ip":"10.%d.%d.%d"`, uuid(1000+i), uuid(user), uuid(owner), r.IntN(3), r.IntN(8), r.IntN(8))
		switch r.IntN(6) {
		case 0:
			fmt.Fprintf(&b, `,"ok":%v,"n":%d`, r.IntN(2) == 0, r.IntN(1000)-500)
		case 1:
			fmt.Fprintf(&b, `,"f":%v,"mixed":"s%d"`, float64(r.IntN(1000))/8, r.IntN(5))
		case 2:
			fmt.Fprintf(&b, `,"mixed":%d,"esc":"tab\there \"q\" \\ \u00e9 %d"`, r.IntN(50), i)
		case 3:
			fmt.Fprintf(&b, `,"event":{"to":["a%d@x.org","b@y.org"],"size":%d},"z":null`, r.IntN(9), r.IntN(100000))
		case 4:
			fmt.Fprintf(&b, `, "spaced" : [ 1 , 2.5 , "x" ] `)
		case 5:
			fmt.Fprintf(&b, `,"mixed":%v,"raw":"\u0041\/"`, float64(r.IntN(100))+0.5)
		}
		b.WriteString("}")
		if r.IntN(25) == 0 {
			out = append(out, fmt.Sprintf("plain line %d with \"quotes\"", i))
			continue
		}
		out = append(out, b.String())
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestScanContractBulk appends generated and sample records and checks that
// every record comes back byte for byte with exactly the fields, names and
// types scan.Flattener gives it, from the memtable, from segments, and after
// a merge.
func TestScanContractBulk(t *testing.T) {
	msgs := append(randomMessages(3000, 1), readLines(t, "testdata/audit-sample.ndjson")...)
	dir := t.TempDir()
	s := openTest(t, dir, Options{BlockRows: 700, MergeMinSegments: 2, MergeSmallBytes: 1 << 30})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/bulk", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/bulk", "s"))
	for lo := 0; lo < len(msgs); lo += 1000 {
		var evs []Event
		for i := lo; i < min(lo+1000, len(msgs)); i++ {
			evs = append(evs, Event{Timestamp: 1746057600000 + int64(i), Message: []byte(msgs[i])})
		}
		must(t, s.Append(acct, "/bulk", "s", evs))
		if lo == 1000 {
			// scans between appends read incremental memtable images
			verifyAll(t, s, "/bulk", msgs[:2000], "memtable, part")
		}
	}
	verifyAll(t, s, "/bulk", msgs, "memtable")
	s.flushNow(t)
	verifyAll(t, s, "/bulk", msgs, "segments")
	appendN(t, s, "/bulk", "s", 1, 1746057600000, 1)
	s.flushNow(t)
	must(t, s.Maintain())
	s.mu.Lock()
	nseg := len(s.groups[groupKey(acct, "/bulk")].Segments)
	s.mu.Unlock()
	if nseg != 1 {
		t.Errorf("%d segments after merge", nseg)
	}
	verifyAll(t, s, "/bulk", append(msgs, `{"i":0,"stream":"s","user":"u0"}`), "merged")
}

func verifyAll(t *testing.T, s *Store, grp string, msgs []string, stage string) {
	t.Helper()
	want := map[string]int{}
	for _, m := range msgs {
		want[m]++
	}
	got := map[string]int{}
	var mu sync.Mutex
	var bad []string
	err := s.Scan(context.Background(), &scan.Request{Account: acct, Groups: []string{grp}, Start: scan.MinTime, End: scan.MaxTime, AllColumns: true, Workers: 2},
		func(_ int, b *scan.Block) error {
			mu.Lock()
			defer mu.Unlock()
			msgc := b.Col("@message")
			for i := 0; i < b.Rows; i++ {
				m := msgc.Value(i).S
				got[m]++
				exp := flattenExpect(m)
				n := 0
				for name, c := range b.Columns {
					if strings.HasPrefix(name, "@") && !strings.HasPrefix(name, "@@") {
						continue
					}
					if !c.Has(i) {
						continue
					}
					n++
					if v := c.Value(i); v != exp[name] {
						bad = append(bad, fmt.Sprintf("%q: field %q = %#v, want %#v", m, name, v, exp[name]))
					}
				}
				if n != len(exp) {
					bad = append(bad, fmt.Sprintf("%q: %d fields, want %d", m, n, len(exp)))
				}
			}
			return nil
		})
	must(t, err)
	for i, b := range bad {
		if i == 5 {
			break
		}
		t.Errorf("%s: %s", stage, b)
	}
	for m, c := range want {
		if got[m] != c {
			t.Errorf("%s: message %q returned %d times, want %d", stage, m, got[m], c)
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d distinct messages returned, want %d", stage, len(got), len(want))
	}
}
