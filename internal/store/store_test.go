package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/scan"
)

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sampleMessages covers the shapes a message can take: plain JSON, nested
// objects and arrays, escapes, floats, booleans, nulls, whitespace, repeated
// keys, numbers that do not print back the same, non-JSON text.
var sampleMessages = []string{
	`{"event_timestamp":1746057603626,"request_id":"7bc8b147-31bc-4bc0-beb2-0dff1bccbc79","user_id":"a344c533-aeb3-4f17-aeb1-ff046912526a","protocol":"WebMail","auth_successful":true}`,
	`{"event":{"from":"a@example.com","to":["b@x.org","c@y.org"]},"auth_successful":false,"n":-12,"f":1.5}`,
	`{"s":"a\"b\\c\nd\u00e9","e":"\u00e9","z":null,"o":{},"a":[],"@x":"y"}`,
	` { "spaced" : 1 , "t" : [ true , false , null ] } `,
	`{"dup":1,"dup":"two"}`,
	`{"big":12345678901234567890,"exp":1e5,"neg0":-0,"frac":1.50}`,
	`plain text log line`,
	`[1,2,3]`,
	`{"broken":`,
	`{"mixed":"text"}`,
	`{"mixed":42}`,
	`{"mixed":4.25}`,
	`{"userIdentity":{"type":"IAMUser","userName":"Alice"},"requestParameters":{"instancesSet":{"items":[{"instanceId":"i-abcde123"}]}}}`,
}

func flattenExpect(msg string) map[string]scan.Value {
	var f scan.Flattener
	got := map[string]scan.Value{}
	if err := f.Flatten([]byte(msg), func(p []byte, l scan.Leaf) { got[string(p)] = l.Value() }); err != nil {
		return map[string]scan.Value{}
	}
	return got
}

func TestScanContract(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		t.Run(fmt.Sprintf("reopen=%v", reopen), func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, Options{BlockRows: 5})
			must(t, s.CreateLogGroup("111122223333", "/audit/mail", GroupOptions{}))
			must(t, s.CreateLogStream("111122223333", "/audit/mail", "s1"))
			must(t, s.CreateLogStream("111122223333", "/audit/mail", "s2"))
			var evs []Event
			for i, m := range sampleMessages {
				evs = append(evs, Event{Timestamp: 1746057600000 + int64(i*1000), Message: []byte(m)})
			}
			must(t, s.Append("111122223333", "/audit/mail", "s1", evs[:7]))
			must(t, s.Append("111122223333", "/audit/mail", "s2", evs[7:]))
			if reopen {
				must(t, s.Close())
				s = openTest(t, dir, Options{BlockRows: 5})
			}
			defer s.Close()
			checkContract(t, s, "111122223333", "/audit/mail")
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func checkContract(t *testing.T, s *Store, account, grp string) {
	t.Helper()
	req := &scan.Request{Account: account, Groups: []string{grp}, Start: scan.MinTime, End: scan.MaxTime, AllColumns: true, Workers: 2}
	type rec struct {
		fields map[string]scan.Value
	}
	got := map[string]map[string]scan.Value{}
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	err := s.Scan(context.Background(), req, func(w int, b *scan.Block) error {
		<-mu
		defer func() { mu <- struct{}{} }()
		msgs := b.Col("@message")
		if msgs == nil {
			return errors.New("no @message column")
		}
		for i := 0; i < b.Rows; i++ {
			m := msgs.Value(i).S
			f := map[string]scan.Value{}
			for name, c := range b.Columns {
				if c.Has(i) {
					f[name] = c.Value(i)
				}
			}
			got[m] = f
		}
		return nil
	})
	must(t, err)
	if len(got) != len(sampleMessages) {
		t.Fatalf("scan returned %d distinct messages, want %d", len(got), len(sampleMessages))
	}
	for i, m := range sampleMessages {
		f, ok := got[m]
		if !ok {
			t.Errorf("message %d %q not returned byte for byte", i, m)
			continue
		}
		want := flattenExpect(m)
		for k, v := range want {
			if f[k] != v {
				t.Errorf("message %d field %q = %#v, want %#v", i, k, f[k], v)
			}
		}
		for k, v := range f {
			if strings.HasPrefix(k, "@") && !strings.HasPrefix(k, "@@") {
				continue
			}
			if _, ok := want[k]; !ok {
				t.Errorf("message %d has extra field %q = %#v", i, k, v)
			}
		}
		if f["@timestamp"].I != 1746057600000+int64(i*1000) {
			t.Errorf("message %d @timestamp = %v", i, f["@timestamp"])
		}
		if f["@log"].S != account+":"+grp {
			t.Errorf("message %d @log = %v", i, f["@log"])
		}
		wantStream := "s1"
		if i >= 7 {
			wantStream = "s2"
		}
		if f["@logStream"].S != wantStream {
			t.Errorf("message %d @logStream = %v", i, f["@logStream"])
		}
		rec, err := s.GetLogRecord(account, f["@ptr"].S)
		if err != nil {
			t.Errorf("message %d GetLogRecord: %v", i, err)
			continue
		}
		if rec["@message"] != m {
			t.Errorf("message %d GetLogRecord @message = %q", i, rec["@message"])
		}
		for k, v := range want {
			if rec[k] != v.String() {
				t.Errorf("message %d GetLogRecord %q = %q, want %q", i, k, rec[k], v.String())
			}
		}
	}
}
