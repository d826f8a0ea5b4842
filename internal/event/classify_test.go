package event

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want LogType // "" means an error is expected
		err  error   // for want == "": the error it must wrap (nil: any)
	}{
		{"mailbox by object_type", `{"event_timestamp":1,"action":"create","object_type":"Folder"}`, LogTypeMailboxAccess, nil},
		{"mailbox by folder_path alone", `{"folder_path":"/Inbox"}`, LogTypeMailboxAccess, nil},
		{"access control", `{"event_timestamp":1,"scope":"DeviceAccessControl","access_granted":true}`, LogTypeAccessControl, nil},
		{"authentication", `{"user":"x","auth_successful":"false"}`, LogTypeAuthentication, nil},
		{"availability", `{"type":"EWS","availability_event_successful":true}`, LogTypeAvailabilityProvider, nil},
		{"pat create", `{"action":"create","name":"laptop","protocol":"webapp"}`, LogTypePersonalAccessToken, nil},
		{"pat delete, name first", `{"name":"laptop","action":"delete"}`, LogTypePersonalAccessToken, nil},
		{"pat by expiry and name", `{"action":"rotate","name":"laptop","expires_time":"2025-01-01"}`, LogTypePersonalAccessToken, nil},
		{"mailbox create with name is still mailbox", `{"action":"create","name":"x","object_type":"Message"}`, LogTypeMailboxAccess, nil},
		{"action create without name", `{"action":"create"}`, "", ErrUnclassified},
		{"email event", `{"traceId":"t","event":{"eventName":"RULE_APPLIED"}}`, LogTypeEmailEvent, nil},
		{"email event, extra envelope keys first", `{"x":1,"event":{"eventName":"X"}}`, LogTypeEmailEvent, nil},
		{"event that is not an object", `{"event":"login"}`, "", ErrUnclassified},
		{"cloudtrail", `{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z"}`, LogTypeCloudTrail, nil},
		{"cloudtrail without eventVersion", `{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com"}`, LogTypeCloudTrail, nil},
		{"cloudtrail log file", `{"Records":[]}`, LogTypeCloudTrailLogFile, nil},
		{"Records not an array", `{"Records":{}}`, "", ErrUnclassified},
		{"digest", `{"awsAccountId":"1","digestStartTime":"x"}`, LogTypeCloudTrailDigest, nil},
		{"escaped key", `{"\u0073cope":"AccessControl"}`, LogTypeAccessControl, nil},
		{"whitespace", " \n{ \"scope\" : \"AccessControl\" } \n", LogTypeAccessControl, nil},
		{"empty object", `{}`, "", ErrUnclassified},
		{"array", `[{"scope":"x"}]`, "", ErrNotObject},
		{"not JSON", `scope`, "", ErrNotObject},
		{"empty input", ``, "", ErrNotObject},
		{"truncated before a decisive key", `{"event_timestamp":1,"user_`, "", nil},
		{"bad value before a decisive key is not Classify's business", `{"event_timestamp":01,"scope":"x"}`, LogTypeAccessControl, nil},
		{"unterminated string", `{"event_timestamp":1,"a":"\"}`, "", nil},
		{"missing colon", `{"event_timestamp" 1}`, "", nil},
		{"missing comma", `{"a":1 "scope":"x"}`, "", nil},
		{"unbalanced", `{"a":{"b":[}`, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Classify([]byte(tc.raw))
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("Classify = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Classify = %q, want an error", got)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Classify error %v does not wrap %v", err, tc.err)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		ms   int64
		ok   bool
	}{
		{"number", `{"event_timestamp":1718000000123,"x":1}`, 1718000000123, true},
		{"numeric string", `{"event_timestamp":"1718000000123"}`, 1718000000123, true},
		{"integral float", `{"event_timestamp":1.718e12}`, 1718000000000, true},
		{"not first", `{"request_id":"a\"b","nested":{"event_timestamp":5},"event_timestamp":42}`, 42, true},
		{"cloudtrail", `{"eventVersion":"1.08","userIdentity":{"type":"Root"},"eventTime":"2014-03-06T21:22:54Z"}`, 1394140974000, true},
		{"cloudtrail fraction and offset", `{"eventTime":"2014-03-06T22:22:54.5+01:00"}`, 1394140974500, true},
		{"fractional ms rejected", `{"event_timestamp":1.5}`, 0, false},
		{"word", `{"event_timestamp":"soon"}`, 0, false},
		{"empty string", `{"event_timestamp":""}`, 0, false},
		{"bad date", `{"eventTime":"2014-02-30T00:00:00Z"}`, 0, false},
		{"eventTime not a string", `{"eventTime":1394140974000}`, 0, false},
		{"neither", `{"traceId":"t","event":{"eventName":"X"}}`, 0, false},
		{"overflow", `{"event_timestamp":99999999999999999999}`, 0, false},
		{"negative", `{"event_timestamp":-1000}`, -1000, true},
		{"not JSON", `event_timestamp=5`, 0, false},
		{"truncated before", `{"a":"`, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, ok := Timestamp([]byte(tc.raw))
			if ms != tc.ms || ok != tc.ok {
				t.Fatalf("Timestamp = %d, %v; want %d, %v", ms, ok, tc.ms, tc.ok)
			}
		})
	}
}

// TestLenientDecode covers §1.2: numeric-string timestamps and string
// booleans are accepted and written back as JSON number and boolean.
func TestLenientDecode(t *testing.T) {
	raw := `{"event_timestamp":"1718000001000","request_id":"r","organization_arn":"` + orgARN + `","user_id":"u",` +
		`"protocol":"IMAP","source_ip":"192.0.2.1","scope":"AccessControl","access_granted":"true"}`
	rec, lt, err := Decode([]byte(raw))
	if err != nil || lt != LogTypeAccessControl {
		t.Fatalf("Decode = %v, %v", lt, err)
	}
	r := rec.(*AccessControl)
	if r.EventTimestamp != 1718000001000 || !r.AccessGranted {
		t.Fatalf("decoded %+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	out, _ := r.MarshalJSON()
	if !strings.Contains(string(out), `"event_timestamp":1718000001000,`) || !strings.Contains(string(out), `"access_granted":true}`) {
		t.Fatalf("not normalised: %s", out)
	}
	for _, bad := range []string{`"yes"`, `1`, `"True"`} {
		_, err := DecodeAs(replaceMember(t, raw, "access_granted", &bad), LogTypeAccessControl)
		if err == nil || !strings.Contains(err.Error(), "access_granted") {
			t.Errorf("access_granted %s: error %v", bad, err)
		}
	}
}

// TestRoundTripEdges covers what the samples do not: unknown keys at every
// level, present-but-empty values, nulls, escapes, key order of records
// built in Go, and duplicate keys.
func TestRoundTripEdges(t *testing.T) {
	same := []struct {
		lt  LogType
		raw string
	}{
		{LogTypeEmailEvent, `{"traceId":"t","event":{"eventName":"OUTGOING_EMAIL_BOUNCED","destination":"x@example.org","reason":"550","messageSize":1234,"ruleActions":[]},"timestamp":"2024-01-01T00:00:00.000Z","_x":null}`},
		{LogTypeEmailEvent, `{"event":{"eventName":"OUTGOING_EMAIL_BOUNCED","destination":["a@b","c@d"],"bouncedRecipient":{"emailAddress":"a@b","diag":"x"}},"traceId":""}`},
		{LogTypeEmailEvent, `{"traceId":"t","event":{"eventName":"ORGANIZATION_EMAIL_RECEIVED","recipients":[],"subject":"\u00e9\t\"<x>\" & \u2028","messageTimestamp":"2024-06-10T06:13:20.000Z","virusVerdict":"PASS"}}`},
		{LogTypeMailboxAccess, `{"event_timestamp":0,"request_id":"","user_agent":"","action_allowed":false,"new_folder_path":"/x"}`},
		{LogTypeAuthentication, `{"event_timestamp":1,"auth_successful":false,"user_id":null,"personal_access_token_id":"p"}`},
		{LogTypePersonalAccessToken, `{"action":"create","name":"n","scopes":"IMAP","expires_time":1749513600000}`},
		{LogTypePersonalAccessToken, `{"action":"create","name":"n","scopes":[],"expires_time":null}`},
		{LogTypeCloudTrail, `{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","accessKeyId":"","sessionContext":{"attributes":{"creationDate":"20131102T010628Z","mfaAuthenticated":"false"},"sessionIssuer":{"type":"Role","userName":"r"},"webIdFederationData":{},"sourceIdentity":"s","assumedRoot":"true"},"inScopeOf":{"issuerType":"AWS::Lambda::Function"}},"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","requestParameters":null,"responseElements":null,"additionalEventData":{"bytesTransferredIn":0.0},"readOnly":true,"managementEvent":false,"resources":[{"ARN":"arn:aws:s3:::b/k","accountId":"123456789012","type":"AWS::S3::Object"}],"addendum":{"reason":"UPDATED_DATA","updatedFields":"tlsDetails","originalRequestID":"o","originalEventID":"e"},"sessionCredentialFromConsole":"true","edgeDeviceDetails":{"type":"device","deviceID":"d"},"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"b.s3.amazonaws.com"},"vpcEndpointId":"vpce-1","vpcEndpointAccountId":"123456789012","eventCategory":"Data","newTopLevelField":[1,2]}`},
		{LogTypeCloudTrail, `{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"End","insightType":"ApiErrorRateInsight","errorCode":"AccessDenied","insightContext":{"statistics":{"baseline":{"average":0.0000012},"insight":{"average":1e-7},"insightDuration":3,"baselineDuration":10080},"attributions":[{"attribute":"errorCode","insight":[{"value":"AccessDenied","average":2.5}],"baseline":[]}]}}}`},
		{LogTypeCloudTrailDigest, `{"awsAccountId":"111122223333","digestStartTime":"2015-08-20T17:01:31Z","previousDigestS3Bucket":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":"k","hashValue":"h","hashAlgorithm":"SHA-256","newestEventTime":"2015-08-20T17:01:31Z","oldestEventTime":"2015-08-20T17:01:31Z"}]}`},
	}
	for i, tc := range same {
		rec, err := DecodeAs([]byte(tc.raw), tc.lt)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		out, err := rec.MarshalJSON()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(jsonValue(t, []byte(tc.raw)), jsonValue(t, out)) {
			t.Errorf("%d: round trip changed the record\n in: %s\nout: %s", i, tc.raw, out)
		}
		if !isCompact(out) {
			t.Errorf("%d: not compact: %s", i, out)
		}
	}

	// Unknown keys are visible and editable.
	rec, _ := DecodeAs([]byte(same[0].raw), LogTypeEmailEvent)
	ev := rec.(*EmailEvent)
	if u := ev.Unknown(); len(u) != 2 || u[0].Key != "timestamp" || string(u[1].Value) != "null" {
		t.Errorf("Unknown() = %+v", u)
	}
	if u := ev.Event.Unknown(); len(u) != 1 || u[0].Key != "messageSize" || string(u[0].Value) != "1234" {
		t.Errorf("Event.Unknown() = %+v", u)
	}

	if err := ev.SetUnknown([]Member{{Key: "region", Value: json.RawMessage(` "eu-west-1" `)}, {Key: "traceId", Value: json.RawMessage(`"ignored"`)}}); err != nil {
		t.Fatal(err)
	}
	if out, _ := ev.MarshalJSON(); !strings.HasSuffix(string(out), `},"region":"eu-west-1"}`) || strings.Count(string(out), "traceId") != 1 {
		t.Errorf("after SetUnknown: %s", out)
	}
	if err := ev.SetUnknown([]Member{{Key: "x", Value: json.RawMessage(`{`)}}); err == nil {
		t.Error("SetUnknown accepted invalid JSON")
	}

	// Duplicate keys are rejected, with the offset of the second one.
	_, err := DecodeAs([]byte(`{"event_timestamp":1,"scope":"x","event_timestamp":2}`), LogTypeAccessControl)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 33 || !strings.Contains(se.Msg, `duplicate key "event_timestamp"`) {
		t.Errorf("duplicate key: %v", err)
	}

	// A wrong JSON type names the field.
	_, err = DecodeAs([]byte(`{"eventVersion":"1.0","readOnly":"maybe"}`), LogTypeCloudTrail)
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "readOnly" {
		t.Errorf("wrong type: %v", err)
	}
	_, err = DecodeAs([]byte(`{"traceId":"t","event":{"eventName":"X","recipients":"a@b"}}`), LogTypeEmailEvent)
	if err == nil || !strings.Contains(err.Error(), "event (key at byte 15): recipients (key at byte 17): expected an array") {
		t.Errorf("nested wrong type: %v", err)
	}
}

// TestBuiltInGo checks records constructed in Go: field order follows the
// spec tables, required false/empty values are written, optional empty ones
// are not, nulls appear only where CloudTrail allows them.
func TestBuiltInGo(t *testing.T) {
	tests := []struct {
		rec  Record
		want string
	}{
		{&Authentication{EventTimestamp: 1718000002000, RequestID: "r", OrganizationARN: orgARN, User: "jane",
			Protocol: ProtocolIMAP, SourceIP: "192.0.2.1", Method: "basic", AuthFailedReason: "bad password"},
			`{"event_timestamp":1718000002000,"request_id":"r","organization_arn":"` + orgARN + `","user":"jane","protocol":"IMAP","source_ip":"192.0.2.1","user_agent":"","method":"basic","auth_successful":false,"auth_failed_reason":"bad password"}`},
		{&EmailEvent{TraceID: "t", Event: EmailEventDetail{EventName: EventOrganizationEmailReceived,
			Recipients: []string{"a@example.com"}, From: "x@qq.com", MessageID: "<m@qq.com>", MessageTimestamp: MillisTime(1718000000000),
			RuleActions: []RuleResult{{Action: "MOVE_TO_JUNK"}}}},
			`{"traceId":"t","event":{"eventName":"ORGANIZATION_EMAIL_RECEIVED","recipients":["a@example.com"],"from":"x@qq.com","messageId":"<m@qq.com>","messageTimestamp":1718000000000,"ruleActions":[{"action":"MOVE_TO_JUNK"}]}}`},
		{&EmailEvent{TraceID: "t", Event: EmailEventDetail{EventName: EventOutgoingEmailBounced,
			Destination: StringList{Values: []string{"a@b"}, Single: true}, Reason: "550"}},
			`{"traceId":"t","event":{"eventName":"OUTGOING_EMAIL_BOUNCED","destination":"a@b","reason":"550"}}`},
		{&PersonalAccessToken{EventTimestamp: 1, Action: TokenCreate, Name: "n", ExpiresTime: StringTime("2025-06-10T00:00:00Z"), Scopes: StringList{Values: []string{"IMAP", "EWS"}}},
			`{"event_timestamp":1,"request_id":"","organization_arn":"","user_id":"","user":"","protocol":"","source_ip":"","user_agent":"","action":"create","name":"n","expires_time":"2025-06-10T00:00:00Z","scopes":["IMAP","EWS"]}`},
		{&CloudTrailRecord{EventVersion: "1.08", EventTime: "2024-01-01T00:00:00Z", AWSRegion: "us-east-1",
			EventSource: "workmail.amazonaws.com", EventName: "CreateUser", RequestParameters: Null, ReadOnly: new(bool),
			Resources: []Resource{{ARN: "arn:aws:workmail:us-east-1:111122223333:organization/m-x"}}},
			`{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"workmail.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","requestParameters":null,"readOnly":false,"resources":[{"ARN":"arn:aws:workmail:us-east-1:111122223333:organization/m-x"}]}`},
		{&CloudTrailDigest{AWSAccountID: "111122223333"},
			`{"awsAccountId":"111122223333","digestStartTime":"","digestEndTime":"","digestS3Bucket":"","digestS3Object":"","digestPublicKeyFingerprint":"","digestSignatureAlgorithm":"","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`},
		{&CloudTrailLogFile{}, `{"Records":[]}`},
	}
	for i, tc := range tests {
		// MarshalJSON leaves <, > and & alone; json.Marshal re-escapes
		// them (same JSON value).
		out, err := tc.rec.MarshalJSON()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		viaJSON, err := json.Marshal(tc.rec)
		if err != nil || !reflect.DeepEqual(jsonValue(t, viaJSON), jsonValue(t, out)) {
			t.Errorf("%d: json.Marshal = %s, %v", i, viaJSON, err)
		}
		if string(out) != tc.want {
			t.Errorf("%d:\n got %s\nwant %s", i, out, tc.want)
		}
		buf, err := Append([]byte("x"), tc.rec)
		if err != nil || string(buf) != "x"+tc.want {
			t.Errorf("%d: Append = %s, %v", i, buf, err)
		}
	}
}
