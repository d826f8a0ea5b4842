package dovecot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/ingest/syslogtime"
)

// maxAttemptsPerConnection bounds the attempts one "(auth failed, N
// attempts ...)" summary line can add.
const maxAttemptsPerConnection = 100

// ParserOptions tune a Parser.
type ParserOptions struct {
	// Location is the zone of timestamps that carry none (Dovecot writes
	// local time). nil means time.Local.
	Location *time.Location
	// Year completes syslog-style stamps ("Nov 22 18:25:52"), which have
	// none. 0 means the current year, except that a stamp more than a week
	// in the future is taken to be from the year before (a log read early
	// in January), as syslogtime.Resolve does for Postfix's lines too.
	Year int
	// Now is the clock for that; nil means time.Now.
	Now func() time.Time
	// MaxSessions bounds the per-session state (default 65536).
	MaxSessions int
}

// ParserStats count what a Parser did with its lines.
type ParserStats struct {
	Lines     int64 // lines seen
	Used      int64 // lines that produced or completed an activity
	Ignored   int64 // Dovecot lines with nothing to record, and other programs' lines
	Malformed int64 // lines ParseLine returned an error for
	// Unresolved counts authentication failures whose login process never
	// logged its line (so the protocol is unknown), dropped at Flush or
	// when their session was evicted.
	Unresolved int64
}

// Parser turns Dovecot log lines into activities. It is fed line by line,
// in order, and keeps state across lines: the session's client address
// (from its Login line) for the mail_log lines that follow, failed attempts
// until the login process says which protocol they were for, and the
// number of authentication outcomes per session that numbers AuthID. A
// Parser is not safe for concurrent use.
type Parser struct {
	opts     ParserOptions
	sessions *lru[logSession]
	pids     *lru[string] // lmtp pid -> client address ("Connect from")
	lastLine string       // for numbering identical consecutive lines
	rep      int
	stats    ParserStats
}

type logSession struct {
	service   string
	ip        string
	userAgent string     // imap_id_log "ID sent: name=..., version=..."
	outcomes  int        // authentication outcomes emitted
	failures  int        // failed attempts seen (emitted or pending)
	pending   []Activity // failures waiting for the login process's line
	// policyDown: Dovecot could not reach the policy server for this
	// session, which explains an otherwise unexplained failure.
	policyDown bool
}

// NewParser returns a parser.
func NewParser(opts ParserOptions) *Parser {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Parser{
		opts:     opts,
		sessions: newLRU[logSession](opts.MaxSessions),
		pids:     newLRU[string](4096),
	}
}

// Stats returns the counters so far.
func (p *Parser) Stats() ParserStats { return p.stats }

// ErrNotDovecot is wrapped by errors for lines that are not in Dovecot's
// log format at all.
var ErrNotDovecot = errors.New("not a Dovecot log line")

// ParseLine parses one line (without its newline) and appends the
// activities it completes to dst. Lines of other programs in a shared
// syslog file and Dovecot lines with nothing to record return dst
// unchanged and no error; an error says what is wrong with a line that
// cannot be read at all (no timestamp, no "service: " prefix) and where.
func (p *Parser) ParseLine(dst []Activity, line []byte) ([]Activity, error) {
	p.stats.Lines++
	s := strings.TrimRight(string(line), "\r\n")
	if s == "" {
		p.stats.Ignored++
		return dst, nil
	}
	ts, rest, err := p.timestamp(s)
	if err != nil {
		p.stats.Malformed++
		return dst, err
	}
	rest, ok := stripSyslog(rest)
	if !ok {
		p.stats.Ignored++ // another program's line in a shared file
		return dst, nil
	}
	pr, msg, err := parsePrefix(rest)
	if err != nil {
		p.stats.Malformed++
		return dst, fmt.Errorf("byte %d: %w", len(s)-len(rest), err)
	}
	if s == p.lastLine {
		p.rep++
	} else {
		p.lastLine, p.rep = s, 0
	}
	n := len(dst)
	var used bool
	switch {
	case strings.HasSuffix(pr.service, "-login"):
		dst, used = p.loginLine(dst, ts, strings.TrimSuffix(pr.service, "-login"), msg)
	case pr.service == "auth" || strings.HasPrefix(pr.service, "auth-worker"):
		used = p.authLine(ts, msg)
	case pr.service == "imap" || pr.service == "pop3" || pr.service == "lmtp" || pr.service == "submission":
		dst, used = p.mailLine(dst, ts, s, pr, msg)
	}
	if used || len(dst) > n {
		p.stats.Used++
	} else {
		p.stats.Ignored++
	}
	return dst, nil
}

// Flush ends the input: failed attempts still waiting for their login
// process's line are dropped (counted in Stats().Unresolved), since without
// it the protocol is unknown and the line may have been a userdb lookup.
func (p *Parser) Flush(dst []Activity) []Activity {
	for _, e := range p.sessions.items {
		p.stats.Unresolved += int64(len(e.val.pending))
		e.val.pending = nil
	}
	return dst
}

// timestamp reads the leading timestamp: log_timestamp "%Y-%m-%dT%H:%M:%S "
// (optionally with a fraction and a zone, as rsyslog's high-precision
// format writes it) or the default "%b %d %H:%M:%S ".
func (p *Parser) timestamp(s string) (time.Time, string, error) {
	if len(s) >= 19 && isDigits(s[0:4]) && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' && s[16] == ':' {
		end := 19
		if end < len(s) && s[end] == '.' {
			end++
			for end < len(s) && s[end] >= '0' && s[end] <= '9' {
				end++
			}
		}
		zoneStart := end
		if end < len(s) && (s[end] == 'Z' || s[end] == '+' || s[end] == '-') {
			end++
			for end < len(s) && s[end] != ' ' {
				end++
			}
		}
		stamp := s[:10] + "T" + s[11:zoneStart]
		var t time.Time
		var err error
		if zoneStart < end {
			zone := s[zoneStart:end]
			if zone != "Z" && len(zone) == 5 { // +0100
				zone = zone[:3] + ":" + zone[3:]
			}
			t, err = time.Parse("2006-01-02T15:04:05.999999999Z07:00", stamp+zone)
		} else {
			t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", stamp, p.opts.Location)
		}
		if err != nil || t.Year() < 1970 {
			// Records carry epoch milliseconds: nothing before 1970.
			return time.Time{}, "", fmt.Errorf("%w: bad timestamp %q", ErrNotDovecot, s[:end])
		}
		return t, strings.TrimLeft(s[end:], " "), nil
	}
	// "Nov 22 18:25:52 " or "Nov  2 18:25:52 ".
	if len(s) >= 16 && s[3] == ' ' && s[15] == ' ' && s[9] == ':' && s[12] == ':' {
		stamp := s[:15]
		if stamp[4] == ' ' {
			stamp = stamp[:4] + "0" + stamp[5:]
		}
		if p.opts.Year != 0 {
			t, err := time.ParseInLocation("2006 Jan 02 15:04:05", strconv.Itoa(p.opts.Year)+" "+stamp, p.opts.Location)
			if err != nil {
				return time.Time{}, "", fmt.Errorf("%w: bad timestamp %q", ErrNotDovecot, s[:15])
			}
			return t, s[16:], nil
		}
		// The year is completed the same way for Postfix's lines
		// (syslogtime), so both servers' records of one moment agree.
		m, err := time.Parse("Jan 02 15:04:05", stamp)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%w: bad timestamp %q", ErrNotDovecot, s[:15])
		}
		t, ok := syslogtime.Resolve(m.Month(), m.Day(), m.Hour(), m.Minute(), m.Second(), p.opts.Location, p.opts.Now())
		if !ok {
			return time.Time{}, "", fmt.Errorf("%w: no such time %q", ErrNotDovecot, s[:15])
		}
		return t, s[16:], nil
	}
	return time.Time{}, "", fmt.Errorf("%w: no timestamp at the start of %q", ErrNotDovecot, clip(s, 40))
}

// stripSyslog removes "host dovecot: " or "host dovecot[pid]: " when Dovecot
// logs through syslog. ok is false for another program's line.
func stripSyslog(s string) (string, bool) {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return s, true
	}
	first := s[:sp]
	if strings.ContainsAny(first, ":(<") {
		return s, true // Dovecot's own log file: starts with "service..."
	}
	rest := s[sp+1:]
	sp2 := strings.IndexByte(rest, ' ')
	if sp2 < 0 {
		return s, false
	}
	tag := rest[:sp2]
	if !strings.HasSuffix(tag, ":") || !strings.HasPrefix(tag, "dovecot") {
		return s, false
	}
	return rest[sp2+1:], true
}

type prefix struct {
	service string // imap-login, auth, imap, pop3, lmtp, stats...
	paren   string // (user) or (pid)
	pid     string
	session string
}

// parsePrefix splits "service[(x)][<pid>][<session>]: [Level: ]message".
func parsePrefix(s string) (prefix, string, error) {
	var pr prefix
	i := 0
	for i < len(s) && s[i] != '(' && s[i] != '<' && s[i] != ':' && s[i] != ' ' {
		i++
	}
	if i == 0 || i == len(s) || s[i] == ' ' {
		return pr, "", fmt.Errorf("%w: no \"service: \" prefix in %q", ErrNotDovecot, clip(s, 40))
	}
	pr.service = s[:i]
	if s[i] == '(' {
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return pr, "", fmt.Errorf("%w: unclosed '(' after %q", ErrNotDovecot, pr.service)
		}
		pr.paren = s[i+1 : i+j]
		i += j + 1
	}
	var angles []string
	for i < len(s) && s[i] == '<' {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return pr, "", fmt.Errorf("%w: unclosed '<' after %q", ErrNotDovecot, pr.service)
		}
		angles = append(angles, s[i+1:i+j])
		i += j + 1
	}
	switch len(angles) {
	case 1:
		if isDigits(angles[0]) {
			pr.pid = angles[0]
		} else {
			pr.session = angles[0]
		}
	case 2:
		pr.pid, pr.session = angles[0], angles[1]
	}
	if !strings.HasPrefix(s[i:], ": ") {
		return pr, "", fmt.Errorf("%w: want \": \" after %q", ErrNotDovecot, clip(s[:i], 60))
	}
	msg := s[i+2:]
	for _, lvl := range [...]string{"Info: ", "Warning: ", "Error: ", "Debug: ", "Fatal: ", "Panic: "} {
		if strings.HasPrefix(msg, lvl) {
			msg = msg[len(lvl):]
			break
		}
	}
	return pr, msg, nil
}

// loginLine handles the login processes' lines (imap-login, pop3-login,
// submission-login): "Login: ..." is a successful attempt, a disconnect
// "(auth failed, N attempts in S secs)" ends failed ones.
func (p *Parser) loginLine(dst []Activity, ts time.Time, service, msg string) ([]Activity, bool) {
	if rest, ok := strings.CutPrefix(msg, "Login: "); ok {
		kv := loginFields(rest)
		session := kv["session"]
		if session == "" {
			return dst, false
		}
		st := p.sessions.get(session)
		st.service, st.ip = service, kv["rip"]
		dst = p.release(dst, session, st)
		dst = append(dst, Activity{
			Kind: KindAuth, Time: ts, ID: AuthID(session, st.outcomes), Session: session,
			Service: service, Login: kv["user"], SourceIP: kv["rip"], Success: true,
		})
		st.outcomes++
		return dst, true
	}
	i := strings.Index(msg, "(auth failed, ")
	if i < 0 {
		return dst, false
	}
	count, _, _ := strings.Cut(msg[i+len("(auth failed, "):], " ")
	attempts, _ := strconv.Atoi(count)
	// Dovecot closes a connection after a few failures (3 by default); a
	// larger count is not believable and must not flood the store.
	attempts = min(attempts, maxAttemptsPerConnection)
	j := strings.Index(msg[i:], "): ")
	if j < 0 {
		return dst, false
	}
	kv := loginFields(msg[i+j+3:])
	session := kv["session"]
	if session == "" {
		return dst, false
	}
	st := p.sessions.get(session)
	st.service, st.ip = service, kv["rip"]
	dst = p.release(dst, session, st)
	// Attempts the auth process did not explain (auth_verbose off, policy
	// server unreachable) are recorded from the summary.
	for st.failures < attempts {
		reason := ReasonAuthenticationFailed
		if st.policyDown {
			reason = ReasonPolicyServerUnavailable
		}
		dst = append(dst, Activity{
			Kind: KindAuth, Time: ts, ID: AuthID(session, st.outcomes), Session: session,
			Service: service, Login: kv["user"], SourceIP: kv["rip"], FailReason: reason,
		})
		st.outcomes++
		st.failures++
	}
	p.sessions.remove(session)
	return dst, true
}

// release emits a session's pending failures now that its service is known.
func (p *Parser) release(dst []Activity, session string, st *logSession) []Activity {
	for _, a := range st.pending {
		a.Service = st.service
		a.ID = AuthID(session, st.outcomes)
		st.outcomes++
		dst = append(dst, a)
	}
	st.pending = st.pending[:0]
	return dst
}

// authLine handles the auth process's verbose lines:
//
//	passwd-file(user,ip,<session>): Password mismatch | unknown user
//	policy(user,ip,<session>): Authentication failure due to policy server refusal: MSG
//	policy(user,ip,<session>): Policy server HTTP error: ...
//
// A failure waits (pending) for the login process's line, which names the
// protocol. Lines without a session (Postfix SASL) are left to Postfix's
// log and the policy report.
func (p *Parser) authLine(ts time.Time, msg string) bool {
	open := strings.IndexByte(msg, '(')
	end := strings.Index(msg, "): ")
	if open <= 0 || end < open {
		return false
	}
	driver, args, text := msg[:open], msg[open+1:end], msg[end+3:]
	parts := strings.Split(args, ",")
	if len(parts) < 3 {
		return false
	}
	session := parts[len(parts)-1]
	if len(session) < 3 || session[0] != '<' || session[len(session)-1] != '>' {
		return false
	}
	session = session[1 : len(session)-1]
	ip := parts[len(parts)-2]
	user := strings.Join(parts[:len(parts)-2], ",")
	var reason string
	switch {
	case driver == "policy" && strings.HasPrefix(text, "Authentication failure due to policy server refusal"):
		reason = ReasonAccessDenied
	case driver == "policy" && strings.HasPrefix(text, "Policy server HTTP error"):
		p.sessions.get(session).policyDown = true
		return true
	case driver != "policy" && strings.HasPrefix(text, "Password mismatch"):
		reason = ReasonInvalidPassword
	case driver != "policy" && strings.HasPrefix(text, "unknown user"):
		reason = ReasonUnknownUser
	default:
		return false
	}
	st := p.sessions.get(session)
	st.failures++
	st.pending = append(st.pending, Activity{
		Kind: KindAuth, Time: ts, Session: session, Login: user, SourceIP: ip, FailReason: reason,
	})
	return true
}

// mailLine handles the mail processes' lines: mail_log plugin lines,
// Mailbox created/renamed/deleted, LMTP deliveries and logout statistics.
func (p *Parser) mailLine(dst []Activity, ts time.Time, line string, pr prefix, msg string) ([]Activity, bool) {
	if pr.session == "" {
		// lmtp(21813): Connect from 127.0.0.1 — the delivery lines that
		// follow carry only the pid.
		if ip, ok := strings.CutPrefix(msg, "Connect from "); ok && isDigits(pr.paren) {
			*p.pids.get(pr.paren) = ip
			return dst, true
		}
		return dst, false
	}
	user, session := pr.paren, pr.session
	if user == "" {
		return dst, false
	}
	st := p.sessions.get(session)
	ip := st.ip
	if ip == "" && pr.service == "lmtp" {
		if v := p.pids.peek(pr.pid); v != nil {
			ip = *v
		}
	}
	if rest, ok := strings.CutPrefix(msg, "ID sent: "); ok {
		st.userAgent = idUserAgent(rest)
		return dst, true
	}
	base := Activity{
		Kind: KindMailbox, Time: ts, Session: session, Service: pr.service,
		Login: user, SourceIP: ip, Allowed: true, UserAgent: st.userAgent,
	}
	k := 0
	add := func(action event.MailboxAction, obj event.ObjectType, folder, item string) *Activity {
		a := base
		a.Action, a.ObjectType, a.Folder, a.ItemID = action, obj, folder, item
		a.ID = RequestID("dovecot-log", line, strconv.Itoa(p.rep), strconv.Itoa(k))
		a.OpKey = OpKey(session, action, obj, folder)
		k++
		dst = append(dst, a)
		return &dst[len(dst)-1]
	}
	folderOp := func(action event.MailboxAction, folder, idName string) {
		a := add(action, event.ObjectFolder, folder, "")
		a.ID, a.OpKey, a.FolderIDName = FolderOpID(session, action, folder), "", idName
	}

	if pr.service == "lmtp" {
		// msgid=<id>: saved mail to INBOX (always logged, mail_log or not).
		if rest, ok := strings.CutPrefix(msg, "msgid="); ok {
			if i := strings.Index(rest, ": saved mail to "); i >= 0 {
				msgid, folder := rest[:i], strings.Trim(rest[i+len(": saved mail to "):], "'")
				a := add(event.ActionCreate, event.ObjectMessage, folder, msgid)
				a.ID, a.OpKey = DeliveryID(session, user, msgid), ""
				return dst, true
			}
		}
		return dst, false
	}

	switch {
	case strings.HasPrefix(msg, "save: "), strings.HasPrefix(msg, "append: "):
		f := mailLogFields(msg[strings.IndexByte(msg, ' ')+1:])
		add(event.ActionCreate, event.ObjectMessage, f.box, itemID(f.msgid, f.box, f.uid))
	case strings.HasPrefix(msg, "copy from "), strings.HasPrefix(msg, "move from "):
		i := strings.Index(msg, ": ")
		if i < 0 {
			return dst, false
		}
		src := msg[len("copy from "):i]
		f := mailLogFields(msg[i+2:])
		from, to := event.ActionCopy, event.ActionCopyTo
		if strings.HasPrefix(msg, "move") {
			from, to = event.ActionMove, event.ActionMoveTo
		}
		add(from, event.ObjectMessage, src, itemID(f.msgid, src, ""))
		add(to, event.ObjectFolder, f.box, "")
	case strings.HasPrefix(msg, "flag_change: "), strings.HasPrefix(msg, "undelete: "):
		f := mailLogFields(msg[strings.IndexByte(msg, ' ')+1:])
		add(event.ActionUpdate, event.ObjectMessage, f.box, itemID(f.msgid, f.box, f.uid))
	case strings.HasPrefix(msg, "delete: "), strings.HasPrefix(msg, "expunge: "):
		f := mailLogFields(msg[strings.IndexByte(msg, ' ')+1:])
		add(event.ActionDelete, event.ObjectMessage, f.box, itemID(f.msgid, f.box, f.uid))
	case strings.HasPrefix(msg, "Mailbox created: "):
		folderOp(event.ActionCreate, msg[len("Mailbox created: "):], "")
	case strings.HasPrefix(msg, "Mailbox deleted: "):
		folderOp(event.ActionDelete, msg[len("Mailbox deleted: "):], "")
	case strings.HasPrefix(msg, "Mailbox renamed: "):
		from, to, ok := strings.Cut(msg[len("Mailbox renamed: "):], " -> ")
		if !ok {
			return dst, false
		}
		folderOp(event.ActionUpdate, from, to)
	case strings.HasPrefix(msg, "Disconnected: ") || strings.HasPrefix(msg, "Connection closed"):
		// Logout statistics: the only trace of POP3 RETR/TOP and of IMAP
		// reads in the log. The folder is not logged.
		stats := logoutFields(msg)
		read, summary := stats["retr"], stats["top"]
		folder := "INBOX"
		if pr.service == "imap" {
			// Which folders were read is not logged: the record names the
			// mailbox root.
			read, summary, folder = stats["body_count"], stats["hdr_count"], "/"
		}
		if read > 0 {
			a := add(event.ActionRead, event.ObjectMessage, folder, "")
			a.OpKey, a.SummaryKey = "", SummaryKey(session, event.ActionRead)
		}
		if summary > 0 {
			a := add(event.ActionReadSummary, event.ObjectMessage, folder, "")
			a.OpKey, a.SummaryKey = "", SummaryKey(session, event.ActionReadSummary)
		}
		p.stats.Unresolved += int64(len(st.pending))
		p.sessions.remove(session)
		return dst, true
	default:
		return dst, false
	}
	return dst, true
}

// loginFields reads "user=<u>, method=PLAIN, rip=1.2.3.4, ..., secured,
// session=<S>" into a map, angle brackets removed.
func loginFields(s string) map[string]string {
	kv := make(map[string]string, 8)
	for _, part := range strings.Split(s, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
			v = v[1 : len(v)-1]
		}
		kv[k] = v
	}
	return kv
}

type mailLog struct {
	box, uid, msgid string
}

// mailLogNames are the mail_log_fields Dovecot 2.3 knows. Values of from=
// and subject= are not quoted and may contain ", ", so a field ends only
// where ", <known name>=" begins.
var mailLogNames = [...]string{"uid", "box", "msgid", "size", "vsize", "from", "subject", "flags"}

func mailLogFields(s string) mailLog {
	var m mailLog
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		name := s[:eq]
		rest := s[eq+1:]
		end := len(rest)
		for i := 0; i+2 < len(rest); i++ {
			if rest[i] == ',' && rest[i+1] == ' ' && startsWithField(rest[i+2:]) {
				end = i
				break
			}
		}
		v := rest[:end]
		switch name {
		case "box":
			m.box = v
		case "uid":
			m.uid = v
		case "msgid":
			m.msgid = v
		}
		if end == len(rest) {
			break
		}
		s = rest[end+2:]
	}
	return m
}

func startsWithField(s string) bool {
	for _, n := range mailLogNames {
		if len(s) > len(n) && s[len(n)] == '=' && s[:len(n)] == n {
			return true
		}
	}
	return false
}

// logoutFields reads the counters of a logout line: "top=0/0, retr=1/699,
// del=0/3, size=1463" (POP3; the count before the slash) or "in=27 out=556
// ... body_count=1 body_bytes=683" (IMAP).
func logoutFields(s string) map[string]int {
	out := map[string]int{}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, "/")
		if n, err := strconv.Atoi(v); err == nil {
			out[k] = n
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
