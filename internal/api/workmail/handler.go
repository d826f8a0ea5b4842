package workmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/org"
)

// DefaultAccount is the account calls run as when Config.Auth is nil.
const DefaultAccount = "000000000000"

// Caller is the authenticated sender of a request.
type Caller struct {
	Account     string // the account whose organizations the call sees
	AccessKeyID string // reported to OnCall; "" when unknown
	Region      string // the signing region; "" means Config.Region
}

// Authenticator checks a request and returns its caller. The request body
// has been read and restored, so the authenticator may read it again. A
// refusal should be an *AuthError; any other error is answered as
// AccessDeniedException (HTTP 403).
type Authenticator func(r *http.Request) (Caller, error)

// AuthError is an authentication failure as AWS reports it: HTTP status,
// exception name (InvalidSignatureException, UnrecognizedClientException,
// ...) and message. It is the shared AWS JSON error (and sigv4.Error), so
// a verifier's refusal is written as it comes.
type AuthError = awsjson.Error

// ManagementCall is one reported API call: what a CloudTrail management
// event needs besides the caller's account, which OnCall gets apart.
type ManagementCall struct {
	Operation   string    // e.g. "CreateUser" (CloudTrail eventName)
	ReadOnly    bool      // true for Describe*, List*, Get*
	RequestID   string    // the x-amzn-RequestId answered
	Time        time.Time // when the request arrived, UTC
	Region      string
	AccessKeyID string // "" when the handler runs without Auth
	SourceIP    string // the TCP peer address (no port)
	UserAgent   string
	// RequestParameters are the decoded request members the model knows,
	// keyed the CloudTrail way (member name with a lower-case first letter,
	// nested too), never with the password. Nil when the body could not be
	// decoded.
	RequestParameters map[string]any
	// ResponseElements are the answer's members in the same form, for
	// successful mutating calls that answer something (CreateOrganization's
	// organizationId, CreateUser's userId); nil otherwise.
	ResponseElements map[string]any
	ErrorCode        string // the AWS exception name, "" on success
	ErrorMessage     string
}

// Config configures the handler.
type Config struct {
	Dir   *org.Directory // required
	Rules *access.Store  // required
	// Auth authenticates each request; nil runs every request as
	// DefaultAccount (local play, tests).
	Auth           Authenticator
	DefaultAccount string // "" means DefaultAccount
	// Region is the region of callers whose Caller.Region is empty (always
	// the case without Auth); it goes into new organizations' ARNs. "" means
	// us-east-1.
	Region string
	Logger *slog.Logger // nil means slog.Default()
	// OnCall, when set, is told about every authenticated mutating call,
	// after it completes. It runs on the request goroutine: keep it quick.
	OnCall func(account string, call ManagementCall)
	// ReportReadOnly extends OnCall to the read-only operations.
	ReportReadOnly bool
	// Now is the clock for ManagementCall.Time; nil means time.Now.
	Now func() time.Time
}

// Handler serves the WorkMail management API.
type Handler struct {
	cfg Config
	log *slog.Logger
	ops map[string]operation
}

// operation is one served operation: whether it changes state, and how
// to decode and run it.
type operation struct {
	mutating bool
	// run decodes body, calls the operation and returns its answer and the
	// decoded input (nil when decoding failed), for call reporting.
	run func(h *Handler, c *callContext, body []byte) (out, in any, err error)
}

// callContext is what an operation knows about its caller.
type callContext struct {
	account string
	region  string
}

// NewHandler returns the API handler. It fails when Dir or Rules is
// missing.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Dir == nil || cfg.Rules == nil {
		return nil, errors.New("workmail: NewHandler needs both an org.Directory and an access.Store")
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = DefaultAccount
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg, log: cfg.Logger, ops: operations()}, nil
}

// Operations lists the served operation names.
func Operations() []string {
	ops := operations()
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	return names
}

// ServeHTTP answers one API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now().UTC()
	reqID := awsjson.SetRequestID(w)
	target := r.Header.Get("X-Amz-Target")
	name, isWorkMail := strings.CutPrefix(target, TargetPrefix)
	if r.Method != http.MethodPost {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeUnknownOperation,
			Message: "WorkMail operations are POST requests; got " + r.Method})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeSerialization, Message: "reading the request body: " + err.Error()})
		return
	}
	if len(body) > MaxBodyBytes {
		writeError(w, &apiError{Status: http.StatusRequestEntityTooLarge, Code: org.CodeInvalidParameter,
			Message: "request body is larger than 1 MiB"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	caller := Caller{Account: h.cfg.DefaultAccount}
	if h.cfg.Auth != nil {
		caller, err = h.cfg.Auth(r)
		if err != nil {
			ae := &AuthError{Status: http.StatusForbidden, Code: CodeAccessDenied, Message: err.Error()}
			errors.As(err, &ae)
			h.log.Info("workmail request refused", "target", target, "code", ae.Code, "remote", r.RemoteAddr, "request_id", reqID)
			// Only the status, code and message of a refusal are sent.
			writeError(w, &apiError{Status: ae.Status, Code: ae.Code, Message: ae.Message})
			return
		}
		if caller.Account == "" {
			// A misbehaving authenticator must not fall through to some
			// account: refuse rather than guess.
			h.log.Error("workmail authenticator accepted a request without naming its account", "target", target, "request_id", reqID)
			writeError(w, &apiError{Status: http.StatusForbidden, Code: CodeAccessDenied, Message: "the request's credentials are not bound to an account"})
			return
		}
	}
	if caller.Region == "" {
		caller.Region = h.cfg.Region
	}

	op, ok := h.ops[name]
	if !isWorkMail || !ok {
		msg := "Unknown operation " + printable(target)
		if target == "" {
			msg = "missing X-Amz-Target header"
		}
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeUnknownOperation, Message: msg})
		return
	}

	out, in, err := op.run(h, &callContext{account: caller.Account, region: caller.Region}, body)
	var ae *apiError
	if err != nil {
		var internal bool
		ae, internal = toAPIError(err)
		if internal {
			h.log.Error("workmail operation failed", "op", name, "account", caller.Account, "request_id", reqID, "err", err)
		} else {
			h.log.Debug("workmail operation refused", "op", name, "account", caller.Account, "code", ae.Code, "message", ae.Message)
		}
		writeError(w, ae)
	} else {
		w.Header().Set("Content-Type", ContentType)
		if err := writeJSON(w, out); err != nil {
			h.log.Warn("workmail: writing response", "op", name, "request_id", reqID, "err", err)
		}
	}
	if h.cfg.OnCall != nil && (op.mutating || h.cfg.ReportReadOnly) {
		call := ManagementCall{
			Operation: name, ReadOnly: !op.mutating, RequestID: reqID, Time: start,
			Region: caller.Region, AccessKeyID: caller.AccessKeyID,
			SourceIP: remoteIP(r.RemoteAddr), UserAgent: r.UserAgent(),
		}
		if in != nil {
			call.RequestParameters = trailMap(in)
		}
		if ae != nil {
			call.ErrorCode, call.ErrorMessage = ae.Code, ae.Message
		} else if op.mutating {
			call.ResponseElements = trailMap(out)
		}
		h.cfg.OnCall(caller.Account, call)
	}
}

// printable quotes a header value for an error message, bounded so a huge
// header does not echo back whole.
func printable(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return s
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// trailMap renders a request or response struct the way CloudTrail records
// requestParameters and responseElements: the JSON members with their first
// letter lower-cased (organizationId, ipRanges), recursively; empty members
// are dropped by the structs' omitempty tags. It returns nil for an empty
// object.
func trailMap(v any) map[string]any {
	if r, ok := v.(interface{ redacted() any }); ok {
		v = r.redacted()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return nil
	}
	return lowerKeys(m).(map[string]any)
}

func lowerKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[lowerFirst(k)] = lowerKeys(x)
		}
		return out
	case []any:
		for i := range t {
			t[i] = lowerKeys(t[i])
		}
		return t
	}
	return v
}

// lowerFirst lower-cases the leading capital run the way the AWS Java
// model's member names do: ARN stays a word (arn), IpRanges → ipRanges.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	// Lower-case the leading upper-case run, but leave the last capital of
	// a run followed by a lower-case letter ("KMSKey" → "kmsKey").
	n := 0
	for n < len(s) && s[n] >= 'A' && s[n] <= 'Z' {
		n++
	}
	if n > 1 && n < len(s) && s[n] >= 'a' && s[n] <= 'z' {
		n--
	}
	return strings.ToLower(s[:n]) + s[n:]
}
