package postfixlog

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Config configures a Processor and the inputs built on it.
type Config struct {
	Account   string         // AWS account of the organizations
	Directory *org.Directory // recipient domains and SASL logins → organizations
	Sink      *mailserver.Sink
	Clock     Clock // year and zone of classic syslog timestamps
	// Join bounds the messages being joined (PendingTTL, MaxPending; its
	// Account, Directory and Logger are taken from this Config).
	Join JoinerConfig
	// MaxDedupKeys bounds the deduplication window (default 200000).
	MaxDedupKeys int
	// MaxBuffered bounds the records waiting for Commit (default 100000).
	// Follow stops reading while the store refuses records, so only
	// syslog input, which cannot be paused, can reach it: the oldest
	// records are then dropped and counted in Stats.Dropped.
	MaxBuffered int
	Logger      *slog.Logger
}

// Stats counts what a Processor did.
type Stats struct {
	Lines      int64 // lines handed in
	Skipped    int64 // not Postfix syslog lines (no header)
	Malformed  int64 // Postfix lines of a known shape that did not parse
	Records    int64 // records stored
	Duplicates int64 // records dropped as already stored
	Dropped    int64 // records dropped because the store refused them for too long
}

// Processor turns Postfix log lines into stored WorkMail records: parse,
// join by queue id, drop records already stored (see Dedup), write to the
// sink. It is safe for concurrent use (calls are serialized: the joiner's
// state is one timeline).
type Processor struct {
	mu     sync.Mutex
	cfg    Config
	log    *slog.Logger
	joiner *Joiner
	dedup  *Dedup
	buf    []Output
	stats  Stats
}

// NewProcessor checks cfg and returns a Processor.
func NewProcessor(cfg Config) (*Processor, error) {
	if cfg.Account == "" || cfg.Directory == nil || cfg.Sink == nil {
		return nil, errors.New("postfix log processor: Account, Directory and Sink are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 100000
	}
	jc := cfg.Join
	jc.Account, jc.Directory, jc.Logger = cfg.Account, cfg.Directory, cfg.Logger
	return &Processor{
		cfg: cfg, log: cfg.Logger.With("component", "postfix-log"),
		joiner: NewJoiner(jc), dedup: NewDedup(cfg.MaxDedupKeys),
	}, nil
}

// Stats returns the counters.
func (p *Processor) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Line handles one raw log line read at offset off (-1 when the input has
// no offsets). The records it completes are buffered until Commit.
func (p *Processor) Line(b []byte, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Lines++
	l, err := p.cfg.Clock.ParseLine(b)
	if err != nil {
		p.stats.Skipped++
		return
	}
	p.entry(l, off)
}

// Entry handles a line whose syslog header was parsed elsewhere (syslog
// listener).
func (p *Processor) Entry(l Line, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Lines++
	p.entry(l, off)
}

func (p *Processor) entry(l Line, off int64) {
	e, err := Parse(l)
	if err != nil {
		p.stats.Malformed++
		p.log.Warn("malformed Postfix log line", "offset", off, "err", err)
		return
	}
	if e.Kind == KindOther {
		return
	}
	p.buf = append(p.buf, p.joiner.Add(&e, off)...)
	if over := len(p.buf) - p.cfg.MaxBuffered; over > 0 {
		if p.stats.Dropped%10000 == 0 {
			p.log.Error("store refuses Postfix records for too long; dropping the oldest",
				"dropped_so_far", p.stats.Dropped, "max_buffered", p.cfg.MaxBuffered)
		}
		p.stats.Dropped += int64(over)
		p.buf = append(p.buf[:0], p.buf[over:]...)
	}
}

// FlushPending emits what every message being joined has so far (end of a
// finite input) into the buffer; call Commit after.
func (p *Processor) FlushPending() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, p.joiner.Flush()...)
}

// Commit stores the buffered records (grouped per organization, one
// durable write each) and returns once they are on disk. Records whose key
// is in the deduplication window are dropped. On error the buffer is kept
// and the next Commit retries.
func (p *Processor) Commit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) == 0 {
		return nil
	}
	type batch struct {
		org  mailserver.Org
		recs []mailserver.Record
		outs []Output
	}
	var order []string
	byOrg := map[string]*batch{}
	seen := map[string]bool{}
	for _, o := range p.buf {
		if p.dedup.Seen(o.Key) || seen[o.Key] {
			p.stats.Duplicates++
			continue
		}
		seen[o.Key] = true
		k := o.Org.Account + "\x00" + o.Org.ID
		b := byOrg[k]
		if b == nil {
			b = &batch{org: o.Org}
			byOrg[k] = b
			order = append(order, k)
		}
		b.recs = append(b.recs, o.Record)
		b.outs = append(b.outs, o)
	}
	for i, k := range order {
		b := byOrg[k]
		if err := p.cfg.Sink.Write(b.org, b.recs...); err != nil {
			// Keep what was not stored; what was is in the dedup window.
			var rest []Output
			for j, o := range b.outs {
				if mailserver.Stored(err, len(b.recs), j) {
					p.dedup.Add(o.Key, o.Offset)
					p.stats.Records++
				} else {
					rest = append(rest, o)
				}
			}
			for _, k2 := range order[i+1:] {
				rest = append(rest, byOrg[k2].outs...)
			}
			p.buf = append(p.buf[:0], rest...)
			return fmt.Errorf("storing %d Postfix records of organization %s: %w", len(b.recs), b.org.ID, err)
		}
		for _, o := range b.outs {
			p.dedup.Add(o.Key, o.Offset)
		}
		p.stats.Records += int64(len(b.recs))
	}
	p.buf = p.buf[:0]
	return nil
}

// rotated tells the joiner and the dedup window that offsets now refer to
// a new file.
func (p *Processor) rotated() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.joiner.ForgetOffsets()
	p.dedup.ForgetOffsets()
}

// Pending is the number of messages being joined.
func (p *Processor) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.joiner.Pending()
}
