// Package awsjson is the part of the AWS JSON 1.1 wire protocol that
// mailtrail's APIs share: the CloudWatch Logs API (internal/api/cwlogs),
// the WorkMail management API (internal/api/workmail) and the SigV4
// verifier in front of both (internal/api/sigv4).
//
// An error answer is HTTP Status with Content-Type
// application/x-amz-json-1.1, the header X-Amzn-ErrorType naming the
// exception, and the body {"__type":"<Exception>","message":"..."} plus any
// modeled members of that exception (CloudWatch Logs' queryCompileError).
// botocore and the SDKs read __type (or the header) to raise the modeled
// exception, so the code must be AWS's exception name exactly.
//
// Every answer, success or error, carries x-amzn-RequestId: a random
// version-4 UUID, the form AWS uses.
//
// Bodies are written with encoding/json with HTML escaping off (AWS does
// not escape <, > and &) and end with a newline. AppendString produces the
// same bytes as that encoder for one string, for hot paths that write JSON
// by hand (GetQueryResults' rows).
package awsjson
