package scan

import (
	"encoding/json"
	"strings"
	"testing"
)

func flat(t testing.TB, msg string) (map[string]Value, error) {
	var f Flattener
	got := map[string]Value{}
	err := f.Flatten([]byte(msg), func(p []byte, l Leaf) { got[string(p)] = l.Value() })
	return got, err
}

func TestFlatten(t *testing.T) {
	got, err := flat(t, `{"userIdentity":{"type":"IAMUser","userName":"Alice"},
 "requestParameters":{"instancesSet":{"items":[{"instanceId":"i-abcde123"}]}},
 "auth_successful":false,"ok":true,"n":12,"f":1.5,"z":null,"e":{},"a":[],"@x":"y","s":"a\"b\u00e9\ud83d\ude00"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"userIdentity.type":                                 Str("IAMUser"),
		"userIdentity.userName":                             Str("Alice"),
		"requestParameters.instancesSet.items.0.instanceId": Str("i-abcde123"),
		"auth_successful":                                   Int(0),
		"ok":                                                Int(1),
		"n":                                                 Int(12),
		"f":                                                 Float(1.5),
		"@@x":                                               Str("y"),
		"s":                                                 Str("a\"bé😀"),
	}
	if len(got) != len(want) {
		t.Errorf("got %d fields %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestFlattenErrors(t *testing.T) {
	for _, msg := range []string{``, `plain text`, `[1,2]`, `{"a":`, `{"a":1,}`, `{"a":tru}`, `{"a":1} x`, `{"a":"\q"}`, `{"a":01}`, `{"a":-}`, strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100)} {
		if _, err := flat(t, msg); err == nil {
			t.Errorf("%q: no error", msg)
		}
	}
}

func FuzzFlatten(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,"x",true,null]}}`, `{"s":"\u00e9\ud83d"}`, `{}`, `{"n":-1.5e3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		_, err := flat(t, msg)
		valid := json.Valid([]byte(msg))
		isObj := strings.HasPrefix(strings.TrimLeft(msg, " \t\r\n"), "{")
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", msg)
		}
		if err != nil && valid && isObj && strings.Count(msg, "{")+strings.Count(msg, "[") < MaxDepth {
			t.Fatalf("rejected valid JSON object %q: %v", msg, err)
		}
	})
}

func BenchmarkFlatten(b *testing.B) {
	msg := []byte(`{"event_timestamp":1746093600123,"request_id":"8f4e2a61-3b2c-4d5e-9f10-a1b2c3d4e5f6","organization_arn":"arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef","user_id":"S-1-5-18-1234","protocol":"IMAP","source_ip":"203.0.113.7","user_agent":"Thunderbird/115.0","action":"read","owner_id":"S-1-5-18-1234","object_type":"Message","item_id":"AAMkAGI2","folder_path":"/Inbox","folder_id":"AQMkAD","action_allowed":true}`)
	var f Flattener
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		f.Flatten(msg, func([]byte, Leaf) {})
	}
}

func TestFlattenNulls(t *testing.T) {
	msg := []byte(`{"a":null,"b":{},"c":[],"d":{"e":null,"f":[{}]},"g":1}`)
	for _, nulls := range []bool{false, true} {
		f := Flattener{Nulls: nulls}
		got := map[string]LeafKind{}
		if err := f.Flatten(msg, func(p []byte, l Leaf) { got[string(p)] = l.Kind }); err != nil {
			t.Fatal(err)
		}
		want := map[string]LeafKind{"g": LeafNumber}
		if nulls {
			want = map[string]LeafKind{"a": LeafNull, "b": LeafEmptyObject, "c": LeafEmptyArray,
				"d.e": LeafNull, "d.f.0": LeafEmptyObject, "g": LeafNumber}
		}
		if len(got) != len(want) {
			t.Errorf("Nulls=%v: got %v, want %v", nulls, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("Nulls=%v: %s kind %d, want %d", nulls, k, got[k], v)
			}
		}
	}
	// Empty top-level object reports nothing even with Nulls.
	f := Flattener{Nulls: true}
	n := 0
	f.Flatten([]byte(`{}`), func([]byte, Leaf) { n++ })
	if n != 0 {
		t.Errorf("top-level {} reported %d leaves", n)
	}
}
