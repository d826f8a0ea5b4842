// Package workmail knows how WorkMail audit logs arrive as files: vended-log
// deliveries to S3 write gzip'd newline-delimited JSON under
// AWSLogs/<account>/<logType>/<region>/<yyyy>/<MM>/<dd>/<HH>/ (formats.md
// §1.10). The records themselves are NDJSON and need nothing special; what
// a file's key adds is the log type, which the records do not carry.
package workmail

import (
	"strings"
)

// LogTypes are the CloudWatch Logs delivery logType strings of the five
// WorkMail audit logs, spelled as WorkMail spells them (two lack the
// WORKMAIL_ prefix).
var LogTypes = []string{
	"WORKMAIL_MAILBOX_ACCESS_LOGS",
	"ACCESS_CONTROL_LOGS",
	"AUTHENTICATION_LOGS",
	"WORKMAIL_AVAILABILITY_PROVIDER_LOGS",
	"WORKMAIL_PERSONAL_ACCESS_TOKEN_LOGS",
}

// LogTypeFromKey finds the log type in an S3 key or local path laid out as
// a vended-log delivery writes it: .../AWSLogs/<account>/<logType>/... .
// Unknown log types that look like one (upper case, ending in _LOGS) are
// accepted, as the spec asks, since AWS may add types.
func LogTypeFromKey(key string) (string, bool) {
	parts := strings.Split(key, "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] != "AWSLogs" {
			continue
		}
		// An organization trail's o-<id> segment may precede the account.
		j := i + 1
		if strings.HasPrefix(parts[j], "o-") && j+2 < len(parts) {
			j++
		}
		if t := parts[j+1]; isLogType(t) {
			return t, true
		}
	}
	return "", false
}

func isLogType(s string) bool {
	for _, t := range LogTypes {
		if s == t {
			return true
		}
	}
	if !strings.HasSuffix(s, "_LOGS") {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
