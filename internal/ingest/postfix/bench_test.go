package postfixlog

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

func BenchmarkParseLine(b *testing.B) {
	lines := maillogLines(b)
	bs := make([][]byte, len(lines))
	var n int64
	for i, l := range lines {
		bs[i] = []byte(l)
		n += int64(len(l))
	}
	c := Clock{Location: time.UTC, Now: func() time.Time { return refNow }}
	b.SetBytes(n / int64(len(lines)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l, err := c.ParseLine(bs[i%len(bs)])
		if err == nil {
			Parse(l)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

var qidRe = regexp.MustCompile(`\b[0-9A-F]{11}\b|<[^>]*@vm>|<inbound-1@remote.test>`)

// syntheticLog returns copies of the capture with queue ids and
// Message-IDs made unique per copy, so nothing is deduplicated.
func syntheticLog(b testing.TB, copies int) [][]byte {
	lines := maillogLines(b)
	out := make([][]byte, 0, copies*len(lines))
	for c := 0; c < copies; c++ {
		for _, l := range lines {
			l = qidRe.ReplaceAllStringFunc(l, func(s string) string {
				if strings.HasPrefix(s, "<") {
					return fmt.Sprintf("<%d.%s", c, s[1:])
				}
				return fmt.Sprintf("%s%05X", s[:6], c)
			})
			out = append(out, []byte(l))
		}
	}
	return out
}

// The whole pipeline: parse, join, build records, store them durably
// (commit every 2000 lines) in a real store.
func BenchmarkProcessor(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logger = slog.New(slog.DiscardHandler)
	p := e.processor(b)
	lines := syntheticLog(b, b.N/57+1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Line(lines[i], int64(i))
		if (i+1)%2000 == 0 {
			if err := p.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := p.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	st := p.Stats()
	b.ReportMetric(float64(st.Records)/float64(b.N), "records/line")
}
