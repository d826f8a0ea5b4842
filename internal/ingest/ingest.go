package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Event is one log event for the store. Message aliases the reader's
// buffers and is valid only during Sink.Append.
type Event struct {
	Timestamp int64 // epoch ms
	Message   []byte
}

// Sink stores events. Append must have made the events durable when it
// returns: ingest reports them stored on that basis (see DeferredSink for
// a sink that reports durability later). With more than one
// appender (Options.Appenders) it is called from several goroutines at
// once and batches may be stored out of input order; with one, batch after
// batch in input order.
type Sink interface {
	Append(stream string, events []Event) error
}

// DeferredSink is a Sink that can also take events before they are
// durable, which lets a bulk load write each record once (into its final
// place) instead of first into a write-ahead log. AppendDeferred takes a
// copy of the events (they alias reader buffers) and calls done once they
// are durable, or with the error that prevented it; Sync returns once
// every event handed over before it is durable. With Options.Deferred,
// ingest counts events stored only in done, and Run calls Sync before it
// returns, so what it reports stored is on disk.
type DeferredSink interface {
	Sink
	AppendDeferred(stream string, events []Event, done func(error)) error
	Sync() error
}

// Input is one file to read.
type Input struct {
	Name   string                        // as given; "-" means standard input
	Open   func() (io.ReadCloser, error) // called once, from the reading goroutine
	Size   int64                         // bytes as stored (compressed), or -1 when unknown
	Stream string                        // log stream; "" means DefaultStream(Name)
}

// Reject is a record that was not stored, or a file that could not be
// read (completely), and why.
type Reject struct {
	File   string
	Line   int64 // 1-based; 0 when the problem is with the file as a whole
	Reason string
}

func (r Reject) String() string {
	if r.Line == 0 {
		return r.File + ": " + r.Reason
	}
	return fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Reason)
}

// Options tune a run. The zero value is usable.
type Options struct {
	// TimeField is a dotted path to the event time for records that have
	// neither event_timestamp nor eventTime: epoch ms (number or numeric
	// string) or an RFC 3339 string.
	TimeField string
	// OnReject is called, from the reading goroutine, for every reject.
	OnReject func(Reject)
	// OnNote is called for things worth telling that are not errors (a
	// digest file was recognised and skipped).
	OnNote func(file, msg string)
	// Now gives the ingestion time used for records without a time.
	Now func() time.Time

	ChunkSize    int // bytes read at once; default 1 MiB
	MaxEventSize int // largest message stored; default MaxEventSize
	MaxDocument  int // largest JSON document (CloudTrail file) read whole; default 1 GiB
	AppendEvents int // most events per Sink.Append; default 16384
	// StreamByType puts each record in the log stream named after its log
	// type as event.Classify tells it (WORKMAIL_MAILBOX_ACCESS_LOGS,
	// AUTHENTICATION_LOGS, WORKMAIL_EMAIL_EVENT_LOGS, CLOUDTRAIL, ...), the
	// way WorkMail's own deliveries keep the types apart; records of no
	// known type stay in the input's stream.
	StreamByType bool
	// Appenders is how many goroutines call Sink.Append; default 2, so
	// that one batch is encoded while another waits for its fsync (the
	// store shares one fsync among concurrent appends).
	Appenders int
	// Deferred hands events to the sink's AppendDeferred when the sink is
	// a DeferredSink (see there): faster bulk loads, at the price of
	// events being reported stored in large steps rather than per batch.
	Deferred bool
}

// MaxEventSize is the largest message CloudWatch Logs stores: an event
// may take 1 MiB including 26 bytes of overhead.
const MaxEventSize = 1<<20 - 26

// Counters are updated while a run goes on; a progress display reads them.
type Counters struct {
	BytesIn  atomic.Int64 // bytes read from the inputs as stored (before gunzip)
	Read     atomic.Int64 // records seen
	Stored   atomic.Int64 // records appended
	Rejected atomic.Int64 // records not stored
	// FileErrors counts inputs that could not be opened or read to the
	// end (records before the break are stored).
	FileErrors atomic.Int64
}

// Result sums up a run.
type Result struct {
	Read, Stored, Rejected int64
	FileErrors             int64 // inputs not opened or not read to the end
	Files                  int   // inputs opened
	Digests                int   // CloudTrail digest files recognised (not stored)
	// Interrupted is set when the context ended the run early; StoppedAt
	// then says how far reading got ("file:line"), and everything read up
	// to there was stored.
	Interrupted bool
	StoppedAt   string
}

// Ingester runs ingests. Its counters may be read at any time.
type Ingester struct {
	Counters
	opts Options
}

// New returns an Ingester with opts.
func New(opts Options) *Ingester {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1 << 20
	}
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = MaxEventSize
	}
	if opts.MaxDocument <= 0 {
		opts.MaxDocument = 1 << 30
	}
	if opts.AppendEvents <= 0 {
		opts.AppendEvents = 16384
	}
	if opts.Appenders <= 0 {
		opts.Appenders = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnReject == nil {
		opts.OnReject = func(Reject) {}
	}
	if opts.OnNote == nil {
		opts.OnNote = func(string, string) {}
	}
	return &Ingester{opts: opts}
}

// batch is the unit handed from the reader to the appender.
type batch struct {
	stream string
	events []Event
	more   []part // events for other streams (Options.StreamByType)
	buf    []byte // the chunk the events alias (unused by documents); recycled after Append
}

// part is a batch's events for one more stream.
type part struct {
	stream string
	events []Event
}

// pipelineDepth is how many batches may be in flight: one being filled,
// one being appended, and slack so neither side waits on the other's
// jitter. It also bounds memory to about depth × ChunkSize.
const pipelineDepth = 4

// Run reads inputs in order and appends their records to sink. It returns
// an error only when the sink fails (the run stops there: what was stored
// stays stored and the counters say how much). Bad records and unreadable
// files are rejects, not errors. When ctx ends, reading stops at once (a
// read blocked on a quiet pipe is abandoned), every complete record
// already read is appended, and the Result is marked Interrupted. With
// Options.Deferred, Run returns once everything it appended is durable.
func (in *Ingester) Run(ctx context.Context, inputs []Input, sink Sink) (Result, error) {
	depth := pipelineDepth + in.opts.Appenders - 1
	pool := make(chan *batch, depth)
	for range depth {
		pool <- &batch{buf: make([]byte, 0, in.opts.ChunkSize)}
	}
	work := make(chan *batch, depth)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()

	var (
		errOnce sync.Once
		sinkErr error
		failed  atomic.Bool
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { sinkErr = err })
		failed.Store(true)
		stopReading()
	}
	ds, deferred := sink.(DeferredSink)
	deferred = deferred && in.opts.Deferred
	a := appender{in: in, sink: sink, fail: fail, failed: &failed}
	if deferred {
		a.deferred = ds
	}
	for range in.opts.Appenders {
		wg.Add(1)
		go a.run(work, pool, &wg)
	}

	r := &reader{in: in, ctx: readCtx, pool: pool, work: work}

	var res Result
	for _, inp := range inputs {
		if readCtx.Err() != nil {
			if !r.stopped {
				r.stopped = true
				r.stoppedAt = "before " + displayName(inp.Name)
			}
			break
		}
		r.readInput(inp, &res)
	}
	r.flushPending()
	close(work)
	wg.Wait()
	if deferred {
		// Also after a failure: batches appended before it may still be
		// on their way to disk, and Stored must count the ones that made it.
		if err := ds.Sync(); err != nil && !failed.Load() {
			fail(fmt.Errorf("storing the last events: %w", err))
		}
	}

	res.Read = in.Read.Load()
	res.Stored = in.Stored.Load()
	res.Rejected = in.Rejected.Load()
	res.FileErrors = in.FileErrors.Load()
	if sinkErr != nil {
		return res, sinkErr
	}
	if ctx.Err() != nil && r.stopped {
		res.Interrupted = true
		res.StoppedAt = r.stoppedAt
	}
	return res, nil
}

// appender is what the goroutines storing batches share.
type appender struct {
	in       *Ingester
	sink     Sink
	deferred DeferredSink // set when appending deferred
	fail     func(error)  // records the first sink error and stops reading
	failed   *atomic.Bool
}

// run stores batches until work is closed, then recycles them. After a
// sink error (from any appender) it only drains, so the reader never
// blocks on a full pipeline.
func (a *appender) run(work <-chan *batch, pool chan<- *batch, wg *sync.WaitGroup) {
	defer wg.Done()
	in := a.in
	for b := range work {
		if !a.failed.Load() {
			if err := a.appendBatch(b); err != nil {
				a.fail(err)
			}
		}
		b.events = b.events[:0]
		if len(b.more) > 64 {
			b.more = nil // many streams once; do not carry them all along
		}
		for i := range b.more { // keep the slots: the next batch likely has the same streams
			clear(b.more[i].events)
			b.more[i].events = b.more[i].events[:0]
		}
		if cap(b.buf) > 4*in.opts.ChunkSize {
			b.buf = make([]byte, 0, in.opts.ChunkSize) // an overgrown chunk (a long line)
		}
		b.stream = ""
		pool <- b
	}
}

func (a *appender) appendBatch(b *batch) error {
	if err := a.appendEvents(b.stream, b.events); err != nil {
		return err
	}
	for _, p := range b.more {
		if err := a.appendEvents(p.stream, p.events); err != nil { // no-op for empty slots
			return err
		}
	}
	return nil
}

func (a *appender) appendEvents(stream string, ev []Event) error {
	for len(ev) > 0 {
		n := min(len(ev), a.in.opts.AppendEvents)
		if a.deferred != nil {
			err := a.deferred.AppendDeferred(stream, ev[:n], func(err error) {
				if err != nil {
					a.fail(fmt.Errorf("storing %d events in stream %q: %w", n, stream, err))
					return
				}
				a.in.Stored.Add(int64(n))
			})
			if err != nil {
				return fmt.Errorf("storing %d events in stream %q: %w", n, stream, err)
			}
		} else {
			if err := a.sink.Append(stream, ev[:n]); err != nil {
				return fmt.Errorf("storing %d events in stream %q: %w", n, stream, err)
			}
			a.in.Stored.Add(int64(n))
		}
		ev = ev[n:]
	}
	return nil
}

// countingReader feeds the progress display with bytes as stored.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// displayName is how an input is named in messages.
func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// open opens an input and undoes gzip when the data starts with its magic
// bytes; concatenated gzip members (as Firehose and some tools write) are
// read as one stream.
func open(inp Input, n *atomic.Int64) (io.Reader, io.Closer, error) {
	rc, err := inp.Open()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(countingReader{rc, n}, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, rc, nil
	}
	return br, rc, nil
}
