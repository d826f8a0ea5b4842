package ingest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail/internal/ingest/cloudtrail"
	"github.com/mailtrail/mailtrail/internal/ingest/cwsubscription"
	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// documentBatch is how many records of a document go to one Append.
const documentBatch = 4096

// document reads a whole JSON document (its first chunk is in b) and
// stores its records: the Records of a CloudTrail log file, the elements
// of a top-level array, or the document itself when it is one record.
// CloudTrail digest files are recognised and reported, not stored.
func (r *reader) document(b *batch, c *chunker, res *Result) {
	// The document gets memory of its own (its records are stored from
	// it) and the chunk stays in the pool: most documents are small
	// CloudTrail files, and a chunk per file would be a megabyte each.
	data := append(make([]byte, 0, len(b.buf)+len(b.buf)/4), b.buf...)
	if !c.eof {
		data = c.rest(data, r.in.opts.MaxDocument)
	}
	if c.interrupted {
		r.stopped = true
		r.stoppedAt = r.file + " (a JSON document, not read)"
		r.pool <- b
		return
	}
	if len(data) > r.in.opts.MaxDocument {
		r.fileProblem(0, fmt.Sprintf("JSON document larger than %d bytes; split it into NDJSON", r.in.opts.MaxDocument))
		r.pool <- b
		return
	}
	if c.err != nil {
		// A truncated gzip file still holds whole records before the break;
		// the parse below reports where the document ends.
		r.fileProblem(0, fmt.Sprintf("reading stopped after %d bytes: %v", len(data), c.err))
	}
	data = bytes.TrimPrefix(data, bom)
	r.now = r.in.opts.Now().UnixMilli()
	d := docWalker{r: r, data: data, b: b}
	if r.pending != nil {
		// Keep filling the batch the previous document left: one Append
		// (one fsync) for many small files instead of one each.
		r.pool <- b
		d.b, d.n = r.pending, r.pendingN
		r.pending = nil
	} else {
		b.stream = r.stream
	}
	defer d.park()

	i := jsonscan.SkipSpace(data, 0)
	if i < len(data) && data[i] == '[' {
		d.array(i)
		return
	}
	if i < len(data) && (hasKeyPrefix(data[i:], `"messageType"`) || cwsubscription.Is(data[i:])) {
		d.subscription(i)
		return
	}
	kind := cloudtrail.LogFileKind
	if !hasRecordsPrefix(data[i:]) {
		var err error
		kind, err = cloudtrail.Classify(data)
		if err != nil {
			r.in.Read.Add(1)
			d.syntax(err, "")
			return
		}
	}
	switch kind {
	case cloudtrail.LogFileKind:
		err := cloudtrail.Records(data, r.sc, func(rec []byte, off int, f *jsonscan.Fields, err error) {
			d.record(rec, off, f, err)
		})
		if err != nil {
			r.in.Read.Add(1)
			d.syntax(err, "Records: ")
		}
	case cloudtrail.DigestKind:
		dg, err := cloudtrail.ParseDigest(data)
		if err != nil {
			r.in.Read.Add(1)
			r.reject(0, err.Error())
			return
		}
		res.Digests++
		r.in.opts.OnNote(r.file, cloudtrail.DigestSummary(dg))
	default:
		// One record, or several pretty-printed ones back to back.
		var f jsonscan.Fields
		for i < len(data) {
			end, err := r.sc.Value(data, i, &f)
			if err != nil {
				r.in.Read.Add(1)
				d.syntax(err, "")
				return
			}
			var notObj error
			if data[i] != '{' {
				notObj = jsonscan.ErrNotObject
			}
			d.record(data[i:end], i, &f, notObj)
			i = jsonscan.SkipSpace(data, end)
		}
	}
}

// docWalker turns records found in a document into batches.
type docWalker struct {
	r      *reader
	data   []byte
	b      *batch
	packed []byte // compacted copies of pretty-printed records

	n       int   // events in b
	lineOff int   // offset up to which lines have been counted
	line    int64 // line number at lineOff
}

// lineOf returns the 1-based line of offset off; offsets must not go back.
func (d *docWalker) lineOf(off int) int64 {
	if off < d.lineOff {
		d.lineOff, d.line = 0, 0
	}
	if d.line == 0 {
		d.line = 1
	}
	off = min(off, len(d.data))
	d.line += int64(bytes.Count(d.data[d.lineOff:off], []byte{'\n'}))
	d.lineOff = off
	return d.line
}

func (d *docWalker) array(i int) {
	var f jsonscan.Fields
	_, err := jsonscan.Elements(d.data, i, func(at int) (int, error) {
		end, err := d.r.sc.Value(d.data, at, &f)
		if err != nil {
			return end, err
		}
		var notObj error
		if d.data[at] != '{' {
			notObj = errors.New("array element is not a JSON object")
		}
		d.record(d.data[at:end], at, &f, notObj)
		return end, nil
	})
	if err != nil {
		d.r.in.Read.Add(1)
		d.syntax(err, "")
	}
}

// record takes one record found at offset off.
func (d *docWalker) record(rec []byte, off int, f *jsonscan.Fields, err error) {
	r := d.r
	r.in.Read.Add(1)
	if err != nil {
		r.reject(d.lineOf(off), err.Error())
		return
	}
	if f.Loose {
		start := len(d.packed)
		d.packed = jsonscan.AppendCompact(d.packed, rec)
		rec = d.packed[start:]
	}
	if len(rec) > r.in.opts.MaxEventSize {
		r.reject(d.lineOf(off), fmt.Sprintf("record is %d bytes, more than the %d a log event may hold", len(rec), r.in.opts.MaxEventSize))
		return
	}
	ts, err := r.eventTime(f)
	if err != nil {
		r.reject(d.lineOf(off), err.Error())
		return
	}
	r.add(d.b, Event{Timestamp: ts, Message: rec})
	if d.n++; d.n >= documentBatch {
		d.n = 0
		d.flush()
		d.b = <-r.pool // its chunk buffer stays unused: these events alias data
		d.b.stream = r.stream
	}
}

// subscription stores the log events of CloudWatch Logs subscription
// payloads written back to back. Each event goes to the stream it came
// from, unless a stream was named.
func (d *docWalker) subscription(i int) {
	r := d.r
	var arena []byte
	control := 0
	for i < len(d.data) {
		end, p, a, err := cwsubscription.Parse(d.data, i, arena, func(p *cwsubscription.Payload, ts int64, msg []byte, off int, err error) {
			if p.MessageType == "CONTROL_MESSAGE" {
				return // CloudWatch Logs checking the destination, not log data
			}
			r.in.Read.Add(1)
			if err == nil && len(msg) > r.in.opts.MaxEventSize {
				err = fmt.Errorf("message is %d bytes, more than the %d a log event may hold", len(msg), r.in.opts.MaxEventSize)
			}
			if err != nil {
				r.reject(d.lineOf(off), err.Error())
				return
			}
			stream := r.stream
			if !r.explicit && p.LogStream != "" {
				stream = sanitizeStream(p.LogStream)
			}
			r.addTo(d.b, stream, Event{Timestamp: ts, Message: msg})
			if d.n++; d.n >= documentBatch {
				d.n = 0
				d.flush()
				d.b = <-r.pool
				d.b.stream = r.stream
			}
		})
		arena = a
		if err != nil {
			r.in.Read.Add(1)
			d.syntax(err, "subscription payload: ")
			return
		}
		if p.MessageType == "CONTROL_MESSAGE" {
			control++
		}
		i = jsonscan.SkipSpace(d.data, end)
	}
	if control > 0 {
		r.in.opts.OnNote(r.file, fmt.Sprintf("%d CloudWatch Logs CONTROL_MESSAGE payloads (connectivity checks, no log events) skipped", control))
	}
}

// syntax reports a broken document: JSON cannot be resumed after a syntax
// error, so whatever follows is not read, and the reject says so.
func (d *docWalker) syntax(err error, prefix string) {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		line := d.lineOf(se.Offset)
		msg := fmt.Sprintf("%s%s", prefix, se.Msg)
		if rest := len(d.data) - se.Offset; rest > 0 && se.Offset > 0 {
			msg += fmt.Sprintf(" (byte %d; the remaining %d bytes were not read)", se.Offset, rest)
		} else {
			msg += fmt.Sprintf(" (byte %d)", se.Offset)
		}
		d.r.reject(line, msg)
		return
	}
	d.r.reject(0, prefix+err.Error())
}

func (d *docWalker) flush() {
	if d.b != nil {
		d.r.work <- d.b
		d.b = nil
	}
}

// park leaves a batch that is not full for the next document to fill; the
// reader flushes it before reading anything else, and at the end of the run.
func (d *docWalker) park() {
	if d.b != nil && d.n < documentBatch {
		d.r.pending, d.r.pendingN = d.b, d.n
		d.b = nil
		return
	}
	d.flush()
}

// flushPending sends the batch documents left unfinished.
func (r *reader) flushPending() {
	if r.pending != nil {
		r.work <- r.pending
		r.pending = nil
	}
}
