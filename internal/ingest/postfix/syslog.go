package postfixlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBadSyslog is wrapped by ParseSyslog's errors.
var ErrBadSyslog = errors.New("bad syslog message")

// ParseSyslog parses one syslog message as received over the network:
// "<PRI>" followed by an RFC 5424 message ("1 TIMESTAMP HOST APP PROCID
// MSGID SD MSG") or an RFC 3164 one ("Mmm dd hh:mm:ss HOST TAG[PID]: MSG",
// host optional). A message without "<PRI>" is parsed as a log file line.
// The clock resolves RFC 3164 timestamps (no year, local time) and the
// RFC 5424 nil timestamp "-" (reception time).
func (c *Clock) ParseSyslog(b []byte) (Line, error) {
	b = bytes.TrimRight(b, "\r\n\x00")
	if len(b) == 0 || b[0] != '<' {
		return c.ParseLine(b)
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	if end < 2 {
		return Line{}, fmt.Errorf("%w: PRI not closed by '>' within 5 bytes", ErrBadSyslog)
	}
	pri, err := strconv.Atoi(string(b[1:end]))
	if err != nil || pri > 191 {
		return Line{}, fmt.Errorf("%w: PRI %q", ErrBadSyslog, b[1:end])
	}
	rest := b[end+1:]
	if bytes.HasPrefix(rest, []byte("1 ")) {
		return c.parse5424(rest[2:])
	}
	return c.ParseLine(rest)
}

func (c *Clock) parse5424(b []byte) (Line, error) {
	var f [5][]byte // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
	for i := range f {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return Line{}, fmt.Errorf("%w: RFC 5424 header field %d missing", ErrBadSyslog, i+2)
		}
		f[i], b = b[:sp], b[sp+1:]
	}
	var l Line
	if string(f[0]) == "-" {
		l.Time = time.Now()
		if c.Now != nil {
			l.Time = c.Now()
		}
	} else {
		t, err := time.Parse(time.RFC3339Nano, string(f[0]))
		if err != nil {
			return l, fmt.Errorf("%w: RFC 5424 timestamp %q", ErrBadSyslog, f[0])
		}
		l.Time = t
	}
	if string(f[1]) != "-" {
		l.Host = string(f[1])
	}
	if string(f[2]) != "-" {
		l.Program = string(f[2])
	}
	if pid, err := strconv.Atoi(string(f[3])); err == nil {
		l.PID = pid
	}
	// STRUCTURED-DATA: "-" or one or more [id param="value"...] elements;
	// values may contain escaped \" \] \\.
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	} else {
		for len(b) > 0 && b[0] == '[' {
			i, inQuote := 1, false
			for ; i < len(b); i++ {
				switch {
				case b[i] == '\\' && inQuote:
					i++
				case b[i] == '"':
					inQuote = !inQuote
				case b[i] == ']' && !inQuote:
					goto closed
				}
			}
			return l, fmt.Errorf("%w: RFC 5424 structured data not closed", ErrBadSyslog)
		closed:
			b = b[i+1:]
		}
	}
	if len(b) > 0 {
		if b[0] != ' ' {
			return l, fmt.Errorf("%w: no space before the RFC 5424 message", ErrBadSyslog)
		}
		b = b[1:]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	l.Message = string(b)
	return l, nil
}

// SyslogConfig configures a SyslogServer.
type SyslogConfig struct {
	// MaxMessage bounds one message (default 64 KiB; RFC 5425 asks for 2048
	// at least, rsyslog's default is 8 KiB).
	MaxMessage int
	// CommitInterval is how often received records are stored (default
	// 200ms): syslog has no acknowledgement to wait for, so batching costs
	// nothing but that delay.
	CommitInterval time.Duration
	// IdleTimeout closes a TCP connection silent for this long (default 1h).
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// SyslogServer receives Postfix's log over syslog on UDP and TCP (RFC 3164
// and RFC 5424 messages; on TCP both octet-counted framing, RFC 6587
// "LEN SP MSG", and newline-terminated framing, chosen per message by its
// first byte).
type SyslogServer struct {
	p   *Processor
	cfg SyslogConfig
	log *slog.Logger

	mu        sync.Mutex
	closing   bool
	closers   map[io.Closer]struct{}
	wg        sync.WaitGroup
	stop      chan struct{}
	committer sync.WaitGroup

	bad atomic.Int64
}

// NewSyslogServer returns a server feeding p; it commits in the background
// until Close.
func NewSyslogServer(p *Processor, cfg SyslogConfig) *SyslogServer {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 64 << 10
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = 200 * time.Millisecond
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &SyslogServer{p: p, cfg: cfg, log: cfg.Logger.With("component", "postfix-syslog"),
		closers: map[io.Closer]struct{}{}, stop: make(chan struct{})}
	s.committer.Add(1)
	go s.commitLoop()
	return s
}

// Bad counts messages that could not be used (malformed, too long).
func (s *SyslogServer) Bad() int64 { return s.bad.Load() }

func (s *SyslogServer) commitLoop() {
	defer s.committer.Done()
	t := time.NewTicker(s.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.p.Commit(); err != nil {
				s.log.Error("storing Postfix records; will retry", "err", err)
			}
		}
	}
}

func (s *SyslogServer) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		c.Close()
		return false
	}
	s.closers[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *SyslogServer) untrack(c io.Closer) {
	s.mu.Lock()
	delete(s.closers, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *SyslogServer) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// ErrSyslogClosed is returned by Serve* after Close.
var ErrSyslogClosed = errors.New("postfix syslog server closed")

// ServeUDP reads one message per datagram from pc until Close.
func (s *SyslogServer) ServeUDP(pc net.PacketConn) error {
	if !s.track(pc) {
		return ErrSyslogClosed
	}
	defer s.untrack(pc)
	buf := make([]byte, s.cfg.MaxMessage+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosing() {
				return ErrSyslogClosed
			}
			return fmt.Errorf("postfix syslog: reading UDP on %s: %w", pc.LocalAddr(), err)
		}
		if n > s.cfg.MaxMessage {
			s.bad.Add(1)
			s.log.Warn("syslog datagram too large; dropped", "from", addr, "max", s.cfg.MaxMessage)
			continue
		}
		s.handle(buf[:n], addr)
	}
}

func (s *SyslogServer) handle(msg []byte, from net.Addr) {
	if len(bytes.TrimSpace(msg)) == 0 {
		return
	}
	l, err := s.p.cfg.Clock.ParseSyslog(msg)
	if err != nil {
		s.bad.Add(1)
		s.log.Debug("unparsable syslog message", "from", from, "err", err)
		return
	}
	s.p.Entry(l, -1)
}

// ServeTCP accepts connections on ln until Close.
func (s *SyslogServer) ServeTCP(ln net.Listener) error {
	if !s.track(ln) {
		return ErrSyslogClosed
	}
	defer s.untrack(ln)
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrSyslogClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("postfix syslog: accept on %s: %w", ln.Addr(), err)
		}
		if !s.track(c) {
			return ErrSyslogClosed
		}
		go func() {
			defer s.untrack(c)
			defer c.Close()
			if err := s.readFrames(c); err != nil && !s.isClosing() {
				if errors.Is(err, ErrBadSyslog) {
					s.bad.Add(1)
				}
				s.log.Warn("syslog TCP connection closed", "remote", c.RemoteAddr(), "err", err)
			}
		}()
	}
}

// readFrames reads octet-counted or newline-terminated frames.
func (s *SyslogServer) readFrames(c net.Conn) error {
	br := bufio.NewReaderSize(c, 64<<10)
	from := c.RemoteAddr()
	return splitFrames(br, s.cfg.MaxMessage, func() { c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)) },
		func(msg []byte) { s.handle(msg, from) },
		func(err error) {
			s.bad.Add(1)
			s.log.Warn("syslog message too long; skipped", "remote", from, "err", err)
		})
}

// splitFrames calls frame for each frame of br: octet-counted ("LEN SP
// MSG", RFC 6587 3.4.1) when it starts with a digit, else up to '\n'. A
// newline-terminated frame over max is skipped (skipped is called); a bad
// octet count ends the stream with an error, as the framing is lost. before
// is called before each frame (deadlines).
func splitFrames(br *bufio.Reader, max int, before func(), frame func([]byte), skipped func(error)) error {
	for {
		before()
		first, err := br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if first[0] >= '1' && first[0] <= '9' {
			msg, err := readOctetCounted(br, max)
			if err != nil {
				return err
			}
			frame(msg)
			continue
		}
		line, tooLong, err := readBoundedLine(br, max)
		if tooLong {
			skipped(fmt.Errorf("%w: line over %d bytes", ErrBadSyslog, max))
		} else if len(line) > 0 {
			frame(line)
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// readOctetCounted reads "LEN SP MSG" (RFC 6587 3.4.1).
func readOctetCounted(br *bufio.Reader, max int) ([]byte, error) {
	n := 0
	for i := 0; ; i++ {
		c, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: octet count: %v", ErrBadSyslog, err)
		}
		if c == ' ' {
			break
		}
		if c < '0' || c > '9' || i >= 9 {
			return nil, fmt.Errorf("%w: bad octet count (byte %q)", ErrBadSyslog, c)
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return nil, fmt.Errorf("%w: frame of %d bytes over the %d-byte limit", ErrBadSyslog, n, max)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(br, msg); err != nil {
		return nil, fmt.Errorf("%w: frame of %d bytes truncated: %v", ErrBadSyslog, n, err)
	}
	return msg, nil
}

// readBoundedLine reads up to '\n'; a line over max is consumed and
// reported as tooLong. At EOF the last unterminated line is returned with
// io.EOF.
func readBoundedLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, e := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > max+2 {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			line = nil
		}
		return line, tooLong, e
	}
}

// Close stops the listeners and connections, waits for them, and stores
// what was received.
func (s *SyslogServer) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	for c := range s.closers {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	close(s.stop)
	s.committer.Wait()
	return s.p.Commit()
}
