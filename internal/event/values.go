package event

// LogType names the kind of a record. The five WorkMail audit types are
// spelled exactly as WorkMail's CloudWatch Logs delivery source logType
// (formats.md §1.1): two of them have no WORKMAIL_ prefix. The email-event,
// CloudTrail and digest names are ours.
type LogType string

const (
	LogTypeMailboxAccess        LogType = "WORKMAIL_MAILBOX_ACCESS_LOGS"
	LogTypeAccessControl        LogType = "ACCESS_CONTROL_LOGS"
	LogTypeAuthentication       LogType = "AUTHENTICATION_LOGS"
	LogTypeAvailabilityProvider LogType = "WORKMAIL_AVAILABILITY_PROVIDER_LOGS"
	LogTypePersonalAccessToken  LogType = "WORKMAIL_PERSONAL_ACCESS_TOKEN_LOGS"
	// LogTypeEmailEvent is the WorkMail email-flow event log (formats.md §2).
	// WorkMail has no logType string for it; this one is ours.
	LogTypeEmailEvent LogType = "WORKMAIL_EMAIL_EVENT_LOGS"
	// LogTypeCloudTrail is one CloudTrail record (CloudWatch Logs or
	// EventBridge-detail form, or one element of a log file's Records).
	LogTypeCloudTrail LogType = "CLOUDTRAIL"
	// LogTypeCloudTrailLogFile is a whole CloudTrail S3 log file,
	// {"Records":[...]}: a container, not a record.
	LogTypeCloudTrailLogFile LogType = "CLOUDTRAIL_LOG_FILE"
	// LogTypeCloudTrailDigest is a CloudTrail digest file (formats.md §4.5).
	LogTypeCloudTrailDigest LogType = "CLOUDTRAIL_DIGEST"
)

// AuditLogTypes are the five WorkMail audit log types in the order of
// formats.md §1.1.
var AuditLogTypes = []LogType{
	LogTypeMailboxAccess, LogTypeAccessControl, LogTypeAuthentication,
	LogTypeAvailabilityProvider, LogTypePersonalAccessToken,
}

// LogTypes lists every log type this package knows.
var LogTypes = append(append([]LogType(nil), AuditLogTypes...),
	LogTypeEmailEvent, LogTypeCloudTrail, LogTypeCloudTrailLogFile, LogTypeCloudTrailDigest)

// Known reports whether t is one of LogTypes. Ingest accepts unknown log
// type strings (§1.1); this only tells whether the package can decode them.
func (t LogType) Known() bool {
	for _, k := range LogTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Protocol is the audit `protocol` field: 9 values (§1.3). Access control
// rules name only 7 of them; see RuleAction.
type Protocol string

const (
	ProtocolAutoDiscover   Protocol = "AutoDiscover"
	ProtocolEWS            Protocol = "EWS"
	ProtocolIMAP           Protocol = "IMAP"
	ProtocolWindowsOutlook Protocol = "WindowsOutlook"
	ProtocolActiveSync     Protocol = "ActiveSync"
	ProtocolSMTP           Protocol = "SMTP"
	ProtocolWebMail        Protocol = "WebMail"
	ProtocolIncomingEmail  Protocol = "IncomingEmail"
	ProtocolOutgoingEmail  Protocol = "OutgoingEmail"
	// ProtocolWebApp is the only documented protocol of personal access
	// token records (§1.7); it is not one of the 9 audit protocols.
	ProtocolWebApp Protocol = "webapp"
)

// Protocols are the 9 audit protocols in documentation order.
var Protocols = []Protocol{
	ProtocolAutoDiscover, ProtocolEWS, ProtocolIMAP, ProtocolWindowsOutlook, ProtocolActiveSync,
	ProtocolSMTP, ProtocolWebMail, ProtocolIncomingEmail, ProtocolOutgoingEmail,
}

// RuleAction is a protocol name an access control rule can target
// (PutAccessControlRule Actions/NotActions, §3.1): 7 values, without the
// transport-side IncomingEmail and OutgoingEmail.
type RuleAction string

const (
	RuleActionActiveSync     RuleAction = "ActiveSync"
	RuleActionAutoDiscover   RuleAction = "AutoDiscover"
	RuleActionEWS            RuleAction = "EWS"
	RuleActionIMAP           RuleAction = "IMAP"
	RuleActionSMTP           RuleAction = "SMTP"
	RuleActionWindowsOutlook RuleAction = "WindowsOutlook"
	RuleActionWebMail        RuleAction = "WebMail"
)

// RuleActions are the 7 access-rule action names in botocore order.
var RuleActions = []RuleAction{
	RuleActionActiveSync, RuleActionAutoDiscover, RuleActionEWS, RuleActionIMAP,
	RuleActionSMTP, RuleActionWindowsOutlook, RuleActionWebMail,
}

// MailboxAction is the mailbox access `action` field (snake_case, §1.3).
type MailboxAction string

const (
	ActionRead                  MailboxAction = "read"
	ActionReadHierarchy         MailboxAction = "read_hierarchy"
	ActionReadSummary           MailboxAction = "read_summary"
	ActionReadAttachment        MailboxAction = "read_attachment"
	ActionReadPermissions       MailboxAction = "read_permissions"
	ActionCreate                MailboxAction = "create"
	ActionUpdate                MailboxAction = "update"
	ActionUpdatePermissions     MailboxAction = "update_permissions"
	ActionUpdateReadState       MailboxAction = "update_read_state"
	ActionDelete                MailboxAction = "delete"
	ActionSubmitEmailForSending MailboxAction = "submit_email_for_sending"
	ActionAbortSendingEmail     MailboxAction = "abort_sending_email"
	ActionMove                  MailboxAction = "move"
	ActionMoveTo                MailboxAction = "move_to"
	ActionCopy                  MailboxAction = "copy"
	ActionCopyTo                MailboxAction = "copy_to"
)

// MailboxActions are the 16 mailbox actions in documentation order.
var MailboxActions = []MailboxAction{
	ActionRead, ActionReadHierarchy, ActionReadSummary, ActionReadAttachment, ActionReadPermissions,
	ActionCreate, ActionUpdate, ActionUpdatePermissions, ActionUpdateReadState, ActionDelete,
	ActionSubmitEmailForSending, ActionAbortSendingEmail, ActionMove, ActionMoveTo, ActionCopy, ActionCopyTo,
}

// ObjectType is the mailbox access `object_type` field (capitalised, §1.3).
type ObjectType string

const (
	ObjectFolder     ObjectType = "Folder"
	ObjectMessage    ObjectType = "Message"
	ObjectAttachment ObjectType = "Attachment"
)

// ObjectTypes are the 3 object types.
var ObjectTypes = []ObjectType{ObjectFolder, ObjectMessage, ObjectAttachment}

// Scope is the access control `scope` field (§1.4).
type Scope string

const (
	ScopeAccessControl              Scope = "AccessControl"
	ScopeDeviceAccessControl        Scope = "DeviceAccessControl"
	ScopeImpersonationAccessControl Scope = "ImpersonationAccessControl"
)

// Scopes are the 3 rule scopes.
var Scopes = []Scope{ScopeAccessControl, ScopeDeviceAccessControl, ScopeImpersonationAccessControl}

// ProviderType is the availability provider `type` field (§1.6).
type ProviderType string

const (
	ProviderEWS    ProviderType = "EWS"
	ProviderLambda ProviderType = "LAMBDA"
)

// ProviderTypes are the 2 availability provider types.
var ProviderTypes = []ProviderType{ProviderEWS, ProviderLambda}

// TokenAction is the personal access token `action` field (§1.7).
type TokenAction string

const (
	TokenCreate TokenAction = "create"
	TokenDelete TokenAction = "delete"
)

// TokenActions are the 2 PAT actions.
var TokenActions = []TokenAction{TokenCreate, TokenDelete}

// TokenProtocols are the documented PAT protocols (§1.7).
var TokenProtocols = []Protocol{ProtocolWebApp}

// EventName is the email event `event.eventName` field (§2.2).
type EventName string

const (
	EventOrganizationEmailReceived EventName = "ORGANIZATION_EMAIL_RECEIVED"
	EventMailboxEmailDelivered     EventName = "MAILBOX_EMAIL_DELIVERED"
	EventRuleApplied               EventName = "RULE_APPLIED"
	EventJournalingInitiated       EventName = "JOURNALING_INITIATED"
	EventIncomingEmailBounced      EventName = "INCOMING_EMAIL_BOUNCED"
	EventOutgoingEmailSubmitted    EventName = "OUTGOING_EMAIL_SUBMITTED"
	EventOutgoingEmailSent         EventName = "OUTGOING_EMAIL_SENT"
	EventOutgoingEmailBounced      EventName = "OUTGOING_EMAIL_BOUNCED"
	EventDMARCPolicyApplied        EventName = "DMARC_POLICY_APPLIED"
)

// EventNames are the 9 documented email event names in documentation order.
var EventNames = []EventName{
	EventOrganizationEmailReceived, EventMailboxEmailDelivered, EventRuleApplied,
	EventJournalingInitiated, EventIncomingEmailBounced, EventOutgoingEmailSubmitted,
	EventOutgoingEmailSent, EventOutgoingEmailBounced, EventDMARCPolicyApplied,
}

// Verdict is a spam/DKIM/DMARC/SPF/virus verdict. The vocabulary follows SES
// receipt notifications [I]; DISABLED is SES's value when a scan is off.
type Verdict string

const (
	VerdictPass             Verdict = "PASS"
	VerdictFail             Verdict = "FAIL"
	VerdictGray             Verdict = "GRAY"
	VerdictProcessingFailed Verdict = "PROCESSING_FAILED"
	VerdictDisabled         Verdict = "DISABLED"
)

// Verdicts are the accepted verdict values.
var Verdicts = []Verdict{VerdictPass, VerdictFail, VerdictGray, VerdictProcessingFailed, VerdictDisabled}

// DMARCPolicy is `dmarcPolicy` / `policy` (§2.2).
type DMARCPolicy string

const (
	DMARCNone       DMARCPolicy = "NONE"
	DMARCQuarantine DMARCPolicy = "QUARANTINE"
	DMARCReject     DMARCPolicy = "REJECT"
)

// DMARCPolicies are the 3 DMARC policies.
var DMARCPolicies = []DMARCPolicy{DMARCNone, DMARCQuarantine, DMARCReject}

// RuleType is the RULE_APPLIED `ruleType` field (§2.2).
type RuleType string

const (
	RuleTypeInbound  RuleType = "INBOUND_RULE"
	RuleTypeOutbound RuleType = "OUTBOUND_RULE"
	RuleTypeMailbox  RuleType = "MAILBOX_RULE"
)

// RuleTypes are the 3 email flow rule types.
var RuleTypes = []RuleType{RuleTypeInbound, RuleTypeOutbound, RuleTypeMailbox}

// CloudTrail value sets. CloudTrail keeps adding values (eventCategory
// NetworkActivity, identity type IdentityCenterUser...), so Validate checks
// their shape, not membership; the lists are for generators and UIs.

// IdentityType is userIdentity.type (§4.2).
type IdentityType string

const (
	IdentityRoot               IdentityType = "Root"
	IdentityIAMUser            IdentityType = "IAMUser"
	IdentityAssumedRole        IdentityType = "AssumedRole"
	IdentityRole               IdentityType = "Role"
	IdentityFederatedUser      IdentityType = "FederatedUser"
	IdentityDirectory          IdentityType = "Directory"
	IdentityAWSAccount         IdentityType = "AWSAccount"
	IdentityAWSService         IdentityType = "AWSService"
	IdentityIdentityCenterUser IdentityType = "IdentityCenterUser"
	IdentitySAMLUser           IdentityType = "SAMLUser"
	IdentityWebIdentityUser    IdentityType = "WebIdentityUser"
	IdentityUnknown            IdentityType = "Unknown"
)

// IdentityTypes are the documented userIdentity types.
var IdentityTypes = []IdentityType{
	IdentityRoot, IdentityIAMUser, IdentityAssumedRole, IdentityRole, IdentityFederatedUser,
	IdentityDirectory, IdentityAWSAccount, IdentityAWSService, IdentityIdentityCenterUser,
	IdentitySAMLUser, IdentityWebIdentityUser, IdentityUnknown,
}

// TrailEventType is the CloudTrail eventType (§4.1).
type TrailEventType string

const (
	EventTypeAwsAPICall           TrailEventType = "AwsApiCall"
	EventTypeAwsServiceEvent      TrailEventType = "AwsServiceEvent"
	EventTypeAwsConsoleAction     TrailEventType = "AwsConsoleAction"
	EventTypeAwsConsoleSignIn     TrailEventType = "AwsConsoleSignIn"
	EventTypeAwsCloudTrailInsight TrailEventType = "AwsCloudTrailInsight"
	EventTypeAwsVpceEvent         TrailEventType = "AwsVpceEvent"
)

// TrailEventTypes are the known eventType values.
var TrailEventTypes = []TrailEventType{
	EventTypeAwsAPICall, EventTypeAwsServiceEvent, EventTypeAwsConsoleAction,
	EventTypeAwsConsoleSignIn, EventTypeAwsCloudTrailInsight, EventTypeAwsVpceEvent,
}

// EventCategory is the CloudTrail eventCategory (v1.07+).
type EventCategory string

const (
	CategoryManagement EventCategory = "Management"
	CategoryData       EventCategory = "Data"
	CategoryInsight    EventCategory = "Insight"
)

// EventCategories are the documented categories.
var EventCategories = []EventCategory{CategoryManagement, CategoryData, CategoryInsight}

// AddendumReason is addendum.reason.
type AddendumReason string

const (
	AddendumDeliveryDelay AddendumReason = "DELIVERY_DELAY"
	AddendumUpdatedData   AddendumReason = "UPDATED_DATA"
	AddendumServiceOutage AddendumReason = "SERVICE_OUTAGE"
)

// AddendumReasons are the documented addendum reasons.
var AddendumReasons = []AddendumReason{AddendumDeliveryDelay, AddendumUpdatedData, AddendumServiceOutage}

// InsightType is insightDetails.insightType (§4.6).
type InsightType string

const (
	InsightAPICallRate  InsightType = "ApiCallRateInsight"
	InsightAPIErrorRate InsightType = "ApiErrorRateInsight"
)

// InsightState is insightDetails.state.
type InsightState string

const (
	InsightStart InsightState = "Start"
	InsightEnd   InsightState = "End"
)
