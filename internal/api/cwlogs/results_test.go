package cwlogs

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
)

// TestQueryResultsJSON holds the hand-written GetQueryResults encoder
// (resultSet, appendQueryResults) to the bytes encoding/json
// (awsjson.Encode) writes for the same answer.
func TestQueryResultsJSON(t *testing.T) {
	tests := []struct {
		name string
		out  getQueryResultsOut
	}{
		{"empty", getQueryResultsOut{QueryLanguage: "CWLI", Results: [][]resultField{}, Status: "Running"}},
		{"nil-results", getQueryResultsOut{QueryLanguage: "CWLI", Status: "Scheduled"}},
		{"nil-row", getQueryResultsOut{QueryLanguage: "CWLI", Results: [][]resultField{nil, {}}, Status: "Complete"}},
		{"escapes", getQueryResultsOut{QueryLanguage: "CWLI", Status: "Complete", NextToken: "MTA", EncryptionKey: "k<&>",
			Results:    [][]resultField{{{Name: "@message", Value: "{\"a\":\"<b>&\\u2028\"}\n\t\x01 \u2028 \xff"}, {Name: "é", Value: ""}}},
			Statistics: queryStats{RecordsMatched: 3, RecordsScanned: 1e21, BytesScanned: 0.5, LogGroupsScanned: 1e-7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameJSON(t, &tt.out) })
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		out := randomResults(rng)
		sameJSON(t, &out)
	}
}

func sameJSON(t *testing.T, out *getQueryResultsOut) {
	t.Helper()
	var want bytes.Buffer
	ref := *out
	if ref.Results == nil {
		// No rows are an empty list, never null (AWS never sends null).
		ref.Results = [][]resultField{}
	}
	if err := awsjson.Encode(&want, &ref); err != nil {
		t.Fatal(err)
	}
	if got := out.appendJSON(nil); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("appendJSON:\n%s\nencoding/json:\n%s", got, want.Bytes())
	}
	if got := out.appendJSON([]byte("x")); !bytes.Equal(got[1:], want.Bytes()) {
		t.Errorf("appendJSON onto a buffer:\n%s", got)
	}
}

func randomResults(rng *rand.Rand) getQueryResultsOut {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "\n", "\x00", "<", "&", "é", "😀", "\u2028", "\xff", "\xe2\x82"}
	str := func() string {
		var b []byte
		for n := rng.IntN(12); n > 0; n-- {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	out := getQueryResultsOut{QueryLanguage: "CWLI", Status: []string{"Running", "Complete"}[rng.IntN(2)],
		Statistics: queryStats{RecordsMatched: float64(rng.IntN(1e6)), RecordsScanned: rng.Float64() * 1e9, BytesScanned: float64(rng.Int64())}}
	for r := rng.IntN(6); r > 0; r-- {
		row := []resultField{}
		for f := rng.IntN(5); f > 0; f-- {
			row = append(row, resultField{Name: str(), Value: str()})
		}
		out.Results = append(out.Results, row)
	}
	if rng.IntN(3) == 0 {
		out.NextToken = str()
	}
	return out
}

func FuzzQueryResultsJSON(f *testing.F) {
	f.Add("@message", "{\"a\":1}", "Complete", 3.0)
	f.Add("\u2028", "\xff<&>", "Running", 1e21)
	f.Fuzz(func(t *testing.T, field, value, status string, n float64) {
		if n != n || n > 1e300 || n < -1e300 {
			return // NaN and infinities are not valid JSON; the engine never counts them
		}
		out := getQueryResultsOut{QueryLanguage: "CWLI", Status: status, NextToken: value,
			Results:    [][]resultField{{{Name: field, Value: value}}, {}},
			Statistics: queryStats{RecordsMatched: n, BytesScanned: -n}}
		sameJSON(t, &out)
	})
}

// TestGetQueryResultsWaits checks that GetQueryResults on a running query
// answers as soon as the query ends, and after ResultsWait otherwise.
func TestGetQueryResultsWaits(t *testing.T) {
	s := newTestServer(t)
	s.ResultsWait = time.Hour
	q := &runningQuery{id: "q1", account: s.DefaultAccount, created: s.Now(), status: "Running", done: make(chan struct{}), cancel: func() {}}
	if err := s.queries.admit(q); err != nil {
		t.Fatal(err)
	}
	answered := make(chan map[string]any)
	go func() { answered <- mustOK(t, s, "GetQueryResults", map[string]any{"queryId": "q1"}) }()
	select {
	case out := <-answered:
		t.Fatalf("answered %v while the query runs", out)
	case <-time.After(20 * time.Millisecond):
	}
	q.mu.Lock()
	q.status, q.results = "Complete", newResultSet([][]resultField{{{Name: "c", Value: "1"}}})
	q.mu.Unlock()
	close(q.done)
	if out := <-answered; out["status"] != "Complete" || len(out["results"].([]any)) != 1 {
		t.Errorf("after the end: %v", out)
	}

	s.ResultsWait = time.Millisecond
	q2 := &runningQuery{id: "q2", account: s.DefaultAccount, created: s.Now(), status: "Running", done: make(chan struct{}), cancel: func() {}}
	if err := s.queries.admit(q2); err != nil {
		t.Fatal(err)
	}
	if out := mustOK(t, s, "GetQueryResults", map[string]any{"queryId": "q2"}); out["status"] != "Running" {
		t.Errorf("running query: %v", out)
	}
}

// BenchmarkQueryResultsJSON: a 10,000-row answer (Q1's shape) encoded by
// hand, in two steps, and by encoding/json.
func BenchmarkQueryResultsJSON(b *testing.B) {
	out := getQueryResultsOut{QueryLanguage: "CWLI", Status: "Complete"}
	for i := 0; i < 10000; i++ {
		out.Results = append(out.Results, []resultField{
			{Name: "user", Value: "user0042@example.com"}, {Name: "source_ip", Value: "203.0.113.42"},
			{Name: "protocol", Value: "IMAP"}, {Name: "auth_failed_reason", Value: "bad password"},
			{Name: "@ptr", Value: "AcCuwLa8ZwE"}})
	}
	var buf bytes.Buffer
	awsjson.Encode(&buf, &out)
	// Once per query, when the engine hands the rows over.
	b.Run("newResultSet", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			newResultSet(out.Results)
		}
	})
	// At each GetQueryResults: the rows are not copied.
	b.Run("answer", func(b *testing.B) {
		rs := newResultSet(out.Results)
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			queryResultsParts("CWLI", rs, 0, rs.len(), out.Statistics, out.Status, "", "")
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			var w bytes.Buffer
			awsjson.Encode(&w, &out)
		}
	})
}

// TestResultSetPages checks that every page of a result set is the
// encoding of the same rows sliced.
func TestResultSetPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50; i++ {
		out := randomResults(rng)
		rs := newResultSet(out.Results)
		for from := 0; from <= len(out.Results); from++ {
			for to := from; to <= len(out.Results); to++ {
				page := getQueryResultsOut{QueryLanguage: "CWLI", Results: append([][]resultField{}, out.Results[from:to]...), Statistics: out.Statistics, Status: out.Status}
				var want bytes.Buffer
				awsjson.Encode(&want, &page)
				if got := appendQueryResults(nil, "CWLI", rs, from, to, out.Statistics, out.Status, "", ""); !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("rows [%d,%d):\n%s\nwant\n%s", from, to, got, want.Bytes())
				}
			}
		}
	}
}

// TestResultSetHalves checks result sets large enough to be encoded in two
// halves at once: the whole answer and pages across the join are what
// encoding/json writes.
func TestResultSetHalves(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{parallelEncodeRows - 1, parallelEncodeRows, parallelEncodeRows + 1, 5001} {
		var rows [][]resultField
		for len(rows) < n {
			rows = append(rows, randomResults(rng).Results...)
		}
		rows = rows[:n]
		rows[n/2] = nil // a null row at the join
		out := getQueryResultsOut{QueryLanguage: "CWLI", Results: rows, Status: "Complete"}
		sameJSON(t, &out)
		rs := newResultSet(rows)
		for _, span := range [][2]int{{0, n}, {n/2 - 1, n/2 + 1}, {n / 2, n/2 + 1}, {n/2 + 1, n}, {n - 1, n}} {
			from, to := span[0], span[1]
			page := getQueryResultsOut{QueryLanguage: "CWLI", Results: append([][]resultField{}, rows[from:to]...), Status: "Complete"}
			var want bytes.Buffer
			awsjson.Encode(&want, &page)
			if got := appendQueryResults(nil, "CWLI", rs, from, to, page.Statistics, page.Status, "", ""); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%d rows, rows [%d,%d):\n%.300s\nwant\n%.300s", n, from, to, got, want.Bytes())
			}
		}
	}
}
