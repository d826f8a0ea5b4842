package postfixlog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest/syslogtime"
)

// Line is one syslog line of a Postfix daemon, with the header parsed.
type Line struct {
	Time    time.Time
	Host    string
	Program string // syslog_name/daemon as logged, e.g. "postfix/submission/smtpd"
	PID     int
	Message string // after "program[pid]: "
}

// Daemon is the last element of Program ("smtpd" for
// "postfix/submission/smtpd"): syslog_name is configurable, the daemon
// name is not.
func (l *Line) Daemon() string {
	if i := strings.LastIndexByte(l.Program, '/'); i >= 0 {
		return l.Program[i+1:]
	}
	return l.Program
}

// Errors of ParseLine, for callers that count why lines were skipped.
var (
	ErrNoHeader = errors.New("no syslog header")
)

// Clock resolves classic syslog timestamps, which have no year and no zone.
type Clock struct {
	// Location of the mail host's clock (classic timestamps are local
	// time). nil means time.Local: mailtrail runs next to Postfix.
	Location *time.Location
	// Now gives the reference time for the year: a classic timestamp is put
	// in Now's year, or the year before when that would be more than a week
	// in the future (a December line read in January; see syslogtime, which
	// the Dovecot reader shares). nil means time.Now.
	Now func() time.Time
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// ParseLine parses a log line as Postfix writes it through syslog or
// postlogd (maillog_file): "Mmm dd hh:mm:ss host program[pid]: message", or
// with an RFC 3339 timestamp (rsyslog's high-precision format) in place of
// the classic one. A trailing "\n" or "\r\n" is ignored.
func (c *Clock) ParseLine(b []byte) (Line, error) {
	b = bytes.TrimRight(b, "\r\n")
	var l Line
	var rest []byte
	var err error
	if len(b) >= 15 && b[3] == ' ' && b[6] == ' ' && b[9] == ':' {
		l.Time, err = c.classic(b[:15])
		rest = b[15:]
	} else if len(b) >= 19 && b[4] == '-' && b[10] == 'T' {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return l, ErrNoHeader
		}
		l.Time, err = parseRFC3339(b[:sp])
		rest = b[sp:]
	} else {
		return l, ErrNoHeader
	}
	if err != nil {
		return l, err
	}
	if len(rest) == 0 || rest[0] != ' ' {
		return l, fmt.Errorf("%w: no space after the timestamp", ErrNoHeader)
	}
	rest = rest[1:]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return l, fmt.Errorf("%w: no host", ErrNoHeader)
	}
	if rest[sp-1] == ':' {
		// No host: the local-socket form ("Nov 22 18:26:32 postfix/smtpd[1]: ...").
		return l, parseTag(&l, rest)
	}
	l.Host = string(rest[:sp])
	return l, parseTag(&l, rest[sp+1:])
}

// parseTag parses "program[pid]: message" (pid optional).
func parseTag(l *Line, b []byte) error {
	colon := bytes.Index(b, []byte(": "))
	if colon <= 0 {
		if bytes.HasSuffix(b, []byte(":")) {
			colon = len(b) - 1
		} else {
			return fmt.Errorf("%w: no \"program: \" tag", ErrNoHeader)
		}
	}
	tag := b[:colon]
	if bytes.IndexByte(tag, ' ') >= 0 {
		return fmt.Errorf("%w: space in the program tag %q", ErrNoHeader, tag)
	}
	if i := bytes.IndexByte(tag, '['); i > 0 && tag[len(tag)-1] == ']' {
		pid, err := strconv.Atoi(string(tag[i+1 : len(tag)-1]))
		if err != nil {
			return fmt.Errorf("%w: pid %q is not a number", ErrNoHeader, tag[i+1:len(tag)-1])
		}
		l.PID = pid
		tag = tag[:i]
	}
	l.Program = string(tag)
	if colon+2 <= len(b) {
		l.Message = string(b[colon+2:])
	}
	return nil
}

func (c *Clock) classic(b []byte) (time.Time, error) {
	mon := -1
	for i, m := range months {
		if string(b[:3]) == m {
			mon = i + 1
			break
		}
	}
	if mon < 0 {
		return time.Time{}, fmt.Errorf("%w: month %q", ErrNoHeader, b[:3])
	}
	day, ok1 := num(b[4:6])
	hh, ok2 := num(b[7:9])
	mm, ok3 := num(b[10:12])
	ss, ok4 := num(b[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || b[12] != ':' {
		return time.Time{}, fmt.Errorf("%w: bad timestamp %q", ErrNoHeader, b)
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	t, ok := syslogtime.Resolve(time.Month(mon), day, hh, mm, ss, c.Location, now)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: no such time %q", ErrNoHeader, b)
	}
	return t, nil
}

// num parses a 2-character number that may be space-padded (" 2").
func num(b []byte) (int, bool) {
	n := 0
	digits := 0
	for _, c := range b {
		switch {
		case c == ' ' && digits == 0:
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
			digits++
		default:
			return 0, false
		}
	}
	return n, digits > 0
}

func parseRFC3339(b []byte) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return t, fmt.Errorf("%w: timestamp %q: %v", ErrNoHeader, b, err)
	}
	return t, nil
}

// Kind is what a Postfix log message says.
type Kind uint8

const (
	KindOther         Kind = iota // not used for email events
	KindClient                    // smtpd "QID: client=host[ip][, sasl_method=, sasl_username=]"
	KindPickup                    // pickup "QID: uid=N from=<s>"
	KindMessageID                 // cleanup "QID: message-id=<id>"
	KindQueued                    // qmgr "QID: from=<s>, size=N, nrcpt=N (queue active)"
	KindExpired                   // qmgr "QID: from=<s>, status=expired, returned to sender"
	KindDelivery                  // smtp/lmtp/local/virtual/pipe/error "QID: to=<r>, relay=, dsn=, status=S (text)"
	KindBounceNote                // bounce "QID: sender non-delivery notification: NEWQID"
	KindRemoved                   // qmgr "QID: removed"
	KindRejected                  // cleanup "QID: reject|milter-reject|discard: ..." (message not accepted)
	KindNoQueueReject             // smtpd "NOQUEUE: reject: RCPT from host[ip]: CODE DSN <r>: reason; from=<s> to=<r> ..."
	KindAuthFailed                // smtpd "warning: host[ip]: SASL M authentication failed: reason[, sasl_username=u]"
	KindDisconnect                // smtpd "disconnect from host[ip] ehlo=1 auth=1 ... commands=N"
)

// Entry is a Postfix log line with its message decoded.
type Entry struct {
	Line
	Kind    Kind
	QueueID string

	ClientHost, ClientIP string // KindClient, KindNoQueueReject, KindAuthFailed
	SASLMethod, SASLUser string // KindClient, KindAuthFailed
	MessageID            string // KindMessageID (with its angle brackets, as logged)
	From                 string // KindQueued, KindPickup, KindNoQueueReject, KindExpired (without brackets)
	Size, NRcpt          int    // KindQueued
	To, OrigTo           string // KindDelivery, KindNoQueueReject
	Relay, DSN, Status   string // KindDelivery (Status sent|bounced|deferred|expired|...)
	Reason               string // KindDelivery (text in parentheses), KindNoQueueReject, KindAuthFailed, KindRejected
	Code                 string // KindNoQueueReject: SMTP reply code
	NewQueueID           string // KindBounceNote
	Authenticated        bool   // KindDisconnect: the session had a successful AUTH (auth=N, N > 0)
}

// Parse decodes the message of a line from a Postfix daemon. A line that is
// not about a message Postfix handles (connect, disconnect, statistics,
// other programs' lines) gets KindOther and no error; error is only for a
// line whose shape is recognised but broken.
func Parse(l Line) (Entry, error) {
	e := Entry{Line: l}
	msg := l.Message
	d := l.Daemon()
	if d == "smtpd" {
		if rest, ok := strings.CutPrefix(msg, "NOQUEUE: reject: "); ok {
			return e, parseNoQueue(&e, rest)
		}
		if rest, ok := strings.CutPrefix(msg, "warning: "); ok && strings.Contains(rest, " authentication failed") {
			return e, parseAuthFailed(&e, rest)
		}
		if rest, ok := strings.CutPrefix(msg, "disconnect from "); ok {
			e.Kind = KindDisconnect
			client, counts, _ := strings.Cut(rest, " ")
			e.ClientHost, e.ClientIP = hostIP(client)
			for _, f := range strings.Fields(counts) {
				if v, ok := strings.CutPrefix(f, "auth="); ok {
					ok, _, _ := strings.Cut(v, "/")
					e.Authenticated = ok != "" && ok != "0"
				}
			}
			return e, nil
		}
	}
	colon := strings.Index(msg, ": ")
	if colon < 0 || !isQueueID(msg[:colon]) {
		return e, nil
	}
	e.QueueID = msg[:colon]
	rest := msg[colon+2:]
	switch d {
	case "smtpd":
		if strings.HasPrefix(rest, "client=") {
			e.Kind = KindClient
			for _, kv := range splitFields(rest) {
				switch kv.k {
				case "client":
					e.ClientHost, e.ClientIP = hostIP(kv.v)
				case "sasl_method":
					e.SASLMethod = kv.v
				case "sasl_username":
					e.SASLUser = kv.v
				}
			}
			if e.ClientIP == "" {
				return e, fmt.Errorf("queue id %s: client=%q has no [address]", e.QueueID, rest)
			}
		}
	case "pickup":
		if strings.HasPrefix(rest, "uid=") {
			e.Kind = KindPickup
			if i := strings.Index(rest, "from=<"); i >= 0 {
				e.From = strings.TrimSuffix(rest[i+6:], ">")
			}
		}
	case "cleanup":
		switch {
		case strings.HasPrefix(rest, "message-id="):
			e.Kind = KindMessageID
			e.MessageID = strings.TrimSpace(rest[len("message-id="):])
		case strings.HasPrefix(rest, "reject: "), strings.HasPrefix(rest, "milter-reject: "), strings.HasPrefix(rest, "discard: "):
			e.Kind = KindRejected
			e.Reason = rest
		}
	case "qmgr":
		switch {
		case rest == "removed":
			e.Kind = KindRemoved
		case strings.HasPrefix(rest, "from=<"):
			fs := splitFields(strings.TrimSuffix(rest, " (queue active)"))
			e.Kind = KindQueued
			for _, kv := range fs {
				switch kv.k {
				case "from":
					e.From = unbracket(kv.v)
				case "size":
					e.Size, _ = strconv.Atoi(kv.v)
				case "nrcpt":
					e.NRcpt, _ = strconv.Atoi(kv.v)
				case "status":
					if strings.HasPrefix(kv.v, "expired") {
						e.Kind = KindExpired
						e.Status = "expired"
					}
				}
			}
		}
	case "bounce":
		for _, p := range []string{"sender non-delivery notification: ", "postmaster non-delivery notification: ", "sender delivery status notification: "} {
			if nq, ok := strings.CutPrefix(rest, p); ok && isQueueID(nq) {
				e.Kind = KindBounceNote
				e.NewQueueID = nq
				e.Reason = strings.TrimSuffix(p, ": ")
			}
		}
	default: // smtp, lmtp, local, virtual, pipe, error, discard, retry
		if strings.HasPrefix(rest, "to=<") {
			return e, parseDelivery(&e, rest)
		}
	}
	return e, nil
}

func parseDelivery(e *Entry, rest string) error {
	e.Kind = KindDelivery
	// The status text in parentheses may contain ", " and "=": cut it first.
	if i := strings.Index(rest, ", status="); i >= 0 {
		st := rest[i+len(", status="):]
		rest = rest[:i]
		if sp := strings.IndexByte(st, ' '); sp >= 0 {
			e.Status = st[:sp]
			e.Reason = strings.TrimSuffix(strings.TrimPrefix(st[sp+1:], "("), ")")
		} else {
			e.Status = st
		}
	}
	for _, kv := range splitFields(rest) {
		switch kv.k {
		case "to":
			e.To = unbracket(kv.v)
		case "orig_to":
			e.OrigTo = unbracket(kv.v)
		case "relay":
			e.Relay = kv.v
		case "dsn":
			e.DSN = kv.v
		}
	}
	if e.To == "" || e.Status == "" {
		return fmt.Errorf("queue id %s: delivery line without to= or status=", e.QueueID)
	}
	return nil
}

// parseNoQueue parses "RCPT from host[ip]: 550 5.1.1 <r>: reason; from=<s> to=<r> proto=ESMTP helo=<h>".
func parseNoQueue(e *Entry, rest string) error {
	e.Kind = KindNoQueueReject
	stage, after, ok := strings.Cut(rest, " from ")
	if !ok {
		return fmt.Errorf("NOQUEUE reject without \"from host[ip]\": %q", rest)
	}
	if stage != "RCPT" {
		// CONNECT/HELO/MAIL/DATA stage rejects name no recipient.
		e.Kind = KindOther
		return nil
	}
	client, after, ok := strings.Cut(after, ": ")
	if !ok {
		return fmt.Errorf("NOQUEUE reject: no \": \" after the client in %q", rest)
	}
	e.ClientHost, e.ClientIP = hostIP(client)
	semi := strings.LastIndex(after, "; from=<")
	if semi < 0 {
		return fmt.Errorf("NOQUEUE reject: no \"; from=<\" in %q", rest)
	}
	reply, env := after[:semi], after[semi+2:]
	code, reply, _ := strings.Cut(reply, " ")
	e.Code = code
	if dsn, r, ok := strings.Cut(reply, " "); ok && len(dsn) >= 5 && dsn[1] == '.' {
		e.DSN, reply = dsn, r
	}
	// "<r>: reason": drop the address, keep the reason.
	if strings.HasPrefix(reply, "<") {
		if i := strings.Index(reply, ">: "); i >= 0 {
			reply = reply[i+3:]
		}
	}
	e.Reason = reply
	for _, f := range strings.Fields(env) {
		if v, ok := strings.CutPrefix(f, "from=<"); ok {
			e.From = strings.TrimSuffix(v, ">")
		} else if v, ok := strings.CutPrefix(f, "to=<"); ok {
			e.To = strings.TrimSuffix(v, ">")
		}
	}
	if e.To == "" {
		return fmt.Errorf("NOQUEUE reject without to=<>: %q", rest)
	}
	return nil
}

// parseAuthFailed parses "host[ip]: SASL PLAIN authentication failed: reason, sasl_username=u".
func parseAuthFailed(e *Entry, rest string) error {
	client, after, ok := strings.Cut(rest, ": ")
	if !ok {
		return nil
	}
	m, ok := strings.CutPrefix(after, "SASL ")
	if !ok {
		return nil
	}
	method, reason, ok := strings.Cut(m, " authentication failed")
	if !ok || strings.Contains(method, " ") {
		return nil
	}
	e.Kind = KindAuthFailed
	e.ClientHost, e.ClientIP = hostIP(client)
	e.SASLMethod = method
	reason = strings.TrimPrefix(reason, ": ")
	if i := strings.LastIndex(reason, ", sasl_username="); i >= 0 {
		e.SASLUser = reason[i+len(", sasl_username="):]
		reason = reason[:i]
	}
	e.Reason = reason
	return nil
}

type kv struct{ k, v string }

// splitFields splits "a=1, b=2, c=x" into pairs. Values never contain
// ", " in the lines it is used for (the free text is cut off first).
func splitFields(s string) []kv {
	var out []kv
	for s != "" {
		f, r, _ := strings.Cut(s, ", ")
		s = r
		k, v, ok := strings.Cut(f, "=")
		if ok {
			out = append(out, kv{k, v})
		}
	}
	return out
}

func unbracket(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// hostIP splits "localhost[127.0.0.1]" (or "[::1]" forms).
func hostIP(s string) (host, ip string) {
	i := strings.IndexByte(s, '[')
	if i < 0 || !strings.HasSuffix(s, "]") {
		return s, ""
	}
	ip = s[i+1 : len(s)-1]
	ip = strings.TrimPrefix(ip, "IPv6:")
	return s[:i], ip
}

// isQueueID recognises Postfix queue ids: short ones are 6+ upper-case hex
// digits; long ones (enable_long_queue_ids) are 10+ characters of a
// vowel-free alphabet with a 'z' separator. Neither can be a word like
// "warning", "NOQUEUE" or "statistics".
func isQueueID(s string) bool {
	if len(s) < 6 || len(s) > 24 {
		return false
	}
	hex := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			hex = false
			break
		}
	}
	if hex {
		return true
	}
	if len(s) < 10 || strings.IndexByte(s, 'z') < 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z' && !strings.ContainsRune("AEIOU", rune(c)):
		case c >= 'a' && c <= 'z' && !strings.ContainsRune("aeiou", rune(c)):
		default:
			return false
		}
	}
	return true
}
