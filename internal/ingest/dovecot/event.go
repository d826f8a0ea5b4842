package dovecot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Event is one event as Dovecot's event exporter writes it with
// `format = json` (one object per HTTP POST, or per `stats: Info:` log line
// with transport = log). Only the fields mailtrail uses are decoded.
type Event struct {
	Name       string   `json:"event"`
	Hostname   string   `json:"hostname"`
	StartTime  flex     `json:"start_time"`
	EndTime    flex     `json:"end_time"`
	Categories flexList `json:"categories"`
	Fields     Fields   `json:"fields"`

	// Start and End are StartTime and EndTime parsed (RFC 3339 with
	// format_args = time-rfc3339, else Unix seconds with a fraction).
	Start, End time.Time
}

// Fields are the event fields mailtrail reads. Every value is kept as text
// whatever its JSON type.
type Fields struct {
	Service          flex     `json:"service"`
	Session          flex     `json:"session"`
	User             flex     `json:"user"`
	OriginalUser     flex     `json:"original_user"`
	RemoteIP         flex     `json:"remote_ip"`
	Success          flex     `json:"success"`
	PolicyResult     flex     `json:"policy_result"`
	Result           flex     `json:"result"`
	Mechanism        flex     `json:"mechanism"`
	CmdTag           flex     `json:"cmd_tag"`
	CmdName          flex     `json:"cmd_name"`
	CmdArgs          flex     `json:"cmd_args"`
	TaggedReplyState flex     `json:"tagged_reply_state"`
	TaggedReply      flex     `json:"tagged_reply"`
	Mailbox          flex     `json:"mailbox"`
	OldMailbox       flex     `json:"old_mailbox"`
	NewMailbox       flex     `json:"new_mailbox"`
	UID              flex     `json:"uid"`
	Protocol         flex     `json:"protocol"`
	RcptTo           flex     `json:"rcpt_to"`
	MessageID        flex     `json:"message_id"`
	ReasonCode       flexList `json:"reason_code"`
}

// UnmarshalJSON decodes the members mailtrail reads; an error names the
// member.
func (f *Fields) UnmarshalJSON(b []byte) error {
	return decodeObject("event fields", b, map[string]json.Unmarshaler{
		"service": &f.Service, "session": &f.Session, "user": &f.User,
		"original_user": &f.OriginalUser, "remote_ip": &f.RemoteIP, "success": &f.Success,
		"policy_result": &f.PolicyResult, "result": &f.Result, "mechanism": &f.Mechanism,
		"cmd_tag": &f.CmdTag, "cmd_name": &f.CmdName, "cmd_args": &f.CmdArgs,
		"tagged_reply_state": &f.TaggedReplyState, "tagged_reply": &f.TaggedReply,
		"mailbox": &f.Mailbox, "old_mailbox": &f.OldMailbox, "new_mailbox": &f.NewMailbox,
		"uid": &f.UID, "protocol": &f.Protocol, "rcpt_to": &f.RcptTo,
		"message_id": &f.MessageID, "reason_code": &f.ReasonCode,
	})
}

// ParseEvent decodes one exported event. It fails on anything that is not
// a JSON object with an "event" name and a parseable end (or start) time;
// the error names the field and byte offset.
func ParseEvent(body []byte) (*Event, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, errors.New("event: empty body")
	}
	if b[0] != '{' {
		return nil, fmt.Errorf("event: body is not a JSON object (starts with %q)", b[0])
	}
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, jsonError("event", b, err)
	}
	if ev.Name == "" {
		return nil, errors.New(`event: missing "event" (the event name)`)
	}
	var err error
	if ev.StartTime != "" {
		if ev.Start, err = parseEventTime(string(ev.StartTime)); err != nil {
			return nil, fmt.Errorf("event %s: start_time: %w", ev.Name, err)
		}
	}
	if ev.EndTime != "" {
		if ev.End, err = parseEventTime(string(ev.EndTime)); err != nil {
			return nil, fmt.Errorf("event %s: end_time: %w", ev.Name, err)
		}
	}
	if ev.End.IsZero() {
		ev.End = ev.Start
	}
	if ev.End.IsZero() {
		return nil, fmt.Errorf(`event %s: no "end_time" or "start_time" (add timestamps to exporter_include)`, ev.Name)
	}
	return &ev, nil
}

func parseEventTime(s string) (time.Time, error) {
	if strings.ContainsRune(s, 'T') {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not RFC 3339", s)
		}
		if t.Year() < 1970 {
			return time.Time{}, fmt.Errorf("%q is before 1970", s)
		}
		return t, nil
	}
	// format_args = time-unix: seconds with a fraction.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}

// Translator turns exported events into activities. It keeps a little
// state per session (the passdb result that explains a failed login, the
// count of authentication outcomes that numbers AuthID), bounded by
// MaxSessions, and is safe for concurrent use: Dovecot's exporter posts
// events over several connections.
type Translator struct {
	mu       sync.Mutex
	sessions *lru[evSession]
}

type evSession struct {
	passdb string // last auth_passdb_request_finished result
	auths  int    // auth_request_finished seen
	// pending is a failed attempt waiting for its passdb result, which the
	// exporter may post after auth_request_finished (both end at once).
	pending   *Activity
	userAgent string // from the IMAP ID command
}

// NewTranslator returns a translator remembering up to maxSessions
// sessions (default 65536 when <= 0).
func NewTranslator(maxSessions int) *Translator {
	return &Translator{sessions: newLRU[evSession](maxSessions)}
}

// PassdbResult returns the last passdb result exported for a session ("" if
// none); the policy report handler uses it to say why a login failed.
func (t *Translator) PassdbResult(session string) string {
	if session == "" {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions.peek(session); s != nil {
		return s.passdb
	}
	return ""
}

// Translate appends the activities of ev to dst. used is false for events
// mailtrail has no use for (most of Dovecot's events), which the caller
// counts and acknowledges.
func (t *Translator) Translate(dst []Activity, ev *Event) (out []Activity, used bool) {
	f := &ev.Fields
	session := string(f.Session)
	switch ev.Name {
	case "auth_passdb_request_finished":
		if session == "" {
			return dst, false
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		s := t.sessions.get(session)
		s.passdb = string(f.Result)
		if p := s.pending; p != nil {
			s.pending, s.passdb = nil, ""
			if r := PassdbReason(string(f.Result)); r != "" {
				p.FailReason = r
			}
			return append(dst, *p), true
		}
		return dst, true
	case "auth_client_request_finished":
		// The login process's end of the attempt, after the failure delay:
		// a failure still waiting for a passdb result never had one (the
		// policy server dropped it, or the mechanism failed first).
		if session == "" {
			return dst, false
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		s := t.sessions.peek(session)
		if s == nil || s.pending == nil {
			return dst, false
		}
		p := s.pending
		s.pending = nil
		return append(dst, *p), true
	case "auth_request_finished":
		// Sessionless requests are Postfix SASL (SMTP AUTH): the policy
		// report and Postfix's own log record those, and the exporter gives
		// nothing to number them by. No mechanism means a userdb lookup
		// (LMTP, doveadm), not a login.
		if session == "" || f.Mechanism == "" {
			return dst, false
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		s := t.sessions.get(session)
		n := s.auths
		s.auths++
		passdb := s.passdb
		s.passdb = ""
		if s.pending != nil { // its passdb result never came
			dst = append(dst, *s.pending)
			s.pending = nil
		}
		a := Activity{
			Kind:     KindAuth,
			Time:     ev.End,
			ID:       AuthID(session, n),
			Session:  session,
			Service:  string(f.Service),
			Login:    firstNonEmpty(string(f.OriginalUser), string(f.User)),
			SourceIP: string(f.RemoteIP),
			Success:  f.Success == "yes",
		}
		if !a.Success {
			switch {
			case f.PolicyResult == "refused":
				a.FailReason = ReasonAccessDenied
			case PassdbReason(passdb) != "":
				a.FailReason = PassdbReason(passdb)
			default:
				a.FailReason = ReasonAuthenticationFailed
				if passdb == "" {
					s.pending = &a
					return dst, true
				}
			}
		}
		return append(dst, a), true
	case "imap_command_finished":
		// The client's IMAP ID (RFC 2971), when it sent one after login,
		// is the session's user_agent.
		ua := ""
		if session != "" {
			t.mu.Lock()
			s := t.sessions.get(session)
			if strings.EqualFold(string(f.CmdName), "ID") && f.TaggedReplyState == "OK" {
				s.userAgent = idUserAgent(string(f.CmdArgs))
			}
			ua = s.userAgent
			t.mu.Unlock()
		}
		n := len(dst)
		dst = imapCommand(dst, ev, ua)
		return dst, len(dst) > n
	case "mail_delivery_finished":
		user := string(f.User)
		if user == "" {
			user = string(f.RcptTo)
		}
		if session == "" || user == "" || f.MessageID == "" {
			return dst, false
		}
		folder := string(f.Mailbox)
		if folder == "" {
			folder = "INBOX"
		}
		return append(dst, Activity{
			Kind: KindMailbox, Time: ev.End,
			ID:      DeliveryID(session, user, string(f.MessageID)),
			Session: session, Service: "lmtp", Login: user, SourceIP: string(f.RemoteIP),
			Action: event.ActionCreate, ObjectType: event.ObjectMessage, Folder: folder,
			ItemID: string(f.MessageID), Allowed: true,
		}), true
	case "mail_opened", "mail_expunged":
		// POP3 has no command events in 2.3; these are its only per-message
		// trace. IMAP's are covered by imap_command_finished.
		if !f.ReasonCode.has("pop3:") || session == "" || f.User == "" {
			return dst, false
		}
		a := Activity{
			Kind: KindMailbox, Time: ev.End, Session: session, Service: "pop3",
			Login: string(f.User), SourceIP: string(f.RemoteIP), ObjectType: event.ObjectMessage,
			Folder: string(f.Mailbox), Allowed: true,
		}
		a.ItemID = itemID("", a.Folder, string(f.UID))
		if ev.Name == "mail_expunged" {
			a.Action = event.ActionDelete
		} else {
			a.Action = event.ActionRead
			if f.ReasonCode.has("pop3:cmd_top") {
				a.Action = event.ActionReadSummary
			}
			a.SummaryKey = SummaryKey(session, a.Action)
		}
		a.OpKey = OpKey(session, a.Action, a.ObjectType, a.Folder)
		a.ID = RequestID("dovecot-event", session, ev.Name, string(ev.StartTime), string(ev.EndTime), string(f.UID), string(a.Action))
		return append(dst, a), true
	}
	return dst, false
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// lru is a bounded map from session id to state, evicting the least
// recently used session. Sessions are short (a login, a few commands), so a
// bound of tens of thousands holds every live one.
type lru[V any] struct {
	max   int
	items map[string]*lruEntry[V]
	head  lruEntry[V] // sentinel: head.next is the most recent
}

type lruEntry[V any] struct {
	key        string
	val        V
	prev, next *lruEntry[V]
}

func newLRU[V any](max int) *lru[V] {
	if max <= 0 {
		max = 65536
	}
	l := &lru[V]{max: max, items: map[string]*lruEntry[V]{}}
	l.head.prev, l.head.next = &l.head, &l.head
	return l
}

func (l *lru[V]) unlink(e *lruEntry[V]) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (l *lru[V]) front(e *lruEntry[V]) {
	e.prev, e.next = &l.head, l.head.next
	l.head.next.prev = e
	l.head.next = e
}

// get returns the state of key, creating it (and evicting the oldest) if
// needed, and marks it most recently used.
func (l *lru[V]) get(key string) *V {
	if e, ok := l.items[key]; ok {
		l.unlink(e)
		l.front(e)
		return &e.val
	}
	if len(l.items) >= l.max {
		old := l.head.prev
		l.unlink(old)
		delete(l.items, old.key)
	}
	e := &lruEntry[V]{key: key}
	l.items[key] = e
	l.front(e)
	return &e.val
}

// peek returns the state of key without creating it.
func (l *lru[V]) peek(key string) *V {
	if e, ok := l.items[key]; ok {
		return &e.val
	}
	return nil
}

// remove forgets key.
func (l *lru[V]) remove(key string) {
	if e, ok := l.items[key]; ok {
		l.unlink(e)
		delete(l.items, key)
	}
}
