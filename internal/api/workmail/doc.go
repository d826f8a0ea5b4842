// Package workmail serves the WorkMail management API (botocore model
// workmail/2017-10-01) over HTTP, so `aws workmail ... --endpoint-url`
// and the SDKs can manage mailtrail's organizations, users and access
// control rules.
//
// # Protocol
//
// AWS JSON 1.1: every request is a POST whose X-Amz-Target header is
// "WorkMailService.<Operation>" and whose body is a JSON object with the
// model's PascalCase member names. Answers are application/x-amz-json-1.1;
// every answer carries x-amzn-RequestId. Errors have the body
// {"__type": "<Exception>", "message": "..."} and the X-Amzn-ErrorType
// header, which is what botocore reads to raise the modeled exception
// (internal/api/awsjson writes them, as for CloudWatch Logs).
// Timestamps are epoch seconds (JSON numbers), as WorkMail sends them.
//
// Served operations: CreateOrganization, DescribeOrganization,
// ListOrganizations, CreateUser, ListUsers, DescribeUser,
// PutAccessControlRule, ListAccessControlRules, DeleteAccessControlRule,
// GetAccessControlEffect. Any other target (another WorkMailService
// operation, another service, or none) is UnknownOperationException.
// mailtrail serves it on the CloudWatch Logs port: that server hands it the
// requests whose X-Amz-Target is not a CloudWatch Logs one
// (cwlogs.Server.Fallback).
//
// The semantics, validation and error names live in internal/org (the
// directory) and internal/access (the rules); this package only frames
// requests and answers, checks what belongs to the wire (JSON types,
// required members, MaxResults bounds) and reports calls.
//
// # Choices
//
//   - Unknown members are ignored, as AWS's JSON services do. JSON type
//     mismatches and malformed bodies are SerializationException. Go's JSON
//     decoder matches member names case-insensitively; AWS does not, so a
//     body spelled "organizationId" is accepted here (a lenient superset).
//   - A required member that is absent gets AWS's "Value null at 'member'
//     failed to satisfy constraint: Member must not be null" message.
//   - Internal failures (disk full, corrupt state file) are HTTP 500
//     InternalFailure with the detail logged, not sent.
//   - Authentication is the caller's business: Config.Auth maps a request to
//     the calling account (SigV4Authenticator adapts a SigV4 verifier that
//     accepts the signing name "workmail"); with no Auth every call runs as
//     Config.DefaultAccount.
//     Authentication is checked before the operation is looked up, so an
//     unsigned request to an unknown operation is refused, not told the
//     operation is unknown.
//   - ListUsers' IdentityProviderUserIdPrefix filter matches no user:
//     mailtrail has no IAM Identity Center link, so no user has an identity
//     provider id.
//
// # Call reporting
//
// Config.OnCall receives a ManagementCall for every authenticated mutating
// call (CreateOrganization, CreateUser, PutAccessControlRule,
// DeleteAccessControlRule), successful or not, after it completes; with
// Config.ReportReadOnly it also receives the read-only ones. It carries what
// a CloudTrail management event records: operation, request id, time,
// region, access key, source IP, user agent, request parameters (never the
// password), response elements and the error code and message. Requests
// refused by authentication are not reported: their account is unknown.
package workmail
