package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

const acct = "111122223333"

func countRows(t *testing.T, s *Store, grp string, hints ...scan.Hint) (rows, blocks int) {
	t.Helper()
	var mu sync.Mutex
	err := s.Scan(context.Background(), &scan.Request{Account: acct, Groups: []string{grp}, Start: scan.MinTime, End: scan.MaxTime, Columns: []string{"@timestamp"}, Hints: hints, Workers: 2},
		func(_ int, b *scan.Block) error {
			mu.Lock()
			rows += b.Rows
			blocks++
			mu.Unlock()
			return nil
		})
	must(t, err)
	return rows, blocks
}

func segFiles(t *testing.T, dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "seg", "*.seg"))
	return len(m)
}

func appendN(t *testing.T, s *Store, grp, stream string, n int, ts0 int64, step int64) {
	t.Helper()
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Timestamp: ts0 + int64(i)*step, Message: []byte(fmt.Sprintf(`{"i":%d,"stream":"%s","user":"u%d"}`, i, stream, i%7))}
	}
	must(t, s.Append(acct, grp, stream, evs))
}

func TestNamesAndCatalog(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"/audit/mail", true}, {"a.b-c_d#e/F9", true}, {"", false}, {strings.Repeat("a", 513), false},
		{"has space", false}, {"colon:x", false}, {"aws/reserved", false}, {"é", false},
	} {
		err := s.CreateLogGroup(acct, tc.name, GroupOptions{})
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CreateLogGroup(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"2025/05/01/[$LATEST]abc", true}, {"", false}, {"a:b", false}, {"a*b", false}, {strings.Repeat("s", 512), true}} {
		err := s.CreateLogStream(acct, "/audit/mail", tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CreateLogStream(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if err := s.CreateLogGroup(acct, "/audit/mail", GroupOptions{}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("duplicate group: %v", err)
	}
	if err := s.CreateLogStream(acct, "/nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stream in missing group: %v", err)
	}
	if err := s.Append(acct, "/audit/mail", "missing", []Event{{1, []byte("x")}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("append to missing stream: %v", err)
	}
	for _, d := range []int{0, 2, 4000} {
		if err := s.PutRetentionPolicy(acct, "/audit/mail", d); !errors.Is(err, ErrInvalid) {
			t.Errorf("retention %d: %v", d, err)
		}
	}
	must(t, s.PutRetentionPolicy(acct, "/audit/mail", 30))
	must(t, s.TagLogGroup(acct, "/audit/mail", map[string]string{"team": "mail", "env": "prod"}))
	must(t, s.UntagLogGroup(acct, "/audit/mail", []string{"env"}))
	gs, err := s.DescribeLogGroups(acct, "/audit")
	must(t, err)
	if len(gs) != 1 || gs[0].RetentionDays != 30 || gs[0].Tags["team"] != "mail" || len(gs[0].Tags) != 1 ||
		gs[0].ARN != "arn:aws:logs:us-east-1:"+acct+":log-group:/audit/mail" {
		t.Errorf("DescribeLogGroups = %+v", gs)
	}
	if gs, _ := s.DescribeLogGroups("999999999999", ""); len(gs) != 0 {
		t.Errorf("other account sees %v", gs)
	}
	must(t, s.DeleteRetentionPolicy(acct, "/audit/mail"))
	many := map[string]string{}
	for i := 0; i < 51; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	if err := s.TagLogGroup(acct, "/audit/mail", many); !errors.Is(err, ErrInvalid) {
		t.Errorf("51 tags: %v", err)
	}
	// Tag limits count characters, as AWS's do, not bytes.
	for _, tc := range []struct {
		k, v string
		ok   bool
	}{
		{strings.Repeat("é", 128), strings.Repeat("é", 256), true},
		{strings.Repeat("é", 129), "v", false},
		{"k", strings.Repeat("é", 257), false},
		{"", "v", false},
	} {
		err := s.TagLogGroup(acct, "/audit/mail", map[string]string{tc.k: tc.v})
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("tag of %d-character key, %d-character value: %v, want ok=%v", len([]rune(tc.k)), len([]rune(tc.v)), err, tc.ok)
		}
	}
}

func TestPersistenceAndEvents(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC)
	opts := Options{Now: func() time.Time { return now }}
	s := openTest(t, dir, opts)
	must(t, s.CreateLogGroup(acct, "/g", GroupOptions{Tags: map[string]string{"a": "b"}}))
	must(t, s.CreateLogStream(acct, "/g", "s"))
	// Out of order, across two days.
	t0 := time.Date(2025, 5, 1, 23, 0, 0, 0, time.UTC).UnixMilli()
	evs := []Event{{t0 + 7200000, []byte("late")}, {t0, []byte("first")}, {t0 + 1000, []byte(`{"x":1}`)}, {t0, []byte("first-again")}}
	must(t, s.Append(acct, "/g", "s", evs))
	check := func(s *Store) {
		t.Helper()
		var got []string
		must(t, s.GetLogEvents(acct, "/g", "s", scan.MinTime, scan.MaxTime, func(ts, ing int64, m []byte) bool {
			if ing != now.UnixMilli() {
				t.Errorf("ingestion time %d", ing)
			}
			got = append(got, string(m))
			return true
		}))
		if strings.Join(got, ",") != `first,first-again,{"x":1},late` {
			t.Errorf("GetLogEvents = %q", got)
		}
		st, err := s.DescribeLogStreams(acct, "/g", "")
		must(t, err)
		if len(st) != 1 || st[0].FirstEventTime != t0 || st[0].LastEventTime != t0+7200000 || st[0].LastIngestionTime != now.UnixMilli() {
			t.Errorf("DescribeLogStreams = %+v", st)
		}
		tags, _ := s.ListTags(acct, "/g")
		if tags["a"] != "b" {
			t.Errorf("tags = %v", tags)
		}
	}
	check(s)
	must(t, s.Close())
	s = openTest(t, dir, opts)
	check(s)
	gs, _ := s.DescribeLogGroups(acct, "")
	if gs[0].StoredBytes == 0 {
		t.Errorf("StoredBytes = 0 after flush")
	}
	if n := segFiles(t, dir); n != 2 {
		t.Errorf("%d segment files, want 2 (one per day)", n)
	}
	must(t, s.Close())
}

func TestRetentionAndDeletes(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{Now: func() time.Time { return now }, MaintenanceInterval: time.Hour}
	s := openTest(t, dir, opts)
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/r", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/r", "a"))
	must(t, s.CreateLogStream(acct, "/r", "b"))
	old := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	recent := time.Date(2025, 5, 30, 12, 0, 0, 0, time.UTC).UnixMilli()
	appendN(t, s, "/r", "a", 100, old, 1000)
	appendN(t, s, "/r", "a", 100, recent, 1000)
	appendN(t, s, "/r", "b", 50, recent, 1000)
	must(t, s.Close())
	s = openTest(t, dir, opts)
	if n, _ := countRows(t, s, "/r"); n != 250 {
		t.Fatalf("%d rows before retention", n)
	}
	must(t, s.PutRetentionPolicy(acct, "/r", 7))
	must(t, s.Maintain())
	if n, _ := countRows(t, s, "/r"); n != 150 {
		t.Errorf("%d rows after 7-day retention, want 150", n)
	}
	before := segFiles(t, dir)
	// Deleting a stream hides its rows at once and frees them on maintenance.
	must(t, s.DeleteLogStream(acct, "/r", "b"))
	if n, _ := countRows(t, s, "/r"); n != 100 {
		t.Errorf("%d rows after deleting stream b, want 100", n)
	}
	must(t, s.Maintain())
	if n, _ := countRows(t, s, "/r"); n != 100 {
		t.Errorf("%d rows after rewrite, want 100", n)
	}
	s.mu.Lock()
	g := s.groups[groupKey(acct, "/r")]
	for _, seg := range g.Segments {
		for _, id := range seg.meta.Streams {
			if id != g.Streams["a"].ID {
				t.Errorf("segment %d still lists stream %d", seg.meta.ID, id)
			}
		}
	}
	if len(g.Deleted) != 0 {
		t.Errorf("deleted stream ids not forgotten: %v", g.Deleted)
	}
	s.mu.Unlock()
	if after := segFiles(t, dir); after != before {
		t.Errorf("segment files %d → %d", before, after)
	}
	must(t, s.DeleteLogGroup(acct, "/r"))
	if n := segFiles(t, dir); n != 0 {
		t.Errorf("%d segment files left after DeleteLogGroup", n)
	}
	if err := s.DeleteLogGroup(acct, "/r"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestMergeSmallSegments(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaintenanceInterval: time.Hour, MergeMinSegments: 3})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/m", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/m", "s"))
	day := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := 0; i < 5; i++ {
		appendN(t, s, "/m", "s", 20, day+int64(i)*60000, 10)
		s.flushNow(t)
	}
	// The background pass may already have merged some; finish the job.
	must(t, s.Maintain())
	s.mu.Lock()
	nseg := len(s.groups[groupKey(acct, "/m")].Segments)
	s.mu.Unlock()
	if nseg != 1 {
		t.Errorf("%d segments after merge, want 1", nseg)
	}
	if n, _ := countRows(t, s, "/m"); n != 100 {
		t.Errorf("%d rows after merge", n)
	}
	if n := segFiles(t, dir); n != 1 {
		t.Errorf("%d segment files after merge", n)
	}
}

// flushNow freezes the memtable and waits until it is in segments.
func (s *Store) flushNow(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	s.wal.rotate = true
	s.mu.Unlock()
	s.wal.wake()
	for {
		s.mu.Lock()
		done := s.mem.rows == 0 && len(s.frozen) == 0
		s.mu.Unlock()
		if done {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHintsSkipBlocks(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRows: 100})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/h", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/h", "s"))
	var evs []Event
	for i := 0; i < 1000; i++ {
		evs = append(evs, Event{int64(1746057600000 + i), []byte(fmt.Sprintf(`{"n":%d,"req":"r-%d","kind":"k%d","ok":%v}`, i, i, i/100, i%2 == 0))})
	}
	must(t, s.Append(acct, "/h", "s", evs))
	s.flushNow(t)
	for _, tc := range []struct {
		name       string
		hints      []scan.Hint
		wantBlocks int
	}{
		{"none", nil, 10},
		{"range", []scan.Hint{{Op: scan.HintRange, Field: "n", Lo: 250, Hi: 260}}, 1},
		{"eq-num", []scan.Hint{{Op: scan.HintEq, Field: "n", IsNum: true, Num: 999}}, 1},
		{"eq-str-on-number", []scan.Hint{{Op: scan.HintEq, Field: "n", Str: "5"}}, 1},
		{"bloom", []scan.Hint{{Op: scan.HintEq, Field: "req", Str: "r-123"}}, 1},
		{"small-dict", []scan.Hint{{Op: scan.HintIn, Field: "kind", Set: []string{"k3", "k7"}}}, 2},
		{"contains", []scan.Hint{{Op: scan.HintContains, Field: "kind", Str: "9"}}, 1},
		{"absent", []scan.Hint{{Op: scan.HintPresent, Field: "nope"}}, 0},
		{"time", []scan.Hint{{Op: scan.HintRange, Field: "@timestamp", Lo: 1746057600000, Hi: 1746057600050}}, 1},
	} {
		_, blocks := countRows(t, s, "/h", tc.hints...)
		if blocks != tc.wantBlocks {
			t.Errorf("%s: %d blocks, want %d", tc.name, blocks, tc.wantBlocks)
		}
	}
}

func TestTornWALTail(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	must(t, s.CreateLogGroup(acct, "/t", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/t", "s"))
	appendN(t, s, "/t", "s", 10, 1746057600000, 1)
	appendN(t, s, "/t", "s", 10, 1746057700000, 1)
	// Simulate a crash: copy the WAL aside before Close flushes it away.
	files, _ := s.walFiles()
	data, err := os.ReadFile(s.walPath(files[len(files)-1]))
	must(t, err)
	must(t, s.Close())
	// Replay the saved WAL, cut inside its second frame, into a store that
	// has the same group and stream but no segments.
	dir3 := t.TempDir()
	s3 := openTest(t, dir3, Options{})
	must(t, s3.CreateLogGroup(acct, "/t", GroupOptions{}))
	must(t, s3.CreateLogStream(acct, "/t", "s"))
	must(t, s3.Close())
	os.RemoveAll(filepath.Join(dir3, "wal"))
	os.MkdirAll(filepath.Join(dir3, "wal"), 0o755)
	torn := data[:len(data)-7] // cut into the second frame
	must(t, os.WriteFile(filepath.Join(dir3, "wal", "0000000000000005.wal"), torn, 0o644))
	var logbuf bytes.Buffer
	s3 = openTest(t, dir3, Options{Logger: slog.New(slog.NewTextHandler(&logbuf, nil))})
	if !strings.Contains(logbuf.String(), "dropping torn WAL tail") {
		t.Errorf("no torn-tail log line in %q", logbuf.String())
	}
	if n, _ := countRows(t, s3, "/t"); n != 10 {
		t.Errorf("%d rows after torn tail, want the 10 of the intact frame", n)
	}
	must(t, s3.Close())

	// A bad header on the newest WAL file is a header that never reached
	// the disk: dropped with a warning. On an older file it is corruption.
	junk := []byte("garbage that is not a WAL header")
	must(t, os.WriteFile(filepath.Join(dir3, "wal", "00000000000000f0.wal"), junk, 0o644))
	logbuf.Reset()
	s4 := openTest(t, dir3, Options{Logger: slog.New(slog.NewTextHandler(&logbuf, nil))})
	must(t, s4.Close())
	if !strings.Contains(logbuf.String(), "incomplete header") {
		t.Errorf("no incomplete-header log line in %q", logbuf.String())
	}
	must(t, os.WriteFile(filepath.Join(dir3, "wal", "00000000000000f0.wal"), junk, 0o644))
	must(t, os.WriteFile(filepath.Join(dir3, "wal", "00000000000000f1.wal"), []byte(walMagic+"\x01\x00\x00\x00\x00\x00\x00\x00"), 0o644))
	if _, err := Open(dir3, Options{}); err == nil || !strings.Contains(err.Error(), "00000000000000f0.wal") || !strings.Contains(err.Error(), "bad magic") {
		t.Errorf("Open with a corrupt older WAL file = %v", err)
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	must(t, s.CreateLogGroup(acct, "/c", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/c", "s"))
	appendN(t, s, "/c", "s", 50, 1746057600000, 1)
	must(t, s.Close())
	segs, _ := filepath.Glob(filepath.Join(dir, "seg", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	orig, _ := os.ReadFile(segs[0])
	manifest, _ := os.ReadFile(filepath.Join(dir, manifestName))
	for _, tc := range []struct {
		name   string
		file   string
		mutate func([]byte) []byte
		want   string
	}{
		{"segment magic", segs[0], func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"segment version", segs[0], func(b []byte) []byte { b[8] = 9; return b }, "unsupported segment version 9"},
		{"segment truncated", segs[0], func(b []byte) []byte { return b[:len(b)-10] }, "trailer"},
		{"segment index", segs[0], func(b []byte) []byte { b[len(b)-30] ^= 0xff; return b }, "index checksum"},
		{"manifest version", filepath.Join(dir, manifestName), func(b []byte) []byte { b[8] = 7; return b }, "unsupported manifest version 7"},
		{"manifest body", filepath.Join(dir, manifestName), func(b []byte) []byte { b[len(b)-3] ^= 1; return b }, "manifest checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.WriteFile(segs[0], orig, 0o644))
			must(t, os.WriteFile(filepath.Join(dir, manifestName), manifest, 0o644))
			b, _ := os.ReadFile(tc.file)
			must(t, os.WriteFile(tc.file, tc.mutate(append([]byte(nil), b...)), 0o644))
			_, err := Open(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(tc.file)) {
				t.Errorf("Open = %v, want an error naming %s and %q", err, filepath.Base(tc.file), tc.want)
			}
		})
	}
	// A flipped byte inside a column chunk is caught on read.
	must(t, os.WriteFile(filepath.Join(dir, manifestName), manifest, 0o644))
	b := append([]byte(nil), orig...)
	b[segHeaderLen+10] ^= 0xff
	must(t, os.WriteFile(segs[0], b, 0o644))
	s = openTest(t, dir, Options{})
	defer s.Close()
	err := s.Scan(context.Background(), &scan.Request{Account: acct, Groups: []string{"/c"}, Start: scan.MinTime, End: scan.MaxTime, AllColumns: true}, func(int, *scan.Block) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), filepath.Base(segs[0])) {
		t.Errorf("scan of corrupt chunk: %v", err)
	}
}

func TestFieldsAndRanges(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/f", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/f", "s"))
	must(t, s.Append(acct, "/f", "s", []Event{
		{100, []byte(`{"a":1,"b":"x"}`)}, {200, []byte(`{"a":"one"}`)}, {300, []byte(`text`)},
	}))
	for _, flushed := range []bool{false, true} {
		if flushed {
			s.flushNow(t)
		}
		fs, err := s.Fields(context.Background(), acct, []string{"/f"}, scan.MinTime, scan.MaxTime)
		must(t, err)
		got := map[string]scan.FieldInfo{}
		for _, f := range fs {
			got[f.Name] = f
		}
		if got["a"].Count != 2 || got["a"].Type != scan.TypeMixed || got["b"].Count != 1 || got["b"].Type != scan.TypeString || got["@message"].Count != 3 {
			t.Errorf("flushed=%v: Fields = %+v", flushed, fs)
		}
		var ts []int64
		must(t, s.GetLogEvents(acct, "/f", "s", 200, 300, func(t, _ int64, _ []byte) bool { ts = append(ts, t); return true }))
		if len(ts) != 1 || ts[0] != 200 {
			t.Errorf("flushed=%v: [200,300) = %v", flushed, ts)
		}
		ts = nil
		must(t, s.GetLogEvents(acct, "/f", "s", 0, 1000, func(t, _ int64, _ []byte) bool { ts = append(ts, t); return len(ts) < 2 }))
		if len(ts) != 2 {
			t.Errorf("flushed=%v: early stop gave %v", flushed, ts)
		}
	}
	for _, p := range []string{"", "!!", "AAAA", formatPtr(99, 1, 1)} {
		if _, err := s.GetLogRecord(acct, p); err == nil {
			t.Errorf("GetLogRecord(%q) succeeded", p)
		}
	}
	if _, err := s.Fields(context.Background(), acct, []string{"/missing"}, 0, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fields on a missing group: %v", err)
	}
}

// TestHintRowFilter checks late materialisation: with hints, a scan returns
// exactly the rows that can satisfy them (never fewer), and @message is
// right for each.
func TestHintRowFilter(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BlockRows: 300})
	defer s.Close()
	must(t, s.CreateLogGroup(acct, "/rf", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/rf", "s"))
	var evs []Event
	for i := 0; i < 1000; i++ {
		m := fmt.Sprintf(`{"n":%d,"req":"r-%d","code":"%d","ok":%v}`, i, i, i%50, i%3 == 0)
		if i%100 == 7 {
			m = fmt.Sprintf(`{"n":"%d","req":"r-%d"}`, i, i) // number as a string
		}
		evs = append(evs, Event{int64(1746057600000 + i), []byte(m)})
	}
	must(t, s.Append(acct, "/rf", "s", evs))
	for _, flushed := range []bool{false, true} {
		if flushed {
			s.flushNow(t)
		}
		for _, tc := range []struct {
			name  string
			hints []scan.Hint
			want  int
		}{
			{"eq-num", []scan.Hint{{Op: scan.HintEq, Field: "n", IsNum: true, Num: 5}}, 1},
			{"eq-num-on-string", []scan.Hint{{Op: scan.HintEq, Field: "n", IsNum: true, Num: 107}}, 1},
			{"eq-str-on-number", []scan.Hint{{Op: scan.HintEq, Field: "n", Str: "42"}}, 1},
			{"contains", []scan.Hint{{Op: scan.HintContains, Field: "req", Str: "r-12"}}, 11},
			{"in", []scan.Hint{{Op: scan.HintIn, Field: "code", Set: []string{"1", "2"}}}, 40},
			{"range-and-bool", []scan.Hint{{Op: scan.HintRange, Field: "n", Lo: 0, Hi: 99}, {Op: scan.HintEq, Field: "ok", IsNum: true, Num: 1}}, 34},
			{"missing-field", []scan.Hint{{Op: scan.HintPresent, Field: "nope"}}, 0},
		} {
			var mu sync.Mutex
			rows := 0
			err := s.Scan(context.Background(), &scan.Request{Account: acct, Groups: []string{"/rf"}, Start: scan.MinTime, End: scan.MaxTime, AllColumns: true, Hints: tc.hints, Workers: 2},
				func(_ int, b *scan.Block) error {
					mu.Lock()
					defer mu.Unlock()
					rows += b.Rows
					for i := 0; i < b.Rows; i++ {
						msg := b.Col("@message").Value(i).S
						exp := flattenExpect(msg)
						n := 0
						for name, c := range b.Columns {
							if strings.HasPrefix(name, "@") || !c.Has(i) {
								continue
							}
							n++
							if c.Value(i) != exp[name] {
								t.Errorf("%s: row %d (%s): %s = %v, want %v", tc.name, i, msg, name, c.Value(i), exp[name])
							}
						}
						if n != len(exp) {
							t.Errorf("%s: row %d (%s): %d fields, want %d", tc.name, i, msg, n, len(exp))
						}
					}
					return nil
				})
			must(t, err)
			if rows != tc.want {
				t.Errorf("flushed=%v %s: %d rows, want %d", flushed, tc.name, rows, tc.want)
			}
		}
	}
}

func TestLargeBatchIsSplit(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	must(t, s.CreateLogGroup(acct, "/big", GroupOptions{}))
	must(t, s.CreateLogStream(acct, "/big", "s"))
	msg := bytes.Repeat([]byte("x"), 900<<10)
	evs := make([]Event, 40) // 36 MB: more than one frame
	for i := range evs {
		evs[i] = Event{int64(1746057600000 + i), msg}
	}
	must(t, s.Append(acct, "/big", "s", evs))
	// Reopen from the WAL alone (no Close, so nothing was flushed).
	files, _ := s.walFiles()
	data, err := os.ReadFile(s.walPath(files[len(files)-1]))
	must(t, err)
	frames := 0
	_, err = readWAL("wal", data, func(b walBatch) error { frames++; return nil })
	must(t, err)
	if frames < 2 {
		t.Errorf("%d frames for a 36 MB batch", frames)
	}
	must(t, s.Close())
}
