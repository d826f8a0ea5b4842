package workmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/org"
)

// TargetPrefix is the X-Amz-Target prefix of WorkMail operations (the
// model's targetPrefix plus the dot).
const TargetPrefix = "WorkMailService."

// ContentType is the AWS JSON 1.1 media type.
const ContentType = awsjson.ContentType

// MaxBodyBytes bounds a request body. The largest served request,
// PutAccessControlRule with 2×1024 CIDRs, is under 64 KiB; the margin is
// for whitespace and escapes.
const MaxBodyBytes = 1 << 20

// Error codes this package produces itself (the others come from
// internal/org and internal/access).
const (
	CodeUnknownOperation = "UnknownOperationException"
	CodeSerialization    = "SerializationException"
	CodeInternalFailure  = "InternalFailure"
	CodeAccessDenied     = "AccessDeniedException"
)

// apiError is an error as written on the wire.
type apiError = awsjson.Error

// toAPIError classifies any error an operation returned: directory and rule
// errors are client errors (400) with their AWS code; anything else is an
// internal failure whose detail stays in the log.
func toAPIError(err error) (ae *apiError, internal bool) {
	if errors.As(err, &ae) {
		return ae, false
	}
	var oe *org.Error
	if errors.As(err, &oe) {
		return &apiError{Status: http.StatusBadRequest, Code: oe.Code, Message: oe.Message}, false
	}
	return &apiError{Status: http.StatusInternalServerError, Code: CodeInternalFailure,
		Message: "The request processing has failed because of an unknown error."}, true
}

func writeError(w http.ResponseWriter, e *apiError) { awsjson.WriteError(w, e) }

func writeJSON(w io.Writer, v any) error { return awsjson.Encode(w, v) }

// DecodeRequest parses a request body into v (a pointer to an operation's
// input struct) the way the handler does: an empty body is {}; a body that
// is not one JSON object (null and arrays included) of the right member
// types, or has data after the object, is SerializationException naming the
// member or byte offset.
// Exported for the fuzz target and for callers that replay recorded bodies.
func DecodeRequest(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] != '{' {
		// Go would decode null into a struct as a no-op; AWS wants an object.
		return &apiError{Status: http.StatusBadRequest, Code: CodeSerialization,
			Message: fmt.Sprintf("request body must be a JSON object, starts with %q", printable(string(trimmed[:min(len(trimmed), 16)])))}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return serializationError(err, len(body))
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{Status: http.StatusBadRequest, Code: CodeSerialization,
			Message: fmt.Sprintf("unexpected data after the request object at byte offset %d", dec.InputOffset())}
	}
	return nil
}

func serializationError(err error, n int) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var msg string
	switch {
	case errors.As(err, &se):
		msg = fmt.Sprintf("malformed JSON request body at byte offset %d: %v", se.Offset, err)
	case errors.As(err, &te):
		member := te.Field
		if member == "" {
			member = "(request)"
		}
		msg = fmt.Sprintf("member %s at byte offset %d: expected %s, got JSON %s", member, te.Offset, jsonKind(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("request body truncated at byte offset %d", n)
	default:
		msg = "malformed JSON request body: " + err.Error()
	}
	return &apiError{Status: http.StatusBadRequest, Code: CodeSerialization, Message: msg}
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	t := strings.TrimPrefix(goType, "*")
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case t == "int" || t == "int64":
		return "an integer"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "workmail.") || strings.HasPrefix(t, "struct"):
		return "an object"
	}
	return t
}

// missing is AWS's message for an absent required member.
func missing(member string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: org.CodeInvalidParameter,
		Message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)}
}
