package cwexport

import (
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in, msg, err string
		ts           int64
	}{
		{in: `2024-05-01T12:00:00.000Z {"a":1}`, ts: 1714564800000, msg: `{"a":1}`},
		{in: `2024-05-01T12:00:00.123Z text with  spaces `, ts: 1714564800123, msg: `text with  spaces `},
		{in: `2024-05-01T12:00:00Z x`, ts: 1714564800000, msg: `x`},
		{in: `2024-05-01T12:00:00.000Z `, err: "export line has an empty message"},
		{in: `{"a":1}`, err: "export line has no space after the timestamp"},
		{in: `1714564800000 {"a":1}`, err: "export line does not start with an ISO 8601 timestamp"},
	}
	for _, tt := range tests {
		ts, msg, err := ParseLine([]byte(tt.in))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseLine(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || ts != tt.ts || string(msg) != tt.msg {
			t.Errorf("ParseLine(%q) = %d %q %v, want %d %q", tt.in, ts, msg, err, tt.ts, tt.msg)
		}
	}
}

func TestStreamFromKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"exportedlogs/0e7a9b6c-1234/i-0abc123/000000.gz", "i-0abc123"},
		{"prefix/task/2024/05/01/[$LATEST]abcdef/000001.gz", "[$LATEST]abcdef"},
		{"000000.gz", ""},
		{"dir/audit.gz", ""},
	}
	for _, tt := range tests {
		if got, _ := StreamFromKey(tt.in); got != tt.want {
			t.Errorf("StreamFromKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`2024-05-01T12:00:00.000Z {"a":1}`))
	f.Add([]byte(`2024-05-01T12:00:00+01:00 x`))
	f.Fuzz(func(t *testing.T, line []byte) {
		_, msg, err := ParseLine(line)
		if err == nil && (len(msg) == 0 || len(msg) >= len(line)) {
			t.Fatalf("ParseLine(%q) message %q", line, msg)
		}
	})
}
