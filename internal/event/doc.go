// Package event defines mailtrail's record types: the five WorkMail audit
// log types, the WorkMail email event log and CloudTrail (records, S3 log
// files and digest files), with exact JSON, validation, classification of
// untagged records and fast event-time extraction.
//
// The reference is ../shared/spec/formats.md (§1, §2, §4, §7). Where the
// spec marks a fact [I] (inferred), this package makes the following
// choices:
//
//   - JSON types: event_timestamp is written as a JSON integer and the audit
//     booleans as JSON booleans; on decode a numeric string and the strings
//     "true"/"false" are accepted (§1.2) and written back as number/bool.
//   - Absent versus empty: every field is omitted when absent and never
//     written as null, except the CloudTrail fields the spec says may be null
//     (requestParameters, responseElements and the other raw payloads, the
//     digest's previousDigest* and newest/oldestEventTime). A key that was
//     present with an empty value ("" or null, e.g. an authentication record's
//     user_id "" on failure, or userIdentity.accessKeyId "") is written back
//     as it was. Records built in Go write their required fields even when
//     empty, so a bool false is never lost.
//   - Unknown keys are kept in input order and written back after the typed
//     fields, at every level (the email-event envelope is only partly
//     documented, CloudTrail adds fields with each eventVersion). Duplicate
//     keys are a decode error: last-wins would let an attacker make two
//     tools read different timestamps from one audit record.
//   - Required fields: the spec's field tables mark only some fields
//     conditional ("only when..."); all others are required. Authentication
//     user_id is optional (empty or absent on failure [I]); user_agent and
//     user must be present but may be empty. auth_failed_reason and method
//     are free text. PAT protocol must be "webapp", the only documented
//     value; expires_time and scopes keep whichever JSON type they came in
//     (FlexTime, StringList).
//   - Email events: the nine eventNames are checked, with the fields each
//     needs; verdicts follow SES (PASS, FAIL, GRAY, PROCESSING_FAILED and
//     DISABLED [I]); virusVerdict is accepted. OUTGOING_EMAIL_BOUNCED accepts
//     both bouncedRecipient and destination/reason. messageTimestamp keeps its
//     JSON type (ISO 8601 string or epoch ms). The log type name
//     WORKMAIL_EMAIL_EVENT_LOGS is ours.
//   - CloudTrail enum-like fields (eventType, eventCategory,
//     userIdentity.type) are checked for shape, not membership: AWS keeps
//     adding values (eventCategory NetworkActivity, IdentityCenterUser).
//     WorkMail value sets are checked strictly: the format is frozen (WorkMail
//     reaches end of support in 2027).
//   - Classification (§1.8 [I]) looks at top-level keys only and stops at the
//     first decisive one; see Classify for the precedence. A PAT record is
//     also recognised by name plus expires_time or scopes. Classify and
//     Timestamp skip values without validating them and do not allocate:
//     they run on every ingested record, which the flattener validates
//     anyway.
//
// Writing: MarshalJSON produces compact JSON and leaves <, > and &
// unescaped (Message-IDs stay readable). Signatures (CloudTrail digests)
// must be computed over the exact bytes read, never over a re-encoding.
package event
