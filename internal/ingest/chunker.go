package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
)

// readBlock is the size of one read from an input.
const readBlock = 256 << 10

// idleFlush is how long a partly filled chunk waits for more input before
// its complete lines are stored anyway, so that a slow producer (tail -f,
// a trickling pipe) does not leave records unstored for long.
const idleFlush = 200 * time.Millisecond

// chunker fills chunk buffers from an input. The input is read by its own
// goroutine, a block ahead, for two reasons: gunzip then runs in parallel
// with parsing, and a read that blocks (a pipe with nothing to say) can be
// abandoned when the run is interrupted, so what was read is stored and
// the run ends instead of hanging in read(2).
type chunker struct {
	ctx    context.Context
	stash  *blockStash
	blocks chan []byte // filled blocks; closed at end of input
	free   chan []byte // empty blocks for the reading goroutine
	quit   chan struct{}
	rdErr  error  // read error, valid once blocks is closed
	cur    []byte // unconsumed part of blk
	blk    []byte
	timer  *time.Timer

	eof         bool  // no more data: end of input, a read error, or interrupted
	err         error // the read error, if that is why
	interrupted bool  // ctx ended while waiting for input
}

func newChunker(ctx context.Context, r io.Reader, stash *blockStash) *chunker {
	c := &chunker{
		ctx:    ctx,
		stash:  stash,
		blocks: make(chan []byte, 3),
		free:   make(chan []byte, 4),
		quit:   make(chan struct{}),
	}
	for range 4 {
		c.free <- stash.get()
	}
	go c.read(r)
	return c
}

// blockStash keeps read blocks from one input to the next: a directory of
// thousands of small CloudTrail files would otherwise allocate a megabyte
// per file. Only the reading side (one goroutine) uses it.
type blockStash struct{ blocks [][]byte }

func (s *blockStash) get() []byte {
	if n := len(s.blocks); n > 0 {
		b := s.blocks[n-1]
		s.blocks = s.blocks[:n-1]
		return b
	}
	return make([]byte, readBlock)
}

func (s *blockStash) put(b []byte) {
	if cap(b) == readBlock {
		s.blocks = append(s.blocks, b[:readBlock])
	}
}

func (c *chunker) read(r io.Reader) {
	defer close(c.blocks)
	for {
		var buf []byte
		select {
		case buf = <-c.free:
		case <-c.quit:
			return
		}
		n, err := r.Read(buf[:cap(buf)])
		if n > 0 {
			select {
			case c.blocks <- buf[:n]:
			case <-c.quit:
				return
			}
		} else {
			c.free <- buf
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.rdErr = err
			}
			return
		}
	}
}

// close stops the reading goroutine (it may stay blocked in a Read that
// never returns, until the process ends) and gives back the blocks it is
// not using; the one it may hold is left to the garbage collector.
func (c *chunker) close() {
	close(c.quit)
	if c.blk != nil {
		c.stash.put(c.blk[:cap(c.blk)])
		c.blk, c.cur = nil, nil
	}
	for {
		select {
		case b := <-c.free:
			c.stash.put(b)
			continue
		default:
		}
		select {
		case b, ok := <-c.blocks:
			if ok {
				c.stash.put(b[:cap(b)])
				continue
			}
		default:
		}
		return
	}
}

// next makes c.cur non-empty, waiting for input. With idle set it gives up
// (returning false) after idleFlush without input. It returns false at end
// of input or when ctx ends.
func (c *chunker) next(idle bool) bool {
	if len(c.cur) > 0 {
		return true
	}
	if c.blk != nil {
		c.free <- c.blk[:cap(c.blk)]
		c.blk = nil
	}
	var blk []byte
	var ok bool
	select {
	case blk, ok = <-c.blocks:
	default:
		var timeout <-chan time.Time
		if idle {
			if c.timer == nil {
				c.timer = time.NewTimer(idleFlush)
			} else {
				c.timer.Reset(idleFlush)
			}
			timeout = c.timer.C
		}
		select {
		case blk, ok = <-c.blocks:
		case <-timeout:
			return false
		case <-c.ctx.Done():
			c.eof, c.interrupted = true, true
			return false
		}
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	if !ok {
		c.eof = true
		c.err = c.rdErr
		return false
	}
	c.blk, c.cur = blk, blk
	return true
}

// fill appends input to buf until it is full, the input ends, or the
// input has gone quiet for idleFlush after at least one complete line
// arrived (the carried-over partial line at its start has none).
func (c *chunker) fill(buf []byte) []byte {
	line := false // a complete line has arrived: idling may end the fill
	for len(buf) < cap(buf) && !c.eof {
		if !c.next(line) {
			break
		}
		n := copy(buf[len(buf):cap(buf)], c.cur)
		line = line || bytes.IndexByte(c.cur[:n], '\n') >= 0
		buf = buf[:len(buf)+n]
		c.cur = c.cur[n:]
	}
	return buf
}

// rest appends all remaining input to buf, up to max bytes in total; past
// that it returns buf with max+1 bytes so the caller knows it was cut.
func (c *chunker) rest(buf []byte, max int) []byte {
	for !c.eof && len(buf) <= max {
		if !c.next(false) {
			break
		}
		n := min(len(c.cur), max+1-len(buf))
		buf = append(buf, c.cur[:n]...)
		c.cur = c.cur[n:]
	}
	return buf
}
