package query

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
)

func fuzzSeeds(f *testing.F) {
	for _, q := range corpus(f) {
		f.Add(q)
	}
	for _, q := range []string{"", "|", "`", "\"", "/", "fields a /", "filter x like /a\\/b/", "fields 1e", "stats count(*) by bin(", "fields `a``b`", "#", "filter a = -", "SOURCE \"x\" START=-1", "fields 5mo", "parse x /(?<a>.)(?<b>.)?/"} {
		f.Add(q)
	}
}

// FuzzLex checks that the lexer never panics and that token offsets stay
// inside the query and increase.
func FuzzLex(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, q string) {
		toks, err := lex(q)
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok || pe.StartOffset < 0 || pe.StartOffset > len(q) || pe.EndOffset < pe.StartOffset || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("bad error %#v for %q", err, q)
			}
			return
		}
		last := 0
		for _, tk := range toks {
			if tk.Pos < last || tk.End < tk.Pos || tk.End > len(q) {
				t.Fatalf("token %+v out of order or range in %q", tk, q)
			}
			last = tk.End
		}
		if toks[len(toks)-1].Kind != tEOF {
			t.Fatalf("no EOF token for %q", q)
		}
	})
}

// FuzzParse checks that parsing never panics, errors are positioned, and
// whatever parses also runs on a small data set without panicking.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	src := memsource.New()
	for _, line := range []string{
		`{"event_timestamp":1714564800000,"a":1,"b":"x","c":{"d":[1,"2",true]},"user_id":"u1","source_ip":"10.0.0.1"}`,
		`{"event_timestamp":1714564860000,"a":"2","b":"y z","f":1.5,"user_id":"u2"}`,
	} {
		if _, err := src.LoadJSON(strings.NewReader(line), "fuzz", "", "/g", "s"); err != nil {
			f.Fatal(err)
		}
	}
	src.Add("", "/g", memsource.Event{Timestamp: 1714564920000, Message: "plain [INFO] text user=bob, method:GET, latency := 5"})
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := Parse(q)
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("error is %T, not *ParseError: %v", err, err)
			}
			if pe.StartOffset < 0 || pe.StartOffset > len(q) || pe.Line < 1 || pe.Col < 1 || pe.Msg == "" {
				t.Fatalf("bad position in %#v for %q", pe, q)
			}
			return
		}
		res, err := Run(context.Background(), src, parsed, Options{Groups: []string{"/g"}, Workers: 2, MemoryLimit: 64 << 20})
		if err != nil {
			return
		}
		for _, r := range res.Rows {
			if !parsed.IsStats() && (len(r) == 0 || r[len(r)-1].Name != "@ptr") {
				t.Fatalf("row without trailing @ptr for %q: %v", q, r)
			}
		}
	})
}
