package filterpattern

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtractJSON(t *testing.T) {
	p := MustCompile(`{ $.latency = * }`)
	sels := mustSelectors(t, p, "$.latency", "$.requestType", "$.missing", "$.obj", "1", "$.arr[1]", "$.flag", "$.nil")
	ok, got := p.Extract([]byte(`{"latency": 50, "requestType": "GET", "obj": {"a": 1}, "arr": [1, 2.5], "flag": true, "nil": null}`), sels, nil)
	if !ok {
		t.Fatal("no match")
	}
	want := []Extracted{{"50", true}, {"GET", true}, {}, {}, {"1", true}, {"2.5", true}, {"true", true}, {}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if f, ok := got[0].Number(); !ok || f != 50 {
		t.Errorf("Number(%q) = %v, %v", got[0].Value, f, ok)
	}
	if _, ok := got[1].Number(); ok {
		t.Errorf("Number(%q) ok, want no datapoint", got[1].Value)
	}
	if _, ok := got[2].Number(); ok {
		t.Error("Number of a missing value ok")
	}
	// No match, no values.
	if ok, got := p.Extract([]byte(`{"requestType": "GET"}`), sels, got); ok || len(got) != 0 {
		t.Errorf("non-matching event: %v %v", ok, got)
	}
	// A CloudTrail metric filter with a dimension.
	p = MustCompile(`{ $.errorCode = "*" }`)
	sels = mustSelectors(t, p, "1", "$.eventName", "$.userIdentity.userName")
	ok, got = p.Extract(msg(t, "@cloudtrail-updatetrail-error.json"), sels, nil)
	want = []Extracted{{"1", true}, {"UpdateTrail", true}, {"Alice", true}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("cloudtrail: %v %v, want %v", ok, got, want)
	}
	// WorkMail: failed logins by protocol.
	p = MustCompile(`{ $.auth_successful IS FALSE }`)
	sels = mustSelectors(t, p, "$.protocol", "$.source_ip")
	ok, got = p.Extract(msg(t, "@workmail-auth-failed.json"), sels, nil)
	want = []Extracted{{"ActiveSync", true}, {"198.51.100.200", true}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("workmail: %v %v, want %v", ok, got, want)
	}
	if vals, ok := p.ExtractedValues(msg(t, "@workmail-auth-failed.json")); !ok || len(vals) != 0 {
		t.Errorf("JSON extractedValues = %v, %v; want empty map", vals, ok)
	}
}

func TestExtractDelimited(t *testing.T) {
	const line = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
	p := MustCompile(`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`)
	vals, ok := p.ExtractedValues([]byte(line))
	want := map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$username": "frank",
		"$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0",
		"$status_code": "404", "$bytes": "1534"}
	if !ok || !reflect.DeepEqual(vals, want) {
		t.Errorf("got %v %v, want %v", ok, vals, want)
	}
	sels := mustSelectors(t, p, "$bytes", "$7", "$status_code", "1")
	ok, got := p.Extract([]byte(line), sels, nil)
	if want := []Extracted{{"1534", true}, {"1534", true}, {"404", true}, {"1", true}}; !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("Extract = %v %v, want %v", ok, got, want)
	}

	// The AWS docs example: '...' and an unnamed trailing field are named by position.
	p = MustCompile(`[..., request=*.html*, status_code=4*,]`)
	vals, ok = p.ExtractedValues([]byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 404 1534`))
	want = map[string]string{"$status_code": "404", "$request": "GET /products/index.html HTTP/1.0",
		"$7": "1534", "$4": "10/Oct/2000:13:25:15 -0700", "$3": "frank", "$2": "-", "$1": "127.0.0.1"}
	if !ok || !reflect.DeepEqual(vals, want) {
		t.Errorf("docs example: got %v %v, want %v", ok, vals, want)
	}

	// The TestMetricFilter request captured in Part E.
	p = MustCompile(`[ip, user, ts, req, status=4*, bytes]`)
	vals, ok = p.ExtractedValues([]byte(`127.0.0.1 frank x "GET /" 404 12`))
	want = map[string]string{"$ip": "127.0.0.1", "$user": "frank", "$ts": "x", "$req": "GET /", "$status": "404", "$bytes": "12"}
	if !ok || !reflect.DeepEqual(vals, want) {
		t.Errorf("Part E: got %v %v, want %v", ok, vals, want)
	}
	if _, ok := p.ExtractedValues([]byte(`127.0.0.1 frank x "GET /" 200 12`)); ok {
		t.Error("Part E: 200 matched status=4*")
	}
}

func TestSelectorErrors(t *testing.T) {
	cases := []struct{ pattern, sel, text string }{
		{`ERROR`, "$.latency", "needs a JSON filter pattern"},
		{`ERROR`, "$bytes", "needs a space-delimited filter pattern"},
		{`{ $.a = 1 }`, "$a", "needs a space-delimited"},
		{`[a, b]`, "$.a", "needs a JSON"},
		{`[a, b]`, "$c", `no field named "c"`},
		{`[a, b]`, "$0", `no field named "0"`},
		{`{ $.a = 1 }`, "$.a b", "unexpected"},
		{`{ $.a = 1 }`, "$.", "expected a key name"},
		{`{ $.a = 1 }`, "latency", "expected a number, $.path or $field"},
		{`{ $.a = 1 }`, "", "expected a number"},
	}
	for _, c := range cases {
		_, err := MustCompile(c.pattern).Selector(c.sel)
		if err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%q Selector(%q) = %v, want error containing %q", c.pattern, c.sel, err, c.text)
		}
	}
	for _, c := range []struct{ pattern, sel string }{{"", "1"}, {"ERROR", "2.5"}, {"[a, ...]", "$a"}, {"[a, ...]", "$12"}, {"{ $.a = 1 }", "$.b[0].c"}} {
		if _, err := MustCompile(c.pattern).Selector(c.sel); err != nil {
			t.Errorf("%q Selector(%q): %v", c.pattern, c.sel, err)
		}
	}
}

func mustSelectors(t *testing.T, p *Pattern, ss ...string) []Selector {
	t.Helper()
	var out []Selector
	for _, s := range ss {
		sel, err := p.Selector(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sel)
	}
	return out
}
