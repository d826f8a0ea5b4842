package awsjson

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// dump renders an answer as status line, sorted headers and body, the way
// it goes on the wire (net/http writes headers in key order).
func dump(w *httptest.ResponseRecorder) string {
	var b strings.Builder
	b.WriteString(w.Result().Status + "\n")
	var keys []string
	for k := range w.Header() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range w.Header()[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	b.WriteString("\n" + w.Body.String())
	return b.String()
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
	}{
		{"plain", Errorf(400, "ResourceNotFoundException", "The specified log group does not exist.")},
		{"html-and-quotes", Errorf(400, "InvalidParameterException", `Value '<a & "b">' at 'logGroupName' failed`)},
		{"status-413", Errorf(413, "RequestEntityTooLargeException", "body over %d bytes", 8<<20)},
		{"extra-members", &Error{Status: 400, Code: "MalformedQueryException", Message: "unexpected token",
			Extra: map[string]any{"queryCompileError": map[string]any{
				"location": map[string]any{"startCharOffset": 3, "endCharOffset": 7}, "message": "unexpected token"}}}},
		{"extra-cannot-override", &Error{Status: 400, Code: "X", Message: "m",
			Extra: map[string]any{"__type": "Y", "message": "other", "a": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := WriteError(w, tt.err); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, dump(w))
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if body["__type"] != tt.err.Code || body["message"] != tt.err.Message {
				t.Errorf("body %v does not carry code %q and message %q", body, tt.err.Code, tt.err.Message)
			}
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	if err := WriteJSON(w, map[string]any{"nextToken": "a<b>&c", "n": 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := w.Body.String(), `{"n":1,"nextToken":"a<b>&c"}`+"\n"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if ct := w.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRequestID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewRequestID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("request id %q is not a version-4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
	w := httptest.NewRecorder()
	id := SetRequestID(w)
	if got := w.Header().Get("X-Amzn-RequestId"); got != id {
		t.Errorf("header %q, returned %q", got, id)
	}
}

// encodeStd is the reference AppendString must match.
func encodeStd(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " and \ backslash`, "<a href='x'>&amp;</a>",
		"\b\f\n\r\t", "\x00\x01\x1f\x7f", "é€😀", "\u2028\u2029",
		"bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "trailing \xe2\x82",
	}
	for _, s := range tests {
		if got, want := AppendString(nil, s), encodeStd(s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	if got := AppendString([]byte("x:"), "y"); string(got) != `x:"y"` {
		t.Errorf("AppendString does not append: %s", got)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\u2028", "\xff", "<&>", "\x00\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), encodeStd(s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := `{"eventName":"MAILBOX_EMAIL_DELIVERED","recipient":"alice@example.com","subject":"Q3 report <draft>"}`
	b.Run("AppendString", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			buf = AppendString(buf[:0], s)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			encodeStd(s)
		}
	})
}
