package event

import (
	"errors"
	"fmt"
)

// ErrUnclassified is returned (wrapped) by Classify and Decode when no key
// of a JSON object identifies its log type.
var ErrUnclassified = errors.New("cannot tell the log type")

// classifier accumulates the weak signals of formats.md §1.8; the strong
// ones end the walk at once.
type classifier struct {
	result     LogType
	tokenVerb  bool // action is "create" or "delete"
	name       bool // name present
	tokenExtra bool // expires_time or scopes present
	trail      int  // CloudTrail keys seen
}

// member looks at one top-level member and reports whether the type is
// decided.
func (c *classifier) member(key []byte, escaped bool, v []byte) bool {
	if escaped {
		s, _ := unquote(key, true)
		key = []byte(s)
	}
	switch string(key) {
	// WorkMail audit records (§1.8). Checked by key alone: the first
	// decisive key wins, so a record is classified after reading only as
	// far as that key.
	case "object_type", "folder_path":
		c.result = LogTypeMailboxAccess
	case "scope":
		c.result = LogTypeAccessControl
	case "auth_successful":
		c.result = LogTypeAuthentication
	case "availability_event_successful":
		c.result = LogTypeAvailabilityProvider
	case "action":
		s := string(v)
		c.tokenVerb = s == `"create"` || s == `"delete"`
	case "name":
		c.name = true
	case "expires_time", "scopes":
		c.tokenExtra = true
	// Email events: the envelope is {"traceId":..., "event":{...}}.
	case "traceId":
		c.result = LogTypeEmailEvent
	case "event":
		if len(v) > 0 && v[0] == '{' {
			c.result = LogTypeEmailEvent
		}
	// CloudTrail: eventVersion is in every record, Insights included.
	case "eventVersion":
		c.result = LogTypeCloudTrail
	case "eventTime", "eventSource", "eventName", "awsRegion", "userIdentity", "eventID", "insightDetails":
		c.trail++
	case "Records":
		if len(v) > 0 && v[0] == '[' {
			c.result = LogTypeCloudTrailLogFile
		}
	case "digestStartTime", "digestEndTime", "digestS3Object", "digestPublicKeyFingerprint":
		c.result = LogTypeCloudTrailDigest
	}
	return c.result != ""
}

func (c *classifier) final() (LogType, error) {
	switch {
	case c.tokenVerb && c.name:
		return LogTypePersonalAccessToken, nil
	case c.trail >= 2:
		return LogTypeCloudTrail, nil
	case c.tokenExtra && c.name:
		// [I] beyond §1.8: a PAT record whose action is unusual still has a
		// token name and expiry or scopes.
		return LogTypePersonalAccessToken, nil
	}
	return "", fmt.Errorf("%w: none of object_type, folder_path, scope, auth_successful, "+
		"availability_event_successful, action+name, traceId, event, eventVersion, Records or digestStartTime is present", ErrUnclassified)
}

// Classify tells which log type an untagged JSON record belongs to, from
// its top-level keys (formats.md §1.8, extended to email events and
// CloudTrail). It reads only as far as the first decisive key, skips values
// without validating them (a malformed value is Decode's and the
// flattener's business) and does not allocate for records without escaped
// keys.
//
// Precedence, first decisive key in the input wins: object_type or
// folder_path → mailbox access; scope → access control; auth_successful →
// authentication; availability_event_successful → availability provider;
// traceId or an "event" object → email event; eventVersion → CloudTrail
// record; Records array → CloudTrail log file; digestStartTime (and the
// other digest keys) → digest. Otherwise action create/delete with name →
// personal access token; two or more CloudTrail keys (eventTime,
// eventSource, ...) → CloudTrail record.
func Classify(raw []byte) (LogType, error) {
	it, ok := newFastIter(raw)
	if !ok {
		return "", ErrNotObject
	}
	var c classifier
	for {
		key, esc, val, ok := it.next()
		if !ok {
			break
		}
		if c.member(key, esc, val) {
			return c.result, nil
		}
	}
	if it.bad {
		return "", synErr(it.i, "malformed JSON object")
	}
	return c.final()
}

// New returns an empty record of type t, or nil if t is not Known.
func New(t LogType) Record {
	switch t {
	case LogTypeMailboxAccess:
		return new(MailboxAccess)
	case LogTypeAccessControl:
		return new(AccessControl)
	case LogTypeAuthentication:
		return new(Authentication)
	case LogTypeAvailabilityProvider:
		return new(AvailabilityProvider)
	case LogTypePersonalAccessToken:
		return new(PersonalAccessToken)
	case LogTypeEmailEvent:
		return new(EmailEvent)
	case LogTypeCloudTrail:
		return new(CloudTrailRecord)
	case LogTypeCloudTrailLogFile:
		return new(CloudTrailLogFile)
	case LogTypeCloudTrailDigest:
		return new(CloudTrailDigest)
	}
	return nil
}

// Decode classifies raw and decodes it into the matching type. It does not
// validate; call Validate on the result.
func Decode(raw []byte) (Record, LogType, error) {
	t, err := Classify(raw)
	if err != nil {
		return nil, "", err
	}
	rec, err := DecodeAs(raw, t)
	return rec, t, err
}

// DecodeAs decodes raw as a record of the known type t, for records whose
// type comes from their delivery (log group, S3 prefix...), as §1.2 asks.
func DecodeAs(raw []byte, t LogType) (Record, error) {
	rec := New(t)
	if rec == nil {
		return nil, fmt.Errorf("unknown log type %q", t)
	}
	if err := rec.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("decoding %s record: %w", t, err)
	}
	return rec, nil
}

// Timestamp returns a record's event time in epoch milliseconds: the
// top-level event_timestamp (a number, or leniently a numeric string, §1.2)
// or CloudTrail's eventTime (RFC 3339). It stops at the first of the two
// keys and decodes nothing else. ok is false when neither is present or the
// value does not parse; the caller then falls back (--time-field, then
// ingestion time).
func Timestamp(raw []byte) (ms int64, ok bool) {
	it, isObj := newFastIter(raw)
	if !isObj {
		return 0, false
	}
	for {
		key, _, val, more := it.next()
		if !more {
			return 0, false
		}
		switch string(key) {
		case "event_timestamp":
			return parseInt64(val)
		case "eventTime":
			return trailMillis(val)
		}
	}
}

func trailMillis(v []byte) (int64, bool) {
	if len(v) < 2 || v[0] != '"' {
		return 0, false
	}
	inner := v[1 : len(v)-1]
	if t, ok := parseSimpleUTC(string(inner)); ok { // no allocation: the conversion does not escape
		return t.UnixMilli(), true
	}
	s, ok := stringValue(v)
	if !ok {
		return 0, false
	}
	t, err := parseTrailTime(s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}
