package filterpattern

import (
	"testing"
)

// A WorkMail mailbox-access audit record and a CloudTrail record, as they
// are stored one per log event.
func benchMatch(b *testing.B, pattern, file string, want bool) {
	p := MustCompile(pattern)
	m := msg(b, file)
	if got := p.Match(m); got != want {
		b.Fatalf("Match = %v, want %v", got, want)
	}
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for b.Loop() {
		p.Match(m)
	}
}

func BenchmarkMatch(b *testing.B) {
	const (
		wm = "@workmail-mailbox-read.json"
		ct = "@cloudtrail-updatetrail-error.json"
	)
	b.Run("json/eq-hit", func(b *testing.B) { benchMatch(b, `{ $.protocol = "IMAP" }`, wm, true) })
	b.Run("json/eq-prefiltered-miss", func(b *testing.B) { benchMatch(b, `{ $.protocol = "EWS" }`, wm, false) })
	b.Run("json/compound-wildcard", func(b *testing.B) {
		benchMatch(b, `{ ($.action = "read" || $.action = "move") && $.source_ip = "198.51.*" && $.action_allowed IS TRUE }`, wm, true)
	})
	b.Run("json/cloudtrail-cis", func(b *testing.B) {
		benchMatch(b, `{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "*NotFound*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`, ct, true)
	})
	b.Run("json/not-exists", func(b *testing.B) { benchMatch(b, `{ $.userIdentity.invokedBy NOT EXISTS }`, ct, true) })
	b.Run("terms/hit", func(b *testing.B) { benchMatch(b, `IMAP Thunderbird -denied`, wm, true) })
	b.Run("terms/miss", func(b *testing.B) { benchMatch(b, `?AccessDenied ?Unauthorized`, wm, false) })
	b.Run("delimited", func(b *testing.B) {
		p := MustCompile(`[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes > 1000]`)
		m := []byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`)
		if !p.Match(m) {
			b.Fatal("no match")
		}
		b.SetBytes(int64(len(m)))
		b.ReportAllocs()
		for b.Loop() {
			p.Match(m)
		}
	})
}

func BenchmarkExtract(b *testing.B) {
	p := MustCompile(`{ $.errorCode = * }`)
	var sels []Selector
	for _, s := range []string{"1", "$.eventName", "$.userIdentity.userName"} {
		sel, err := p.Selector(s)
		if err != nil {
			b.Fatal(err)
		}
		sels = append(sels, sel)
	}
	m := msg(b, "@cloudtrail-updatetrail-error.json")
	var out []Extracted
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for b.Loop() {
		_, out = p.Extract(m, sels, out)
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MustCompile(`{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`)
	}
}
