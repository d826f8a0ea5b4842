package cwlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/filterpattern"
)

// TargetPrefix is the X-Amz-Target prefix of CloudWatch Logs operations.
const TargetPrefix = "Logs_20140328."

// maxBody bounds a request body: PutLogEvents allows 1 MiB of messages plus
// JSON framing and escaping, which can double the size.
const maxBody = 8 << 20

// APIError is an error answer in AWS's JSON 1.1 shape (__type, message
// and the exception's modeled members in Extra).
type APIError = awsjson.Error

func apiErr(status int, code, format string, args ...any) *APIError {
	return awsjson.Errorf(status, code, format, args...)
}

func invalidParam(format string, args ...any) *APIError {
	return apiErr(400, "InvalidParameterException", format, args...)
}

func notFound(format string, args ...any) *APIError {
	return apiErr(400, "ResourceNotFoundException", format, args...)
}

// validation builds AWS's constraint-violation message.
func validation(value any, member, constraint string) *APIError {
	return invalidParam("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// notNull is AWS's message for a required member that is absent.
func notNull(member string) *APIError {
	return invalidParam("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// checkTimes rejects negative epoch times: every Timestamp member of the
// model has min 0, and AWS answers a negative one (a start time computed
// by subtracting from 0, milliseconds taken for seconds...) with this
// validation error rather than an empty page.
func checkTimes(a *int64, aName string, b *int64, bName string) error {
	if a != nil && *a < 0 {
		return validation(*a, aName, "Member must have value greater than or equal to 0")
	}
	if b != nil && *b < 0 {
		return validation(*b, bName, "Member must have value greater than or equal to 0")
	}
	return nil
}

// badPattern words a filter-pattern syntax error, keeping the character
// position the user needs to find it.
func badPattern(err error) *APIError {
	var pe *filterpattern.Error
	if errors.As(err, &pe) {
		return invalidParam("Invalid filter pattern at character %d: %s", pe.Char(), pe.Msg)
	}
	return invalidParam("Invalid filter pattern: %v", err)
}

// Identity is the authenticated caller.
type Identity struct {
	AccessKeyID string
	Account     string
	Region      string
}

// Authenticator checks a request and returns its caller. The body has been
// read and restored, so the authenticator may read it again.
type Authenticator func(r *http.Request) (Identity, *APIError)

type ctxKey struct{}

// operation is one API operation: decode its input from body and answer.
type operation func(ctx context.Context, id Identity, body []byte) (any, error)

// ServeHTTP routes on X-Amz-Target.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := awsjson.SetRequestID(w)
	if r.Method != http.MethodPost {
		writeError(w, apiErr(400, "UnknownOperationException", "only POST is served"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	opName, ok := strings.CutPrefix(target, TargetPrefix)
	var op operation
	if ok {
		op = s.ops[opName]
	}
	if op == nil && !ok && s.Fallback != nil {
		s.Fallback.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, apiErr(400, "SerializationException", "reading request body: %v", err))
		return
	}
	if len(body) > maxBody {
		writeError(w, invalidParam("request body larger than %d bytes", maxBody))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	id := Identity{Account: s.DefaultAccount, Region: s.Region}
	if s.Auth != nil {
		var aerr *APIError
		if id, aerr = s.Auth(r); aerr != nil {
			s.log.Info("request refused", "op", opName, "code", aerr.Code, "remote", r.RemoteAddr)
			writeError(w, aerr)
			return
		}
		if id.Region == "" {
			id.Region = s.Region
		}
	}
	if op == nil {
		writeError(w, apiErr(400, "UnknownOperationException", "unknown operation %q", target))
		return
	}
	if opName == "StartLiveTail" {
		s.startLiveTail(w, r, id, body)
		return
	}
	ctx := context.WithValue(r.Context(), ctxKey{}, reqID)
	out, err := op(ctx, id, body)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			s.log.Error("operation failed", "op", opName, "err", err)
			ae = apiErr(500, "ServiceUnavailableException", "internal error: %v", err)
		}
		writeError(w, ae)
		return
	}
	w.Header().Set("Content-Type", awsjson.ContentType)
	var werr error
	switch out := out.(type) {
	case nil:
		_, werr = io.WriteString(w, "{}")
	case rawJSON:
		// The length is known: saying it spares the chunked framing and
		// lets a client size its buffer once for a 10,000-row answer (AWS
		// sends Content-Length too).
		n := 0
		for _, p := range out {
			n += len(p)
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		for _, p := range out {
			if _, werr = w.Write(p); werr != nil {
				break
			}
		}
	default:
		werr = awsjson.Encode(w, out)
	}
	if werr != nil {
		s.log.Warn("writing response", "op", opName, "err", werr)
	}
}

// rawJSON is an operation's answer already encoded (as awsjson.Encode
// would, newline included), in parts written in order, for answers too
// large to go through reflection quickly (GetQueryResults, whose rows are
// written from the bytes kept for the query).
type rawJSON [][]byte

func writeError(w http.ResponseWriter, e *APIError) { awsjson.WriteError(w, e) }

// decode parses a request body into v, rejecting malformed JSON and wrong
// member types with AWS's SerializationException.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr(400, "SerializationException", "member %s: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return apiErr(400, "SerializationException", "malformed JSON request body: %v", err)
	}
	return nil
}

// handler adapts a typed operation function.
func handler[In any, Out any](f func(ctx context.Context, id Identity, in *In) (Out, error)) operation {
	return func(ctx context.Context, id Identity, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		out, err := f(ctx, id, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// putHandler is handler with the fast PutLogEvents decoder.
func putHandler(f func(ctx context.Context, id Identity, in *putLogEventsIn) (any, error)) operation {
	return func(ctx context.Context, id Identity, body []byte) (any, error) {
		in := new(putLogEventsIn)
		if err := decodePutLogEvents(body, in); err != nil {
			return nil, err
		}
		return f(ctx, id, in)
	}
}
