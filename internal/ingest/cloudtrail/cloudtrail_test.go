package cloudtrail

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

func TestSamples(t *testing.T) {
	tests := []struct {
		file    string
		kind    Kind
		records int
	}{
		{"cloudtrail-ec2-startinstances.logfile.json", LogFileKind, 1},
		{"cloudtrail-iam-createuser.logfile.json", LogFileKind, 1},
		{"cloudtrail-error-updatetrail.logfile.json", LogFileKind, 1},
		{"cloudtrail-insights-start-end.logfile.json", LogFileKind, 2},
		{"cloudtrail-digest.sample.json", DigestKind, 0},
		{"cloudtrail-digest-empty.sample.json", DigestKind, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			kind, err := Classify(doc)
			if err != nil || kind != tt.kind {
				t.Fatalf("Classify = %v, %v; want %v", kind, err, tt.kind)
			}
			if kind != LogFileKind {
				return
			}
			var want struct{ Records []json.RawMessage }
			if err := json.Unmarshal(doc, &want); err != nil {
				t.Fatal(err)
			}
			n := 0
			err = Records(doc, jsonscan.NewScanner(""), func(rec []byte, off int, f *jsonscan.Fields, err error) {
				if err != nil {
					t.Errorf("record %d: %v", n, err)
				}
				if string(rec) != string(want.Records[n]) {
					t.Errorf("record %d = %s, want %s", n, rec, want.Records[n])
				}
				if _, ok := jsonscan.RFC3339Millis(f.EventTime); !ok {
					t.Errorf("record %d: eventTime %q", n, f.EventTime)
				}
				n++
			})
			if err != nil || n != tt.records {
				t.Errorf("Records: %d records, %v; want %d", n, err, tt.records)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	doc, err := os.ReadFile("testdata/cloudtrail-digest.sample.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDigest(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.LogFiles) != 1 || d.DigestPublicKeyFingerprint != "31e8b5433410dfb61a9dc45cc65b22ff" || d.PreviousDigestSignature == nil {
		t.Errorf("digest = %+v", d)
	}
	if s := DigestSummary(d); !strings.Contains(s, "1 log file referenced, not stored") {
		t.Errorf("Summary = %q", s)
	}
	empty, _ := os.ReadFile("testdata/cloudtrail-digest-empty.sample.json")
	d, err = ParseDigest(empty)
	if err != nil || len(d.LogFiles) != 0 || d.NewestEventTime != nil {
		t.Errorf("empty digest = %+v, %v", d, err)
	}
	if _, err := ParseDigest([]byte(`{"logFiles":7}`)); err == nil {
		t.Error("bad digest accepted")
	}
}

func TestRecordsErrors(t *testing.T) {
	var got []string
	fn := func(rec []byte, off int, f *jsonscan.Fields, err error) {
		if err != nil {
			got = append(got, "err:"+string(rec))
			return
		}
		got = append(got, string(rec))
	}
	err := Records([]byte(`{"Records":[{"a":1},"x",{"b":2},{"c":`), jsonscan.NewScanner(""), fn)
	if err == nil || strings.Join(got, " ") != `{"a":1} err:"x" {"b":2}` {
		t.Errorf("got %q, err %v", got, err)
	}
	got = nil
	if err := Records([]byte(`{"other":[]}`), jsonscan.NewScanner(""), fn); err == nil || len(got) != 0 {
		t.Errorf("no Records: %v %q", err, got)
	}
}

func TestStreamFromKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz", "111122223333_CloudTrail_us-east-2"},
		{"111122223333_CloudTrail-Insight_eu-west-1_20240101T0000Z_abc.json", "111122223333_CloudTrail-Insight_eu-west-1"},
		{"111122223333_CloudTrail-Digest_us-east-2_trail_us-east-2_20150820T180131Z.json.gz", ""},
		{"audit.json", ""},
	}
	for _, tt := range tests {
		got, _ := StreamFromKey(tt.in)
		if got != tt.want {
			t.Errorf("StreamFromKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzRecords: Records and Classify never panic, and every record handed
// out is valid JSON.
func FuzzRecords(f *testing.F) {
	for _, name := range []string{"cloudtrail-insights-start-end.logfile.json", "cloudtrail-digest.sample.json"} {
		if doc, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(doc)
		}
	}
	f.Add([]byte(`{"Records":[{"eventTime":"2024-01-02T03:04:05Z"},[],{"x":`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		Classify(doc)
		Records(doc, jsonscan.NewScanner("a.b"), func(rec []byte, off int, fl *jsonscan.Fields, err error) {
			if !json.Valid(rec) {
				t.Fatalf("record %q is not JSON", rec)
			}
		})
	})
}

func FuzzParseDigest(f *testing.F) {
	if doc, err := os.ReadFile("testdata/cloudtrail-digest.sample.json"); err == nil {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if d, err := ParseDigest(doc); err == nil {
			_ = DigestSummary(d)
		}
	})
}
