package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// ingest finds the event time during its validating pass instead of
// calling event.Timestamp (a second pass per record); these tests keep the
// two in agreement on every record that has one time field. (Where a record
// has both, ingest prefers event_timestamp and event.Timestamp takes the
// first in the text; where a time field does not parse, ingest rejects the
// record and event.Timestamp reports !ok.)
func scanTime(t testing.TB, rec []byte) (int64, bool) {
	t.Helper()
	var f jsonscan.Fields
	if err := jsonscan.NewScanner("").Object(rec, &f); err != nil {
		return 0, false
	}
	r := &reader{in: New(Options{})}
	if f.EventTimestamp == nil && f.EventTime == nil {
		return 0, false
	}
	ms, err := r.eventTime(&f)
	return ms, err == nil
}

func TestTimeAgreesWithEvent(t *testing.T) {
	var recs [][]byte
	bench, err := os.ReadFile("testdata/bench.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, bytes.Split(bytes.TrimSpace(bench), []byte("\n"))...)
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		recs = append(recs, jsonscan.AppendCompact(nil, data))
	}
	recs = append(recs,
		[]byte(`{"event_timestamp":"1718000000000"}`),
		[]byte(`{"eventTime":"2024-01-02T03:04:05Z"}`),
		[]byte(`{"eventTime":"2024-01-02T03:04:05.123Z"}`),
	)
	checked := 0
	for _, rec := range recs {
		want, wok := event.Timestamp(rec)
		got, gok := scanTime(t, rec)
		if !wok && !gok {
			continue
		}
		checked++
		if got != want || gok != wok {
			t.Errorf("%.80s: ingest %d %v, event.Timestamp %d %v", rec, got, gok, want, wok)
		}
	}
	if checked < 20 {
		t.Errorf("only %d records had a time", checked)
	}
}

// FuzzTimeAgreesWithEvent compares the two on records with a single time
// field holding arbitrary text.
func FuzzTimeAgreesWithEvent(f *testing.F) {
	f.Add([]byte(`1718000000000`), false)
	f.Add([]byte(`"2024-01-02T03:04:05Z"`), true)
	f.Fuzz(func(t *testing.T, val []byte, trail bool) {
		key := `{"event_timestamp":`
		if trail {
			key = `{"eventTime":`
		}
		rec := append(append([]byte(key), val...), '}')
		got, gok := scanTime(t, rec)
		want, wok := event.Timestamp(rec)
		if gok && wok && got != want {
			t.Fatalf("%s: ingest %d, event.Timestamp %d", rec, got, want)
		}
	})
}
