package awsjson

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/event"
)

// ContentType is the media type of AWS JSON 1.1 requests and answers.
const ContentType = "application/x-amz-json-1.1"

// Header names. net/http canonicalises them on the wire
// (X-Amzn-Requestid, X-Amzn-Errortype); clients match them
// case-insensitively.
const (
	HeaderRequestID = "x-amzn-RequestId"
	HeaderErrorType = "X-Amzn-ErrorType"
)

// Error is an error answer: HTTP status, exception name, message, and the
// exception's modeled members besides those two.
type Error struct {
	Status  int    // HTTP status, e.g. 400
	Code    string // exception name, written as __type and X-Amzn-ErrorType
	Message string // written as message
	// Extra holds modeled members of the exception (CloudWatch Logs'
	// MalformedQueryException has queryCompileError). Keys equal to
	// "__type" or "message" are ignored.
	Extra map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an Error whose message is formatted from format and args.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NewRequestID returns a random version-4 UUID in lower-case hex, the
// form of AWS's x-amzn-RequestId.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return event.UUID(b)
}

// SetRequestID gives the answer a new request id and returns it. Call it
// before anything is written.
func SetRequestID(w http.ResponseWriter) string {
	id := NewRequestID()
	w.Header().Set(HeaderRequestID, id)
	return id
}

// WriteError writes e as the answer. The body's members are __type and
// message, then e.Extra's in key order; the last write error, if any, is
// returned (the client has gone: nothing else can be done).
func WriteError(w http.ResponseWriter, e *Error) error {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set(HeaderErrorType, e.Code)
	w.WriteHeader(e.Status)
	if len(e.Extra) == 0 {
		return Encode(w, struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{e.Code, e.Message})
	}
	// A map's members are written in key order; "__type" sorts before
	// every lower-case member name.
	m := make(map[string]any, len(e.Extra)+2)
	for k, v := range e.Extra {
		m[k] = v
	}
	m["__type"], m["message"] = e.Code, e.Message
	return Encode(w, m)
}

// WriteJSON writes v as a successful (200) answer.
func WriteJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", ContentType)
	return Encode(w, v)
}

// Encode writes v as JSON without HTML escaping, followed by a newline.
func Encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
