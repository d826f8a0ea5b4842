package dovecot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	ingest "github.com/mailtrail/mailtrail/internal/ingest/dovecot"
)

// LogOptions tune a LogFeeder.
type LogOptions struct {
	Parser ingest.ParserOptions
	// Since skips activities older than this (zero: none). After a restart
	// the de-duplication window is empty, so a catch-up should start where
	// the stored records end rather than at the top of the file.
	Since time.Time
	// Batch is how many activities are written per Sink.Write (default 256).
	Batch int
}

// LogStats count what a LogFeeder did.
type LogStats struct {
	Parser  ingest.ParserStats
	Written int64 // records written (after de-duplication)
	Skipped int64 // activities older than Since
}

// LogFeeder turns Dovecot log lines into records through the handler's
// de-duplication: a record the exporter or the policy endpoint already
// wrote (same request_id), or a per-message line of an operation the
// exporter reported as a command (same OpKey), is not written again. Feed
// it lines in file order; it is not safe for concurrent use.
type LogFeeder struct {
	h       *Handler
	p       *ingest.Parser
	opts    LogOptions
	pending []ingest.Activity
	stats   LogStats
}

// NewLogFeeder returns a feeder writing through h.
func (h *Handler) NewLogFeeder(opts LogOptions) *LogFeeder {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	return &LogFeeder{h: h, p: ingest.NewParser(opts.Parser), opts: opts}
}

// Feed parses one line. A line that is not in Dovecot's format is counted
// and returned as an error the caller may log and skip; a storage error
// means the pending records were not written (Feed them again later, or
// Flush).
func (f *LogFeeder) Feed(line []byte) (parseErr, storeErr error) {
	f.pending, parseErr = f.p.ParseLine(f.pending, line)
	if len(f.pending) >= f.opts.Batch {
		storeErr = f.write()
	}
	return parseErr, storeErr
}

// Flush writes the records of the lines fed so far. Parser state is kept:
// a failed login whose login process has not logged its line yet (it does
// after the auth failure delay) stays pending, so a follower of a live log
// can Flush whenever it has caught up.
func (f *LogFeeder) Flush() error {
	return f.write()
}

// End ends the input (the end of a file read once): failed logins still
// waiting for their login process's line are dropped and counted in
// Stats().Parser.Unresolved, and the rest is written.
func (f *LogFeeder) End() error {
	f.pending = f.p.Flush(f.pending)
	return f.write()
}

// Stats returns the counters so far.
func (f *LogFeeder) Stats() LogStats {
	s := f.stats
	s.Parser = f.p.Stats()
	return s
}

func (f *LogFeeder) write() error {
	acts := f.pending[:0]
	for _, a := range f.pending {
		if !f.opts.Since.IsZero() && a.Time.Before(f.opts.Since) {
			f.stats.Skipped++
			continue
		}
		acts = append(acts, a)
	}
	if len(acts) == 0 {
		f.pending = f.pending[:0]
		return nil
	}
	n, err := f.h.store(acts, false)
	f.stats.Written += int64(n)
	if err != nil {
		f.pending = acts
		return err
	}
	f.pending = f.pending[:0]
	return nil
}

// IngestLog reads a whole Dovecot log (a file being caught up on, or a
// log-only site's history) through a LogFeeder. Lines that are not in
// Dovecot's format are counted and logged at debug level with their line
// number; a storage error stops the run.
func (h *Handler) IngestLog(ctx context.Context, r io.Reader, opts LogOptions) (LogStats, error) {
	f := h.NewLogFeeder(opts)
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	for {
		if err := ctx.Err(); err != nil {
			return f.Stats(), err
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An over-long line (a huge exporter JSON copy): skip it whole.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			lineNo++
			h.log.Debug("skipping over-long log line", "line", lineNo)
			if err != nil && !errors.Is(err, io.EOF) {
				return f.Stats(), fmt.Errorf("reading Dovecot log: line %d: %w", lineNo, err)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			continue
		}
		if len(line) > 0 {
			lineNo++
			perr, serr := f.Feed(line)
			if perr != nil {
				h.log.Debug("not a Dovecot log line", "line", lineNo, "err", perr)
			}
			if serr != nil {
				return f.Stats(), fmt.Errorf("storing records of Dovecot log line %d: %w", lineNo, serr)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return f.Stats(), fmt.Errorf("reading Dovecot log: line %d: %w", lineNo+1, err)
		}
	}
	if err := f.End(); err != nil {
		return f.Stats(), fmt.Errorf("storing records of the Dovecot log: %w", err)
	}
	return f.Stats(), nil
}
