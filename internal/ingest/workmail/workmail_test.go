package workmail

import "testing"

func TestLogTypeFromKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bucket/AWSLogs/111122223333/AUTHENTICATION_LOGS/us-east-1/2024/05/01/10/a.log.gz", "AUTHENTICATION_LOGS"},
		{"AWSLogs/111122223333/WORKMAIL_MAILBOX_ACCESS_LOGS/us-east-1/x.gz", "WORKMAIL_MAILBOX_ACCESS_LOGS"},
		{"AWSLogs/o-aa11bb22cc/111122223333/ACCESS_CONTROL_LOGS/us-east-1/x.gz", "ACCESS_CONTROL_LOGS"},
		{"AWSLogs/111122223333/WORKMAIL_NEW_KIND_LOGS/eu-west-1/x.gz", "WORKMAIL_NEW_KIND_LOGS"},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2024/x.json.gz", ""},
		{"AWSLogs/111122223333", ""},
		{"audit.ndjson", ""},
	}
	for _, tt := range tests {
		if got, _ := LogTypeFromKey(tt.in); got != tt.want {
			t.Errorf("LogTypeFromKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzLogTypeFromKey(f *testing.F) {
	f.Add("AWSLogs/111122223333/AUTHENTICATION_LOGS/us-east-1/a.gz")
	f.Add("AWSLogs/o-x/1/ACCESS_CONTROL_LOGS/r")
	f.Fuzz(func(t *testing.T, key string) {
		if lt, ok := LogTypeFromKey(key); ok && !isLogType(lt) {
			t.Fatalf("LogTypeFromKey(%q) = %q", key, lt)
		}
	})
}
