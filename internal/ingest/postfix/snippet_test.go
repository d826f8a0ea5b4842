package postfixlog

import (
	"strings"
	"testing"
)

func TestConfigSnippet(t *testing.T) {
	s, err := ConfigSnippet(SnippetOptions{LogFile: "/var/log/postfix.log", SyslogTCP: "127.0.0.1:10514"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"maillog_file = /var/log/postfix.log", `target="127.0.0.1" port="10514" protocol="tcp" TCP_Framing="octet-counted"`} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet lacks %q:\n%s", want, s)
		}
	}
	if _, err := ConfigSnippet(SnippetOptions{}); err == nil {
		t.Error("empty options accepted")
	}
	if _, err := ConfigSnippet(SnippetOptions{SyslogUDP: "x"}); err == nil {
		t.Error("bad address accepted")
	}
}

func TestReadLines(t *testing.T) {
	e := newEnv(t)
	p := e.processor(t)
	f := strings.NewReader(string(postfixLines(t, "testdata/captures/maillog")))
	if err := ReadLines(t.Context(), f, p, ReadOptions{CommitLines: 7, FlushAtEOF: true}); err != nil {
		t.Fatal(err)
	}
	sameRecords(t, e.waitRecords(t, 0), wantAll(t))
	st := p.Stats()
	if st.Lines != 57 || st.Skipped != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}
