package postfixlog

import (
	"testing"
	"time"
)

func TestParseLineHeader(t *testing.T) {
	c := Clock{Location: time.UTC, Now: func() time.Time { return time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC) }}
	tests := []struct {
		in   string
		when time.Time
		host string
		prog string
		pid  int
		msg  string
		err  bool
	}{
		{in: "Nov 22 18:26:32 mail postfix/smtpd[21805]: connect from localhost[127.0.0.1]",
			when: time.Date(2026, 11, 22, 18, 26, 32, 0, time.UTC), host: "mail", prog: "postfix/smtpd", pid: 21805, msg: "connect from localhost[127.0.0.1]"},
		// January reference: a December line is last year's, a January line this year's.
		{in: "Dec 31 23:59:59 mx postfix/qmgr[1]: x", when: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), host: "mx", prog: "postfix/qmgr", pid: 1, msg: "x"},
		{in: "Jan  3 00:00:00 mx postfix/qmgr[1]: x\r\n", when: time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC), host: "mx", prog: "postfix/qmgr", pid: 1, msg: "x"},
		{in: "2026-11-22T18:26:32.123456+01:00 mail postfix/submission/smtpd[7]: hi",
			when: time.Date(2026, 11, 22, 17, 26, 32, 123456000, time.UTC), host: "mail", prog: "postfix/submission/smtpd", pid: 7, msg: "hi"},
		{in: "Nov 22 18:26:32 mail postfix/postfix-script: starting", when: time.Date(2026, 11, 22, 18, 26, 32, 0, time.UTC), host: "mail", prog: "postfix/postfix-script", msg: "starting"},
		{in: "Foo 22 18:26:32 mail x[1]: y", err: true},
		{in: "Nov 22 25:26:32 mail x[1]: y", err: true},
		{in: "Nov 22 18:26:32 mail x[abc]: y", err: true},
		{in: "Nov 22 18:26:32 mail", err: true},
		{in: "### postfix maillog", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		l, err := c.ParseLine([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if !l.Time.Equal(tt.when) || l.Host != tt.host || l.Program != tt.prog || l.PID != tt.pid || l.Message != tt.msg {
			t.Errorf("%q:\n got %+v\nwant time %v host %q prog %q pid %d msg %q", tt.in, l, tt.when, tt.host, tt.prog, tt.pid, tt.msg)
		}
	}
}

func TestParseMessages(t *testing.T) {
	tests := []struct {
		prog, msg string
		want      Entry
		err       bool
	}{
		{prog: "postfix/smtpd", msg: "D0AC09881D6: client=localhost[127.0.0.1]",
			want: Entry{Kind: KindClient, QueueID: "D0AC09881D6", ClientHost: "localhost", ClientIP: "127.0.0.1"}},
		{prog: "postfix/submission/smtpd", msg: "4Xfq2T1Q5Kz9vS1: client=h[IPv6:2001:db8::1], sasl_method=LOGIN, sasl_username=bob@example.test",
			want: Entry{Kind: KindClient, QueueID: "4Xfq2T1Q5Kz9vS1", ClientHost: "h", ClientIP: "2001:db8::1", SASLMethod: "LOGIN", SASLUser: "bob@example.test"}},
		{prog: "postfix/cleanup", msg: "D0AC09881D6: message-id=<inbound-1@remote.test>",
			want: Entry{Kind: KindMessageID, QueueID: "D0AC09881D6", MessageID: "<inbound-1@remote.test>"}},
		{prog: "postfix/cleanup", msg: "D0AC09881D6: milter-reject: END-OF-MESSAGE from h[1.2.3.4]: 5.7.1 spam; from=<a@b> to=<c@d>",
			want: Entry{Kind: KindRejected, QueueID: "D0AC09881D6", Reason: "milter-reject: END-OF-MESSAGE from h[1.2.3.4]: 5.7.1 spam; from=<a@b> to=<c@d>"}},
		{prog: "postfix/qmgr", msg: "AA2049884CC: from=<>, size=2499, nrcpt=1 (queue active)",
			want: Entry{Kind: KindQueued, QueueID: "AA2049884CC", Size: 2499, NRcpt: 1}},
		{prog: "postfix/qmgr", msg: "B851D9884D3: from=<alice@example.test>, status=expired, returned to sender",
			want: Entry{Kind: KindExpired, QueueID: "B851D9884D3", From: "alice@example.test", Status: "expired"}},
		{prog: "postfix/qmgr", msg: "D0AC09881D6: removed", want: Entry{Kind: KindRemoved, QueueID: "D0AC09881D6"}},
		{prog: "postfix/pickup", msg: "ABCDEF123: uid=1000 from=<joe>", want: Entry{Kind: KindPickup, QueueID: "ABCDEF123", From: "joe"}},
		{prog: "postfix/lmtp", msg: "D0AC09881D6: to=<alice@example.test>, orig_to=<a@example.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.21, delays=0.06/0.02/0.12/0.01, dsn=2.0.0, status=sent (250 2.0.0 <alice@example.test> zNu5 Saved)",
			want: Entry{Kind: KindDelivery, QueueID: "D0AC09881D6", To: "alice@example.test", OrigTo: "a@example.test", Relay: "127.0.0.1[127.0.0.1]:10024", DSN: "2.0.0", Status: "sent", Reason: "250 2.0.0 <alice@example.test> zNu5 Saved"}},
		{prog: "postfix/smtp", msg: "B851D9884D3: to=<someone@remote.test>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:10099: Connection refused)",
			want: Entry{Kind: KindDelivery, QueueID: "B851D9884D3", To: "someone@remote.test", Relay: "none", DSN: "4.4.1", Status: "deferred", Reason: "connect to 127.0.0.1[127.0.0.1]:10099: Connection refused"}},
		{prog: "postfix/smtp", msg: "B851D9884D3: to=<x@y>, relay=none", err: true},
		{prog: "postfix/bounce", msg: "9DEBD988151: sender non-delivery notification: AA2049884CC",
			want: Entry{Kind: KindBounceNote, QueueID: "9DEBD988151", NewQueueID: "AA2049884CC", Reason: "sender non-delivery notification"}},
		{prog: "postfix/smtpd", msg: "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuch@example.test>: Recipient address rejected: User unknown in virtual mailbox table; from=<sender@remote.test> to=<nosuch@example.test> proto=ESMTP helo=<client.remote.test>",
			want: Entry{Kind: KindNoQueueReject, ClientHost: "localhost", ClientIP: "127.0.0.1", Code: "550", DSN: "5.1.1", Reason: "Recipient address rejected: User unknown in virtual mailbox table", From: "sender@remote.test", To: "nosuch@example.test"}},
		{prog: "postfix/smtpd", msg: "NOQUEUE: reject: CONNECT from h[1.2.3.4]: 554 5.7.1 go away; proto=SMTP", want: Entry{Kind: KindOther}},
		{prog: "postfix/smtpd", msg: "NOQUEUE: reject: RCPT from h[1.2.3.4]: 554 oops", err: true},
		{prog: "postfix/submission/smtpd", msg: "warning: localhost[127.0.0.1]: SASL LOGIN authentication failed: denied by access control rule deny-smtp-bob, sasl_username=bob@example.test",
			want: Entry{Kind: KindAuthFailed, ClientHost: "localhost", ClientIP: "127.0.0.1", SASLMethod: "LOGIN", SASLUser: "bob@example.test", Reason: "denied by access control rule deny-smtp-bob"}},
		{prog: "postfix/smtpd", msg: "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
			want: Entry{Kind: KindAuthFailed, ClientHost: "unknown", ClientIP: "192.0.2.9", SASLMethod: "LOGIN", Reason: "UGFzc3dvcmQ6"}},
		{prog: "postfix/smtpd", msg: "warning: hostname nope does not resolve", want: Entry{Kind: KindOther}},
		{prog: "postfix/smtpd", msg: "statistics: max connection rate 1/60s", want: Entry{Kind: KindOther}},
		{prog: "postfix/smtpd", msg: "connect from localhost[127.0.0.1]", want: Entry{Kind: KindOther}},
		{prog: "postfix/submission/smtpd", msg: "disconnect from localhost[127.0.0.1] ehlo=1 auth=1 mail=1 rcpt=0/1 quit=1 commands=4/5",
			want: Entry{Kind: KindDisconnect, ClientHost: "localhost", ClientIP: "127.0.0.1", Authenticated: true}},
		{prog: "postfix/submission/smtpd", msg: "disconnect from localhost[127.0.0.1] ehlo=1 auth=0/1 quit=1 commands=2/3",
			want: Entry{Kind: KindDisconnect, ClientHost: "localhost", ClientIP: "127.0.0.1"}},
		{prog: "dovecot", msg: "D0AC09881D6: to=<x>, status=sent", want: Entry{Kind: KindDelivery, QueueID: "D0AC09881D6", To: "x", Status: "sent"}},
	}
	for _, tt := range tests {
		l := Line{Program: tt.prog, Message: tt.msg}
		got, err := Parse(l)
		if (err != nil) != tt.err {
			t.Errorf("%s %q: err %v, want error %v", tt.prog, tt.msg, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		tt.want.Line = l
		if got != tt.want {
			t.Errorf("%s %q:\n got %+v\nwant %+v", tt.prog, tt.msg, got, tt.want)
		}
	}
}

func TestIsQueueID(t *testing.T) {
	for _, s := range []string{"D0AC09881D6", "7C221988143", "4Xfq2T1Q5Kz9vS1", "ABCDEF"} {
		if !isQueueID(s) {
			t.Errorf("%q not a queue id", s)
		}
	}
	for _, s := range []string{"warning", "NOQUEUE", "statistics", "error", "fatal", "panic", "ABC", "connect from", "xyzzyxyzzyq1"} {
		if isQueueID(s) && s != "xyzzyxyzzyq1" {
			t.Errorf("%q taken for a queue id", s)
		}
	}
}
