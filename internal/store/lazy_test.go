package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestLazyLoad checks that columns named in Request.Lazy, decoded through
// Block.Load for some rows only, equal the eagerly decoded ones at those
// rows, with and without hints dropping rows, in the memtable and in
// segments.
func TestLazyLoad(t *testing.T) {
	msgs := append(randomMessages(2500, 7), readLines(t, "testdata/audit-sample.ndjson")...)
	dir := t.TempDir()
	s := openTest(t, dir, Options{BlockRows: 700})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/lazy", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/lazy", "s"))
	must(t, s.CreateLogStream(acct, "/lazy", "t"))
	for lo := 0; lo < len(msgs); lo += 500 {
		var evs []Event
		for i := lo; i < min(lo+500, len(msgs)); i++ {
			evs = append(evs, Event{Timestamp: 1746057600000 + int64(i), Message: []byte(msgs[i])})
		}
		must(t, s.Append(acct, "/lazy", []string{"s", "t"}[lo/500%2], evs))
	}
	cols := []string{"@timestamp", "@ptr", "@message", "@logStream", "@ingestionTime", "@log", "user_id", "ip", "n", "mixed", "esc", "event.to.0", "ok", "request_id", "event.size"}
	hintSets := map[string][]scan.Hint{
		"none":     nil,
		"eq":       {{Op: scan.HintEq, Field: "ok", Num: 1, IsNum: true}},
		"present":  {{Op: scan.HintPresent, Field: "mixed"}},
		"contains": {{Op: scan.HintContains, Field: "ip", Str: "10.1."}},
		// A string hint listed first: applied last, at the rows left.
		"two": {{Op: scan.HintContains, Field: "request_id", Str: "a"}, {Op: scan.HintRange, Field: "event.size", Lo: 0, Hi: 50000}},
	}
	check := func(stage string) {
		for hname, hints := range hintSets {
			// Eager reference, keyed by @ptr.
			want := map[string]map[string]scan.Value{}
			var mu sync.Mutex
			req := &scan.Request{Account: acct, Groups: []string{"/lazy"}, Start: scan.MinTime, End: scan.MaxTime, Columns: cols, Hints: hints, Workers: 2}
			must(t, s.Scan(context.Background(), req, func(_ int, b *scan.Block) error {
				mu.Lock()
				defer mu.Unlock()
				if b.Load != nil {
					t.Errorf("%s/%s: eager scan has Load", stage, hname)
				}
				for i := 0; i < b.Rows; i++ {
					m := map[string]scan.Value{}
					for _, c := range cols {
						m[c] = b.Col(c).Value(i)
					}
					want[m["@ptr"].S] = m
					// Ground truth: the fields are those of the message.
					exp := flattenExpect(m["@message"].S)
					for _, c := range cols {
						if !strings.HasPrefix(c, "@") && m[c] != exp[c] {
							t.Errorf("%s/%s: %q: %s = %#v, want %#v", stage, hname, m["@message"].S, c, m[c], exp[c])
						}
					}
				}
				return nil
			}))
			// No row that satisfies the hints may be dropped.
			got := map[string]int{}
			for _, m := range want {
				got[m["@message"].S]++
			}
			for _, msg := range msgs {
				exp := flattenExpect(msg)
				ok := true
				for i := range hints {
					c := &scan.Column{Type: scan.TypeMixed, Values: []scan.Value{exp[hints[i].Field]}, Present: scan.NewBitmap(1)}
					if exp[hints[i].Field].Kind != scan.KindNull {
						c.Present.Set(0)
					}
					ok = ok && hintMatches(c, 0, &hints[i])
				}
				if ok {
					if got[msg] == 0 {
						t.Errorf("%s/%s: %q satisfies the hints but was dropped", stage, hname, msg)
						break
					}
					got[msg]--
				}
			}
			req.Lazy = cols[1:]
			seen := 0
			must(t, s.Scan(context.Background(), req, func(_ int, b *scan.Block) error {
				if b.Load == nil {
					t.Errorf("%s/%s: lazy scan without Load", stage, hname)
					return nil
				}
				// Every third row, then every row (the block's own subset).
				for _, step := range []int32{3, 1} {
					var rows []int32
					for i := int32(b.Rows % int(step)); i < int32(b.Rows); i += step {
						rows = append(rows, i)
					}
					if err := func() error {
						got := map[string]*scan.Column{}
						for _, c := range cols {
							col := b.Col(c)
							if col == nil {
								var err error
								if col, err = b.Load(c, rows); err != nil {
									return err
								}
							}
							got[c] = col
						}
						mu.Lock()
						defer mu.Unlock()
						for _, r := range rows {
							ptr := got["@ptr"].Value(int(r)).S
							w := want[ptr]
							if w == nil {
								t.Errorf("%s/%s: lazy row with unknown @ptr %q", stage, hname, ptr)
								continue
							}
							seen++
							for _, c := range cols {
								if g := got[c].Value(int(r)); g != w[c] {
									t.Errorf("%s/%s: row %s: %s = %#v, want %#v", stage, hname, ptr, c, g, w[c])
								}
							}
						}
						return nil
					}(); err != nil {
						return err
					}
				}
				return nil
			}))
			t.Logf("%s/%s: checked %d rows of %d", stage, hname, seen, len(want))
			if seen == 0 || seen < len(want)*4/3-50 {
				t.Errorf("%s/%s: checked %d rows of %d", stage, hname, seen, len(want))
			}
		}
	}
	check("memtable")
	s.flushNow(t)
	check("segments")
}

// TestReopenLeavesNoEmptyWAL: opening and closing an idle store must not
// pile up header-only WAL files, while appended events survive reopening.
func TestReopenLeavesNoEmptyWAL(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	must(t, s.CreateLogGroup(acct, "/g", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/g", "s"))
	must(t, s.Append(acct, "/g", "s", []Event{{Timestamp: 1746057600000, Message: []byte(`{"a":1}`)}}))
	must(t, s.Close())
	for i := 0; i < 4; i++ {
		s = openTest(t, dir, Options{})
		must(t, s.Close())
	}
	ents, err := os.ReadDir(filepath.Join(dir, "wal"))
	must(t, err)
	if len(ents) > 2 {
		t.Errorf("%d WAL files after 5 opens, want at most 2", len(ents))
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	n := 0
	must(t, s.GetLogEvents(acct, "/g", "s", scan.MinTime, scan.MaxTime, func(ts, ingest int64, msg []byte) bool { n++; return true }))
	if n != 1 {
		t.Errorf("%d events after reopening, want 1", n)
	}
}
