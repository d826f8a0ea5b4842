package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestObject(t *testing.T) {
	tests := []struct {
		name, in  string
		wantErr   string // substring; "" means valid
		ts, et, c string
		loose     bool
	}{
		{name: "workmail", in: `{"event_timestamp":1718000002000,"user":"a"}`, ts: `1718000002000`},
		{name: "cloudtrail", in: `{"eventVersion":"1.08","eventTime":"2014-03-06T21:22:54Z","x":[1,2,{"eventTime":"no"}]}`, et: `"2014-03-06T21:22:54Z"`},
		{name: "nested ts ignored", in: `{"a":{"event_timestamp":1}}`},
		{name: "first wins", in: `{"event_timestamp":1,"event_timestamp":2}`, ts: `1`},
		{name: "escaped key", in: `{"event\u005ftimestamp":"12"}`, ts: `"12"`},
		{name: "loose", in: ` { "a" : 1 } `, loose: true},
		{name: "strings with spaces are tight", in: `{"a":"b c"}`},
		{name: "unicode", in: `{"s":"héllo \ud83d\ude00 ✓"}`},
		{name: "all literals", in: `{"a":true,"b":false,"c":null,"d":-0.5e+10,"e":[],"f":{}}`},
		{name: "truncated", in: `{"event_timestamp":1718000002000,"user":"a`, wantErr: "unterminated string"},
		{name: "truncated object", in: `{"a":1,`, wantErr: "unterminated object"},
		{name: "array", in: `[1,2]`, wantErr: ErrNotObject.Error()},
		{name: "string", in: `"x"`, wantErr: ErrNotObject.Error()},
		{name: "empty", in: ``, wantErr: "empty record"},
		{name: "trailing", in: `{"a":1} x`, wantErr: "after the JSON object"},
		{name: "two objects", in: `{"a":1}{"b":2}`, wantErr: "after the JSON object"},
		{name: "bad utf8", in: "{\"a\":\"\xff\"}", wantErr: "invalid UTF-8"},
		{name: "control char", in: "{\"a\":\"\x01\"}", wantErr: "control character"},
		{name: "bad escape", in: `{"a":"\x"}`, wantErr: "invalid escape"},
		{name: "bad number", in: `{"a":01}`, wantErr: "expected ','"},
		{name: "bad literal", in: `{"a":tru}`, wantErr: "invalid literal"},
		{name: "single quotes", in: `{'a':1}`, wantErr: "expected a string key"},
		{name: "too deep", in: `{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, wantErr: "nesting deeper"},
	}
	s := NewScanner("")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Fields
			err := s.Object([]byte(tt.in), &f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Object(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Object(%q): %v", tt.in, err)
			}
			if string(f.EventTimestamp) != tt.ts || string(f.EventTime) != tt.et || string(f.Custom) != tt.c || f.Loose != tt.loose {
				t.Errorf("Object(%q) = ts %q et %q custom %q loose %v, want %q %q %q %v",
					tt.in, f.EventTimestamp, f.EventTime, f.Custom, f.Loose, tt.ts, tt.et, tt.c, tt.loose)
			}
		})
	}
}

func TestCustomPath(t *testing.T) {
	tests := []struct{ field, in, want string }{
		{"ts", `{"ts":"2024-01-01T00:00:00Z"}`, `"2024-01-01T00:00:00Z"`},
		{"event.messageTimestamp", `{"traceId":"t","event":{"eventName":"X","messageTimestamp":1}}`, `1`},
		{"event.messageTimestamp", `{"messageTimestamp":2,"event":[{"messageTimestamp":3}]}`, ``},
		{"a.b.c", `{"a":{"b":{"c":{"d":1}}}}`, `{"d":1}`},
		{"a.b", `{"x":{"a":{"b":1}}}`, ``},
	}
	for _, tt := range tests {
		var f Fields
		if err := NewScanner(tt.field).Object([]byte(tt.in), &f); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if string(f.Custom) != tt.want {
			t.Errorf("field %q in %s = %q, want %q", tt.field, tt.in, f.Custom, tt.want)
		}
	}
}

func TestValueAndCompact(t *testing.T) {
	doc := []byte("[ {\"a\" : 1,\n \"s\": \"x y\\\" z\"} , 2 ]")
	var f Fields
	s := NewScanner("")
	end, err := s.Value(doc, 1, &f)
	if err != nil {
		t.Fatal(err)
	}
	got := string(AppendCompact(nil, doc[SkipSpace(doc, 1):end]))
	if want := `{"a":1,"s":"x y\" z"}`; got != want {
		t.Errorf("compact = %s, want %s", got, want)
	}
	if !f.Loose {
		t.Error("Loose = false for a pretty record")
	}
	if end, err := Skip(doc, 0); err != nil || end != len(doc) {
		t.Errorf("Skip = %d, %v; want %d", end, err, len(doc))
	}
}

func TestTimes(t *testing.T) {
	for _, in := range []string{
		"2014-03-06T21:22:54Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999Z",
		"2024-06-10T08:00:00.5+02:00", "1969-12-31T23:59:59.1-05:30", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := RFC3339Millis([]byte(`"` + in + `"`))
		if !ok || got != want.UnixMilli() {
			t.Errorf("RFC3339Millis(%s) = %d, %v; want %d", in, got, ok, want.UnixMilli())
		}
	}
	for _, in := range []string{"2014-02-30T00:00:00Z", "2014-03-06 21:22:54", "2014-03-06T24:00:00Z", "x", "2014-03-06T21:22:54", "2014-03-06T21:22:54.Z"} {
		if _, ok := ParseRFC3339([]byte(in)); ok {
			t.Errorf("ParseRFC3339(%q) accepted", in)
		}
	}
	ms := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1718000002000", 1718000002000, true}, {`"1718000002000"`, 1718000002000, true},
		{"1718000002000.9", 1718000002000, true}, {"1.718e12", 1718000000000, true}, {"-5", -5, true},
		{`"abc"`, 0, false}, {"99999999999999999999", 0, false}, {`""`, 0, false}, {"true", 0, false},
	}
	for _, tt := range ms {
		got, ok := Millis([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("Millis(%s) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzObject checks the scanner against encoding/json: whatever it accepts
// must be valid JSON, and every valid UTF-8 JSON object within the depth
// bound must be accepted; compacting must keep the value.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"event_timestamp":1718000002000}`, `{"a":[1,{"b":"\u00e9"}]}`, ` {"eventTime" : "2014-03-06T21:22:54Z"} `, `[1]`, `{"a":"`} {
		f.Add([]byte(s), "a.b")
	}
	f.Fuzz(func(t *testing.T, in []byte, field string) {
		var fl Fields
		err := NewScanner(field).Object(in, &fl)
		valid := json.Valid(in)
		if err == nil {
			if !valid {
				t.Fatalf("accepted invalid JSON %q", in)
			}
			c := AppendCompact(nil, in)
			if !json.Valid(c) || bytes.ContainsAny(c, " \t\r\n") && !bytes.Contains(in, []byte(`"`)) {
				t.Fatalf("compact of %q is %q", in, c)
			}
			return
		}
		if valid && utf8.Valid(in) && !strings.Contains(err.Error(), "nesting") && !errors.Is(err, ErrNotObject) {
			t.Fatalf("rejected valid JSON %q: %v", in, err)
		}
	})
}

func FuzzTime(f *testing.F) {
	f.Add("2014-03-06T21:22:54Z")
	f.Add("2024-06-10T08:00:00.5+02:00")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseRFC3339([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok && err == nil && got != want.UnixMilli() && want.Year() > 0 {
			t.Fatalf("ParseRFC3339(%q) = %d, time.Parse says %d", s, got, want.UnixMilli())
		}
		Millis([]byte(s))
	})
}

// TestStringEveryOffset puts each kind of special byte at every position
// of the eight-byte fast path.
func TestStringEveryOffset(t *testing.T) {
	specials := []struct {
		s     string
		valid bool
	}{{`\"`, true}, {`\\`, true}, {`\u00e9`, true}, {"é", true}, {"\x01", false}, {"\xff", false}, {"\x1f", false}, {"\x7f", true}, {"\xc3", false}}
	s := NewScanner("")
	for _, sp := range specials {
		for pad := 0; pad < 20; pad++ {
			for tail := 0; tail < 10; tail++ {
				in := `{"k":"` + strings.Repeat("a", pad) + sp.s + strings.Repeat("b", tail) + `"}`
				var f Fields
				err := s.Object([]byte(in), &f)
				if (err == nil) != sp.valid {
					t.Errorf("Object(%q) = %v, want valid %v", in, err, sp.valid)
				}
			}
		}
	}
}
