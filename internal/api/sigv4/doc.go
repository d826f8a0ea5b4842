// Package sigv4 verifies AWS Signature Version 4 on the server side, so that
// the AWS CLI, the SDKs and boto3 can talk to mailtrail with ordinary access
// keys and get AWS's own answers when a signature is missing, malformed,
// stale or wrong.
//
// A Verifier checks an incoming *http.Request signed either with the
// Authorization header or as a presigned URL (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature query
// parameters). It recomputes the canonical request exactly as the AWS signers
// do (double-encoded path for non-S3 services, sorted and re-encoded query,
// lower-cased and whitespace-trimmed signed headers, payload SHA-256 or
// UNSIGNED-PAYLOAD), derives the signing key from the secret in a Credentials
// store, and compares signatures in constant time. On success it returns the
// caller's Identity (access key id, account id, region, service); on failure
// an *Error carrying the AWS error code, HTTP status and message, ready to be
// written in the JSON 1.1 error shape {"__type": Code, "message": Message}
// by awsjson.WriteError (Error is awsjson.Error).
//
// Error codes are the ones AWS's JSON 1.1 ("coral") services such as
// CloudWatch Logs put on the wire, not the generic names of the query
// protocol: MissingAuthenticationTokenException, IncompleteSignatureException,
// InvalidSignatureException (including "Signature expired" clock skew) and
// UnrecognizedClientException, all with HTTP 400. Messages follow the texts
// AWS returns where they are publicly recorded; the few that are not (noted
// at their definition in errors.go) are inferred in the same style.
//
// Checks run in this order, so the first problem found is the one reported:
// Authorization header / query syntax (IncompleteSignatureException),
// credential scope shape, signing date format, scope terminator, region,
// service and date (InvalidSignatureException), clock skew or presigned
// expiry (InvalidSignatureException "Signature expired: ..."), presence of
// Host and every named signed header (IncompleteSignatureException), access
// key lookup (UnrecognizedClientException), payload hash, and finally the
// signature itself (InvalidSignatureException with the canonical request and
// string-to-sign the server computed).
//
// Keys come from MAILTRAIL_ACCESS_KEY_ID / MAILTRAIL_SECRET_ACCESS_KEY
// (+ MAILTRAIL_ACCOUNT_ID, default 000000000000) and from a credentials file of
// lines "ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID]" with '#' comments; see
// ParseCredentials. Each key is bound to one account, which the API layer
// uses to keep accounts apart.
//
// Session tokens (X-Amz-Security-Token) are not checked: mailtrail issues
// only long-term keys, and a token sent by a client that has one configured
// is covered by the signature like any other signed header.
package sigv4
