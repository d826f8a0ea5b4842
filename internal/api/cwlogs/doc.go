// Package cwlogs serves the CloudWatch Logs JSON 1.1 protocol
// (POST /, X-Amz-Target: Logs_20140328.<Operation>) over mailtrail's
// embedded store, so the AWS CLI, the SDKs and boto3 work unmodified with
// only an endpoint URL changed.
//
// Requests are routed on X-Amz-Target alone; the path and Host are ignored
// (StartLiveTail clients prepend "stream-" to the host). Member names,
// limits, error names and messages follow the botocore model and AWS's
// recorded responses (see shared/spec/insights.md Part C). Where AWS's
// behaviour is not documented we choose, and say so next to the code:
//
//   - Validation failures use InvalidParameterException with AWS's
//     "1 validation error detected: Value '...' at '...' failed to satisfy
//     constraint: ..." text; nested members use dotted paths with 1-based
//     list indexes.
//   - Timestamps are JSON integers of epoch milliseconds, except StartQuery's
//     startTime/endTime, which are seconds, as in AWS.
//   - Pagination tokens are opaque base64 strings; the last page carries no
//     token (GetLogEvents returns the caller's token at the end, as AWS does).
//   - Operations we do not serve answer UnknownOperationException.
//   - GetQueryResults on a Scheduled or Running query waits up to
//     Config.ResultsWait (50 ms) for the query to end and answers the moment
//     it does: a poller learns of the end at once, and a tight poll loop
//     does not take the CPU from the query it waits for. AWS's own answers
//     take longer than that, so no client counts on an immediate one.
//
// Errors, request ids and the JSON encoding are internal/api/awsjson's,
// shared with the WorkMail API and the SigV4 verifier.
package cwlogs
