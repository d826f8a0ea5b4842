package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestScanReportsSkipped checks that blocks the hints rule out are reported
// through Request.Skipped with their records and bytes (message bytes plus
// 26 each, as bytesScanned counts them), and that blocks outside the time
// range are not: those are not "skipped" in CloudWatch's sense.
func TestScanReportsSkipped(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRows: 100})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/k", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/k", "s"))
	var evs []Event
	bytesOf := map[int]int64{} // block -> bytes
	for i := 0; i < 1000; i++ {
		msg := []byte(fmt.Sprintf(`{"n":%d,"kind":"k%d"}`, i, i/100))
		evs = append(evs, Event{int64(1746057600000 + i), msg})
		bytesOf[i/100] += int64(len(msg)) + 26
	}
	must(t, s.Append(acct, "/k", "s", evs))
	s.flushNow(t)

	for _, tc := range []struct {
		name       string
		start, end int64
		hints      []scan.Hint
		rows       int64
		bytes      int64
	}{
		{"no hints", scan.MinTime, scan.MaxTime, nil, 0, 0},
		{"one block kept", scan.MinTime, scan.MaxTime,
			[]scan.Hint{{Op: scan.HintIn, Field: "kind", Set: []string{"k3"}}}, 900, sum(bytesOf, 0, 1, 2, 4, 5, 6, 7, 8, 9)},
		// Blocks 0-4 are outside the range: only 5-9 can count as skipped.
		{"range and hint", 1746057600500, scan.MaxTime,
			[]scan.Hint{{Op: scan.HintIn, Field: "kind", Set: []string{"k7"}}}, 400, sum(bytesOf, 5, 6, 8, 9)},
	} {
		var rows, bytes int64
		calls := 0
		req := &scan.Request{Account: acct, Groups: []string{"/k"}, Start: tc.start, End: tc.end,
			Columns: []string{"@timestamp"}, Hints: tc.hints, Workers: 2,
			Skipped: func(r, b int64) { rows += r; bytes += b; calls++ }}
		must(t, s.Scan(context.Background(), req, func(int, *scan.Block) error { return nil }))
		if rows != tc.rows || bytes != tc.bytes {
			t.Errorf("%s: skipped %d records, %d bytes; want %d, %d", tc.name, rows, bytes, tc.rows, tc.bytes)
		}
		if tc.rows == 0 && calls != 0 {
			t.Errorf("%s: Skipped called %d times with nothing skipped", tc.name, calls)
		}
	}
}

func sum(m map[int]int64, keys ...int) int64 {
	var n int64
	for _, k := range keys {
		n += m[k]
	}
	return n
}

// TestScanReportsFiltered checks that rows the store drops through hints
// inside blocks it reads are reported through Request.Filtered, so that
// delivered plus filtered rows are every row of those blocks (the
// engine's recordsScanned), with the bytes split the same way; rows of
// deleted streams count nowhere.
func TestScanReportsFiltered(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRows: 100})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/f", GroupOptions{}))
	for _, st := range []string{"keep", "gone"} {
		must(t, s.CreateLogStream(acct, "/f", st))
	}
	var evs, gone []Event
	var total int64
	for i := 0; i < 1000; i++ {
		msg := []byte(fmt.Sprintf(`{"n":%d,"kind":"k%d"}`, i, i%2))
		evs = append(evs, Event{int64(1746057600000 + 2*i), msg})
		total += int64(len(msg)) + 26
		gone = append(gone, Event{int64(1746057600000 + 2*i + 1), msg})
	}
	must(t, s.Append(acct, "/f", "keep", evs))
	must(t, s.Append(acct, "/f", "gone", gone))
	s.flushNow(t)
	must(t, s.DeleteLogStream(acct, "/f", "gone"))

	var mu sync.Mutex
	var delivered, filtered, bytes int64
	req := &scan.Request{Account: acct, Groups: []string{"/f"}, Start: scan.MinTime, End: scan.MaxTime,
		Columns: []string{"kind"}, Workers: 2,
		Hints: []scan.Hint{{Op: scan.HintIn, Field: "kind", Set: []string{"k1"}}},
		Filtered: func(r, b int64) {
			mu.Lock()
			filtered += r
			bytes += b
			mu.Unlock()
		}}
	must(t, s.Scan(context.Background(), req, func(_ int, b *scan.Block) error {
		mu.Lock()
		delivered += int64(b.Rows)
		bytes += b.MessageBytes + 26*int64(b.Rows)
		mu.Unlock()
		return nil
	}))
	if delivered != 500 || filtered != 500 {
		t.Errorf("delivered %d, filtered %d rows; want 500 and 500 (deleted stream's rows in neither)", delivered, filtered)
	}
	// Bytes are split by row share, so allow rounding per block.
	if d := bytes - total; d < -40 || d > 40 {
		t.Errorf("delivered + filtered bytes %d, want about %d", bytes, total)
	}
}
