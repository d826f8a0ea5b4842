package e2e

import (
	"encoding/json"
	"fmt"
	"time"
)

// auditEvent is one log event for the tests: a WorkMail record and its time.
type auditEvent struct {
	TS  int64
	Msg string
}

// seedEvents builds a small, fixed investigation scenario ending at base:
// two messages from qq.com, three failed logins (two from one attacker IP),
// one IMAP denial by a rule, and ordinary traffic. Timestamps ascend, one
// second apart.
func seedEvents(base time.Time) []auditEvent {
	org := "arn:aws:workmail:us-east-1:111111111111:organization/m-0123456789abcdef0123456789abcdef"
	recs := []map[string]any{
		{"traceId": "t-1", "event": map[string]any{"eventName": "ORGANIZATION_EMAIL_RECEIVED", "from": "alice@qq.com", "recipients": []string{"bob@example.com"}, "subject": "hi", "messageId": "<1@qq.com>", "spamVerdict": "PASS", "dkimVerdict": "PASS", "dmarcVerdict": "PASS", "spfVerdict": "PASS"}},
		{"traceId": "t-1", "event": map[string]any{"eventName": "MAILBOX_EMAIL_DELIVERED", "recipient": "bob@example.com", "folder": "Inbox"}},
		{"organization_arn": org, "request_id": "r-1", "user": "bob", "protocol": "IMAP", "source_ip": "203.0.113.9", "user_agent": "curl", "method": "basic", "auth_successful": false, "auth_failed_reason": "Invalid username or password"},
		{"organization_arn": org, "request_id": "r-2", "user": "carol", "protocol": "IMAP", "source_ip": "203.0.113.9", "user_agent": "curl", "method": "basic", "auth_successful": false, "auth_failed_reason": "Invalid username or password"},
		{"organization_arn": org, "request_id": "r-3", "user_id": "u-dave", "user": "dave", "protocol": "SMTP", "source_ip": "198.51.100.4", "user_agent": "swaks", "method": "basic", "auth_successful": true},
		{"organization_arn": org, "request_id": "r-4", "user_id": "u-dave", "protocol": "IMAP", "source_ip": "198.51.100.4", "scope": "AccessControl", "rule_id": "deny-imap", "access_granted": false},
		{"traceId": "t-2", "event": map[string]any{"eventName": "ORGANIZATION_EMAIL_RECEIVED", "from": "eve@qq.com", "recipients": []string{"dave@example.com"}, "subject": "offer", "messageId": "<2@qq.com>", "spamVerdict": "PASS", "dkimVerdict": "PASS", "dmarcVerdict": "PASS", "spfVerdict": "PASS"}},
		{"traceId": "t-3", "event": map[string]any{"eventName": "ORGANIZATION_EMAIL_RECEIVED", "from": "frank@example.org", "recipients": []string{"bob@example.com"}, "subject": "lunch", "messageId": "<3@example.org>", "spamVerdict": "PASS", "dkimVerdict": "PASS", "dmarcVerdict": "PASS", "spfVerdict": "PASS"}},
		{"organization_arn": org, "request_id": "r-5", "user": "mallory", "protocol": "EWS", "source_ip": "192.0.2.66", "user_agent": "python", "method": "basic", "auth_successful": false, "auth_failed_reason": "Invalid username or password"},
		{"organization_arn": org, "request_id": "r-6", "user_id": "u-bob", "owner_id": "u-bob", "protocol": "IMAP", "source_ip": "198.51.100.7", "user_agent": "Thunderbird", "action": "read", "object_type": "Message", "item_id": "i-1", "folder_path": "/Inbox", "folder_id": "f-1", "action_allowed": true},
	}
	start := base.Add(-time.Duration(len(recs)) * time.Second)
	out := make([]auditEvent, len(recs))
	for i, r := range recs {
		ts := start.Add(time.Duration(i) * time.Second).UnixMilli()
		if _, ok := r["event"]; ok {
			r["event_timestamp"] = ts
		} else {
			r["event_timestamp"] = ts
		}
		b, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		out[i] = auditEvent{TS: ts, Msg: string(b)}
	}
	return out
}

// fmtTS renders epoch ms the way Insights results do.
func fmtTS(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}
