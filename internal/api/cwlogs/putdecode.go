package cwlogs

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// PutLogEvents carries up to 1 MiB of escaped JSON messages and is the one
// hot operation: decoding it with encoding/json costs more than storing the
// events. It is decoded instead with the flattener every backend already
// uses (one pass, no reflection), walking the leaves of the request object.

var flattenerPool = sync.Pool{New: func() any { return &scan.Flattener{MaxLeaves: 3*10000 + 100, Nulls: true} }}

// decodePutLogEvents fills in from a PutLogEvents body. Member names and
// types are checked as strictly as the generic decoder does.
func decodePutLogEvents(body []byte, in *putLogEventsIn) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	f := flattenerPool.Get().(*scan.Flattener)
	defer flattenerPool.Put(f)
	var bad error
	typeErr := func(member, want string) {
		if bad == nil {
			bad = apiErr(400, "SerializationException", "member %s: expected %s", member, want)
		}
	}
	err := f.Flatten(body, func(path []byte, l scan.Leaf) {
		if bad != nil {
			return
		}
		p := string(path)
		switch p {
		case "logGroupName", "logStreamName", "sequenceToken":
			if l.Kind != scan.LeafString {
				if l.Kind != scan.LeafNull {
					typeErr(p, "a string")
				}
				return
			}
			switch p {
			case "logGroupName":
				in.LogGroupName = string(l.Str)
			case "logStreamName":
				in.LogStreamName = string(l.Str)
			case "sequenceToken":
				in.SequenceToken = string(l.Str)
			}
			return
		case "logEvents":
			if l.Kind != scan.LeafNull && l.Kind != scan.LeafEmptyArray {
				typeErr("logEvents", "a list of log events")
			}
			// As encoding/json: [] is an empty list, null none at all.
			in.LogEvents = nil
			if l.Kind == scan.LeafEmptyArray {
				in.LogEvents = []inputEvent{}
			}
			return
		}
		rest, ok := bytes.CutPrefix(path, []byte("logEvents."))
		if !ok {
			return // entity, unknown members: ignored as AWS does
		}
		idx, field, hasField := bytes.Cut(rest, []byte("."))
		i, err := strconv.Atoi(string(idx))
		if err != nil || i < 0 || i >= 10001 {
			typeErr("logEvents", "a list of log events")
			return
		}
		for len(in.LogEvents) <= i {
			in.LogEvents = append(in.LogEvents, inputEvent{})
		}
		if !hasField {
			// The element itself: {} or null is an event with no members.
			if l.Kind != scan.LeafNull && l.Kind != scan.LeafEmptyObject {
				typeErr(fmt.Sprintf("logEvents.%d", i+1), "a log event object")
			}
			return
		}
		ev := &in.LogEvents[i]
		switch string(field) {
		case "timestamp":
			if l.Kind != scan.LeafNumber {
				if l.Kind != scan.LeafNull {
					typeErr(fmt.Sprintf("logEvents.%d.timestamp", i+1), "a number")
				}
				return
			}
			ts, err := strconv.ParseInt(string(l.Raw), 10, 64)
			if err != nil {
				typeErr(fmt.Sprintf("logEvents.%d.timestamp", i+1), "an integer of epoch milliseconds")
				return
			}
			ev.Timestamp = &ts
		case "message":
			if l.Kind != scan.LeafString {
				if l.Kind != scan.LeafNull {
					typeErr(fmt.Sprintf("logEvents.%d.message", i+1), "a string")
				}
				return
			}
			m := string(l.Str)
			ev.Message = &m
		}
	})
	if bad != nil {
		return bad
	}
	if err != nil {
		return apiErr(400, "SerializationException", "malformed JSON request body: %v", err)
	}
	return nil
}
