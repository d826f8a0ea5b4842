package postfixlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// ReadOptions configure ReadLines.
type ReadOptions struct {
	// CommitLines commits every this many lines (default 2000).
	CommitLines int
	// FlushAtEOF emits what incomplete messages have at the end of the
	// input (a finite excerpt); leave it false for a stream that a later
	// call continues.
	FlushAtEOF bool
	// MaxLine bounds one line (default 1 MiB); longer lines are an error.
	MaxLine int
}

// ReadLines feeds plain log lines from r into p until EOF or ctx is done,
// committing as it goes; offsets are byte offsets in r.
func ReadLines(ctx context.Context, r io.Reader, p *Processor, opt ReadOptions) error {
	if opt.CommitLines <= 0 {
		opt.CommitLines = 2000
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 1 << 20
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), opt.MaxLine)
	var off int64
	n := 0
	for sc.Scan() {
		b := sc.Bytes()
		p.Line(b, off)
		off += int64(len(b)) + 1
		if n++; n%opt.CommitLines == 0 {
			if err := p.Commit(); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		p.Commit()
		return fmt.Errorf("reading Postfix log at byte %d: %w", off, err)
	}
	if opt.FlushAtEOF {
		p.FlushPending()
	}
	return p.Commit()
}
