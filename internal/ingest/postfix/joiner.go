package postfixlog

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Output is one record the joiner produced, with the organization it
// belongs to and its deduplication key.
type Output struct {
	Org    mailserver.Org
	Record mailserver.Record
	// Key identifies the record across re-reads of the same log: the
	// request_id of an audit record; traceId, eventName and recipient of an
	// email event.
	Key string
	// Offset is the source offset of the line that completed the record
	// (-1 when unknown).
	Offset int64
}

// JoinerConfig configures a Joiner.
type JoinerConfig struct {
	Account   string
	Directory *org.Directory
	// PendingTTL drops a message not heard of for this long, by log time
	// (default 2h, above Postfix's maximal backoff of 4000s between
	// delivery attempts so a deferred message is kept between retries).
	PendingTTL time.Duration
	// MaxPending bounds the messages held at once (default 100000); the
	// least recently seen is dropped first.
	MaxPending int
	// NoAuthRecords turns off AUTHENTICATION_LOGS records (when Dovecot's
	// auth policy endpoint records SMTP AUTH already).
	NoAuthRecords bool
	Logger        *slog.Logger
}

// Joiner joins Postfix log entries by queue id into WorkMail records. It is
// not safe for concurrent use.
type Joiner struct {
	cfg     JoinerConfig
	log     *slog.Logger
	pending map[string]*message
	// lru: messages by last activity; a doubly linked list through message.
	head, tail *message
	now        time.Time // latest log time seen
	out        []Output
	// sessions hold RCPT rejects of smtpd sessions until their disconnect
	// line tells whether the client had authenticated, by session key.
	sessions  map[string]*session
	lastSweep time.Time
}

// session is an smtpd session with RCPT rejects waiting for its
// disconnect line.
type session struct {
	rejects []Entry
	offs    []int64
	last    time.Time
}

// sessionKey identifies an smtpd session: one smtpd process serves one
// client at a time.
func sessionKey(e *Entry) string {
	return e.Host + "\x00" + e.Program + "\x00" + strconv.Itoa(e.PID)
}

type message struct {
	qid                string
	first, last        time.Time
	offset             int64 // source offset of its first line, -1 unknown
	clientIP           string
	saslUser, saslMeth string
	submission         bool
	messageID          string
	from               string
	queued             bool
	nrcpt              int
	rcpts              []rcpt
	headDone           bool
	prev, next         *message
}

type rcpt struct {
	addr  string
	final bool
}

// NewJoiner returns a Joiner.
func NewJoiner(cfg JoinerConfig) *Joiner {
	if cfg.PendingTTL <= 0 {
		cfg.PendingTTL = 2 * time.Hour
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Joiner{cfg: cfg, log: cfg.Logger, pending: map[string]*message{}, sessions: map[string]*session{}}
}

// Pending is the number of messages (and smtpd sessions with rejects)
// held.
func (j *Joiner) Pending() int { return len(j.pending) + len(j.sessions) }

// LowWater returns the smallest source offset of a pending message's first
// line, or cur when no pending message has a known offset: re-reading from
// there rebuilds every pending message.
func (j *Joiner) LowWater(cur int64) int64 {
	lw := cur
	for m := j.head; m != nil; m = m.next {
		if m.offset >= 0 && m.offset < lw {
			lw = m.offset
		}
	}
	for _, s := range j.sessions {
		if o := s.offs[0]; o >= 0 && o < lw {
			lw = o
		}
	}
	return lw
}

// ForgetOffsets marks every pending message's offset unknown (the file they
// came from was rotated away).
func (j *Joiner) ForgetOffsets() {
	for m := j.head; m != nil; m = m.next {
		m.offset = -1
	}
	for _, s := range j.sessions {
		for i := range s.offs {
			s.offs[i] = -1
		}
	}
}

// Add joins one entry and returns the records it completes (the slice is
// reused by the next call).
func (j *Joiner) Add(e *Entry, off int64) []Output {
	j.out = j.out[:0]
	if e.Time.After(j.now) {
		j.now = e.Time
	}
	j.expire()
	switch e.Kind {
	case KindClient:
		m := j.get(e.QueueID, e, off)
		m.clientIP = e.ClientIP
		if e.SASLUser != "" {
			m.submission = true
			m.saslUser, m.saslMeth = e.SASLUser, e.SASLMethod
			j.authRecord(e, true, off)
		}
	case KindPickup:
		m := j.get(e.QueueID, e, off)
		m.from = e.From
	case KindMessageID:
		j.get(e.QueueID, e, off).messageID = e.MessageID
	case KindQueued:
		m := j.get(e.QueueID, e, off)
		m.from, m.queued, m.nrcpt = e.From, true, e.NRcpt
		j.maybeHead(m, off)
	case KindDelivery:
		j.delivery(j.get(e.QueueID, e, off), e, off)
	case KindExpired:
		m := j.get(e.QueueID, e, off)
		for _, r := range m.rcpts {
			if !r.final {
				x := *e
				x.To, x.Status, x.DSN = r.addr, "expired", "4.4.7"
				x.Reason = "message expired in the queue, returned to sender"
				j.delivery(m, &x, off)
			}
		}
	case KindRemoved:
		if m := j.pending[e.QueueID]; m != nil {
			m.last = e.Time
			j.head1(m, off, true)
			j.drop(m)
		}
	case KindRejected:
		if m := j.pending[e.QueueID]; m != nil {
			j.drop(m) // not accepted: nothing was received or submitted
		}
	case KindNoQueueReject:
		// Held until the session's disconnect line: a reject in an
		// authenticated session is a refused submission, not inbound mail.
		k := sessionKey(e)
		s := j.sessions[k]
		if s == nil {
			if len(j.sessions) >= j.cfg.MaxPending {
				j.flushSessions(time.Time{})
			}
			s = &session{}
			j.sessions[k] = s
		}
		s.rejects = append(s.rejects, *e)
		s.offs = append(s.offs, off)
		s.last = e.Time
	case KindDisconnect:
		k := sessionKey(e)
		if s := j.sessions[k]; s != nil {
			delete(j.sessions, k)
			if !e.Authenticated {
				for i := range s.rejects {
					j.noQueueReject(&s.rejects[i], off)
				}
			}
		}
	case KindAuthFailed:
		j.authRecord(e, false, off)
	}
	return j.out
}

// Flush emits what every pending message has so far and forgets them all
// (end of a finite input).
func (j *Joiner) Flush() []Output {
	j.out = j.out[:0]
	for m := j.head; m != nil; {
		next := m.next
		j.head1(m, m.offset, true)
		j.drop(m)
		m = next
	}
	j.flushSessions(time.Time{})
	return j.out
}

func (j *Joiner) get(qid string, e *Entry, off int64) *message {
	m := j.pending[qid]
	if m == nil {
		m = &message{qid: qid, first: e.Time, offset: off}
		j.pending[qid] = m
		j.pushBack(m)
		if len(j.pending) > j.cfg.MaxPending {
			old := j.head
			j.log.Warn("too many pending Postfix messages; dropping the least recently seen",
				"queue_id", old.qid, "max_pending", j.cfg.MaxPending)
			j.head1(old, old.offset, true)
			j.drop(old)
		}
	} else {
		j.unlink(m)
		j.pushBack(m)
	}
	m.last = e.Time
	return m
}

// flushSessions emits the rejects of sessions not heard of since before
// (all of them for the zero time) as unauthenticated.
func (j *Joiner) flushSessions(before time.Time) {
	for k, s := range j.sessions {
		if before.IsZero() || s.last.Before(before) {
			delete(j.sessions, k)
			for i := range s.rejects {
				j.noQueueReject(&s.rejects[i], s.offs[i])
			}
		}
	}
}

func (j *Joiner) expire() {
	if j.now.Sub(j.lastSweep) >= time.Minute {
		j.lastSweep = j.now
		j.flushSessions(j.now.Add(-j.cfg.PendingTTL))
	}
	for m := j.head; m != nil && j.now.Sub(m.last) > j.cfg.PendingTTL; m = j.head {
		j.head1(m, m.offset, true)
		j.drop(m)
	}
}

func (j *Joiner) drop(m *message) {
	delete(j.pending, m.qid)
	j.unlink(m)
}

func (j *Joiner) pushBack(m *message) {
	m.prev, m.next = j.tail, nil
	if j.tail != nil {
		j.tail.next = m
	} else {
		j.head = m
	}
	j.tail = m
}

func (j *Joiner) unlink(m *message) {
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		j.head = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		j.tail = m.prev
	}
	m.prev, m.next = nil, nil
}

// traceID links every event of one message: a UUID-shaped hash of the
// queue id and the Message-ID (queue ids are reused over time, Message-IDs
// are not unique per queue file: together they are).
func traceID(qid, messageID string) string {
	return hashUUID("mailtrail/postfix/trace\x00" + qid + "\x00" + messageID)
}

// hashUUID is the UUID-shaped SHA-256 prefix of s, without version bits (ids
// already stored depend on it).
func hashUUID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return event.UUID([16]byte(sum[:16]))
}

// lineID identifies a log line (for records that come from one line).
func lineID(e *Entry) string {
	return hashUUID("mailtrail/postfix/line\x00" + e.Time.UTC().Format(time.RFC3339Nano) + "\x00" + e.Host +
		"\x00" + e.Program + "\x00" + strconv.Itoa(e.PID) + "\x00" + e.Message)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

func toOrg(o org.Organization) mailserver.Org {
	return mailserver.Org{Account: o.Account, ID: o.ID, Alias: o.Alias}
}

// orgOfAddress is the organization that owns addr's domain.
func (j *Joiner) orgOfAddress(addr string) (org.Organization, bool) {
	d := domainOf(addr)
	if d == "" || j.cfg.Directory == nil {
		return org.Organization{}, false
	}
	o, err := j.cfg.Directory.OrganizationByDomain(j.cfg.Account, d)
	if err != nil {
		if !errors.Is(err, org.ErrOrganizationNotFound) && !errors.Is(err, org.ErrEntityNotFound) && !errors.Is(err, org.ErrResourceNotFound) && org.Code(err) == "" {
			j.log.Error("looking up the organization of a mail domain", "domain", d, "err", err)
		}
		return org.Organization{}, false
	}
	return o, true
}

// orgOfLogin maps a sasl_username to its organization and user; a login
// that is no user but an address in an organization's domain gives the
// organization alone.
func (j *Joiner) orgOfLogin(login string) (org.Organization, string, bool) {
	if j.cfg.Directory == nil || login == "" {
		return org.Organization{}, "", false
	}
	if o, u, err := j.cfg.Directory.FindLogin(j.cfg.Account, login); err == nil {
		return o, u.ID, true
	}
	o, ok := j.orgOfAddress(login)
	return o, "", ok
}

// senderOrg is the organization a message is sent from: the submitting
// user's, else the envelope sender's domain's.
func (j *Joiner) senderOrg(m *message) (org.Organization, string, bool) {
	if m.submission {
		if o, uid, ok := j.orgOfLogin(m.saslUser); ok {
			return o, uid, true
		}
	}
	o, ok := j.orgOfAddress(m.from)
	return o, "", ok
}

func (j *Joiner) emit(o org.Organization, ts time.Time, key string, off int64, rec event.Record, typ event.LogType) {
	ms := ts.UnixMilli()
	if ee, ok := rec.(*event.EmailEvent); ok {
		// Email events have no documented timestamp field; event_timestamp
		// is added so every record carries its event time (event.Timestamp
		// reads it).
		if err := ee.SetUnknown([]event.Member{{Key: "event_timestamp", Value: []byte(strconv.FormatInt(ms, 10))}}); err != nil {
			j.log.Error("building email event", "err", err)
			return
		}
	}
	js, err := event.Append(nil, rec)
	if err != nil {
		j.log.Error("encoding record", "type", typ, "err", err)
		return
	}
	j.out = append(j.out, Output{Org: toOrg(o), Key: key, Offset: off,
		Record: mailserver.Record{Type: typ, Timestamp: ms, JSON: js}})
}

func (j *Joiner) emailEvent(o org.Organization, ts time.Time, trace string, off int64, d event.EmailEventDetail, keyExtra string) {
	rec := &event.EmailEvent{TraceID: trace, Event: d}
	j.emit(o, ts, trace+"/"+string(d.EventName)+"/"+keyExtra, off, rec, event.LogTypeEmailEvent)
}

// maybeHead emits the message's head records once every recipient has been
// heard of.
func (j *Joiner) maybeHead(m *message, off int64) {
	if m.queued && !m.headDone && m.nrcpt > 0 && len(m.rcpts) >= m.nrcpt {
		j.head1(m, off, false)
	}
}

// head1 emits ORGANIZATION_EMAIL_RECEIVED (per organization of the local
// recipients) and, for a submission, OUTGOING_EMAIL_SUBMITTED. final means
// the message is leaving the joiner: emit with the recipients known.
func (j *Joiner) head1(m *message, off int64, final bool) {
	if m.headDone || len(m.rcpts) == 0 || (!m.queued && !final) {
		return
	}
	m.headDone = true
	trace := traceID(m.qid, m.messageID)
	from := m.from
	if from == "" {
		from = "<>" // the null sender of bounces, as Postfix logs it
	}
	if m.submission {
		if o, uid, ok := j.senderOrg(m); ok {
			all := make([]string, len(m.rcpts))
			for i, r := range m.rcpts {
				all[i] = r.addr
			}
			d := event.EmailEventDetail{EventName: event.EventOutgoingEmailSubmitted, Recipients: all,
				From: from, Sender: j.onBehalf(m, uid), MessageID: m.messageID}
			j.emailEvent(o, m.first, trace, off, d, "")
		} else {
			j.log.Debug("submission by no organization's user; no record", "queue_id", m.qid, "sasl_username", m.saslUser)
		}
	}
	// Local recipients grouped by organization, in recipient order.
	var orgs []org.Organization
	byOrg := map[string][]string{}
	for _, r := range m.rcpts {
		o, ok := j.orgOfAddress(r.addr)
		if !ok {
			continue
		}
		if _, seen := byOrg[o.ID]; !seen {
			orgs = append(orgs, o)
		}
		byOrg[o.ID] = append(byOrg[o.ID], r.addr)
	}
	for _, o := range orgs {
		d := event.EmailEventDetail{EventName: event.EventOrganizationEmailReceived, Recipients: byOrg[o.ID],
			From: from, MessageID: m.messageID}
		j.emailEvent(o, m.first, trace, off, d, o.ID)
	}
}

// onBehalf is the `sender` of a submission: the authenticated user's
// address when it differs from the envelope sender (send as / on behalf).
func (j *Joiner) onBehalf(m *message, uid string) string {
	if uid == "" || m.from == "" {
		return ""
	}
	o, _, err := j.cfg.Directory.FindLogin(j.cfg.Account, m.saslUser)
	if err != nil {
		return ""
	}
	u, err := j.cfg.Directory.User(j.cfg.Account, o.ID, uid)
	if err != nil || u.Email == "" || strings.EqualFold(u.Email, m.from) {
		return ""
	}
	return u.Email
}

func (j *Joiner) delivery(m *message, e *Entry, off int64) {
	idx := -1
	for i, r := range m.rcpts {
		if strings.EqualFold(r.addr, e.To) {
			idx = i
			break
		}
	}
	if idx < 0 {
		m.rcpts = append(m.rcpts, rcpt{addr: e.To})
		idx = len(m.rcpts) - 1
	}
	final := e.Status != "deferred"
	if m.rcpts[idx].final && final {
		return // already reported (a duplicate line)
	}
	m.rcpts[idx].final = m.rcpts[idx].final || final
	trace := traceID(m.qid, m.messageID)
	if lo, local := j.orgOfAddress(e.To); local {
		switch e.Status {
		case "sent":
			j.emailEvent(lo, e.Time, trace, off, event.EmailEventDetail{EventName: event.EventMailboxEmailDelivered,
				Recipient: e.To, Folder: "INBOX"}, strings.ToLower(e.To))
		case "bounced", "expired":
			j.emailEvent(lo, e.Time, trace, off, event.EmailEventDetail{EventName: event.EventIncomingEmailBounced,
				BouncedRecipient: &event.BouncedRecipient{EmailAddress: e.To, Reason: e.Reason, Status: e.DSN}}, strings.ToLower(e.To))
		}
	} else if so, uid, ok := j.senderOrg(m); ok {
		from := m.from
		if from == "" {
			from = "<>"
		}
		switch e.Status {
		case "sent":
			j.emailEvent(so, e.Time, trace, off, event.EmailEventDetail{EventName: event.EventOutgoingEmailSent,
				Recipient: e.To, Sender: j.onBehalf(m, uid), From: from, MessageID: m.messageID}, strings.ToLower(e.To))
		case "bounced", "expired":
			// Both documented shapes: bouncedRecipient (the event table) and
			// destination/reason (what AWS's own Insights query reads).
			j.emailEvent(so, e.Time, trace, off, event.EmailEventDetail{EventName: event.EventOutgoingEmailBounced,
				BouncedRecipient: &event.BouncedRecipient{EmailAddress: e.To, Reason: e.Reason, Status: e.DSN},
				Destination:      event.StringList{Values: []string{e.To}, Single: true}, Reason: e.Reason,
				From: from, MessageID: m.messageID}, strings.ToLower(e.To))
		}
	}
	j.maybeHead(m, off)
}

// noQueueReject: a recipient refused at RCPT TO. For a recipient of one of
// the organizations it is WorkMail's INCOMING_EMAIL_BOUNCED (the message
// to that recipient is bounced); relay refusals name no organization.
func (j *Joiner) noQueueReject(e *Entry, off int64) {
	o, ok := j.orgOfAddress(e.To)
	if !ok || !strings.HasPrefix(e.Code, "5") {
		return
	}
	trace := lineID(e)
	j.emailEvent(o, e.Time, trace, off, event.EmailEventDetail{EventName: event.EventIncomingEmailBounced,
		BouncedRecipient: &event.BouncedRecipient{EmailAddress: e.To, Reason: e.Reason, Status: e.DSN}}, strings.ToLower(e.To))
}

// authRecord writes the AUTHENTICATION_LOGS record of an SMTP AUTH
// success (the smtpd client= line of a submitted message) or failure.
func (j *Joiner) authRecord(e *Entry, ok bool, off int64) {
	if j.cfg.NoAuthRecords {
		return
	}
	o, uid, found := j.orgOfLogin(e.SASLUser)
	if !found {
		j.log.Debug("SMTP AUTH by no organization's user; no record", "sasl_username", e.SASLUser, "client", e.ClientIP)
		return
	}
	id := lineID(e)
	rec := &event.Authentication{
		EventTimestamp: e.Time.UnixMilli(), RequestID: id, OrganizationARN: o.ARN, UserID: uid,
		User: e.SASLUser, Protocol: event.ProtocolSMTP, SourceIP: e.ClientIP, Method: e.SASLMethod,
		AuthSuccessful: ok,
	}
	if !ok {
		rec.AuthFailedReason = e.Reason
		if rec.AuthFailedReason == "" {
			rec.AuthFailedReason = "authentication failed"
		}
	}
	j.emit(o, e.Time, id, off, rec, event.LogTypeAuthentication)
}
