package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/ingest/cloudtrail"
	"github.com/mailtrail/mailtrail/internal/ingest/cwexport"
	"github.com/mailtrail/mailtrail/internal/ingest/cwsubscription"
	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// format is what an input holds, decided from its first chunk.
type format int

const (
	formatNDJSON   format = iota // one JSON object per line
	formatExport                 // CloudWatch Logs export: "<time> <message>" lines
	formatDocument               // one JSON document: CloudTrail log or digest file, array, or one record
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// reader is the reading side of a run.
type reader struct {
	in    *Ingester
	ctx   context.Context
	pool  chan *batch
	work  chan *batch
	sc    *jsonscan.Scanner
	f     jsonscan.Fields
	stash blockStash

	file     string // display name of the current input
	stream   string
	explicit bool  // stream was named (--stream), not derived
	now      int64 // ingestion time for records without one; set per chunk

	pending  *batch // a document batch not yet full, for the next document
	pendingN int    // events in pending

	stopped   bool // reading stopped early because ctx ended
	stoppedAt string
}

func (r *reader) reject(line int64, reason string) {
	r.in.Rejected.Add(1)
	r.in.opts.OnReject(Reject{File: r.file, Line: line, Reason: reason})
}

// fileProblem reports a file that could not be read (completely): it is
// counted apart from rejected records, and listed the same way.
func (r *reader) fileProblem(line int64, reason string) {
	r.in.FileErrors.Add(1)
	r.in.opts.OnReject(Reject{File: r.file, Line: line, Reason: reason})
}

func (r *reader) stop(line int64) {
	r.stopped = true
	r.stoppedAt = fmt.Sprintf("%s:%d", r.file, line)
}

func (r *reader) readInput(inp Input, res *Result) {
	if r.sc == nil {
		r.sc = jsonscan.NewScanner(r.in.opts.TimeField)
	}
	r.file = displayName(inp.Name)
	r.stream = inp.Stream
	r.explicit = inp.Stream != ""
	if r.stream == "" {
		r.stream = DefaultStream(inp.Name)
	}
	src, closer, err := open(inp, &r.in.BytesIn)
	if err != nil {
		r.fileProblem(0, fmt.Sprintf("cannot read: %v", err))
		return
	}
	defer closer.Close()
	res.Files++

	b := <-r.pool
	c := newChunker(r.ctx, src, &r.stash)
	defer c.close()
	b.buf = c.fill(b.buf[:0])
	switch detect(b.buf, c.eof) {
	case formatDocument:
		r.document(b, c, res)
	case formatExport:
		r.flushPending()
		r.lines(b, c, true)
	default:
		r.flushPending()
		r.lines(b, c, false)
	}
}

// detect decides the format from the first chunk of (decompressed) data.
func detect(head []byte, eof bool) format {
	head = bytes.TrimPrefix(head, bom)
	i := jsonscan.SkipSpace(head, 0)
	if i >= len(head) {
		return formatNDJSON
	}
	first, complete := lineAt(head, i, eof)
	switch head[i] {
	case '[':
		return formatDocument
	case '{':
		if hasRecordsPrefix(head[i:]) || hasKeyPrefix(head[i:], `"messageType"`) {
			return formatDocument
		}
		if !complete {
			return formatNDJSON // a first line longer than a chunk; documents are not that
		}
		var f jsonscan.Fields
		var sc jsonscan.Scanner
		err := sc.Object(first, &f)
		if se := (*jsonscan.SyntaxError)(nil); errors.As(err, &se) && se.Msg == jsonscan.MsgTrailingData && first[se.Offset] == '{' {
			return formatNDJSON // objects back to back on a line
		}
		if err == nil {
			if k, _ := cloudtrail.Classify(first); k != cloudtrail.OtherKind || cwsubscription.Is(first) {
				return formatDocument
			}
			return formatNDJSON
		}
		// The first line is not a record: a pretty-printed document, or
		// NDJSON whose first line is broken. The second line tells.
		next := jsonscan.SkipSpace(head, i+len(first))
		if second, ok := lineAt(head, next, eof); ok && len(second) > 0 && sc.Object(second, &f) == nil {
			return formatNDJSON
		}
		return formatDocument
	}
	if complete && cwexport.LooksLike(first) {
		return formatExport
	}
	return formatNDJSON
}

// lineAt returns the line starting at head[i] without its newline, and
// whether it is known to be complete.
func lineAt(head []byte, i int, eof bool) ([]byte, bool) {
	if i >= len(head) {
		return nil, eof
	}
	if nl := bytes.IndexByte(head[i:], '\n'); nl >= 0 {
		return head[i : i+nl], true
	}
	return head[i:], eof
}

// hasRecordsPrefix reports whether b starts like a CloudTrail log file,
// {"Records":[ , so that it is read as one without parsing it first.
func hasRecordsPrefix(b []byte) bool {
	if !hasKeyPrefix(b, `"Records"`) {
		return false
	}
	i := jsonscan.SkipSpace(b, 1)
	i = jsonscan.SkipSpace(b, i+len(`"Records"`))
	if i >= len(b) || b[i] != ':' {
		return false
	}
	i = jsonscan.SkipSpace(b, i+1)
	return i < len(b) && b[i] == '['
}

// hasKeyPrefix reports whether the object b starts with the quoted key.
func hasKeyPrefix(b []byte, key string) bool {
	i := jsonscan.SkipSpace(b, 1)
	return bytes.HasPrefix(b[i:], []byte(key))
}

// lines reads line-oriented input (NDJSON or an export) starting with the
// already filled batch b.
func (r *reader) lines(b *batch, c *chunker, export bool) {
	var (
		carry    []byte // the unfinished last line of the previous chunk
		line     int64  // lines consumed so far
		skipping bool   // inside an over-long line, already rejected
		maxLine  = r.in.opts.MaxEventSize + 64
	)
	for first := true; ; first = false {
		if !first {
			if r.ctx.Err() != nil {
				r.stop(line)
				return
			}
			b = <-r.pool
			buf := b.buf[:0]
			if len(carry) >= cap(buf)/2 {
				buf = make([]byte, 0, max(2*len(carry), r.in.opts.ChunkSize))
			}
			b.buf = c.fill(append(buf, carry...))
		}
		b.stream = r.stream
		r.now = r.in.opts.Now().UnixMilli()
		buf := b.buf
		start := 0
		for {
			nl := bytes.IndexByte(buf[start:], '\n')
			if nl < 0 {
				break
			}
			text := buf[start : start+nl]
			start += nl + 1
			line++
			if skipping {
				skipping = false
				continue
			}
			r.line(b, line, text, export)
		}
		rest := buf[start:]
		carry = carry[:0]
		switch {
		case c.interrupted:
			// The unfinished last line was not read; everything before it was.
			r.stop(line)
			r.work <- b
			return
		case c.err != nil:
			// A read error (a cut-off gzip file): the unfinished line is
			// a fragment, so it is reported with the file, not parsed.
			r.fileProblem(line+1, fmt.Sprintf("reading stopped: %v; lines from here on were not read", c.err))
			r.work <- b
			return
		case c.eof:
			if len(rest) > 0 && !skipping {
				line++
				r.line(b, line, rest, export)
			}
			r.work <- b
			return
		case skipping:
			// Still inside the over-long line: drop this chunk's tail of it.
		case len(rest) > maxLine:
			r.in.Read.Add(1)
			r.reject(line+1, fmt.Sprintf("line is longer than %d bytes, the most a log event may hold", r.in.opts.MaxEventSize))
			skipping = true
		default:
			carry = append(carry, rest...)
		}
		r.work <- b
	}
}

// line handles one line of line-oriented input.
func (r *reader) line(b *batch, n int64, text []byte, export bool) {
	if n == 1 {
		text = bytes.TrimPrefix(text, bom)
	}
	text = trimSpace(text)
	if len(text) == 0 {
		return // blank lines separate nothing and hold nothing
	}
	r.in.Read.Add(1)
	if export {
		ts, msg, err := cwexport.ParseLine(text)
		if err != nil {
			r.reject(n, err.Error())
			return
		}
		if len(msg) > r.in.opts.MaxEventSize {
			r.reject(n, fmt.Sprintf("message is %d bytes, more than the %d a log event may hold", len(msg), r.in.opts.MaxEventSize))
			return
		}
		if !utf8.Valid(msg) {
			r.reject(n, "message is not valid UTF-8")
			return
		}
		r.add(b, Event{Timestamp: ts, Message: msg})
		return
	}
	if len(text) > r.in.opts.MaxEventSize {
		r.reject(n, fmt.Sprintf("record is %d bytes, more than the %d a log event may hold", len(text), r.in.opts.MaxEventSize))
		return
	}
	if err := r.sc.Object(text, &r.f); err != nil {
		var se *jsonscan.SyntaxError
		if errors.As(err, &se) && se.Msg == jsonscan.MsgTrailingData {
			r.concatenated(b, n, text)
			return
		}
		r.reject(n, err.Error())
		return
	}
	ts, err := r.eventTime(&r.f)
	if err != nil {
		r.reject(n, err.Error())
		return
	}
	r.add(b, Event{Timestamp: ts, Message: text})
}

// concatenated handles a line of JSON objects written back to back with no
// newline between them, as Firehose writes records whose producer added
// none. Each object is a record; a broken one ends the line, since where
// the next would start is unknown.
func (r *reader) concatenated(b *batch, n int64, text []byte) {
	r.in.Read.Add(-1) // counted again per object below
	for i := 0; i < len(text); {
		r.in.Read.Add(1)
		end, err := r.sc.Value(text, i, &r.f)
		if err != nil {
			r.reject(n, err.Error())
			return
		}
		rec := text[jsonscan.SkipSpace(text, i):end]
		i = jsonscan.SkipSpace(text, end)
		if rec[0] != '{' {
			r.reject(n, fmt.Sprintf("value at byte %d: %v", end-len(rec), jsonscan.ErrNotObject))
			continue
		}
		if r.f.Loose {
			// Stored messages are one compact object; only this rare
			// form needs a copy.
			rec = jsonscan.AppendCompact(nil, rec)
		}
		ts, err := r.eventTime(&r.f)
		if err != nil {
			r.reject(n, err.Error())
			continue
		}
		r.add(b, Event{Timestamp: ts, Message: rec})
	}
}

// add puts an accepted event into batch b, in the input's stream or, with
// Options.StreamByType, in the stream named after the record's log type.
func (r *reader) add(b *batch, e Event) {
	if !r.in.opts.StreamByType && b.stream == r.stream {
		b.events = append(b.events, e)
		return
	}
	r.addTo(b, r.stream, e) // another stream: a batch left by an earlier document
}

// addTo puts an event whose stream is stream unless Options.StreamByType
// names another.
func (r *reader) addTo(b *batch, stream string, e Event) {
	if r.in.opts.StreamByType {
		if t, err := event.Classify(e.Message); err == nil {
			stream = string(t)
		}
	}
	if stream == b.stream {
		b.events = append(b.events, e)
		return
	}
	for i := range b.more {
		if b.more[i].stream == stream {
			b.more[i].events = append(b.more[i].events, e)
			return
		}
	}
	b.more = append(b.more, part{stream: stream, events: []Event{e}})
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// eventTime picks a record's time from the fields the scanner captured. A
// time field that is present but unreadable rejects the record rather than
// silently filing it under the ingestion time.
func (r *reader) eventTime(f *jsonscan.Fields) (int64, error) {
	switch {
	case f.EventTimestamp != nil:
		if ms, ok := jsonscan.Millis(f.EventTimestamp); ok {
			return ms, nil
		}
		return 0, fmt.Errorf("event_timestamp is not epoch milliseconds: %s", clip(f.EventTimestamp))
	case f.EventTime != nil:
		if ms, ok := jsonscan.RFC3339Millis(f.EventTime); ok {
			return ms, nil
		}
		return 0, fmt.Errorf("eventTime is not an RFC 3339 time: %s", clip(f.EventTime))
	case f.Custom != nil:
		if ms, ok := jsonscan.Millis(f.Custom); ok {
			return ms, nil
		}
		if ms, ok := jsonscan.RFC3339Millis(f.Custom); ok {
			return ms, nil
		}
		return 0, fmt.Errorf("%s is neither epoch milliseconds nor an RFC 3339 time: %s", r.in.opts.TimeField, clip(f.Custom))
	}
	return r.now, nil
}

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	const max = 60
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return string(b)
}
