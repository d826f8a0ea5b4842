// Package cwsubscription reads CloudWatch Logs subscription payloads: the
// JSON objects a subscription filter sends to Firehose, Kinesis or Lambda,
// {"messageType":"DATA_MESSAGE","owner":...,"logGroup":...,"logStream":...,
// "subscriptionFilters":[...],"logEvents":[{"id","timestamp","message"}]}.
// Firehose writes them to S3 back to back (each gzip'd, so an object is a
// run of gzip members), which is how log groups are commonly archived;
// ingesting such files puts each log event back as it was, with its own
// timestamp and stream.
package cwsubscription

import (
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// Payload is the envelope of one subscription message.
type Payload struct {
	MessageType string // DATA_MESSAGE, or CONTROL_MESSAGE for the connectivity checks
	Owner       string
	LogGroup    string
	LogStream   string
}

// Is reports whether the JSON object at the start of doc (after
// whitespace) looks like a subscription payload: it has messageType and
// logEvents. Only the first object is looked at.
func Is(doc []byte) bool {
	var msgType, events bool
	jsonscan.Members(doc, 0, func(key []byte, start int) (int, error) {
		switch string(key) {
		case "messageType":
			msgType = true
		case "logEvents":
			events = start < len(doc) && doc[start] == '['
		}
		return jsonscan.Skip(doc, start)
	})
	return msgType && events
}

// EventFunc receives one log event: its timestamp (epoch ms), its message
// (unescaped, in the arena, so it stays valid), and the offset of the event
// in doc. err is set for an event that cannot be stored (no timestamp, no
// message); the walk goes on.
type EventFunc func(p *Payload, ts int64, msg []byte, offset int, err error)

// Parse reads the payload object at doc[i] (after whitespace), calling fn
// for each of its log events, and returns the offset just past it. Messages
// are unescaped into arena, which it returns grown. A syntax error (a
// *jsonscan.SyntaxError) stops the walk.
func Parse(doc []byte, i int, arena []byte, fn EventFunc) (end int, p Payload, out []byte, err error) {
	eventsAt := -1
	var scratch []byte
	end, err = jsonscan.Members(doc, i, func(key []byte, start int) (int, error) {
		var dst *string
		switch string(key) {
		case "messageType":
			dst = &p.MessageType
		case "owner":
			dst = &p.Owner
		case "logGroup":
			dst = &p.LogGroup
		case "logStream":
			dst = &p.LogStream
		case "logEvents":
			if start < len(doc) && doc[start] == '[' {
				eventsAt = start
			}
		}
		e, err := jsonscan.Skip(doc, start)
		if err == nil && dst != nil && doc[start] == '"' {
			scratch = jsonscan.AppendUnquoted(scratch[:0], doc[start:e])
			*dst = string(scratch)
		}
		return e, err
	})
	if err != nil || eventsAt < 0 {
		if err == nil {
			err = errors.New("subscription payload has no logEvents array")
		}
		return end, p, arena, err
	}
	// The payload is valid JSON by now, so the event walk cannot fail on
	// syntax; it only judges each event's contents.
	jsonscan.Elements(doc, eventsAt, func(at int) (int, error) {
		var ts []byte
		msgAt, msgEnd := -1, -1
		e, err := jsonscan.Members(doc, at, func(key []byte, start int) (int, error) {
			e, err := jsonscan.Skip(doc, start)
			switch string(key) {
			case "timestamp":
				ts = doc[start:e]
			case "message":
				if doc[start] == '"' {
					msgAt, msgEnd = start, e
				}
			}
			return e, err
		})
		if err != nil {
			// Not an object: say so and move past it.
			e, err = jsonscan.Skip(doc, at)
			fn(&p, 0, nil, at, fmt.Errorf("logEvents element is not an object"))
			return e, err
		}
		ms, ok := jsonscan.Millis(ts)
		switch {
		case !ok:
			fn(&p, 0, nil, at, fmt.Errorf("log event has no timestamp in epoch milliseconds"))
		case msgAt < 0 || msgEnd-msgAt <= 2:
			fn(&p, 0, nil, at, fmt.Errorf("log event has no message"))
		default:
			n := len(arena)
			arena = jsonscan.AppendUnquoted(arena, doc[msgAt:msgEnd])
			// Full slice expression: a later append must not write into
			// what fn was given.
			fn(&p, ms, arena[n:len(arena):len(arena)], at, nil)
		}
		return e, nil
	})
	return end, p, arena, nil
}
