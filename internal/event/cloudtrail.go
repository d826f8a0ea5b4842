package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Null is the JSON null, for the CloudTrail fields that are "object or
// null" (requestParameters, responseElements).
var Null = json.RawMessage("null")

// CloudTrailRecord is one CloudTrail event (formats.md §4.1). Free-form
// service payloads (requestParameters, responseElements,
// additionalEventData, serviceEventDetails, edgeDeviceDetails) are kept as
// raw JSON: a JSON null stays null and an absent key stays absent. Keys
// CloudTrail adds in later eventVersions are kept and written back.
//
// Insights records omit userIdentity, eventSource, eventName,
// sourceIPAddress and userAgent; they live in InsightDetails.
type CloudTrailRecord struct {
	meta
	EventVersion      string          `json:"eventVersion,omitempty" event:"required"`
	UserIdentity      *UserIdentity   `json:"userIdentity,omitempty"`
	EventTime         string          `json:"eventTime,omitempty" event:"required"` // YYYY-MM-DDTHH:MM:SSZ; see Time
	EventSource       string          `json:"eventSource,omitempty"`
	EventName         string          `json:"eventName,omitempty"`
	AWSRegion         string          `json:"awsRegion,omitempty" event:"required"`
	SourceIPAddress   string          `json:"sourceIPAddress,omitempty"`
	UserAgent         string          `json:"userAgent,omitempty"`
	ErrorCode         string          `json:"errorCode,omitempty"`
	ErrorMessage      string          `json:"errorMessage,omitempty"`
	RequestParameters json.RawMessage `json:"requestParameters,omitempty"`
	ResponseElements  json.RawMessage `json:"responseElements,omitempty"`
	// AdditionalEventData is raw JSON (≤28 KB).
	AdditionalEventData  json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID            string          `json:"requestID,omitempty"`
	EventID              string          `json:"eventID,omitempty"`
	ReadOnly             *bool           `json:"readOnly,omitempty"`
	Resources            []Resource      `json:"resources,omitempty"`
	EventType            TrailEventType  `json:"eventType,omitempty"`
	APIVersion           string          `json:"apiVersion,omitempty"`
	ManagementEvent      *bool           `json:"managementEvent,omitempty"`
	RecipientAccountID   string          `json:"recipientAccountId,omitempty"`
	ServiceEventDetails  json.RawMessage `json:"serviceEventDetails,omitempty"`
	SharedEventID        string          `json:"sharedEventID,omitempty"`
	VPCEndpointID        string          `json:"vpcEndpointId,omitempty"`
	VPCEndpointAccountID string          `json:"vpcEndpointAccountId,omitempty"`
	EventCategory        EventCategory   `json:"eventCategory,omitempty"`
	Addendum             *Addendum       `json:"addendum,omitempty"`
	// SessionCredentialFromConsole is the string "true", present only when true.
	SessionCredentialFromConsole string          `json:"sessionCredentialFromConsole,omitempty"`
	EdgeDeviceDetails            json.RawMessage `json:"edgeDeviceDetails,omitempty"`
	TLSDetails                   *TLSDetails     `json:"tlsDetails,omitempty"`
	InsightDetails               *InsightDetails `json:"insightDetails,omitempty"`
}

// UserIdentity is the caller (§4.2).
type UserIdentity struct {
	meta
	Type             IdentityType    `json:"type,omitempty" event:"required"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"` // may be absent or ""; both round-trip
	UserName         string          `json:"userName,omitempty"`
	InvokedBy        string          `json:"invokedBy,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
	CredentialID     string          `json:"credentialId,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
	OnBehalfOf       *OnBehalfOf     `json:"onBehalfOf,omitempty"`
}

// SessionContext describes temporary credentials.
type SessionContext struct {
	meta
	Attributes          *SessionAttributes   `json:"attributes,omitempty"`
	SessionIssuer       *SessionIssuer       `json:"sessionIssuer,omitempty"`
	WebIDFederationData *WebIDFederationData `json:"webIdFederationData,omitempty"`
	SourceIdentity      string               `json:"sourceIdentity,omitempty"`
	EC2RoleDelivery     string               `json:"ec2RoleDelivery,omitempty"`
	AssumedRoot         string               `json:"assumedRoot,omitempty"`
}

// SessionAttributes: both are strings in CloudTrail JSON. CreationDate
// comes in basic (20131102T010628Z) and extended (2023-04-13T19:38:02Z) ISO
// form; see CreationTime.
type SessionAttributes struct {
	meta
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated,omitempty"` // "true" or "false"
}

// SessionIssuer is who issued the temporary credentials.
type SessionIssuer struct {
	meta
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// WebIDFederationData is set for web identity federation.
type WebIDFederationData struct {
	meta
	FederatedProvider string                     `json:"federatedProvider,omitempty"`
	Attributes        map[string]json.RawMessage `json:"attributes,omitempty"`
}

// OnBehalfOf is set for IdentityCenterUser identities.
type OnBehalfOf struct {
	meta
	UserID           string `json:"userId,omitempty"`
	IdentityStoreARN string `json:"identityStoreArn,omitempty"`
}

// Resource is one element of resources[]; note the upper-case ARN key.
type Resource struct {
	meta
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// Addendum explains a late or corrected record.
type Addendum struct {
	meta
	Reason            AddendumReason `json:"reason,omitempty"`
	UpdatedFields     string         `json:"updatedFields,omitempty"`
	OriginalRequestID string         `json:"originalRequestID,omitempty"`
	OriginalEventID   string         `json:"originalEventID,omitempty"`
}

// TLSDetails describes the caller's TLS connection.
type TLSDetails struct {
	meta
	TLSVersion               string `json:"tlsVersion,omitempty"`
	CipherSuite              string `json:"cipherSuite,omitempty"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader,omitempty"`
}

// InsightDetails is the body of an Insights record (§4.6).
type InsightDetails struct {
	meta
	State          InsightState    `json:"state,omitempty" event:"required"`
	EventSource    string          `json:"eventSource,omitempty"`
	EventName      string          `json:"eventName,omitempty"`
	InsightType    InsightType     `json:"insightType,omitempty"`
	ErrorCode      string          `json:"errorCode,omitempty"`
	InsightContext *InsightContext `json:"insightContext,omitempty"`
}

// InsightContext holds the statistics and the top attributions.
type InsightContext struct {
	meta
	Statistics   *InsightStatistics   `json:"statistics,omitempty"`
	Attributions []InsightAttribution `json:"attributions,omitempty"`
}

// InsightStatistics compares the insight window with the baseline.
type InsightStatistics struct {
	meta
	Baseline         *InsightAverage `json:"baseline,omitempty"`
	Insight          *InsightAverage `json:"insight,omitempty"`
	InsightDuration  float64         `json:"insightDuration,omitempty"`  // minutes; End records only
	BaselineDuration float64         `json:"baselineDuration,omitempty"` // minutes
}

// InsightAverage is {"average": n}.
type InsightAverage struct {
	meta
	Average float64 `json:"average,omitempty"`
}

// InsightAttribution is one attribute's top contributors.
type InsightAttribution struct {
	meta
	Attribute string               `json:"attribute,omitempty"` // userIdentityArn, userAgent or errorCode
	Insight   []InsightAttrAverage `json:"insight,omitempty"`
	Baseline  []InsightAttrAverage `json:"baseline,omitempty"`
}

// InsightAttrAverage is {"value": v, "average": n}.
type InsightAttrAverage struct {
	meta
	Value   string  `json:"value,omitempty"`
	Average float64 `json:"average,omitempty"`
}

// CloudTrailLogFile is the S3 log file envelope {"Records":[...]} (§4.4).
type CloudTrailLogFile struct {
	meta
	Records []CloudTrailRecord `json:"Records,omitempty" event:"present"`
}

// CloudTrailDigest is a digest file (§4.5). The previousDigest* fields and
// newest/oldestEventTime are JSON null in starting and empty digests; a nil
// pointer is written as null, never omitted. Validate the signature over
// the exact bytes you read, never over a re-encoding.
type CloudTrailDigest struct {
	meta
	AWSAccountID                string          `json:"awsAccountId,omitempty" event:"required"`
	DigestStartTime             string          `json:"digestStartTime,omitempty" event:"required"`
	DigestEndTime               string          `json:"digestEndTime,omitempty" event:"required"`
	DigestS3Bucket              string          `json:"digestS3Bucket,omitempty" event:"required"`
	DigestS3Object              string          `json:"digestS3Object,omitempty" event:"required"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint,omitempty" event:"required"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm,omitempty" event:"required"`
	NewestEventTime             *string         `json:"newestEventTime,omitempty" event:"present"`
	OldestEventTime             *string         `json:"oldestEventTime,omitempty" event:"present"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket,omitempty" event:"present"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object,omitempty" event:"present"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue,omitempty" event:"present"`
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm,omitempty" event:"present"`
	PreviousDigestSignature     *string         `json:"previousDigestSignature,omitempty" event:"present"`
	LogFiles                    []DigestLogFile `json:"logFiles,omitempty" event:"present"`
}

// DigestLogFile is one log file covered by a digest.
type DigestLogFile struct {
	meta
	S3Bucket        string `json:"s3Bucket,omitempty" event:"required"`
	S3Object        string `json:"s3Object,omitempty" event:"required"`
	HashValue       string `json:"hashValue,omitempty" event:"required"` // hex SHA-256 of the uncompressed file
	HashAlgorithm   string `json:"hashAlgorithm,omitempty" event:"required"`
	NewestEventTime string `json:"newestEventTime,omitempty"`
	OldestEventTime string `json:"oldestEventTime,omitempty"`
}

func (r CloudTrailRecord) MarshalJSON() ([]byte, error)     { return marshal(&r) }
func (r *CloudTrailRecord) UnmarshalJSON(b []byte) error    { return unmarshal(r, b) }
func (r UserIdentity) MarshalJSON() ([]byte, error)         { return marshal(&r) }
func (r *UserIdentity) UnmarshalJSON(b []byte) error        { return unmarshal(r, b) }
func (r SessionContext) MarshalJSON() ([]byte, error)       { return marshal(&r) }
func (r *SessionContext) UnmarshalJSON(b []byte) error      { return unmarshal(r, b) }
func (r SessionAttributes) MarshalJSON() ([]byte, error)    { return marshal(&r) }
func (r *SessionAttributes) UnmarshalJSON(b []byte) error   { return unmarshal(r, b) }
func (r SessionIssuer) MarshalJSON() ([]byte, error)        { return marshal(&r) }
func (r *SessionIssuer) UnmarshalJSON(b []byte) error       { return unmarshal(r, b) }
func (r WebIDFederationData) MarshalJSON() ([]byte, error)  { return marshal(&r) }
func (r *WebIDFederationData) UnmarshalJSON(b []byte) error { return unmarshal(r, b) }
func (r OnBehalfOf) MarshalJSON() ([]byte, error)           { return marshal(&r) }
func (r *OnBehalfOf) UnmarshalJSON(b []byte) error          { return unmarshal(r, b) }
func (r Resource) MarshalJSON() ([]byte, error)             { return marshal(&r) }
func (r *Resource) UnmarshalJSON(b []byte) error            { return unmarshal(r, b) }
func (r Addendum) MarshalJSON() ([]byte, error)             { return marshal(&r) }
func (r *Addendum) UnmarshalJSON(b []byte) error            { return unmarshal(r, b) }
func (r TLSDetails) MarshalJSON() ([]byte, error)           { return marshal(&r) }
func (r *TLSDetails) UnmarshalJSON(b []byte) error          { return unmarshal(r, b) }
func (r InsightDetails) MarshalJSON() ([]byte, error)       { return marshal(&r) }
func (r *InsightDetails) UnmarshalJSON(b []byte) error      { return unmarshal(r, b) }
func (r InsightContext) MarshalJSON() ([]byte, error)       { return marshal(&r) }
func (r *InsightContext) UnmarshalJSON(b []byte) error      { return unmarshal(r, b) }
func (r InsightStatistics) MarshalJSON() ([]byte, error)    { return marshal(&r) }
func (r *InsightStatistics) UnmarshalJSON(b []byte) error   { return unmarshal(r, b) }
func (r InsightAverage) MarshalJSON() ([]byte, error)       { return marshal(&r) }
func (r *InsightAverage) UnmarshalJSON(b []byte) error      { return unmarshal(r, b) }
func (r InsightAttribution) MarshalJSON() ([]byte, error)   { return marshal(&r) }
func (r *InsightAttribution) UnmarshalJSON(b []byte) error  { return unmarshal(r, b) }
func (r InsightAttrAverage) MarshalJSON() ([]byte, error)   { return marshal(&r) }
func (r *InsightAttrAverage) UnmarshalJSON(b []byte) error  { return unmarshal(r, b) }
func (r CloudTrailLogFile) MarshalJSON() ([]byte, error)    { return marshal(&r) }
func (r *CloudTrailLogFile) UnmarshalJSON(b []byte) error   { return unmarshal(r, b) }
func (r CloudTrailDigest) MarshalJSON() ([]byte, error)     { return marshal(&r) }
func (r *CloudTrailDigest) UnmarshalJSON(b []byte) error    { return unmarshal(r, b) }
func (r DigestLogFile) MarshalJSON() ([]byte, error)        { return marshal(&r) }
func (r *DigestLogFile) UnmarshalJSON(b []byte) error       { return unmarshal(r, b) }

func (*CloudTrailRecord) LogType() LogType  { return LogTypeCloudTrail }
func (*CloudTrailLogFile) LogType() LogType { return LogTypeCloudTrailLogFile }
func (*CloudTrailDigest) LogType() LogType  { return LogTypeCloudTrailDigest }

// Time parses eventTime.
func (r *CloudTrailRecord) Time() (time.Time, error) { return parseTrailTime(r.EventTime) }

// IsInsight reports whether r is an Insights record.
func (r *CloudTrailRecord) IsInsight() bool {
	return r.EventType == EventTypeAwsCloudTrailInsight || r.InsightDetails != nil
}

// CreationTime parses creationDate in either ISO form CloudTrail uses.
func (a *SessionAttributes) CreationTime() (time.Time, error) {
	if t, err := time.Parse("20060102T150405Z", a.CreationDate); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, a.CreationDate)
}

// Validate checks presence of the always-present fields, the eventVersion
// and eventTime formats, and that enum-like fields are identifiers.
// CloudTrail adds enum values over time, so membership is not checked.
func (r *CloudTrailRecord) Validate() error {
	var v validator
	v.structure(r, &r.meta)
	if r.EventVersion != "" && !isEventVersion(r.EventVersion) {
		v.add("eventVersion", strconv.Quote(r.EventVersion), `is not "major.minor"`)
	}
	v.trailTime("eventTime", r.EventTime)
	if !r.IsInsight() {
		if r.EventSource == "" {
			v.add("eventSource", "", "is required (except in Insights records)")
		}
		if r.EventName == "" {
			v.add("eventName", "", "is required (except in Insights records)")
		}
	} else if r.InsightDetails == nil {
		v.add("insightDetails", "", "is required in Insights records")
	}
	v.identifier("eventType", string(r.EventType))
	v.identifier("eventCategory", string(r.EventCategory))
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"requestParameters", r.RequestParameters}, {"responseElements", r.ResponseElements}} {
		if len(f.raw) > 0 && f.raw[0] != '{' && string(f.raw) != "null" {
			v.add(f.name, abbrev(f.raw), "is neither an object nor null")
		}
	}
	if r.SessionCredentialFromConsole != "" && r.SessionCredentialFromConsole != "true" {
		v.add("sessionCredentialFromConsole", strconv.Quote(r.SessionCredentialFromConsole), `is not "true" (the key is absent otherwise)`)
	}
	if r.UserIdentity != nil {
		var uv validator
		uv.structure(r.UserIdentity, &r.UserIdentity.meta)
		uv.identifier("type", string(r.UserIdentity.Type))
		v.nested("userIdentity", uv.err())
	}
	if r.Addendum != nil {
		oneOf(&v, "addendum.reason", r.Addendum.Reason, AddendumReasons)
	}
	if r.InsightDetails != nil {
		var iv validator
		iv.structure(r.InsightDetails, &r.InsightDetails.meta)
		oneOf(&iv, "state", r.InsightDetails.State, []InsightState{InsightStart, InsightEnd})
		v.nested("insightDetails", iv.err())
	}
	return v.err()
}

func isEventVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	if !ok || major == "" || minor == "" {
		return false
	}
	for _, p := range []string{major, minor} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// Validate validates every record; errors name the record index.
func (f *CloudTrailLogFile) Validate() error {
	var v validator
	v.structure(f, &f.meta)
	for i := range f.Records {
		v.nested("Records."+strconv.Itoa(i), f.Records[i].Validate())
	}
	return v.err()
}

// Validate checks presence, the time formats and the hash and fingerprint
// shapes. It does not check the signature (that needs the S3 metadata and
// the exact file bytes).
func (d *CloudTrailDigest) Validate() error {
	var v validator
	v.structure(d, &d.meta)
	v.trailTime("digestStartTime", d.DigestStartTime)
	v.trailTime("digestEndTime", d.DigestEndTime)
	for _, t := range []struct {
		name string
		val  *string
	}{{"newestEventTime", d.NewestEventTime}, {"oldestEventTime", d.OldestEventTime}} {
		if t.val != nil {
			v.trailTime(t.name, *t.val)
		}
	}
	if d.AWSAccountID != "" && !isDigits(d.AWSAccountID, 12) {
		v.add("awsAccountId", strconv.Quote(d.AWSAccountID), "is not a 12-digit account ID")
	}
	if d.DigestPublicKeyFingerprint != "" && !isHexLen(d.DigestPublicKeyFingerprint, 32) {
		v.add("digestPublicKeyFingerprint", strconv.Quote(d.DigestPublicKeyFingerprint), "is not 32 hex digits")
	}
	if d.PreviousDigestHashValue != nil && !isHexLen(*d.PreviousDigestHashValue, 64) {
		v.add("previousDigestHashValue", strconv.Quote(*d.PreviousDigestHashValue), "is not a hex SHA-256")
	}
	// A starting digest has all five previousDigest* null; otherwise all set.
	prev := []*string{d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue,
		d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature}
	nulls := 0
	for _, p := range prev {
		if p == nil {
			nulls++
		}
	}
	if nulls != 0 && nulls != len(prev) {
		v.add("previousDigestS3Bucket", "", "and the other previousDigest* fields must be all null (starting digest) or all set")
	}
	for i := range d.LogFiles {
		lf := &d.LogFiles[i]
		var lv validator
		lv.structure(lf, &lf.meta)
		if lf.HashValue != "" && !isHexLen(lf.HashValue, 64) {
			lv.add("hashValue", strconv.Quote(lf.HashValue), "is not a hex SHA-256")
		}
		lv.trailTime("newestEventTime", lf.NewestEventTime)
		lv.trailTime("oldestEventTime", lf.OldestEventTime)
		v.nested("logFiles."+strconv.Itoa(i), lv.err())
	}
	return v.err()
}

func isHexLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}
