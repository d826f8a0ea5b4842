package filterpattern

import (
	"errors"
	"testing"
)

var fuzzPatterns = []string{
	``, `ERROR`, `?ERROR ?WARN -INFO`, `"a \"b\" c" - "x"`, `%ERROR\d{3}%`,
	`{ $.eventType = "UpdateTrail" }`, `{ $.a[0][1] != 1.5e3 && ($.b IS NULL || $.c NOT EXISTS) }`,
	`{ $.x = "*a*b*" || $.y = %^\d+$% }`, `{ $.flag IS TRUE }`, `{ $.@t = * }`,
	`[ip, user, ..., status_code = 4* && status_code != 403, bytes > 1000]`,
	`[..., request=*.html*, status_code=4*,]`, `[w1=ERROR || w1=WARN, w2]`,
}

var fuzzMessages = []string{
	``, `ERROR 404 message`, `{"eventType":"UpdateTrail","a":[[0,1500]],"b":null,"flag":true,"x":"zaybz"}`,
	`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`,
	`{"a":{}, "c":[], "@t": 1, "s":"\u00e9\"\\"}`, `"unterminated [bracket`, `{"a":`,
}

func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile(pattern)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Compile(%q): error %T %v is not *Error", pattern, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(pattern) || pe.Char() > len(pattern) {
				t.Fatalf("Compile(%q): offset %d out of range", pattern, pe.Offset)
			}
			_ = pe.Error()
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q", p.String())
		}
		for _, m := range fuzzMessages {
			p.Match([]byte(m))
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, p := range fuzzPatterns {
		for _, m := range fuzzMessages {
			f.Add(p, m)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, message string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		m := []byte(message)
		got := p.Match(m)
		// The JSON prefilter must never change an answer.
		if p.kind == JSON {
			st := p.get()
			st.paths, st.exists = p.json.paths, p.json.exists
			full := st.resolve(m) && p.json.root.eval(st)
			p.put(st)
			if full != got {
				t.Fatalf("pattern %q message %q: Match %v, without prefilter %v", pattern, message, got, full)
			}
		}
		var sels []Selector
		for _, s := range []string{"1", "$.a", "$.a[0]", "$1", "$3", "$ip", "$bytes"} {
			if sel, err := p.Selector(s); err == nil {
				sels = append(sels, sel)
			}
		}
		ok, vals := p.Extract(m, sels, nil)
		if ok != got {
			t.Fatalf("pattern %q message %q: Extract %v, Match %v", pattern, message, ok, got)
		}
		if ok && len(vals) != len(sels) {
			t.Fatalf("Extract returned %d values for %d selectors", len(vals), len(sels))
		}
		if _, ok := p.ExtractedValues(m); ok != got {
			t.Fatalf("pattern %q message %q: ExtractedValues %v, Match %v", pattern, message, ok, got)
		}
	})
}
