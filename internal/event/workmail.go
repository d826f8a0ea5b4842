package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Record is any record or file this package decodes. Pointers to the
// record types implement it.
type Record interface {
	LogType() LogType
	// Validate reports every problem found, joined; each is a *FieldError
	// naming the JSON field and the bad value.
	Validate() error
	json.Marshaler
	json.Unmarshaler
}

// MailboxAccess is a WORKMAIL_MAILBOX_ACCESS_LOGS record (formats.md §1.3).
type MailboxAccess struct {
	meta
	EventTimestamp  int64         `json:"event_timestamp,omitempty" event:"required"`
	RequestID       string        `json:"request_id,omitempty" event:"required"`
	OrganizationARN string        `json:"organization_arn,omitempty" event:"required"`
	UserID          string        `json:"user_id,omitempty" event:"required"`
	ImpersonatorID  string        `json:"impersonator_id,omitempty"`
	Protocol        Protocol      `json:"protocol,omitempty" event:"required"`
	SourceIP        string        `json:"source_ip,omitempty" event:"required"`
	UserAgent       string        `json:"user_agent,omitempty" event:"present"`
	Action          MailboxAction `json:"action,omitempty" event:"required"`
	OwnerID         string        `json:"owner_id,omitempty" event:"required"`
	ObjectType      ObjectType    `json:"object_type,omitempty" event:"required"`
	ItemID          string        `json:"item_id,omitempty"` // absent for Folder objects
	FolderPath      string        `json:"folder_path,omitempty" event:"required"`
	FolderID        string        `json:"folder_id,omitempty" event:"required"`
	AttachmentPath  string        `json:"attachment_path,omitempty"`
	ActionAllowed   bool          `json:"action_allowed,omitempty" event:"required"`
}

// AccessControl is an ACCESS_CONTROL_LOGS record (§1.4). RuleID is absent
// when no rule matched. There is no user_agent and no rule effect field.
type AccessControl struct {
	meta
	EventTimestamp  int64    `json:"event_timestamp,omitempty" event:"required"`
	RequestID       string   `json:"request_id,omitempty" event:"required"`
	OrganizationARN string   `json:"organization_arn,omitempty" event:"required"`
	UserID          string   `json:"user_id,omitempty" event:"required"`
	ImpersonatorID  string   `json:"impersonator_id,omitempty"`
	Protocol        Protocol `json:"protocol,omitempty" event:"required"`
	SourceIP        string   `json:"source_ip,omitempty" event:"required"`
	Scope           Scope    `json:"scope,omitempty" event:"required"`
	RuleID          string   `json:"rule_id,omitempty"`
	AccessGranted   bool     `json:"access_granted,omitempty" event:"required"`
}

// Authentication is an AUTHENTICATION_LOGS record (§1.5). UserID may be
// empty or absent when the attempt failed; both forms round-trip.
type Authentication struct {
	meta
	EventTimestamp        int64    `json:"event_timestamp,omitempty" event:"required"`
	RequestID             string   `json:"request_id,omitempty" event:"required"`
	OrganizationARN       string   `json:"organization_arn,omitempty" event:"required"`
	UserID                string   `json:"user_id,omitempty"`
	User                  string   `json:"user,omitempty" event:"present"`
	Protocol              Protocol `json:"protocol,omitempty" event:"required"`
	SourceIP              string   `json:"source_ip,omitempty" event:"required"`
	UserAgent             string   `json:"user_agent,omitempty" event:"present"`
	Method                string   `json:"method,omitempty" event:"required"` // only "basic" is documented; free text
	AuthSuccessful        bool     `json:"auth_successful,omitempty" event:"required"`
	AuthFailedReason      string   `json:"auth_failed_reason,omitempty"` // free text; vocabulary unpublished
	PersonalAccessTokenID string   `json:"personal_access_token_id,omitempty"`
}

// AvailabilityProvider is a WORKMAIL_AVAILABILITY_PROVIDER_LOGS record
// (§1.6).
type AvailabilityProvider struct {
	meta
	EventTimestamp              int64        `json:"event_timestamp,omitempty" event:"required"`
	RequestID                   string       `json:"request_id,omitempty" event:"required"`
	OrganizationARN             string       `json:"organization_arn,omitempty" event:"required"`
	UserID                      string       `json:"user_id,omitempty" event:"required"`
	Type                        ProviderType `json:"type,omitempty" event:"required"`
	Domain                      string       `json:"domain,omitempty" event:"required"`
	FunctionARN                 string       `json:"function_arn,omitempty"` // only when Type is LAMBDA
	EWSEndpoint                 string       `json:"ews_endpoint,omitempty"` // only when Type is EWS
	ErrorMessage                string       `json:"error_message,omitempty"`
	AvailabilityEventSuccessful bool         `json:"availability_event_successful,omitempty" event:"required"`
}

// PersonalAccessToken is a WORKMAIL_PERSONAL_ACCESS_TOKEN_LOGS record
// (§1.7). The JSON types of expires_time and scopes are undocumented, so
// both keep the form they arrived in.
type PersonalAccessToken struct {
	meta
	EventTimestamp  int64       `json:"event_timestamp,omitempty" event:"required"`
	RequestID       string      `json:"request_id,omitempty" event:"required"`
	OrganizationARN string      `json:"organization_arn,omitempty" event:"required"`
	UserID          string      `json:"user_id,omitempty" event:"required"`
	User            string      `json:"user,omitempty" event:"present"`
	Protocol        Protocol    `json:"protocol,omitempty" event:"required"`
	SourceIP        string      `json:"source_ip,omitempty" event:"required"`
	UserAgent       string      `json:"user_agent,omitempty" event:"present"`
	Action          TokenAction `json:"action,omitempty" event:"required"`
	Name            string      `json:"name,omitempty" event:"required"`
	ExpiresTime     FlexTime    `json:"expires_time,omitzero"`
	Scopes          StringList  `json:"scopes,omitzero"`
}

func (r MailboxAccess) MarshalJSON() ([]byte, error)         { return marshal(&r) }
func (r *MailboxAccess) UnmarshalJSON(b []byte) error        { return unmarshal(r, b) }
func (r AccessControl) MarshalJSON() ([]byte, error)         { return marshal(&r) }
func (r *AccessControl) UnmarshalJSON(b []byte) error        { return unmarshal(r, b) }
func (r Authentication) MarshalJSON() ([]byte, error)        { return marshal(&r) }
func (r *Authentication) UnmarshalJSON(b []byte) error       { return unmarshal(r, b) }
func (r AvailabilityProvider) MarshalJSON() ([]byte, error)  { return marshal(&r) }
func (r *AvailabilityProvider) UnmarshalJSON(b []byte) error { return unmarshal(r, b) }
func (r PersonalAccessToken) MarshalJSON() ([]byte, error)   { return marshal(&r) }
func (r *PersonalAccessToken) UnmarshalJSON(b []byte) error  { return unmarshal(r, b) }

func (*MailboxAccess) LogType() LogType        { return LogTypeMailboxAccess }
func (*AccessControl) LogType() LogType        { return LogTypeAccessControl }
func (*Authentication) LogType() LogType       { return LogTypeAuthentication }
func (*AvailabilityProvider) LogType() LogType { return LogTypeAvailabilityProvider }
func (*PersonalAccessToken) LogType() LogType  { return LogTypePersonalAccessToken }

// Time returns event_timestamp as a time.
func (r *MailboxAccess) Time() time.Time        { return time.UnixMilli(r.EventTimestamp).UTC() }
func (r *AccessControl) Time() time.Time        { return time.UnixMilli(r.EventTimestamp).UTC() }
func (r *Authentication) Time() time.Time       { return time.UnixMilli(r.EventTimestamp).UTC() }
func (r *AvailabilityProvider) Time() time.Time { return time.UnixMilli(r.EventTimestamp).UTC() }
func (r *PersonalAccessToken) Time() time.Time  { return time.UnixMilli(r.EventTimestamp).UTC() }

// common checks the fields every audit record shares.
func (v *validator) common(rec any, m *meta, ts int64, orgARN string) {
	v.structure(rec, m)
	v.epochMillis("event_timestamp", ts, m.hasKey(rec, "event_timestamp"))
	v.orgARN("organization_arn", orgARN)
}

func (r *MailboxAccess) Validate() error {
	var v validator
	v.common(r, &r.meta, r.EventTimestamp, r.OrganizationARN)
	oneOf(&v, "protocol", r.Protocol, Protocols)
	oneOf(&v, "action", r.Action, MailboxActions)
	oneOf(&v, "object_type", r.ObjectType, ObjectTypes)
	if r.ObjectType != ObjectAttachment {
		v.absent("attachment_path", r.AttachmentPath, "is only valid when object_type is Attachment")
	}
	return v.err()
}

func (r *AccessControl) Validate() error {
	var v validator
	v.common(r, &r.meta, r.EventTimestamp, r.OrganizationARN)
	oneOf(&v, "protocol", r.Protocol, Protocols)
	oneOf(&v, "scope", r.Scope, Scopes)
	return v.err()
}

func (r *Authentication) Validate() error {
	var v validator
	v.common(r, &r.meta, r.EventTimestamp, r.OrganizationARN)
	oneOf(&v, "protocol", r.Protocol, Protocols)
	if r.AuthSuccessful {
		v.absent("auth_failed_reason", r.AuthFailedReason, "is only valid when auth_successful is false")
	}
	return v.err()
}

func (r *AvailabilityProvider) Validate() error {
	var v validator
	v.common(r, &r.meta, r.EventTimestamp, r.OrganizationARN)
	oneOf(&v, "type", r.Type, ProviderTypes)
	if r.Type != ProviderLambda {
		v.absent("function_arn", r.FunctionARN, "is only valid when type is LAMBDA")
	}
	if r.Type != ProviderEWS {
		v.absent("ews_endpoint", r.EWSEndpoint, "is only valid when type is EWS")
	}
	if r.AvailabilityEventSuccessful {
		v.absent("error_message", r.ErrorMessage, "is only valid when availability_event_successful is false")
	}
	return v.err()
}

func (r *PersonalAccessToken) Validate() error {
	var v validator
	v.common(r, &r.meta, r.EventTimestamp, r.OrganizationARN)
	oneOf(&v, "protocol", r.Protocol, TokenProtocols)
	oneOf(&v, "action", r.Action, TokenActions)
	if !r.ExpiresTime.IsZero() {
		if _, err := r.ExpiresTime.Time(); err != nil {
			v.add("expires_time", r.ExpiresTime.raw, "is not a time: "+err.Error())
		}
	}
	return v.err()
}

// StringList is a JSON value that is either one string or an array of
// strings: PAT `scopes` (§1.7, type undocumented) and the OUTGOING_EMAIL_BOUNCED
// `destination` (§2.2). It is written back in the form it arrived in.
type StringList struct {
	Values []string
	// Single makes a one-element list encode as a plain JSON string.
	Single bool
}

// IsZero reports an absent value (for omitzero).
func (l StringList) IsZero() bool { return l.Values == nil && !l.Single }

func (l StringList) MarshalJSON() ([]byte, error) {
	if l.Single && len(l.Values) == 1 {
		return AppendString(nil, l.Values[0]), nil
	}
	b := []byte{'['}
	for i, s := range l.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']'), nil
}

func (l *StringList) UnmarshalJSON(b []byte) error {
	*l = StringList{}
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		s, ok := stringValue(b)
		if !ok {
			return fmt.Errorf("bad string %s", abbrev(b))
		}
		l.Values, l.Single = []string{s}, true
		return nil
	case len(b) > 0 && b[0] == '[':
		l.Values = []string{}
		return walkArray(b, func(elem []byte, off int) error {
			s, ok := stringValue(elem)
			if !ok {
				return fmt.Errorf("element %d: expected a string, got %s", len(l.Values), abbrev(elem))
			}
			l.Values = append(l.Values, s)
			return nil
		})
	}
	return fmt.Errorf("expected a string or an array of strings, got %s", abbrev(b))
}

// FlexTime is a time whose JSON type is undocumented: PAT expires_time
// (§1.7) and email messageTimestamp (§2.2). It holds the JSON token as
// given, a string (ISO 8601 / RFC 3339) or a number (epoch ms), and writes
// it back unchanged.
type FlexTime struct{ raw string }

// MillisTime returns a FlexTime written as epoch milliseconds.
func MillisTime(ms int64) FlexTime { return FlexTime{raw: strconv.FormatInt(ms, 10)} }

// StringTime returns a FlexTime written as the JSON string s.
func StringTime(s string) FlexTime { return FlexTime{raw: string(AppendString(nil, s))} }

// IsZero reports an absent value (for omitzero).
func (t FlexTime) IsZero() bool { return t.raw == "" }

// String returns the JSON token.
func (t FlexTime) String() string { return t.raw }

// Time interprets the value: epoch milliseconds for numbers (and numeric
// strings), RFC 3339 or a bare YYYY-MM-DD date for strings.
func (t FlexTime) Time() (time.Time, error) {
	if t.raw == "" {
		return time.Time{}, fmt.Errorf("no time")
	}
	if ms, ok := parseInt64([]byte(t.raw)); ok {
		return time.UnixMilli(ms).UTC(), nil
	}
	s, ok := stringValue([]byte(t.raw))
	if !ok {
		return time.Time{}, fmt.Errorf("%s is neither a string nor an integer", t.raw)
	}
	if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return tm, nil
	}
	if tm, err := time.Parse(time.DateOnly, s); err == nil {
		return tm, nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, YYYY-MM-DD or epoch milliseconds", s)
}

func (t FlexTime) MarshalJSON() ([]byte, error) {
	if t.raw == "" {
		return []byte("null"), nil
	}
	return []byte(t.raw), nil
}

func (t *FlexTime) UnmarshalJSON(b []byte) error {
	t.raw = ""
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		if _, _, err := skipString(b, 0); err != nil {
			return err
		}
		t.raw = string(b)
		return nil
	}
	end, err := skipNumber(b, 0)
	if err != nil || end != len(b) {
		return fmt.Errorf("expected a time string or epoch milliseconds, got %s", abbrev(b))
	}
	t.raw = string(b)
	return nil
}
