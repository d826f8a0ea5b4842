package memsource

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

func TestLoadAndScan(t *testing.T) {
	s := New()
	in := `{"Records":[{"eventTime":"2014-03-24T21:11:59Z","eventName":"CreateUser","ok":true},
 {"eventTime":"2014-03-24T21:12:00.5Z","eventName":"DeleteUser"}]}
{"event_timestamp":"1718000000123","user":"a","n":1.5}
{"user":"b"}
`
	n, err := s.LoadJSON(strings.NewReader(in), "in.json", "", "/g", "st")
	if err != nil || n != 4 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// The record before the error is kept (time 0, so it sorts first).
	if _, err := s.LoadJSON(strings.NewReader(`{"a":1} [1]`), "bad.json", "", "/g", "st"); err == nil || !strings.Contains(err.Error(), "bad.json: byte") {
		t.Fatalf("err = %v", err)
	}
	fields, err := s.Fields(context.Background(), "", []string{"/g"}, scan.MinTime, scan.MaxTime)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, f := range fields {
		got[f.Name] = f.Count
	}
	if got["eventName"] != 2 || got["user"] != 2 || got["ok"] != 1 || got["@message"] != 5 {
		t.Errorf("fields %v", got)
	}
	var rows int
	var ptr string
	req := &scan.Request{Groups: []string{"/g"}, Start: scan.MinTime, End: scan.MaxTime, Columns: []string{"@timestamp", "user", "@ptr"}, Lazy: []string{"@ptr"},
		Hints: []scan.Hint{{Op: scan.HintPresent, Field: "user"}}}
	err = s.Scan(context.Background(), req, func(w int, b *scan.Block) error {
		rows += b.Rows
		if b.Col("@ptr") != nil || b.Load == nil {
			t.Errorf("lazy @ptr was decoded up front")
		}
		c, err := b.Load("@ptr", []int32{2})
		if err != nil {
			return err
		}
		ptr = c.Strs[2]
		if c.Has(1) {
			t.Errorf("row not asked for is present")
		}
		return nil
	})
	if err != nil || rows != 5 {
		t.Fatalf("rows=%d err=%v", rows, err)
	}
	ev, ok := s.Record(ptr)
	if !ok || !strings.Contains(ev.Message, `DeleteUser`) || ev.Timestamp != 1395695520500 {
		t.Errorf("record %q: %+v %v", ptr, ev, ok)
	}
	if err := s.Scan(context.Background(), &scan.Request{Groups: []string{"/nope"}}, nil); err == nil {
		t.Error("unknown group accepted")
	}
}
