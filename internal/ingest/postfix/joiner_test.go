package postfixlog

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/org"
)

// joinLines runs lines through a joiner over e's directory and returns
// the event names (with recipients) it produced, in order.
func joinLines(t *testing.T, e *env, cfg JoinerConfig, lines ...string) []string {
	t.Helper()
	cfg.Account, cfg.Directory, cfg.Logger = acct, e.users, slog.New(slog.DiscardHandler)
	j := NewJoiner(cfg)
	c := Clock{Location: time.UTC, Now: func() time.Time { return refNow }}
	var out []string
	for i, l := range lines {
		ln, err := c.ParseLine([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		en, err := Parse(ln)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, o := range j.Add(&en, int64(i)) {
			out = append(out, describe(t, o))
		}
	}
	for _, o := range j.Flush() {
		out = append(out, "flush:"+describe(t, o))
	}
	return out
}

func describe(t *testing.T, o Output) string {
	var r struct {
		Event event.EmailEventDetail `json:"event"`
		User  string                 `json:"user"`
		OK    *bool                  `json:"auth_successful"`
	}
	if err := json.Unmarshal(o.Record.JSON, &r); err != nil {
		t.Fatal(err)
	}
	if r.OK != nil {
		return "AUTH " + r.User + " @" + o.Org.Alias
	}
	d := r.Event
	s := string(d.EventName) + " " + d.Recipient + strings.Join(d.Recipients, ",")
	if d.BouncedRecipient != nil {
		s += d.BouncedRecipient.EmailAddress + " " + d.BouncedRecipient.Status
	}
	if d.Sender != "" {
		s += " sender=" + d.Sender
	}
	return s + " @" + o.Org.Alias
}

func eq(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestJoinMixedRecipientsAndOrgs(t *testing.T) {
	e := newEnv(t)
	other, err := e.users.CreateOrganization(acct, org.CreateOrganizationInput{Region: "us-east-1", Alias: "globex", Domains: []org.Domain{{DomainName: "globex.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = other
	got := joinLines(t, e, JoinerConfig{},
		"Nov 22 10:00:00 mx postfix/submission/smtpd[1]: ABCDEF0001: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=alice@example.test",
		"Nov 22 10:00:00 mx postfix/cleanup[2]: ABCDEF0001: message-id=<m1@example.test>",
		"Nov 22 10:00:00 mx postfix/qmgr[3]: ABCDEF0001: from=<boss@example.test>, size=10, nrcpt=4 (queue active)",
		"Nov 22 10:00:01 mx postfix/lmtp[4]: ABCDEF0001: to=<bob@example.test>, relay=r, delay=0, delays=0, dsn=2.0.0, status=sent (ok)",
		"Nov 22 10:00:01 mx postfix/smtp[5]: ABCDEF0001: to=<x@remote.test>, relay=r, delay=0, delays=0, dsn=4.4.1, status=deferred (later)",
		"Nov 22 10:00:01 mx postfix/smtp[5]: ABCDEF0001: to=<y@globex.test>, relay=r, delay=0, delays=0, dsn=2.0.0, status=sent (ok)",
		"Nov 22 10:00:02 mx postfix/lmtp[4]: ABCDEF0001: to=<ghost@example.test>, relay=r, delay=0, delays=0, dsn=5.2.2, status=bounced (over quota)",
		"Nov 22 10:30:00 mx postfix/smtp[5]: ABCDEF0001: to=<x@remote.test>, relay=r, delay=0, delays=0, dsn=4.4.1, status=deferred (still later)",
		"Nov 22 11:00:00 mx postfix/qmgr[3]: ABCDEF0001: from=<boss@example.test>, status=expired, returned to sender",
		"Nov 22 11:00:00 mx postfix/qmgr[3]: ABCDEF0001: removed",
	)
	eq(t, got,
		"AUTH alice@example.test @acme",
		"MAILBOX_EMAIL_DELIVERED bob@example.test @acme",
		"MAILBOX_EMAIL_DELIVERED y@globex.test @globex",
		"INCOMING_EMAIL_BOUNCED ghost@example.test 5.2.2 @acme",
		// all 4 recipients heard of: the head events
		"OUTGOING_EMAIL_SUBMITTED bob@example.test,x@remote.test,y@globex.test,ghost@example.test sender=alice@example.test @acme",
		"ORGANIZATION_EMAIL_RECEIVED bob@example.test,ghost@example.test @acme",
		"ORGANIZATION_EMAIL_RECEIVED y@globex.test @globex",
		"OUTGOING_EMAIL_BOUNCED x@remote.test 4.4.7 @acme",
	)
}

func TestJoinMemoryBounds(t *testing.T) {
	e := newEnv(t)
	msg := func(qid, ts string) []string {
		return []string{
			"Nov 22 " + ts + " mx postfix/smtpd[1]: " + qid + ": client=h[192.0.2.1]",
			"Nov 22 " + ts + " mx postfix/cleanup[2]: " + qid + ": message-id=<" + qid + "@r>",
			"Nov 22 " + ts + " mx postfix/qmgr[3]: " + qid + ": from=<s@remote.test>, size=1, nrcpt=2 (queue active)",
			"Nov 22 " + ts + " mx postfix/lmtp[4]: " + qid + ": to=<alice@example.test>, relay=r, delay=0, delays=0, dsn=2.0.0, status=sent (ok)",
		}
	}
	// MaxPending 2: the third message pushes the first out, which emits
	// its head with the recipients it has.
	var lines []string
	for _, q := range []string{"AAAAAA01", "AAAAAA02", "AAAAAA03"} {
		lines = append(lines, msg(q, "10:00:00")...)
	}
	got := joinLines(t, e, JoinerConfig{MaxPending: 2}, lines...)
	eq(t, got,
		"MAILBOX_EMAIL_DELIVERED alice@example.test @acme",
		"MAILBOX_EMAIL_DELIVERED alice@example.test @acme",
		"ORGANIZATION_EMAIL_RECEIVED alice@example.test @acme", // AAAAAA01 evicted by AAAAAA03
		"MAILBOX_EMAIL_DELIVERED alice@example.test @acme",
		"flush:ORGANIZATION_EMAIL_RECEIVED alice@example.test @acme",
		"flush:ORGANIZATION_EMAIL_RECEIVED alice@example.test @acme",
	)
	// TTL: a line three hours later expires the first message.
	got = joinLines(t, e, JoinerConfig{PendingTTL: time.Hour},
		append(msg("BBBBBB01", "10:00:00"), msg("BBBBBB02", "13:00:00")...)...)
	eq(t, got,
		"MAILBOX_EMAIL_DELIVERED alice@example.test @acme",
		"ORGANIZATION_EMAIL_RECEIVED alice@example.test @acme",
		"MAILBOX_EMAIL_DELIVERED alice@example.test @acme",
		"flush:ORGANIZATION_EMAIL_RECEIVED alice@example.test @acme",
	)
}

func TestJoinNoAuthRecordsAndRejected(t *testing.T) {
	e := newEnv(t)
	got := joinLines(t, e, JoinerConfig{NoAuthRecords: true},
		"Nov 22 10:00:00 mx postfix/submission/smtpd[1]: warning: h[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice@example.test",
		"Nov 22 10:00:00 mx postfix/smtpd[1]: ABCDEF0002: client=h[192.0.2.1]",
		"Nov 22 10:00:00 mx postfix/cleanup[2]: ABCDEF0002: milter-reject: END-OF-MESSAGE from h[192.0.2.1]: 5.7.1 spam; from=<s@r> to=<alice@example.test>",
		"Nov 22 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[192.0.2.1]: 450 4.7.1 <alice@example.test>: try later; from=<s@r> to=<alice@example.test> proto=ESMTP helo=<h>",
	)
	eq(t, got)
}

// A reject in a session that authenticated is a refused submission (our
// policy's deny, a relay refusal): no INCOMING_EMAIL_BOUNCED. The disconnect
// line tells (auth=1); without one, the reject counts as inbound.
func TestJoinRejectsNeedTheSession(t *testing.T) {
	e := newEnv(t)
	got := joinLines(t, e, JoinerConfig{NoAuthRecords: true},
		"Nov 22 10:00:00 mx postfix/submission/smtpd[7]: connect from h[192.0.2.1]",
		"Nov 22 10:00:01 mx postfix/submission/smtpd[7]: NOQUEUE: reject: RCPT from h[192.0.2.1]: 550 5.7.1 <alice@example.test>: Recipient address rejected: Sending denied; from=<bob@example.test> to=<alice@example.test> proto=ESMTP helo=<h>",
		"Nov 22 10:00:01 mx postfix/smtpd[8]: NOQUEUE: reject: RCPT from x[198.51.100.1]: 550 5.1.1 <nosuch@example.test>: Recipient address rejected: User unknown; from=<s@r> to=<nosuch@example.test> proto=ESMTP helo=<x>",
		"Nov 22 10:00:02 mx postfix/submission/smtpd[7]: disconnect from h[192.0.2.1] ehlo=1 auth=1 mail=1 rcpt=0/1 quit=1 commands=4/5",
		"Nov 22 10:00:03 mx postfix/smtpd[8]: disconnect from x[198.51.100.1] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
		"Nov 22 10:00:04 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from y[198.51.100.2]: 550 5.1.1 <ghost@example.test>: Recipient address rejected: User unknown; from=<s@r> to=<ghost@example.test> proto=ESMTP helo=<y>",
	)
	eq(t, got,
		"INCOMING_EMAIL_BOUNCED nosuch@example.test 5.1.1 @acme",
		"flush:INCOMING_EMAIL_BOUNCED ghost@example.test 5.1.1 @acme",
	)
}
