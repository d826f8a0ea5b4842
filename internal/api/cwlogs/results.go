package cwlogs

import (
	"encoding/json"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/query"
)

// resultSet is a query's rows as GetQueryResults sends them: the JSON
// arrays of the rows, comma-separated, and where each ends. Rows are
// encoded once, when the engine hands them over, not at every
// GetQueryResults; and a result set holds two slices, no pointers, so the
// results a server keeps for a week (up to maxKeptQueries per account)
// cost the garbage collector nothing to scan, where the engine's rows (two
// strings per cell) made every collection during a later query mark them
// all.
type resultSet struct {
	buf  []byte // row0,row1,...
	ends []int  // ends[i] is where row i ends in buf
}

// newResultSet encodes rows, byte for byte as encoding/json would.
//
// It runs when the query has just ended, with the engine's workers idle,
// and its time is part of the query's latency (2 ms for 10,000 rows), so a
// large set is encoded in two halves at once.
func newResultSet(rows [][]query.Field) *resultSet {
	rs := &resultSet{ends: make([]int, len(rows))}
	if len(rows) < parallelEncodeRows {
		rs.buf = encodeRows(nil, rows, rs.ends)
		return rs
	}
	half := len(rows) / 2
	var second []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		second = encodeRows(nil, rows[half:], rs.ends[half:])
	}()
	first := encodeRows(make([]byte, 0, encodedSize(rows)), rows[:half], rs.ends[:half])
	<-done
	// The halves join with a comma; the second half's row ends move by
	// where it starts.
	off := len(first) + 1
	rs.buf = append(append(first, ','), second...)
	for i := half; i < len(rows); i++ {
		rs.ends[i] += off
	}
	return rs
}

// parallelEncodeRows is the size from which newResultSet encodes in two
// halves: below it a goroutine costs more than it saves.
const parallelEncodeRows = 2048

// encodedSize bounds the bytes rows encode to, but for escapes.
func encodedSize(rows [][]query.Field) int {
	n := 0
	for _, r := range rows {
		n += 3
		for _, f := range r {
			n += len(f.Name) + len(f.Value) + 24
		}
	}
	return n
}

// encodeRows appends rows to b, comma-separated, and records in ends
// where each row ends in b.
func encodeRows(b []byte, rows [][]query.Field, ends []int) []byte {
	if b == nil {
		b = make([]byte, 0, encodedSize(rows))
	}
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRow(b, r)
		ends[i] = len(b)
	}
	return b
}

func appendRow(b []byte, r []query.Field) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for j, f := range r {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"field":`...)
		b = awsjson.AppendString(b, f.Name)
		b = append(b, `,"value":`...)
		b = awsjson.AppendString(b, f.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// len is the number of rows; a nil set has none.
func (rs *resultSet) len() int {
	if rs == nil {
		return 0
	}
	return len(rs.ends)
}

// span returns rows [from, to) as the inside of a JSON array.
func (rs *resultSet) span(from, to int) []byte {
	if from >= to {
		return nil
	}
	start := 0
	if from > 0 {
		start = rs.ends[from-1] + 1 // after the comma
	}
	return rs.buf[start:rs.ends[to-1]]
}

// queryResultsParts is a GetQueryResults answer holding rows [from, to)
// of rs, in three parts to write in order: the rows are rs's own bytes,
// not copied. Together the parts are what awsjson.Encode writes for
// getQueryResultsOut (newline included); TestQueryResultsJSON holds the
// two to the same bytes.
func queryResultsParts(lang string, rs *resultSet, from, to int, st queryStats, status, nextToken, encryptionKey string) rawJSON {
	head := make([]byte, 0, 64)
	head = append(head, `{"queryLanguage":`...)
	head = awsjson.AppendString(head, lang)
	head = append(head, `,"results":[`...)
	tail := make([]byte, 0, 256)
	tail = append(tail, `],"statistics":`...)
	// Five numbers: encoding/json formats floats its own way, so let it.
	stats, _ := json.Marshal(st)
	tail = append(tail, stats...)
	tail = append(tail, `,"status":`...)
	tail = awsjson.AppendString(tail, status)
	if nextToken != "" {
		tail = append(tail, `,"nextToken":`...)
		tail = awsjson.AppendString(tail, nextToken)
	}
	if encryptionKey != "" {
		tail = append(tail, `,"encryptionKey":`...)
		tail = awsjson.AppendString(tail, encryptionKey)
	}
	tail = append(tail, "}\n"...)
	return rawJSON{head, rs.span(from, to), tail}
}

// appendQueryResults appends the answer queryResultsParts describes.
func appendQueryResults(b []byte, lang string, rs *resultSet, from, to int, st queryStats, status, nextToken, encryptionKey string) []byte {
	for _, p := range queryResultsParts(lang, rs, from, to, st, status, nextToken, encryptionKey) {
		b = append(b, p...)
	}
	return b
}
