package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	for _, c := range []struct {
		in             string
		short, unicode string
	}{
		{"plain", `"plain"`, `"plain"`},
		{"q\"b\\", `"q\"b\\"`, `"q\"b\\"`},
		{"\n\r\t", `"\n\r\t"`, `"\n\r\t"`},
		{"\b\f", `"\b\f"`, `"\u0008\u000c"`},
		{"\x00\x1f", `"\u0000\u001f"`, `"\u0000\u001f"`},
		{"<a&b>", `"<a&b>"`, `"<a&b>"`},
		{"bad\xff", `"bad\ufffd"`, `"bad\ufffd"`},
		{"\u2028\u2029é", `"\u2028\u2029é"`, `"\u2028\u2029é"`},
	} {
		if got := string(Append(nil, c.in, true)); got != c.short {
			t.Errorf("Append(%q, shortBF) = %s, want %s", c.in, got, c.short)
		}
		if got := string(Append(nil, c.in, false)); got != c.unicode {
			t.Errorf("Append(%q) = %s, want %s", c.in, got, c.unicode)
		}
	}
}

// FuzzAppend checks that the output is valid JSON for the same string (up
// to invalid UTF-8, which becomes U+FFFD as in encoding/json) and, with
// shortBF, byte-identical to encoding/json without HTML escaping.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a", "\b\f\n", "<>&", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		short := Append(nil, s, true)
		if string(short)+"\n" != want.String() {
			t.Fatalf("%q: %s, encoding/json %s", s, short, want.String())
		}
		var back1, back2 string
		if err := json.Unmarshal(Append(nil, s, false), &back1); err != nil {
			t.Fatalf("%q: invalid JSON: %v", s, err)
		}
		if err := json.Unmarshal(short, &back2); err != nil || back1 != back2 {
			t.Fatalf("%q: the two forms decode differently: %q vs %q (%v)", s, back1, back2, err)
		}
	})
}
