package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// fuzzSeeds adds every sample record and the table-test records.
func fuzzSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/samples/*.json*")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 && line[0] == '{' && json.Valid(line) {
				f.Add(line)
			}
		}
		f.Add(data)
	}
	for _, raw := range validRecords {
		f.Add([]byte(raw))
	}
	for _, s := range []string{
		`{"event_timestamp":"1718000000123","access_granted":"true","scope":"AccessControl"}`,
		`{"\u0073cope":"x","event_timestamp":1.7e12}`,
		`{"traceId":"t","event":{"eventName":"OUTGOING_EMAIL_BOUNCED","destination":"a"}}`,
		`{"eventTime":"2024-02-29T23:59:60Z"}`,
		`{"a":[[[[[[[[[[]]]]]]]]]]}`,
		`{"action":"create","name":"n","scopes":"IMAP"}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecode: Decode never panics; whatever it accepts, Validate does not
// panic on, encodes to valid compact JSON, and that JSON decodes again to
// the same encoding (the encoding is a fixed point). Accepted input must be
// JSON that encoding/json also accepts.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, lt, err := Decode(raw)
		if err != nil {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("Decode accepted invalid JSON %q", raw)
		}
		_ = rec.Validate()
		out, err := rec.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if !json.Valid(out) || !isCompact(out) {
			t.Fatalf("bad encoding %q of %q", out, raw)
		}
		rec2, err := DecodeAs(out, lt)
		if err != nil {
			t.Fatalf("re-decoding own output %q: %v", out, err)
		}
		out2, err := rec2.MarshalJSON()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not a fixed point:\n%s\n%s (%v)", out, out2, err)
		}
		// Same JSON value as the input, modulo the lenient forms the decoder
		// normalises on purpose (string booleans and numbers, 1.0 vs 1).
		if !reflect.DeepEqual(normJSON(raw), normJSON(out)) {
			t.Fatalf("round trip changed the value:\n in %s\nout %s", raw, out)
		}
	})
}

// normJSON decodes b with numbers as float64 and maps the strings "true",
// "false" and numeric strings to the bool or number they spell.
func normJSON(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return norm(v)
}

func norm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = norm(e)
		}
	case []any:
		for i, e := range x {
			x[i] = norm(e)
		}
	case string:
		if b, ok := parseBool([]byte(x)); ok && (x == "true" || x == "false") {
			return b
		}
		if n, ok := parseInt64([]byte(strconv.Quote(x))); ok {
			return float64(n)
		}
	}
	return v
}

// FuzzClassify: never panics, and a classified record's type agrees with
// Decode's.
func FuzzClassify(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		lt, err := Classify(raw)
		if err != nil {
			return
		}
		if !lt.Known() {
			t.Fatalf("Classify returned unknown type %q", lt)
		}
	})
}

// FuzzTimestamp: never panics, and agrees with a full decode when the
// record decodes.
func FuzzTimestamp(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ms, ok := Timestamp(raw)
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || !ok {
			return
		}
		// Timestamp stops at the first key; with duplicate keys encoding/json
		// keeps the last, so compare only when the key is unique.
		if v, has := m["event_timestamp"]; has && bytes.Count(raw, []byte(`"event_timestamp"`)) == 1 {
			if want, wok := parseInt64(v); wok && want != ms {
				t.Fatalf("Timestamp = %d, want %d", ms, want)
			}
		}
	})
}
