package event

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current encoder")

// sampleType maps a sample file name (from ../shared/spec/formats) to the
// log type Classify must find.
func sampleType(name string) LogType {
	switch {
	case strings.HasPrefix(name, "workmail-audit-mailbox-access"):
		return LogTypeMailboxAccess
	case strings.HasPrefix(name, "workmail-audit-access-control"):
		return LogTypeAccessControl
	case strings.HasPrefix(name, "workmail-audit-authentication"):
		return LogTypeAuthentication
	case strings.HasPrefix(name, "workmail-audit-availability-provider"):
		return LogTypeAvailabilityProvider
	case strings.HasPrefix(name, "workmail-audit-personal-access-token"):
		return LogTypePersonalAccessToken
	case strings.HasPrefix(name, "workmail-email-event"):
		return LogTypeEmailEvent
	case strings.HasPrefix(name, "cloudtrail-digest"):
		return LogTypeCloudTrailDigest
	case strings.HasSuffix(name, ".logfile.json"):
		return LogTypeCloudTrailLogFile
	case strings.HasPrefix(name, "cloudtrail-"):
		return LogTypeCloudTrail
	}
	return ""
}

// stripAnnotations removes the samples' top-level "_..." annotation keys
// (formats/README.md) by re-encoding through a map; the result is the
// reference JSON value.
func stripAnnotations(t *testing.T, raw []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	changed := false
	for k := range m {
		if strings.HasPrefix(k, "_") {
			delete(m, k)
			changed = true
		}
	}
	if !changed {
		return raw
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sampleRecords returns each record of a sample file with its label.
func sampleRecords(t *testing.T, path string) (labels []string, recs [][]byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	if strings.HasSuffix(name, ".jsonl") {
		for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			labels = append(labels, fmt.Sprintf("%s:%d", name, i+1))
			recs = append(recs, stripAnnotations(t, line))
		}
		return labels, recs
	}
	return []string{name}, [][]byte{stripAnnotations(t, data)}
}

func samplePaths(t *testing.T) []string {
	paths, err := filepath.Glob("testdata/samples/*.json*")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in testdata/samples: %v", err)
	}
	return paths
}

// jsonValue decodes JSON keeping numbers as their literal text, so that a
// number that changed form (1 vs 1.0) or type (1 vs "1") is a difference.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func isCompact(b []byte) bool {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return false
	}
	return bytes.Equal(buf.Bytes(), b)
}

// TestGoldenRoundTrip decodes every published sample into its type, encodes
// it back and requires the same JSON value: same keys, same values, same
// JSON types, absent keys still absent, nulls still null. The encoding must
// be compact and match testdata/golden byte for byte (go test -update
// rewrites those after a deliberate change).
func TestGoldenRoundTrip(t *testing.T) {
	for _, path := range samplePaths(t) {
		want := sampleType(filepath.Base(path))
		labels, recs := sampleRecords(t, path)
		for i, raw := range recs {
			t.Run(labels[i], func(t *testing.T) {
				rec, got, err := Decode(raw)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got != want || rec.LogType() != want {
					t.Fatalf("classified as %s (record says %s), want %s", got, rec.LogType(), want)
				}
				if err := rec.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
				out, err := json.Marshal(rec)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				direct, err := rec.MarshalJSON()
				if err != nil {
					t.Fatalf("MarshalJSON: %v", err)
				}
				if !isCompact(direct) {
					t.Errorf("MarshalJSON output is not compact:\n%s", direct)
				}
				if !reflect.DeepEqual(jsonValue(t, raw), jsonValue(t, out)) {
					t.Errorf("round trip changed the record\n in: %s\nout: %s", compact(raw), out)
				}
				golden := filepath.Join("testdata", "golden", strings.ReplaceAll(labels[i], ":", "_")+".json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, append(direct, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				g, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(bytes.TrimSuffix(g, []byte("\n")), direct) {
					t.Errorf("encoding differs from %s\nwant: %s\n got: %s", golden, g, direct)
				}
				// Timestamp must agree with the decoded record.
				checkTimestamp(t, raw, rec)
			})
		}
	}
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	_ = json.Compact(&buf, b)
	return buf.Bytes()
}

func checkTimestamp(t *testing.T, raw []byte, rec Record) {
	t.Helper()
	ms, ok := Timestamp(raw)
	var want int64
	wantOK := true
	switch r := rec.(type) {
	case *MailboxAccess:
		want = r.EventTimestamp
	case *AccessControl:
		want = r.EventTimestamp
	case *Authentication:
		want = r.EventTimestamp
	case *AvailabilityProvider:
		want = r.EventTimestamp
	case *PersonalAccessToken:
		want = r.EventTimestamp
	case *CloudTrailRecord:
		tm, err := r.Time()
		if err != nil {
			t.Fatal(err)
		}
		want = tm.UnixMilli()
	default:
		wantOK = false
	}
	if ok != wantOK || ms != want {
		t.Errorf("Timestamp = %d, %v; want %d, %v", ms, ok, want, wantOK)
	}
}

// TestLogFileRecords checks that each record of a {"Records":[...]} file
// also round-trips and classifies on its own, as it does when CloudTrail
// delivers it to CloudWatch Logs.
func TestLogFileRecords(t *testing.T) {
	paths, _ := filepath.Glob("testdata/samples/*.logfile.json")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		for i, raw := range env.Records {
			lt, err := Classify(raw)
			if err != nil || lt != LogTypeCloudTrail {
				t.Errorf("%s record %d: Classify = %s, %v", path, i, lt, err)
				continue
			}
			var r CloudTrailRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s record %d: %v", path, i, err)
			}
			out, _ := json.Marshal(&r)
			if !reflect.DeepEqual(jsonValue(t, raw), jsonValue(t, out)) {
				t.Errorf("%s record %d changed\n in: %s\nout: %s", path, i, compact(raw), out)
			}
		}
	}
}
