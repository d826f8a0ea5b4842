package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
)

// AWS error codes returned by the verifier. These are the names JSON 1.1
// services (CloudWatch Logs, DynamoDB, Kinesis, WorkMail...) put in "__type";
// query-protocol services use IncompleteSignature / SignatureDoesNotMatch /
// InvalidClientTokenId instead, which no JSON client expects.
const (
	// CodeMissingAuthenticationToken: neither an Authorization header nor
	// presigned query parameters.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the signature material is syntactically
	// incomplete or malformed.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeInvalidSignature: well-formed, but wrong (mismatch, scope, clock skew,
	// expired presigned URL).
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeUnrecognizedClient: the access key id is not known. CloudWatch Logs
	// documents this one explicitly for PutLogEvents.
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeRequestEntityTooLarge: the body exceeds Options.MaxBodyBytes, so it
	// cannot be hashed. Listed among AWS's common errors (HTTP 413).
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
)

// Error is a verification failure as AWS reports it: the APIs write it
// unchanged with awsjson.WriteError (HTTP Status, body {"__type": Code,
// "message": Message}, header X-Amzn-ErrorType: Code). Extra is never set.
type Error = awsjson.Error

func newError(code, format string, args ...any) *Error {
	status := http.StatusBadRequest
	if code == CodeRequestEntityTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	return awsjson.Errorf(status, code, format, args...)
}

// errMissingToken is what a JSON 1.1 service answers to an unsigned request.
// The text is DynamoDB's ("Request is missing Authentication Token", HTTP 400);
// API Gateway says "Missing Authentication Token" with 403. CloudWatch Logs sits
// on the same framework as DynamoDB, so its wording is used [inferred].
func errMissingToken() *Error {
	return newError(CodeMissingAuthenticationToken, "Request is missing Authentication Token")
}

// errUnknownKey is AWS's answer for an access key id it does not know
// (CloudWatch Logs, Cognito, DynamoDB all send exactly this text with 400).
func errUnknownKey() *Error {
	return newError(CodeUnrecognizedClient, "The security token included in the request is invalid.")
}

// errAuthRequires reproduces AWS's message for an Authorization header that
// lacks components: one sentence per missing part, then the header itself.
func errAuthRequires(missing []string, dateMissing bool, header string) *Error {
	var b strings.Builder
	for _, m := range missing {
		fmt.Fprintf(&b, "Authorization header requires '%s' parameter. ", m)
	}
	if dateMissing {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	b.WriteString("Authorization=")
	b.WriteString(header)
	return newError(CodeIncompleteSignature, "%s", b.String())
}

// errQueryRequires is the presigned-URL counterpart of errAuthRequires (text as
// API Gateway and S3 send it).
func errQueryRequires(missing []string) *Error {
	var b strings.Builder
	for _, m := range missing {
		fmt.Fprintf(&b, "AWS query-string parameters must include '%s'. ", m)
	}
	b.WriteString("Re-examine the query-string parameters.")
	return newError(CodeIncompleteSignature, "%s", b.String())
}

// errSignatureMismatch carries the canonical request and string-to-sign the
// server computed, as AWS does, so a client author can diff them against
// their own. Neither reveals the secret.
func errSignatureMismatch(canonical, stringToSign string) *Error {
	return newError(CodeInvalidSignature,
		"The request signature we calculated does not match the signature you provided. "+
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"+
			"The Canonical String for this request should have been\n'%s'\n\n"+
			"The String-to-Sign should have been\n'%s'\n", canonical, stringToSign)
}

// errSkew reproduces AWS's clock-skew messages, e.g.
// "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)"
// and "Signature not yet current: ... is still later than ... (... + 5 min.)".
// botocore recognises these texts and corrects its clock before retrying.
func errSkew(signed, now time.Time, skew time.Duration) *Error {
	if signed.Before(now) {
		return newError(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			amzDate(signed), amzDate(now.Add(-skew)), amzDate(now), skewText(skew))
	}
	return newError(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
		amzDate(signed), amzDate(now.Add(skew)), amzDate(now), skewText(skew))
}

// errPresignExpired: AWS's text for an expired presigned URL on a JSON service
// is not recorded; this follows the clock-skew sentence shape with the
// X-Amz-Expires window in seconds [inferred].
func errPresignExpired(signed, now time.Time, expires time.Duration) *Error {
	return newError(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %d sec.)",
		amzDate(signed), amzDate(now.Add(-expires)), amzDate(now), int64(expires/time.Second))
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", int64(d/time.Minute))
	}
	return fmt.Sprintf("%d sec.", int64(d/time.Second))
}

const amzDateLayout = "20060102T150405Z"

func amzDate(t time.Time) string { return t.UTC().Format(amzDateLayout) }
