package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const orgARN = "arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef"

// Minimal valid records of each type, as JSON, for tests to mutate.
var validRecords = map[LogType]string{
	LogTypeMailboxAccess: `{"event_timestamp":1718000000123,"request_id":"r1","organization_arn":"` + orgARN + `",` +
		`"user_id":"u1","protocol":"IMAP","source_ip":"198.51.100.23","user_agent":"UA","action":"read",` +
		`"owner_id":"u1","object_type":"Message","item_id":"i1","folder_path":"/Inbox","folder_id":"f1","action_allowed":true}`,
	LogTypeAccessControl: `{"event_timestamp":1718000001000,"request_id":"r2","organization_arn":"` + orgARN + `",` +
		`"user_id":"u1","protocol":"IMAP","source_ip":"192.0.2.77","scope":"AccessControl","access_granted":false}`,
	LogTypeAuthentication: `{"event_timestamp":1718000002000,"request_id":"r3","organization_arn":"` + orgARN + `",` +
		`"user":"jane","protocol":"ActiveSync","source_ip":"198.51.100.200","user_agent":"UA","method":"basic",` +
		`"auth_successful":false,"auth_failed_reason":"invalid credentials"}`,
	LogTypeAvailabilityProvider: `{"event_timestamp":1718000003000,"request_id":"r4","organization_arn":"` + orgARN + `",` +
		`"user_id":"u1","type":"EWS","domain":"partner.example.net","ews_endpoint":"https://ews.example.net/EWS/Exchange.asmx",` +
		`"availability_event_successful":true}`,
	LogTypePersonalAccessToken: `{"event_timestamp":1718000004000,"request_id":"r5","organization_arn":"` + orgARN + `",` +
		`"user_id":"u1","user":"jane","protocol":"webapp","source_ip":"198.51.100.23","user_agent":"UA",` +
		`"action":"delete","name":"laptop"}`,
	LogTypeEmailEvent: `{"traceId":"t1","event":{"eventName":"MAILBOX_EMAIL_DELIVERED","recipient":"a@example.com","folder":"Inbox"}}`,
	LogTypeCloudTrail: `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accessKeyId":""},"eventTime":"2024-01-02T03:04:05Z",` +
		`"eventSource":"workmail.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","requestParameters":null,` +
		`"responseElements":null,"readOnly":false,"eventCategory":"Management"}`,
}

func TestValidRecordsValidate(t *testing.T) {
	for lt, raw := range validRecords {
		rec, got, err := Decode([]byte(raw))
		if err != nil || got != lt {
			t.Fatalf("%s: Decode = %s, %v", lt, got, err)
		}
		if err := rec.Validate(); err != nil {
			t.Errorf("%s: %v", lt, err)
		}
	}
}

// replaceMember edits one top-level member of a valid record: a nil value
// deletes the key, otherwise its raw JSON replaces the value (or is added).
func replaceMember(t *testing.T, raw, key string, val *string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if val == nil {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(*val)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr(s string) *string { return &s }

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		lt   LogType
		key  string
		val  *string // nil deletes the key
		want string  // substring of the error
	}{
		{LogTypeMailboxAccess, "protocol", ptr(`"IMAPS"`), `protocol: "IMAPS" is not one of AutoDiscover, EWS, IMAP, WindowsOutlook, ActiveSync, SMTP, WebMail, IncomingEmail, OutgoingEmail`},
		{LogTypeMailboxAccess, "action", ptr(`"Read"`), `action: "Read" is not one of read, read_hierarchy,`},
		{LogTypeMailboxAccess, "object_type", ptr(`"folder"`), `object_type: "folder" is not one of Folder, Message, Attachment`},
		{LogTypeMailboxAccess, "action_allowed", nil, `action_allowed: is required but missing`},
		{LogTypeMailboxAccess, "request_id", ptr(`""`), `request_id: "" must not be empty`},
		{LogTypeMailboxAccess, "folder_id", nil, `folder_id: is required but missing`},
		{LogTypeMailboxAccess, "attachment_path", ptr(`"/a.pdf"`), `attachment_path: "/a.pdf" is only valid when object_type is Attachment`},
		{LogTypeMailboxAccess, "event_timestamp", ptr(`1718000000`), `event_timestamp: 1718000000 is not epoch milliseconds`},
		{LogTypeMailboxAccess, "organization_arn", ptr(`"arn:aws:workmail:us-east-1:111122223333:organization/m-123"`), `organization_arn: "arn:aws:workmail:us-east-1:111122223333:organization/m-123" is not a WorkMail organization ARN`},
		{LogTypeAccessControl, "protocol", ptr(`"IncomingEmail"`), ``}, // 9 audit protocols, not the 7 rule actions
		{LogTypeAccessControl, "scope", ptr(`"Device"`), `scope: "Device" is not one of AccessControl, DeviceAccessControl, ImpersonationAccessControl`},
		{LogTypeAccessControl, "access_granted", nil, `access_granted: is required but missing`},
		{LogTypeAuthentication, "auth_successful", ptr(`true`), `auth_failed_reason: "invalid credentials" is only valid when auth_successful is false`},
		{LogTypeAuthentication, "user_id", ptr(`""`), ``}, // empty on failure is allowed
		{LogTypeAuthentication, "user_agent", ptr(`""`), ``},
		{LogTypeAuthentication, "user_agent", nil, `user_agent: is required but missing`},
		{LogTypeAuthentication, "protocol", ptr(`"webapp"`), `protocol: "webapp" is not one of AutoDiscover`},
		{LogTypeAvailabilityProvider, "type", ptr(`"LAMBDA"`), `ews_endpoint: "https://ews.example.net/EWS/Exchange.asmx" is only valid when type is EWS`},
		{LogTypeAvailabilityProvider, "type", ptr(`"Lambda"`), `type: "Lambda" is not one of EWS, LAMBDA`},
		{LogTypeAvailabilityProvider, "error_message", ptr(`"boom"`), `error_message: "boom" is only valid when availability_event_successful is false`},
		{LogTypePersonalAccessToken, "protocol", ptr(`"IMAP"`), `protocol: "IMAP" is not one of webapp`},
		{LogTypePersonalAccessToken, "action", ptr(`"rotate"`), `action: "rotate" is not one of create, delete`},
		{LogTypePersonalAccessToken, "expires_time", ptr(`"next week"`), `expires_time: "next week" is not a time`},
		{LogTypePersonalAccessToken, "expires_time", ptr(`1749513600000`), ``},
		{LogTypePersonalAccessToken, "scopes", ptr(`"IMAP,EWS"`), ``},
		{LogTypeEmailEvent, "traceId", nil, `traceId: is required but missing`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"MAILBOX_EMAIL_DELIVERED"}`), `event.recipient: is required for MAILBOX_EMAIL_DELIVERED`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"EMAIL_RECEIVED"}`), `event.eventName: "EMAIL_RECEIVED" is not one of ORGANIZATION_EMAIL_RECEIVED`},
		{LogTypeEmailEvent, "event", ptr(`{"recipient":"a@b"}`), `event.eventName: is required but missing`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"OUTGOING_EMAIL_BOUNCED"}`), `event.bouncedRecipient: or destination is required for OUTGOING_EMAIL_BOUNCED`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"OUTGOING_EMAIL_BOUNCED","destination":["x@example.org"],"reason":"550 5.1.1"}`), ``},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"OUTGOING_EMAIL_BOUNCED","bouncedRecipient":{"emailAddress":"x@example.org","status":"5.1.1"}}`), ``},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"INCOMING_EMAIL_BOUNCED","bouncedRecipient":{"status":"5.1.1"}}`), `event.bouncedRecipient.emailAddress: is required but missing`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"ORGANIZATION_EMAIL_RECEIVED","recipients":["a@b"],"from":"c@d","dmarcVerdict":"PASS","dmarcPolicy":"REJECT"}`), `event.dmarcPolicy: "REJECT" is only valid when dmarcVerdict is FAIL`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"ORGANIZATION_EMAIL_RECEIVED","recipients":["a@b"],"from":"c@d","spamVerdict":"OK"}`), `event.spamVerdict: "OK" is not one of PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"RULE_APPLIED","ruleName":"x","ruleType":"INBOUND"}`), `event.ruleType: "INBOUND" is not one of INBOUND_RULE, OUTBOUND_RULE, MAILBOX_RULE`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"RULE_APPLIED","ruleName":"x","ruleType":"MAILBOX_RULE","ruleActions":[{"recipients":["a@b"]}]}`), `event.ruleActions.0.action: is required but missing`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"DMARC_POLICY_APPLIED","from":"a@b","recipients":["c@d"],"policy":"DROP"}`), `event.policy: "DROP" is not one of NONE, QUARANTINE, REJECT`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"JOURNALING_INITIATED"}`), `event.journalingAddress: is required for JOURNALING_INITIATED`},
		{LogTypeEmailEvent, "event", ptr(`{"eventName":"ORGANIZATION_EMAIL_RECEIVED","recipients":["a@b"],"from":"c@d","messageTimestamp":"yesterday"}`), `event.messageTimestamp: "yesterday" is not a time`},
		{LogTypeCloudTrail, "eventTime", ptr(`"2024-01-02 03:04:05"`), `eventTime: "2024-01-02 03:04:05" is not an RFC 3339 UTC time`},
		{LogTypeCloudTrail, "eventVersion", ptr(`"v1"`), `eventVersion: "v1" is not "major.minor"`},
		{LogTypeCloudTrail, "eventVersion", ptr(`"1.11"`), ``},
		{LogTypeCloudTrail, "awsRegion", nil, `awsRegion: is required but missing`},
		{LogTypeCloudTrail, "eventSource", nil, `eventSource: is required (except in Insights records)`},
		{LogTypeCloudTrail, "requestParameters", ptr(`"x"`), `requestParameters: "x" is neither an object nor null`},
		{LogTypeCloudTrail, "sessionCredentialFromConsole", ptr(`"false"`), `sessionCredentialFromConsole: "false" is not "true"`},
		{LogTypeCloudTrail, "userIdentity", ptr(`{"principalId":"p"}`), `userIdentity.type: is required but missing`},
		{LogTypeCloudTrail, "eventCategory", ptr(`"NetworkActivity"`), ``}, // newer values are accepted
		{LogTypeCloudTrail, "eventCategory", ptr(`"Net work"`), `eventCategory: "Net work" is not an identifier`},
		{LogTypeCloudTrail, "addendum", ptr(`{"reason":"LATE"}`), `addendum.reason: "LATE" is not one of DELIVERY_DELAY, UPDATED_DATA, SERVICE_OUTAGE`},
	}
	for _, tc := range tests {
		name := string(tc.lt) + "/" + tc.key
		t.Run(name, func(t *testing.T) {
			raw := replaceMember(t, validRecords[tc.lt], tc.key, tc.val)
			rec, err := DecodeAs(raw, tc.lt)
			if err != nil {
				t.Fatalf("DecodeAs: %v\n%s", err, raw)
			}
			err = rec.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: unexpected %v\n%s", err, raw)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v\nwant it to contain %s\n%s", err, tc.want, raw)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FieldError: %T", err)
			}
		})
	}
}

// TestValidateBuiltInGo checks records constructed in Go rather than
// decoded: empty required strings are reported, bools are not.
func TestValidateBuiltInGo(t *testing.T) {
	r := &AccessControl{EventTimestamp: 1718000001000, OrganizationARN: orgARN, UserID: "u", Protocol: ProtocolIMAP, SourceIP: "192.0.2.1", Scope: ScopeAccessControl}
	err := r.Validate()
	if err == nil || err.Error() != `request_id: "" must not be empty` {
		t.Fatalf("Validate = %v", err)
	}
	r.RequestID = "r"
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(r)
	want := `{"event_timestamp":1718000001000,"request_id":"r","organization_arn":"` + orgARN + `","user_id":"u","protocol":"IMAP","source_ip":"192.0.2.1","scope":"AccessControl","access_granted":false}`
	if string(out) != want {
		t.Fatalf("built-in-Go record encodes as\n%s\nwant\n%s", out, want)
	}
}

func TestValidateAllErrorsJoined(t *testing.T) {
	rec, err := DecodeAs([]byte(`{"event_timestamp":"x1"}`), LogTypeMailboxAccess)
	if err == nil {
		t.Fatalf("bad event_timestamp decoded: %+v", rec)
	}
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "event_timestamp" || de.Offset != 1 {
		t.Fatalf("error = %v, want a DecodeError for event_timestamp at byte 1", err)
	}
	rec, err = DecodeAs([]byte(`{"event_timestamp":1718000000000}`), LogTypeMailboxAccess)
	if err != nil {
		t.Fatal(err)
	}
	errs := flatten(rec.Validate())
	if len(errs) != 12 {
		t.Fatalf("want 12 missing-field errors, got %d: %v", len(errs), errs)
	}
}
