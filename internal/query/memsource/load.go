package memsource

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// LoadJSON reads JSON records from r into a log group: NDJSON, or any
// sequence of JSON objects (pretty-printed samples too). A CloudTrail log
// file object {"Records":[...]} contributes each record. An event's time is
// its event_timestamp (epoch ms, number or numeric string) or its eventTime
// (RFC 3339); records with neither get the time of the previous record (0
// for the first). Files carry no ingestion time, so @ingestionTime is the
// event time. name labels errors (a file name). It returns the number
// of events added.
func (s *Source) LoadJSON(r io.Reader, name, account, groupName, stream string) (int, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	n := 0
	var last int64
	var buf bytes.Buffer
	for {
		var raw json.RawMessage
		off := dec.InputOffset()
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, fmt.Errorf("%s: byte %d: invalid JSON: %w", name, off, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			return n, fmt.Errorf("%s: byte %d: expected a JSON object per record", name, off)
		}
		recs := []json.RawMessage{raw}
		var env struct {
			Records []json.RawMessage `json:"Records"`
		}
		if bytes.Contains(raw, []byte(`"Records"`)) && json.Unmarshal(raw, &env) == nil && env.Records != nil {
			recs = env.Records
		}
		for _, rec := range recs {
			buf.Reset()
			if err := json.Compact(&buf, rec); err != nil {
				return n, fmt.Errorf("%s: byte %d: %w", name, off, err)
			}
			if t, ok := recordTime(rec); ok {
				last = t
			}
			s.Add(account, groupName, Event{Timestamp: last, IngestionTime: last, Stream: stream, Message: buf.String()})
			n++
		}
	}
}

// recordTime finds event_timestamp or eventTime at the top level.
func recordTime(rec []byte) (int64, bool) {
	// Fast path for the common shapes: a plain integer event_timestamp or
	// an RFC 3339 eventTime string, found without decoding the record.
	if i := bytes.Index(rec, []byte(`"event_timestamp":`)); i >= 0 {
		j := i + len(`"event_timestamp":`)
		k := j
		for k < len(rec) && rec[k] >= '0' && rec[k] <= '9' {
			k++
		}
		if k > j && k < len(rec) && (rec[k] == ',' || rec[k] == '}') {
			if v, err := strconv.ParseInt(string(rec[j:k]), 10, 64); err == nil {
				return v, true
			}
		}
	} else if i := bytes.Index(rec, []byte(`"eventTime":"`)); i >= 0 {
		j := i + len(`"eventTime":"`)
		if k := bytes.IndexByte(rec[j:], '"'); k > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rec[j:j+k])); err == nil {
				return t.UnixMilli(), true
			}
		}
	}
	var probe struct {
		EventTimestamp json.RawMessage `json:"event_timestamp"`
		EventTime      string          `json:"eventTime"`
	}
	if json.Unmarshal(rec, &probe) != nil {
		return 0, false
	}
	if len(probe.EventTimestamp) > 0 {
		s := string(bytes.Trim(probe.EventTimestamp, `"`))
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f), true
		}
	}
	if probe.EventTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, probe.EventTime); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}
