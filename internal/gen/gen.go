package gen

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"
)

// Kind is the log a record belongs to.
type Kind uint8

const (
	KindMailboxAccess Kind = iota + 1
	KindAccessControl
	KindAuthentication
	KindAvailabilityProvider
	KindPersonalAccessToken
	KindEmailEvent
)

// LogType returns the log type as WorkMail names it for delivery sources
// (formats.md §1.1; note the two without the WORKMAIL_ prefix). Email
// events are not a vended audit log and have no such name; they are
// reported as "WORKMAIL_EMAIL_EVENT_LOGS", the name internal/event uses.
func (k Kind) LogType() string {
	switch k {
	case KindMailboxAccess:
		return "WORKMAIL_MAILBOX_ACCESS_LOGS"
	case KindAccessControl:
		return "ACCESS_CONTROL_LOGS"
	case KindAuthentication:
		return "AUTHENTICATION_LOGS"
	case KindAvailabilityProvider:
		return "WORKMAIL_AVAILABILITY_PROVIDER_LOGS"
	case KindPersonalAccessToken:
		return "WORKMAIL_PERSONAL_ACCESS_TOKEN_LOGS"
	case KindEmailEvent:
		return "WORKMAIL_EMAIL_EVENT_LOGS"
	}
	return "UNKNOWN"
}

func (k Kind) String() string { return k.LogType() }

// Record is one generated record. JSON is a single-line JSON object without
// a trailing newline; it is only valid until the next call to Next.
type Record struct {
	Kind Kind
	Time int64 // event_timestamp, ms since the Unix epoch
	// Org indexes the organization (0..Orgs-1); OrgARN is its ARN.
	Org    int
	OrgARN string
	JSON   []byte
}

// Record mix by count; email events are drawn one event at a time from
// messages in flight, so their share holds whatever a message fans out to.
var kindDist = newDist(69.9, 15, 10, 1.98, 0.02, 3.1)

var kindOrder = [...]Kind{KindMailboxAccess, KindAuthentication, KindAccessControl,
	KindAvailabilityProvider, KindPersonalAccessToken, KindEmailEvent}

// Generator produces the records of one Config in order.
type Generator struct {
	cfg Config
	r   rng
	w   *world

	start int64     // ms
	cum   []float64 // cumulative share of records by hour
	hour  int
	i     int
	last  int64

	ts   int64 // timestamp of the record being built
	org  int   // its organization
	kind Kind
	buf  []byte

	follow    []byte // pending move_to/copy_to record (everything after event_timestamp)
	followOK  bool
	followOrg int
	reqAt     int // offset of the current record's request_id in its buffer
	brute     bruteState
	spray     sprayState
	intruder  intruderState
	mail      mailQueue
	scratch   []byte
}

// New validates cfg and builds the world it describes.
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, r: newRNG(cfg.Seed)}
	g.w = newWorld(cfg, &g.r)
	g.start = cfg.Start.UnixMilli()
	g.cum = hourCurve(cfg.Start, cfg.Days, cfg.Seed)
	g.buf = make([]byte, 0, 2048)
	return g, nil
}

// OrgARNs returns the organizations' ARNs, index = Record.Org.
func (g *Generator) OrgARNs() []string {
	out := make([]string, len(g.w.orgs))
	for i := range g.w.orgs {
		out[i] = g.w.orgs[i].arn
	}
	return out
}

// hourCurve returns, per hour of the span, the cumulative share of records
// up to the end of that hour: a business-hours bump on weekdays (with a
// small lunch dip), a third of that on weekends, and a floor of background
// activity (mobile sync, transport, other time zones); each day and hour
// is scaled by a little noise.
func hourCurve(start time.Time, days int, seed uint64) []float64 {
	// Days and hours vary a little, as real ones do; the curve has its own
	// random stream so that it does not shift the records' draws.
	r := newRNG(seed ^ 0xc0ffee)
	hours := days * 24
	cum := make([]float64, hours)
	total := 0.0
	dayFactor := 1.0
	for h := range hours {
		if h%24 == 0 {
			dayFactor = 0.86 + 0.28*r.float()
		}
		t := start.Add(time.Duration(h)*time.Hour + 30*time.Minute).UTC()
		hod := float64(t.Hour()) + float64(t.Minute())/60
		z := (hod - 13.5) / 4.2
		l := (hod - 12.3) / 0.7
		w := bump(z) - float64(0.1*bump(l))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.33
		}
		noise := 0.93 + float64(0.14*r.float())
		total += float64(float64((0.13+w)*dayFactor) * noise)
		cum[h] = total
	}
	for h := range cum {
		cum[h] /= total
	}
	return cum
}

// bump is a bell curve, 1 at z = 0, close to exp(-z²) (the reciprocal of
// its Taylor series up to z⁶). It is written without math.Exp, whose last
// bit differs between architectures, and every product is converted
// explicitly so that no platform fuses it into an FMA: the curve, and so
// every timestamp, is the same on amd64 and arm64.
func bump(z float64) float64 {
	z2 := float64(z * z)
	z4 := float64(z2 * z2)
	z6 := float64(z4 * z2)
	return 1 / (1 + z2 + float64(z4/2) + float64(z6/6))
}

// tick returns the timestamp of record i: the inverse of the hourly curve
// at the record's quantile, jittered by up to one record spacing so that
// the stream does not tick like a metronome, and never earlier than the
// previous record.
func (g *Generator) tick() int64 {
	n := float64(g.cfg.N)
	u := (float64(g.i) + g.r.float()) / n
	for g.hour < len(g.cum)-1 && g.cum[g.hour] <= u {
		g.hour++
	}
	lo := 0.0
	if g.hour > 0 {
		lo = g.cum[g.hour-1]
	}
	frac := (u - lo) / (g.cum[g.hour] - lo)
	frac = min(max(frac, 0), 1)
	ts := g.start + int64(g.hour)*3_600_000 + int64(frac*3_599_999)
	if ts < g.last {
		ts = g.last
	}
	g.last = ts
	g.i++
	return ts
}

// Next returns the next record, or false after Config.N records.
func (g *Generator) Next() (Record, bool) {
	if g.i >= g.cfg.N {
		return Record{}, false
	}
	g.buf = g.appendRecord(g.buf[:0])
	return Record{Kind: g.kind, Time: g.ts, Org: g.org, OrgARN: g.w.orgs[g.org].arn, JSON: g.buf}, true
}

// All returns an iterator over the remaining records, for range loops:
//
//	for rec := range g.All() { ... }
//
// Each Record's JSON is only valid during its iteration step.
func (g *Generator) All() iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for {
			r, ok := g.Next()
			if !ok || !yield(r) {
				return
			}
		}
	}
}

// flushAt is the output chunk size: large enough that write syscalls are
// noise, small enough to stay in L2.
const flushAt = 1 << 20

// WriteTo writes the remaining records as NDJSON to w and returns the
// number of bytes written. It implements io.WriterTo.
func (g *Generator) WriteTo(w io.Writer) (int64, error) {
	out := make([]byte, 0, flushAt+64<<10)
	var written int64
	for g.i < g.cfg.N {
		out = g.appendRecord(out)
		out = append(out, '\n')
		if len(out) >= flushAt {
			n, err := w.Write(out)
			written += int64(n)
			if err != nil {
				return written, fmt.Errorf("gen: writing record %d: %w", g.i, err)
			}
			out = out[:0]
		}
	}
	if len(out) > 0 {
		n, err := w.Write(out)
		written += int64(n)
		if err != nil {
			return written, fmt.Errorf("gen: writing record %d: %w", g.i, err)
		}
	}
	return written, nil
}

// appendRecord appends the next record (no newline) to b.
func (g *Generator) appendRecord(b []byte) []byte {
	g.ts = g.tick()
	switch kindOrder[kindDist.draw(&g.r)] {
	case KindMailboxAccess:
		return g.mailbox(b)
	case KindAuthentication:
		return g.auth(b)
	case KindAccessControl:
		return g.accessControl(b)
	case KindAvailabilityProvider:
		return g.availability(b)
	case KindPersonalAccessToken:
		return g.personalAccessToken(b)
	default:
		return g.emailEvent(b)
	}
}

// head opens an audit record: timestamp, a fresh request id, the org.
func (g *Generator) head(b []byte, kind Kind, org int) []byte {
	g.kind, g.org = kind, org
	b = append(b, `{"event_timestamp":`...)
	b = strconv.AppendInt(b, g.ts, 10)
	b = append(b, `,"request_id":"`...)
	g.reqAt = len(b)
	b = appendUUID(b, g.r.u64(), g.r.u64())
	b = append(b, `","organization_arn":"`...)
	b = append(b, g.w.orgs[org].arn...)
	return append(b, '"')
}
