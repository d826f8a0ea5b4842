package postfixlog

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// to5424 rewrites a capture line "Nov 22 18:26:32 mail postfix/smtpd[21805]: msg"
// as an RFC 5424 message.
func to5424(t testing.TB, line string) string {
	t.Helper()
	c := Clock{Location: time.UTC, Now: func() time.Time { return refNow }}
	l, err := c.ParseLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("<22>1 %s %s %s %d - [meta sequenceId=\"1\" x=\"a\\]b\"] %s",
		l.Time.UTC().Format(time.RFC3339Nano), l.Host, l.Program, l.PID, l.Message)
}

func (e *env) syslogServer(t testing.TB) *SyslogServer {
	t.Helper()
	p := e.processor(t)
	s := NewSyslogServer(p, SyslogConfig{CommitInterval: 5 * time.Millisecond, Logger: e.cfg.Logger})
	t.Cleanup(func() { s.Close() })
	return s
}

// The capture over UDP: half as RFC 3164 datagrams, half as RFC 5424.
func TestSyslogUDP(t *testing.T) {
	e := newEnv(t)
	s := e.syslogServer(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeUDP(pc)
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, l := range maillogLines(t) {
		l = strings.TrimSuffix(l, "\n")
		msg := "<22>" + l
		if i%2 == 1 {
			msg = to5424(t, l)
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		// Loopback UDP drops when the socket buffer fills: pace the sender
		// the way a syslog daemon's steady trickle would be.
		time.Sleep(time.Millisecond)
	}
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
}

// The capture over TCP on one connection mixing octet-counted frames
// (RFC 6587) and newline-terminated ones, then garbage that closes the
// connection, then a second connection.
func TestSyslogTCP(t *testing.T) {
	e := newEnv(t)
	s := e.syslogServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeTCP(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	lines := maillogLines(t)
	var b strings.Builder
	for i, l := range lines[:40] {
		l = strings.TrimSuffix(l, "\n")
		switch i % 3 {
		case 0:
			m := to5424(t, l)
			fmt.Fprintf(&b, "%d %s", len(m), m)
		case 1:
			m := "<22>" + l
			fmt.Fprintf(&b, "%d %s", len(m), m)
		default:
			b.WriteString("<22>" + l + "\r\n")
		}
	}
	b.WriteString("\n") // empty frame: ignored
	b.WriteString("<22>not a syslog line at all\n")
	b.WriteString("99999999 x") // over the limit: the server closes
	c.Write([]byte(b.String()))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection not closed after a bad octet count")
	}
	c.Close()
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[40:] {
		c2.Write([]byte("<22>" + l))
	}
	c2.Close()
	sameRecords(t, e.waitRecords(t, len(wantAll(t))), wantAll(t))
	if s.Bad() < 2 {
		t.Errorf("Bad() = %d, want >= 2", s.Bad())
	}
}

func TestParseSyslog(t *testing.T) {
	c := Clock{Now: func() time.Time { return refNow }}
	tests := []struct {
		in, host, prog, msg string
		pid                 int
		err                 bool
	}{
		{in: "<22>Nov 22 18:26:32 mail postfix/smtpd[21805]: connect from x", host: "mail", prog: "postfix/smtpd", pid: 21805, msg: "connect from x"},
		{in: "<22>Nov  2 18:26:32 postfix/smtpd[1]: hello", prog: "postfix/smtpd", pid: 1, msg: "hello"},
		// rsyslog's RSYSLOG_ForwardFormat
		{in: "<22>2026-11-22T18:26:32.123456+00:00 mail postfix/submission/smtpd[21861]: x: y", host: "mail", prog: "postfix/submission/smtpd", pid: 21861, msg: "x: y"},
		{in: "<22>1 2026-11-22T18:26:32.5Z mail postfix/qmgr 77 - - D0AC09881D6: removed", host: "mail", prog: "postfix/qmgr", pid: 77, msg: "D0AC09881D6: removed"},
		{in: "<22>1 - - postfix/qmgr - - [a b=\"]\"][c] \xef\xbb\xbfD0AC09881D6: removed", prog: "postfix/qmgr", msg: "D0AC09881D6: removed"},
		{in: "<22>1 2026-11-22T18:26:32Z mail postfix/qmgr 77 - [unclosed", err: true},
		{in: "<999>Nov 22 18:26:32 mail x: y", err: true},
		{in: "<22", err: true},
		{in: "Nov 22 18:26:32 mail postfix/smtpd[5]: no PRI", host: "mail", prog: "postfix/smtpd", pid: 5, msg: "no PRI"},
	}
	for _, tt := range tests {
		l, err := c.ParseSyslog([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && (l.Host != tt.host || l.Program != tt.prog || l.PID != tt.pid || l.Message != tt.msg) {
			t.Errorf("%q: got %+v", tt.in, l)
		}
	}
}
