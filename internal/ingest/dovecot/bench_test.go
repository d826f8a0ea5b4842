package dovecot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkParseLine measures the log parser over the captured log (every
// kind of line, ~28% of them producing activities); lines/s is reported.
func BenchmarkParseLine(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(captures, "dovecot.log"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	p := NewParser(ParserOptions{Location: time.UTC, Year: 2026})
	var acts []Activity
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		acts, _ = p.ParseLine(acts[:0], lines[i%len(lines)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParsePolicyRequest measures decoding one policy body.
func BenchmarkParsePolicyRequest(b *testing.B) {
	body := []byte(`{"device_id":"","local":"127.0.0.1","login":"alice@example.test","protocol":"imap","pwhash":"0a7b","remote":"127.0.0.1","session_id":"ujRzm+Fgksh/AAAB","tls":false}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParsePolicyRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
