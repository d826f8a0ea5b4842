package postfixlog

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func seedLines(f *testing.F) {
	data, err := os.ReadFile("testdata/captures/maillog")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.Add([]byte(l))
	}
}

// FuzzParseLine: header and message parsing never panic, and a parsed
// entry joined into a joiner (no directory: no records) never panics.
func FuzzParseLine(f *testing.F) {
	seedLines(f)
	f.Add([]byte("Nov 22 18:26:32 mail postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 550 5.1.1 <a@b>: x; from=<> to=<a@b>"))
	f.Add([]byte("2026-11-22T18:26:32Z h postfix/qmgr[1]: ABCDEF1: from=<x>, status=expired, returned to sender"))
	c := Clock{Location: time.UTC, Now: func() time.Time { return refNow }}
	j := NewJoiner(JoinerConfig{Logger: slog.New(slog.DiscardHandler), MaxPending: 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := c.ParseLine(b)
		if err != nil {
			return
		}
		e, err := Parse(l)
		if err != nil {
			return
		}
		j.Add(&e, 0)
		// MaxPending bounds messages and smtpd sessions separately.
		if j.Pending() > 2*4 {
			t.Fatalf("%d pending, bound is 2×4", j.Pending())
		}
	})
}

// FuzzParseSyslog: RFC 3164/5424 parsing never panics.
func FuzzParseSyslog(f *testing.F) {
	seedLines(f)
	f.Add([]byte("<22>1 2026-11-22T18:26:32.5Z mail postfix/qmgr 77 - [a b=\"\\]\"] D0AC09881D6: removed"))
	f.Add([]byte("<22>1 - - - - - -"))
	f.Add([]byte("<0>Nov  2 18:26:32 postfix/smtpd[1]: hello"))
	c := Clock{Now: func() time.Time { return refNow }}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := c.ParseSyslog(b); err != nil {
			return
		}
	})
}

// FuzzSyslogFraming: TCP framing never panics, never yields a frame over
// the limit, and always ends.
func FuzzSyslogFraming(f *testing.F) {
	f.Add([]byte("5 <1>ab<22>x\n12 <22>1 - - - -\n"))
	f.Add([]byte("99999999999 x"))
	f.Add([]byte("<22>" + strings.Repeat("y", 300) + "\nok\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(b), 16)
		frames := 0
		splitFrames(br, 128, func() {}, func(m []byte) {
			frames++
			if len(m) > 130 {
				t.Fatalf("frame of %d bytes over the limit", len(m))
			}
		}, func(error) {})
		if frames > len(b) {
			t.Fatalf("%d frames from %d bytes", frames, len(b))
		}
	})
}
